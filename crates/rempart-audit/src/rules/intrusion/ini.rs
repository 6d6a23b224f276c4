//! One fail2ban configuration file, read the way fail2ban reads it: Python's `configparser` in
//! strict mode with `;` inline comments (fail2ban's `SafeConfigParserWithIncludes`).
//!
//! - `[section]` headers (case-sensitive; `[DEFAULT]` is the defaults section);
//! - `key = value` or `key: value`, split at the first `=` or `:`; keys are lowercased;
//! - full-line comments start with `#` or `;`; an inline comment needs `;` after whitespace, so
//!   `enabled = true # on` keeps `# on` in the value (and fail2ban then reads the jail as
//!   disabled, since that is no boolean);
//! - a line indented deeper than its option continues the value (`logpath = a` / `   b`);
//! - `\n`, `\r\n` and a lone `\r` end lines (Python's universal newlines).
//!
//! Errors configparser raises, which make fail2ban refuse to start, are [`IniError`]s: an
//! option before any section, a line that is neither header nor option, a section or an
//! option given twice in one file. Interpolation (`%(name)s`) and merging files are the job of
//! [`super::fail2ban`].

use std::fmt;

/// An option as written: its value (continuation lines joined by `\n`) and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniOption {
    /// Lowercased key.
    pub key: String,
    pub value: String,
    pub line: u32,
    /// The option's first line, as written.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniSection {
    pub name: String,
    pub line: u32,
    pub options: Vec<IniOption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniFile {
    pub path: String,
    pub sections: Vec<IniSection>,
}

impl IniFile {
    pub fn section(&self, name: &str) -> Option<&IniSection> {
        self.sections.iter().find(|s| s.name == name)
    }
}

impl IniSection {
    pub fn get(&self, key: &str) -> Option<&IniOption> {
        self.options.iter().find(|o| o.key == key)
    }
}

/// A file configparser refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniError {
    pub path: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for IniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Lines as Python's universal newlines split them.
fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(i) => {
                out.push(&rest[..i]);
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                out.push(rest);
                rest = "";
            }
        }
    }
    out
}

/// Where an inline `;` comment starts: at the start of the line or after whitespace.
fn inline_comment(line: &str) -> Option<usize> {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == ';' && prev_space {
            return Some(i);
        }
        prev_space = c.is_whitespace();
    }
    None
}

