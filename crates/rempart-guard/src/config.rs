//! `/etc/rempart/guard.toml`: the daemon's settings and its jails. Every struct refuses unknown
//! keys (a typo is an error, not a silently ignored setting); the doc comment of each field is
//! its user documentation (docs/guard.md repeats it).
//!
//! This module only reads and checks the file; [`crate::engine`] builds jails from it.

use crate::addr::Cidr;
use crate::filters::FilterOptions;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default configuration path.
pub const DEFAULT_PATH: &str = "/etc/rempart/guard.toml";

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// Daemon-wide settings.
    #[serde(default)]
    pub global: Global,
    /// Jails by name: what to watch, how to judge it, how long to ban.
    #[serde(default)]
    pub jail: BTreeMap<String, JailConfig>,
}

/// Where bans go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// The `inet rempart` nftables table (needs CAP_NET_ADMIN).
    #[default]
    Nftables,
    /// Only log bans (dry run).
    Log,
}

/// Daemon-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Global {
    /// Directory for saved state: file offsets, the journal cursor, active bans
    /// (default `/var/lib/rempart/guard`; systemd's `StateDirectory=` creates it).
    pub state_dir: PathBuf,
    /// Control socket used by `rempart guard status|ban|unban` (default
    /// `/run/rempart/guard.sock`).
    pub socket: PathBuf,
    /// `nftables` (default) or `log` (dry run: decisions are logged, the firewall untouched).
    pub backend: BackendKind,
    /// The nftables table the daemon owns (family `inet`; default `rempart`). Nothing outside
    /// it is ever changed.
    pub nft_table: String,
    /// Path of the `nft` program (default `nft`, looked up in PATH).
    pub nft: PathBuf,
    /// Path of the `journalctl` program (default `journalctl`).
    pub journalctl: PathBuf,
    /// Read journal files from this directory instead of the system journal (tests, containers).
    pub journal_directory: Option<PathBuf>,
    /// Addresses and networks never banned, in every jail. Loopback is always allowed.
    pub allow: Vec<Cidr>,
    /// Also never ban this host's own addresses (default true).
    pub allow_self: bool,
    /// IPv6 bans cover this prefix length: 64 bans the client's /64 (one subscriber's
    /// allocation), 128 only the address (default 64). Jails may override it.
    pub ipv6_prefix: u8,
    /// Hosts with recent failures remembered per jail; past it the stalest are forgotten, so a
    /// flood of addresses cannot grow memory without bound (default 50000).
    pub max_tracked: usize,
    /// Serve Prometheus metrics on this address (`127.0.0.1:9466`); none by default.
    pub metrics_listen: Option<String>,
    /// Also write metrics to this file (node_exporter textfile collector), rewritten atomically
    /// every `metrics_interval`.
    pub metrics_textfile: Option<PathBuf>,
    /// How often the metrics textfile is rewritten (default "15s").
    #[serde(deserialize_with = "duration")]
    pub metrics_interval: Duration,
    /// How often followed files are checked for rotation when no change notification came
    /// (default "1s").
    #[serde(deserialize_with = "duration")]
    pub poll_interval: Duration,
    /// Time zone for log times without one (default: the system's).
    pub timezone: Option<String>,
}

impl Default for Global {
    fn default() -> Global {
        Global {
            state_dir: PathBuf::from("/var/lib/rempart/guard"),
            socket: PathBuf::from("/run/rempart/guard.sock"),
            backend: BackendKind::Nftables,
            nft_table: "rempart".to_string(),
            nft: PathBuf::from("nft"),
            journalctl: PathBuf::from("journalctl"),
            journal_directory: None,
            allow: Vec::new(),
            allow_self: true,
            ipv6_prefix: 64,
            max_tracked: 50_000,
            metrics_listen: None,
            metrics_textfile: None,
            metrics_interval: Duration::from_secs(15),
            poll_interval: Duration::from_secs(1),
            timezone: None,
        }
    }
}

/// Longer bans for hosts banned before.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Increment {
    /// Turn it on (default false).
    pub enabled: bool,
    /// Each new ban of the same host lasts `factor` times the previous one (default 2).
    pub factor: f64,
    /// Ban times never exceed this (default "1w").
    #[serde(deserialize_with = "duration")]
    pub max: Duration,
    /// Past bans older than this are forgotten (default "1w").
    #[serde(deserialize_with = "duration")]
    pub forget_after: Duration,
}

impl Default for Increment {
    fn default() -> Increment {
        Increment {
            enabled: false,
            factor: 2.0,
            max: Duration::from_secs(7 * 86_400),
            forget_after: Duration::from_secs(7 * 86_400),
        }
    }
}

/// The ports a jail's bans block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Ports {
    /// Every port and protocol (the default).
    #[default]
    All,
    /// These TCP/UDP ports only.
    Some(Vec<u16>),
}

