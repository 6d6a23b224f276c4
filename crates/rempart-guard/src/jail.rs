//! A jail counts one filter's failures per host and decides bans: `maxretry` failures within
//! `findtime` ban the host (its address, or its IPv6 prefix) for `bantime`, longer for repeat
//! offenders when `increment` is on. Allowed networks are never banned; a host already banned
//! is not counted again. Memory is bounded: past `max_tracked` hosts the stalest are forgotten.
//!
//! A jail does not read logs (that is [`crate::source`] and [`crate::filters`]) nor touch the
//! firewall (that is [`crate::backend`]): it turns failures into [`Decision`]s.

use crate::addr::{AllowList, Cidr, Host};
use crate::config::{Increment, Ports};
use crate::filters::tracker::FxMap;
use jiff::Timestamp;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How a jail judges.
#[derive(Debug, Clone)]
pub struct JailSpec {
    /// The jail's name.
    pub name: Arc<str>,
    /// Failures within `findtime` that ban.
    pub maxretry: u32,
    /// The counting window.
    pub findtime: Duration,
    /// The first ban's length.
    pub bantime: Duration,
    /// Longer bans for repeat offenders.
    pub increment: Increment,
    /// Ports the ban blocks.
    pub ports: Ports,
    /// Never banned.
    pub allow: AllowList,
    /// IPv6 bans cover this prefix.
    pub ipv6_prefix: u8,
    /// Hosts remembered at most.
    pub max_tracked: usize,
}

/// A ban to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The jail that decided it.
    pub jail: Arc<str>,
    /// What is banned: an address (`/32`, `/128`) or an IPv6 prefix.
    pub target: Cidr,
    /// When (the time of the failure that tipped it).
    pub at: Timestamp,
    /// Until when.
    pub until: Timestamp,
    /// How many times this target was banned by this jail, this one included.
    pub count: u32,
    /// Ports the ban blocks.
    pub ports: Ports,
}

/// What a jail did with one failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The host is a name, not an address: reported, never banned.
    NotAnAddress,
    /// The address is allowed.
    Allowed,
    /// The target is banned already; not counted.
    AlreadyBanned,
    /// Counted: this many failures in the window.
    Counted(u32),
    /// Banned.
    Ban(Decision),
}

#[derive(Debug)]
struct Hits {
    /// Failure times (seconds), oldest first, at most `maxretry`.
    times: Vec<i64>,
}

#[derive(Debug, Clone, Copy)]
struct Past {
    count: u32,
    last: i64,
    bantime: i64,
}

/// A jail's state.
#[derive(Debug)]
pub struct Jail {
    spec: JailSpec,
    hits: FxMap<Cidr, Hits>,
    past: FxMap<Cidr, Past>,
    banned: FxMap<Cidr, i64>,
    /// Failures counted since start.
    pub failures: u64,
    /// Bans decided since start.
    pub bans: u64,
}

impl Jail {
    /// A jail with no history.
    pub fn new(spec: JailSpec) -> Jail {
        Jail {
            spec,
            hits: FxMap::default(),
            past: FxMap::default(),
            banned: FxMap::default(),
            failures: 0,
            bans: 0,
        }
    }

    /// How it judges.
    pub fn spec(&self) -> &JailSpec {
        &self.spec
    }

    /// Hosts with failures in memory.
    pub fn tracked(&self) -> usize {
        self.hits.len()
    }

    /// The ban target for an address: itself, or its IPv6 prefix unless that prefix holds an
    /// allowed address.
    pub fn target_for(&self, ip: IpAddr) -> Cidr {
        let host = Cidr::host(ip);
        if host.addr.is_ipv6() && self.spec.ipv6_prefix < 128 {
            if let Some(net) = Cidr::new(host.addr, self.spec.ipv6_prefix) {
                let overlaps_allowed =
                    self.spec.allow.nets().iter().any(|a| {
                        a.addr.is_ipv6() && (a.contains(net.addr) || net.contains(a.addr))
                    });
                if !overlaps_allowed {
                    return net;
                }
            }
        }
        host
    }

