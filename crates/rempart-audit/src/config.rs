//! The user's audit configuration (`/etc/rempart/rempart.toml`, or `--config FILE`): the profile,
//! rules ignored with a written reason, and what the host is meant to expose.

use crate::model::{Level, Severity};
use serde::Deserialize;

/// Where the configuration is looked for on the audited host when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/rempart/rempart.toml";

/// The contents of `rempart.toml`. Every field is optional.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The security level judged against: dev, sme, enterprise or critical.
    pub profile: Option<Level>,
    /// Findings below this severity are not reported and never fail the run.
    pub min_severity: Option<Severity>,
    /// Ports meant to be reachable from outside, over TCP or UDP (22, 80 and 443 when unset).
    pub allowed_ports: Vec<u16>,
    /// Accounts allowed to administer the host (sudo members, SSH AllowUsers). When set, any other
    /// member of sudo/wheel is reported.
    pub admin_users: Vec<String>,
    /// Application directories to audit besides those discovered from systemd units.
    pub app_paths: Vec<String>,
    /// Rules (ids or families) not judged on this host, each with the reason.
    pub ignore: Vec<Ignore>,
    /// How to reach the local database servers for the live database checks.
    pub database: DatabaseAccess,
}

/// `[database]`: credentials for the live database checks. Without them rempart tries the
/// servers' Unix sockets (PostgreSQL as the socket's owner, MariaDB as root).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseAccess {
    /// A libpq connection string or URI (`host=/var/run/postgresql user=auditor`), used for the
    /// PostgreSQL cluster whose port it names (or the only cluster).
    pub postgres_dsn: Option<String>,
    /// A MariaDB/MySQL option file with a `[client]` group (user, password, socket or host).
    pub mysql_defaults_file: Option<String>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            profile: None,
            min_severity: None,
            allowed_ports: vec![22, 80, 443],
            admin_users: Vec::new(),
            app_paths: Vec::new(),
            ignore: Vec::new(),
            database: DatabaseAccess::default(),
        }
    }
}

/// One ignored rule. An ignore that matches no rule of the run is itself reported.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    /// A rule id (`SSH-X11-FORWARDING`) or a family (`containers`).
    pub id: String,
    /// Why: shown in every report that skips the rule. Required.
    pub reason: String,
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: ignore of {id} has an empty reason; say why the rule does not apply")]
    EmptyReason { path: String, id: String },
}

impl AuditConfig {
    /// Parse a configuration file's text. `path` is used in messages only.
    pub fn parse(path: &str, text: &str) -> Result<AuditConfig, ConfigError> {
        let cfg: AuditConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        if let Some(ig) = cfg.ignore.iter().find(|i| i.reason.trim().is_empty()) {
            return Err(ConfigError::EmptyReason {
                path: path.to_string(),
                id: ig.id.clone(),
            });
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config_parses() {
        let cfg = AuditConfig::parse(
            "rempart.toml",
            r#"
profile = "enterprise"
min_severity = "medium"
allowed_ports = [22, 443]
admin_users = ["jmadmin"]
app_paths = ["/opt/av-monitoring-mvp"]

[database]
postgres_dsn = "host=/var/run/postgresql user=auditor"

[[ignore]]
id = "SSH-X11-FORWARDING"
reason = "X11 needed by the lab's GUI tools"
"#,
        )
        .unwrap();
        assert_eq!(cfg.profile, Some(Level::Enterprise));
        assert_eq!(cfg.min_severity, Some(Severity::Medium));
        assert_eq!(cfg.allowed_ports, [22, 443]);
        assert_eq!(cfg.ignore[0].id, "SSH-X11-FORWARDING");
        assert_eq!(
            cfg.database.postgres_dsn.as_deref(),
            Some("host=/var/run/postgresql user=auditor")
        );
    }

    #[test]
    fn defaults_allow_ssh_and_web() {
        let cfg = AuditConfig::parse("x", "").unwrap();
        assert_eq!(cfg.allowed_ports, [22, 80, 443]);
    }

    #[test]
    fn unknown_keys_and_missing_reasons_are_errors() {
        let e = AuditConfig::parse("/etc/rempart/rempart.toml", "profil = \"sme\"\n").unwrap_err();
        assert!(e.to_string().contains("profil"), "{e}");
        let e = AuditConfig::parse("x", "[[ignore]]\nid = \"A-B\"\nreason = \" \"\n").unwrap_err();
        assert!(matches!(e, ConfigError::EmptyReason { .. }));
    }
}