impl<'de> Deserialize<'de> for Ports {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ports, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<PortItem>),
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum PortItem {
            Num(u16),
            Name(String),
        }
        let item = |p: PortItem| -> Result<u16, String> {
            match p {
                PortItem::Num(n) if n > 0 => Ok(n),
                PortItem::Num(_) => Err("port 0 is not a port".to_string()),
                PortItem::Name(s) => port_by_name(&s),
            }
        };
        match Raw::deserialize(d)? {
            Raw::Word(w) if w == "all" => Ok(Ports::All),
            Raw::Word(w) => Ok(Ports::Some(vec![
                port_by_name(&w).map_err(serde::de::Error::custom)?
            ])),
            Raw::List(l) => {
                let ports: Result<Vec<u16>, String> = l.into_iter().map(item).collect();
                Ok(Ports::Some(ports.map_err(serde::de::Error::custom)?))
            }
        }
    }
}

/// A port number or one of the service names the guides use.
fn port_by_name(s: &str) -> Result<u16, String> {
    if let Ok(n) = s.parse::<u16>() {
        if n > 0 {
            return Ok(n);
        }
    }
    Ok(match s {
        "ssh" => 22,
        "http" => 80,
        "https" => 443,
        "postgresql" | "postgres" => 5432,
        "mysql" => 3306,
        "smtp" => 25,
        "submission" => 587,
        "imaps" => 993,
        _ => {
            return Err(format!(
                "unknown port `{s}` (use a number, `all`, or a list)"
            ))
        }
    })
}

/// Which journal entries a jail reads.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct JournalMatch {
    /// systemd units (`ssh.service`); entries of any of them.
    pub units: Vec<String>,
    /// Syslog identifiers (`sshd`, `sshd-session`); entries of any of them.
    pub identifiers: Vec<String>,
}

/// One jail.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JailConfig {
    /// Whether the jail runs (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A built-in filter name (`sshd`, `apache-auth`, ... see `rempart guard filters`) or the
    /// path of a fail2ban `filter.d/*.conf` file.
    pub filter: String,
    /// Filter mode (sshd: `normal`, `ddos`, `extra`, `aggressive`; see `rempart guard filters`).
    #[serde(default)]
    pub mode: Option<String>,
    /// api-abuse only: the request path prefix whose requests are counted (`/ingest`).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Log files or globs to follow (`/var/log/apache2/*error.log`).
    #[serde(default)]
    pub logpath: Vec<String>,
    /// Read the systemd journal instead of (or as well as) files.
    #[serde(default)]
    pub journal: Option<JournalMatch>,
    /// Failures from one host within `findtime` that trigger a ban (default 5).
    #[serde(default = "five")]
    pub maxretry: u32,
    /// The window failures are counted in (default "10m").
    #[serde(default = "ten_minutes", deserialize_with = "duration")]
    pub findtime: Duration,
    /// How long a ban lasts (default "1h").
    #[serde(default = "one_hour", deserialize_with = "duration")]
    pub bantime: Duration,
    /// Longer bans for repeat offenders.
    #[serde(default)]
    pub increment: Increment,
    /// Ports to block: `"all"` (default) or a list (`[22]`, `["http", "https"]`).
    #[serde(default)]
    pub ports: Ports,
    /// Networks never banned by this jail (added to the global list).
    #[serde(default)]
    pub allow: Vec<Cidr>,
    /// Overrides the global `ipv6_prefix` for this jail.
    #[serde(default)]
    pub ipv6_prefix: Option<u8>,
}

impl JailConfig {
    /// The options its filter is built with.
    pub fn filter_options(&self) -> FilterOptions {
        FilterOptions {
            mode: self.mode.clone(),
            path_prefix: self.path_prefix.clone(),
        }
    }
}

fn yes() -> bool {
    true
}
fn five() -> u32 {
    5
}
fn ten_minutes() -> Duration {
    Duration::from_secs(600)
}
fn one_hour() -> Duration {
    Duration::from_secs(3600)
}

/// Reads `"10m"`, `"1h 30m"`, `"1w"` or a number of seconds.
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) => Ok(Duration::from_secs(s)),
        Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

/// Parses a duration as the configuration writes it (`10m`, `1h30m`, `2d`, `1w`, `600`).
pub fn parse_duration(t: &str) -> Result<Duration, String> {
    let t = t.trim();
    if let Ok(s) = t.parse::<u64>() {
        return Ok(Duration::from_secs(s));
    }
    humantime::parse_duration(t).map_err(|e| format!("`{t}` is not a duration ({e})"))
}

/// The configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A value is out of range or inconsistent.
    #[error("{path}: jail `{jail}`: {message}")]
    Invalid {
        path: PathBuf,
        jail: String,
        message: String,
    },
}

