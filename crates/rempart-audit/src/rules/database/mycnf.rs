//! MariaDB/MySQL option files: `[group]` headers, `name`, `name = value` lines, `#` and `;`
//! comment lines, `#` comments after a value (outside quotes), quoted values with backslash
//! escapes, and the `!include FILE` / `!includedir DIR` directives (a directory contributes its
//! `*.cnf` files in alphabetical order). Option names treat `-` and `_` alike and are kept
//! lowercased with `-`.
//!
//! [`MyConfig`] follows the chain the server reads (`/etc/my.cnf`, then `/etc/mysql/my.cnf` and
//! everything it includes) and answers "what does the server see for option X" with the
//! `loose-`, `skip-`, `disable-` and `enable-` prefixes applied, keeping the file and line.

use super::pgconf::{parent_dir, MAX_FILES};
use super::ConfError;
use crate::host::Host;

/// The files the server reads first, in order (Debian's `/etc/mysql/my.cnf` is a link to
/// `/etc/mysql/mariadb.cnf` through the alternatives system).
pub const ROOT_FILES: &[&str] = &["/etc/my.cnf", "/etc/mysql/my.cnf"];

/// MariaDB stops following `!include` at this depth.
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// One meaningful line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MyItem {
    Group(String),
    Option {
        /// Lowercased, `_` replaced by `-`, prefixes kept (`skip-networking`, `loose-local-infile`).
        name: String,
        value: Option<String>,
    },
    Include(String),
    IncludeDir(String),
}

/// A parsed line with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyLine {
    pub line: u32,
    pub text: String,
    pub item: MyItem,
}

/// Parse one option file's text.
pub fn parse(path: &str, text: &str) -> (Vec<MyLine>, Vec<ConfError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut in_group = false;
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let s = raw.trim();
        if s.is_empty() || s.starts_with('#') || s.starts_with(';') {
            continue;
        }
        let err = |m: &str| ConfError::Syntax {
            path: path.to_string(),
            line,
            message: m.to_string(),
        };
        let item = if let Some(rest) = s.strip_prefix('!') {
            let (word, arg) = rest
                .split_once(|c: char| c.is_whitespace())
                .map_or((rest, ""), |(w, a)| (w, a.trim()));
            match (word, arg.is_empty()) {
                ("include", false) => MyItem::Include(arg.to_string()),
                ("includedir", false) => MyItem::IncludeDir(arg.to_string()),
                _ => {
                    errors.push(err("unknown or incomplete ! directive"));
                    continue;
                }
            }
        } else if let Some(rest) = s.strip_prefix('[') {
            let Some((name, _)) = rest.split_once(']') else {
                errors.push(err("wrong group definition (no closing `]`)"));
                continue;
            };
            in_group = true;
            MyItem::Group(name.trim().to_ascii_lowercase())
        } else {
            if !in_group {
                errors.push(err("option without a preceding [group]"));
                continue;
            }
            let body = strip_end_comment(s);
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.trim(), Some(unquote(v.trim()))),
                None => (body.trim(), None),
            };
            if name.is_empty() {
                errors.push(err("option without a name"));
                continue;
            }
            MyItem::Option {
                name: normalise(name),
                value,
            }
        };
        out.push(MyLine {
            line,
            text: raw.to_string(),
            item,
        });
    }
    (out, errors)
}

/// An option name as compared: lowercased, `_` as `-`.
pub fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The text before a `#` that is outside quotes.
fn strip_end_comment(s: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escape = false;
    for (i, c) in s.char_indices() {
        if (c == '\'' || c == '"') && !escape {
            match quote {
                None => quote = Some(c),
                Some(q) if q == c => quote = None,
                Some(_) => {}
            }
        }
        if quote.is_none() && c == '#' {
            return &s[..i];
        }
        escape = quote.is_some() && c == '\\' && !escape;
    }
    s
}

/// Strip matching outer quotes and process the escapes the option reader knows.
fn unquote(v: &str) -> String {
    let v = v.trim();
    let inner = match (v.chars().next(), v.chars().last()) {
        (Some(a), Some(b)) if v.len() >= 2 && a == b && (a == '\'' || a == '"') => {
            &v[1..v.len() - 1]
        }
        _ => v,
    };
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('s') => out.push(' '),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// An option as set in a file the server reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyOption {
    pub group: String,
    /// Normalised name as written (prefixes kept).
    pub name: String,
    pub value: Option<String>,
    pub path: String,
    pub line: u32,
    pub text: String,
}

