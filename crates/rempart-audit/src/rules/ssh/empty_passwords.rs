//! SSH-EMPTY-PASSWORDS: accounts with an empty password cannot log in over SSH.

use super::keywords::Kw;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-EMPTY-PASSWORDS",
    name: "empty-passwords-permitted",
    family: Family::Ssh,
    severity: Severity::Critical,
    level: Level::Dev,
    title: "Accounts with an empty password cannot log in over SSH",
    doc: RuleDoc {
        what: "The effective `PermitEmptyPasswords` for the default connection (default `no`). \
               `yes` fails.",
        why: "With it, any account whose password field is empty can be entered over the \
              network by typing its name: no guessing needed.",
        remediation: "Remove `PermitEmptyPasswords yes` (or set it to `no`), then \
                      `sshd -t && systemctl reload ssh`; lock or set a password on accounts with \
                      an empty one (`passwd -l USER`).",
        verify: "sshd -T | grep -i permitemptypasswords",
        references: &[
            "CIS Debian Linux 12 Benchmark, SSH server section (PermitEmptyPasswords)",
            "man sshd_config(5): PermitEmptyPasswords",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let ev = l.evidence(eff, Kw::PermitEmptyPasswords);
        if eff.flag(Kw::PermitEmptyPasswords) {
            Outcome::fail("sshd lets accounts with an empty password log in")
                .with(ev.expected("no"))
        } else {
            Outcome::pass("empty passwords are refused").with(ev)
        }
    })
    .unwrap_or_else(|o| o)
}
