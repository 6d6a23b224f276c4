//! Crontabs, anacrontab and the systemd timer pieces read with them: never panic; entries keep
//! their line numbers within the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::backup::cron::{parse, parse_anacrontab, split_percent};
use rempart_audit::rules::backup::jobs::{calendar_frequency, parse_span, unit_entries};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count() as u32;
    for system in [false, true] {
        let t = parse(&text, system);
        for e in &t.entries {
            assert!(e.line >= 1 && e.line <= lines);
            assert!(!e.command.trim().is_empty());
            assert_eq!(e.user.is_some(), system);
        }
    }
    let _ = parse_anacrontab(&text);
    let _ = split_percent(&text);
    let _ = unit_entries(&text);
    let _ = calendar_frequency(&text);
    let _ = parse_span(&text);
});