/// Every option of every file of the chain, in the order read.
#[derive(Debug, Clone, Default)]
pub struct MyConfig {
    pub options: Vec<MyOption>,
    pub files: Vec<String>,
    pub errors: Vec<ConfError>,
}

/// The value the server sees for an option, with where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective<'a> {
    /// The value after prefixes (`skip-local-infile` gives `0`); `None` for a bare option.
    pub value: Option<String>,
    pub set_by: &'a MyOption,
}

impl MyConfig {
    /// Read the chain the server reads, starting at [`ROOT_FILES`].
    pub fn load(host: &Host) -> MyConfig {
        let mut cfg = MyConfig::default();
        for f in ROOT_FILES {
            cfg.read(host, f, 0);
        }
        cfg
    }

    fn read(&mut self, host: &Host, path: &str, depth: usize) {
        if depth > MAX_INCLUDE_DEPTH || self.files.len() >= MAX_FILES {
            self.errors.push(ConfError::Syntax {
                path: path.to_string(),
                line: 0,
                message: "includes nested too deep or too many".into(),
            });
            return;
        }
        let text = match host.read_text(path) {
            Ok(Some(f)) => f.text,
            // The server silently skips option files that do not exist.
            Ok(None) => return,
            Err(e) => {
                self.errors.push(e.into());
                return;
            }
        };
        self.files.push(path.to_string());
        let (lines, errors) = parse(path, &text);
        self.errors.extend(errors);
        let mut group = String::new();
        let dir = parent_dir(path);
        for l in lines {
            match l.item {
                MyItem::Group(g) => group = g,
                MyItem::Option { name, value } => self.options.push(MyOption {
                    group: group.clone(),
                    name,
                    value,
                    path: path.to_string(),
                    line: l.line,
                    text: l.text,
                }),
                MyItem::Include(f) => {
                    let f = super::pgconf::absolute(&dir, &f);
                    self.read(host, &f, depth + 1);
                }
                MyItem::IncludeDir(d) => {
                    let d = super::pgconf::absolute(&dir, &d);
                    let d = d.trim_end_matches('/');
                    let d = if d.is_empty() { "/" } else { d };
                    match host.read_dir(d) {
                        Ok(Some(names)) => {
                            for n in names.iter().filter(|n| n.ends_with(".cnf")) {
                                self.read(host, &format!("{d}/{n}"), depth + 1);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => self.errors.push(e.into()),
                    }
                }
            }
        }
    }

    /// The last setting of option `name` (normalised, without prefix) in one of `groups`,
    /// with `loose-`, `skip-`, `disable-`, `enable-` applied. Boolean negations give `"0"`.
    pub fn effective(&self, name: &str, groups: &[String]) -> Option<Effective<'_>> {
        let name = normalise(name);
        let mut found = None;
        for o in &self.options {
            if !groups.contains(&o.group) {
                continue;
            }
            let bare = o.name.strip_prefix("loose-").unwrap_or(&o.name);
            let value = if bare == name {
                o.value.clone()
            } else if bare.strip_prefix("skip-") == Some(name.as_str())
                || bare.strip_prefix("disable-") == Some(name.as_str())
            {
                Some("0".to_string())
            } else if bare.strip_prefix("enable-") == Some(name.as_str()) {
                Some("1".to_string())
            } else {
                continue;
            };
            found = Some(Effective { value, set_by: o });
        }
        found
    }

    /// The option as a boolean: `None` when unset, `Err` with the raw value when it is not a
    /// boolean the server accepts.
    pub fn flag(&self, name: &str, groups: &[String]) -> Option<(Result<bool, String>, &MyOption)> {
        let e = self.effective(name, groups)?;
        Some((parse_bool(e.value.as_deref()), e.set_by))
    }
}

/// A boolean option value: a bare option is true.
pub fn parse_bool(v: Option<&str>) -> Result<bool, String> {
    let Some(v) = v else {
        return Ok(true);
    };
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" | "" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        other => Err(other.to_string()),
    }
}

