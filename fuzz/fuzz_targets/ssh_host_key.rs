//! Host key files: public key lines and private key headers (OpenSSH and PEM).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::ssh::hostkeys;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(k) = hostkeys::from_public_line(&text) {
        let _ = k.algorithms();
    }
    let _ = hostkeys::from_private(&text);
    let wrapped =
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{text}\n-----END OPENSSH PRIVATE KEY-----\n");
    let _ = hostkeys::from_private(&wrapped);
    let _ = hostkeys::base64_decode(&text);
});
