//! APT's configuration syntax (`/etc/apt/apt.conf.d/*`, `/etc/apt/apt.conf`): `A::B "v";` items,
//! `A { B "v"; };` scopes, `//`, `#` and `/* */` comments. Later files override earlier ones, in
//! the order apt reads them: the parts directory in lexical order, then the main file.

use crate::host::{Host, HostError};
use std::collections::HashMap;

/// Where an option was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptValue {
    pub value: String,
    pub path: String,
    pub line: u32,
    pub text: String,
}

/// The merged APT configuration: option (lowercased, `::`-joined) -> last value set.
#[derive(Debug, Clone, Default)]
pub struct AptConfig {
    pub options: HashMap<String, AptValue>,
    pub errors: Vec<HostError>,
}

impl AptConfig {
    pub fn get(&self, key: &str) -> Option<&AptValue> {
        self.options.get(&key.to_ascii_lowercase())
    }

    pub fn load(host: &Host) -> AptConfig {
        let mut cfg = AptConfig::default();
        let mut files = Vec::new();
        if let Ok(Some(names)) = host.read_dir("/etc/apt/apt.conf.d") {
            // apt ignores names with characters outside [A-Za-z0-9_.-] and backup files.
            for n in names {
                let ok_chars = n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                let backup = [
                    ".dpkg-old",
                    ".dpkg-dist",
                    ".dpkg-new",
                    ".ucf-old",
                    ".bak",
                    "~",
                ]
                .iter()
                .any(|s| n.ends_with(s));
                let ext_ok = match n.rsplit_once('.') {
                    None => true,
                    Some((_, ext)) => ext == "conf" || ext.chars().all(|c| c.is_ascii_digit()),
                };
                if ok_chars && !backup && ext_ok {
                    files.push(format!("/etc/apt/apt.conf.d/{n}"));
                }
            }
        }
        files.push("/etc/apt/apt.conf".to_string());
        for path in files {
            match host.read_text(&path) {
                Ok(Some(f)) => parse_into(&path, &f.text, &mut cfg.options),
                Ok(None) => {}
                Err(e) => cfg.errors.push(e),
            }
        }
        cfg
    }
}

/// Parse one file's text, overriding what `options` holds.
pub fn parse_into(path: &str, text: &str, options: &mut HashMap<String, AptValue>) {
    let mut scopes: Vec<String> = Vec::new();
    let mut in_block_comment = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let mut line = raw.to_string();
        if in_block_comment {
            match line.find("*/") {
                Some(end) => {
                    line = line[end + 2..].to_string();
                    in_block_comment = false;
                }
                None => continue,
            }
        }
        while let Some(start) = find_outside_quotes(&line, "/*") {
            match line[start..].find("*/") {
                Some(end) => line.replace_range(start..start + end + 2, " "),
                None => {
                    line.truncate(start);
                    in_block_comment = true;
                }
            }
        }
        for marker in ["//", "#"] {
            if let Some(p) = find_outside_quotes(&line, marker) {
                line.truncate(p);
            }
        }
        // Split into statements on `;`, `{` and `}` outside quotes.
        let mut stmt = String::new();
        let mut in_q = false;
        for c in line.chars() {
            match c {
                '"' => {
                    in_q = !in_q;
                    stmt.push(c);
                }
                '{' if !in_q => {
                    let name = stmt.trim().to_string();
                    scopes.push(name);
                    stmt.clear();
                }
                '}' if !in_q => {
                    scopes.pop();
                    stmt.clear();
                }
                ';' if !in_q => {
                    set(&scopes, &stmt, path, line_no, raw, options);
                    stmt.clear();
                }
                _ => stmt.push(c),
            }
        }
    }
}

fn set(
    scopes: &[String],
    stmt: &str,
    path: &str,
    line: u32,
    raw: &str,
    options: &mut HashMap<String, AptValue>,
) {
    let stmt = stmt.trim();
    let Some((key, value)) = stmt.split_once(char::is_whitespace) else {
        return;
    };
    let value = value.trim().trim_matches('"').to_string();
    let mut full: Vec<&str> = scopes.iter().map(String::as_str).collect();
    full.push(key);
    let full = full.join("::").to_ascii_lowercase();
    options.insert(
        full,
        AptValue {
            value,
            path: path.to_string(),
            line,
            text: raw.to_string(),
        },
    );
}

fn find_outside_quotes(s: &str, pat: &str) -> Option<usize> {
    let mut in_q = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            in_q = !in_q;
        } else if !in_q && s[i..].starts_with(pat) {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn flat_and_scoped_forms_and_comments() {
        let mut o = HashMap::new();
        parse_into(
            "/etc/apt/apt.conf.d/20auto-upgrades",
            "// comment\nAPT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic {\n  Unattended-Upgrade \"1\"; # trailing\n};\n/* block\n APT::Periodic::Unattended-Upgrade \"0\";\n*/\n",
            &mut o,
        );
        assert_eq!(o["apt::periodic::update-package-lists"].value, "1");
        let u = &o["apt::periodic::unattended-upgrade"];
        assert_eq!((u.value.as_str(), u.line), ("1", 4));
    }

    #[test]
    fn later_values_override_earlier_ones() {
        let mut o = HashMap::new();
        parse_into("/a", "APT::Periodic::Unattended-Upgrade \"1\";\n", &mut o);
        parse_into("/b", "APT::Periodic::Unattended-Upgrade \"0\";\n", &mut o);
        assert_eq!(o["apt::periodic::unattended-upgrade"].path, "/b");
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,300}") {
            let mut o = HashMap::new();
            parse_into("/x", &s, &mut o);
        }
    }
}
