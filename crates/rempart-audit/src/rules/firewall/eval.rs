//! Evaluates a [`Ruleset`] the way netfilter would for one kind of packet: a new TCP or UDP
//! connection from an address on the internet, arriving on a public interface, addressed to one of
//! the host's own addresses. Walking every input base chain (jumps, gotos, returns, verdict maps,
//! policies) for one port of each port interval the ruleset mentions gives the ports open to the
//! world, the default verdict for everything else, and the rules that open a port to some sources
//! only.
//!
//! Conditions rempart does not understand "may match": an accept behind one counts as a possible
//! accept (reported, flagged as uncertain), a drop behind one does not close anything. Reports
//! therefore err towards "open", never towards "closed".

use super::model::{
    Chain, Cond, Ip, Loc, Ruleset, Scope, TableFamily, Verdict, VmapKey, VmapMatch, L4,
};
use super::net::{iface_is_internal, PortSet};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;

/// Jumps followed before giving up (nft itself refuses loops and limits depth).
const MAX_DEPTH: usize = 32;

/// The packet judged: new, from the internet, on a public interface, to a local address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub ip: Ip,
    pub l4: L4,
    pub port: u16,
    /// The sender, when one address is asked about (an admin's): source conditions are judged
    /// on it. `None` is "anyone on the internet": a rule limited to some sources does not match.
    pub src: Option<IpAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Maybe,
        }
    }

    fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

/// What decided a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// A rule's verdict.
    Rule,
    /// A base chain's policy (or its absence, which accepts).
    Policy,
    /// No input chain of this family exists: nothing filters.
    NoFilter,
}

/// Why a probe was accepted or dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub loc: Loc,
    pub by: By,
    /// False when the deciding rule has conditions rempart could not interpret.
    pub sure: bool,
}

/// The possible fates of a probe: accepted (by the first rule or policy that can accept it) and
/// dropped (likewise). Both can be set when a rule rempart cannot read stands in between.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judgement {
    pub accept: Option<Decision>,
    pub drop: Option<Decision>,
}

/// Ports of one family and protocol opened by one rule or policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Open {
    pub ip: Ip,
    pub l4: L4,
    pub ports: PortSet,
    pub by: Decision,
}

/// Ports a rule opens to some sources or interfaces only.
#[derive(Debug, Clone, PartialEq)]
pub struct Restricted {
    pub ip: Ip,
    pub l4: L4,
    pub ports: PortSet,
    pub loc: Loc,
    pub what: String,
}

/// The default verdict of one family: what happens to a port no rule mentions.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyDefault {
    pub ip: Ip,
    /// The unmentioned port probed.
    pub port: u16,
    pub tcp: Judgement,
    pub udp: Judgement,
}

impl FamilyDefault {
    /// The decision that accepts unmentioned traffic, if any (TCP first).
    pub fn accepting(&self) -> Option<&Decision> {
        self.tcp.accept.as_ref().or(self.udp.accept.as_ref())
    }

    pub fn dropping(&self) -> Option<&Decision> {
        self.tcp.drop.as_ref().or(self.udp.drop.as_ref())
    }
}

/// Everything the firewall rules conclude from a ruleset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    pub defaults: Vec<FamilyDefault>,
    pub open: Vec<Open>,
    pub restricted: Vec<Restricted>,
}

impl Analysis {
    pub fn default_for(&self, ip: Ip) -> Option<&FamilyDefault> {
        self.defaults.iter().find(|d| d.ip == ip)
    }

    /// Ports open to the world for one family and protocol.
    pub fn open_ports_of(&self, ip: Ip, l4: L4) -> PortSet {
        let mut set = PortSet::default();
        for o in self.open.iter().filter(|o| o.l4 == l4 && o.ip == ip) {
            set.extend(&o.ports);
        }
        set
    }

    /// All ports open to the world for a protocol, whatever the family.
    pub fn open_ports(&self, l4: L4) -> PortSet {
        let mut set = PortSet::default();
        for o in self.open.iter().filter(|o| o.l4 == l4) {
            set.extend(&o.ports);
        }
        set
    }
}

/// The work [`analyse`] accepts: port intervals times rules. A ruleset beyond it (hundreds of
/// thousands of rules, each with its own port) is reported rather than evaluated for minutes.
pub const MAX_WORK: usize = 50_000_000;

/// A ruleset too large to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    pub rules: usize,
    pub intervals: usize,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the ruleset is too large to evaluate ({} rules, {} distinct port intervals)",
            self.rules, self.intervals
        )
    }
}

