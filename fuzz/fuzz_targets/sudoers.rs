//! sudoers: never panics; specifications have users and non-empty commands.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::accounts::sudoers;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let s = sudoers::parse(&text);
    for spec in &s.specs {
        assert!(!spec.users.is_empty());
        assert!(spec.commands.iter().all(|c| !c.command.is_empty()));
    }
});
