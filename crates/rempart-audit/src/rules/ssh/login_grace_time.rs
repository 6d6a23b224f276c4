//! SSH-LOGIN-GRACE-TIME: an unauthenticated connection is dropped within 30 seconds.

use super::keywords::Kw;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

/// The longest grace time the seed guide allows, in seconds.
pub const LIMIT: i64 = 30;

pub const RULE: Rule = Rule {
    id: "SSH-LOGIN-GRACE-TIME",
    name: "login-grace-time-long",
    family: Family::Ssh,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Unauthenticated SSH connections are dropped within 30 seconds",
    doc: RuleDoc {
        what: "The effective `LoginGraceTime` (OpenSSH default 120 s; `0` means no limit; time \
               formats such as `30s`, `1m` or `1m30s` are read like sshd) is between 1 and 30 \
               seconds.",
        why: "Connections that never authenticate hold one of the MaxStartups slots; a long \
              grace time lets a few clients exhaust them and lock admins out.",
        remediation: "Set `LoginGraceTime 30` (or `30s`), `sshd -t && systemctl reload ssh`.",
        verify: "sshd -T | grep -i logingracetime",
        references: &[
            "seed 001 §6 SSH Hardening (30-second login grace time)",
            "CIS Debian Linux 12 Benchmark, SSH server section (LoginGraceTime 1m or less)",
            "man sshd_config(5): LoginGraceTime",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let n = eff.num(Kw::LoginGraceTime).unwrap_or(120);
        let ev = l.evidence(eff, Kw::LoginGraceTime);
        if n == 0 {
            Outcome::fail("LoginGraceTime is 0: unauthenticated connections are never dropped")
                .with(ev.expected(LIMIT))
        } else if n > LIMIT {
            Outcome::fail(format!("LoginGraceTime is {n} s, more than {LIMIT} s"))
                .with(ev.expected(LIMIT))
        } else {
            Outcome::pass(format!("LoginGraceTime is {n} s")).with(ev)
        }
    })
    .unwrap_or_else(|o| o)
}
