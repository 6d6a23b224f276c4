//! systemd-coredump's configuration: `/etc/systemd/coredump.conf`, then drop-ins named
//! `*.conf` in `coredump.conf.d/` under `/etc/systemd`, `/run/systemd`, `/usr/local/lib/systemd`
//! and `/usr/lib/systemd` (a name in an earlier directory hides the same name later), in name
//! order. The last `Storage=` of the `[Coredump]` section wins. The ini syntax: `[Section]`
//! headers, `Key=Value`, `#` and `;` comment lines, a trailing `\` continuing a line.

use crate::host::{Host, HostError};
use std::collections::BTreeMap;

pub const MAIN: &str = "/etc/systemd/coredump.conf";
const DROPIN_DIRS: &[&str] = &[
    "/etc/systemd/coredump.conf.d",
    "/run/systemd/coredump.conf.d",
    "/usr/local/lib/systemd/coredump.conf.d",
    "/usr/lib/systemd/coredump.conf.d",
];

/// One `Key=Value` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub section: String,
    pub key: String,
    pub value: String,
    /// Line of the key (the first line of a continued setting).
    pub line: u32,
    pub text: String,
}

/// Parse systemd ini text into its settings, in order. Lines outside any section and lines
/// without `=` are skipped, as systemd does after a warning.
pub fn parse(text: &str) -> Vec<Setting> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pending: Option<(u32, String, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (start, mut joined, first_text) = match pending.take() {
            Some((l, acc, t)) => (l, acc + " " + raw.trim(), t),
            None => {
                let t = raw.trim();
                if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                    continue;
                }
                (line, t.to_string(), raw.to_string())
            }
        };
        if joined.ends_with('\\') {
            joined.pop();
            pending = Some((start, joined, first_text));
            continue;
        }
        if joined.starts_with('[') {
            section = joined
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_string();
            continue;
        }
        if let Some((k, v)) = joined.split_once('=') {
            if section.is_empty() {
                continue;
            }
            out.push(Setting {
                section: section.clone(),
                key: k.trim().to_string(),
                value: v.trim().to_string(),
                line: start,
                text: first_text,
            });
        }
    }
    out
}

/// The winning `[Coredump]` `key` of the host's configuration, with its file, and read errors.
pub fn lookup(host: &Host, key: &str) -> (Option<(String, Setting)>, Vec<HostError>) {
    let mut errors = Vec::new();
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for dir in DROPIN_DIRS {
        match host.read_dir(dir) {
            Ok(Some(names)) => {
                for n in names.into_iter().filter(|n| n.ends_with(".conf")) {
                    by_name.entry(n.clone()).or_insert(format!("{dir}/{n}"));
                }
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    let mut winner = None;
    let files = std::iter::once(MAIN.to_string()).chain(by_name.into_values());
    for path in files {
        if host.read_link(&path).ok().flatten().as_deref() == Some("/dev/null") {
            continue;
        }
        match host.read_text(&path) {
            Ok(Some(f)) => {
                for s in parse(&f.text) {
                    if s.section == "Coredump" && s.key == key {
                        winner = Some((path.clone(), s));
                    }
                }
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (winner, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sections_comments_and_continuations() {
        let s = parse(
            "# defaults\n[Coredump]\n#Storage=external\nStorage=none\nProcessSizeMax=\\\n  0\n[Other]\nStorage=x\n",
        );
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].key.as_str(), s[0].value.as_str(), s[0].line),
            ("Storage", "none", 4)
        );
        assert_eq!((s[1].value.as_str(), s[1].line), ("0", 5));
        assert_eq!(s[2].section, "Other");
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,400}") {
            let lines = s.lines().count() as u32;
            for set in parse(&s) {
                prop_assert!(!set.section.is_empty());
                prop_assert!(set.line >= 1 && set.line <= lines);
            }
        }
    }
}
