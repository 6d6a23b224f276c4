//! SSH-X11-FORWARDING: X11 forwarding off.

use super::keywords::Kw;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-X11-FORWARDING",
    name: "x11-forwarding-enabled",
    family: Family::Ssh,
    severity: Severity::Low,
    level: Level::Sme,
    title: "X11 forwarding is off",
    doc: RuleDoc {
        what: "The effective `X11Forwarding` for the default connection is `no` (OpenSSH's \
               default, but Debian's stock sshd_config sets `yes`).",
        why: "A server rarely needs to display X11 windows. X11 forwarding lets a user on the \
              server who can reach the forwarded display (a compromised account, root) read \
              the client's keystrokes and screen.",
        remediation: "Set `X11Forwarding no` in /etc/ssh/sshd_config (replace Debian's \
                      `X11Forwarding yes`), `sshd -t && systemctl reload ssh`. Allow it for one \
                      user with a `Match User` block if needed.",
        verify: "sshd -T | grep -i '^x11forwarding'",
        references: &[
            "seed 001 §6 SSH Hardening (X11 forwarding disabled)",
            "CIS Debian Linux 12 Benchmark, SSH server section (X11Forwarding)",
            "man sshd_config(5): X11Forwarding",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let ev = l.evidence(eff, Kw::X11Forwarding);
        if eff.flag(Kw::X11Forwarding) {
            Outcome::fail("X11 forwarding is enabled").with(ev.expected("no"))
        } else {
            Outcome::pass("X11 forwarding is off").with(ev)
        }
    })
    .unwrap_or_else(|o| o)
}
