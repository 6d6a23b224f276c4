//! The nftables backend. The daemon owns one table, `inet rempart` (the name is configurable),
//! and nothing else: every script it runs names only that table.
//!
//! ```text
//! table inet rempart {
//!   set ban4     { type ipv4_addr; flags timeout; }                  # addresses, all ports
//!   set ban4net  { type ipv4_addr; flags interval, timeout; }        # networks, all ports
//!   set ban6 / ban6net                                                # the same for IPv6
//!   set ban4p    { type ipv4_addr . inet_service; flags timeout; }   # per-port bans
//!   set ban4pnet / ban6p / ban6pnet                                   # per port, networks, IPv6
//!   chain prerouting { type filter hook prerouting priority raw; policy accept;
//!     ip saddr @ban4 drop ... ip saddr . tcp dport @ban4p drop ... (every set, TCP and UDP) }
//! }
//! ```
//!
//! Dropping at prerouting (raw priority) covers local services and forwarded ones (containers
//! behind a reverse proxy) and spends no connection tracking on banned hosts. Elements carry
//! their own timeout, so bans end in the kernel even if the daemon is down. Start replaces the
//! table and adds the restored bans in the same transaction. Single addresses go to hash sets
//! (100,000 of them load in a fraction of a second), networks (IPv6 /64s, manual CIDR bans) to
//! interval sets, which refuse overlapping prefixes: the backend keeps the active elements and
//! never adds one inside another.

use super::{Backend, BackendError};
use crate::addr::Cidr;
use crate::state::BanRecord;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// One set element: a network, maybe with a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Element {
    v6: bool,
    net: (u128, u8),
    port: Option<u16>,
}

impl Element {
    fn of(target: Cidr, port: Option<u16>) -> Element {
        let bits = match target.addr {
            std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
            std::net::IpAddr::V6(a) => u128::from(a),
        };
        Element {
            v6: target.addr.is_ipv6(),
            net: (bits, target.prefix),
            port,
        }
    }

    fn width(&self) -> u8 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    /// The element for the same network cut to `prefix` bits.
    fn widened(&self, prefix: u8) -> Element {
        let shift = u32::from(self.width() - prefix);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        Element {
            v6: self.v6,
            net: (self.net.0 & mask, prefix),
            port: self.port,
        }
    }

    /// The last address of the network.
    fn last(&self) -> u128 {
        let shift = u32::from(self.width() - self.net.1);
        let host = if shift >= 128 {
            u128::MAX
        } else {
            (1u128 << shift) - 1
        };
        self.net.0 | host
    }

    #[cfg(test)]
    fn covers(&self, other: &Element) -> bool {
        if self.v6 != other.v6 || self.port != other.port || self.net.1 > other.net.1 {
            return false;
        }
        let width = if self.v6 { 128 } else { 32 };
        let shift = width - u32::from(self.net.1);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        (self.net.0 & mask) == (other.net.0 & mask)
    }
}

/// The nftables backend.
#[derive(Debug)]
pub struct Nftables {
    nft: PathBuf,
    table: String,
    /// Active elements with their end.
    active: BTreeMap<Element, (Cidr, i64)>,
    /// Transactions run (for metrics and tests).
    pub transactions: u64,
}

impl Nftables {
    /// A backend running `nft` (a path or a name in PATH) on table `inet <table>`.
    pub fn new(nft: PathBuf, table: &str) -> Nftables {
        Nftables {
            nft,
            table: table.to_string(),
            active: BTreeMap::new(),
            transactions: 0,
        }
    }

