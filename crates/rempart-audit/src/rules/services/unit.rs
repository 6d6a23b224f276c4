//! systemd unit files as systemd reads them: `[Section]` headers, `Key=Value` assignments,
//! backslash continuation lines, `#`/`;` comments, and drop-ins (`NAME.d/*.conf` in every unit
//! directory, applied in file-name order after the main file). An empty assignment resets a list
//! setting (`ExecStart=` in a drop-in clears the vendor's). Every value keeps the file and line it
//! came from, for evidence.

use crate::facts::systemd::UNIT_DIRS;
use crate::host::{Host, HostError};

/// One assignment, where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub section: String,
    pub key: String,
    pub value: String,
    pub path: String,
    pub line: u32,
    /// The text of the line holding the key (the first line of a continued value).
    pub text: String,
}

/// A unit with its drop-ins merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    /// Host path of the main unit file.
    pub path: String,
    /// Drop-in files applied, in order.
    pub dropins: Vec<String>,
    /// Every assignment in the order systemd applies them (resets already applied).
    pub settings: Vec<Setting>,
}

impl Unit {
    /// The last value of a single-valued key in a section (`Service`, `User`); `None` when unset
    /// or reset by an empty assignment.
    pub fn get(&self, section: &str, key: &str) -> Option<&Setting> {
        self.last_raw(section, key).filter(|s| !s.value.is_empty())
    }

    /// The last assignment of a key, empty ones included (`CapabilityBoundingSet=` drops every
    /// capability).
    pub fn last_raw(&self, section: &str, key: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .rev()
            .find(|s| s.section == section && s.key == key)
    }

    /// Every value of a list key, after resets (`ExecStart`, `Environment`, `ReadWritePaths`).
    pub fn all(&self, section: &str, key: &str) -> Vec<&Setting> {
        self.settings
            .iter()
            .filter(|s| s.section == section && s.key == key && !s.value.is_empty())
            .collect()
    }

    /// A boolean setting as systemd parses booleans; `None` when unset.
    pub fn bool(&self, section: &str, key: &str) -> Option<bool> {
        self.get(section, key).and_then(|s| parse_bool(&s.value))
    }
}

pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// Parse one unit file's text, appending to `out` (resets applied as systemd does).
pub fn parse_into(path: &str, text: &str, out: &mut Vec<Setting>) {
    let mut section = String::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        let line_no = i as u32 + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') {
            section = trimmed
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            continue;
        };
        let mut value = value.trim().to_string();
        // Continuation: a trailing backslash joins the next line (comments inside are skipped).
        while value.ends_with('\\') {
            value.pop();
            let kept = value.trim_end().len();
            value.truncate(kept);
            match lines.peek() {
                Some((_, next)) if next.trim_start().starts_with(['#', ';']) => {
                    lines.next();
                }
                Some(_) => {
                    let (_, next) = lines.next().unwrap_or((0, ""));
                    value.push(' ');
                    value.push_str(next.trim());
                }
                None => break,
            }
        }
        let key = key.trim().to_string();
        let value = value.trim().to_string();
        if value.is_empty() {
            // Reset: clears the list (or the value) set so far for this key. The empty assignment
            // is kept: for some keys (CapabilityBoundingSet=) it means "nothing".
            out.retain(|s| !(s.section == section && s.key == key));
        }
        out.push(Setting {
            section: section.clone(),
            key,
            value,
            path: path.to_string(),
            line: line_no,
            text: raw.to_string(),
        });
    }
}

