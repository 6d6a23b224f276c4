//! Addresses as logs write them: parsing a host token (IPv4, IPv6, IPv4-mapped IPv6, bracketed
//! `[v6]:port`, DNS names), the ban key an address maps to (the address itself or its IPv6 /64),
//! and CIDR allow lists. No DNS resolution happens here or anywhere in the guard: a name in a log
//! is reported but never banned.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The host a log line blamed: an address, or a name the daemon logged (for example with sshd's
/// `UseDNS yes`), which the guard reports but cannot ban.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A numeric address (IPv4-mapped IPv6 addresses are folded to IPv4).
    Ip(IpAddr),
    /// A DNS name or any other non-numeric host text.
    Name(Box<str>),
}

impl Host {
    /// The address, when the host is numeric.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => ip.fmt(f),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// Folds an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) to the IPv4 address it carries.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Parses an exact address token: `192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1`,
/// `[2001:db8::1]`. Leading zeros in IPv4 octets are refused (their meaning is ambiguous).
pub fn parse_ip(token: &str) -> Option<IpAddr> {
    let t = token
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(token);
    if t.is_empty() || t.len() > 45 {
        return None;
    }
    let b = t.as_bytes();
    if b[0].is_ascii_digit() {
        if let Some(v4) = parse_v4(b) {
            return Some(IpAddr::V4(v4));
        }
        if b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
            return None;
        }
    }
    parse_v6(b).map(|v6| canonical(IpAddr::V6(v6)))
}

/// IPv6 text as `std` reads it (groups of 1 to 4 hex digits, one `::` standing for at least
/// one zero group, a dotted IPv4 as the last 32 bits), in one pass without backtracking: the
/// standard parser is generic and tries alternatives.
fn parse_v6(b: &[u8]) -> Option<Ipv6Addr> {
    let mut groups = [0u16; 8];
    let mut n = 0;
    // Where `::` stands, as a count of groups before it.
    let mut gap: Option<usize> = None;
    let mut i = 0;
    if b.starts_with(b"::") {
        gap = Some(0);
        i = 2;
        if i == b.len() {
            return Some(Ipv6Addr::UNSPECIFIED);
        }
    }
    loop {
        let start = i;
        let mut v: u16 = 0;
        while i < b.len() && i - start < 4 {
            let d = match b[i] {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                c @ b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            v = (v << 4) | u16::from(d);
            i += 1;
        }
        if i == start {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            // The last 32 bits as a dotted quad: two groups, and the end of the text.
            if n > 6 {
                return None;
            }
            let v4 = parse_v4(&b[start..])?.octets();
            groups[n] = u16::from_be_bytes([v4[0], v4[1]]);
            groups[n + 1] = u16::from_be_bytes([v4[2], v4[3]]);
            n += 2;
            break;
        }
        if n == 8 {
            return None;
        }
        groups[n] = v;
        n += 1;
        if i == b.len() {
            break;
        }
        if b[i] != b':' {
            return None;
        }
        i += 1;
        if b.get(i) == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            gap = Some(n);
            i += 1;
            if i == b.len() {
                break;
            }
        } else if i == b.len() {
            return None;
        }
    }
    match gap {
        None if n == 8 => Some(Ipv6Addr::from(groups)),
        Some(at) if n <= 7 => {
            let mut out = [0u16; 8];
            out[..at].copy_from_slice(&groups[..at]);
            let tail = n - at;
            out[8 - tail..].copy_from_slice(&groups[at..n]);
            Some(Ipv6Addr::from(out))
        }
        _ => None,
    }
}

/// Dotted-quad IPv4 without leading zeros, exactly the whole input.
fn parse_v4(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, o) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v: u32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            v = v * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || v > 255 || (len > 1 && b[start] == b'0') {
            return None;
        }
        *o = v as u8;
    }
    (i == b.len()).then(|| Ipv4Addr::from(octets))
}

