//! pam_limits lines: never panics; items are lowercase; no field holds a comment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::kernel::limits;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let p = limits::parse(&text);
    for l in &p.limits {
        assert_eq!(l.item, l.item.to_ascii_lowercase());
        assert!(!l.domain.contains('#') && !l.value.contains('#'));
    }
});
