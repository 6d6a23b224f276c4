//! FW-DOCKER-BYPASS: ports Docker publishes do not slip past the firewall. Docker DNATs a
//! published port in the nat table's PREROUTING hook and accepts it in the FORWARD path (its
//! DOCKER chain): the INPUT chain that ufw and most host firewalls filter never sees that
//! traffic. Only the DOCKER-USER chain (or publishing on 127.0.0.1) keeps it out.
//!
//! [`chains`] parses Docker's chains from nft's JSON and iptables-save; [`live`] reads them from
//! the kernel.

pub mod chains;
pub mod live;

use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use chains::{filtering, Filtering};
use live::LiveDocker;

pub const RULE: Rule = Rule {
    id: "FW-DOCKER-BYPASS",
    name: "docker-published-port-bypasses-firewall",
    family: Family::Firewall,
    severity: Severity::High,
    level: Level::Sme,
    title: "Ports published by Docker are filtered like the host's (DOCKER-USER) or bound to loopback",
    doc: RuleDoc {
        what: "On the live host: Docker's chains as the kernel holds them, from `nft -j list \
               ruleset` (iptables-nft, Debian's default) and, when /proc/net/ip_tables_names \
               shows legacy tables, from `iptables-legacy-save`. Every DNAT rule of the nat \
               table's DOCKER chain is a published port. A port bound to 127.0.0.1 (`-p \
               127.0.0.1:PORT:PORT`) passes; so does one in `allowed_ports`; so does one that a \
               DROP or REJECT rule of DOCKER-USER covers (any port, or that port as \
               --dport/--ctorigdstport, from every source or every source but some). A \
               DOCKER-USER rule that jumps elsewhere or drops only some sources is noted, not \
               followed. Any other published port fails. Not applicable when the kernel has no \
               DOCKER chain; skipped under --root.",
        why: "The classic trap: ufw says `5432 DENY`, `nmap` from outside says 5432 is open. \
              Docker's published ports are rewritten before the INPUT chain and accepted in \
              FORWARD, so the host firewall's rules never apply to them; a database started \
              with `-p 5432:5432` for a quick test is on the Internet.",
        remediation: "Publish on loopback (`ports: [\"127.0.0.1:5432:5432\"]` in compose) and \
                      reach the service through the reverse proxy or an SSH tunnel; or filter \
                      in DOCKER-USER (`iptables -I DOCKER-USER -i eth0 -p tcp -m conntrack \
                      --ctorigdstport 5432 -j DROP`, persisted), or use ufw-docker.",
        verify: "iptables -t nat -S DOCKER; iptables -S DOCKER-USER; from another machine: nmap -sT -p PORT HOST",
        references: &[
            "seed 000 §3 Firewall (« Port 5432 (PostgreSQL) : Fermé (localhost uniquement) »)",
            "seed 001 Docker stack (services published by compose)",
            "Docker docs: Packet filtering and firewalls (DOCKER-USER)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    if let Err(skip) = ctx.require_live("the kernel's Docker chains") {
        return skip;
    }
    let live = ctx.fact::<LiveDocker>();
    if !live.chains.present {
        if live.sources.is_empty() {
            if let Some(e) = live.errors.first() {
                if e.contains("unable to execute") || e.contains("No such file") {
                    return Outcome::skip(format!("the kernel ruleset cannot be read here: {e}"));
                }
                return Outcome::error(format!("the kernel ruleset could not be read: {e}"))
                    .with(Evidence::source("nftables"));
            }
        }
        return Outcome::not_applicable("no DOCKER chain in the kernel's nat table");
    }
    let allowed = &ctx.config.allowed_ports;
    let mut bad = Vec::new();
    let mut notes = Vec::new();
    let mut fine = Vec::new();
    for p in &live.chains.published {
        let label = format!("{}/{}", p.proto, p.port);
        let dest = p
            .dest
            .as_deref()
            .map(|d| format!(" to {d}"))
            .unwrap_or_default();
        if p.local_only() {
            fine.push(format!("{label} (loopback)"));
            continue;
        }
        if allowed.contains(&p.port) {
            fine.push(format!("{label} (allowed)"));
            continue;
        }
        match filtering(live.chains.user.as_deref(), p) {
            Filtering::Blocked(by) => fine.push(format!("{label} (dropped by {by})")),
            Filtering::Unsure(by) => notes.push(
                Evidence::source("nftables")
                    .key(format!("published {label}"))
                    .note(format!(
                        "DOCKER-USER may filter it ({by}); rempart does not follow that rule"
                    )),
            ),
            Filtering::Open => bad.push(
                Evidence::source(if p.origin.starts_with("nft") {
                    "nftables"
                } else {
                    "iptables"
                })
                .key(format!("published {label}"))
                .actual(format!(
                    "DNAT{dest} on every address, not filtered in DOCKER-USER"
                ))
                .expected("127.0.0.1:PORT, a port in allowed_ports, or a DROP in DOCKER-USER")
                .note(p.origin.clone()),
            ),
        }
    }
    for e in &live.errors {
        notes.push(Evidence::source("iptables").note(format!("not read: {e}")));
    }
    let sources = live.sources.join(" and ");
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} published ports, none open past the firewall ({}){}",
            live.chains.published.len(),
            sources,
            if fine.is_empty() {
                String::new()
            } else {
                format!(": {}", fine.join(", "))
            }
        ))
        .with_all(notes)
    } else {
        let keys: Vec<String> = bad
            .iter()
            .filter_map(|e| e.key.as_deref())
            .map(|k| k.trim_start_matches("published ").to_string())
            .collect();
        Outcome::fail(format!(
            "Docker publishes {} past the host firewall ({sources})",
            keys.join(", ")
        ))
        .with_all(bad)
        .with_all(notes)
    }
}
