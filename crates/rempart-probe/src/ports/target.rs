//! What `rempart probe --ports` accepts: ONE host (a name or an address, never a network, a
//! range or a list), and a port specification (`1-65535`, `22,80,443`, `1-1024,8080`).

use crate::ProbeError;
use std::net::{IpAddr, ToSocketAddrs};
use std::ops::RangeInclusive;

/// The host scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTarget {
    /// As given on the command line.
    pub input: String,
    /// The address scanned.
    pub addr: IpAddr,
    /// Other addresses the name resolved to, not scanned.
    pub others: Vec<IpAddr>,
}

/// Refuse anything that names more than one host; return the literal address if it is one.
pub fn check_single_host(input: &str) -> Result<Option<IpAddr>, ProbeError> {
    let s = input.trim();
    let refuse = |why: &str| {
        Err(ProbeError::Target(format!(
            "`{input}` {why}: rempart probe --ports scans one host you own, given by name or address"
        )))
    };
    if s.is_empty() {
        return refuse("is empty");
    }
    if s.contains("://") {
        return refuse("is a URL (give the host name alone)");
    }
    if s.contains('/') {
        return refuse("is a network (CIDR); ranges are refused");
    }
    if s.contains([',', ' ', '\t', ';']) {
        return refuse("names several hosts");
    }
    if s.contains(['*', '?']) {
        return refuse("holds a wildcard");
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        if ip.is_unspecified() || ip.is_multicast() {
            return refuse("is not a single host's address");
        }
        if let IpAddr::V4(v4) = ip {
            if v4.is_broadcast() {
                return refuse("is a broadcast address");
            }
        }
        return Ok(Some(ip));
    }
    // `10.0.0.1-20`, `10.0.0-3.1`: nmap-style octet ranges.
    if s.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && s.contains('.')
    {
        return refuse("is an address range");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        || s.starts_with('-')
        || s.len() > 253
    {
        return refuse("is not a host name");
    }
    Ok(None)
}

/// Resolve the host: a literal address is used as is; a name resolving to several addresses
/// is scanned on its first IPv4 address (else its first address), the others are reported.
pub fn resolve(input: &str) -> Result<ScanTarget, ProbeError> {
    if let Some(addr) = check_single_host(input)? {
        return Ok(ScanTarget {
            input: input.to_string(),
            addr,
            others: Vec::new(),
        });
    }
    let name = input.trim();
    let addrs: Vec<IpAddr> = (name, 0u16)
        .to_socket_addrs()
        .map_err(|e| ProbeError::Resolve {
            host: name.to_string(),
            message: e.to_string(),
        })?
        .map(|a| a.ip())
        .collect();
    let mut unique: Vec<IpAddr> = Vec::new();
    for a in addrs {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    let pick = unique
        .iter()
        .copied()
        .find(IpAddr::is_ipv4)
        .or_else(|| unique.first().copied())
        .ok_or_else(|| ProbeError::Resolve {
            host: name.to_string(),
            message: "no address".into(),
        })?;
    Ok(ScanTarget {
        input: input.to_string(),
        addr: pick,
        others: unique.into_iter().filter(|a| *a != pick).collect(),
    })
}

/// A set of ports to scan, as sorted, merged inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec(Vec<RangeInclusive<u16>>);

impl PortSpec {
    /// Every TCP port, 1 to 65535.
    pub fn all() -> PortSpec {
        PortSpec(vec![1..=65535])
    }

    /// Parse `1-65535`, `22,80,443`, `1-1024,8080`, `-` (all). Port 0 is refused.
    pub fn parse(s: &str) -> Result<PortSpec, String> {
        let s = s.trim();
        if s == "-" || s.eq_ignore_ascii_case("all") {
            return Ok(PortSpec::all());
        }
        let mut ranges = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (part, part),
            };
            let lo = parse_port(if a.is_empty() { "1" } else { a })?;
            let hi = parse_port(if b.is_empty() { "65535" } else { b })?;
            if lo > hi {
                return Err(format!("`{part}`: the range is reversed"));
            }
            ranges.push(lo..=hi);
        }
        ranges.sort_by_key(|r| *r.start());
        let mut merged: Vec<RangeInclusive<u16>> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if u32::from(*r.start()) <= u32::from(*last.end()) + 1 => {
                    if r.end() > last.end() {
                        *last = *last.start()..=*r.end();
                    }
                }
                _ => merged.push(r),
            }
        }
        Ok(PortSpec(merged))
    }

    pub fn ranges(&self) -> &[RangeInclusive<u16>] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|r| r.clone().count()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.0.iter().flat_map(|r| r.clone())
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|r| r.contains(&port))
    }
}

impl std::fmt::Display for PortSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|r| {
                if r.start() == r.end() {
                    r.start().to_string()
                } else {
                    format!("{}-{}", r.start(), r.end())
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(0) => Err("port 0 cannot be scanned".into()),
        Ok(p) => Ok(p),
        Err(_) => Err(format!("`{s}` is not a port number (1-65535)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_host_only() {
        assert_eq!(
            check_single_host("10.200.0.2").unwrap(),
            Some("10.200.0.2".parse().unwrap())
        );
        assert_eq!(
            check_single_host("[::1]").unwrap(),
            Some("::1".parse().unwrap())
        );
        assert_eq!(check_single_host("vps.example.org").unwrap(), None);
        for bad in [
            "10.0.0.0/24",
            "10.0.0.1-20",
            "10.0.0-3.1",
            "a.example,b.example",
            "a b",
            "*.example.org",
            "https://example.org",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "",
            "-oX",
            "::/0",
        ] {
            assert!(check_single_host(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn port_specs() {
        assert_eq!(PortSpec::parse("1-65535").unwrap(), PortSpec::all());
        assert_eq!(PortSpec::parse("-").unwrap().len(), 65535);
        let p = PortSpec::parse("443, 22,80,21-23,8000-8100").unwrap();
        assert_eq!(p.to_string(), "21-23,80,443,8000-8100");
        assert_eq!(p.len(), 3 + 1 + 1 + 101);
        assert!(p.contains(22) && !p.contains(24));
        assert!(PortSpec::parse("0").is_err());
        assert!(PortSpec::parse("10-5").is_err());
        assert!(PortSpec::parse("70000").is_err());
        assert!(PortSpec::parse("http").is_err());
        assert_eq!(
            PortSpec::parse("60000-").unwrap().to_string(),
            "60000-65535"
        );
    }

    proptest! {
        #[test]
        fn port_spec_never_panics_and_is_merged(s in "[0-9,\\- ]{0,40}") {
            if let Ok(p) = PortSpec::parse(&s) {
                let r = p.ranges();
                for w in r.windows(2) {
                    prop_assert!(u32::from(*w[0].end()) + 1 < u32::from(*w[1].start()));
                }
                prop_assert!(p.iter().all(|x| x != 0));
                prop_assert_eq!(PortSpec::parse(&p.to_string()).unwrap(), p);
            }
        }

        #[test]
        fn host_check_never_panics(s in "\\PC{0,60}") {
            let _ = check_single_host(&s);
        }

        #[test]
        fn listed_ports_are_all_scanned(ports in proptest::collection::vec(1u16.., 1..30)) {
            let spec = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
            let p = PortSpec::parse(&spec).unwrap();
            for x in &ports {
                prop_assert!(p.contains(*x));
            }
            let mut uniq = ports.clone();
            uniq.sort();
            uniq.dedup();
            prop_assert_eq!(p.len(), uniq.len());
        }
    }
}
