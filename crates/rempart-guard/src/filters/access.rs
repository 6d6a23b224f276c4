//! HTTP access logs in the common / combined log format that Apache, nginx and Traefik write:
//! `[VHOST ]CLIENT IDENT USER [TIME] "METHOD TARGET PROTO" STATUS SIZE ["REFERER" "AGENT" ...]`.
//! Quoted fields may hold `\"`. The client is the first field the server wrote, so a header an
//! attacker sent (referer, agent, `X-Forwarded-For` in a custom field) never becomes the host.
//!
//! Traefik's JSON access log is read by [`super::traefik`], not here.

use crate::addr::{self, Host};
use crate::time::{self, Clock};
use jiff::Timestamp;

/// One access-log line, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access<'a> {
    /// The client.
    pub host: Host,
    /// The authenticated user (`-` when none).
    pub user: &'a str,
    /// The time text between the brackets.
    pub time: &'a str,
    /// The request line (`GET /x HTTP/1.1`), raw.
    pub request: &'a str,
    /// The method (`GET`), empty if the request line is malformed.
    pub method: &'a str,
    /// The request target (`/x?y`), empty if the request line is malformed.
    pub target: &'a str,
    /// The status code.
    pub status: u16,
    /// The referer, when logged.
    pub referer: Option<&'a str>,
    /// The user agent, when logged.
    pub agent: Option<&'a str>,
}

impl Access<'_> {
    /// The line's time.
    pub fn timestamp(&self, clock: &Clock) -> Option<Timestamp> {
        time::clf(clock, self.time).map(|(t, _)| t)
    }
}

fn token(s: &str) -> Option<(&str, &str)> {
    let i = s.find(' ')?;
    Some((&s[..i], &s[i + 1..]))
}

/// A quoted field at the start of `s` (`"..."`, `\"` escapes): its raw inside and the rest.
pub fn quoted(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some((&s[1..i], &s[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

/// Splits an access-log line; `None` if it is not one.
pub fn parse(line: &str) -> Option<Access<'_>> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (first, rest) = token(line)?;
    let (host, rest) = match addr::parse_host(first) {
        Some(Host::Ip(ip)) => (Host::Ip(ip), rest),
        _ => {
            // A virtual host first (`%v %h ...`), or a client name.
            let (second, rest2) = token(rest)?;
            match addr::parse_ip(second) {
                Some(ip) => (Host::Ip(ip), rest2),
                None => (addr::parse_host(first)?, rest),
            }
        }
    };
    let (_ident, rest) = token(rest)?;
    let (user, rest) = token(rest)?;
    let rest = rest.strip_prefix('[')?;
    let close = rest.find(']')?;
    let time = &rest[..close];
    let rest = rest[close + 1..].strip_prefix(' ')?;
    let (request, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(' ')?;
    let (status, rest) = match token(rest) {
        Some(t) => t,
        None => (rest, ""),
    };
    if status.len() != 3 {
        return None;
    }
    let status: u16 = status.parse().ok()?;
    let (method, target) = match request.split_once(' ') {
        Some((m, r)) if !m.is_empty() && m.bytes().all(|c| c.is_ascii_uppercase()) => {
            (m, r.rsplit_once(' ').map_or(r, |(t, _)| t))
        }
        _ => ("", ""),
    };
    // SIZE, then optional "REFERER" "AGENT".
    let (referer, agent) = match token(rest) {
        Some((_size, r)) => match quoted(r) {
            Some((referer, r)) => {
                let agent = r.strip_prefix(' ').and_then(quoted).map(|(a, _)| a);
                (Some(referer), agent)
            }
            None => (None, None),
        },
        None => (None, None),
    };
    Some(Access {
        host,
        user,
        time,
        request,
        method,
        target,
        status,
        referer,
        agent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_combined_and_vhost_lines() {
        let a = parse(r#"1.2.3.4 - bob [05/Mar/2007:14:39:21 +0100] "POST /x/trackback/ HTTP/1.0" 301 459 "http://r/" "TrackBack/1.02""#).unwrap();
        assert_eq!(a.host, Host::Ip("1.2.3.4".parse().unwrap()));
        assert_eq!(
            (a.user, a.method, a.target, a.status),
            ("bob", "POST", "/x/trackback/", 301)
        );
        assert_eq!(a.agent, Some("TrackBack/1.02"));
        let a = parse(r#"www.site.com 192.0.2.222 - - [18/Aug/2024:21:08:39 +0100] "GET /f.jpg HTTP/1.1" 403 332 "-" "UA""#).unwrap();
        assert_eq!(a.host, Host::Ip("192.0.2.222".parse().unwrap()));
        let a = parse(r#"10.0.0.2 - - [18/Nov/2018:21:34:30 +0000] "GET /a\"b HTTP/2.0" 401 17 "-" "M" 72 "Auth" "/d/" 0ms"#).unwrap();
        assert_eq!((a.status, a.target), (401, r#"/a\"b"#));
        assert!(parse("Jun 14 09:15:02 web1 sshd[1]: Failed password").is_none());
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,160}") {
            let _ = parse(&s);
        }

        #[test]
        fn reads_what_it_is_given(a: u32, status in 100u16..600, path in "/[a-z0-9/._-]{0,30}") {
            let ip = std::net::Ipv4Addr::from(a);
            let line = format!("{ip} - - [01/Jan/2025:00:00:00 +0000] \"GET {path} HTTP/1.1\" {status} 12 \"-\" \"curl/8\"");
            let p = parse(&line).unwrap();
            prop_assert_eq!(p.host, Host::Ip(std::net::IpAddr::V4(ip)));
            prop_assert_eq!(p.status, status);
            prop_assert_eq!(p.target, path.as_str());
        }
    }
}
