//! PostgreSQL's `postgresql.conf` syntax: `name = value` (the `=` is optional), `#` comments,
//! single-quoted values with `''` and backslash escapes, and the `include`, `include_if_exists`
//! and `include_dir` directives (relative paths are relative to the including file; a directory
//! contributes its `*.conf` files not starting with `.`, in byte order). The last value set wins,
//! and `postgresql.auto.conf` in the data directory (`ALTER SYSTEM`) is read after everything.
//! Setting names are case-insensitive and kept lowercased.

use super::ConfError;
use crate::host::Host;
use std::collections::HashMap;

/// PostgreSQL stops following includes at this depth (`CONF_FILE_MAX_DEPTH`).
pub const MAX_DEPTH: usize = 10;

/// rempart stops reading a configuration after this many files (include loops).
pub const MAX_FILES: usize = 500;

/// One `name = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSetting {
    /// Lowercased name (`listen_addresses`).
    pub name: String,
    /// The value with quotes removed and escapes processed.
    pub value: String,
    pub path: String,
    pub line: u32,
    /// The line as written, for diagnostics.
    pub text: String,
}

/// What an include directive asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeKind {
    /// `include 'file'`: a missing file is an error.
    File,
    /// `include_if_exists 'file'`.
    IfExists,
    /// `include_dir 'dir'`.
    Dir,
}

/// One meaningful line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgItem {
    Setting(PgSetting),
    Include {
        kind: IncludeKind,
        target: String,
        line: u32,
    },
}

/// Parse one file's text. Lines PostgreSQL would reject are returned as errors (PostgreSQL
/// refuses the whole file then; the caller decides).
pub fn parse(path: &str, text: &str) -> (Vec<PgItem>, Vec<ConfError>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match parse_line(raw) {
            Ok(None) => {}
            Ok(Some((name, value))) => {
                let kind = match name.as_str() {
                    "include" => Some(IncludeKind::File),
                    "include_if_exists" => Some(IncludeKind::IfExists),
                    "include_dir" => Some(IncludeKind::Dir),
                    _ => None,
                };
                match kind {
                    Some(kind) => items.push(PgItem::Include {
                        kind,
                        target: value,
                        line,
                    }),
                    None => items.push(PgItem::Setting(PgSetting {
                        name,
                        value,
                        path: path.to_string(),
                        line,
                        text: raw.to_string(),
                    })),
                }
            }
            Err(message) => errors.push(ConfError::Syntax {
                path: path.to_string(),
                line,
                message: message.to_string(),
            }),
        }
    }
    (items, errors)
}

fn is_id_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.' || c == '-' || !c.is_ascii()
}

/// `Ok(None)` for blank and comment lines, `Ok(Some((name, value)))` for a setting.
fn parse_line(raw: &str) -> Result<Option<(String, String)>, &'static str> {
    let s = raw.trim_start();
    if s.is_empty() || s.starts_with('#') {
        return Ok(None);
    }
    let mut chars = s.char_indices().peekable();
    let Some((_, first)) = chars.next() else {
        return Ok(None);
    };
    if !is_id_start(first) {
        return Err("syntax error: a line must start with a parameter name");
    }
    let mut name_end = s.len();
    while let Some(&(i, c)) = chars.peek() {
        if is_id_char(c) {
            chars.next();
        } else {
            name_end = i;
            break;
        }
    }
    let name = s[..name_end].to_ascii_lowercase();
    let mut rest = s[name_end..].trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    let (value, after) = if let Some(body) = rest.strip_prefix('\'') {
        unquote(body)?
    } else {
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '#')
            .unwrap_or(rest.len());
        if end == 0 {
            return Err("syntax error: a parameter needs a value");
        }
        (rest[..end].to_string(), &rest[end..])
    };
    let after = after.trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return Err("syntax error: text after the value");
    }
    Ok(Some((name, value)))
}

