//! The decompressed body decoder, reached directly (through zstd the fuzzer rarely gets far):
//! no panic, and whatever decodes re-encodes to the same entries.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_integrity::baseline::{decode_entries, encode_entries};
use rempart_integrity::hash::HashAlgo;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, raw)) = data.split_first() else {
        return;
    };
    let algo = HashAlgo::ALL[usize::from(sel) % 3];
    let expected = u64::from(sel >> 2);
    if let Ok(entries) = decode_entries(raw, algo, expected) {
        let again = encode_entries(&entries, algo).expect("decoded entries are sorted");
        assert_eq!(
            decode_entries(&again, algo, expected).expect("round trip"),
            entries
        );
    }
});
