//! `Match` lines: their criteria (`User`, `Group`, `Host`, `Address`, `LocalAddress`,
//! `LocalPort`, `RDomain`, `All`), parsed and checked like sshd's `match_cfg_line`, and judged for
//! one connection. Also OpenSSH's pattern matching (`*` and `?` wildcards, comma lists, `!`
//! negation: `match_pattern_list`) and address lists with CIDR (`addr_match_list`), which
//! `AllowUsers user@host` and algorithm lists use too.

use super::lexer::strdelim;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `match_pattern`: `*` matches any run, `?` one character.
pub fn match_pattern(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    // Iterative wildcard matching with one backtrack point per `*` (linear in practice).
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// `match_pattern_list`: 1 when some pattern of the comma list matches, -1 when a negated one
/// (`!pat`) matches (negation wins), 0 otherwise. `lower` lowercases the patterns (host names).
pub fn match_pattern_list(s: &str, list: &str, lower: bool) -> i32 {
    let mut positive = false;
    for sub in list.split(',') {
        let (neg, pat) = match sub.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, sub),
        };
        // sshd refuses sub-patterns of 1023 bytes or more: the whole list does not match.
        if pat.len() >= 1023 {
            return 0;
        }
        let pat = if lower {
            pat.to_ascii_lowercase()
        } else {
            pat.to_string()
        };
        if match_pattern(s, &pat) {
            if neg {
                return -1;
            }
            positive = true;
        }
    }
    i32::from(positive)
}

/// The outcome of `addr_match_list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrMatch {
    Match,
    NoMatch,
    /// A negated entry matched.
    Negated,
    /// The list is malformed (empty entry, bad mask, host bits set): sshd refuses it.
    Invalid,
}

/// Parse an address the way `getaddrinfo(AI_NUMERICHOST)` does: IPv6, or IPv4 in any
/// `inet_aton` form (`10.1`, `0x7f.1`, `127.0.0.1`).
pub fn parse_addr(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        let s = s.split_once('%').map_or(s, |(a, _)| a);
        return s.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    inet_aton(s).map(IpAddr::V4)
}

fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        let (radix, digits) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"))
        {
            (16, h)
        } else if p.len() > 1 && p.starts_with('0') {
            (8, &p[1..])
        } else {
            (10, *p)
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let v = u64::from_str_radix(digits, radix).ok()?;
        if v > u64::from(u32::MAX) {
            return None;
        }
        nums.push(v);
    }
    let last = *nums.last()?;
    let head = &nums[..nums.len() - 1];
    if head.iter().any(|n| *n > 255) {
        return None;
    }
    let tail_bits = 8 * (4 - head.len() as u32);
    if tail_bits < 32 && last >= (1u64 << tail_bits) {
        return None;
    }
    let mut v: u64 = 0;
    for (i, n) in head.iter().enumerate() {
        v |= n << (24 - 8 * i as u32);
    }
    v |= last;
    Some(Ipv4Addr::from(v as u32))
}

/// `addr_pton_cidr`: `addr[/len]`. `Err(true)` for a bad mask (or host bits set), `Err(false)`
/// when it is not an address at all (then sshd tries a wildcard match instead).
fn parse_cidr(s: &str) -> Result<(IpAddr, u32), bool> {
    if s.len() >= 64 {
        return Err(false);
    }
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => {
            if !l.as_bytes().first().is_some_and(u8::is_ascii_digit)
                || !l.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(false);
            }
            let n: u32 = l.parse().unwrap_or(999);
            if n > 128 {
                return Err(false);
            }
            (a, Some(n))
        }
        None => (s, None),
    };
    let ip = parse_addr(addr).ok_or(false)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    if len > max {
        return Err(true);
    }
    if !host_bits_zero(ip, len) {
        return Err(true);
    }
    Ok((ip, len))
}

fn to_bits(ip: IpAddr) -> (u128, u32) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

fn host_bits_zero(ip: IpAddr, len: u32) -> bool {
    let (v, width) = to_bits(ip);
    let host = width - len;
    host == 0 || (v & ((1u128 << host) - 1)) == 0
}

fn in_net(addr: IpAddr, net: IpAddr, len: u32) -> bool {
    if addr.is_ipv4() != net.is_ipv4() {
        return false;
    }
    let (a, width) = to_bits(addr);
    let (n, _) = to_bits(net);
    let host = width - len;
    if host >= 128 {
        return true;
    }
    (a >> host) == (n >> host)
}