/// Analyse a ruleset: defaults per family, open ports, restricted openings.
pub fn analyse(rs: &Ruleset) -> Result<Analysis, TooLarge> {
    // Work per probe: every rule, and every entry of its verdict map.
    let rules: usize = rs
        .chains
        .iter()
        .flat_map(|c| &c.rules)
        .map(|r| match &r.verdict {
            Some(Verdict::Vmap { entries, .. }) => 1 + entries.len(),
            _ => 1,
        })
        .sum::<usize>()
        + rs.chains.len();
    let mut index = HashMap::with_capacity(rs.chains.len());
    for (i, c) in rs.chains.iter().enumerate() {
        index
            .entry((c.family, c.table.as_str(), c.name.as_str()))
            .or_insert(i);
    }
    let ev = Evaluator {
        rs,
        index,
        notes: RefCell::new(Vec::new()),
        memo: RefCell::new(HashMap::new()),
    };
    let mut out = Analysis::default();
    for ip in Ip::BOTH {
        let mut judgements = Vec::with_capacity(2);
        for l4 in L4::BOTH {
            let mentioned = mentioned_ports(rs, l4);
            let port = unmentioned_port(&mentioned);
            judgements.push(ev.judge(Probe {
                ip,
                l4,
                port,
                src: None,
            }));
            let cuts = intervals(&mentioned);
            if cuts.len().saturating_mul(rules) > MAX_WORK {
                return Err(TooLarge {
                    rules,
                    intervals: cuts.len(),
                });
            }
            for (lo, hi) in cuts {
                ev.notes.borrow_mut().clear();
                let j = ev.judge(Probe {
                    ip,
                    l4,
                    port: lo,
                    src: None,
                });
                match j.accept {
                    Some(by) => add_open(&mut out.open, ip, l4, lo, hi, by),
                    None => {
                        let notes = std::mem::take(&mut *ev.notes.borrow_mut());
                        for (loc, what) in notes {
                            add_restricted(&mut out.restricted, ip, l4, lo, hi, loc, what);
                        }
                    }
                }
            }
        }
        let udp = judgements.pop().unwrap_or_default();
        let tcp = judgements.pop().unwrap_or_default();
        let port = unmentioned_port(&mentioned_ports(rs, L4::Tcp));
        out.defaults.push(FamilyDefault { ip, port, tcp, udp });
    }
    Ok(out)
}

/// Judge one packet: what the input hook does with a new connection to `probe.port`, from
/// `probe.src` when given. Used to show that a port stays reachable (the SSH port after a
/// harden plan). Limits as [`analyse`]: conditions rempart cannot read "may match".
pub fn judge(rs: &Ruleset, probe: Probe) -> Judgement {
    let mut index = HashMap::with_capacity(rs.chains.len());
    for (i, c) in rs.chains.iter().enumerate() {
        index
            .entry((c.family, c.table.as_str(), c.name.as_str()))
            .or_insert(i);
    }
    let ev = Evaluator {
        rs,
        index,
        notes: RefCell::new(Vec::new()),
        memo: RefCell::new(HashMap::new()),
    };
    ev.judge(probe)
}

fn add_open(open: &mut Vec<Open>, ip: Ip, l4: L4, lo: u16, hi: u16, by: Decision) {
    match open
        .iter_mut()
        .find(|o| o.ip == ip && o.l4 == l4 && o.by == by)
    {
        Some(o) => o.ports.add(lo, hi),
        None => open.push(Open {
            ip,
            l4,
            ports: PortSet::from_ranges([(lo, hi)]),
            by,
        }),
    }
}

fn add_restricted(
    out: &mut Vec<Restricted>,
    ip: Ip,
    l4: L4,
    lo: u16,
    hi: u16,
    loc: Loc,
    what: String,
) {
    match out
        .iter_mut()
        .find(|r| r.ip == ip && r.l4 == l4 && r.loc == loc && r.what == what)
    {
        Some(r) => r.ports.add(lo, hi),
        None => out.push(Restricted {
            ip,
            l4,
            ports: PortSet::from_ranges([(lo, hi)]),
            loc,
            what,
        }),
    }
}

