//! fail2ban's jail configuration, assembled as fail2ban-client does it:
//!
//! - files in this order: `jail.conf`, `jail.d/*.conf` (sorted), `jail.local`, `jail.d/*.local`
//!   (sorted); dot files never match;
//! - each file's `[INCLUDES]` `before =` / `after =` files (relative to its directory) read
//!   before / after it, recursively, a file never including itself;
//! - a later file's `[DEFAULT]` options and section options override earlier ones; the value a
//!   section had before is kept as `known/<option>`;
//! - values interpolate `%(name)s` from the section, then `[DEFAULT]`; `%(default/x)s`,
//!   `%(known/x)s` and `%(section/x)s` name where to look; `%%` is a `%`; ten levels at most;
//! - booleans are `1/yes/true/on` and `0/no/false/off`; anything else makes fail2ban fall back to
//!   the option's default (for `enabled`: false).
//!
//! Every value keeps the file and line that set it, and the chain of references that produced
//! it, so rules can point at the line to change. Checked against `fail2ban-client -d` by
//! `tests/fail2ban_oracle.rs`.

use super::ini::{self, IniError, IniFile};
use crate::host::{Host, HostError};
use crate::model::Evidence;
use std::collections::HashMap;
use std::fmt;

pub const DIR: &str = "/etc/fail2ban";

/// Python configparser's MAX_INTERPOLATION_DEPTH.
const MAX_DEPTH: usize = 10;
/// Largest interpolated value rempart builds (references can double a value at each level).
const MAX_VALUE: usize = 1 << 20;
/// Include nesting rempart follows (fail2ban only stops at a file including itself).
const MAX_INCLUDE_DEPTH: usize = 16;

/// An option as set in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub path: String,
    pub line: u32,
    pub text: String,
}

impl Setting {
    pub fn evidence(&self, key: &str) -> Evidence {
        Evidence::file(&self.path)
            .line(self.line)
            .snippet(self.text.trim())
            .key(key)
    }
}

/// A value after interpolation, with the settings it came from: the option itself first, then
/// each option it referred to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub value: String,
    pub trail: Vec<(String, Setting)>,
}

impl Resolved {
    /// Where the option is set for the section asked about.
    pub fn origin(&self) -> &Setting {
        &self.trail[0].1
    }

    /// Evidence: the option's own line and, when it came through references, the line that set
    /// the final value.
    pub fn evidence(&self, key: &str) -> Vec<Evidence> {
        let mut out = vec![self.trail[0].1.evidence(key).actual(self.value.as_str())];
        if let Some((k, last)) = self.trail.last().filter(|_| self.trail.len() > 1) {
            if last != &self.trail[0].1 {
                // `default/backend` is the option `backend` of [DEFAULT].
                let name = k.rsplit('/').next().unwrap_or(k);
                out.push(
                    last.evidence(name)
                        .actual(last.value.as_str())
                        .note(format!("where the jail's `{key}` gets its value")),
                );
            }
        }
        out
    }
}

/// Why the configuration cannot be assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Host(HostError),
    Ini(IniError),
    /// fail2ban reads UTF-8 and skips a file it cannot decode.
    NotUtf8(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Host(e) => write!(f, "{e}"),
            LoadError::Ini(e) => write!(f, "{e} (fail2ban refuses to start with this file)"),
            LoadError::NotUtf8(p) => write!(f, "{p}: not valid UTF-8 (fail2ban skips the file)"),
        }
    }
}

impl LoadError {
    pub fn evidence(&self) -> Evidence {
        match self {
            LoadError::Host(e) => match e {
                HostError::SymlinkLoop { path }
                | HostError::TooLarge { path, .. }
                | HostError::Binary { path, .. }
                | HostError::NotAFile { path, .. }
                | HostError::NotAbsolute { path }
                | HostError::Io { path, .. } => Evidence::file(path),
            },
            LoadError::Ini(e) => Evidence::file(&e.path).line(e.line),
            LoadError::NotUtf8(p) => Evidence::file(p),
        }
    }
}

