//! logrotate's configuration as logrotate reads it: `/etc/logrotate.conf`, its `include`s (a
//! file, or a directory read in name order without the taboo names: `.dpkg-old`, `.disabled`,
//! `~` ...), global directives, and stanzas — one or more log paths or globs (quoted or not,
//! possibly over several lines) then `{ directives }`, where `postrotate ... endscript` script
//! blocks are skipped whatever they contain. `#` starts a comment line. A stanza says which
//! files it rotates; [`LogrotateConfig::covering`] answers "which stanza rotates this file".

use crate::host::{Host, HostError};

/// The main configuration file run by logrotate's timer and cron job.
pub const MAIN: &str = "/etc/logrotate.conf";

/// Files logrotate skips in an included directory (its default taboo list).
const TABOO_EXT: &[&str] = &[
    ".rpmorig",
    ".rpmsave",
    ",v",
    ".swp",
    ".rpmnew",
    "~",
    ".cfsaved",
    ".disabled",
    ".dpkg-old",
    ".dpkg-dist",
    ".dpkg-new",
    ".dpkg-bak",
    ".dpkg-del",
    ".ucf-old",
    ".ucf-dist",
    ".ucf-new",
];

/// Scripts run by logrotate, whose bodies end at `endscript`.
const SCRIPTS: &[&str] = &[
    "postrotate",
    "prerotate",
    "firstaction",
    "lastaction",
    "preremove",
];

/// A directive inside a stanza: its first word, the rest, and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub args: String,
    pub line: u32,
}

/// One `paths { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    pub patterns: Vec<String>,
    pub path: String,
    /// Line of the first path.
    pub line: u32,
    pub text: String,
    pub directives: Vec<Directive>,
}

/// What parsing one file produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub stanzas: Vec<Stanza>,
    /// `include` targets with their lines.
    pub includes: Vec<(String, u32)>,
    /// Syntax problems: (line, message). Parsing goes on after each.
    pub errors: Vec<(u32, String)>,
}

/// Split a line into words, honouring double and single quotes.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
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
        out.push(cur);
    }
    out
}

/// Parse one configuration file's text.
pub fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut pending: Vec<String> = Vec::new();
    let mut pending_line = 0u32;
    let mut pending_text = String::new();
    let mut current: Option<Stanza> = None;
    let mut in_script: Option<u32> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let t = raw.trim();
        if let Some(start) = in_script {
            if t == "endscript" {
                in_script = None;
            }
            let _ = start;
            continue;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(st) = current.as_mut() {
            // Inside a block: directives, a script, or the closing brace.
            let (body, closes) = match t.strip_suffix('}') {
                Some(b) => (b.trim(), true),
                None => (t, false),
            };
            if body.contains('{') {
                out.errors
                    .push((line_no, "`{` inside a block (blocks do not nest)".into()));
            } else if !body.is_empty() {
                let w = words(body);
                let name = w.first().cloned().unwrap_or_default();
                if SCRIPTS.contains(&name.as_str()) {
                    in_script = Some(line_no);
                }
                st.directives.push(Directive {
                    name,
                    args: w.get(1..).map(|a| a.join(" ")).unwrap_or_default(),
                    line: line_no,
                });
            }
            if closes && in_script.is_none() {
                if let Some(s) = current.take() {
                    out.stanzas.push(s);
                }
            }
            continue;
        }
        if t == "}" || t.starts_with('}') {
            out.errors
                .push((line_no, "`}` without an open block".into()));
            continue;
        }
        let (head, opens) = match t.find('{') {
            Some(p) => (&t[..p], true),
            None => (t, false),
        };
        let w = words(head);
        let first = w.first().map(String::as_str).unwrap_or("");
        let is_path = first.starts_with('/') || first.starts_with('*') || !pending.is_empty();
        if !opens && !is_path {
            // A global directive.
            if first == "include" {
                match w.get(1) {
                    Some(target) => out.includes.push((target.clone(), line_no)),
                    None => out.errors.push((line_no, "include without a path".into())),
                }
            }
            continue;
        }
        if pending.is_empty() {
            pending_line = line_no;
            pending_text = raw.to_string();
        }
        pending.extend(w);
        if opens {
            let rest = t[t.find('{').map_or(t.len(), |p| p + 1)..].trim();
            if pending.is_empty() {
                out.errors
                    .push((line_no, "a block without log file paths".into()));
            }
            let mut st = Stanza {
                patterns: std::mem::take(&mut pending),
                path: path.to_string(),
                line: pending_line,
                text: std::mem::take(&mut pending_text),
                directives: Vec::new(),
            };
            // `path { rotate 4 }` on one line.
            let (body, closes) = match rest.strip_suffix('}') {
                Some(b) => (b.trim(), true),
                None => (rest, false),
            };
            if !body.is_empty() {
                let w = words(body);
                st.directives.push(Directive {
                    name: w.first().cloned().unwrap_or_default(),
                    args: w.get(1..).map(|a| a.join(" ")).unwrap_or_default(),
                    line: line_no,
                });
            }
            if closes {
                out.stanzas.push(st);
            } else {
                current = Some(st);
            }
        }
    }
    if let Some(st) = current {
        out.errors
            .push((st.line, "block opened here is never closed".into()));
    }
    if let Some(start) = in_script {
        out.errors
            .push((start, "script opened here has no endscript".into()));
    }
    if !pending.is_empty() {
        out.errors
            .push((pending_line, "log file paths without a `{` block".into()));
    }
    out
}

