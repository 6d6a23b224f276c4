//! FW-OPEN-PORTS: the firewall opens only the intended ports (rempart.toml `allowed_ports`,
//! 22, 80 and 443 by default) to the internet.

use super::eval::{Analysis, By, Open};
use super::model::{Ip, L4};
use super::net::PortSet;
use super::source::Firewall;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "FW-OPEN-PORTS",
    name: "unintended-ports-open",
    family: Family::Firewall,
    severity: Severity::High,
    level: Level::Dev,
    title: "The firewall opens only the intended ports",
    doc: RuleDoc {
        what: "Evaluates the ruleset the firewall loads at boot (see FW-ACTIVE) for new TCP and \
               UDP connections from the internet, port by port, IPv4 and IPv6, following jumps, \
               verdict maps and policies. Every port it lets through must be in \
               `allowed_ports` of rempart.toml (22, 80 and 443 when unset; a number there \
               allows it over TCP and UDP). Each extra port is reported at the rule that opens \
               it (a ufw rule at its `### tuple ###` line). Rules limited to private or narrow \
               source ranges, to loopback, VPN or container interfaces, or to replies from a \
               source port do not count and are noted. A condition rempart cannot read counts \
               as matching, so doubtful rules are reported, flagged as uncertain.",
        why: "Every open port is an attack surface. A database (5432) or an application server \
              (8000) opened \"for a test\" is how most self-hosted data leaks start; they should \
              listen on localhost behind the reverse proxy.",
        remediation: "ufw: `ufw delete allow 5432/tcp` (or `ufw allow from 10.0.0.0/8 to any \
                      port 5432` for a LAN). nftables: remove the port from the accept rule or \
                      restrict it with `ip saddr`. If the port is meant to be public, add it to \
                      `allowed_ports` in /etc/rempart/rempart.toml.",
        verify: "ufw status numbered; nft list ruleset; from another host: nmap -Pn -p- HOST",
        references: &[
            "seed 000 §3 Firewall (ufw): 22, 80, 443 ouverts; 8000 et 5432 fermés",
            "seed 002 Phase 1 §6: ufw allow 80/tcp, 443/tcp, 22/tcp",
            "seed 000 checklist: « nmap — tout fermé sauf 22, 80, 443 »",
            "CIS Debian Linux 12 Benchmark 4.x (firewall rules for all open ports)",
        ],
    },
    check,
};

/// Evidence items listed before the rest is summarised.
const MAX_EVIDENCE: usize = 25;

fn check(ctx: &Ctx) -> Outcome {
    let fw = ctx.fact::<Firewall>();
    if let Some(e) = &fw.error {
        return Outcome::from(e.clone());
    }
    let Some(config) = &fw.config else {
        return Outcome::fail("no firewall loads at boot: every listening port is reachable")
            .with_all(fw.none_evidence());
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => return e.outcome(),
    };
    let allowed = allowed_set(&ctx.config.allowed_ports);
    let mut extra = extra_ports(&config.analysis, &allowed);
    if let Some(u) = &config.ufw {
        for e in &mut extra {
            let tuple = u.tuples.iter().find(|t| {
                Some(&t.loc.path.clone().unwrap_or_default()) == e.path.as_ref()
                    && Some(t.loc.line) == e.line
            });
            if let Some(t) = tuple {
                e.note = Some(format!(
                    "remove it with `{}`",
                    t.command().replacen("ufw ", "ufw delete ", 1)
                ));
            }
        }
    }
    let mut notes = restricted_notes(&config.analysis);
    if fw.docker {
        notes.push(Evidence::source("docker").note(
            "Docker publishes container ports through its own chains, before these input \
             rules: check `docker ps` port mappings (the containers family judges them)",
        ));
    }
    let open_text = summary(&config.analysis);
    if extra.is_empty() {
        return Outcome::pass(format!(
            "{} opens only allowed ports ({open_text})",
            config.kind.name()
        ))
        .with_all(notes);
    }
    let mut ports: Vec<String> = Vec::new();
    for k in extra.iter().filter_map(|e| e.key.clone()) {
        if !ports.contains(&k) {
            ports.push(k);
        }
    }
    let more = ports.len() > 8;
    ports.truncate(8);
    extra.truncate(MAX_EVIDENCE);
    Outcome::fail(format!(
        "{} opens {} beyond the allowed ports {}",
        config.kind.name(),
        ports.join(", ") + if more { ", ..." } else { "" },
        fmt_allowed(&allowed)
    ))
    .with_all(extra)
    .with_all(notes)
}

pub fn allowed_set(ports: &[u16]) -> PortSet {
    PortSet::from_ranges(ports.iter().map(|&p| (p, p)))
}

fn fmt_allowed(allowed: &PortSet) -> String {
    if allowed.is_empty() {
        "(none)".into()
    } else {
        allowed.to_string()
    }
}

/// One evidence item per rule opening ports outside `allowed`, families merged.
pub fn extra_ports(a: &Analysis, allowed: &PortSet) -> Vec<Evidence> {
    let mut groups: Vec<(&Open, PortSet, Vec<Ip>)> = Vec::new();
    for o in &a.open {
        let extra = o.ports.minus(allowed);
        if extra.is_empty() {
            continue;
        }
        match groups
            .iter_mut()
            .find(|(g, p, _)| g.by == o.by && g.l4 == o.l4 && *p == extra)
        {
            Some((_, _, ips)) => ips.push(o.ip),
            None => groups.push((o, extra, vec![o.ip])),
        }
    }
    groups
        .into_iter()
        .map(|(o, ports, ips)| {
            let fam = if ips.len() == 2 {
                "IPv4 and IPv6".to_string()
            } else {
                ips[0].as_str().to_string()
            };
            let shown = if o.ports.count() == 65536 {
                "any".to_string()
            } else {
                ports.to_string()
            };
            let mut ev =
                o.by.loc
                    .evidence()
                    .key(format!("{}/{shown}", o.l4.as_str()))
                    .actual(format!("open to the internet ({fam})"))
                    .expected("closed");
            let note = match o.by.by {
                By::Policy => Some("the input policy accepts every port no rule drops"),
                By::NoFilter => Some("nothing filters this family"),
                By::Rule if !o.by.sure => {
                    Some("rempart cannot read every condition of this rule: it may open the port")
                }
                By::Rule => None,
            };
            if let Some(n) = note {
                ev = ev.note(n);
            }
            ev
        })
        .collect()
}

/// Notes for ports opened to some sources only.
pub fn restricted_notes(a: &Analysis) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = Vec::new();
    for r in &a.restricted {
        let key = format!("{}/{}", r.l4.as_str(), r.ports);
        if out
            .iter()
            .any(|e| e.key.as_deref() == Some(&key) && e.snippet.as_deref() == Some(&r.loc.text))
        {
            continue;
        }
        out.push(
            r.loc
                .evidence()
                .key(key)
                .note(format!("open {} only: not counted", r.what)),
        );
        if out.len() >= MAX_EVIDENCE {
            break;
        }
    }
    out
}

/// `tcp 22, 80, 443; udp none`
pub fn summary(a: &Analysis) -> String {
    L4::BOTH
        .iter()
        .map(|&l| {
            let p = a.open_ports(l);
            let ports = match p.count() {
                0 => "none".to_string(),
                65536 => "any".to_string(),
                _ => p.to_string(),
            };
            format!("{} {ports}", l.as_str())
        })
        .collect::<Vec<_>>()
        .join("; ")
}
