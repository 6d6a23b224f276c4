//! Content hashes: BLAKE3 (the default: fast, parallel-friendly, 256-bit) and SHA-256 / SHA-512
//! for interoperability with other tools. Nothing here reads files; the scanner feeds bytes.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::fmt;

/// The hash algorithm of a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgo {
    #[default]
    Blake3,
    Sha256,
    Sha512,
}

impl HashAlgo {
    pub const ALL: [HashAlgo; 3] = [HashAlgo::Blake3, HashAlgo::Sha256, HashAlgo::Sha512];

    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Blake3 => "blake3",
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sha512 => "sha512",
        }
    }

    pub fn parse(s: &str) -> Option<HashAlgo> {
        HashAlgo::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
    }

    /// The code stored in the baseline header.
    pub fn id(self) -> u8 {
        match self {
            HashAlgo::Blake3 => 1,
            HashAlgo::Sha256 => 2,
            HashAlgo::Sha512 => 3,
        }
    }

    pub fn from_id(id: u8) -> Option<HashAlgo> {
        HashAlgo::ALL.into_iter().find(|a| a.id() == id)
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgo::Blake3 | HashAlgo::Sha256 => 32,
            HashAlgo::Sha512 => 64,
        }
    }

    pub fn hasher(self) -> Hasher {
        match self {
            HashAlgo::Blake3 => Hasher::Blake3(Box::default()),
            HashAlgo::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashAlgo::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    /// The digest of a byte string in one call.
    pub fn digest(self, data: &[u8]) -> Digest {
        let mut h = self.hasher();
        h.update(data);
        h.finish()
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An incremental hasher.
#[derive(Debug, Clone)]
pub enum Hasher {
    Blake3(Box<blake3::Hasher>),
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Blake3(h) => {
                h.update(data);
            }
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Digest {
        match self {
            Hasher::Blake3(h) => Digest::from_slice(h.finalize().as_bytes()),
            Hasher::Sha256(h) => Digest::from_slice(&h.finalize()),
            Hasher::Sha512(h) => Digest::from_slice(&h.finalize()),
        }
    }
}

/// A digest of up to 64 bytes, kept inline (no allocation per file).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest {
    len: u8,
    bytes: [u8; 64],
}

impl Digest {
    /// The first 64 bytes of `b` (digests are never longer).
    pub fn from_slice(b: &[u8]) -> Digest {
        let n = b.len().min(64);
        let mut bytes = [0u8; 64];
        bytes[..n].copy_from_slice(&b[..n]);
        Digest {
            len: n as u8,
            bytes,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub fn hex(&self) -> String {
        crate::hostpath::to_hex(self.as_bytes())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(
            HashAlgo::Sha256.digest(b"abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            HashAlgo::Blake3.digest(b"").hex(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(HashAlgo::Sha512.digest(b"abc").as_bytes().len(), 64);
        assert!(HashAlgo::Sha512
            .digest(b"abc")
            .hex()
            .starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn incremental_equals_one_shot() {
        for a in HashAlgo::ALL {
            let mut h = a.hasher();
            h.update(b"hello ");
            h.update(b"world");
            assert_eq!(h.finish(), a.digest(b"hello world"));
            assert_eq!(HashAlgo::from_id(a.id()), Some(a));
            assert_eq!(HashAlgo::parse(a.name()), Some(a));
        }
    }
}
