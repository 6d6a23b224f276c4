//! Port and address vocabulary shared by the firewall parsers: port sets and ranges, the service
//! names of `/etc/services` that firewall files use (`ssh`, `https`), and which source addresses
//! count as "restricted" (private ranges, narrow prefixes) rather than the whole internet.

use std::fmt;
use std::net::IpAddr;

/// A set of ports, as sorted, merged, inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
}

impl PortSet {
    pub fn all() -> PortSet {
        PortSet {
            ranges: vec![(0, u16::MAX)],
        }
    }

    pub fn single(p: u16) -> PortSet {
        PortSet {
            ranges: vec![(p, p)],
        }
    }

    pub fn from_ranges(it: impl IntoIterator<Item = (u16, u16)>) -> PortSet {
        let mut ranges: Vec<(u16, u16)> =
            it.into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect();
        ranges.sort_unstable();
        PortSet {
            ranges: merge_sorted(ranges),
        }
    }

    /// Add a range. Appending after the last range (the common case) is O(1).
    pub fn add(&mut self, lo: u16, hi: u16) {
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        match self.ranges.last_mut() {
            None => self.ranges.push((lo, hi)),
            Some(last) if u32::from(lo) > u32::from(last.1) + 1 => self.ranges.push((lo, hi)),
            Some(last) if lo >= last.0 => last.1 = last.1.max(hi),
            Some(_) => {
                let pos = self.ranges.partition_point(|r| r.0 < lo);
                self.ranges.insert(pos, (lo, hi));
                self.ranges = merge_sorted(std::mem::take(&mut self.ranges));
            }
        }
    }

    pub fn extend(&mut self, other: &PortSet) {
        if other.ranges.len() <= 2 {
            for &(a, b) in &other.ranges {
                self.add(a, b);
            }
            return;
        }
        let mut all = std::mem::take(&mut self.ranges);
        all.extend_from_slice(&other.ranges);
        all.sort_unstable();
        self.ranges = merge_sorted(all);
    }

    pub fn contains(&self, p: u16) -> bool {
        // The first range ending at or after p is the only candidate.
        let i = self.ranges.partition_point(|&(_, b)| b < p);
        self.ranges.get(i).is_some_and(|&(a, _)| a <= p)
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }

    /// Ports of `self` not in `other` (both sorted: one linear sweep).
    pub fn minus(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::default();
        let mut j = 0;
        for &(a, b) in &self.ranges {
            let mut start = u32::from(a);
            let end = u32::from(b);
            while j < other.ranges.len() && u32::from(other.ranges[j].1) < start {
                j += 1;
            }
            let mut k = j;
            while k < other.ranges.len() && u32::from(other.ranges[k].0) <= end {
                let (oa, ob) = (u32::from(other.ranges[k].0), u32::from(other.ranges[k].1));
                if oa > start {
                    out.ranges.push((start as u16, (oa - 1) as u16));
                }
                start = start.max(ob + 1);
                if start > end {
                    break;
                }
                k += 1;
            }
            if start <= end {
                out.ranges.push((start as u16, end as u16));
            }
        }
        out
    }

    /// Number of ports in the set.
    pub fn count(&self) -> u32 {
        self.ranges
            .iter()
            .map(|&(a, b)| u32::from(b) - u32::from(a) + 1)
            .sum()
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .ranges
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        if items.len() == 1 {
            f.write_str(&items[0])
        } else {
            write!(f, "{{ {} }}", items.join(", "))
        }
    }
}

/// Merge sorted ranges that overlap or touch.
fn merge_sorted(ranges: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// The service names of Debian's `/etc/services` that firewall configurations commonly use.
const SERVICES: &[(&str, u16)] = &[
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("http", 80),
    ("www", 80),
    ("kerberos", 88),
    ("pop3", 110),
    ("sunrpc", 111),
    ("auth", 113),
    ("ntp", 123),
    ("netbios-ns", 137),
    ("netbios-dgm", 138),
    ("netbios-ssn", 139),
    ("imap2", 143),
    ("imap", 143),
    ("snmp", 161),
    ("ldap", 389),
    ("https", 443),
    ("microsoft-ds", 445),
    ("submissions", 465),
    ("smtps", 465),
    ("ssmtp", 465),
    ("syslog", 514),
    ("submission", 587),
    ("ipp", 631),
    ("ldaps", 636),
    ("rsync", 873),
    ("imaps", 993),
    ("pop3s", 995),
    ("openvpn", 1194),
    ("ms-sql-s", 1433),
    ("nfs", 2049),
    ("mysql", 3306),
    ("postgresql", 5432),
    ("sip", 5060),
    ("xmpp-client", 5222),
    ("mdns", 5353),
    ("x11", 6000),
    ("redis", 6379),
    ("http-alt", 8080),
    ("webcache", 8080),
    ("git", 9418),
    ("zabbix-agent", 10050),
    ("zabbix-trapper", 10051),
    ("memcache", 11211),
    ("mongodb", 27017),
];

/// The port of a service name (`ssh` -> 22), or of a decimal number.
pub fn port_number(s: &str) -> Option<u16> {
    let s = s.trim_matches('"');
    if let Ok(n) = s.parse::<u16>() {
        return Some(n);
    }
    SERVICES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, p)| p)
}

