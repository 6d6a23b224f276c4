//! IPS-SSHD-JAIL: the sshd jail is enabled.

use super::ips::{sshd_subject, Ips, Subject};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "IPS-SSHD-JAIL",
    name: "sshd-jail-disabled",
    family: Family::Intrusion,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "The sshd jail is enabled",
    doc: RuleDoc {
        what: "On a host with an SSH server and fail2ban: fail2ban's configuration, merged as \
               fail2ban does (jail.conf, jail.d/*.conf, jail.local, jail.d/*.local, [DEFAULT] \
               inheritance, %(interpolation)s), enables the `[sshd]` jail with a boolean \
               `enabled` (1/yes/true/on). Debian ships jail.d/defaults-debian.conf with \
               `enabled = true`; a later file can turn it off, and a value fail2ban cannot read \
               as a boolean (`enabled = true # ssh`: `#` is no inline comment in fail2ban) leaves \
               it off. With rempart guard enabled, its `[jails.sshd]` must be on.",
        why: "SSH is the service every scanner tries first; the sshd jail is the one that bans \
              them. A jail switched off by a forgotten override protects nothing while \
              `fail2ban-client status` looks healthy.",
        remediation:
            "In /etc/fail2ban/jail.d/sshd.local: `[sshd]` then `enabled = true` (comments \
                      on their own line, or after ` ;`). Then `systemctl restart fail2ban`.",
        verify: "fail2ban-client status sshd",
        references: &[
            "seed 002 Phase 1 §7 and annex jail.d/local.conf: [sshd] enabled = true",
            "seed 001 §3: sshd jail (3 attempts, 1h ban)",
            "man jail.conf(5), /etc/fail2ban/jail.d/defaults-debian.conf",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let ips = ctx.fact::<Ips>();
    let (jail, cfg) = match sshd_subject(ctx, &ips) {
        Ok(Subject::Guard(ev)) => {
            return Outcome::pass("rempart guard's sshd jail is on").with(ev);
        }
        Ok(Subject::Fail2ban(j, cfg)) => (j, cfg),
        Err(o) => return o,
    };
    match &jail.enabled {
        Some(e) if jail.is_enabled() => {
            Outcome::pass("fail2ban's sshd jail is enabled").with_all(e.evidence("enabled"))
        }
        Some(e) => {
            let bool_ok = super::ini::boolean(&e.value).is_some();
            let message = if bool_ok {
                format!("fail2ban's sshd jail is disabled (enabled = {})", e.value)
            } else {
                format!(
                    "fail2ban's sshd jail is off: `enabled = {}` is not a boolean, so fail2ban \
                     uses the default (false)",
                    e.value
                )
            };
            let mut ev = e.evidence("enabled");
            ev[0] = ev[0].clone().expected("true");
            if !cfg.has_section("sshd") {
                ev.push(
                    Evidence::file("/etc/fail2ban/jail.conf")
                        .note("no [sshd] section in any jail file"),
                );
            }
            Outcome::fail(message).with_all(ev)
        }
        None => Outcome::fail("no fail2ban file enables the sshd jail").with(
            Evidence::file("/etc/fail2ban/jail.d/defaults-debian.conf")
                .key("[sshd] enabled")
                .actual("unset")
                .expected("true"),
        ),
    }
}
