//! Certificate files named by web configurations: PEM framing, X.509 parsing, and Traefik's
//! ACME storage (JSON with base64 certificates).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::web::cert;

fuzz_target!(|data: &[u8]| {
    let _ = cert::read_leaf(data);
    let _ = cert::holds_private_key(data);
    let _ = cert::acme_leaves(data);
});