/// Parse a port or a range: `22`, `ssh`, `1000-2000` (nft), `1000:2000` (iptables, ufw), with
/// open ends (`:1024`, `1024:`) as iptables allows.
pub fn port_range(s: &str, sep: char) -> Option<(u16, u16)> {
    match s.split_once(sep) {
        Some((a, b)) => {
            let lo = if a.is_empty() { 0 } else { port_number(a)? };
            let hi = if b.is_empty() {
                u16::MAX
            } else {
                port_number(b)?
            };
            Some((lo.min(hi), lo.max(hi)))
        }
        None => port_number(s).map(|p| (p, p)),
    }
}

/// Whether a source address, prefix or range restricts who may connect. Everything that is not
/// the whole internet counts: private, loopback, link-local and unique-local ranges, prefixes of
/// at least /16 (IPv4) or /32 (IPv6), single hosts, host names and address sets. `0.0.0.0/0`,
/// `::/0` and wide public prefixes do not.
pub fn source_is_restricted(item: &str) -> bool {
    let item = item.trim().trim_matches('"');
    if item.is_empty() || item == "any" {
        return false;
    }
    // Ranges `a-b`: judge by the first address (ranges of the whole internet are rare).
    let item = item.split('-').next().unwrap_or(item);
    let (addr, len) = match item.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok()),
        None => (item, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        // A host name or a set: some sources only.
        return true;
    };
    if is_private(ip) {
        return true;
    }
    match (ip, len) {
        (_, None) => true,
        (IpAddr::V4(_), Some(l)) => l >= 16,
        (IpAddr::V6(_), Some(l)) => l >= 32,
    }
}

/// Private, loopback, link-local, CGNAT and unique-local addresses.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Multicast or broadcast destinations (`224.0.0.251`, `ff02::fb`, `255.255.255.255`): rules for
/// them do not open the host's own addresses.
pub fn dest_is_multicast(item: &str) -> bool {
    let item = item.trim().trim_matches('"');
    let addr = item.split('/').next().unwrap_or(item);
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_multicast() || v4.is_broadcast(),
        Ok(IpAddr::V6(v6)) => v6.is_multicast(),
        Err(_) => false,
    }
}

/// Interface names that are not the way in from the internet: loopback, VPN tunnels, container
/// and VM bridges. A rule accepting traffic on them does not open a port to the world.
pub fn iface_is_internal(name: &str) -> bool {
    let n = name.trim_matches('"');
    n == "lo"
        || [
            "wg",
            "tun",
            "tap",
            "tailscale",
            "zt",
            "docker",
            "br-",
            "virbr",
            "veth",
            "lxc",
            "lxd",
            "cni",
            "flannel",
            "cali",
            "podman",
            "nebula",
        ]
        .iter()
        .any(|p| n.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_merge_and_subtract() {
        let set = PortSet::from_ranges([(80, 80), (22, 22), (81, 90), (443, 443)]);
        assert_eq!(set.ranges(), &[(22, 22), (80, 90), (443, 443)]);
        let rest = set.minus(&PortSet::from_ranges([(22, 22), (80, 80), (443, 443)]));
        assert_eq!(rest.ranges(), &[(81, 90)]);
        assert_eq!(PortSet::all().minus(&PortSet::all()).count(), 0);
        assert_eq!(rest.to_string(), "81-90");
    }

    #[test]
    fn service_names_and_ranges() {
        assert_eq!(port_number("ssh"), Some(22));
        assert_eq!(port_number("HTTPS"), Some(443));
        assert_eq!(port_number("nope"), None);
        assert_eq!(port_range("1000-2000", '-'), Some((1000, 2000)));
        assert_eq!(port_range(":1024", ':'), Some((0, 1024)));
        assert_eq!(port_range("60000:", ':'), Some((60000, 65535)));
    }

    #[test]
    fn source_scopes() {
        for r in [
            "10.0.0.0/8",
            "192.168.1.0/24",
            "203.0.113.7",
            "198.51.100.0/24",
            "fd00::/8",
            "fe80::/10",
            "2001:db8::/32",
            "admin.example.org",
        ] {
            assert!(source_is_restricted(r), "{r}");
        }
        for o in ["0.0.0.0/0", "::/0", "any", "1.0.0.0/1", "2000::/3"] {
            assert!(!source_is_restricted(o), "{o}");
        }
    }

    proptest! {
        #[test]
        fn add_matches_from_ranges(a in proptest::collection::vec((0u16..300, 0u16..300), 0..12), p in 0u16..320) {
            let mut one = PortSet::default();
            for &(x, y) in &a {
                one.add(x, y);
            }
            let all = PortSet::from_ranges(a.iter().copied());
            prop_assert_eq!(&one, &all);
            prop_assert_eq!(one.contains(p), a.iter().any(|&(x, y)| x.min(y) <= p && p <= x.max(y)));
            for w in one.ranges().windows(2) {
                prop_assert!(u32::from(w[0].1) + 1 < u32::from(w[1].0));
            }
        }

        #[test]
        fn minus_is_disjoint_and_within(a in proptest::collection::vec((0u16..2000, 0u16..2000), 0..8),
                                        b in proptest::collection::vec((0u16..2000, 0u16..2000), 0..8),
                                        p in 0u16..2100) {
            let sa = PortSet::from_ranges(a);
            let sb = PortSet::from_ranges(b);
            let d = sa.minus(&sb);
            prop_assert_eq!(d.contains(p), sa.contains(p) && !sb.contains(p));
        }

        #[test]
        fn port_parsers_never_panic(s in "\\PC{0,20}") {
            let _ = port_range(&s, '-');
            let _ = port_range(&s, ':');
            let _ = source_is_restricted(&s);
            let _ = dest_is_multicast(&s);
        }
    }
}
