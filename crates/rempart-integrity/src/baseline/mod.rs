//! The baseline file: what a scan recorded, compact, written atomically, and authenticated with
//! keys kept apart from it.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! "RMPTINTG"          8 bytes  magic
//! version             u16      = 1
//! header length       u32      then the header:
//!     hash algorithm  u8       1 blake3, 2 sha256, 3 sha512
//!     created         i64 s + u32 ns
//!     root            u32 length + bytes   real path of the scanned root
//!     host id         u32 length + bytes   machine-id:<...> or root:<path>
//!     policy digest   32 bytes             BLAKE3 of the policy text
//!     policy          u32 length + UTF-8   the policy, canonical TOML
//!     entries         u64
//!     body size       u64                  once decompressed
//!     creator         u16 length + UTF-8   "rempart 0.1.0"
//! body length         u64      then the body: zstd of the entries (see `codec`)
//! ---- everything above is authenticated ----
//! tag count           u8       1 to 4, then per tag:
//!     scheme          u8       1 HMAC-SHA256, 2 Ed25519
//!     key id          8 bytes  fingerprint of the key
//!     tag length      u16      then the tag (32 or 64 bytes)
//! ```
//!
//! Each tag covers `"rempart integrity baseline v1" NUL BLAKE3(authenticated bytes)`. Nothing of
//! the body is decoded before a tag has been checked with a key the caller trusts
//! ([`Envelope::verify`]); the decoder is nonetheless written (and fuzzed) for hostile input.

mod codec;
mod envelope;

#[cfg(test)]
mod tests;

pub use envelope::{decode_entries, encode, encode_entries, Envelope, Limits, Tag};

use crate::auth::{AuthKind, KeyId};
use crate::entry::Time;
use crate::hash::HashAlgo;
use crate::hostpath;

/// The magic bytes that open a baseline.
pub const MAGIC: &[u8; 8] = b"RMPTINTG";
/// The format version written.
pub const VERSION: u16 = 1;
/// The label every baseline tag covers.
pub const DOMAIN: &str = "rempart integrity baseline v1";

/// What a baseline says about itself (authenticated with the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub algo: HashAlgo,
    pub created: Time,
    /// Real path of the scanned root (`/` on the live host).
    pub root: Vec<u8>,
    /// See [`crate::scan::ScanRoot::host_id`].
    pub host_id: Vec<u8>,
    pub policy_digest: [u8; 32],
    /// The policy the baseline was recorded with (canonical TOML).
    pub policy: String,
    pub entries: u64,
    /// The program that wrote it.
    pub creator: String,
}

/// A baseline that is not one, or not a well-formed one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("not a rempart integrity baseline (bad magic)")]
    Magic,
    #[error("baseline format version {0} is not supported (this rempart reads version 1)")]
    Version(u16),
    #[error("malformed baseline: {0}")]
    Malformed(String),
    #[error("baseline larger than the limit ({0} bytes)")]
    TooLarge(u64),
}

/// Why a baseline is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    /// The file could not be parsed (truncated, garbage, unknown version): never trusted.
    #[error("{0}")]
    Format(#[from] FormatError),
    /// No tag of the required scheme by the trusted key.
    #[error("no {scheme} tag by key {want} (tags present: {present})")]
    NoTag {
        scheme: &'static str,
        want: String,
        present: String,
    },
    /// A tag by the trusted key that does not match: the contents were modified.
    #[error("{scheme} tag by key {key} does not match the contents: the baseline was modified")]
    Mismatch { scheme: &'static str, key: String },
    /// Authentic, but recorded for another host or root.
    #[error("baseline recorded for {recorded}, not for this tree ({current})")]
    OtherHost { recorded: String, current: String },
}

impl Untrusted {
    /// True for a baseline that is authentic but belongs elsewhere ("swapped").
    pub fn is_swap(&self) -> bool {
        matches!(self, Untrusted::OtherHost { .. })
    }
}

/// Short display of tags, for messages.
pub(crate) fn describe_tags(tags: &[Tag]) -> String {
    if tags.is_empty() {
        return "none".into();
    }
    tags.iter()
        .map(|t| format!("{} {}", t.kind.name(), hostpath::to_hex(&t.key_id)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tag's scheme and key, for reports.
pub fn tag_label(kind: AuthKind, key: &KeyId) -> String {
    format!("{} key {}", kind.name(), hostpath::to_hex(key))
}
