//! fail2ban's configuration syntax (Python `ConfigParser` as fail2ban uses it): `[section]`,
//! `key = value` or `key: value`, values continued on indented lines, `#` / `;` comment lines,
//! `[INCLUDES] before = / after =` (resolved beside the including file, `.local` overriding
//! `.conf`), `%(name)s` interpolation within a section and from `[DEFAULT]`, and
//! `%(known/name)s` for the value an earlier file gave. Every value remembers the file and line
//! of each of its lines, so errors can point at them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a line of a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line.
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A value: its text lines, each with its origin.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Value {
    /// The lines (the first is what followed `=`).
    pub lines: Vec<(String, Origin)>,
}

impl Value {
    /// The value as one string, lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A section: keys (lowercased) to values, plus the values they replaced (for `known/`).
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// Current values.
    pub values: BTreeMap<String, Value>,
    /// Values replaced by a later file, by key (the latest replaced one).
    pub known: BTreeMap<String, Value>,
}

/// A parsed configuration: sections by name.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Sections by name (as written; `DEFAULT` is the defaults section).
    pub sections: BTreeMap<String, Section>,
}

/// A configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IniError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line is not valid syntax.
    #[error("{origin}: {message}")]
    Syntax { origin: Origin, message: String },
    /// `%(name)s` names a key that does not exist, or loops.
    #[error("{origin}: {message}")]
    Interpolation { origin: Origin, message: String },
}

const MAX_FILE: u64 = 4 << 20;
const MAX_INCLUDE_DEPTH: usize = 16;

/// One file's sections in order, each with its entries in order.
pub type Parsed = Vec<(String, Vec<(String, Value)>)>;

/// Parses one file's text (no includes resolved).
pub fn parse(text: &str, file: &Path) -> Result<Parsed, IniError> {
    let mut out: Parsed = Vec::new();
    let mut current: Option<(String, Value)> = None;
    for (i, raw) in text.lines().enumerate() {
        let origin = Origin {
            file: file.to_path_buf(),
            line: i + 1,
        };
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if trimmed.is_empty() {
            continue;
        }
        if indented {
            if let Some((_, v)) = current.as_mut() {
                v.lines.push((trimmed.to_string(), origin));
                continue;
            }
        }
        if let Some((k, v)) = current.take() {
            if let Some((_, entries)) = out.last_mut() {
                entries.push((k, v));
            }
        }
        if let Some(name) = trimmed.strip_prefix('[') {
            let Some(name) = name.strip_suffix(']') else {
                return Err(IniError::Syntax {
                    origin,
                    message: format!("section header `{trimmed}` is not closed"),
                });
            };
            out.push((name.trim().to_string(), Vec::new()));
            continue;
        }
        let sep = match (trimmed.find('='), trimmed.find(':')) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => {
                return Err(IniError::Syntax {
                    origin,
                    message: format!("`{trimmed}` is neither `key = value` nor a section"),
                })
            }
        };
        if out.is_empty() {
            return Err(IniError::Syntax {
                origin,
                message: "a value before any [section]".to_string(),
            });
        }
        let key = trimmed[..sep].trim().to_ascii_lowercase();
        let val = trimmed[sep + 1..].trim().to_string();
        current = Some((
            key,
            Value {
                lines: vec![(val, origin)],
            },
        ));
    }
    if let Some((k, v)) = current.take() {
        if let Some((_, entries)) = out.last_mut() {
            entries.push((k, v));
        }
    }
    Ok(out)
}

impl Config {
    /// Reads `path` with its `[INCLUDES]` (before, itself, after) and a `.local` beside it.
    pub fn load(path: &Path) -> Result<Config, IniError> {
        let mut cfg = Config::default();
        cfg.load_into(path, 0)?;
        if path.extension().is_some_and(|e| e == "conf") {
            let local = path.with_extension("local");
            if local.is_file() {
                cfg.load_into(&local, 0)?;
            }
        }
        Ok(cfg)
    }