/// An interpolation fail2ban would stop at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpError {
    pub message: String,
    pub setting: Setting,
}

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.setting.path, self.setting.line, self.message
        )
    }
}

/// The merged jail configuration.
#[derive(Debug, Clone, Default)]
pub struct Fail2banConfig {
    /// Files read, in order.
    pub files: Vec<String>,
    defaults: HashMap<String, Setting>,
    sections: HashMap<String, HashMap<String, Setting>>,
}

/// The jail files fail2ban-client reads, in its order, that exist on the host.
fn jail_files(host: &Host) -> Result<Vec<String>, HostError> {
    let mut out = Vec::new();
    let dropins = host.read_dir(&format!("{DIR}/jail.d"))?.unwrap_or_default();
    for ext in [".conf", ".local"] {
        let main = format!("{DIR}/jail{ext}");
        if host.exists(&main) {
            out.push(main);
        }
        for n in &dropins {
            if n.ends_with(ext) && !n.starts_with('.') {
                out.push(format!("{DIR}/jail.d/{n}"));
            }
        }
    }
    Ok(out)
}

/// Load fail2ban's jail configuration. `Ok(None)` when the host has none.
pub fn load(host: &Host) -> Result<Option<Fail2banConfig>, LoadError> {
    let files = jail_files(host).map_err(LoadError::Host)?;
    if files.is_empty() {
        return Ok(None);
    }
    let mut cache: HashMap<String, Option<IniFile>> = HashMap::new();
    let mut read = |path: &str| -> Result<Option<IniFile>, LoadError> {
        if let Some(c) = cache.get(path) {
            return Ok(c.clone());
        }
        let parsed = match host.read_text(path).map_err(LoadError::Host)? {
            None => None,
            Some(f) if f.lossy => return Err(LoadError::NotUtf8(path.to_string())),
            Some(f) => Some(ini::parse(path, &f.text).map_err(LoadError::Ini)?),
        };
        cache.insert(path.to_string(), parsed.clone());
        Ok(parsed)
    };
    let mut order = Vec::new();
    for f in &files {
        expand(f, &[], &mut read, &mut order, 0)?;
    }
    let mut cfg = Fail2banConfig::default();
    for path in order {
        if let Some(file) = read(&path)? {
            cfg.merge(&file);
            cfg.files.push(path);
        }
    }
    Ok(Some(cfg))
}