/// Every port set a rule or verdict map of the ruleset names for this protocol.
fn mentioned_ports(rs: &Ruleset, l4: L4) -> Vec<PortSet> {
    let mut out = Vec::new();
    for chain in &rs.chains {
        for rule in &chain.rules {
            for c in &rule.conds {
                if let Cond::DPort { proto, ports, .. } = c {
                    if proto.is_none_or(|p| p == l4) {
                        out.push(ports.clone());
                    }
                }
            }
            if let Some(Verdict::Vmap {
                key: VmapKey::DPort(proto),
                entries,
            }) = &rule.verdict
            {
                if proto.is_none_or(|p| p == l4) {
                    for (m, _) in entries {
                        if let VmapMatch::Ports(p) = m {
                            out.push(p.clone());
                        }
                    }
                }
            }
        }
    }
    out
}

/// The intervals the mentioned port sets cut 0..=65535 into: every port of an interval is
/// treated alike by every rule.
fn intervals(mentioned: &[PortSet]) -> Vec<(u16, u16)> {
    let mut cuts: Vec<u32> = vec![0, 65536];
    for set in mentioned {
        for &(a, b) in set.ranges() {
            cuts.push(u32::from(a));
            cuts.push(u32::from(b) + 1);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .map(|w| (w[0] as u16, (w[1] - 1) as u16))
        .collect()
}

/// A port no rule names (preferably unprivileged), to probe the default verdict.
fn unmentioned_port(mentioned: &[PortSet]) -> u16 {
    let mut all = PortSet::default();
    for s in mentioned {
        all.extend(s);
    }
    for (lo, hi) in [(1024, u16::MAX), (1, 1023)] {
        let free = PortSet::from_ranges([(lo, hi)]).minus(&all);
        if let Some(&(p, _)) = free.ranges().first() {
            return p;
        }
    }
    u16::MAX
}

type ChainKey<'a> = (TableFamily, &'a str, &'a str);

struct Evaluator<'a> {
    rs: &'a Ruleset,
    index: HashMap<ChainKey<'a>, usize>,
    /// Restricted accepts met while judging the current probe.
    notes: RefCell<Vec<(Loc, String)>>,
    /// The walk of each regular chain for the current probe (`None` while it is being walked:
    /// a loop, which nft refuses, counts as a return). Without it, chains jumping to each other
    /// would be walked an exponential number of times.
    memo: RefCell<HashMap<usize, Option<Walk>>>,
}

#[derive(Default, Clone)]
struct Walk {
    accept: Option<Decision>,
    drop: Option<Decision>,
    returns: bool,
}

impl Evaluator<'_> {
    fn judge(&self, probe: Probe) -> Judgement {
        self.memo.borrow_mut().clear();
        let chains: Vec<&Chain> = self.rs.input_chains(probe.ip).collect();
        if chains.is_empty() {
            let loc = Loc {
                path: self.rs.origin.clone(),
                line: 0,
                text: String::new(),
            };
            return Judgement {
                accept: Some(Decision {
                    loc,
                    by: By::NoFilter,
                    sure: true,
                }),
                drop: None,
            };
        }
        let walks: Vec<Walk> = chains.iter().map(|c| self.base(c, probe)).collect();
        // A packet passes the input hook only if every base chain accepts it.
        let accept = if walks.iter().all(|w| w.accept.is_some()) {
            walks
                .iter()
                .filter_map(|w| w.accept.clone())
                .find(|d| d.by == By::Rule)
                .or_else(|| walks.iter().find_map(|w| w.accept.clone()))
        } else {
            None
        };
        let drop = walks.iter().find_map(|w| w.drop.clone());
        Judgement { accept, drop }
    }

    fn base(&self, chain: &Chain, probe: Probe) -> Walk {
        let mut w = self.walk(chain, probe, 0);
        if w.returns {
            let (verdict, loc) = match &chain.policy {
                Some((v, loc)) => (v.clone(), loc.clone()),
                None => (Verdict::Accept, chain.loc.clone()),
            };
            let d = Decision {
                loc,
                by: By::Policy,
                sure: true,
            };
            match verdict {
                Verdict::Drop | Verdict::Reject => prefer_sure(&mut w.drop, d),
                _ => {
                    w.accept.get_or_insert(d);
                }
            }
        }
        w
    }

    /// Walk the chain a rule jumps to, once per probe.
    fn walk_target(&self, from: &Chain, target: &str, probe: Probe, depth: usize) -> Walk {
        let returns = Walk {
            returns: true,
            ..Walk::default()
        };
        let Some(&i) = self.index.get(&(from.family, from.table.as_str(), target)) else {
            return returns;
        };
        if let Some(done) = self.memo.borrow().get(&i) {
            return done.clone().unwrap_or(returns);
        }
        self.memo.borrow_mut().insert(i, None);
        let w = self.walk(&self.rs.chains[i], probe, depth + 1);
        self.memo.borrow_mut().insert(i, Some(w.clone()));
        w
    }

    fn walk(&self, chain: &Chain, probe: Probe, depth: usize) -> Walk {
        let mut w = Walk::default();
        if depth > MAX_DEPTH {
            w.returns = true;
            return w;
        }
        for rule in &chain.rules {
            let (m, restriction) = rule_match(&rule.conds, probe);
            let Some(verdict) = &rule.verdict else {
                continue;
            };
            if m == Tri::No {
                if let Some(what) = restriction {
                    if may_accept(verdict) {
                        self.notes.borrow_mut().push((rule.loc.clone(), what));
                    }
                }
                continue;
            }
            let (verdict, m) = match verdict {
                Verdict::Vmap { key, entries } => match vmap_pick(*key, entries, probe) {
                    Some((v, t)) => (v, m.and(t)),
                    None => continue,
                },
                v => (v.clone(), m),
            };
            let sure = m == Tri::Yes;
            let decision = |by| Decision {
                loc: rule.loc.clone(),
                by,
                sure,
            };
            match verdict {
                Verdict::Accept => {
                    w.accept.get_or_insert(decision(By::Rule));
                    if sure {
                        return w;
                    }
                }
                Verdict::Drop | Verdict::Reject => {
                    prefer_sure(&mut w.drop, decision(By::Rule));
                    if sure {
                        return w;
                    }
                }
                Verdict::Return => {
                    w.returns = true;
                    if sure {
                        return w;
                    }
                }
                Verdict::Jump(ref target) | Verdict::Goto(ref target) => {
                    let goto = matches!(verdict, Verdict::Goto(_));
                    let sub = self.walk_target(chain, target, probe, depth);
                    let weaken = |d: Decision| Decision {
                        sure: d.sure && sure,
                        ..d
                    };
                    if let Some(d) = sub.accept {
                        w.accept.get_or_insert(weaken(d));
                    }
                    if let Some(d) = sub.drop {
                        prefer_sure(&mut w.drop, weaken(d));
                    }
                    if goto && sub.returns {
                        w.returns = true;
                    }
                    let continues = sub.returns && !goto;
                    if sure && !continues {
                        return w;
                    }
                }
                Verdict::Continue | Verdict::Unknown(_) | Verdict::Vmap { .. } => {}
            }
        }
        w.returns = true;
        w
    }
}

