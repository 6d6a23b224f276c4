//! Keys that authenticate baselines and check records, kept apart from what they protect.
//!
//! Two schemes, usable together:
//! - HMAC-SHA256 with a 32-byte secret key in a root-only file (`/etc/rempart/integrity.key`,
//!   64 hex digits). Anyone who can modify the baseline but cannot read the key cannot forge it.
//! - Ed25519 signatures. The private key (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519`
//!   writes) stays off the host; the host only holds the public key (SPKI PEM), so even root on
//!   the host cannot sign a forged baseline.
//!
//! Everything authenticated here is first reduced to a domain-separated message (a fixed label
//! plus the BLAKE3 digest of the bytes), so a MAC or signature for one kind of file can never be
//! replayed as another.

use crate::hostpath;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, Verifier as _};
use hmac::{KeyInit, Mac};

/// A key that cannot be used, or randomness that could not be obtained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("HMAC key: expected 64 hexadecimal digits (32 bytes)")]
    BadHmacKey,
    #[error("signing key: not an Ed25519 private key in PKCS#8 PEM ({0})")]
    BadSigningKey(String),
    #[error("verify key: not an Ed25519 public key in PEM ({0})")]
    BadVerifyKey(String),
    #[error("cannot obtain random bytes from the operating system: {0}")]
    Random(String),
}

/// Which scheme authenticated something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthKind {
    HmacSha256,
    Ed25519,
}

impl AuthKind {
    pub fn id(self) -> u8 {
        match self {
            AuthKind::HmacSha256 => 1,
            AuthKind::Ed25519 => 2,
        }
    }

    pub fn from_id(id: u8) -> Option<AuthKind> {
        match id {
            1 => Some(AuthKind::HmacSha256),
            2 => Some(AuthKind::Ed25519),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AuthKind::HmacSha256 => "hmac-sha256",
            AuthKind::Ed25519 => "ed25519",
        }
    }

    /// Length of a tag of this kind.
    pub fn tag_len(self) -> usize {
        match self {
            AuthKind::HmacSha256 => 32,
            AuthKind::Ed25519 => 64,
        }
    }
}

/// A short public fingerprint of a key, stored beside each tag so a mismatch names the key.
pub type KeyId = [u8; 8];

fn key_id(material: &[u8]) -> KeyId {
    let d = blake3::derive_key("rempart integrity key id v1", material);
    let mut id = [0u8; 8];
    id.copy_from_slice(&d[..8]);
    id
}

/// The message actually MACed or signed: a label naming what the bytes are, and their digest.
pub fn message(domain: &str, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain.len() + 33);
    m.extend_from_slice(domain.as_bytes());
    m.push(0);
    m.extend_from_slice(blake3::hash(data).as_bytes());
    m
}

/// The HMAC-SHA256 secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct HmacKey([u8; 32]);

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HmacKey(id {})", hostpath::to_hex(&self.id()))
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl HmacKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<HmacKey, KeyError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(HmacKey(k))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> HmacKey {
        HmacKey(bytes)
    }

    /// Parse a key file: 64 hex digits, surrounding white space ignored.
    pub fn parse(text: &[u8]) -> Result<HmacKey, KeyError> {
        let s = std::str::from_utf8(text).map_err(|_| KeyError::BadHmacKey)?;
        let bytes = hostpath::from_hex(s.trim()).ok_or(KeyError::BadHmacKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadHmacKey)?;
        Ok(HmacKey(arr))
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> String {
        format!("{}\n", hostpath::to_hex(&self.0))
    }

    pub fn id(&self) -> KeyId {
        key_id(&self.0)
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; 32 bytes is always accepted.
        match <HmacSha256 as KeyInit>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable_hmac(),
        }
    }

    /// The tag of a message.
    pub fn tag(&self, msg: &[u8]) -> [u8; 32] {
        let mut m = self.mac();
        m.update(msg);
        let out = m.finalize().into_bytes();
        let mut t = [0u8; 32];
        t.copy_from_slice(&out);
        t
    }

    /// Constant-time check of a tag.
    pub fn verify(&self, msg: &[u8], tag: &[u8]) -> bool {
        let mut m = self.mac();
        m.update(msg);
        m.verify_slice(tag).is_ok()
    }
}

#[cold]
fn unreachable_hmac() -> HmacSha256 {
    // new_from_slice only fails for fixed-size-key MACs; HMAC accepts any size. Fall back to a
    // fixed key so no panic path exists; a tag made with it can never verify against the real
    // key's tags, which fails closed.
    <HmacSha256 as KeyInit>::new(&Default::default())
}

/// An Ed25519 private key (kept off the host).
#[derive(Clone)]
pub struct SignKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignKey(id {})", hostpath::to_hex(&self.id()))
    }
}