impl GuardConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<GuardConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        GuardConfig::parse(&text, path)
    }

    /// Parses and checks configuration text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<GuardConfig, ConfigError> {
        let cfg: GuardConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.check(path)?;
        Ok(cfg)
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |jail: &str, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            jail: jail.to_string(),
            message,
        };
        if !(1..=128).contains(&self.global.ipv6_prefix) {
            return Err(bad("(global)", "ipv6_prefix must be 1..=128".to_string()));
        }
        if !valid_name(&self.global.nft_table) {
            return Err(bad(
                "(global)",
                format!(
                    "nft_table `{}` must be letters, digits, `_` or `-`",
                    self.global.nft_table
                ),
            ));
        }
        for (name, j) in &self.jail {
            if !valid_name(name) {
                return Err(bad(
                    name,
                    "jail names are letters, digits, `_` or `-`".to_string(),
                ));
            }
            if j.maxretry == 0 {
                return Err(bad(name, "maxretry must be at least 1".to_string()));
            }
            if j.findtime.is_zero() || j.bantime.is_zero() {
                return Err(bad(
                    name,
                    "findtime and bantime must be positive".to_string(),
                ));
            }
            if let Some(p) = j.ipv6_prefix {
                if !(1..=128).contains(&p) {
                    return Err(bad(name, "ipv6_prefix must be 1..=128".to_string()));
                }
            }
            if j.increment.enabled && !(j.increment.factor >= 1.0 && j.increment.factor <= 1000.0) {
                return Err(bad(
                    name,
                    "increment.factor must be between 1 and 1000".to_string(),
                ));
            }
            if j.enabled && j.logpath.is_empty() && j.journal.is_none() && j.filter != "recidive" {
                return Err(bad(name, "needs `logpath` or `journal`".to_string()));
            }
        }
        Ok(())
    }
}

/// Names that go into nftables set names and metric labels unquoted.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_a_full_config() {
        let text = r#"
            [global]
            backend = "log"
            allow = ["10.0.0.0/8", "2001:db8::/32"]
            ipv6_prefix = 64

            [jail.sshd]
            filter = "sshd"
            mode = "aggressive"
            journal = { units = ["ssh.service"] }
            maxretry = 3
            findtime = "10m"
            bantime = "1h"
            ports = ["ssh"]
            increment = { enabled = true, factor = 2, max = "1w" }

            [jail.api]
            filter = "api-abuse"
            path_prefix = "/ingest"
            logpath = ["/var/log/traefik/access.log"]
            maxretry = 20
            findtime = 60
            bantime = "1h"

            [jail.recidive]
            filter = "recidive"
            bantime = "1w"
        "#;
        let c = GuardConfig::parse(text, Path::new("g.toml")).unwrap();
        assert_eq!(c.global.backend, BackendKind::Log);
        let s = &c.jail["sshd"];
        assert_eq!(s.mode.as_deref(), Some("aggressive"));
        assert_eq!(s.ports, Ports::Some(vec![22]));
        assert_eq!(s.findtime, Duration::from_secs(600));
        assert!(s.increment.enabled);
        assert_eq!(c.jail["api"].findtime, Duration::from_secs(60));
        assert_eq!(c.jail["api"].path_prefix.as_deref(), Some("/ingest"));
        assert_eq!(c.jail["recidive"].ports, Ports::All);
    }

    #[test]
    fn rejects_typos_and_nonsense() {
        let cases = [
            "[jail.sshd]\nfilter = \"sshd\"\nlogpath = [\"/x\"]\nmaxretries = 3\n",
            "[global]\nbackned = \"log\"\n",
            "[jail.sshd]\nfilter = \"sshd\"\nlogpath = [\"/x\"]\nmaxretry = 0\n",
            "[jail.sshd]\nfilter = \"sshd\"\nlogpath = [\"/x\"]\nbantime = \"soon\"\n",
            "[jail.sshd]\nfilter = \"sshd\"\n",
            "[jail.\"bad name\"]\nfilter = \"sshd\"\nlogpath = [\"/x\"]\n",
            "[global]\nallow = [\"10.0.0.0/99\"]\n",
            "[jail.sshd]\nfilter = \"sshd\"\nlogpath = [\"/x\"]\nports = [\"gopher\"]\n",
        ];
        for c in cases {
            assert!(GuardConfig::parse(c, Path::new("g.toml")).is_err(), "{c}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = GuardConfig::parse(&s, Path::new("g.toml"));
            let _ = parse_duration(&s);
        }
    }
}

#[cfg(test)]
mod shipped {
    use super::*;

    #[test]
    fn the_shipped_example_config_loads_and_builds() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist/guard.toml");
        let cfg = GuardConfig::load(&path).unwrap();
        for name in [
            "sshd",
            "apache-auth",
            "traefik-auth",
            "traefik-badbots",
            "api-abuse",
            "web-attacks",
            "postgres-bruteforce",
            "recidive",
        ] {
            assert!(cfg.jail.contains_key(name), "{name}");
        }
        let engine = crate::engine::Engine::from_config(&cfg, &[]).unwrap();
        assert_eq!(engine.jails.len(), 8);
        assert!(engine.jails[engine.index("recidive").unwrap()].watches_bans);
    }
}
