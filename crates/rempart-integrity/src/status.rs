//! The record of the last check, kept beside the baseline (`<baseline>.check.json`) so the
//! audit can report integrity findings in milliseconds instead of re-hashing the system. It is
//! MACed with the HMAC key when there is one, like the baseline, so it cannot be rewritten to
//! say "clean" by someone who cannot read the key.

use crate::auth::{self, HmacKey};
use crate::compare::ChangeKind;
use crate::hostpath;
use crate::report::{CheckReport, Verdict};
use serde::{Deserialize, Serialize};

/// The label every record MAC covers.
pub const DOMAIN: &str = "rempart integrity check record v1";
/// Changes kept in a record (the counts are complete).
pub const MAX_SAMPLE: usize = 50;
/// The largest record file read.
pub const MAX_RECORD: usize = 4 << 20;

/// The check record's path for a baseline path.
pub fn record_path(baseline: &str) -> String {
    format!("{baseline}.check.json")
}

/// What the last check concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRecord {
    pub version: u32,
    /// When the check ran (seconds since the epoch).
    pub checked_at: i64,
    /// BLAKE3 (hex) of the baseline file the check read.
    pub baseline_digest: String,
    /// When that baseline was recorded (seconds since the epoch), if it could be parsed.
    pub baseline_created: Option<i64>,
    /// `authentic`, `tampered` or `swapped`.
    pub state: String,
    /// Why the baseline was not trusted.
    pub reason: Option<String>,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub unverified: u64,
    pub issues: u64,
    /// The first changes, by path.
    pub sample: Vec<SampleChange>,
}

/// One change in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleChange {
    /// The path (escaped if it is not UTF-8, see `path_hex`).
    pub path: String,
    /// The exact path bytes in hex, when the path is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    /// `added`, `removed` or `changed`.
    pub change: String,
    /// Names of the changed attributes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordFile {
    record: CheckRecord,
    /// HMAC-SHA256 (hex) of the record's canonical JSON, when a key was available.
    mac: Option<String>,
}

/// A record file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("check record: {0}")]
pub struct RecordError(pub String);

impl CheckRecord {
    /// The record of a check. `baseline_digest` is BLAKE3 of the baseline file's bytes.
    pub fn from_report(r: &CheckReport, baseline_digest: [u8; 32]) -> CheckRecord {
        let (added, removed, changed) = r.counts();
        let sample = r
            .comparison
            .changes
            .iter()
            .take(MAX_SAMPLE)
            .map(|c| {
                let (path, path_hex) = match std::str::from_utf8(&c.path) {
                    Ok(s) => (s.to_string(), None),
                    Err(_) => (hostpath::display(&c.path), Some(hostpath::to_hex(&c.path))),
                };
                SampleChange {
                    path,
                    path_hex,
                    change: c.kind.name().to_string(),
                    attrs: if c.kind == ChangeKind::Changed {
                        c.attrs.iter().map(|a| a.attr.name().to_string()).collect()
                    } else {
                        Vec::new()
                    },
                    notes: c.notes.clone(),
                }
            })
            .collect();
        CheckRecord {
            version: 1,
            checked_at: r.checked_at.secs,
            baseline_digest: hostpath::to_hex(&baseline_digest),
            baseline_created: r.header.as_ref().map(|h| h.created.secs),
            state: r.baseline_state().to_string(),
            reason: match &r.verdict {
                Verdict::Untrusted(u) => Some(u.to_string()),
                _ => None,
            },
            added,
            removed,
            changed,
            unverified: r.comparison.unverified,
            issues: r.issues.len() as u64,
            sample,
        }
    }

    fn canonical(&self) -> Vec<u8> {
        // Plain integers, strings and lists in a fixed field order: the same values always
        // serialise to the same bytes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The file's bytes, MACed when a key is given.
    pub fn to_file(&self, key: Option<&HmacKey>) -> Vec<u8> {
        let mac = key.map(|k| hostpath::to_hex(&k.tag(&auth::message(DOMAIN, &self.canonical()))));
        let file = RecordFile {
            record: self.clone(),
            mac,
        };
        let mut out = serde_json::to_vec_pretty(&file).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Parse a record file: the record and its MAC (if any). Not yet trusted.
    pub fn parse(bytes: &[u8]) -> Result<(CheckRecord, Option<Vec<u8>>), RecordError> {
        if bytes.len() > MAX_RECORD {
            return Err(RecordError("file too large".into()));
        }
        let f: RecordFile =
            serde_json::from_slice(bytes).map_err(|e| RecordError(e.to_string()))?;
        if f.record.version != 1 {
            return Err(RecordError(format!(
                "version {} is not supported",
                f.record.version
            )));
        }
        let mac = match f.mac {
            Some(h) => {
                Some(hostpath::from_hex(&h).ok_or_else(|| RecordError("mac is not hex".into()))?)
            }
            None => None,
        };
        Ok((f.record, mac))
    }

    /// Whether `mac` authenticates this record under `key`.
    pub fn verify(&self, mac: &[u8], key: &HmacKey) -> bool {
        key.verify(&auth::message(DOMAIN, &self.canonical()), mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> CheckRecord {
        CheckRecord {
            version: 1,
            checked_at: 1_767_225_600,
            baseline_digest: "ab".repeat(32),
            baseline_created: Some(1_767_000_000),
            state: "authentic".into(),
            reason: None,
            added: 1,
            removed: 0,
            changed: 2,
            unverified: 0,
            issues: 3,
            sample: vec![SampleChange {
                path: "/etc/\\xff".into(),
                path_hex: Some("2f6574632fff".into()),
                change: "added".into(),
                attrs: Vec::new(),
                notes: vec!["new setuid file".into()],
            }],
        }
    }

    #[test]
    fn records_round_trip_and_macs_bind_every_field() {
        let k = HmacKey::from_bytes([3; 32]);
        let r = sample();
        let (back, mac) = CheckRecord::parse(&r.to_file(Some(&k))).unwrap();
        assert_eq!(back, r);
        let mac = mac.unwrap();
        assert!(back.verify(&mac, &k));
        assert!(!back.verify(&mac, &HmacKey::from_bytes([4; 32])));
        let mut changed = back.clone();
        changed.changed = 0;
        assert!(!changed.verify(&mac, &k));
        let (_, none) = CheckRecord::parse(&r.to_file(None)).unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn unknown_fields_versions_and_bad_macs_are_refused() {
        let text = String::from_utf8(sample().to_file(None)).unwrap();
        assert!(CheckRecord::parse(text.replace("\"issues\"", "\"issuez\"").as_bytes()).is_err());
        assert!(
            CheckRecord::parse(text.replace("\"version\": 1", "\"version\": 2").as_bytes())
                .is_err()
        );
        assert!(
            CheckRecord::parse(text.replace("\"mac\": null", "\"mac\": \"xyz\"").as_bytes())
                .is_err()
        );
        assert!(CheckRecord::parse(b"").is_err());
    }

    proptest! {
        #[test]
        fn parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = CheckRecord::parse(&data);
        }

        #[test]
        fn any_record_round_trips(added in any::<u64>(), path in "\\PC{0,20}", reason in proptest::option::of("\\PC{0,20}")) {
            let mut r = sample();
            r.added = added;
            r.reason = reason;
            r.sample[0].path = path;
            let k = HmacKey::from_bytes([5; 32]);
            let (back, mac) = CheckRecord::parse(&r.to_file(Some(&k))).unwrap();
            prop_assert!(back.verify(&mac.unwrap(), &k));
            prop_assert_eq!(back, r);
        }
    }
}