impl SignKey {
    pub fn generate() -> Result<SignKey, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(SignKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// Parse a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn parse_pem(text: &str) -> Result<SignKey, KeyError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(text)
            .map(SignKey)
            .map_err(|e| KeyError::BadSigningKey(e.to_string()))
    }

    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.0
            .to_pkcs8_pem(Default::default())
            .map(|z| z.to_string())
            .map_err(|e| KeyError::BadSigningKey(e.to_string()))
    }

    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey(self.0.verifying_key())
    }

    /// The id of the matching public key.
    pub fn id(&self) -> KeyId {
        self.verify_key().id()
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }
}

/// An Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyKey(ed25519_dalek::VerifyingKey);

impl VerifyKey {
    /// Parse an SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn parse_pem(text: &str) -> Result<VerifyKey, KeyError> {
        ed25519_dalek::VerifyingKey::from_public_key_pem(text)
            .map(VerifyKey)
            .map_err(|e| KeyError::BadVerifyKey(e.to_string()))
    }

    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.0
            .to_public_key_pem(Default::default())
            .map_err(|e| KeyError::BadVerifyKey(e.to_string()))
    }

    pub fn id(&self) -> KeyId {
        key_id(self.0.as_bytes())
    }

    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        self.0.verify_strict(msg, &sig).is_ok() && self.0.verify(msg, &sig).is_ok()
    }
}

/// What to authenticate a new file with.
#[derive(Debug, Clone, Default)]
pub struct Signers {
    pub hmac: Option<HmacKey>,
    pub sign: Option<SignKey>,
}

/// What a file must be authenticated by to be trusted.
#[derive(Debug, Clone)]
pub enum Verifier {
    Hmac(HmacKey),
    Ed25519(VerifyKey),
}

impl Verifier {
    pub fn kind(&self) -> AuthKind {
        match self {
            Verifier::Hmac(_) => AuthKind::HmacSha256,
            Verifier::Ed25519(_) => AuthKind::Ed25519,
        }
    }

    pub fn id(&self) -> KeyId {
        match self {
            Verifier::Hmac(k) => k.id(),
            Verifier::Ed25519(k) => k.id(),
        }
    }

    pub fn check(&self, msg: &[u8], tag: &[u8]) -> bool {
        match self {
            Verifier::Hmac(k) => k.verify(msg, tag),
            Verifier::Ed25519(k) => k.verify(msg, tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_key_file_round_trip_and_tags() {
        let k = HmacKey::generate().unwrap();
        let back = HmacKey::parse(k.to_file_text().as_bytes()).unwrap();
        assert_eq!(back, k);
        let m = message("test", b"data");
        let t = k.tag(&m);
        assert!(k.verify(&m, &t));
        assert!(!k.verify(&message("test", b"datA"), &t));
        assert!(!k.verify(&message("other", b"data"), &t));
        assert!(!HmacKey::generate().unwrap().verify(&m, &t));
        assert_eq!(HmacKey::parse(b"abc"), Err(KeyError::BadHmacKey));
        assert_eq!(HmacKey::parse(&[b'a'; 62]), Err(KeyError::BadHmacKey));
    }

    #[test]
    fn ed25519_pem_round_trip_and_signatures() {
        let k = SignKey::generate().unwrap();
        let pem = k.to_pem().unwrap();
        assert!(pem.contains("BEGIN PRIVATE KEY"));
        let k2 = SignKey::parse_pem(&pem).unwrap();
        let vk = VerifyKey::parse_pem(&k2.verify_key().to_pem().unwrap()).unwrap();
        assert_eq!(vk.id(), k.id());
        let m = message("test", b"data");
        let sig = k.sign(&m);
        assert!(vk.verify(&m, &sig));
        assert!(!vk.verify(&message("test", b"x"), &sig));
        assert!(!SignKey::generate().unwrap().verify_key().verify(&m, &sig));
        assert!(!vk.verify(&m, &sig[..63]));
        assert!(VerifyKey::parse_pem("garbage").is_err());
    }

    #[test]
    fn openssl_generated_keys_are_accepted() {
        // `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` of the same key.
        let sk = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEvbphREdn/vOqqrVxcgtqm/soLmCxVNfxi+AmMPlP1E\n-----END PRIVATE KEY-----\n";
        let pk = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA1XfGnTJt7jF6HJa80xqPs+CmeXCVqpk3dBIHKGUWYHY=\n-----END PUBLIC KEY-----\n";
        let k = SignKey::parse_pem(sk).unwrap();
        let vk = VerifyKey::parse_pem(pk).unwrap();
        assert_eq!(k.verify_key(), vk);
        assert_eq!(k.verify_key().to_pem().unwrap(), pk);
    }
}