/// Unquote a single-quoted string whose opening quote was consumed. Returns the value and the
/// text after the closing quote.
fn unquote(body: &str) -> Result<(String, &str), &'static str> {
    let mut out = String::new();
    let mut it = body.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\'' => {
                if let Some(&(_, '\'')) = it.peek() {
                    it.next();
                    out.push('\'');
                } else {
                    return Ok((out, &body[i + 1..]));
                }
            }
            '\\' => match it.next() {
                Some((_, 'b')) => out.push('\u{8}'),
                Some((_, 'f')) => out.push('\u{c}'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 't')) => out.push('\t'),
                Some((_, d)) if d.is_digit(8) => {
                    let mut n = d.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match it.peek() {
                            Some(&(_, d)) if d.is_digit(8) => {
                                n = n * 8 + d.to_digit(8).unwrap_or(0);
                                it.next();
                            }
                            _ => break,
                        }
                    }
                    out.push(char::from_u32(n & 0xff).unwrap_or('\u{fffd}'));
                }
                Some((_, other)) => out.push(other),
                None => return Err("unterminated quoted string"),
            },
            _ => out.push(c),
        }
    }
    Err("unterminated quoted string")
}

/// The settings of a cluster after every include, in the order PostgreSQL reads them.
#[derive(Debug, Clone, Default)]
pub struct PgConfig {
    /// Name -> the setting that wins (the last one read).
    pub settings: HashMap<String, PgSetting>,
    /// Every file read, in order.
    pub files: Vec<String>,
    /// Unreadable files and syntax errors. PostgreSQL refuses to start on any of these.
    pub errors: Vec<ConfError>,
}

impl PgConfig {
    pub fn get(&self, name: &str) -> Option<&PgSetting> {
        self.settings.get(&name.to_ascii_lowercase())
    }

    /// Read `path` and its includes. A missing main file is not an error here (the caller knows
    /// whether it expects one).
    pub fn load(host: &Host, path: &str) -> PgConfig {
        let mut cfg = PgConfig::default();
        cfg.read(host, path, 0, true);
        cfg
    }

    /// Read one more file (an `ALTER SYSTEM` file) over what is loaded; missing is fine.
    pub fn overlay(&mut self, host: &Host, path: &str) {
        self.read(host, path, 0, true);
    }

    fn read(&mut self, host: &Host, path: &str, depth: usize, missing_ok: bool) {
        if self.files.len() >= MAX_FILES {
            self.errors.push(ConfError::Syntax {
                path: path.to_string(),
                line: 0,
                message: format!("more than {MAX_FILES} configuration files included"),
            });
            return;
        }
        if depth > MAX_DEPTH {
            self.errors.push(ConfError::Syntax {
                path: path.to_string(),
                line: 0,
                message: format!("includes nested deeper than {MAX_DEPTH} levels"),
            });
            return;
        }
        let text = match host.read_text(path) {
            Ok(Some(f)) => f.text,
            Ok(None) => {
                if !missing_ok {
                    self.errors.push(ConfError::Syntax {
                        path: path.to_string(),
                        line: 0,
                        message: "included file does not exist".into(),
                    });
                }
                return;
            }
            Err(e) => {
                self.errors.push(e.into());
                return;
            }
        };
        self.files.push(path.to_string());
        let (items, errors) = parse(path, &text);
        self.errors.extend(errors);
        let dir = parent_dir(path);
        for item in items {
            match item {
                PgItem::Setting(s) => {
                    self.settings.insert(s.name.clone(), s);
                }
                PgItem::Include { kind, target, line } => {
                    if target.is_empty() {
                        continue;
                    }
                    let target = absolute(&dir, &target);
                    match kind {
                        IncludeKind::File => {
                            if host.exists(&target) {
                                self.read(host, &target, depth + 1, false);
                            } else {
                                self.errors.push(ConfError::Syntax {
                                    path: path.to_string(),
                                    line,
                                    message: format!("included file {target} does not exist"),
                                });
                            }
                        }
                        IncludeKind::IfExists => self.read(host, &target, depth + 1, true),
                        IncludeKind::Dir => match host.read_dir(&target) {
                            Ok(Some(names)) => {
                                for n in names {
                                    if n.ends_with(".conf") && !n.starts_with('.') {
                                        self.read(host, &format!("{target}/{n}"), depth + 1, true);
                                    }
                                }
                            }
                            Ok(None) => self.errors.push(ConfError::Syntax {
                                path: path.to_string(),
                                line,
                                message: format!("included directory {target} does not exist"),
                            }),
                            Err(e) => self.errors.push(e.into()),
                        },
                    }
                }
            }
        }
    }
}

