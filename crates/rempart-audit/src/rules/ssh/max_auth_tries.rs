//! SSH-MAX-AUTH-TRIES: at most 3 authentication attempts per connection.

use super::keywords::Kw;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

/// The most attempts per connection the seed guide allows.
pub const LIMIT: i64 = 3;

pub const RULE: Rule = Rule {
    id: "SSH-MAX-AUTH-TRIES",
    name: "max-auth-tries-high",
    family: Family::Ssh,
    severity: Severity::Low,
    level: Level::Sme,
    title: "At most 3 authentication attempts per SSH connection",
    doc: RuleDoc {
        what: "The effective `MaxAuthTries` for the default connection (OpenSSH default 6) is \
               at most 3.",
        why: "Each connection then allows fewer guesses, so brute force needs more connections, \
              which fail2ban-style banning and MaxStartups throttle. Half of the attempts are \
              logged as failures, so a low limit also makes attacks visible sooner.",
        remediation: "Set `MaxAuthTries 3` in sshd_config (before any Include that sets it), \
                      `sshd -t && systemctl reload ssh`. Users with many keys in their agent \
                      should name the right one with `IdentitiesOnly`/`-i`.",
        verify: "sshd -T | grep -i maxauthtries",
        references: &[
            "seed 001 §6 SSH Hardening (max 3 authentication attempts)",
            "CIS Debian Linux 12 Benchmark, SSH server section (MaxAuthTries 4 or less)",
            "man sshd_config(5): MaxAuthTries",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let n = eff.num(Kw::MaxAuthTries).unwrap_or(6);
        let ev = l.evidence(eff, Kw::MaxAuthTries);
        if n > LIMIT {
            Outcome::fail(format!(
                "MaxAuthTries is {n}: more than {LIMIT} attempts per connection"
            ))
            .with(ev.expected(LIMIT))
        } else {
            Outcome::pass(format!("MaxAuthTries is {n}")).with(ev)
        }
    })
    .unwrap_or_else(|o| o)
}
