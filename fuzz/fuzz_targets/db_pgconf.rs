//! postgresql.conf lines: never panic; every meaningful line is a setting, an include or an
//! error, and line numbers stay within the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::database::pgconf::{parse, PgItem};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (items, errors) = parse("/etc/postgresql/15/main/postgresql.conf", &text);
    let lines = text.lines().count() as u32;
    for i in &items {
        let line = match i {
            PgItem::Setting(s) => s.line,
            PgItem::Include { line, .. } => *line,
        };
        assert!(line >= 1 && line <= lines);
    }
    assert!(items.len() + errors.len() <= lines as usize);
});
