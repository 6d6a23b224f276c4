//! `/etc/rempart/integrity.toml`: the administrator's integrity configuration. Every field is
//! optional; an absent file means the built-in policy and default locations.

use super::{app_rule, default_policy, Policy, PolicyError, RuleSpec};
use crate::hash::HashAlgo;
use serde::Deserialize;

/// Where the configuration is read when `--config` is not given (a host path).
pub const DEFAULT_CONFIG: &str = "/etc/rempart/integrity.toml";
/// Where the baseline is kept by default (a host path).
pub const DEFAULT_BASELINE: &str = "/var/lib/rempart/integrity/baseline";
/// Where the HMAC key is kept by default (a host path, root-only, outside the baseline's
/// directory).
pub const DEFAULT_KEY: &str = "/etc/rempart/integrity.key";
pub const DEFAULT_MAX_BASELINE_AGE_DAYS: u32 = 30;
pub const DEFAULT_MAX_CHECK_AGE_DAYS: u32 = 7;

/// The contents of `integrity.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntegrityConfig {
    /// Start from the built-in policy (true, the default) and add to it, or use only the rules
    /// written here (false).
    pub defaults: bool,
    /// Content hash: `blake3` (default), `sha256` or `sha512` (for comparison with other
    /// tools' databases).
    pub hash: Option<HashAlgo>,
    /// Application directories to watch like `/opt` (content, without logs, caches and
    /// temporary files), besides those the audit discovers.
    pub app_dirs: Vec<String>,
    /// Absolute host-path globs never recorded, added to the built-in ones.
    pub exclude: Vec<String>,
    /// Rules, after the built-in ones (for the same path, the later rule wins).
    #[serde(rename = "rule")]
    pub rules: Vec<RuleSpec>,
    /// Where the baseline is kept [default: /var/lib/rempart/integrity/baseline].
    pub baseline: Option<String>,
    /// The HMAC key file [default: /etc/rempart/integrity.key]. Keep it outside the watched
    /// trees or excluded from them, readable by root only.
    pub key: Option<String>,
    /// The audit reports INT-BASELINE-STALE when the baseline is older than this many days
    /// [default: 30].
    pub max_baseline_age_days: Option<u32>,
    /// The audit's INT-CHANGES cannot vouch for a host whose last check is older than this
    /// many days [default: 7].
    pub max_check_age_days: Option<u32>,
}

impl Default for IntegrityConfig {
    fn default() -> Self {
        IntegrityConfig {
            defaults: true,
            hash: None,
            app_dirs: Vec::new(),
            exclude: Vec::new(),
            rules: Vec::new(),
            baseline: None,
            key: None,
            max_baseline_age_days: None,
            max_check_age_days: None,
        }
    }
}

impl IntegrityConfig {
    /// Parse the file's text; `source_name` is used in messages. The resulting policy is
    /// compiled once to report bad paths and globs here rather than at scan time.
    pub fn parse(source_name: &str, text: &str) -> Result<IntegrityConfig, PolicyError> {
        let cfg: IntegrityConfig = toml::from_str(text).map_err(|e| PolicyError::Parse {
            source_name: source_name.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        for (name, p) in [("baseline", &cfg.baseline), ("key", &cfg.key)] {
            if let Some(p) = p {
                if !p.starts_with('/') {
                    return Err(PolicyError::Parse {
                        source_name: source_name.to_string(),
                        message: format!("`{name}` must be an absolute path, not {p:?}"),
                    });
                }
            }
        }
        cfg.policy(&[]).compile()?;
        Ok(cfg)
    }

    /// The effective policy, with application directories discovered elsewhere (by the audit)
    /// added to the configured ones.
    pub fn policy(&self, discovered_app_dirs: &[String]) -> Policy {
        let mut apps: Vec<String> = self.app_dirs.clone();
        apps.extend(discovered_app_dirs.iter().cloned());
        let mut policy = if self.defaults {
            default_policy(&apps)
        } else {
            Policy {
                hash: HashAlgo::default(),
                exclude: Vec::new(),
                rules: apps.iter().map(|a| app_rule(a)).collect(),
            }
        };
        if let Some(h) = self.hash {
            policy.hash = h;
        }
        policy.exclude.extend(self.exclude.iter().cloned());
        policy.rules.extend(self.rules.iter().cloned());
        policy
    }

    pub fn baseline_path(&self) -> &str {
        self.baseline.as_deref().unwrap_or(DEFAULT_BASELINE)
    }

    pub fn key_path(&self) -> &str {
        self.key.as_deref().unwrap_or(DEFAULT_KEY)
    }

    pub fn max_baseline_age_days(&self) -> u32 {
        self.max_baseline_age_days
            .unwrap_or(DEFAULT_MAX_BASELINE_AGE_DAYS)
    }

    pub fn max_check_age_days(&self) -> u32 {
        self.max_check_age_days
            .unwrap_or(DEFAULT_MAX_CHECK_AGE_DAYS)
    }
}
