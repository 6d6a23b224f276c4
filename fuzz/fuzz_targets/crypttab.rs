//! crypttab: never panics; a key file is always an absolute path outside /dev.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::files::crypttab;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for v in crypttab::parse(&text).volumes {
        if let Some(k) = v.key_file() {
            assert!(k.starts_with('/') && !k.starts_with("/dev/"));
        }
    }
});
