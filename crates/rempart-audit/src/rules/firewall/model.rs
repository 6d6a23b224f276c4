//! The firewall model every source is translated into: chains of rules, each rule a list of
//! conditions and a verdict, as netfilter evaluates them. ufw files, `/etc/nftables.conf`,
//! iptables-save files and the live `nft -j list ruleset` all become a [`Ruleset`], so one
//! evaluator ([`super::eval`]) judges them all.
//!
//! Conditions rempart does not understand are kept as [`Cond::Unknown`]: the evaluator treats them
//! as "may match", so an accept rule it cannot read counts as possibly open rather than closed.

use super::net::PortSet;
use crate::model::Evidence;
use std::fmt;

/// Where a chain, a rule or a policy comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// Host path of the file, or `None` for the running kernel's ruleset.
    pub path: Option<String>,
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// The line's text (or, for the kernel ruleset, the rule as rempart understood it).
    pub text: String,
}

impl Loc {
    pub fn file(path: &str, line: u32, text: &str) -> Loc {
        Loc {
            path: Some(path.to_string()),
            line,
            text: text.trim().to_string(),
        }
    }

    pub fn kernel(text: impl Into<String>) -> Loc {
        Loc {
            path: None,
            line: 0,
            text: text.into(),
        }
    }

    /// Evidence pointing at this place: `file:line` with the snippet, or the `nftables` source.
    pub fn evidence(&self) -> Evidence {
        let ev = match &self.path {
            Some(p) => Evidence::file(p),
            None => Evidence::source("nftables"),
        };
        let ev = if self.line > 0 {
            ev.line(self.line)
        } else {
            ev
        };
        if self.text.is_empty() {
            ev
        } else {
            ev.snippet(&self.text)
        }
    }

    /// `path:line` for messages.
    pub fn short(&self) -> String {
        match &self.path {
            Some(p) if self.line > 0 => format!("{p}:{}", self.line),
            Some(p) => p.clone(),
            None => "the kernel ruleset".to_string(),
        }
    }
}

/// An IP family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ip {
    V4,
    V6,
}

impl Ip {
    pub const BOTH: [Ip; 2] = [Ip::V4, Ip::V6];

    pub fn as_str(self) -> &'static str {
        match self {
            Ip::V4 => "IPv4",
            Ip::V6 => "IPv6",
        }
    }
}

/// The transport protocols ports belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L4 {
    Tcp,
    Udp,
}

impl L4 {
    pub const BOTH: [L4; 2] = [L4::Tcp, L4::Udp];

    pub fn as_str(self) -> &'static str {
        match self {
            L4::Tcp => "tcp",
            L4::Udp => "udp",
        }
    }
}

/// The families a table's chains see (`ip`, `ip6`, `inet`; others never see the input hook).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableFamily {
    Ip,
    Ip6,
    Inet,
    Other,
}

impl TableFamily {
    pub fn parse(s: &str) -> Option<TableFamily> {
        Some(match s {
            "ip" => TableFamily::Ip,
            "ip6" => TableFamily::Ip6,
            "inet" => TableFamily::Inet,
            "arp" | "bridge" | "netdev" => TableFamily::Other,
            _ => return None,
        })
    }

    pub fn covers(self, ip: Ip) -> bool {
        matches!(
            (self, ip),
            (TableFamily::Inet, _) | (TableFamily::Ip, Ip::V4) | (TableFamily::Ip6, Ip::V6)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TableFamily::Ip => "ip",
            TableFamily::Ip6 => "ip6",
            TableFamily::Inet => "inet",
            TableFamily::Other => "other",
        }
    }
}

/// Who may send a packet a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Anyone (`0.0.0.0/0`, `::/0`, no restriction).
    Any,
    /// Only some sources: private ranges, narrow prefixes, named hosts, address sets.
    Restricted,
}

/// One condition of a rule, as far as rempart understands it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// The transport protocol is (or, negated, is not) one of these. `other` covers everything
    /// that is neither TCP nor UDP (icmp, esp ...).
    Proto { tcp: bool, udp: bool, negated: bool },
    /// Destination port. `proto: None` is `th dport` (TCP or UDP).
    DPort {
        proto: Option<L4>,
        ports: PortSet,
        negated: bool,
    },
    /// Source port: a rule matching replies from a given port (DHCP) does not open a service.
    SPort,
    /// Source address.
    Source {
        family: Option<Ip>,
        scope: Scope,
        text: String,
        negated: bool,
    },
    /// Destination address type: `true` for the host's own unicast addresses, `false` for
    /// multicast or broadcast destinations.
    DestLocal { local: bool, negated: bool },
    /// Input interface names (`*` / `+` wildcards allowed).
    Iif { names: Vec<String>, negated: bool },
    /// Connection-tracking states (`new`, `established`, `related`, `invalid`, `untracked`).
    CtState { states: Vec<String>, negated: bool },
    /// Only packets of this IP family (`meta nfproto`, `ip saddr` in an inet table ...).
    Family(Ip),
    /// Something rempart does not interpret: may or may not match.
    Unknown(String),
}

