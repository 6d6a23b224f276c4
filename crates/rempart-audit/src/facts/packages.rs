//! Installed packages, from the host's own dpkg database (`/var/lib/dpkg/status`), and Debian
//! version ordering.

use crate::host::HostError;
use crate::rule::{Ctx, Fact};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Where dpkg keeps the state of every package.
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// The installed packages of a Debian-family host.
#[derive(Debug, Clone, Default)]
pub struct Packages {
    /// `None` when the host has no dpkg database (not Debian-like, or a minimal tree).
    pub installed: Option<HashMap<String, String>>,
    pub error: Option<HostError>,
}

impl Packages {
    /// Version of an installed package (`Status: install ok installed`).
    pub fn version(&self, name: &str) -> Option<&str> {
        self.installed.as_ref()?.get(name).map(String::as_str)
    }

    pub fn is_installed(&self, name: &str) -> bool {
        self.version(name).is_some()
    }

    /// True when the host has a dpkg database at all.
    pub fn known(&self) -> bool {
        self.installed.is_some()
    }
}

impl Fact for Packages {
    fn collect(ctx: &Ctx) -> Packages {
        match ctx.host.read_text(DPKG_STATUS) {
            Ok(Some(f)) => Packages {
                installed: Some(parse_status(&f.text)),
                error: None,
            },
            Ok(None) => Packages::default(),
            Err(e) => Packages {
                installed: None,
                error: Some(e),
            },
        }
    }
}

/// Parse dpkg's status file (RFC 822-style stanzas) into installed package -> version.
pub fn parse_status(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for stanza in text.split("\n\n") {
        let mut name = None;
        let mut version = None;
        let mut installed = false;
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package:") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Version:") {
                version = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Status:") {
                installed = v.split_whitespace().last() == Some("installed");
            }
        }
        if let (Some(n), Some(v), true) = (name, version, installed) {
            out.insert(n.to_string(), v.to_string());
        }
    }
    out
}

/// Every `Package:`/`Version:` pair of an APT `Packages` list, whatever its status.
pub fn parse_status_versions(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut name = None;
        let mut version = None;
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package:") {
                name = Some(v.trim());
            } else if let Some(v) = line.strip_prefix("Version:") {
                version = Some(v.trim());
            }
        }
        if let (Some(n), Some(v)) = (name, version) {
            out.push((n, v));
        }
    }
    out
}

/// Compare two Debian versions (`[epoch:]upstream[-revision]`) the way dpkg does.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (ea, ra) = split_epoch(a);
    let (eb, rb) = split_epoch(b);
    ea.cmp(&eb).then_with(|| {
        let (ua, da) = split_revision(ra);
        let (ub, db) = split_revision(rb);
        compare_part(ua, ub).then_with(|| compare_part(da, db))
    })
}

fn split_epoch(v: &str) -> (u64, &str) {
    match v.split_once(':') {
        Some((e, rest)) if e.chars().all(|c| c.is_ascii_digit()) && !e.is_empty() => {
            (e.parse().unwrap_or(0), rest)
        }
        _ => (0, v),
    }
}

fn split_revision(v: &str) -> (&str, &str) {
    match v.rfind('-') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, ""),
    }
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit prefix, compared with dpkg's character order.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ca = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let cb = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ca != cb {
                return ca.cmp(&cb);
            }
            if i < a.len() && !a[i].is_ascii_digit() {
                i += 1;
            }
            if j < b.len() && !b[j].is_ascii_digit() {
                j += 1;
            }
        }
        // Numeric part, compared as numbers (leading zeros ignored).
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let na = trim_zeros(&a[si..i]);
        let nb = trim_zeros(&b[sj..j]);
        let c = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| **c == b'0').count();
    &d[n..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn status_keeps_only_installed_packages() {
        let text = "Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2+deb12u3\n\nPackage: telnetd\nStatus: deinstall ok config-files\nVersion: 0.17-44\n";
        let p = parse_status(text);
        assert_eq!(
            p.get("openssh-server").map(String::as_str),
            Some("1:9.2p1-2+deb12u3")
        );
        assert!(!p.contains_key("telnetd"));
    }

    #[test]
    fn versions_order_like_dpkg() {
        use Ordering::*;
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.1", Less),
            ("1:1.0", "2.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0-1", "1.0-2", Less),
            ("9.2p1-2+deb12u3", "9.2p1-2+deb12u10", Less),
            ("1.10", "1.9", Greater),
            ("1.0a", "1.0+", Less),
            ("2.30-1", "2.3-1", Greater),
            ("1.001", "1.1", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
        }
    }

    proptest! {
        #[test]
        fn version_order_is_antisymmetric(a in "[0-9a-z.+~:-]{0,12}", b in "[0-9a-z.+~:-]{0,12}") {
            prop_assert_eq!(compare_versions(&a, &b), compare_versions(&b, &a).reverse());
        }

        #[test]
        fn status_parser_never_panics(s in "\\PC{0,400}") {
            let _ = parse_status(&s);
        }
    }
}