/// The whole configuration, includes followed.
#[derive(Debug, Clone, Default)]
pub struct LogrotateConfig {
    /// `/etc/logrotate.conf` exists.
    pub present: bool,
    pub stanzas: Vec<Stanza>,
    /// Files read, in order.
    pub files: Vec<String>,
    pub read_errors: Vec<HostError>,
    /// Syntax errors: (path, line, message).
    pub syntax_errors: Vec<(String, u32, String)>,
}

impl LogrotateConfig {
    pub fn load(host: &Host) -> LogrotateConfig {
        let mut cfg = LogrotateConfig::default();
        match host.read_text(MAIN) {
            Ok(Some(t)) => {
                cfg.present = true;
                cfg.file(host, MAIN, &t.text, 0);
            }
            Ok(None) => {}
            Err(e) => cfg.read_errors.push(e),
        }
        cfg
    }

    fn file(&mut self, host: &Host, path: &str, text: &str, depth: u32) {
        if depth > 8 || self.files.iter().any(|f| f == path) {
            return;
        }
        self.files.push(path.to_string());
        let p = parse(path, text);
        self.stanzas.extend(p.stanzas);
        for (line, msg) in p.errors {
            self.syntax_errors.push((path.to_string(), line, msg));
        }
        for (target, _) in p.includes {
            let meta = host.metadata(&target).ok().flatten();
            let is_dir = meta.is_some_and(|m| m.kind == crate::host::FileKind::Dir);
            let targets: Vec<String> = if is_dir {
                match host.read_dir(&target) {
                    Ok(Some(names)) => names
                        .into_iter()
                        .filter(|n| {
                            !n.starts_with('.') && !TABOO_EXT.iter().any(|x| n.ends_with(x))
                        })
                        .map(|n| format!("{}/{n}", target.trim_end_matches('/')))
                        .collect(),
                    Ok(None) => Vec::new(),
                    Err(e) => {
                        self.read_errors.push(e);
                        Vec::new()
                    }
                }
            } else {
                vec![target]
            };
            for t in targets {
                match host.read_text(&t) {
                    Ok(Some(f)) => self.file(host, &t, &f.text, depth + 1),
                    Ok(None) => {}
                    Err(HostError::NotAFile { .. }) => {}
                    Err(e) => self.read_errors.push(e),
                }
            }
        }
    }

    /// The first stanza whose paths match `log`.
    pub fn covering(&self, log: &str) -> Option<&Stanza> {
        self.stanzas
            .iter()
            .find(|s| s.patterns.iter().any(|p| matches(p, log)))
    }
}