    /// Single addresses go to hash sets (fast to fill with many bans); networks to interval
    /// sets.
    fn set_name(e: &Element) -> &'static str {
        let net = e.net.1 < e.width();
        match (e.v6, e.port.is_some(), net) {
            (false, false, false) => "ban4",
            (false, false, true) => "ban4net",
            (true, false, false) => "ban6",
            (true, false, true) => "ban6net",
            (false, true, false) => "ban4p",
            (false, true, true) => "ban4pnet",
            (true, true, false) => "ban6p",
            (true, true, true) => "ban6pnet",
        }
    }

    /// The script that (re)creates the table, empty.
    pub fn table_script(&self) -> String {
        let t = &self.table;
        format!(
            "add table inet {t}\n\
             delete table inet {t}\n\
             table inet {t} {{\n\
             \x20 set ban4 {{ type ipv4_addr; flags timeout; }}\n\
             \x20 set ban4net {{ type ipv4_addr; flags interval, timeout; }}\n\
             \x20 set ban6 {{ type ipv6_addr; flags timeout; }}\n\
             \x20 set ban6net {{ type ipv6_addr; flags interval, timeout; }}\n\
             \x20 set ban4p {{ type ipv4_addr . inet_service; flags timeout; }}\n\
             \x20 set ban4pnet {{ type ipv4_addr . inet_service; flags interval, timeout; }}\n\
             \x20 set ban6p {{ type ipv6_addr . inet_service; flags timeout; }}\n\
             \x20 set ban6pnet {{ type ipv6_addr . inet_service; flags interval, timeout; }}\n\
             \x20 chain prerouting {{\n\
             \x20   type filter hook prerouting priority raw; policy accept;\n\
             \x20   ip saddr @ban4 drop\n\
             \x20   ip saddr @ban4net drop\n\
             \x20   ip6 saddr @ban6 drop\n\
             \x20   ip6 saddr @ban6net drop\n\
             \x20   ip saddr . tcp dport @ban4p drop\n\
             \x20   ip saddr . udp dport @ban4p drop\n\
             \x20   ip saddr . tcp dport @ban4pnet drop\n\
             \x20   ip saddr . udp dport @ban4pnet drop\n\
             \x20   ip6 saddr . tcp dport @ban6p drop\n\
             \x20   ip6 saddr . udp dport @ban6p drop\n\
             \x20   ip6 saddr . tcp dport @ban6pnet drop\n\
             \x20   ip6 saddr . udp dport @ban6pnet drop\n\
             \x20 }}\n\
             }}\n"
        )
    }

    /// Elements of a ban (one per port, or one for all ports).
    fn elements(b: &BanRecord) -> Vec<Element> {
        if b.ports.is_empty() {
            vec![Element::of(b.target, None)]
        } else {
            b.ports
                .iter()
                .map(|p| Element::of(b.target, Some(*p)))
                .collect()
        }
    }

    fn expire(&mut self, now: i64) {
        self.active.retain(|_, (_, until)| *until > now);
    }

    /// Appends `add element` lines for `bans` to `script`, skipping elements an active one
    /// covers and deleting active ones a new one covers. Returns how many were added.
    fn add_lines(&mut self, bans: &[BanRecord], now: i64, script: &mut String) -> usize {
        let mut groups: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut deletes: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut added = 0;
        for b in bans {
            let secs = b.until.as_second() - now;
            if secs <= 0 {
                continue;
            }
            for e in Nftables::elements(b) {
                if let Some((_, until)) = self.active.get(&e) {
                    if *until >= b.until.as_second() {
                        continue;
                    }
                }
                // An active element covering this one (a shorter prefix)?
                if (0..e.net.1).any(|p| self.active.contains_key(&e.widened(p))) {
                    continue;
                }
                // Active elements inside this one (longer prefixes) are replaced by it.
                let covered: Vec<Element> = if e.net.1 < e.width() {
                    let lo = Element {
                        v6: e.v6,
                        net: (e.net.0, 0),
                        port: None,
                    };
                    let hi = Element {
                        v6: e.v6,
                        net: (e.last(), u8::MAX),
                        port: Some(u16::MAX),
                    };
                    self.active
                        .range(lo..=hi)
                        .map(|(k, _)| *k)
                        .filter(|k| *k != e && k.port == e.port && k.net.1 > e.net.1)
                        .collect()
                } else {
                    Vec::new()
                };
                for c in covered {
                    if let Some((cidr, _)) = self.active.remove(&c) {
                        deletes
                            .entry(Nftables::set_name(&c))
                            .or_default()
                            .push(element_text(cidr, c.port, None));
                    }
                }
                let set = Nftables::set_name(&e);
                // Re-adding an element refreshes its timeout.
                groups
                    .entry(set)
                    .or_default()
                    .push(element_text(b.target, e.port, Some(secs)));
                self.active.insert(e, (b.target, b.until.as_second()));
                added += 1;
            }
        }
        let t = &self.table;
        for (set, els) in deletes {
            let _ = writeln!(
                script,
                "delete element inet {t} {set} {{ {} }}",
                els.join(", ")
            );
        }
        for (set, els) in groups {
            for chunk in els.chunks(20_000) {
                let _ = writeln!(
                    script,
                    "add element inet {t} {set} {{ {} }}",
                    chunk.join(", ")
                );
            }
        }
        added
    }

    fn run(&mut self, script: &str) -> Result<(), BackendError> {
        let mut child = Command::new(&self.nft)
            .arg("-f")
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| BackendError::Spawn {
                program: self.nft.display().to_string(),
                source,
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(|source| BackendError::Spawn {
                    program: self.nft.display().to_string(),
                    source,
                })?;
        }
        let out = child
            .wait_with_output()
            .map_err(|source| BackendError::Spawn {
                program: self.nft.display().to_string(),
                source,
            })?;
        self.transactions += 1;
        if out.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(BackendError::Refused {
                stderr: stderr.chars().take(2000).collect(),
            })
        }
    }
}

/// `192.0.2.1 . 22 timeout 3600s` / `2001:db8::/64 timeout 60s`.
fn element_text(target: Cidr, port: Option<u16>, timeout: Option<i64>) -> String {
    let mut s = target.to_string();
    if let Some(p) = port {
        let _ = write!(s, " . {p}");
    }
    if let Some(t) = timeout {
        let _ = write!(s, " timeout {t}s");
    }
    s
}

