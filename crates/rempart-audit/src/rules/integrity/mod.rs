//! The integrity family: is a file-integrity baseline recorded (`rempart integrity init`), is
//! it recent, and did the last `rempart integrity check` find changes or a tampered baseline.
//!
//! These rules never re-hash the system (a full check takes seconds to minutes; the audit takes
//! milliseconds): they read the baseline's authenticated header and the record the last check
//! left beside it (`<baseline>.check.json`), and verify both with the HMAC key when the host has
//! one. Scheduling `rempart integrity check` (cron, systemd timer) keeps that record fresh.
//! Parsing and authentication belong to `rempart-integrity`; this folder only judges.

pub mod baseline_missing;
pub mod baseline_stale;
pub mod changes;

use crate::host::HostError;
use crate::rule::{Ctx, Fact};
use rempart_integrity::auth::HmacKey;
use rempart_integrity::baseline::{Envelope, FormatError, Header, Limits};
use rempart_integrity::policy::{IntegrityConfig, DEFAULT_CONFIG};
use rempart_integrity::status::{self, CheckRecord};

/// The largest baseline read (a full Debian host is a few MiB).
const MAX_BASELINE: u64 = 1 << 30;

/// The baseline file as found on the host.
#[derive(Debug, Clone)]
pub struct BaselineFile {
    /// BLAKE3 of the file's bytes (what check records name).
    pub digest: [u8; 32],
    /// The header, or why the file is not a well-formed baseline.
    pub header: Result<Header, FormatError>,
    /// The HMAC verification: `None` when the host has no HMAC key to verify with.
    pub hmac: Option<Result<(), String>>,
}

/// Everything the integrity rules judge, read once per audit.
#[derive(Debug, Clone)]
pub struct IntegrityState {
    /// The configuration (built-in defaults when the file is absent), or why it is unusable.
    pub config: Result<IntegrityConfig, HostErrorOr>,
    pub baseline_path: String,
    /// `None` when there is no baseline.
    pub baseline: Option<Result<BaselineFile, HostError>>,
    pub key_path: String,
    /// `None` when there is no key file.
    pub key: Option<Result<HmacKey, String>>,
    pub record_path: String,
    /// The last check's record and its MAC; `None` when no check has run.
    pub record: Option<Result<RecordAndMac, HostErrorOr>>,
}

/// A parsed check record and the MAC stored with it (not yet verified).
pub type RecordAndMac = (CheckRecord, Option<Vec<u8>>);

/// A read error, or a file that was read but cannot be used.
#[derive(Debug, Clone)]
pub enum HostErrorOr {
    Host(HostError),
    Invalid { path: String, message: String },
}

impl Fact for IntegrityState {
    fn collect(ctx: &Ctx) -> Self {
        let host = ctx.host;
        let config = match host.read_text(DEFAULT_CONFIG) {
            Ok(Some(f)) => {
                IntegrityConfig::parse(DEFAULT_CONFIG, &f.text).map_err(|e| HostErrorOr::Invalid {
                    path: DEFAULT_CONFIG.into(),
                    message: e.to_string(),
                })
            }
            Ok(None) => Ok(IntegrityConfig::default()),
            Err(e) => Err(HostErrorOr::Host(e)),
        };
        let defaults = IntegrityConfig::default();
        let cfg = config.as_ref().unwrap_or(&defaults);
        let baseline_path = cfg.baseline_path().to_string();
        let key_path = cfg.key_path().to_string();
        let record_path = status::record_path(&baseline_path);

        let key = match host.read(&key_path) {
            Ok(Some(b)) => Some(HmacKey::parse(&b).map_err(|e| e.to_string())),
            Ok(None) => None,
            Err(e) => Some(Err(e.to_string())),
        };
        let big = host.clone().with_max_file(MAX_BASELINE);
        let baseline = match big.read(&baseline_path) {
            Ok(None) => None,
            Err(e) => Some(Err(e)),
            Ok(Some(bytes)) => {
                let digest = *blake3::hash(&bytes).as_bytes();
                let parsed = Envelope::parse(&bytes, &Limits::default());
                let hmac = match (&key, &parsed) {
                    (Some(Ok(k)), Ok(env)) => Some(
                        env.verify(&rempart_integrity::auth::Verifier::Hmac(k.clone()))
                            .map_err(|u| u.to_string()),
                    ),
                    (Some(Ok(_)), Err(e)) => Some(Err(e.to_string())),
                    _ => None,
                };
                Some(Ok(BaselineFile {
                    digest,
                    header: parsed.map(|e| e.header),
                    hmac,
                }))
            }
        };
        let record = match host
            .clone()
            .with_max_file(status::MAX_RECORD as u64)
            .read(&record_path)
        {
            Ok(None) => None,
            Err(e) => Some(Err(HostErrorOr::Host(e))),
            Ok(Some(b)) => Some(CheckRecord::parse(&b).map_err(|e| HostErrorOr::Invalid {
                path: record_path.clone(),
                message: e.to_string(),
            })),
        };
        IntegrityState {
            config,
            baseline_path,
            baseline,
            key_path,
            key,
            record_path,
            record,
        }
    }
}

/// Days between two instants in seconds (rounded down).
pub(crate) fn days_between(earlier: i64, later: i64) -> i64 {
    later.saturating_sub(earlier).div_euclid(86_400)
}

/// A date for messages.
pub(crate) fn date(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| format!("@{secs}"))
}

/// Seconds since the epoch, now.
pub(crate) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Building integrity state files, for this family's tests (also compiled into the test that
/// regenerates its fixtures, `tests/integrity_fixtures.rs`).
#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests;