/// Whether a logrotate path pattern (a glob(3) pattern) names `path`.
pub fn matches(pattern: &str, path: &str) -> bool {
    if pattern == path {
        return true;
    }
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    glob::Pattern::new(pattern).is_ok_and(|p| p.matches_with(path, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const APACHE: &str = "/var/log/apache2/*.log {\n\tdaily\n\tmissingok\n\trotate 14\n\tcompress\n\tdelaycompress\n\tnotifempty\n\tcreate 640 root adm\n\tsharedscripts\n\tprerotate\n\t\tif [ -d /etc/logrotate.d/httpd-prerotate ]; then\n\t\t\trun-parts /etc/logrotate.d/httpd-prerotate\n\t\tfi\n\tendscript\n\tpostrotate\n\t\tif pgrep -f ^/usr/sbin/apache2 > /dev/null; then\n\t\t\tinvoke-rc.d apache2 reload 2>&1 | logger -t apache2.logrotate\n\t\tfi\n\tendscript\n}\n";

    #[test]
    fn debian_apache_stanza() {
        let p = parse("/etc/logrotate.d/apache2", APACHE);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.stanzas.len(), 1);
        assert_eq!(p.stanzas[0].patterns, ["/var/log/apache2/*.log"]);
        let names: Vec<&str> = p.stanzas[0]
            .directives
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "daily",
                "missingok",
                "rotate",
                "compress",
                "delaycompress",
                "notifempty",
                "create",
                "sharedscripts",
                "prerotate",
                "postrotate"
            ]
        );
    }

    #[test]
    fn several_paths_quotes_one_line_blocks_and_includes() {
        let text = "# see \"man logrotate\"\nweekly\nrotate 4\ninclude /etc/logrotate.d\n\n/var/log/wtmp { missingok }\n\"/var/log/observations/django.log\" /var/log/observations/access.log\n/var/log/observations/error.log\n{\n    weekly\n    postrotate\n        systemctl kill -s HUP observations.service }\n    endscript\n}\n";
        let p = parse("/etc/logrotate.conf", text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.includes, [("/etc/logrotate.d".to_string(), 4)]);
        assert_eq!(p.stanzas.len(), 2);
        assert_eq!(p.stanzas[0].patterns, ["/var/log/wtmp"]);
        assert_eq!(p.stanzas[0].directives[0].name, "missingok");
        assert_eq!(
            p.stanzas[1].patterns,
            [
                "/var/log/observations/django.log",
                "/var/log/observations/access.log",
                "/var/log/observations/error.log"
            ]
        );
        assert_eq!(p.stanzas[1].line, 7);
    }

    #[test]
    fn syntax_errors_are_kept_with_lines() {
        let p = parse("/x", "/var/log/a.log {\n  daily\n");
        assert_eq!(
            p.errors,
            [(1, "block opened here is never closed".to_string())]
        );
        let p = parse("/x", "}\n/var/log/b.log\n");
        assert_eq!(p.errors.len(), 2);
        let p = parse("/x", "/a {\n postrotate\n  x\n}\n");
        assert_eq!(p.errors[0].1, "block opened here is never closed");
    }

    #[test]
    fn glob_coverage() {
        assert!(matches(
            "/var/log/apache2/*.log",
            "/var/log/apache2/access.log"
        ));
        assert!(!matches(
            "/var/log/apache2/*.log",
            "/var/log/apache2/sub/x.log"
        ));
        assert!(matches(
            "/var/log/observations/*",
            "/var/log/observations/django.log"
        ));
        assert!(!matches(
            "/var/log/observations/*.log",
            "/var/log/observations/.hidden.log"
        ));
        assert!(matches("/var/log/[ab]*.log", "/var/log/app.log"));
        assert!(!matches("/var/log/[", "/var/log/x"));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,400}") {
            let p = parse("/etc/logrotate.d/x", &s);
            for st in &p.stanzas {
                prop_assert!(st.line >= 1);
            }
        }

        #[test]
        fn parse_never_panics_on_logrotate_like_input(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("/var/log/a.log"), Just(" "), Just("{"), Just("}"), Just("\n"),
                    Just("postrotate"), Just("endscript"), Just("include /etc/x"), Just("#"),
                    Just("\"/var/log/q r.log\""), Just("daily"), Just("rotate 4"), Just("*"),
                ],
                0..60,
            )
        ) {
            let s: String = parts.concat();
            let _ = parse("/etc/logrotate.d/x", &s);
        }

        /// Stanzas written one after the other read back with their paths and lines.
        #[test]
        fn stanzas_round_trip(
            blocks in proptest::collection::vec(
                (proptest::collection::vec("/var/log/[a-z]{1,8}/[a-z*]{1,8}\\.log", 1..4), 0u32..3),
                1..6,
            )
        ) {
            let mut text = String::new();
            let mut want = Vec::new();
            for (paths, blanks) in &blocks {
                for _ in 0..*blanks {
                    text.push_str("# comment\n");
                }
                want.push((paths.clone(), text.lines().count() as u32 + 1));
                text.push_str(&format!("{} {{\n    weekly\n    postrotate\n        kill -HUP 1 }}\n    endscript\n}}\n", paths.join(" ")));
            }
            let p = parse("/etc/logrotate.d/x", &text);
            prop_assert!(p.errors.is_empty());
            let got: Vec<(Vec<String>, u32)> = p.stanzas.iter().map(|s| (s.patterns.clone(), s.line)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