/// `addr_match_list(addr, list)`: entries are CIDR networks or wildcard patterns, `!` negates.
/// With `addr = None` the list is only checked (sshd's syntax pass).
pub fn addr_match_list(addr: Option<&str>, list: &str) -> AddrMatch {
    let parsed = match addr {
        Some(a) => match parse_addr(a) {
            Some(ip) => Some((a, ip)),
            None => return AddrMatch::NoMatch,
        },
        None => None,
    };
    let mut result = AddrMatch::NoMatch;
    for entry in list.split(',') {
        let (neg, e) = match entry.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, entry),
        };
        if e.is_empty() {
            return AddrMatch::Invalid;
        }
        let hit = match parse_cidr(e) {
            Err(true) => return AddrMatch::Invalid,
            Ok((net, len)) => parsed.is_some_and(|(_, ip)| in_net(ip, net, len)),
            Err(false) => parsed.is_some_and(|(text, _)| match_pattern(text, e)),
        };
        if hit {
            if neg {
                return AddrMatch::Negated;
            }
            result = AddrMatch::Match;
        }
    }
    result
}

/// One criterion of a `Match` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    All,
    User(String),
    Group(String),
    Host(String),
    Address(String),
    LocalAddress(String),
    LocalPort(u16),
    RDomain(String),
}

impl Criterion {
    /// The criterion as written in sshd_config (`User alice,bob`).
    pub fn describe(&self) -> String {
        match self {
            Criterion::All => "All".into(),
            Criterion::User(p) => format!("User {p}"),
            Criterion::Group(p) => format!("Group {p}"),
            Criterion::Host(p) => format!("Host {p}"),
            Criterion::Address(p) => format!("Address {p}"),
            Criterion::LocalAddress(p) => format!("LocalAddress {p}"),
            Criterion::LocalPort(p) => format!("LocalPort {p}"),
            Criterion::RDomain(p) => format!("RDomain {p}"),
        }
    }
}

/// The result of parsing a `Match` line's criteria.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchLine {
    pub criteria: Vec<Criterion>,
    /// Something was left after the criteria (sshd's "extra arguments at end of line").
    pub trailing: bool,
}

/// Parse the text after `Match` like `match_cfg_line` does in its syntax pass.
pub fn parse_match(rest: &str, port: impl Fn(&str) -> Option<u16>) -> Result<MatchLine, String> {
    let mut cursor = Some(rest.to_string());
    let mut criteria = Vec::new();
    let mut attributes = 0;
    while let Some(attrib) = strdelim(&mut cursor) {
        if attrib.is_empty() {
            break;
        }
        if attrib.starts_with('#') {
            cursor = None;
            break;
        }
        attributes += 1;
        if attrib.eq_ignore_ascii_case("all") {
            let next = strdelim(&mut cursor);
            let extra = next
                .as_ref()
                .is_some_and(|a| !a.is_empty() && !a.starts_with('#'));
            if attributes > 1 || extra {
                return Err("'all' cannot be combined with other Match attributes".into());
            }
            if next.as_ref().is_some_and(|a| a.starts_with('#')) {
                cursor = None;
            }
            criteria.push(Criterion::All);
            return Ok(MatchLine {
                criteria,
                trailing: cursor.as_ref().is_some_and(|c| !c.is_empty()),
            });
        }
        let arg = match strdelim(&mut cursor) {
            Some(a) if !a.is_empty() && !a.starts_with('#') => a,
            _ => return Err(format!("Missing Match criteria for {attrib}")),
        };
        let c = match attrib.to_ascii_lowercase().as_str() {
            "user" => Criterion::User(arg),
            "group" => Criterion::Group(arg),
            "host" => Criterion::Host(arg),
            "address" | "localaddress" => {
                if addr_match_list(None, &arg) == AddrMatch::Invalid {
                    return Err(format!("Invalid Match {attrib} argument '{arg}'"));
                }
                if attrib.eq_ignore_ascii_case("address") {
                    Criterion::Address(arg)
                } else {
                    Criterion::LocalAddress(arg)
                }
            }
            "localport" => match port(&arg) {
                Some(p) => Criterion::LocalPort(p),
                None => return Err(format!("Invalid LocalPort '{arg}' on Match line")),
            },
            "rdomain" => Criterion::RDomain(arg),
            _ => return Err(format!("Unsupported Match attribute {attrib}")),
        };
        criteria.push(c);
    }
    if attributes == 0 {
        return Err("One or more attributes required for Match".into());
    }
    Ok(MatchLine {
        criteria,
        trailing: cursor.as_ref().is_some_and(|c| !c.is_empty()),
    })
}