    /// Records one failure of `host` at `time` (`now` is the clock, to expire bans).
    pub fn record(&mut self, host: &Host, time: Timestamp, now: Timestamp) -> Outcome {
        let Some(ip) = host.ip() else {
            return Outcome::NotAnAddress;
        };
        if self.spec.allow.contains(ip) {
            return Outcome::Allowed;
        }
        let target = self.target_for(ip);
        let t = time.as_second();
        if let Some(until) = self.banned.get(&target) {
            if *until > now.as_second().max(t) {
                return Outcome::AlreadyBanned;
            }
            self.banned.remove(&target);
        }
        self.failures += 1;
        if !self.hits.contains_key(&target) && self.hits.len() >= self.spec.max_tracked {
            self.evict(t);
        }
        let window = self.spec.findtime.as_secs() as i64;
        let max = self.spec.maxretry as usize;
        let h = self.hits.entry(target).or_insert_with(|| Hits {
            times: Vec::with_capacity(max.min(8)),
        });
        h.times.retain(|x| t - *x < window && *x <= t + window);
        if h.times.len() >= max {
            h.times.remove(0);
        }
        h.times.push(t);
        let n = h.times.len() as u32;
        if n < self.spec.maxretry {
            return Outcome::Counted(n);
        }
        self.hits.remove(&target);
        Outcome::Ban(self.decide(target, time))
    }

    /// Bans `target` now, whatever its count (`rempart guard ban`).
    pub fn force_ban(&mut self, target: Cidr, at: Timestamp) -> Decision {
        self.hits.remove(&target);
        self.decide(target, at)
    }

    fn decide(&mut self, target: Cidr, at: Timestamp) -> Decision {
        let t = at.as_second();
        let base = self.spec.bantime.as_secs() as i64;
        let inc = &self.spec.increment;
        let forget = inc.forget_after.as_secs() as i64;
        let prev = self
            .past
            .get(&target)
            .copied()
            .filter(|p| inc.enabled && t - p.last < forget + p.bantime);
        let (count, bantime) = match prev {
            Some(p) => {
                let next = (p.bantime as f64 * inc.factor).round() as i64;
                (
                    p.count + 1,
                    next.clamp(base, inc.max.as_secs().max(1) as i64),
                )
            }
            None => (1, base),
        };
        if inc.enabled {
            if self.past.len() >= self.spec.max_tracked && !self.past.contains_key(&target) {
                let cutoff = t - forget;
                self.past.retain(|_, p| p.last + p.bantime > cutoff);
                if self.past.len() >= self.spec.max_tracked {
                    self.past.clear();
                }
            }
            self.past.insert(
                target,
                Past {
                    count,
                    last: t,
                    bantime,
                },
            );
        }
        let until = Timestamp::from_second(t.saturating_add(bantime)).unwrap_or(Timestamp::MAX);
        if self.banned.len() >= self.spec.max_tracked.saturating_mul(4) {
            self.banned.retain(|_, u| *u > t);
        }
        self.banned.insert(target, until.as_second());
        self.bans += 1;
        Decision {
            jail: self.spec.name.clone(),
            target,
            at,
            until,
            count,
            ports: self.spec.ports.clone(),
        }
    }

    /// Forgets a ban (it expired or was lifted by hand) so the target is counted again.
    pub fn lift(&mut self, target: &Cidr) {
        self.banned.remove(target);
        self.hits.remove(target);
    }

    /// Marks a ban restored from saved state.
    pub fn restore(&mut self, target: Cidr, until: Timestamp, count: u32, last: Timestamp) {
        self.banned.insert(target, until.as_second());
        if self.spec.increment.enabled {
            let bantime = until.as_second() - last.as_second();
            self.past.insert(
                target,
                Past {
                    count,
                    last: last.as_second(),
                    bantime: bantime.max(1),
                },
            );
        }
    }

