//! Small, allocation-free text scanners the built-in filters share to pull the host out of a
//! message. They read from the right where the daemon formats the tail of a message itself, so a
//! host an attacker typed into a user name (which comes earlier) is never the one returned.

use crate::addr::{self, Host};
use memchr::memmem::Finder;
use std::sync::LazyLock;

/// A forward substring searcher built once.
pub type Needle = LazyLock<Finder<'static>>;

/// A literal searched from the right by one of its bytes (the pivot, chosen rare): messages are
/// a few dozen bytes, where a `memrchr` and a compare beat a general searcher. Occurrences do
/// not overlap, as with `memchr::memmem::FinderRev`'s iterator.
#[derive(Debug, Clone, Copy)]
pub struct Rev {
    lit: &'static [u8],
    pivot: usize,
}

impl Rev {
    /// `lit` searched by its byte at `pivot` (clamped into the literal).
    pub const fn new(lit: &'static [u8], pivot: usize) -> Rev {
        let pivot = if pivot < lit.len() {
            pivot
        } else {
            lit.len().saturating_sub(1)
        };
        Rev { lit, pivot }
    }

    /// Offset of the last occurrence in `hay`.
    pub fn rfind(&self, hay: &[u8]) -> Option<usize> {
        self.rfind_iter(hay).next()
    }

    /// Offsets of the occurrences in `hay`, last first.
    pub fn rfind_iter<'h>(&self, hay: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
        let Rev { lit, pivot } = *self;
        // The last start a match may have: it must end within `hay[..limit]`.
        let mut limit = hay.len();
        std::iter::from_fn(move || {
            if lit.is_empty() {
                return None;
            }
            let tail = lit.len() - pivot;
            let mut end = (limit + 1).checked_sub(tail)?;
            while let Some(p) = memchr::memrchr(lit[pivot], &hay[..end]) {
                end = p;
                let start = p.checked_sub(pivot)?;
                if &hay[start..start + lit.len()] == lit {
                    limit = start;
                    return Some(start);
                }
            }
            None
        })
    }
}

const FROM_REV: Rev = Rev::new(b" from ", 1);
const PORT_REV: Rev = Rev::new(b" port ", 1);

/// Byte offset of the first `c` in `s`.
#[inline]
pub fn find_byte(s: &str, c: u8) -> Option<usize> {
    memchr::memchr(c, s.as_bytes())
}

/// Byte offset of the last `c` in `s`.
#[inline]
pub fn rfind_byte(s: &str, c: u8) -> Option<usize> {
    memchr::memrchr(c, s.as_bytes())
}

/// A host found after ` from `: `strong` when the daemon also wrote ` port N` after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromHost {
    pub host: Host,
    pub strong: bool,
    /// Byte offset where ` from ` starts.
    pub at: usize,
}