/// A file with its `[INCLUDES]`: `before` files, the file, `after` files.
fn expand(
    path: &str,
    seen: &[String],
    read: &mut dyn FnMut(&str) -> Result<Option<IniFile>, LoadError>,
    out: &mut Vec<String>,
    depth: usize,
) -> Result<(), LoadError> {
    let Some(file) = read(path)? else {
        return Ok(());
    };
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    let mut trail = seen.to_vec();
    trail.push(path.to_string());
    let includes = file.section("INCLUDES");
    let list = |key: &str| -> Vec<String> {
        includes
            .and_then(|s| s.get(key))
            .map(|o| {
                o.value
                    .split('\n')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|r| {
                        if r.starts_with('/') {
                            r.to_string()
                        } else {
                            format!("{dir}/{r}")
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (before, after) = (list("before"), list("after"));
    for r in &before {
        if !seen.contains(r) && depth < MAX_INCLUDE_DEPTH {
            expand(r, &trail, read, out, depth + 1)?;
        }
    }
    out.push(path.to_string());
    for r in &after {
        if !seen.contains(r) && depth < MAX_INCLUDE_DEPTH {
            expand(r, &trail, read, out, depth + 1)?;
        }
    }
    Ok(())
}

impl Fail2banConfig {
    /// Merge already parsed files in the order given (no includes are followed).
    pub fn from_files(files: &[IniFile]) -> Fail2banConfig {
        let mut cfg = Fail2banConfig::default();
        for f in files {
            cfg.merge(f);
            cfg.files.push(f.path.clone());
        }
        cfg
    }

    fn merge(&mut self, file: &IniFile) {
        for sec in &file.sections {
            let settings = sec.options.iter().map(|o| {
                (
                    o.key.clone(),
                    Setting {
                        value: o.value.clone(),
                        path: file.path.clone(),
                        line: o.line,
                        text: o.text.clone(),
                    },
                )
            });
            if sec.name == "DEFAULT" {
                self.defaults.extend(settings);
                continue;
            }
            // `[sshd?family=inet6]`: options of `sshd` that apply under a condition.
            let (name, cond) = match sec.name.split_once('?') {
                Some((n, c))
                    if !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_') =>
                {
                    (n.to_string(), format!("?{c}"))
                }
                _ => (sec.name.clone(), String::new()),
            };
            let settings: Vec<(String, Setting)> =
                settings.map(|(k, v)| (format!("{k}{cond}"), v)).collect();
            if let Some(old) = self.sections.get(&name).cloned() {
                self.sections
                    .entry(format!("KNOWN/{name}"))
                    .or_default()
                    .extend(old);
            }
            self.sections.entry(name).or_default().extend(settings);
        }
    }

    /// Sections that are jails (everything but INCLUDES and the known/ shadows).
    pub fn jails(&self) -> impl Iterator<Item = &str> {
        self.sections
            .keys()
            .map(String::as_str)
            .filter(|s| *s != "INCLUDES" && !s.starts_with("KNOWN/"))
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.sections.contains_key(name)
    }

    /// The raw setting of an option in a section (or from `[DEFAULT]`).
    fn raw(&self, section: &str, key: &str) -> Option<&Setting> {
        self.sections
            .get(section)
            .and_then(|s| s.get(key))
            .or_else(|| self.defaults.get(key))
    }

    /// An option's value in a section, interpolated. `Ok(None)` when it is not set at all.
    pub fn get(&self, section: &str, key: &str) -> Result<Option<Resolved>, InterpError> {
        let Some(s) = self.raw(section, key) else {
            return Ok(None);
        };
        let mut trail = vec![(key.to_string(), s.clone())];
        let mut out = String::new();
        self.interpolate(&s.value, section, s, 1, &mut out, &mut trail)?;
        Ok(Some(Resolved { value: out, trail }))
    }

    fn lookup(&self, section: &str, name: &str) -> Option<Setting> {
        if name == "__name__" {
            return Some(Setting {
                value: section.to_string(),
                path: String::new(),
                line: 0,
                text: String::new(),
            });
        }
        if let Some((sec, opt)) = name.split_once('/') {
            let valid_sec = !sec.is_empty()
                && sec
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
            if valid_sec && !opt.is_empty() && !opt.contains(char::is_whitespace) {
                let from_defaults = || self.defaults.get(opt).cloned();
                return match sec.to_ascii_lowercase().as_str() {
                    "default" => from_defaults(),
                    "known" => self
                        .sections
                        .get(&format!("KNOWN/{section}"))
                        .and_then(|s| s.get(opt))
                        .cloned()
                        .or_else(from_defaults),
                    _ => match self.sections.get(sec) {
                        Some(s) => s.get(opt).cloned().or_else(from_defaults),
                        None => None,
                    },
                };
            }
        }
        self.raw(section, name).cloned()
    }

    fn interpolate(
        &self,
        mut rest: &str,
        section: &str,
        from: &Setting,
        depth: usize,
        out: &mut String,
        trail: &mut Vec<(String, Setting)>,
    ) -> Result<(), InterpError> {
        let fail = |message: String| InterpError {
            message,
            setting: from.clone(),
        };
        if depth > MAX_DEPTH {
            return Err(fail(format!(
                "interpolation nested more than {MAX_DEPTH} levels (a reference loop?)"
            )));
        }
        while let Some(p) = rest.find('%') {
            out.push_str(&rest[..p]);
            rest = &rest[p..];
            if let Some(after) = rest.strip_prefix("%%") {
                out.push('%');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("%(") {
                let Some(end) = after.find(')') else {
                    return Err(fail(format!(
                        "bad interpolation variable reference `{rest}`"
                    )));
                };
                if end == 0 || !after[end + 1..].starts_with('s') {
                    return Err(fail(format!(
                        "bad interpolation variable reference `{rest}`"
                    )));
                }
                let name = after[..end].to_lowercase();
                rest = &after[end + 2..];
                let Some(v) = self.lookup(section, &name) else {
                    return Err(fail(format!(
                        "`%({name})s` refers to an option set nowhere (section [{section}] or [DEFAULT])"
                    )));
                };
                trail.push((name, v.clone()));
                if out.len() + v.value.len() > MAX_VALUE {
                    return Err(fail(format!(
                        "the interpolated value grows past {MAX_VALUE} bytes"
                    )));
                }
                if v.value.contains('%') {
                    self.interpolate(&v.value, section, &v, depth + 1, out, trail)?;
                } else {
                    out.push_str(&v.value);
                }
            } else {
                return Err(fail(format!(
                    "'%' must be followed by '%' or '(', found `{rest}`"
                )));
            }
        }
        out.push_str(rest);
        Ok(())
    }
}

/// What fail2ban makes of one jail: the options the intrusion rules judge.
#[derive(Debug, Clone)]
pub struct Jail {
    pub name: String,
    /// `enabled`, when set anywhere.
    pub enabled: Option<Resolved>,
    pub backend: Option<Resolved>,
    pub logpath: Option<Resolved>,
    pub action: Option<Resolved>,
    pub banaction: Option<Resolved>,
}

impl Jail {
    /// fail2ban's reading of `enabled`: a boolean, else the default, false.
    pub fn is_enabled(&self) -> bool {
        self.enabled
            .as_ref()
            .and_then(|e| ini::boolean(&e.value))
            .unwrap_or(false)
    }

    /// The backend's name (`systemd[journalflags=1]` -> `systemd`); fail2ban's default is auto.
    pub fn backend_name(&self) -> String {
        self.backend
            .as_ref()
            .map(|b| {
                b.value
                    .split('[')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "auto".to_string())
    }

    /// Log files named by `logpath` (one per line, ` head`/` tail` options removed).
    pub fn logpaths(&self) -> Vec<String> {
        let Some(lp) = &self.logpath else {
            return Vec::new();
        };
        lp.value
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| match l.rsplit_once(char::is_whitespace) {
                Some((p, opt)) if opt == "head" || opt == "tail" => p.trim().to_string(),
                _ => l.to_string(),
            })
            .collect()
    }

    /// Action names of `action` (`nftables-multiport[port="ssh", ...]` -> `nftables-multiport`).
    pub fn action_names(&self) -> Vec<String> {
        let Some(a) = &self.action else {
            return Vec::new();
        };
        split_actions(&a.value)
    }
}

/// Split an interpolated `action` value into action names: one per line, or several on a line
/// after a `]`.
pub fn split_actions(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut name = String::new();
    let mut in_quote: Option<char> = None;
    for c in value.chars() {
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if depth > 0 => in_quote = Some(c),
            (None, '[') => {
                depth += 1;
            }
            (None, ']') => {
                depth = depth.saturating_sub(1);
                if depth == 0 && !name.trim().is_empty() {
                    out.push(name.trim().to_string());
                    name.clear();
                }
            }
            (None, c) if depth == 0 => {
                if c.is_whitespace() {
                    if !name.trim().is_empty() {
                        out.push(name.trim().to_string());
                        name.clear();
                    }
                } else {
                    name.push(c);
                }
            }
            _ => {}
        }
    }
    if !name.trim().is_empty() {
        out.push(name.trim().to_string());
    }
    out
}

impl Fail2banConfig {
    /// The options of one jail the rules judge.
    pub fn jail(&self, name: &str) -> Result<Jail, InterpError> {
        Ok(Jail {
            name: name.to_string(),
            enabled: self.get(name, "enabled")?,
            backend: self.get(name, "backend")?,
            logpath: self.get(name, "logpath")?,
            action: self.get(name, "action")?,
            banaction: self.get(name, "banaction")?,
        })
    }
}

#[cfg(test)]
mod tests;
