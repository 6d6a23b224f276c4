//! IPS-FAIL2BAN: fail2ban (or rempart guard) is installed and starts at boot.

use super::guard::GUARD_UNIT;
use super::ips::Ips;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "IPS-FAIL2BAN",
    name: "no-intrusion-prevention",
    family: Family::Intrusion,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Brute-force attempts are banned (fail2ban or rempart guard runs)",
    doc: RuleDoc {
        what: "The fail2ban package is installed and fail2ban.service is enabled, or rempart \
               guard (rempart-guard.service) is enabled. CrowdSec with an enabled firewall \
               bouncer also passes. The jails themselves are judged by IPS-SSHD-JAIL, \
               IPS-BACKEND and IPS-BANACTION.",
        why: "A server reachable from the internet sees password and key guessing on SSH within \
              minutes, and scans of its web applications. Banning the sources after a few \
              failures cuts the noise and the odds of a weak credential being found.",
        remediation: "apt install fail2ban && systemctl enable --now fail2ban (then check the \
                      sshd jail: on Debian 12 it needs `backend = systemd`, see IPS-BACKEND). \
                      Or enable rempart guard: systemctl enable --now rempart-guard.",
        verify: "systemctl is-enabled fail2ban; fail2ban-client status",
        references: &[
            "seed 002 Phase 1 §7 Fail2Ban",
            "seed 001 §3 fail2ban Custom Jails, §4 CrowdSec",
            "seed 000 « Pas d'alertes sur comportements suspects — Solution : Fail2ban »",
            "man jail.conf(5)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let ips = ctx.fact::<Ips>();
    if let Some(e) = &ips.packages_error {
        return Outcome::from(e.clone());
    }
    if ips.fail2ban_enabled {
        return Outcome::pass("fail2ban is installed and enabled")
            .with_all(ips.fail2ban_evidence.clone());
    }
    if ips.guard.enabled {
        return Outcome::pass("rempart guard is enabled").with(
            Evidence::source("systemd")
                .key(GUARD_UNIT)
                .actual("enabled"),
        );
    }
    if ips.crowdsec {
        return Outcome::pass("CrowdSec and a firewall bouncer are enabled").with(
            Evidence::source("systemd")
                .key("crowdsec.service")
                .actual("enabled"),
        );
    }
    let message = if ips.fail2ban_installed {
        "fail2ban is installed but does not start at boot"
    } else {
        "no intrusion prevention is installed (fail2ban, rempart guard)"
    };
    Outcome::fail(message).with_all(ips.fail2ban_evidence.clone())
}