/// Parses a host token: an address, else a DNS-like name (letters, digits, `.`, `-`, `_`, with
/// at least one dot or letter). Anything else (empty, spaces, punctuation) is not a host.
pub fn parse_host(token: &str) -> Option<Host> {
    if let Some(ip) = parse_ip(token) {
        return Some(Host::Ip(ip));
    }
    if token.is_empty() || token.len() > 253 {
        return None;
    }
    let b = token.as_bytes();
    let name_like = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'));
    let first_ok = b[0].is_ascii_alphanumeric();
    let has_dot_or_alpha = b.iter().any(|c| *c == b'.' || c.is_ascii_alphabetic());
    if name_like && first_ok && has_dot_or_alpha {
        Some(Host::Name(token.into()))
    } else {
        None
    }
}

/// Splits `HOST:PORT` / `[V6]:PORT` / `HOST` (as Apache writes `[client 192.0.2.1:51380]`) and
/// parses the host part. A bare IPv6 address without brackets is taken whole.
pub fn parse_host_port(token: &str) -> Option<Host> {
    if let Some(rest) = token.strip_prefix('[') {
        let end = rest.find(']')?;
        let tail = &rest[end + 1..];
        if !(tail.is_empty() || (tail.starts_with(':') && is_digits(&tail[1..]))) {
            return None;
        }
        return parse_ip(&rest[..end]).map(Host::Ip);
    }
    if let Some(h) = parse_host(token) {
        return Some(h);
    }
    let (h, p) = token.rsplit_once(':')?;
    if is_digits(p) && !h.contains(':') {
        parse_host(h)
    } else {
        None
    }
}

pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// A network in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr {
    /// The network address (host bits cleared).
    pub addr: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// The network `addr/prefix`, host bits cleared; `None` if the prefix is too long.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Cidr> {
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return None;
        }
        Some(Cidr {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    /// A single address (`/32` or `/128`).
    pub fn host(addr: IpAddr) -> Cidr {
        let addr = canonical(addr);
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        Cidr { addr, prefix }
    }

    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }

    /// Whether this is a single address.
    pub fn is_host(&self) -> bool {
        self.prefix == if self.addr.is_ipv4() { 32 } else { 128 }
    }
}

/// Clears the host bits of `ip` beyond `prefix`.
pub fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix.min(32)))
            };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix.min(128)))
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_host() {
            self.addr.fmt(f)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let bad = || format!("`{s}` is not an address or a CIDR network");
        match s.split_once('/') {
            None => parse_ip(s).map(Cidr::host).ok_or_else(bad),
            Some((a, p)) => {
                let ip = parse_ip(a).ok_or_else(bad)?;
                let p: u8 = p.parse().map_err(|_| bad())?;
                Cidr::new(ip, p).ok_or_else(bad)
            }
        }
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;
    fn try_from(s: String) -> Result<Cidr, String> {
        s.parse()
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.to_string()
    }
}

/// A list of networks never to ban.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    nets: Vec<Cidr>,
}

impl AllowList {
    /// An allow list of the given networks.
    pub fn new(nets: Vec<Cidr>) -> AllowList {
        AllowList { nets }
    }

    /// Adds a network.
    pub fn push(&mut self, net: Cidr) {
        if !self.nets.contains(&net) {
            self.nets.push(net);
        }
    }

    /// Whether `ip` is allowed (never banned).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The networks, in order.
    pub fn nets(&self) -> &[Cidr] {
        &self.nets
    }
}

