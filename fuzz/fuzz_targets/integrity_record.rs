//! The check record parser (JSON written beside the baseline, read by the audit): no panic,
//! and a parsed record re-serialises to one that parses to the same record.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_integrity::auth::HmacKey;
use rempart_integrity::status::CheckRecord;

fuzz_target!(|data: &[u8]| {
    if let Ok((rec, mac)) = CheckRecord::parse(data) {
        let key = HmacKey::from_bytes([0x42; 32]);
        if let Some(m) = &mac {
            let _ = rec.verify(m, &key);
        }
        let file = rec.to_file(Some(&key));
        let (again, mac2) = CheckRecord::parse(&file).expect("own output parses");
        assert_eq!(again, rec);
        assert!(again.verify(&mac2.expect("MACed"), &key));
    }
});