/// The groups `mariadbd` reads for a server of version `major.minor` (all version-specific
/// groups when the version is unknown).
pub fn server_groups(version: Option<&str>) -> Vec<String> {
    let mut g: Vec<String> = [
        "mysqld",
        "server",
        "mariadb",
        "mariadbd",
        "client-server",
        "galera",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let versions: Vec<String> = match version {
        Some(v) => vec![v.to_string()],
        None => [
            "10.3", "10.4", "10.5", "10.6", "10.11", "11.4", "11.8", "5.7", "8.0", "8.4",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    };
    for v in versions {
        for base in ["mysqld", "mariadb", "mariadbd", "server"] {
            g.push(format!("{base}-{v}"));
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg_of(text: &str) -> MyConfig {
        let (lines, errors) = parse("/etc/mysql/mariadb.conf.d/50-server.cnf", text);
        assert!(errors.is_empty(), "{errors:?}");
        let mut cfg = MyConfig::default();
        let mut group = String::new();
        for l in lines {
            match l.item {
                MyItem::Group(g) => group = g,
                MyItem::Option { name, value } => cfg.options.push(MyOption {
                    group: group.clone(),
                    name,
                    value,
                    path: "/f".into(),
                    line: l.line,
                    text: l.text,
                }),
                _ => {}
            }
        }
        cfg
    }

    #[test]
    fn debian_server_file_and_prefixes() {
        let cfg = cfg_of(
            "# comment\n[server]\n\n[mysqld]\n\
             bind-address            = 127.0.0.1\n\
             local_infile = 1\n\
             loose-local-infile=OFF   # off\n\
             skip-symbolic-links\n\
             socket = \"/run/my sqld/x.sock\"\n\
             [client]\nlocal-infile = 1\n",
        );
        let g = server_groups(Some("10.11"));
        assert_eq!(
            cfg.effective("bind_address", &g).unwrap().value.as_deref(),
            Some("127.0.0.1")
        );
        let (v, by) = cfg.flag("local-infile", &g).unwrap();
        assert_eq!((v, by.line), (Ok(false), 7));
        assert_eq!(cfg.flag("symbolic-links", &g).unwrap().0, Ok(false));
        assert_eq!(
            cfg.effective("socket", &g).unwrap().value.as_deref(),
            Some("/run/my sqld/x.sock")
        );
        assert!(cfg.flag("skip-networking", &g).is_none());
    }

    #[test]
    fn directives_and_errors() {
        let (lines, errors) = parse(
            "/etc/mysql/mariadb.cnf",
            "!includedir /etc/mysql/conf.d/\n!include /etc/x.cnf\nfoo=1\n[client-server]\nsocket = /run/mysqld/mysqld.sock\n[bad\n!frob x\n",
        );
        assert_eq!(
            lines[0].item,
            MyItem::IncludeDir("/etc/mysql/conf.d/".into())
        );
        assert_eq!(lines[1].item, MyItem::Include("/etc/x.cnf".into()));
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool(None), Ok(true));
        assert_eq!(parse_bool(Some("OFF")), Ok(false));
        assert!(parse_bool(Some("maybe")).is_err());
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,400}") {
            let _ = parse("/x", &s);
        }

        #[test]
        fn last_setting_wins(vals in proptest::collection::vec("[a-z0-9.]{1,10}", 1..8)) {
            let mut text = String::from("[mysqld]\n");
            for v in &vals {
                text.push_str(&format!("bind_address = {v}\n"));
            }
            let cfg = cfg_of(&text);
            let e = cfg.effective("bind-address", &server_groups(None)).unwrap();
            prop_assert_eq!(e.value.as_deref(), vals.last().map(String::as_str));
            prop_assert_eq!(e.set_by.line as usize, vals.len() + 1);
        }

        #[test]
        fn quoted_values_round_trip(v in "[a-zA-Z0-9 /._-]{0,30}") {
            let text = format!("[mysqld]\ndatadir = \"{v}\"\n");
            let cfg = cfg_of(&text);
            prop_assert_eq!(cfg.options[0].value.as_deref(), Some(v.as_str()));
        }
    }
}