impl Backend for Nftables {
    fn start(&mut self, restore: &[BanRecord]) -> Result<(), BackendError> {
        self.active.clear();
        let now = Timestamp::now().as_second();
        let mut script = self.table_script();
        self.add_lines(restore, now, &mut script);
        let r = self.run(&script);
        if r.is_err() {
            self.active.clear();
        }
        r
    }

    fn ban(&mut self, bans: &[BanRecord]) -> Result<(), BackendError> {
        let now = Timestamp::now().as_second();
        self.expire(now);
        let before = self.active.clone();
        let mut script = String::new();
        if self.add_lines(bans, now, &mut script) == 0 {
            return Ok(());
        }
        let r = self.run(&script);
        if r.is_err() {
            self.active = before;
        }
        r
    }

    fn unban(&mut self, bans: &[BanRecord]) -> Result<(), BackendError> {
        let now = Timestamp::now().as_second();
        self.expire(now);
        let mut groups: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for b in bans {
            for e in Nftables::elements(b) {
                if let Some((cidr, _)) = self.active.remove(&e) {
                    groups
                        .entry(Nftables::set_name(&e))
                        .or_default()
                        .push(element_text(cidr, e.port, None));
                }
            }
        }
        if groups.is_empty() {
            return Ok(());
        }
        let t = self.table.clone();
        let mut script = String::new();
        for (set, els) in groups {
            let _ = writeln!(
                script,
                "delete element inet {t} {set} {{ {} }}",
                els.join(", ")
            );
        }
        self.run(&script)
    }

    fn name(&self) -> &'static str {
        "nftables"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban(target: &str, ports: Vec<u16>, secs: i64) -> BanRecord {
        let now = Timestamp::now().as_second();
        BanRecord {
            jail: "sshd".into(),
            target: target.parse().unwrap(),
            at: Timestamp::from_second(now).unwrap(),
            until: Timestamp::from_second(now + secs).unwrap(),
            count: 1,
            ports,
        }
    }

    #[test]
    fn scripts_name_only_the_owned_table() {
        let mut n = Nftables::new("nft".into(), "rempart");
        let mut s = n.table_script();
        let now = Timestamp::now().as_second();
        n.add_lines(
            &[
                ban("203.0.113.5", vec![], 3600),
                ban("2001:db8:1:2::/64", vec![22, 443], 60),
                ban("203.0.113.6", vec![22], 60),
            ],
            now,
            &mut s,
        );
        for line in s
            .lines()
            .filter(|l| l.starts_with("add") || l.starts_with("delete") || l.starts_with("table"))
        {
            assert!(line.contains("inet rempart"), "{line}");
        }
        assert!(s.contains("add element inet rempart ban4 { 203.0.113.5 timeout 3600s }"));
        assert!(s.contains(
            "add element inet rempart ban6pnet { 2001:db8:1:2::/64 . 22 timeout 60s, 2001:db8:1:2::/64 . 443 timeout 60s }"
        ));
        assert!(s.contains("add element inet rempart ban4p { 203.0.113.6 . 22 timeout 60s }"));
    }

    #[test]
    fn coverage_is_what_the_kernel_would_refuse() {
        let a = Element::of("2001:db8:1:2::/64".parse().unwrap(), None);
        let b = Element::of("2001:db8:1:2::9".parse().unwrap(), None);
        let c = Element::of("10.0.0.0/8".parse().unwrap(), Some(22));
        let d = Element::of("10.1.2.3".parse().unwrap(), Some(22));
        assert!(a.covers(&b) && !b.covers(&a) && c.covers(&d));
        assert!(!c.covers(&Element::of("10.1.2.3".parse().unwrap(), None)));
        assert_eq!(d.widened(8), c);
        assert_eq!(
            c.last(),
            u128::from(u32::from(std::net::Ipv4Addr::new(10, 255, 255, 255)))
        );
    }

    #[test]
    fn many_bans_script_in_one_pass() {
        let mut n = Nftables::new("nft".into(), "rempart");
        let now = Timestamp::now().as_second();
        let bans: Vec<_> = (0..20_000u32)
            .map(|i| {
                ban(
                    &std::net::Ipv4Addr::from(0x0b00_0000 + i).to_string(),
                    vec![],
                    60,
                )
            })
            .collect();
        let mut s = String::new();
        assert_eq!(n.add_lines(&bans, now, &mut s), 20_000);
    }

    #[test]
    fn never_adds_overlapping_prefixes() {
        let mut n = Nftables::new("nft".into(), "rempart");
        let now = Timestamp::now().as_second();
        let mut s = String::new();
        assert_eq!(
            n.add_lines(&[ban("2001:db8:1:2::/64", vec![], 60)], now, &mut s),
            1
        );
        let mut s = String::new();
        assert_eq!(
            n.add_lines(&[ban("2001:db8:1:2::9", vec![], 60)], now, &mut s),
            0,
            "inside an active /64"
        );
        let mut s = String::new();
        assert_eq!(
            n.add_lines(&[ban("2001:db8::/32", vec![], 60)], now, &mut s),
            1
        );
        assert!(
            s.contains("delete element inet rempart ban6net { 2001:db8:1:2::/64 }"),
            "{s}"
        );
    }
}