/// Where a rule sends a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Accept,
    Drop,
    Reject,
    Return,
    Continue,
    Jump(String),
    Goto(String),
    /// A verdict map: the verdict depends on one packet field.
    Vmap {
        key: VmapKey,
        entries: Vec<(VmapMatch, Verdict)>,
    },
    /// A verdict rempart does not model (queue, a named map ...): treated as no verdict.
    Unknown(String),
}

/// The packet field a verdict map looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmapKey {
    CtState,
    DPort(Option<L4>),
    L4Proto,
    Iif,
}

/// One key of a verdict map.
#[derive(Debug, Clone, PartialEq)]
pub enum VmapMatch {
    Word(String),
    Ports(PortSet),
}

/// One rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FwRule {
    pub conds: Vec<Cond>,
    /// `None`: no verdict (a counter, a log line): evaluation continues.
    pub verdict: Option<Verdict>,
    pub loc: Loc,
}

/// One chain. Base chains hook into the stack; regular chains are jumped to.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub family: TableFamily,
    pub table: String,
    pub name: String,
    /// The hook of a `type filter` base chain (`input`, `forward` ...).
    pub hook: Option<String>,
    /// The chain policy and where it is set. A base chain without one accepts.
    pub policy: Option<(Verdict, Loc)>,
    pub rules: Vec<FwRule>,
    pub loc: Loc,
}

impl Chain {
    pub fn is_input_for(&self, ip: Ip) -> bool {
        self.hook.as_deref() == Some("input") && self.family.covers(ip)
    }
}

/// A whole ruleset, from one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ruleset {
    pub chains: Vec<Chain>,
    /// The file the ruleset was loaded from (evidence when there is no chain to point at), or
    /// `None` for the kernel.
    pub origin: Option<String>,
    /// Rules rempart could not translate (kept for notes; they count as doing nothing).
    pub skipped: Vec<Loc>,
}

impl Ruleset {
    pub fn chain(&self, family: TableFamily, table: &str, name: &str) -> Option<&Chain> {
        self.chains
            .iter()
            .find(|c| c.family == family && c.table == table && c.name == name)
    }

    pub fn input_chains(&self, ip: Ip) -> impl Iterator<Item = &Chain> {
        self.chains.iter().filter(move |c| c.is_input_for(ip))
    }

    /// Where to point when the ruleset itself is the evidence.
    pub fn origin_evidence(&self) -> Evidence {
        match &self.origin {
            Some(p) => Evidence::file(p),
            None => Evidence::source("nftables"),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accept => f.write_str("accept"),
            Verdict::Drop => f.write_str("drop"),
            Verdict::Reject => f.write_str("reject"),
            Verdict::Return => f.write_str("return"),
            Verdict::Continue => f.write_str("continue"),
            Verdict::Jump(t) => write!(f, "jump {t}"),
            Verdict::Goto(t) => write!(f, "goto {t}"),
            Verdict::Vmap { .. } => f.write_str("vmap"),
            Verdict::Unknown(s) => f.write_str(s),
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = |n: &bool| if *n { "!= " } else { "" };
        match self {
            Cond::Proto { tcp, udp, negated } => {
                let p = match (tcp, udp) {
                    (true, true) => "{ tcp, udp }",
                    (true, false) => "tcp",
                    (false, true) => "udp",
                    (false, false) => "other",
                };
                write!(f, "meta l4proto {}{p}", not(negated))
            }
            Cond::DPort {
                proto,
                ports,
                negated,
            } => write!(
                f,
                "{} dport {}{ports}",
                proto.map_or("th", L4::as_str),
                not(negated)
            ),
            Cond::SPort => f.write_str("sport ..."),
            Cond::Source { text, negated, .. } => write!(f, "saddr {}{text}", not(negated)),
            Cond::DestLocal { local, negated } => write!(
                f,
                "daddr type {}{}",
                not(negated),
                if *local { "local" } else { "multicast" }
            ),
            Cond::Iif { names, negated } => {
                write!(f, "iifname {}{}", not(negated), names.join(","))
            }
            Cond::CtState { states, negated } => {
                write!(f, "ct state {}{}", not(negated), states.join(","))
            }
            Cond::Family(ip) => write!(f, "meta nfproto {}", ip.as_str()),
            Cond::Unknown(s) => f.write_str(s),
        }
    }
}

/// A rule as nft-like text, for evidence of rules read from the kernel.
pub fn describe(conds: &[Cond], verdict: Option<&Verdict>) -> String {
    let mut parts: Vec<String> = conds.iter().map(ToString::to_string).collect();
    if let Some(v) = verdict {
        parts.push(v.to_string());
    }
    parts.join(" ")
}