/// Keep the first drop, unless a later one is certain and the kept one is not: evidence of a
/// default deny should be the policy or a rule that surely drops.
fn prefer_sure(slot: &mut Option<Decision>, d: Decision) {
    match slot {
        Some(cur) if cur.sure || !d.sure => {}
        _ => *slot = Some(d),
    }
}

fn may_accept(v: &Verdict) -> bool {
    match v {
        Verdict::Accept | Verdict::Jump(_) | Verdict::Goto(_) => true,
        Verdict::Vmap { entries, .. } => entries.iter().any(|(_, v)| may_accept(v)),
        _ => false,
    }
}

/// Whether a rule's conditions match the probe, and when they do not only because the rule is
/// limited to some sources or interfaces, what that limit is.
fn rule_match(conds: &[Cond], probe: Probe) -> (Tri, Option<String>) {
    let mut result = Tri::Yes;
    let mut restrictions: Vec<String> = Vec::new();
    let mut hard_no = false;
    for c in conds {
        let (t, why) = cond_match(c, probe);
        if t == Tri::No {
            match why {
                Some(w) => restrictions.push(w),
                None => hard_no = true,
            }
        }
        result = result.and(t);
    }
    let restriction = (result == Tri::No && !hard_no && !restrictions.is_empty())
        .then(|| restrictions.join(", "));
    (result, restriction)
}

