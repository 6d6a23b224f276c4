//! `journalctl -o json` lines.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_guard::source::journal::parse_entry;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Some(e) = parse_entry(&s) {
        let line = e.line();
        assert!(!line.contains('\n'));
    }
});
