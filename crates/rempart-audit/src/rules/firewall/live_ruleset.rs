//! FW-LIVE-RULESET: on the live host, the kernel's ruleset (`nft -j list ruleset`) denies
//! incoming traffic by default and opens no port the configuration or `allowed_ports` does not.

use super::eval::{analyse, Analysis};
use super::live::{self, SIMULATED_JSON, SIMULATED_LISTING};
use super::model::{Ip, L4};
use super::open_ports::{allowed_set, extra_ports, summary};
use super::source::{ipv6_disabled, Firewall};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Fact, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "FW-LIVE-RULESET",
    name: "kernel-ruleset-differs-from-config",
    family: Family::Firewall,
    severity: Severity::High,
    level: Level::Sme,
    title: "The running kernel enforces the configured firewall",
    doc: RuleDoc {
        what: "On the live host only: reads the kernel's ruleset with `nft -j list ruleset` \
               (the only process the audit runs; it shows nftables and iptables-nft rules, ufw's \
               included) and evaluates it like the configuration. Passes when the kernel drops \
               new incoming connections by default for IPv4 and IPv6 and opens no port beyond \
               those the boot configuration opens and `allowed_ports`. Under --root the running \
               kernel is not the tree's, so the rule skips.",
        why: "A configuration that is not loaded protects nothing: ufw enabled but never \
              started, nftables.conf edited but not reloaded, a rule added by hand with `nft add \
              rule` or left by a test, a `flush ruleset` at the wrong moment. The kernel is what \
              packets meet.",
        remediation: "Reload the configured firewall (`ufw reload`, `systemctl restart \
                      nftables`, `netfilter-persistent reload`), then remove rules added by \
                      hand or put them in the configuration.",
        verify: "nft list ruleset; ufw status verbose",
        references: &[
            "seed 002 Phase 1 §6: « Vérifier : sudo ufw status »",
            "seed 000 checklist: scan de ports (nmap) — tout fermé sauf 22, 80, 443",
            "man nft(8) (list ruleset, JSON output with -j)",
        ],
    },
    check,
};

/// The kernel's ruleset, read once per run on the live host.
#[derive(Debug, Clone)]
pub struct LiveRuleset {
    pub result: Result<(super::model::Ruleset, Analysis), String>,
}

impl Fact for LiveRuleset {
    fn collect(ctx: &Ctx) -> LiveRuleset {
        let parsed = if ctx.host.root() == std::path::Path::new("/") {
            live::read(None)
        } else {
            // A root tree standing for a running system (tests): its recorded nft output.
            live::read_with(&mut |json| {
                let path = if json {
                    SIMULATED_JSON
                } else {
                    SIMULATED_LISTING
                };
                match ctx.host.read_text(path) {
                    Ok(Some(f)) => Ok(f.text),
                    Ok(None) => Err(format!("{path} is missing in the simulated host")),
                    Err(e) => Err(e.to_string()),
                }
            })
        };
        LiveRuleset {
            result: parsed.and_then(|rs| {
                let a = analyse(&rs).map_err(|e| e.to_string())?;
                Ok((rs, a))
            }),
        }
    }
}

fn check(ctx: &Ctx) -> Outcome {
    if let Err(skip) = ctx.require_live("the kernel's nftables ruleset") {
        return skip;
    }
    let live = ctx.fact::<LiveRuleset>();
    let (rs, kernel) = match &live.result {
        Ok(x) => x,
        Err(e) if e.contains("No such file") || e.contains("unable to execute") => {
            return Outcome::skip(format!(
                "nft is not available to read the kernel ruleset: {e}"
            ))
        }
        Err(e) => return Outcome::error(e.clone()).with(Evidence::source("nftables")),
    };
    let fw = ctx.fact::<Firewall>();
    let configured: Option<&Analysis> = fw
        .config
        .as_ref()
        .and_then(|c| c.as_ref().ok())
        .map(|c| &c.analysis);
    let mut bad = Vec::new();
    let mut notes: Vec<Evidence> = rs
        .skipped
        .iter()
        .map(|l| l.evidence().note("not decoded; counted as doing nothing"))
        .collect();
    let uncertain = "rempart cannot read every condition of this kernel rule: it may accept; \
                     not counted";
    for ip in Ip::BOTH {
        if ip == Ip::V6 && ipv6_disabled(ctx) {
            continue;
        }
        let Some(d) = kernel.default_for(ip) else {
            continue;
        };
        if let Some(dec) = d.accepting() {
            let ev = dec
                .loc
                .evidence()
                .key(format!("{} input default", ip.as_str()));
            if dec.sure {
                bad.push(ev.actual("accept").expected("drop"));
            } else {
                notes.push(ev.note(uncertain));
            }
        }
    }
    // Ports the kernel opens that neither the boot configuration nor allowed_ports opens.
    let allowed = allowed_set(&ctx.config.allowed_ports);
    let mut expected_by_proto = [allowed.clone(), allowed];
    if let Some(c) = configured {
        for (i, l4) in L4::BOTH.iter().enumerate() {
            expected_by_proto[i].extend(&c.open_ports(*l4));
        }
    }
    // An accepting default is reported once, not as every port it opens.
    if bad.is_empty() {
        for (i, l4) in L4::BOTH.iter().enumerate() {
            for sure in [true, false] {
                let only = Analysis {
                    open: kernel
                        .open
                        .iter()
                        .filter(|o| o.l4 == *l4 && o.by.sure == sure)
                        .cloned()
                        .collect(),
                    ..Analysis::default()
                };
                let found = extra_ports(&only, &expected_by_proto[i]);
                if sure {
                    bad.extend(found);
                } else {
                    notes.extend(found.into_iter().map(|e| e.note(uncertain)));
                }
            }
        }
    }
    if configured.is_none() {
        notes.push(Evidence::source("config").note(
            "no firewall configuration is loaded at boot (see FW-ACTIVE): only allowed_ports \
             is compared",
        ));
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "the kernel drops unsolicited input and opens only expected ports ({})",
            summary(kernel)
        ))
        .with_all(notes)
    } else {
        Outcome::fail(format!(
            "the kernel's ruleset is more open than the configuration ({})",
            summary(kernel)
        ))
        .with_all(bad)
        .with_all(notes)
    }
}
