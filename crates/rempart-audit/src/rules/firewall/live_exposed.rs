//! FW-LIVE-EXPOSED: on the live host, no service listening beyond loopback on a port outside
//! `allowed_ports` is let in by the kernel's firewall. The join of two live facts: the listening
//! sockets (services family, from /proc) and the kernel's ruleset (`nft -j list ruleset`).

use super::eval::{Analysis, By, Decision};
use super::live_ruleset::LiveRuleset;
use super::model::{Ip, L4};
use super::source::ipv6_disabled;
use crate::host::Users;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::services::listen_public::{live_listeners, socket_evidence, UDP_CLIENT_PORTS};
use crate::rules::services::live::sockets::Proto;
use crate::rules::services::live::{Listener, Processes};
use std::net::IpAddr;

pub const RULE: Rule = Rule {
    id: "FW-LIVE-EXPOSED",
    name: "listening-service-reachable",
    family: Family::Firewall,
    severity: Severity::High,
    level: Level::Dev,
    title: "Services outside allowed_ports are not reachable through the kernel's firewall",
    doc: RuleDoc {
        what: "On the live host: every socket listening on a non-loopback address (TCP LISTEN and \
               unconnected UDP sockets of /proc/net, with the process, user and unit holding \
               them) whose port is not in `allowed_ports` is looked up in the kernel's ruleset \
               (`nft -j list ruleset`, evaluated like FW-LIVE-RULESET does). It fails when the \
               kernel lets new connections from the internet reach that port (an accepting \
               input policy, no input chain at all, or a rule opening the port). A socket on \
               `[::]` counts for IPv4 too when the kernel maps IPv4 onto it \
               (net.ipv6.bindv6only = 0 and no IPv4 socket of its own on the same port). Ports \
               open only to some sources or interfaces are noted, not failed. Under --root the \
               rule skips.",
        why: "This is the question the guides answer with nmap from outside (« tout fermé sauf \
              22, 80, 443 », « PostgreSQL depuis l'extérieur doit échouer »): a database, cache \
              or app backend bound to 0.0.0.0 is harmless behind a dropping firewall and exposed \
              without one. SVC-LISTEN-PUBLIC says what listens too widely; this rule says which \
              of those the internet can actually reach right now.",
        remediation: "Bind the service to 127.0.0.1 (see SVC-LISTEN-PUBLIC), and make the \
                      firewall drop incoming traffic by default with only the allowed ports \
                      open (FW-DEFAULT-DENY, FW-OPEN-PORTS), then reload it.",
        verify: "ss -ltnup; nft list ruleset; from another machine: nmap -sT -p PORT HOST \
                 (or `rempart probe --ports HOST`)",
        references: &[
            "seed 000 Audit de sécurité (« Scan de ports (nmap) - tout fermé sauf 22, 80, 443 »)",
            "seed 000 §3 Isolation réseau (« Port 5432 non exposé publiquement »)",
            "seed 002 Phase 1 §6 (ufw default deny incoming)",
            "man nft(8), proc(5) /proc/net/tcp",
        ],
    },
    check,
};

/// The address families a socket receives connections from.
fn families(l: &Listener, all: &[Listener], v6only_default: bool) -> Vec<Ip> {
    match l.addr {
        IpAddr::V4(_) => vec![Ip::V4],
        IpAddr::V6(a) if a.is_unspecified() => {
            let own_v4 = all
                .iter()
                .any(|o| o.proto == l.proto && o.port == l.port && matches!(o.addr, IpAddr::V4(_)));
            if v6only_default || own_v4 {
                vec![Ip::V6]
            } else {
                vec![Ip::V4, Ip::V6]
            }
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(_) => vec![Ip::V4],
            None => vec![Ip::V6],
        },
    }
}

/// How the kernel treats new connections to this port from the internet, per family.
enum Reach {
    /// Let in by a rule or policy rempart reads fully.
    Open(Evidence),
    /// Let in by a rule with conditions rempart cannot read.
    Unsure(Evidence),
    /// Let in from some sources or interfaces only.
    Restricted(Evidence),
    Closed,
}