    /// Drops hosts whose failures are all outside the window; if that is not enough, the
    /// stalest half.
    fn evict(&mut self, now: i64) {
        let window = self.spec.findtime.as_secs() as i64;
        self.hits
            .retain(|_, h| h.times.last().is_some_and(|l| now - *l < window));
        if self.hits.len() >= self.spec.max_tracked {
            let mut lasts: Vec<i64> = self
                .hits
                .values()
                .map(|h| h.times.last().copied().unwrap_or(i64::MIN))
                .collect();
            let mid = lasts.len() / 2;
            let (_, cut, _) = lasts.select_nth_unstable(mid);
            let cut = *cut;
            self.hits
                .retain(|_, h| h.times.last().is_some_and(|l| *l > cut));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(maxretry: u32) -> JailSpec {
        JailSpec {
            name: "sshd".into(),
            maxretry,
            findtime: Duration::from_secs(600),
            bantime: Duration::from_secs(3600),
            increment: Increment::default(),
            ports: Ports::All,
            allow: AllowList::new(vec![
                "127.0.0.0/8".parse().unwrap(),
                "192.0.2.0/24".parse().unwrap(),
            ]),
            ipv6_prefix: 64,
            max_tracked: 1000,
        }
    }

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn bans_at_maxretry_within_findtime() {
        let mut j = Jail::new(spec(3));
        let h = ip("203.0.113.5");
        assert_eq!(j.record(&h, ts(0), ts(0)), Outcome::Counted(1));
        assert_eq!(j.record(&h, ts(100), ts(100)), Outcome::Counted(2));
        // The first failure leaves the window.
        assert_eq!(j.record(&h, ts(650), ts(650)), Outcome::Counted(2));
        match j.record(&h, ts(651), ts(651)) {
            Outcome::Ban(d) => {
                assert_eq!(d.target.to_string(), "203.0.113.5");
                assert_eq!(d.until, ts(651 + 3600));
                assert_eq!(d.count, 1);
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(j.record(&h, ts(652), ts(652)), Outcome::AlreadyBanned);
        // After the ban expires it counts again.
        assert_eq!(j.record(&h, ts(5000), ts(5000)), Outcome::Counted(1));
    }

    #[test]
    fn allowed_names_and_v6_prefixes() {
        let mut j = Jail::new(spec(1));
        assert_eq!(j.record(&ip("127.0.0.1"), ts(0), ts(0)), Outcome::Allowed);
        assert_eq!(j.record(&ip("192.0.2.9"), ts(0), ts(0)), Outcome::Allowed);
        assert_eq!(
            j.record(&Host::Name("example.com".into()), ts(0), ts(0)),
            Outcome::NotAnAddress
        );
        let Outcome::Ban(d) = j.record(&ip("2001:db8:1:2:3::9"), ts(0), ts(0)) else {
            panic!()
        };
        assert_eq!(d.target.to_string(), "2001:db8:1:2::/64");
        assert_eq!(
            j.record(&ip("2001:db8:1:2:ffff::1"), ts(1), ts(1)),
            Outcome::AlreadyBanned,
            "the whole /64 is banned"
        );
        let mut s = spec(1);
        s.allow.push("2001:db8:5:5::10".parse().unwrap());
        let j = Jail::new(s);
        assert_eq!(
            j.target_for("2001:db8:5:5::66".parse().unwrap())
                .to_string(),
            "2001:db8:5:5::66",
            "a /64 holding an allowed address is never banned whole"
        );
    }

    #[test]
    fn repeat_offenders_get_longer_bans() {
        let mut s = spec(1);
        s.increment = Increment {
            enabled: true,
            factor: 2.0,
            max: Duration::from_secs(5 * 3600),
            forget_after: Duration::from_secs(86_400),
        };
        let mut j = Jail::new(s);
        let h = ip("203.0.113.7");
        let mut now = 0;
        let mut lengths = Vec::new();
        for _ in 0..5 {
            let Outcome::Ban(d) = j.record(&h, ts(now), ts(now)) else {
                panic!()
            };
            lengths.push(d.until.as_second() - d.at.as_second());
            now = d.until.as_second() - 1_700_000_000 + 1;
        }
        assert_eq!(lengths, vec![3600, 7200, 14400, 18000, 18000]);
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded() {
        let mut j = Jail::new(spec(5));
        for i in 0..200_000u32 {
            let a = std::net::Ipv4Addr::from(0x0b00_0000 + i);
            j.record(
                &Host::Ip(a.into()),
                ts(i64::from(i / 100)),
                ts(i64::from(i / 100)),
            );
            assert!(j.tracked() <= 1000);
        }
    }

    proptest! {
        #[test]
        fn never_bans_allowed_and_bans_at_most_once_per_ban(
            events in proptest::collection::vec((0u8..8, 0i64..4000), 1..200)
        ) {
            let mut j = Jail::new(spec(3));
            let mut bans = 0;
            let mut sorted = events.clone();
            sorted.sort_by_key(|e| e.1);
            for (h, t) in sorted {
                let host = if h == 0 { ip("127.0.0.1") } else { ip(&format!("203.0.113.{h}")) };
                match j.record(&host, ts(t), ts(t)) {
                    Outcome::Ban(d) => {
                        prop_assert!(h != 0);
                        prop_assert!(d.until > d.at);
                        bans += 1;
                    }
                    Outcome::Allowed => prop_assert_eq!(h, 0),
                    _ => {}
                }
            }
            prop_assert_eq!(bans, j.bans);
        }
    }
}