/// Load a unit by name: the main file (first in [`UNIT_DIRS`] order) and its drop-ins.
pub fn load(host: &Host, name: &str, main_path: &str) -> Result<Unit, HostError> {
    let mut unit = Unit {
        name: name.to_string(),
        path: main_path.to_string(),
        ..Unit::default()
    };
    let Some(main) = host.read_text(main_path)? else {
        return Ok(unit);
    };
    parse_into(main_path, &main.text, &mut unit.settings);
    // Drop-ins: same file name in a higher-priority directory masks a lower one; all applied in
    // file-name order.
    let mut dropins: Vec<(String, String)> = Vec::new();
    let mut dirs = vec![format!("{name}.d")];
    if let Some((prefix, kind)) = name.split_once('@') {
        // Template instance: `app@x.service` also reads `app@.service.d`.
        let _ = kind;
        if let Some(dot) = name.rfind('.') {
            dirs.push(format!("{prefix}@{}.d", &name[dot..]));
        }
    }
    for dir in UNIT_DIRS {
        for d in &dirs {
            let path = format!("{dir}/{d}");
            let Ok(Some(names)) = host.read_dir(&path) else {
                continue;
            };
            for n in names.into_iter().filter(|n| n.ends_with(".conf")) {
                if !dropins.iter().any(|(name, _)| name == &n) {
                    dropins.push((n.clone(), format!("{path}/{n}")));
                }
            }
        }
    }
    dropins.sort();
    for (_, path) in dropins {
        if let Some(f) = host.read_text(&path)? {
            parse_into(&path, &f.text, &mut unit.settings);
            unit.dropins.push(path);
        }
    }
    Ok(unit)
}

/// Split a command line the way systemd splits `ExecStart=`: whitespace-separated words with
/// double and single quotes and backslash escapes. The leading special prefixes (`-@:+!`) are
/// removed from the first word.
pub fn split_command(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    if let Some(first) = words.first_mut() {
        let stripped = first
            .trim_start_matches(['-', '@', ':', '+', '!'])
            .to_string();
        *first = stripped;
    }
    words
}

/// Parse an environment file (`EnvironmentFile=`) or `.env`: `KEY=value` lines, `export` prefix,
/// quotes, `#` comments. Returns (key, value, line).
pub fn parse_env(text: &str) -> Vec<(String, String, u32)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let v = v.trim();
        let v = if (v.starts_with('"') && v.ends_with('"') && v.len() >= 2)
            || (v.starts_with('\'') && v.ends_with('\'') && v.len() >= 2)
        {
            v[1..v.len() - 1].to_string()
        } else {
            // An unquoted value ends at an inline comment.
            v.split(" #").next().unwrap_or("").trim().to_string()
        };
        out.push((k.to_string(), v, i as u32 + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn continuation_comments_and_resets() {
        let mut s = Vec::new();
        parse_into(
            "/lib/systemd/system/app.service",
            "[Unit]\nDescription=App\n\n[Service]\nExecStart=/usr/bin/old\nUser=root\n",
            &mut s,
        );
        parse_into(
            "/etc/systemd/system/app.service.d/override.conf",
            "[Service]\n# vendor command replaced\nExecStart=\nExecStart=/opt/app/venv/bin/gunicorn \\\n  --bind 127.0.0.1:8000 \\\n  app.wsgi\nUser=app\n",
            &mut s,
        );
        let unit = Unit {
            settings: s,
            ..Unit::default()
        };
        let exec = unit.all("Service", "ExecStart");
        assert_eq!(exec.len(), 1);
        assert_eq!(
            exec[0].value,
            "/opt/app/venv/bin/gunicorn --bind 127.0.0.1:8000 app.wsgi"
        );
        assert_eq!(exec[0].line, 4);
        assert_eq!(unit.get("Service", "User").unwrap().value, "app");
    }

    #[test]
    fn commands_split_like_systemd() {
        assert_eq!(
            split_command("-/usr/bin/env \"A B\" 'c d' e\\ f"),
            ["/usr/bin/env", "A B", "c d", "e f"]
        );
    }

    #[test]
    fn env_files() {
        let env = parse_env("# c\nexport HOST=0.0.0.0\nSECRET='a b'\nDEBUG=1 # on\nbad line\n");
        assert_eq!(env[0], ("HOST".into(), "0.0.0.0".into(), 2));
        assert_eq!(env[1].1, "a b");
        assert_eq!(env[2].1, "1");
        assert_eq!(env.len(), 3);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,400}") {
            let mut out = Vec::new();
            parse_into("/x", &s, &mut out);
            let _ = split_command(&s);
            let _ = parse_env(&s);
        }

        #[test]
        fn split_round_trips_plain_words(words in proptest::collection::vec("[a-z0-9/._=][a-z0-9/._=:]{0,9}", 1..6)) {
            let line = words.join(" ");
            prop_assert_eq!(split_command(&line), words);
        }
    }
}