fn reach(a: &Analysis, ip: Ip, l4: L4, port: u16) -> Reach {
    if let Some(o) = a
        .open
        .iter()
        .find(|o| o.ip == ip && o.l4 == l4 && o.ports.contains(port))
    {
        let ev = decided_by(&o.by, ip);
        return if o.by.sure {
            Reach::Open(ev)
        } else {
            Reach::Unsure(ev)
        };
    }
    if let Some(r) = a
        .restricted
        .iter()
        .find(|r| r.ip == ip && r.l4 == l4 && r.ports.contains(port))
    {
        return Reach::Restricted(r.loc.evidence().note(r.what.clone()));
    }
    Reach::Closed
}

/// The rule or policy that lets the port in, said plainly.
fn decided_by(d: &Decision, ip: Ip) -> Evidence {
    let ev = d.loc.evidence();
    match d.by {
        By::Rule => ev,
        By::Policy => ev.note(format!(
            "the {} input chain's policy accepts what no rule drops",
            ip.as_str()
        )),
        By::NoFilter => ev.note(format!(
            "no input chain filters {} in the kernel: everything is let in",
            ip.as_str()
        )),
    }
}

fn check(ctx: &Ctx) -> Outcome {
    if let Err(skip) = ctx.require_live("listening sockets and the kernel's nftables ruleset") {
        return skip;
    }
    let listeners = match live_listeners(ctx) {
        Ok(l) => l,
        Err(outcome) => return outcome,
    };
    let allowed = &ctx.config.allowed_ports;
    let candidates: Vec<&Listener> = listeners
        .list
        .iter()
        .filter(|l| l.is_public() && !allowed.contains(&l.port))
        .filter(|l| !(l.proto == Proto::Udp && UDP_CLIENT_PORTS.contains(&l.port)))
        .collect();
    if candidates.is_empty() {
        return Outcome::pass(
            "nothing listens on a non-loopback address outside allowed_ports: no firewall \
             decision to check",
        );
    }
    let live = ctx.fact::<LiveRuleset>();
    let kernel = match &live.result {
        Ok((_, a)) => a,
        Err(e) if e.contains("No such file") || e.contains("unable to execute") => {
            return Outcome::skip(format!(
                "nft is not available to read the kernel ruleset: {e}"
            ))
        }
        Err(e) => return Outcome::error(e.clone()).with(Evidence::source("nftables")),
    };
    let v6only_default = matches!(
        ctx.host.read_text("/proc/sys/net/ipv6/bindv6only"),
        Ok(Some(f)) if f.text.trim() == "1"
    );
    let no_v6 = ipv6_disabled(ctx);
    let procs = ctx.fact::<Processes>();
    let users = ctx.fact::<Users>();
    let mut bad = Vec::new();
    let mut notes = Vec::new();
    let mut shielded = 0usize;
    for l in &candidates {
        let l4 = match l.proto {
            Proto::Tcp => L4::Tcp,
            Proto::Udp => L4::Udp,
        };
        let mut open_in = Vec::new();
        let mut why = None;
        for ip in families(l, &listeners.list, v6only_default) {
            if ip == Ip::V6 && no_v6 {
                continue;
            }
            match reach(kernel, ip, l4, l.port) {
                Reach::Open(ev) => {
                    open_in.push(ip.as_str());
                    why.get_or_insert(ev);
                }
                Reach::Unsure(ev) => notes.push(ev.key(l.label()).note(
                    "a kernel rule with conditions rempart cannot read may let this port in: \
                     not counted",
                )),
                Reach::Restricted(ev) => notes.push(ev.key(l.label())),
                Reach::Closed => {}
            }
        }
        if open_in.is_empty() {
            shielded += 1;
            continue;
        }
        bad.push(
            socket_evidence(l, &procs, &users)
                .expected(format!(
                    "dropped by the firewall, or port in allowed_ports ({})",
                    allowed
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .note(format!(
                    "reachable from the internet over {}",
                    open_in.join(" and ")
                )),
        );
        if let Some(ev) = why {
            bad.push(ev.key(format!("{} firewall", l.label())));
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{shielded} sockets listen beyond loopback outside allowed_ports; the kernel's \
             firewall drops new connections to all of them"
        ))
        .with_all(notes)
    } else {
        let names: Vec<String> = candidates
            .iter()
            .filter(|l| {
                bad.iter()
                    .any(|e| e.key.as_deref() == Some(l.label().as_str()))
            })
            .map(|l| l.label())
            .collect();
        Outcome::fail(format!(
            "the kernel's firewall lets the internet reach {}",
            names.join(", ")
        ))
        .with_all(bad)
        .with_all(notes)
    }
}