/// Splits the first space-separated token off `s`.
pub fn token(s: &str) -> (&str, &str) {
    match find_byte(s, b' ') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// `" port N"` at the start of `s`: the rest after it.
pub fn strip_port(s: &str) -> Option<&str> {
    let r = s.strip_prefix(" port ")?;
    let n = r.bytes().take_while(u8::is_ascii_digit).count();
    (n > 0).then(|| &r[n..])
}

/// The host of the last ` from HOST port N` in `s`; failing that, of the last ` from HOST` that
/// ends the message (optionally followed by ` [preauth]`, ` via X`, `:` or ` sshN`). The daemon
/// writes `from HOST port N` after anything a client chose (user names), so the last one is the
/// daemon's own.
pub fn last_from(s: &str) -> Option<FromHost> {
    let mut weak: Option<FromHost> = None;
    for at in FROM_REV.rfind_iter(s.as_bytes()) {
        let after = &s[at + 6..];
        let (tok, rest) = token(after);
        let Some(host) = addr::parse_host(tok) else {
            continue;
        };
        if strip_port(rest).is_some() {
            return Some(FromHost {
                host,
                strong: true,
                at,
            });
        }
        if weak.is_none() && ends_message(rest) {
            weak = Some(FromHost {
                host,
                strong: false,
                at,
            });
        }
    }
    weak
}

/// Whether `rest` (what follows a host) ends the message as daemons do: nothing, trailing
/// spaces, ` [preauth]`, ` via X`, ` sshN` or a `:` clause.
fn ends_message(rest: &str) -> bool {
    let r = rest.trim_end();
    r.is_empty()
        || r == " [preauth]"
        || r.starts_with(':')
        || (r.starts_with(" via ") && !r[5..].contains(' '))
        || r.strip_prefix(" ssh")
            .is_some_and(|v| v.bytes().all(|c| c.is_ascii_digit()) || v.ends_with(" [preauth]"))
}

/// `HOST[ port N][ [preauth]]` ending `s`, after the prefix the caller stripped: returns the host
/// and whether `[preauth]` was present. The host is the last token before the port.
pub fn host_at_end(s: &str) -> Option<(Host, bool, &str)> {
    let (tok, preauth, before) = host_at_end_raw(s);
    Some((addr::parse_host(tok)?, preauth, before))
}

/// [`host_at_end`] without parsing the host token.
pub fn host_at_end_raw(s: &str) -> (&str, bool, &str) {
    let s = s.trim_end();
    let (s, preauth) = match s.strip_suffix("[preauth]") {
        Some(r) => (r.trim_end(), true),
        None => (s, false),
    };
    let s = match PORT_REV.rfind(s.as_bytes()) {
        Some(i) if addr::is_digits(&s[i + 6..]) => &s[..i],
        _ => s,
    };
    match rfind_byte(s, b' ') {
        Some(i) => (&s[i + 1..], preauth, &s[..i]),
        None => (s, preauth, ""),
    }
}

/// The token right after `prefix` at the start of `s`, as a host.
pub fn host_after<'a>(s: &'a str, prefix: &str) -> Option<(Host, &'a str)> {
    let r = s.strip_prefix(prefix)?;
    let (tok, rest) = token(r);
    let tok = tok.trim_end_matches([':', ',', ';']);
    Some((addr::parse_host(tok)?, rest))
}

/// ASCII case-insensitive `starts_with`.
pub fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn last_from_prefers_the_daemons_port_clause() {
        let f = |s| last_from(s).map(|f| f.host);
        assert_eq!(
            f("for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2"),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            f("for user from 127.0.0.1 port 20000 ssh1: ruser from 1.2.3.4"),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            f("for invalid user from 10.10.1.1 from 127.0.0.1 port 58946 ssh2"),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            f("for invalid user ROOT from aaaa:bbbb:cccc:1234::1:1"),
            Some(ip("aaaa:bbbb:cccc:1234::1:1"))
        );
        assert_eq!(
            f("for james from example.com via 192.168.1.201"),
            Some(Host::Name("example.com".into()))
        );
        assert_eq!(f("for x from 1.2.3.4 and more"), None);
    }

    #[test]
    fn host_at_end_reads_from_the_right() {
        let (h, pre, before) = host_at_end(
            "authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]",
        )
        .unwrap();
        assert_eq!((h, pre), (ip("192.0.2.11"), true));
        assert_eq!(before, "authenticating user test 127.0.0.1 port 12345");
        let (h, pre, _) = host_at_end("192.0.2.5").unwrap();
        assert_eq!((h, pre), (ip("192.0.2.5"), false));
    }

    proptest! {
        #[test]
        fn rev_finds_what_memmem_finds(hay in "[ a-z]{0,60}", lit in "[ a-z]{1,6}", pivot in 0usize..8) {
            let lit: &'static [u8] = Box::leak(lit.into_bytes().into_boxed_slice());
            let ours: Vec<usize> = Rev::new(lit, pivot).rfind_iter(hay.as_bytes()).collect();
            let finder = memchr::memmem::FinderRev::new(lit);
            let theirs: Vec<usize> = finder.rfind_iter(hay.as_bytes()).collect();
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn scanners_never_panic(s in ".{0,100}") {
            let _ = last_from(&s);
            let _ = host_at_end(&s);
            let _ = host_after(&s, "from ");
        }

        #[test]
        fn injected_user_never_wins(user in "[a-z0-9 .:]{0,40}", a: u32, b: u32) {
            let fake = std::net::Ipv4Addr::from(a);
            let real = std::net::Ipv4Addr::from(b);
            let line = format!("for invalid user {user} from {fake} port 22 ssh2 from {real} port 4242 ssh2");
            prop_assert_eq!(last_from(&line).map(|f| f.host), Some(ip(&real.to_string())));
        }
    }
}
