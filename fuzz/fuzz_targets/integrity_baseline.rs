//! The baseline file parser: an attacker who can write the baseline controls every byte.
//! Parsing, tag checking and body decoding must never panic, and must never accept a body that
//! does not re-encode to the same entries.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_integrity::auth::{HmacKey, Verifier};
use rempart_integrity::baseline::{encode_entries, Envelope, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_body: 1 << 22,
        max_field: 1 << 20,
    };
    let Ok(env) = Envelope::parse(data, &limits) else {
        return;
    };
    let _ = env.verify(&Verifier::Hmac(HmacKey::from_bytes([0x42; 32])));
    if let Ok(entries) = env.entries(&limits) {
        assert!(entries.windows(2).all(|w| w[0].path < w[1].path));
        let raw = encode_entries(&entries, env.header.algo).expect("sorted entries encode");
        let again = rempart_integrity::baseline::decode_entries(
            &raw,
            env.header.algo,
            entries.len() as u64,
        )
        .expect("re-encoded entries decode");
        assert_eq!(again, entries);
    }
});
