//! The finding model shared by every rule and every renderer: severities, security levels,
//! families, statuses and evidence. Nothing here reads the host.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a failing rule is. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Weight of a rule of this severity in the 0-100 score.
    pub fn weight(self) -> u32 {
        match self {
            Severity::Info => 0,
            Severity::Low => 1,
            Severity::Medium => 3,
            Severity::High => 6,
            Severity::Critical => 10,
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The security levels of the seed guide `000` ("Recommandations selon le contexte"):
/// test/dev, PME/startup, entreprise, infrastructure critique. A rule is required from one
/// level upward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Dev,
    Sme,
    Enterprise,
    Critical,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Dev, Level::Sme, Level::Enterprise, Level::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Dev => "dev",
            Level::Sme => "sme",
            Level::Enterprise => "enterprise",
            Level::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    pub fn next(self) -> Option<Level> {
        match self {
            Level::Dev => Some(Level::Sme),
            Level::Sme => Some(Level::Enterprise),
            Level::Enterprise => Some(Level::Critical),
            Level::Critical => None,
        }
    }

    /// A human description, as the seed guide names the level.
    pub fn describe(self) -> &'static str {
        match self {
            Level::Dev => "test / development",
            Level::Sme => "SME / startup (standard data)",
            Level::Enterprise => "enterprise (sensitive data)",
            Level::Critical => "critical / regulated infrastructure",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Rule families, in documentation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ssh,
    Kernel,
    Accounts,
    Files,
    Updates,
    Firewall,
    Intrusion,
    Services,
    Web,
    Database,
    App,
    Containers,
    Encryption,
    Backup,
    Logging,
    Integrity,
}

impl Family {
    pub const ALL: [Family; 16] = [
        Family::Ssh,
        Family::Kernel,
        Family::Accounts,
        Family::Files,
        Family::Updates,
        Family::Firewall,
        Family::Intrusion,
        Family::Services,
        Family::Web,
        Family::Database,
        Family::App,
        Family::Containers,
        Family::Encryption,
        Family::Backup,
        Family::Logging,
        Family::Integrity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ssh => "ssh",
            Family::Kernel => "kernel",
            Family::Accounts => "accounts",
            Family::Files => "files",
            Family::Updates => "updates",
            Family::Firewall => "firewall",
            Family::Intrusion => "intrusion",
            Family::Services => "services",
            Family::Web => "web",
            Family::Database => "database",
            Family::App => "app",
            Family::Containers => "containers",
            Family::Encryption => "encryption",
            Family::Backup => "backup",
            Family::Logging => "logging",
            Family::Integrity => "integrity",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Family::Ssh => "SSH server",
            Family::Kernel => "Kernel parameters",
            Family::Accounts => "Accounts",
            Family::Files => "File permissions and secrets",
            Family::Updates => "Security updates",
            Family::Firewall => "Firewall",
            Family::Intrusion => "Intrusion prevention",
            Family::Services => "Services",
            Family::Web => "Web servers and reverse proxies",
            Family::Database => "Databases",
            Family::App => "Applications",
            Family::Containers => "Containers",
            Family::Encryption => "Encryption at rest",
            Family::Backup => "Backups",
            Family::Logging => "Logging",
            Family::Integrity => "File integrity",
        }
    }

    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The verdict of one rule on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// The rule could not or need not be judged here (not applicable, needs live facts, ignored).
    Skip,
    /// The rule tried and could not read or parse what it needed.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A value seen or wanted, as the JSON schema allows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Str(s.clone())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(i64::from(n))
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}

/// Where a rule looked and what it saw. A failing rule names at least one place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Absolute path as seen on the target host (never prefixed by `--root`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// A non-file source: `socket`, `process`, `nftables`, `proc`, `http`, `default` ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The URL a response came from (`rempart probe`, with `source: "http"` or `"tls"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The text of the offending line, for compiler-style diagnostics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// A short remark on this piece of evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Evidence {
    /// Evidence read from a file.
    pub fn file(path: impl Into<String>) -> Evidence {
        Evidence {
            path: Some(path.into()),
            ..Evidence::default()
        }
    }

    /// Evidence from a non-file source (`default`, `proc`, `socket` ...).
    pub fn source(source: impl Into<String>) -> Evidence {
        Evidence {
            source: Some(source.into()),
            ..Evidence::default()
        }
    }

    pub fn line(mut self, line: u32) -> Self {
        self.line = Some(line);
        self
    }
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
    pub fn actual(mut self, v: impl Into<Value>) -> Self {
        self.actual = Some(v.into());
        self
    }
    pub fn expected(mut self, v: impl Into<Value>) -> Self {
        self.expected = Some(v.into());
        self
    }
    pub fn snippet(mut self, text: impl Into<String>) -> Self {
        self.snippet = Some(text.into());
        self
    }
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.note = Some(text.into());
        self
    }
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Where it was seen, for one-line renderings: `path:line`, the URL, or `(source)`.
    pub fn place(&self) -> String {
        match (&self.path, self.line, &self.url, &self.source) {
            (Some(p), Some(l), _, _) => format!("{p}:{l}"),
            (Some(p), None, _, _) => p.clone(),
            (None, _, Some(u), _) => u.clone(),
            (None, _, None, Some(s)) => format!("({s})"),
            (None, _, None, None) => String::new(),
        }
    }
}