fn cond_match(c: &Cond, p: Probe) -> (Tri, Option<String>) {
    match c {
        Cond::Proto { tcp, udp, negated } => {
            let is = match p.l4 {
                L4::Tcp => *tcp,
                L4::Udp => *udp,
            };
            (Tri::from_bool(is != *negated), None)
        }
        Cond::DPort {
            proto,
            ports,
            negated,
        } => {
            if proto.is_some_and(|l| l != p.l4) {
                return (Tri::No, None);
            }
            (Tri::from_bool(ports.contains(p.port) != *negated), None)
        }
        // Replies from a given source port (DHCP): not a service; nothing to note.
        Cond::SPort => (Tri::No, None),
        Cond::Source {
            family,
            scope,
            text,
            negated,
        } => {
            if family.is_some_and(|f| f != p.ip) {
                return (Tri::No, None);
            }
            if let Some(src) = p.src {
                let t = match source_contains(text, src) {
                    Some(true) => Tri::Yes,
                    Some(false) => Tri::No,
                    None => Tri::Maybe,
                };
                return match (t, negated) {
                    (Tri::Maybe, _) => (Tri::Maybe, None),
                    (t, false) => (t, None),
                    (t, true) => (Tri::from_bool(t == Tri::No), None),
                };
            }
            match (scope, negated) {
                (Scope::Any, false) | (Scope::Restricted, true) => (Tri::Yes, None),
                (Scope::Any, true) => (Tri::No, None),
                (Scope::Restricted, false) => (Tri::No, Some(format!("from {text}"))),
            }
        }
        Cond::DestLocal { local, negated } => (Tri::from_bool(*local != *negated), None),
        Cond::Iif { names, negated } => {
            let public = names.iter().any(|n| !iface_is_internal(n));
            let loopback = names.iter().all(|n| n.trim_matches('"') == "lo");
            match (public, negated) {
                (true, false) => (Tri::Yes, None),
                (false, true) => (Tri::Yes, None),
                // Loopback is the host talking to itself: nothing to note.
                (false, false) if loopback => (Tri::No, None),
                (false, false) => (Tri::No, Some(format!("on {}", names.join(", ")))),
                // `iifname != "eth0"`: the public interface may be another one.
                (true, true) => (Tri::Maybe, None),
            }
        }
        Cond::CtState { states, negated } => {
            let is_new = states.iter().any(|s| s.eq_ignore_ascii_case("new"));
            (Tri::from_bool(is_new != *negated), None)
        }
        Cond::Family(ip) => (Tri::from_bool(*ip == p.ip), None),
        Cond::Unknown(_) => (Tri::Maybe, None),
    }
}

/// Whether a source condition's text (`10.0.0.0/8, 192.0.2.7`, `2001:db8::/32`,
/// `10.0.0.1-10.0.0.9`, `0.0.0.0/0`) covers `addr`; `None` when an item is not an address (a
/// named set, a host name): it may or may not.
pub fn source_contains(text: &str, addr: IpAddr) -> Option<bool> {
    let mut unknown = false;
    for item in text.split(',') {
        let item = item.trim().trim_matches(['{', '}', '"', ' ']);
        if item.is_empty() {
            continue;
        }
        match item_contains(item, addr) {
            Some(true) => return Some(true),
            Some(false) => {}
            None => unknown = true,
        }
    }
    (!unknown).then_some(false)
}

