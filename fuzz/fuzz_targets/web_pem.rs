//! Certificate files named by web configurations: PEM framing and X.509 parsing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::web::cert;

fuzz_target!(|data: &[u8]| {
    let _ = cert::read_leaf(data);
    let _ = cert::holds_private_key(data);
});