/// The connection a configuration is evaluated for (`sshd -T -C user=,host=,addr=,...`). A
/// criterion on a field left out does not match (sshd's test mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conn {
    pub user: Option<String>,
    pub host: Option<String>,
    pub addr: Option<String>,
    pub laddr: Option<String>,
    pub lport: Option<u16>,
    pub rdomain: Option<String>,
}

impl Conn {
    /// Parse a `-C` specification: `user=U,host=H,addr=A,laddr=L,lport=P,rdomain=R`.
    pub fn parse(spec: &str) -> Result<Conn, String> {
        let mut c = Conn::default();
        for item in spec.split(',') {
            if item.is_empty() {
                break;
            }
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("invalid connection specification `{item}`"))?;
            let v = v.to_string();
            match k {
                "user" => c.user = Some(v),
                "host" => c.host = Some(v),
                "addr" => c.addr = Some(v),
                "laddr" => c.laddr = Some(v),
                "rdomain" => c.rdomain = Some(v),
                "lport" => {
                    c.lport = Some(
                        v.parse::<u16>()
                            .map_err(|_| format!("invalid port `{v}` in `{item}`"))?,
                    )
                }
                _ => return Err(format!("invalid connection specification `{item}` (user=, host=, addr=, laddr=, lport=, rdomain=)")),
            }
        }
        Ok(c)
    }

    /// True when no field is set: the connection `sshd -T` judges without `-C`.
    pub fn is_default(&self) -> bool {
        *self == Conn::default()
    }
}

/// Why a Match line cannot be judged for a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingField(pub &'static str);

