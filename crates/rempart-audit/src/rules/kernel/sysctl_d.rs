//! The sysctl.d syntax as systemd-sysctl (252, Debian 12) reads it, one file at a time:
//!
//! - empty lines and lines whose first non-blank character is `#` or `;` are comments;
//! - `key = value` (blanks around both are stripped; the value is the rest of the line, trailing
//!   comments included: the kernel then rejects it);
//! - a leading `-` before the key means "ignore a failure to write it";
//! - `-key` alone (no `=`) excludes that key from glob assignments;
//! - `.` and `/` both separate key parts: when the first separator is a `.`, dots and slashes are
//!   swapped (`net.ipv4.conf.eth0/100.rp_filter` is `net/ipv4/conf/eth0.100/rp_filter`);
//! - a key holding `*`, `?` or `[` is a glob over `/proc/sys` paths (systemd 249+).
//!
//! Keys are kept in their `/proc/sys` slash form. Merging files by precedence lives in
//! [`super::sysctl`]; this module never touches the host.

/// One meaningful line of a sysctl.d file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `key = value`.
    Assign(Assignment),
    /// `-key` with no value: the key is excluded from glob assignments.
    Exclude { key: String, line: u32 },
    /// A line systemd-sysctl rejects (it logs a warning and goes on).
    Invalid { line: u32, reason: &'static str },
}

/// A `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Slash form, relative to `/proc/sys` (`net/ipv4/tcp_syncookies`).
    pub key: String,
    pub value: String,
    /// The key was prefixed with `-`: a failed write is not an error.
    pub ignore_failure: bool,
    /// 1-based line number.
    pub line: u32,
    /// The line as written, for evidence.
    pub text: String,
}

impl Assignment {
    /// The key holds glob characters.
    pub fn is_glob(&self) -> bool {
        is_glob(&self.key)
    }
}

/// True when a key holds glob characters.
pub fn is_glob(key: &str) -> bool {
    key.contains(['*', '?', '['])
}

/// Parse the text of one sysctl.d file.
pub fn parse(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let p = raw.trim();
        if p.is_empty() || p.starts_with('#') || p.starts_with(';') {
            continue;
        }
        let (lhs, value) = match p.split_once('=') {
            Some((k, v)) => (k, Some(v.trim())),
            None => match p.strip_prefix('-') {
                Some(k) => (k, None),
                None => {
                    out.push(Entry::Invalid {
                        line,
                        reason: "not an assignment (no `=`)",
                    });
                    continue;
                }
            },
        };
        let mut key = lhs.trim();
        let mut ignore_failure = false;
        if let Some(k) = key.strip_prefix('-') {
            ignore_failure = true;
            key = k.trim_start();
        }
        let key = normalize(key);
        if key.is_empty() {
            out.push(Entry::Invalid {
                line,
                reason: "empty key",
            });
            continue;
        }
        match value {
            Some(value) => out.push(Entry::Assign(Assignment {
                key,
                value: value.to_string(),
                ignore_failure,
                line,
                text: raw.to_string(),
            })),
            None => out.push(Entry::Exclude { key, line }),
        }
    }
    out
}

/// The `/proc/sys` slash form of a key written with dots or slashes. Leading and repeated
/// separators are dropped.
pub fn normalize(key: &str) -> String {
    let first_sep = key.find(['.', '/']);
    let swap = first_sep.is_some_and(|i| key.as_bytes()[i] == b'.');
    let mapped: String = if swap {
        key.chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect()
    } else {
        key.to_string()
    };
    mapped
        .split('/')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The dotted form people write (`net.ipv4.tcp_syncookies`); a dot inside a part (an interface
/// named `eth0.100`) becomes a slash, as sysctl(8) prints it.
pub fn display(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '/' => '.',
            '.' => '/',
            c => c,
        })
        .collect()
}

