//! FW-ACTIVE: a firewall configuration is loaded when the host boots.

use super::source::Firewall;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "FW-ACTIVE",
    name: "no-firewall-at-boot",
    family: Family::Firewall,
    severity: Severity::High,
    level: Level::Dev,
    title: "A firewall is loaded at boot",
    doc: RuleDoc {
        what: "One of these loads a ruleset when the host boots: ufw (package installed, \
               `ENABLED=yes` in /etc/ufw/ufw.conf, ufw.service not disabled), nftables \
               (nftables.service enabled, /etc/nftables.conf present), iptables-persistent \
               (netfilter-persistent.service enabled, /etc/iptables/rules.v4 or rules.v6 \
               present), or firewalld (enabled; its configuration is not judged). The first of \
               these, in that order, is the firewall the other FW- rules judge; when several load \
               at boot the outcome notes it, since their rulesets stack.",
        why: "Without a firewall every service listening on a public address is reachable, \
              including the ones meant for localhost or the LAN (a database, a backend on port \
              8000). A firewall configured by hand but not enabled disappears at the next reboot.",
        remediation: "ufw: `ufw allow 22/tcp && ufw allow 80/tcp && ufw allow 443/tcp && ufw \
                      enable` (writes ENABLED=yes). nftables: write /etc/nftables.conf and \
                      `systemctl enable --now nftables`. Allow SSH before enabling, or you lock \
                      yourself out.",
        verify: "ufw status verbose; systemctl is-enabled ufw nftables netfilter-persistent; \
                 nft list ruleset",
        references: &[
            "seed 000 §3 Isolation réseau (Firewall ufw)",
            "seed 002 Phase 1 §6 Pare-feu (UFW): ufw enable",
            "CIS Debian Linux 12 Benchmark 4.1 (configure a single firewall utility)",
            "man ufw(8), nft(8), netfilter-persistent(8)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let fw = ctx.fact::<Firewall>();
    if let Some(e) = &fw.error {
        return Outcome::from(e.clone());
    }
    let Some(kind) = fw.active else {
        let installed: Vec<&str> = fw.candidates.iter().map(|c| c.kind.name()).collect();
        let message = if installed.is_empty() {
            "no firewall is installed".to_string()
        } else {
            format!(
                "no firewall loads at boot ({} installed but not enabled)",
                installed.join(", ")
            )
        };
        return Outcome::fail(message).with_all(fw.none_evidence());
    };
    let mut evidence: Vec<Evidence> = fw
        .candidates
        .iter()
        .filter(|c| c.kind == kind)
        .flat_map(|c| c.evidence.iter().cloned())
        .collect();
    let others: Vec<&str> = fw.also_at_boot().map(|c| c.kind.name()).collect();
    for c in fw.also_at_boot() {
        evidence.push(
            Evidence::source("systemd")
                .key(c.kind.unit())
                .actual("enabled")
                .note(format!(
                    "{} also loads a ruleset at boot; netfilter applies both, which is easy to \
                     get wrong: keep one firewall tool",
                    c.kind.name()
                )),
        );
    }
    let mut message = format!("{} loads the firewall at boot", kind.name());
    if !others.is_empty() {
        message.push_str(&format!(" (so does {})", others.join(", ")));
    }
    Outcome::pass(message).with_all(evidence)
}
