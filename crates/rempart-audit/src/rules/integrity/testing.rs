//! Writes the files the integrity rules read (a baseline, its key, a check record) into a
//! host tree, as `rempart integrity` would. Used by this family's unit tests and by the test
//! that regenerates its fixtures; not part of the audit.

#![allow(dead_code)]

use rempart_integrity::attrs::AttrSet;
use rempart_integrity::auth::{HmacKey, Signers};
use rempart_integrity::baseline::{self, Header};
use rempart_integrity::entry::{Entry, Kind, Time};
use rempart_integrity::hash::HashAlgo;
use rempart_integrity::hostpath;
use rempart_integrity::policy::{default_policy, DEFAULT_BASELINE, DEFAULT_KEY};
use rempart_integrity::status::{record_path, CheckRecord, SampleChange};
use std::fs;
use std::path::Path;

/// The key fixtures use (test data, never a real key).
pub fn fixture_key() -> HmacKey {
    HmacKey::from_bytes([0x42; 32])
}

/// A small valid baseline recorded at `created` (seconds since the epoch).
pub fn baseline_bytes(created: i64, key: &HmacKey) -> Vec<u8> {
    let mut etc = Entry::new(&b"/etc"[..], Kind::Dir);
    etc.attrs = AttrSet::of(&[rempart_integrity::Attr::Type, rempart_integrity::Attr::Mode]);
    etc.mode = 0o755;
    let mut passwd = Entry::new(&b"/etc/passwd"[..], Kind::File);
    passwd.attrs = AttrSet::of(&[
        rempart_integrity::Attr::Type,
        rempart_integrity::Attr::Mode,
        rempart_integrity::Attr::Hash,
    ]);
    passwd.mode = 0o644;
    passwd.digest = Some(HashAlgo::Blake3.digest(b"root:x:0:0:root:/root:/bin/bash\n"));
    let policy = default_policy(&[]);
    let header = Header {
        algo: HashAlgo::Blake3,
        created: Time {
            secs: created,
            nanos: 0,
        },
        root: b"/".to_vec(),
        host_id: b"machine-id:5f1c0a9e2b7d4c3a8e6f0b1d2c3e4f5a".to_vec(),
        policy_digest: policy.digest(),
        policy: policy.to_toml(),
        entries: 2,
        creator: "rempart fixture".into(),
    };
    let signers = Signers {
        hmac: Some(key.clone()),
        sign: None,
    };
    // Two sorted entries and a key: encoding cannot fail.
    baseline::encode(&header, &[etc, passwd], &signers).unwrap_or_default()
}

/// A check record for `baseline` with these counts and sample changes
/// (`(path, change, attrs)`).
pub fn record(
    baseline: &[u8],
    checked_at: i64,
    state: &str,
    counts: (u64, u64, u64),
    sample: &[(&str, &str, &[&str])],
) -> CheckRecord {
    CheckRecord {
        version: 1,
        checked_at,
        baseline_digest: hostpath::to_hex(blake3::hash(baseline).as_bytes()),
        baseline_created: None,
        state: state.into(),
        reason: (state != "authentic").then(|| "hmac-sha256 tag does not match".to_string()),
        added: counts.0,
        removed: counts.1,
        changed: counts.2,
        unverified: 0,
        issues: 0,
        sample: sample
            .iter()
            .map(|(p, c, a)| SampleChange {
                path: p.to_string(),
                path_hex: None,
                change: c.to_string(),
                attrs: a.iter().map(|s| s.to_string()).collect(),
                notes: Vec::new(),
            })
            .collect(),
    }
}

/// Write a host path of the tree `root`.
pub fn put(root: &Path, host_path: &str, bytes: &[u8]) {
    let p = root.join(host_path.trim_start_matches('/'));
    if let Some(d) = p.parent() {
        let _ = fs::create_dir_all(d);
    }
    let _ = fs::write(p, bytes);
}

/// Write the key, the baseline and optionally a record at their default places.
pub fn install(
    root: &Path,
    key: Option<&HmacKey>,
    baseline: &[u8],
    rec: Option<(&CheckRecord, Option<&HmacKey>)>,
) {
    if let Some(k) = key {
        put(root, DEFAULT_KEY, k.to_file_text().as_bytes());
    }
    put(root, DEFAULT_BASELINE, baseline);
    if let Some((r, mac_key)) = rec {
        put(root, &record_path(DEFAULT_BASELINE), &r.to_file(mac_key));
    }
}