/// Does glob `pattern` (slash form) match `key` (slash form)? `*` never crosses a `/`, as with
/// glob(3) over `/proc/sys`. An invalid pattern matches nothing.
pub fn glob_matches(pattern: &str, key: &str) -> bool {
    let Ok(p) = glob::Pattern::new(pattern) else {
        return false;
    };
    p.matches_with(
        key,
        glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assigns(text: &str) -> Vec<Assignment> {
        parse(text)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Assign(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn spacing_comments_and_prefixes() {
        let text = "# comment\n; also\n\nnet.ipv4.tcp_syncookies=1\n  kernel.kptr_restrict = 2  \n-net.ipv4.conf.all.rp_filter = 1\nkernel/dmesg_restrict = 1\n";
        let a = assigns(text);
        assert_eq!(a.len(), 4);
        assert_eq!(
            (a[0].key.as_str(), a[0].value.as_str(), a[0].line),
            ("net/ipv4/tcp_syncookies", "1", 4)
        );
        assert_eq!(a[1].key, "kernel/kptr_restrict");
        assert_eq!(a[1].value, "2");
        assert!(a[2].ignore_failure);
        assert_eq!(a[2].key, "net/ipv4/conf/all/rp_filter");
        assert_eq!(a[3].key, "kernel/dmesg_restrict");
        assert_eq!(a[1].text, "  kernel.kptr_restrict = 2  ");
    }

    #[test]
    fn dots_and_slashes_swap_when_the_first_separator_is_a_dot() {
        assert_eq!(
            normalize("net.ipv4.conf.enp3s0/200.forwarding"),
            "net/ipv4/conf/enp3s0.200/forwarding"
        );
        assert_eq!(
            normalize("net/ipv4/conf/enp3s0.200/forwarding"),
            "net/ipv4/conf/enp3s0.200/forwarding"
        );
        assert_eq!(
            display("net/ipv4/conf/enp3s0.200/forwarding"),
            "net.ipv4.conf.enp3s0/200.forwarding"
        );
    }

    #[test]
    fn exclusions_invalid_lines_and_trailing_comments() {
        let e =
            parse("-net.ipv4.conf.all.rp_filter\nkernel.sysrq\nkernel.printk = 4 # noisy\n= 3\n");
        assert_eq!(
            e[0],
            Entry::Exclude {
                key: "net/ipv4/conf/all/rp_filter".into(),
                line: 1
            }
        );
        assert!(matches!(e[1], Entry::Invalid { line: 2, .. }));
        match &e[2] {
            Entry::Assign(a) => assert_eq!(a.value, "4 # noisy"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(e[3], Entry::Invalid { line: 4, .. }));
    }

    #[test]
    fn globs_do_not_cross_separators() {
        assert!(glob_matches(
            "net/ipv4/conf/*/rp_filter",
            "net/ipv4/conf/all/rp_filter"
        ));
        assert!(!glob_matches("net/ipv4/*", "net/ipv4/conf/all/rp_filter"));
        assert!(!glob_matches("net/[", "net/["));
        assert!(assigns("net.ipv4.conf.*.rp_filter = 2\n")[0].is_glob());
    }

    proptest! {
        #[test]
        fn parser_never_panics_and_keeps_line_numbers(s in "\\PC{0,400}") {
            let lines = s.lines().count() as u32;
            for e in parse(&s) {
                let n = match e {
                    Entry::Assign(a) => {
                        prop_assert!(!a.key.is_empty());
                        prop_assert!(!a.key.starts_with('/') && !a.key.ends_with('/'));
                        prop_assert!(!a.key.contains("//"));
                        prop_assert_eq!(a.value.trim(), a.value.as_str());
                        a.line
                    }
                    Entry::Exclude { line, .. } | Entry::Invalid { line, .. } => line,
                };
                prop_assert!(n >= 1 && n <= lines);
            }
        }

        #[test]
        fn written_assignments_read_back(
            parts in proptest::collection::vec("[a-z0-9_]{1,8}", 1..5),
            value in "[a-z0-9 ]{0,12}",
            spaces in 0usize..3,
        ) {
            let key = parts.join(".");
            let pad = " ".repeat(spaces);
            let text = format!("{pad}{key}{pad}={pad}{value}{pad}\n");
            let a = assigns(&text);
            prop_assert_eq!(a.len(), 1);
            prop_assert_eq!(&a[0].key, &parts.join("/"));
            prop_assert_eq!(a[0].value.as_str(), value.trim());
            prop_assert_eq!(display(&a[0].key), key);
        }

        #[test]
        fn display_and_normalize_round_trip(k in "[a-z0-9_]{1,6}([./][a-z0-9_]{1,6}){0,5}") {
            let n = normalize(&k);
            prop_assert_eq!(normalize(&display(&n)), n.clone());
            prop_assert_eq!(normalize(&n), n);
        }
    }
}