fn item_contains(item: &str, addr: IpAddr) -> Option<bool> {
    if let Some((a, b)) = item.split_once('-') {
        let (a, b): (IpAddr, IpAddr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return Some(match (a, b, addr) {
            (IpAddr::V4(a), IpAddr::V4(b), IpAddr::V4(x)) => a <= x && x <= b,
            (IpAddr::V6(a), IpAddr::V6(b), IpAddr::V6(x)) => a <= x && x <= b,
            (IpAddr::V4(_), IpAddr::V4(_), _) | (IpAddr::V6(_), IpAddr::V6(_), _) => false,
            _ => return None,
        });
    }
    let (net, len) = match item.split_once('/') {
        Some((n, l)) => (n.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (item.parse::<IpAddr>().ok()?, None),
    };
    Some(match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(x)) => {
            let len = u32::from(len.unwrap_or(32).min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(n) & mask == u32::from(x) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(x)) => {
            let len = u32::from(len.unwrap_or(128).min(128));
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(n) & mask == u128::from(x) & mask
        }
        _ => false,
    })
}

fn vmap_pick(key: VmapKey, entries: &[(VmapMatch, Verdict)], p: Probe) -> Option<(Verdict, Tri)> {
    for (m, v) in entries {
        let hit = match (key, m) {
            (VmapKey::CtState, VmapMatch::Word(w)) => Tri::from_bool(w.eq_ignore_ascii_case("new")),
            (VmapKey::DPort(proto), VmapMatch::Ports(ps)) => {
                if proto.is_some_and(|l| l != p.l4) {
                    return None;
                }
                Tri::from_bool(ps.contains(p.port))
            }
            (VmapKey::L4Proto, VmapMatch::Word(w)) => {
                let w = w.to_ascii_lowercase();
                Tri::from_bool(match p.l4 {
                    L4::Tcp => w == "tcp" || w == "6",
                    L4::Udp => w == "udp" || w == "17",
                })
            }
            (VmapKey::Iif, VmapMatch::Word(w)) => {
                if iface_is_internal(w) {
                    Tri::No
                } else {
                    Tri::Maybe
                }
            }
            _ => Tri::Maybe,
        };
        if hit != Tri::No {
            return Some((v.clone(), hit));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::firewall::model::{FwRule, TableFamily};

    fn loc(line: u32) -> Loc {
        Loc::file("/etc/nftables.conf", line, "x")
    }

    fn rule(line: u32, conds: Vec<Cond>, v: Verdict) -> FwRule {
        FwRule {
            conds,
            verdict: Some(v),
            loc: loc(line),
        }
    }

    fn tcp_dport(ports: &[(u16, u16)]) -> Cond {
        Cond::DPort {
            proto: Some(L4::Tcp),
            ports: PortSet::from_ranges(ports.iter().copied()),
            negated: false,
        }
    }

    fn input(family: TableFamily, policy: Verdict, rules: Vec<FwRule>) -> Chain {
        Chain {
            family,
            table: "filter".into(),
            name: "input".into(),
            hook: Some("input".into()),
            policy: Some((policy, loc(2))),
            rules,
            loc: loc(1),
        }
    }

    #[test]
    fn drop_policy_with_three_ports() {
        let rs = Ruleset {
            chains: vec![input(
                TableFamily::Inet,
                Verdict::Drop,
                vec![
                    rule(
                        3,
                        vec![Cond::CtState {
                            states: vec!["established".into(), "related".into()],
                            negated: false,
                        }],
                        Verdict::Accept,
                    ),
                    rule(
                        4,
                        vec![Cond::Iif {
                            names: vec!["lo".into()],
                            negated: false,
                        }],
                        Verdict::Accept,
                    ),
                    rule(
                        5,
                        vec![tcp_dport(&[(22, 22), (80, 80), (443, 443)])],
                        Verdict::Accept,
                    ),
                    rule(
                        6,
                        vec![
                            Cond::Source {
                                family: Some(Ip::V4),
                                scope: Scope::Restricted,
                                text: "10.0.0.0/8".into(),
                                negated: false,
                            },
                            tcp_dport(&[(5432, 5432)]),
                        ],
                        Verdict::Accept,
                    ),
                ],
            )],
            origin: Some("/etc/nftables.conf".into()),
            skipped: vec![],
        };
        let a = analyse(&rs).unwrap();
        for ip in Ip::BOTH {
            let d = a.default_for(ip).unwrap();
            assert!(d.accepting().is_none(), "{ip:?}");
            assert_eq!(d.dropping().unwrap().by, By::Policy);
        }
        assert_eq!(
            a.open_ports(L4::Tcp).ranges(),
            &[(22, 22), (80, 80), (443, 443)]
        );
        assert!(a.open_ports(L4::Udp).is_empty());
        let r = &a.restricted[0];
        assert_eq!((r.ip, r.ports.ranges()), (Ip::V4, &[(5432, 5432)][..]));
        assert_eq!(r.what, "from 10.0.0.0/8");
    }

    #[test]
    fn ip_only_table_leaves_ipv6_unfiltered_and_catch_all_accepts_everything() {
        let rs = Ruleset {
            chains: vec![input(
                TableFamily::Ip,
                Verdict::Drop,
                vec![rule(9, vec![], Verdict::Accept)],
            )],
            origin: Some("/etc/nftables.conf".into()),
            skipped: vec![],
        };
        let a = analyse(&rs).unwrap();
        let v4 = a.default_for(Ip::V4).unwrap().accepting().unwrap();
        assert_eq!((v4.by, v4.loc.line), (By::Rule, 9));
        let v6 = a.default_for(Ip::V6).unwrap().accepting().unwrap();
        assert_eq!(v6.by, By::NoFilter);
    }

    #[test]
    fn jumps_returns_and_two_base_chains() {
        let mut sub = input(
            TableFamily::Inet,
            Verdict::Accept,
            vec![
                rule(20, vec![tcp_dport(&[(8000, 8000)])], Verdict::Return),
                rule(
                    21,
                    vec![Cond::Proto {
                        tcp: true,
                        udp: false,
                        negated: false,
                    }],
                    Verdict::Accept,
                ),
            ],
        );
        sub.name = "tcp_in".into();
        sub.hook = None;
        sub.policy = None;
        let main = input(
            TableFamily::Inet,
            Verdict::Drop,
            vec![rule(10, vec![], Verdict::Jump("tcp_in".into()))],
        );
        // A second base chain that drops 22: a packet must pass both.
        let mut other = input(
            TableFamily::Inet,
            Verdict::Accept,
            vec![rule(30, vec![tcp_dport(&[(22, 22)])], Verdict::Drop)],
        );
        other.name = "input2".into();
        let rs = Ruleset {
            chains: vec![main, sub, other],
            origin: None,
            skipped: vec![],
        };
        let a = analyse(&rs).unwrap();
        let tcp = a.open_ports(L4::Tcp);
        assert!(!tcp.contains(8000) && !tcp.contains(22) && tcp.contains(23));
        assert!(a.open_ports(L4::Udp).is_empty());
    }

    #[test]
    fn chains_jumping_to_each_other_are_walked_once_per_probe() {
        // 25 chains (nft allows jumps 16 deep; the evaluator follows 32) of 10 jumps each to
        // the next, the last looping back to the first: without memoisation, 10^25 walks.
        let mut chains = vec![input(
            TableFamily::Inet,
            Verdict::Drop,
            vec![rule(1, vec![], Verdict::Jump("c0".into()))],
        )];
        for i in 0..25 {
            let mut c = input(
                TableFamily::Inet,
                Verdict::Accept,
                (0..10)
                    .map(|r| {
                        let next = if i == 24 {
                            "c0".to_string()
                        } else {
                            format!("c{}", i + 1)
                        };
                        rule(
                            r,
                            vec![Cond::Unknown("meta mark 1".into())],
                            Verdict::Jump(next),
                        )
                    })
                    .collect(),
            );
            c.name = format!("c{i}");
            c.hook = None;
            c.policy = None;
            chains.push(c);
        }
        chains[25]
            .rules
            .push(rule(99, vec![tcp_dport(&[(22, 22)])], Verdict::Accept));
        let rs = Ruleset {
            chains,
            origin: None,
            skipped: vec![],
        };
        let start = std::time::Instant::now();
        let a = analyse(&rs).unwrap();
        assert!(a.open_ports_of(Ip::V4, L4::Tcp).contains(22));
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    }

    #[test]
    fn huge_rulesets_are_refused_not_evaluated_for_minutes() {
        let rules: Vec<FwRule> = (0..20_000u16)
            .map(|p| {
                rule(
                    u32::from(p),
                    vec![tcp_dport(&[(p * 3, p * 3)])],
                    Verdict::Accept,
                )
            })
            .collect();
        let rs = Ruleset {
            chains: vec![input(TableFamily::Inet, Verdict::Drop, rules)],
            origin: None,
            skipped: vec![],
        };
        let e = analyse(&rs).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
    }

    #[test]
    fn a_source_rule_matches_the_addresses_it_names_only() {
        let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            source_contains("10.0.0.0/8, 192.0.2.7", v4("10.9.8.7")),
            Some(true)
        );
        assert_eq!(
            source_contains("10.0.0.0/8, 192.0.2.7", v4("192.0.2.7")),
            Some(true)
        );
        assert_eq!(
            source_contains("10.0.0.0/8,192.0.2.7", v4("192.0.2.8")),
            Some(false)
        );
        assert_eq!(source_contains("0.0.0.0/0", v4("203.0.113.1")), Some(true));
        assert_eq!(
            source_contains("2001:db8::/32", v4("2001:db8:1::5")),
            Some(true)
        );
        assert_eq!(
            source_contains("2001:db8::/32", v4("10.0.0.1")),
            Some(false)
        );
        assert_eq!(
            source_contains("10.0.0.1-10.0.0.9", v4("10.0.0.5")),
            Some(true)
        );
        assert_eq!(source_contains("a named set", v4("10.0.0.5")), None);
        assert_eq!(
            source_contains("@admins, 10.0.0.0/8", v4("10.0.0.5")),
            Some(true)
        );
        // Only a ruleset rule from 10/8 opens 22: the admin at 10.1.2.3 gets in, 198.51.100.1 not.
        let rs = Ruleset {
            chains: vec![input(
                TableFamily::Inet,
                Verdict::Drop,
                vec![rule(
                    5,
                    vec![
                        Cond::Source {
                            family: Some(Ip::V4),
                            scope: Scope::Restricted,
                            text: "10.0.0.0/8".into(),
                            negated: false,
                        },
                        tcp_dport(&[(22, 22)]),
                    ],
                    Verdict::Accept,
                )],
            )],
            origin: None,
            skipped: vec![],
        };
        let probe = |src: &str| Probe {
            ip: Ip::V4,
            l4: L4::Tcp,
            port: 22,
            src: Some(v4(src)),
        };
        let j = judge(&rs, probe("10.1.2.3"));
        assert_eq!(j.accept.map(|d| (d.loc.line, d.sure)), Some((5, true)));
        assert!(j.drop.is_none());
        let j = judge(&rs, probe("198.51.100.1"));
        assert!(j.accept.is_none());
        assert_eq!(j.drop.map(|d| d.by), Some(By::Policy));
    }

    use proptest::prelude::*;

    proptest! {
        /// Garbage source texts never panic, and a text naming the address always covers it.
        #[test]
        fn source_contains_never_panics(text in "\\PC{0,60}", a in any::<std::net::Ipv4Addr>(), len in 0u8..=32) {
            let _ = source_contains(&text, IpAddr::V4(a));
            prop_assert_eq!(source_contains(&format!("{text}, {a}/{len}"), IpAddr::V4(a)), Some(true));
        }

        /// The interval cut gives what a port-by-port first-match walk gives.
        #[test]
        fn intervals_agree_with_port_by_port_evaluation(
            rules in proptest::collection::vec(
                (proptest::collection::vec((0u16..200, 0u16..200), 1..4), any::<bool>(), any::<bool>()),
                0..10),
            policy_drop in any::<bool>(),
        ) {
            let fw_rules: Vec<FwRule> = rules
                .iter()
                .enumerate()
                .map(|(i, (ports, accept, negated))| rule(
                    i as u32 + 3,
                    vec![Cond::DPort {
                        proto: Some(L4::Tcp),
                        ports: PortSet::from_ranges(ports.iter().copied()),
                        negated: *negated,
                    }],
                    if *accept { Verdict::Accept } else { Verdict::Drop },
                ))
                .collect();
            let policy = if policy_drop { Verdict::Drop } else { Verdict::Accept };
            let rs = Ruleset {
                chains: vec![input(TableFamily::Inet, policy, fw_rules.clone())],
                origin: None,
                skipped: vec![],
            };
            let a = analyse(&rs).unwrap();
            let open = a.open_ports_of(Ip::V4, L4::Tcp);
            for p in 0u16..=210 {
                let mut verdict = !policy_drop;
                for r in &fw_rules {
                    let Cond::DPort { ports, negated, .. } = &r.conds[0] else { unreachable!() };
                    if ports.contains(p) != *negated {
                        verdict = r.verdict == Some(Verdict::Accept);
                        break;
                    }
                }
                prop_assert_eq!(open.contains(p), verdict, "port {}", p);
            }
        }

        /// Adding an accept rule at the end never closes a port.
        #[test]
        fn a_trailing_accept_never_closes(ports in proptest::collection::vec((0u16..500, 0u16..500), 1..6), extra in 0u16..500) {
            let base = vec![rule(3, vec![tcp_dport(&ports)], Verdict::Accept)];
            let mut more = base.clone();
            more.push(rule(4, vec![tcp_dport(&[(extra, extra)])], Verdict::Accept));
            let mk = |rules| Ruleset { chains: vec![input(TableFamily::Inet, Verdict::Drop, rules)], origin: None, skipped: vec![] };
            let before = analyse(&mk(base)).unwrap().open_ports_of(Ip::V6, L4::Tcp);
            let after = analyse(&mk(more)).unwrap().open_ports_of(Ip::V6, L4::Tcp);
            prop_assert!(before.minus(&after).is_empty());
            prop_assert!(after.contains(extra));
        }
    }

    #[test]
    fn unknown_condition_may_accept_but_never_closes() {
        let rs = Ruleset {
            chains: vec![input(
                TableFamily::Inet,
                Verdict::Accept,
                vec![rule(
                    3,
                    vec![Cond::Unknown("meta pkttype host".into())],
                    Verdict::Drop,
                )],
            )],
            origin: None,
            skipped: vec![],
        };
        let a = analyse(&rs).unwrap();
        let d = a.default_for(Ip::V4).unwrap();
        assert!(d.accepting().is_some() && d.dropping().is_some());
    }
}
