//! systemd ini (coredump.conf): never panics; every setting has a section.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::kernel::coredump_conf;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for s in coredump_conf::parse(&text) {
        assert!(!s.section.is_empty());
    }
});
