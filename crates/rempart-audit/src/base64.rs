//! Base64 as configuration files write it (PEM bodies, OpenSSH private keys, Traefik's acme.json):
//! the standard alphabet, white space ignored, padding optional. Decoding is the `base64` crate's.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decode standard base64, ignoring white space; `None` on anything else that is not base64.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT.decode(clean).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn whitespace_and_missing_padding_are_accepted() {
        assert_eq!(decode("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(decode("aGVsbG8").unwrap(), b"hello");
        assert!(decode("aGV*bG8=").is_none());
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let text = base64::engine::general_purpose::STANDARD.encode(&data);
            prop_assert_eq!(decode(&text).unwrap(), data);
        }

        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = decode(&s);
        }
    }
}
