//! A policy checked and turned into matchers: normalised rule paths, glob sets, attribute masks.

use super::{Policy, PolicyError};
use crate::attrs::{AttrSet, RuleAttrs};
use crate::entry::Kind;
use crate::hash::HashAlgo;
use crate::hostpath;
use globset::{GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// One component of a rule path: a literal name, or a glob (`*` in `/home/*/.ssh`).
#[derive(Debug, Clone)]
pub enum PathComponent {
    Literal(Vec<u8>),
    Glob(GlobMatcher),
}

impl PathComponent {
    pub fn matches(&self, name: &[u8]) -> bool {
        match self {
            PathComponent::Literal(l) => l == name,
            PathComponent::Glob(g) => g.is_match(as_path(name)),
        }
    }
}

/// A rule, compiled.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// The normalised path as written (may hold glob characters).
    pub path: Vec<u8>,
    /// Its components, for expanding globs against the tree.
    pub components: Vec<PathComponent>,
    pub attrs: RuleAttrs,
    pub recurse: bool,
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl CompiledRule {
    /// True when a component of the path is a glob.
    pub fn has_glob(&self) -> bool {
        self.components
            .iter()
            .any(|c| matches!(c, PathComponent::Glob(_)))
    }

    /// Whether a path at `rel` beneath the rule's root passes the rule's includes. The root
    /// itself (`rel` empty) always does.
    pub fn includes(&self, rel: &[u8]) -> bool {
        rel.is_empty()
            || self
                .include
                .as_ref()
                .is_none_or(|g| g.is_match(as_path(rel)))
    }

    /// Whether a path at `rel` beneath the rule's root is excluded by the rule.
    pub fn excludes(&self, rel: &[u8]) -> bool {
        !rel.is_empty() && self.exclude.is_match(as_path(rel))
    }

    /// The attributes recorded for an entry of this kind.
    pub fn attrs_for(&self, kind: Kind) -> AttrSet {
        let mut s = if kind == Kind::Dir {
            self.attrs.dirs
        } else {
            self.attrs.files
        };
        if kind != Kind::File {
            s = s.without(crate::attrs::Attr::Hash);
        }
        if kind != Kind::Symlink {
            s = s.without(crate::attrs::Attr::Target);
        }
        s
    }
}

/// A policy ready for the scanner.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    policy: Policy,
    digest: [u8; 32],
    rules: Vec<CompiledRule>,
    exclude: GlobSet,
    runtime_excludes: Vec<Vec<u8>>,
}

fn as_path(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

fn glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn is_glob(component: &str) -> bool {
    component.contains(['*', '?', '[', '{'])
}

/// `/a//b/` -> `/a/b`; relative paths, `.` and `..` are refused.
fn normalise(path: &str) -> Result<(Vec<u8>, Vec<String>), String> {
    if !path.starts_with('/') {
        return Err("must be an absolute path".into());
    }
    let mut comps = Vec::new();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        if c == "." || c == ".." {
            return Err("`.` and `..` are not allowed in a rule path".into());
        }
        comps.push(c.to_string());
    }
    let norm = format!("/{}", comps.join("/"));
    Ok((norm.into_bytes(), comps))
}

impl CompiledPolicy {
    pub fn new(policy: Policy) -> Result<CompiledPolicy, PolicyError> {
        let mut rules: Vec<CompiledRule> = Vec::new();
        for spec in &policy.rules {
            let err = |message: String| PolicyError::Rule {
                path: spec.path.clone(),
                message,
            };
            let (path, comps) = normalise(&spec.path).map_err(err)?;
            let mut components = Vec::new();
            for c in &comps {
                components.push(if is_glob(c) {
                    PathComponent::Glob(glob(c).map_err(|e| err(e.to_string()))?.compile_matcher())
                } else {
                    PathComponent::Literal(c.as_bytes().to_vec())
                });
            }
            let attrs = RuleAttrs::parse(&spec.attrs).map_err(err)?;
            let set = |globs: &[String], what: &str| -> Result<GlobSet, PolicyError> {
                let mut b = GlobSetBuilder::new();
                for g in globs {
                    if g.starts_with('/') {
                        return Err(err(format!(
                            "{what} {g:?} must be relative to the rule path (global excludes \
                             are absolute)"
                        )));
                    }
                    b.add(glob(g).map_err(|e| err(format!("{what} {g:?}: {e}")))?);
                }
                b.build().map_err(|e| err(e.to_string()))
            };
            let include = if spec.include.is_empty() {
                None
            } else {
                Some(set(&spec.include, "include")?)
            };
            let exclude = set(&spec.exclude, "exclude")?;
            let rule = CompiledRule {
                path,
                components,
                attrs,
                recurse: spec.recurse,
                include,
                exclude,
            };
            // For the same path, the later rule wins.
            rules.retain(|r| r.path != rule.path);
            rules.push(rule);
        }
        let mut b = GlobSetBuilder::new();
        for g in &policy.exclude {
            let e = |message: String| PolicyError::Exclude {
                glob: g.clone(),
                message,
            };
            if !(g.starts_with('/') || g.starts_with("**")) {
                return Err(e(
                    "a global exclude is an absolute host-path glob (or starts with **)".into(),
                ));
            }
            b.add(glob(g).map_err(|x| e(x.to_string()))?);
        }
        let exclude = b.build().map_err(|x| PolicyError::Exclude {
            glob: String::new(),
            message: x.to_string(),
        })?;
        Ok(CompiledPolicy {
            digest: policy.digest(),
            policy,
            rules,
            exclude,
            runtime_excludes: Vec::new(),
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// See [`Policy::digest`].
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    pub fn algo(&self) -> HashAlgo {
        self.policy.hash
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Also skip this exact host path (and what lies beneath it) in scans: the baseline, its
    /// check record and the key when they sit inside a watched tree. Not part of the digest.
    pub fn exclude_at_runtime(&mut self, host_path: &[u8]) {
        self.runtime_excludes.push(host_path.to_vec());
    }

    /// Whether a host path is excluded by the global excludes.
    pub fn excluded(&self, path: &[u8]) -> bool {
        self.runtime_excludes
            .iter()
            .any(|x| hostpath::is_within(path, x))
            || self.exclude.is_match(as_path(path))
    }
}
