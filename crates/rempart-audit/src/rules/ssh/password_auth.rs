//! SSH-PASSWORD-AUTH: sshd accepts keys only, not passwords.

use super::keywords::Kw;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-PASSWORD-AUTH",
    name: "password-authentication-enabled",
    family: Family::Ssh,
    severity: Severity::High,
    level: Level::Sme,
    title: "SSH logins need a key, not a password",
    doc: RuleDoc {
        what: "The effective `PasswordAuthentication` for the default connection, computed like \
               sshd (first value wins across Include files, so a drop-in read before the main \
               file wins; OpenSSH's default is `yes`). Passes when it is `no`, or when \
               `AuthenticationMethods` asks for a public key in every list that allows a \
               password. `Match` blocks that \
               turn passwords back on for some users or addresses are reported by \
               SSH-MATCH-WEAKENS. Debian and Ubuntu cloud images ship \
               `/etc/ssh/sshd_config.d/50-cloud-init.conf` with `PasswordAuthentication yes`, \
               included at the top of sshd_config: it beats a later `no` in the main file.",
        why: "A server reachable over SSH receives password guesses all day. Keys cannot be \
              guessed or reused from another site's leak; passwords can.",
        remediation: "Make sure an admin can log in with a key first (SSH-ADMIN-KEY), then set \
                      `PasswordAuthentication no` in the file sshd reads first (for example \
                      /etc/ssh/sshd_config.d/00-rempart.conf, or replace the `yes` of \
                      50-cloud-init.conf), run `sshd -t`, `systemctl reload ssh`, and test from a \
                      second session before closing the first.",
        verify: "sshd -T | grep -i '^passwordauthentication'",
        references: &[
            "seed 001 §6 SSH Hardening (password authentication disabled, key-only)",
            "seed 002 Phase 1 §3 (PasswordAuthentication no, test from a second session)",
            "CIS Debian Linux 12 Benchmark, SSH server section (sshd PasswordAuthentication)",
            "man sshd_config(5): PasswordAuthentication, AuthenticationMethods",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let ev = l.evidence(eff, Kw::PasswordAuthentication);
        if !eff.flag(Kw::PasswordAuthentication) {
            return Outcome::pass("password authentication is off").with(ev);
        }
        if let Some(methods) = super::method_needs_key(eff, "password") {
            return Outcome::pass(format!(
                "PasswordAuthentication is yes but AuthenticationMethods {methods} never accepts a password without a key"
            ))
            .with(ev)
            .with(l.evidence(eff, Kw::AuthenticationMethods));
        }
        Outcome::fail("sshd accepts password logins (PasswordAuthentication yes)")
            .with(ev.expected("no"))
    })
    .unwrap_or_else(|o| o)
}