/// Judge a Match line's criteria (all must hold) for `conn`. `groups_of` gives the groups of a
/// user of the host (`None` when the user does not exist). `LocalPort` without a port in the
/// connection is an error when `strict` (sshd refuses it in test mode), else no match.
pub fn matches(
    criteria: &[Criterion],
    conn: &Conn,
    groups_of: &dyn Fn(&str) -> Option<Vec<String>>,
    strict: bool,
) -> Result<bool, MissingField> {
    let mut result = true;
    for c in criteria {
        let ok = match c {
            Criterion::All => return Ok(true),
            Criterion::User(p) => conn
                .user
                .as_deref()
                .is_some_and(|u| match_pattern_list(u, p, false) == 1),
            Criterion::Group(p) => conn.user.as_deref().is_some_and(|u| {
                let groups = groups_of(u).unwrap_or_default();
                let mut found = false;
                for g in &groups {
                    match match_pattern_list(g, p, false) {
                        -1 => return false,
                        1 => found = true,
                        _ => {}
                    }
                }
                found
            }),
            Criterion::Host(p) => conn
                .host
                .as_deref()
                .is_some_and(|h| match_pattern_list(&h.to_ascii_lowercase(), p, true) == 1),
            Criterion::Address(p) => conn
                .addr
                .as_deref()
                .is_some_and(|a| addr_match_list(Some(a), p) == AddrMatch::Match),
            Criterion::LocalAddress(p) => conn
                .laddr
                .as_deref()
                .is_some_and(|a| addr_match_list(Some(a), p) == AddrMatch::Match),
            Criterion::LocalPort(port) => match conn.lport {
                Some(lp) => lp == *port,
                None if strict => return Err(MissingField("lport")),
                None => false,
            },
            Criterion::RDomain(p) => conn
                .rdomain
                .as_deref()
                .is_some_and(|r| match_pattern_list(r, p, false) == 1),
        };
        result &= ok;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wildcards_and_lists() {
        assert!(match_pattern("alice", "a*"));
        assert!(match_pattern("alice", "?lice"));
        assert!(match_pattern("", "*"));
        assert!(!match_pattern("alice", "a?"));
        assert!(match_pattern("a*b", "a*b"));
        assert_eq!(match_pattern_list("alice", "bob,a*", false), 1);
        assert_eq!(match_pattern_list("alice", "*,!alice", false), -1);
        assert_eq!(match_pattern_list("alice", "bob", false), 0);
        assert_eq!(match_pattern_list("web1", "WEB*", true), 1);
    }

    #[test]
    fn address_lists_like_addrmatch() {
        use AddrMatch::*;
        assert_eq!(addr_match_list(Some("10.1.2.3"), "10.0.0.0/8"), Match);
        assert_eq!(addr_match_list(Some("10.1.2.3"), "192.168.0.0/16"), NoMatch);
        assert_eq!(addr_match_list(Some("10.1.2.3"), "10.1.2.*"), Match);
        assert_eq!(
            addr_match_list(Some("10.1.2.3"), "0.0.0.0/0,!10.0.0.0/8"),
            Negated
        );
        assert_eq!(addr_match_list(Some("2001:db8::1"), "2001:db8::/32"), Match);
        assert_eq!(addr_match_list(Some("10.1.2.3"), "2001:db8::/32"), NoMatch);
        assert_eq!(addr_match_list(None, "10.0.0.1/8"), Invalid);
        assert_eq!(addr_match_list(None, "10.0.0.0/33"), Invalid);
        assert_eq!(addr_match_list(None, "10.0.0.0/8,"), Invalid);
        assert_eq!(addr_match_list(None, "host.example"), NoMatch);
        assert_eq!(addr_match_list(Some("127.0.0.1"), "127.1"), Match);
        assert_eq!(addr_match_list(Some("not-an-ip"), "*"), NoMatch);
    }

    #[test]
    fn match_lines_parse_like_sshd() {
        let p = |s: &str| parse_match(s, |p| p.parse().ok());
        assert_eq!(
            p("User alice,bob Address 10.0.0.0/8").unwrap().criteria,
            vec![
                Criterion::User("alice,bob".into()),
                Criterion::Address("10.0.0.0/8".into())
            ]
        );
        assert_eq!(p("all").unwrap().criteria, vec![Criterion::All]);
        assert_eq!(p("ALL # comment").unwrap().criteria, vec![Criterion::All]);
        assert!(p("all User x").is_err());
        assert!(p("User").is_err());
        assert!(p("Colour blue").is_err());
        assert!(p("Address 10.0.0.1/8").is_err());
        assert!(p("LocalPort http").is_err());
        assert_eq!(
            p("User=root").unwrap().criteria,
            vec![Criterion::User("root".into())]
        );
    }

    #[test]
    fn criteria_judged_for_a_connection() {
        let groups = |u: &str| (u == "ann").then(|| vec!["ann".to_string(), "sudo".to_string()]);
        let conn = Conn::parse("user=ann,addr=10.1.2.3").unwrap();
        let m = |c: Vec<Criterion>| matches(&c, &conn, &groups, true);
        assert_eq!(m(vec![Criterion::Group("sudo".into())]), Ok(true));
        assert_eq!(m(vec![Criterion::Group("sudo,!ann".into())]), Ok(false));
        assert_eq!(
            m(vec![
                Criterion::User("ann".into()),
                Criterion::Address("10.0.0.0/8".into())
            ]),
            Ok(true)
        );
        assert_eq!(m(vec![Criterion::Host("*".into())]), Ok(false));
        assert_eq!(
            m(vec![Criterion::LocalPort(22)]),
            Err(MissingField("lport"))
        );
        assert_eq!(
            matches(&[Criterion::LocalPort(22)], &conn, &groups, false),
            Ok(false)
        );
    }

    proptest! {
        #[test]
        fn a_string_matches_itself_and_star(s in "[a-z0-9.@-]{0,20}") {
            prop_assert!(match_pattern(&s, &s));
            prop_assert!(match_pattern(&s, "*"));
            prop_assert_eq!(match_pattern_list(&s, &format!("!{s}"), false), -1);
        }

        #[test]
        fn match_parsing_never_panics(s in "\\PC{0,80}") {
            let _ = parse_match(&s, |p| p.parse().ok());
            let _ = addr_match_list(Some("10.0.0.1"), &s);
            let _ = addr_match_list(None, &s);
            let _ = Conn::parse(&s);
        }

        #[test]
        fn ipv4_networks_contain_their_addresses(a in any::<u32>(), len in 0u32..=32) {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let net = Ipv4Addr::from(a & mask);
            let list = format!("{net}/{len}");
            prop_assert_eq!(addr_match_list(Some(&Ipv4Addr::from(a).to_string()), &list), AddrMatch::Match);
        }
    }
}