/// The host's own addresses, from `/proc/net/fib_trie` (IPv4 `LOCAL` routes) and
/// `/proc/net/if_inet6`; empty if they cannot be read. Used to never ban ourselves.
pub fn own_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Ok(t) = std::fs::read_to_string("/proc/net/fib_trie") {
        let mut last: Option<Ipv4Addr> = None;
        for line in t.lines() {
            let l = line.trim_start_matches([' ', '|', '+', '-']);
            if let Some(a) = l.split_whitespace().next().and_then(|a| a.parse().ok()) {
                last = Some(a);
            } else if l.contains("/32 host LOCAL") {
                if let Some(a) = last {
                    if !out.contains(&IpAddr::V4(a)) {
                        out.push(IpAddr::V4(a));
                    }
                }
            }
        }
    }
    if let Ok(t) = std::fs::read_to_string("/proc/net/if_inet6") {
        for line in t.lines() {
            let Some(hex) = line.split_whitespace().next() else {
                continue;
            };
            if let Ok(n) = u128::from_str_radix(hex, 16) {
                let ip = IpAddr::V6(Ipv6Addr::from(n));
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_forms_logs_use() {
        assert_eq!(parse_ip("192.0.2.1"), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(parse_ip("::ffff:1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(
            parse_ip("[2001:db8::1]"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_ip("192.030.0.6"), None, "leading zeros are ambiguous");
        assert_eq!(
            parse_host("192.030.0.6"),
            Some(Host::Name("192.030.0.6".into()))
        );
        assert_eq!(
            parse_host("example.com"),
            Some(Host::Name("example.com".into()))
        );
        assert_eq!(parse_host("-"), None);
        assert_eq!(parse_host(""), None);
        assert_eq!(
            parse_host_port("[2001:db8::80da:af6b:8b2c]:51548"),
            Some(Host::Ip("2001:db8::80da:af6b:8b2c".parse().unwrap()))
        );
        assert_eq!(
            parse_host_port("127.0.0.1:51380"),
            Some(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            parse_host_port("2001:db8::80da:af6b:8b2c"),
            Some(Host::Ip("2001:db8::80da:af6b:8b2c".parse().unwrap()))
        );
    }

    #[test]
    fn cidr_contains_and_masks() {
        let n: Cidr = "192.0.2.77/24".parse().unwrap();
        assert_eq!(n.to_string(), "192.0.2.0/24");
        assert!(n.contains("192.0.2.200".parse().unwrap()));
        assert!(n.contains("::ffff:192.0.2.5".parse().unwrap()));
        assert!(!n.contains("192.0.3.1".parse().unwrap()));
        let v6: Cidr = "2001:db8:1:2::/64".parse().unwrap();
        assert!(v6.contains("2001:db8:1:2:ffff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db8:1:3::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
    }

    proptest! {
        #[test]
        fn parse_host_never_panics(s in ".{0,80}") {
            let _ = parse_host(&s);
            let _ = parse_host_port(&s);
            let _ = s.parse::<Cidr>();
        }

        #[test]
        fn ipv4_fast_parser_agrees_with_std(s in "[0-9.]{1,18}") {
            let ours = parse_ip(&s);
            let std = Ipv4Addr::from_str(&s).ok().map(IpAddr::V4);
            prop_assert_eq!(ours, std);
        }

        #[test]
        fn ipv6_fast_parser_agrees_with_std(s in "[0-9a-fA-F:.]{0,41}") {
            let ours = parse_v6(s.as_bytes());
            let std = Ipv6Addr::from_str(&s).ok();
            prop_assert_eq!(ours, std, "{}", s);
        }

        #[test]
        fn ipv6_fast_parser_agrees_with_std_on_near_addresses(
            groups in proptest::collection::vec("[0-9a-f]{0,5}", 0..10),
            gap in 0usize..10,
            v4 in proptest::option::of("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,4}"),
        ) {
            let mut s = String::new();
            for (k, g) in groups.iter().enumerate() {
                if k > 0 { s.push(':'); }
                if k == gap { s.push(':'); }
                s.push_str(g);
            }
            if let Some(v4) = v4 {
                s.push(':');
                s.push_str(&v4);
            }
            prop_assert_eq!(parse_v6(s.as_bytes()), Ipv6Addr::from_str(&s).ok(), "{}", s);
        }

        #[test]
        fn ipv4_round_trips(a: u32) {
            let ip = IpAddr::V4(Ipv4Addr::from(a));
            prop_assert_eq!(parse_ip(&ip.to_string()), Some(ip));
        }

        #[test]
        fn ipv6_round_trips(a: u128) {
            let ip = IpAddr::V6(Ipv6Addr::from(a));
            prop_assert_eq!(parse_ip(&ip.to_string()), Some(canonical(ip)));
        }

        #[test]
        fn cidr_contains_its_addresses(a: u32, p in 0u8..=32) {
            let ip = IpAddr::V4(Ipv4Addr::from(a));
            let net = Cidr::new(ip, p).unwrap();
            prop_assert!(net.contains(ip));
            prop_assert_eq!(net.to_string().parse::<Cidr>().unwrap(), net);
        }
    }
}
