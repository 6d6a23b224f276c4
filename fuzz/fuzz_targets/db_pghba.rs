//! pg_hba.conf records: never panic; records carry a known connection type and a method.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::database::pghba::{parse, HbaItem};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (items, _errors) = parse("/etc/postgresql/15/main/pg_hba.conf", &text);
    for i in items {
        if let HbaItem::Rule(r) = i {
            assert!(!r.method.is_empty());
            assert!(!r.databases.is_empty() && !r.users.is_empty());
            let _ = (r.from_anywhere(), r.local_only());
        }
    }
});