/// The directory of a host path (`/` for a file at the root).
pub fn parent_dir(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_string(),
        Some((d, _)) => d.to_string(),
    }
}

/// `target` made absolute against `dir`.
pub fn absolute(dir: &str, target: &str) -> String {
    if target.starts_with('/') {
        target.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{target}")
    } else {
        format!("{dir}/{target}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings(text: &str) -> Vec<(String, String)> {
        let (items, errors) = parse("/p", text);
        assert!(errors.is_empty(), "{errors:?}");
        items
            .into_iter()
            .filter_map(|i| match i {
                PgItem::Setting(s) => Some((s.name, s.value)),
                PgItem::Include { .. } => None,
            })
            .collect()
    }

    #[test]
    fn debian_lines_parse() {
        let got = settings(
            "data_directory = '/var/lib/postgresql/15/main'\t\t# use data in another directory\n\
             #listen_addresses = 'localhost'\n\
             port = 5432\n\
             Listen_Addresses '*'\n\
             ssl = on\n\
             password_encryption=md5 # comment\n\
             search_path = '\"$user\", public'\n\
             log_line_prefix = '%m [%p] %q%u@%d '\n\
             custom.opt = 'it''s \\'quoted\\''\n",
        );
        assert_eq!(got[0].1, "/var/lib/postgresql/15/main");
        assert_eq!(got[2], ("listen_addresses".into(), "*".into()));
        assert_eq!(got[4].1, "md5");
        assert_eq!(got[5].1, "\"$user\", public");
        assert_eq!(got[7], ("custom.opt".into(), "it's 'quoted'".into()));
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in [
            "ssl = 'on",
            "= on",
            "ssl on off",
            "ssl =",
            "'x' = 1",
            "a = 'b\\",
        ] {
            let (_, errors) = parse("/p", bad);
            assert_eq!(errors.len(), 1, "{bad}");
        }
    }

    #[test]
    fn includes_are_recognised() {
        let (items, _) = parse(
            "/etc/postgresql/15/main/postgresql.conf",
            "include_dir = 'conf.d'\ninclude_if_exists '/etc/x.conf'\ninclude 'a.conf'\n",
        );
        assert!(
            matches!(&items[0], PgItem::Include { kind: IncludeKind::Dir, target, .. } if target == "conf.d")
        );
        assert!(matches!(
            &items[1],
            PgItem::Include {
                kind: IncludeKind::IfExists,
                ..
            }
        ));
        assert_eq!(
            absolute(
                &parent_dir("/etc/postgresql/15/main/postgresql.conf"),
                "conf.d"
            ),
            "/etc/postgresql/15/main/conf.d"
        );
        assert_eq!(parent_dir("/x"), "/");
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,400}") {
            let _ = parse("/p", &s);
        }

        #[test]
        fn quoted_values_round_trip(v in "[^'\\\\\\n\\r]{0,40}") {
            let text = format!("name = '{}'\n", v.replace('\'', "''"));
            let got = settings(&text);
            prop_assert_eq!(&got[0].1, &v);
        }

        #[test]
        fn every_line_is_a_setting_or_an_error(lines in proptest::collection::vec("[a-z_=' #0-9]{0,20}", 0..20)) {
            let text = lines.join("\n");
            let (items, errors) = parse("/p", &text);
            let meaningful = lines.iter().filter(|l| { let t = l.trim_start(); !t.is_empty() && !t.starts_with('#') }).count();
            prop_assert_eq!(items.len() + errors.len(), meaningful);
        }
    }
}
