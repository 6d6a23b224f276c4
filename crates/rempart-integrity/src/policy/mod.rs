//! What to watch and how: the policy. A [`Policy`] is a list of rules (a path, the attributes
//! to record, include/exclude globs) plus global excludes and the hash algorithm. It is written
//! by people in `/etc/rempart/integrity.toml` ([`IntegrityConfig`]), built in for hosts with no
//! configuration ([`default_policy`]), embedded verbatim in every baseline (so a check judges
//! with the policy the baseline was recorded with, whatever has happened to the configuration
//! file since), and compiled into matchers for the scanner ([`CompiledPolicy`]).
//!
//! It does not touch the file system: expanding `/home/*/.ssh` against a tree is the scanner's.

mod compiled;
mod config;
mod defaults;

pub use compiled::{CompiledPolicy, CompiledRule, PathComponent};
pub use config::{
    IntegrityConfig, DEFAULT_BASELINE, DEFAULT_CONFIG, DEFAULT_KEY, DEFAULT_MAX_BASELINE_AGE_DAYS,
    DEFAULT_MAX_CHECK_AGE_DAYS,
};
pub use defaults::{app_rule, default_policy, DEFAULT_APP_DIRS, DEFAULT_EXCLUDES};

use crate::hash::HashAlgo;
use serde::{Deserialize, Serialize};

/// A policy: the hash algorithm, global excludes and rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Content hash: `blake3` (default), `sha256` or `sha512`.
    #[serde(default)]
    pub hash: HashAlgo,
    /// Absolute host-path globs never recorded by any rule (a matching directory is not
    /// walked), unless a rule names the path itself. `*` stops at `/`, `**` crosses it.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The rules. The most specific one (longest path) governs each path; for the same path,
    /// the later rule wins.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// One rule: a path and what to record beneath it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Absolute host path of a directory (watched recursively) or a single file. A component
    /// may hold glob characters: `/home/*/.ssh`.
    pub path: String,
    /// What to record: the presets `content` (everything, content hash included; the default)
    /// and `perms` (type, mode, owner, group, ACLs), attribute names (`type`, `mode`, `owner`,
    /// `group`, `size`, `mtime`, `ctime`, `inode`, `links`, `target`, `xattrs`, `acl`, `hash`),
    /// and `-name` to leave one out.
    #[serde(default = "content")]
    pub attrs: Vec<String>,
    /// Globs relative to `path`: when any is given, only matching paths are recorded
    /// (directories are still walked to find them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Globs relative to `path` (`*.log`, `cache`, `**/tmp`): not recorded, and a matching
    /// directory is not walked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Walk a directory's contents (true, the default) or record the path alone (false).
    #[serde(default = "yes")]
    pub recurse: bool,
}

fn content() -> Vec<String> {
    vec!["content".to_string()]
}

fn yes() -> bool {
    true
}

impl RuleSpec {
    /// A recursive rule with these attributes.
    pub fn new(path: &str, attrs: &[&str]) -> RuleSpec {
        RuleSpec {
            path: path.to_string(),
            attrs: attrs.iter().map(|s| s.to_string()).collect(),
            include: Vec::new(),
            exclude: Vec::new(),
            recurse: true,
        }
    }

    #[must_use]
    pub fn excluding(mut self, globs: &[&str]) -> RuleSpec {
        self.exclude.extend(globs.iter().map(|s| s.to_string()));
        self
    }
}

/// A policy that cannot be used, with the place and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{source_name}: {message}")]
    Parse {
        source_name: String,
        message: String,
    },
    #[error("rule {path:?}: {message}")]
    Rule { path: String, message: String },
    #[error("exclude {glob:?}: {message}")]
    Exclude { glob: String, message: String },
}

impl Policy {
    /// The canonical text of the policy (TOML), as embedded in baselines.
    pub fn to_toml(&self) -> String {
        // Serializing plain strings, booleans and an enum cannot fail.
        toml::to_string(self).unwrap_or_default()
    }

    /// Parse a policy's canonical text (from a baseline). `source_name` is used in messages.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Policy, PolicyError> {
        toml::from_str(text).map_err(|e| PolicyError::Parse {
            source_name: source_name.to_string(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// BLAKE3 of the canonical text: two policies with the same digest record the same things.
    pub fn digest(&self) -> [u8; 32] {
        *blake3::hash(self.to_toml().as_bytes()).as_bytes()
    }

    /// Check every path, glob and attribute name and build the matchers.
    pub fn compile(&self) -> Result<CompiledPolicy, PolicyError> {
        CompiledPolicy::new(self.clone())
    }
}

#[cfg(test)]
mod tests;