/// Parse one file's text.
pub fn parse(path: &str, text: &str) -> Result<IniFile, IniError> {
    let mut file = IniFile {
        path: path.to_string(),
        sections: Vec::new(),
    };
    let err = |line: u32, message: String| IniError {
        path: path.to_string(),
        line,
        message,
    };
    // (section index, option index) of the option a continuation line extends.
    let mut current: Option<(usize, usize)> = None;
    let mut cur_section: Option<usize> = None;
    let mut indent_level = 0usize;
    // Empty lines inside a value, added only if more of the value follows.
    let mut pending_blank = 0usize;
    let mut first_error: Option<IniError> = None;
    for (i, raw) in lines(text).into_iter().enumerate() {
        let n = i as u32 + 1;
        let stripped = raw.trim();
        let full_comment = stripped.starts_with('#') || stripped.starts_with(';');
        let comment_start = if full_comment {
            Some(0)
        } else {
            inline_comment(raw)
        };
        let value = match comment_start {
            Some(c) => raw[..c].trim(),
            None => stripped,
        };
        if value.is_empty() {
            if comment_start.is_none() && current.is_some() {
                pending_blank += 1;
            }
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        if let (Some((s, o)), true) = (current, indent > indent_level) {
            let opt = &mut file.sections[s].options[o];
            for _ in 0..pending_blank {
                opt.value.push('\n');
            }
            pending_blank = 0;
            opt.value.push('\n');
            opt.value.push_str(value);
            continue;
        }
        pending_blank = 0;
        indent_level = indent;
        if let Some(header) = section_header(value) {
            if header != "DEFAULT" && file.sections.iter().any(|s| s.name == header) {
                return Err(err(
                    n,
                    format!("section [{header}] appears twice in this file"),
                ));
            }
            match file.sections.iter().position(|s| s.name == header) {
                Some(idx) => cur_section = Some(idx),
                None => {
                    file.sections.push(IniSection {
                        name: header.to_string(),
                        line: n,
                        options: Vec::new(),
                    });
                    cur_section = Some(file.sections.len() - 1);
                }
            }
            current = None;
            continue;
        }
        let Some(s) = cur_section else {
            return Err(err(
                n,
                format!("`{value}` comes before any [section] header"),
            ));
        };
        match value.find(['=', ':']) {
            Some(p) => {
                let key = value[..p].trim().to_lowercase();
                if key.is_empty() {
                    first_error
                        .get_or_insert_with(|| err(n, format!("no option name in `{value}`")));
                    current = None;
                    continue;
                }
                let sec = &mut file.sections[s];
                if sec.options.iter().any(|o| o.key == key) {
                    return Err(err(
                        n,
                        format!("option `{key}` appears twice in section [{}]", sec.name),
                    ));
                }
                sec.options.push(IniOption {
                    key,
                    value: value[p + 1..].trim().to_string(),
                    line: n,
                    text: raw.trim_end().to_string(),
                });
                current = Some((s, sec.options.len() - 1));
            }
            None => {
                first_error.get_or_insert_with(|| {
                    err(
                        n,
                        format!("`{value}` is neither a [section] nor a `key = value` line"),
                    )
                });
                current = None;
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(file),
    }
}

/// configparser's `\[(?P<header>.+)\]` matched at the start of the line: up to the last `]`.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    (end > 0).then(|| &rest[..end])
}

/// fail2ban's booleans (`configparser.getboolean`): `None` when the value is not one.
pub fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seed_local_conf() {
        let f = parse(
            "/etc/fail2ban/jail.d/local.conf",
            "[sshd]\nenabled = true\nport    = ssh\nfilter  = sshd\nlogpath = /var/log/auth.log\nmaxretry = 5\n\n[apache-auth]\nenabled = true\nfilter = apache-auth\nlogpath = /var/log/apache2/*error.log\nmaxretry = 6\n",
        )
        .unwrap();
        let sshd = f.section("sshd").unwrap();
        let lp = sshd.get("logpath").unwrap();
        assert_eq!((lp.value.as_str(), lp.line), ("/var/log/auth.log", 5));
        assert_eq!(f.sections.len(), 2);
    }

    #[test]
    fn comments_continuations_and_case() {
        let f = parse(
            "/f",
            "# comment\n[DEFAULT]\nBanAction = nftables ; inline\nenabled = true # not a comment\nlogpath = /a\n    /b\n\n    /c\n; comment\nkey: v=1\r\n[sshd]\r\nenabled=on\r",
        )
        .unwrap();
        let d = f.section("DEFAULT").unwrap();
        assert_eq!(d.get("banaction").unwrap().value, "nftables");
        assert_eq!(d.get("enabled").unwrap().value, "true # not a comment");
        assert_eq!(boolean(&d.get("enabled").unwrap().value), None);
        assert_eq!(d.get("logpath").unwrap().value, "/a\n/b\n\n/c");
        assert_eq!(d.get("key").unwrap().value, "v=1");
        assert_eq!(f.section("sshd").unwrap().get("enabled").unwrap().line, 12);
    }

    #[test]
    fn what_configparser_refuses() {
        let cases = [
            ("enabled = true\n", 1, "before any"),
            ("[a]\nx = 1\n[a]\n", 3, "twice"),
            ("[a]\nx = 1\nX = 2\n", 3, "twice"),
            ("[a]\njust words\n", 2, "neither"),
            ("[a]\n= 1\n", 2, "no option name"),
        ];
        for (text, line, want) in cases {
            let e = parse("/f", text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.message.contains(want), "{text:?}: {e}");
        }
        // [DEFAULT] may be opened again.
        assert!(parse("/f", "[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n").is_ok());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,400}") {
            let _ = parse("/f", &s);
        }

        #[test]
        fn options_keep_their_lines(rows in proptest::collection::vec("(\\[[a-z]{1,4}\\]|[a-z]{1,5} ?= ?[a-z/ ]{0,6}|  [a-z]{1,3}|#.{0,5}|)", 0..20)) {
            let text = rows.join("\n");
            if let Ok(f) = parse("/f", &text) {
                let src = lines(&text);
                for s in &f.sections {
                    for o in &s.options {
                        let line = src[o.line as usize - 1];
                        prop_assert!(line.to_lowercase().contains(&o.key));
                        prop_assert_eq!(line.trim_end(), o.text.as_str());
                    }
                }
            }
        }
    }
}