    fn load_into(&mut self, path: &Path, depth: usize) -> Result<(), IniError> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(IniError::Syntax {
                origin: Origin {
                    file: path.to_path_buf(),
                    line: 1,
                },
                message: "includes nest too deep (a loop?)".to_string(),
            });
        }
        let text = read_bounded(path)?;
        let parsed = parse(&text, path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let includes = |key: &str| -> Vec<PathBuf> {
            parsed
                .iter()
                .filter(|(s, _)| s.eq_ignore_ascii_case("INCLUDES"))
                .flat_map(|(_, e)| e.iter())
                .filter(|(k, _)| k == key)
                .flat_map(|(_, v)| v.lines.iter().flat_map(|(l, _)| l.split_whitespace()))
                .map(|f| dir.join(f))
                .collect()
        };
        for inc in includes("before") {
            self.load_include(&inc, depth)?;
        }
        for (section, entries) in &parsed {
            if section.eq_ignore_ascii_case("INCLUDES") {
                continue;
            }
            let s = self.sections.entry(section.clone()).or_default();
            for (k, v) in entries {
                if let Some(old) = s.values.insert(k.clone(), v.clone()) {
                    s.known.insert(k.clone(), old);
                }
            }
        }
        for inc in includes("after") {
            self.load_include(&inc, depth)?;
        }
        Ok(())
    }

    fn load_include(&mut self, inc: &Path, depth: usize) -> Result<(), IniError> {
        // `X.conf` reads X.conf then X.local; `X.local` reads only X.local. A missing include
        // is skipped, as fail2ban does.
        let files = if inc.extension().is_some_and(|e| e == "local") {
            vec![inc.to_path_buf()]
        } else {
            vec![inc.to_path_buf(), inc.with_extension("local")]
        };
        for p in files {
            if p.is_file() {
                self.load_into(&p, depth + 1)?;
            }
        }
        Ok(())
    }

    /// The raw value of `key` in `section`, else in `[DEFAULT]`.
    pub fn raw(&self, section: &str, key: &str) -> Option<&Value> {
        self.sections
            .get(section)
            .and_then(|s| s.values.get(key))
            .or_else(|| self.sections.get("DEFAULT").and_then(|s| s.values.get(key)))
    }

    /// The value of `key` in `section` with `%(name)s` interpolated; each resulting line keeps
    /// the origin of the line it came from.
    pub fn get(&self, section: &str, key: &str) -> Result<Option<Value>, IniError> {
        let Some(v) = self.raw(section, key) else {
            return Ok(None);
        };
        let mut out = Value::default();
        for (line, origin) in &v.lines {
            let text = self.interpolate(section, line, origin, 0)?;
            for l in text.split('\n') {
                out.lines.push((l.to_string(), origin.clone()));
            }
        }
        Ok(Some(out))
    }

    fn interpolate(
        &self,
        section: &str,
        s: &str,
        origin: &Origin,
        depth: usize,
    ) -> Result<String, IniError> {
        if depth > 32 {
            return Err(IniError::Interpolation {
                origin: origin.clone(),
                message: "interpolation loops".to_string(),
            });
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find("%(") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find(")s") else {
                out.push_str(&rest[i..]);
                rest = "";
                break;
            };
            let name = after[..end].to_ascii_lowercase();
            let value = if let Some(k) = name.strip_prefix("known/") {
                self.sections
                    .get(section)
                    .and_then(|s| s.known.get(k))
                    .or_else(|| self.sections.get("DEFAULT").and_then(|s| s.known.get(k)))
                    .map(Value::text)
                    .unwrap_or_default()
            } else if let Some((sec, k)) = name.split_once('/') {
                match self.raw(sec, k) {
                    Some(v) => self.interpolate(sec, &v.text(), origin, depth + 1)?,
                    None => {
                        return Err(IniError::Interpolation {
                            origin: origin.clone(),
                            message: format!("`%({name})s` names no value"),
                        })
                    }
                }
            } else {
                match self.raw(section, &name) {
                    Some(v) => v.text(),
                    None => {
                        return Err(IniError::Interpolation {
                            origin: origin.clone(),
                            message: format!(
                                "`%({name})s` names no value in [{section}] or [DEFAULT]"
                            ),
                        })
                    }
                }
            };
            out.push_str(&self.interpolate(section, &value, origin, depth + 1)?);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `%%` in a value means `%`.
pub fn unescape_percent(s: &str) -> String {
    s.replace("%%", "%")
}

fn read_bounded(path: &Path) -> Result<String, IniError> {
    use std::io::Read;
    let err = |source| IniError::Read {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(err)?;
    let mut buf = Vec::new();
    f.take(MAX_FILE).read_to_end(&mut buf).map_err(err)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sections_continuations_comments() {
        let text = "[Definition]\n# c\nfailregex = ^a <HOST>$\n            ^b <HOST>$\n; c\nignoreregex =\n[Init]\nmaxlines: 1\n";
        let p = parse(text, Path::new("f.conf")).unwrap();
        assert_eq!(p.len(), 2);
        let (_, defs) = &p[0];
        assert_eq!(defs[0].0, "failregex");
        assert_eq!(defs[0].1.lines.len(), 2);
        assert_eq!(defs[0].1.lines[1].1.line, 4);
        assert_eq!(defs[1].1.text(), "");
        assert_eq!(p[1].1[0].1.text(), "1");
    }

    #[test]
    fn includes_and_interpolation() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("common.conf"),
            "[DEFAULT]\n_daemon = \\S*\nprefix = ^%(_daemon)s:\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("f.conf"),
            "[INCLUDES]\nbefore = common.conf\n[Definition]\n_daemon = myd\nfailregex = %(prefix)s fail <HOST>\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("f.local"),
            "[Definition]\nfailregex = %(known/failregex)s\n            %(prefix)s bad <HOST>\n",
        )
        .unwrap();
        let c = Config::load(&dir.path().join("f.conf")).unwrap();
        let v = c.get("Definition", "failregex").unwrap().unwrap();
        let lines: Vec<_> = v.lines.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(lines, vec!["^myd: fail <HOST>", "^myd: bad <HOST>"]);
    }

    #[test]
    fn interpolation_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f.conf");
        std::fs::write(&f, "[Definition]\n\nfailregex = %(nope)s <HOST>\n").unwrap();
        let c = Config::load(&f).unwrap();
        let e = c.get("Definition", "failregex").unwrap_err().to_string();
        assert!(e.contains("f.conf:3"), "{e}");
        std::fs::write(&f, "[Definition]\nfailregex = %(a)s\na = %(failregex)s\n").unwrap();
        let c = Config::load(&f).unwrap();
        assert!(c.get("Definition", "failregex").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "(\\PC|\n){0,300}") {
            let _ = parse(&s, Path::new("x.conf"));
        }
    }
}
