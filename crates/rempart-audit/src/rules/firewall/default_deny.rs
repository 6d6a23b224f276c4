//! FW-DEFAULT-DENY: incoming traffic no rule allows is dropped, for IPv4 and IPv6.

use super::eval::{By, Decision};
use super::model::Ip;
use super::source::{ipv6_disabled, Firewall};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "FW-DEFAULT-DENY",
    name: "incoming-accepted-by-default",
    family: Family::Firewall,
    severity: Severity::High,
    level: Level::Dev,
    title: "Incoming traffic is denied by default (IPv4 and IPv6)",
    doc: RuleDoc {
        what: "Evaluates the ruleset the firewall loads at boot (see FW-ACTIVE) for a new TCP or \
               UDP connection from the internet to a port no rule names: every input base chain \
               must drop or reject it, for IPv4 and for IPv6. A `policy drop` that a catch-all \
               `accept` rule overrides fails; an `ip` table alone leaves IPv6 unfiltered and \
               fails; ufw's DEFAULT_INPUT_POLICY must be DROP or REJECT. IPv6 is not judged on a \
               live host whose kernel runs without it.",
        why: "With a default of accept, every service that listens on a public address is \
              exposed, including those meant to stay local; the seed guide's rule is \"tout le \
              reste fermé par défaut\". IPv6 is often forgotten: a server with an IPv6 address \
              and an IPv4-only firewall is open.",
        remediation: "ufw: `ufw default deny incoming` (DEFAULT_INPUT_POLICY=\"DROP\" in \
                      /etc/default/ufw) and IPV6=yes. nftables: use `table inet` with `type \
                      filter hook input priority filter; policy drop;` and accept only \
                      established traffic, loopback and the intended ports.",
        verify: "ufw status verbose | grep Default; nft list chain inet filter input",
        references: &[
            "seed 000 §3 Firewall (ufw): « Tout le reste : Fermé par défaut »",
            "seed 002 Phase 1 §6: ufw default deny incoming",
            "CIS Debian Linux 12 Benchmark 4.2.x / 4.3.x (default deny firewall policy)",
            "man nft(8) CHAINS (policy)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let fw = ctx.fact::<Firewall>();
    if let Some(e) = &fw.error {
        return Outcome::from(e.clone());
    }
    let Some(config) = &fw.config else {
        return Outcome::fail("no firewall loads at boot: all incoming traffic is accepted")
            .with_all(fw.none_evidence());
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => return e.outcome(),
    };
    let mut bad = Vec::new();
    let mut good = Vec::new();
    for ip in Ip::BOTH {
        if ip == Ip::V6 && ipv6_disabled(ctx) {
            good.push(
                Evidence::source("proc")
                    .key("net.ipv6.conf.all.disable_ipv6")
                    .actual("1")
                    .note("IPv6 is off in the running kernel"),
            );
            continue;
        }
        let Some(d) = config.analysis.default_for(ip) else {
            continue;
        };
        let key = format!("{} input default", ip.as_str());
        match d.accepting() {
            Some(dec) => bad.push(explain(dec, ip, &key, config.kind.name())),
            None => {
                if let Some(dec) = d.dropping() {
                    good.push(dec.loc.evidence().key(key).actual("drop"));
                }
            }
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} drops incoming traffic no rule allows (IPv4 and IPv6)",
            config.kind.name()
        ))
        .with_all(good)
    } else {
        let fams: Vec<String> = bad
            .iter()
            .filter_map(|e| e.key.as_ref())
            .map(|k| k.split(' ').next().unwrap_or("").to_string())
            .collect();
        Outcome::fail(format!(
            "{} accepts incoming traffic by default ({})",
            config.kind.name(),
            fams.join(", ")
        ))
        .with_all(bad)
    }
}

fn explain(dec: &Decision, ip: Ip, key: &str, tool: &str) -> Evidence {
    let note = match dec.by {
        By::Policy => "the input chain's policy accepts what no rule drops".to_string(),
        By::Rule if dec.sure => "this rule accepts every port before anything drops".to_string(),
        By::Rule => "this rule may accept every port (rempart cannot read all of its \
                     conditions)"
            .to_string(),
        By::NoFilter => format!(
            "no {} input chain: {tool} does not filter {} at all",
            if ip == Ip::V6 { "IPv6" } else { "IPv4" },
            ip.as_str()
        ),
    };
    dec.loc
        .evidence()
        .key(key)
        .actual("accept")
        .expected("drop")
        .note(note)
}
