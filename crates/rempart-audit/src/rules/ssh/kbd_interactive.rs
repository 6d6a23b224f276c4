//! SSH-KBD-INTERACTIVE: keyboard-interactive (PAM) logins off, so passwords cannot come back
//! through PAM.

use super::keywords::Kw;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-KBD-INTERACTIVE",
    name: "keyboard-interactive-enabled",
    family: Family::Ssh,
    severity: Severity::High,
    level: Level::Sme,
    title: "Keyboard-interactive (PAM password) logins are off",
    doc: RuleDoc {
        what: "The effective `KbdInteractiveAuthentication` for the default connection \
               (`ChallengeResponseAuthentication` is its deprecated alias; OpenSSH 9.2's \
               compiled default is `yes`, Debian's stock sshd_config sets `no`). Fails when it \
               is `yes` and `UsePAM` is `yes`, unless `AuthenticationMethods` requires a key \
               with it. With `UsePAM no`, Debian's sshd has no keyboard-interactive device, so \
               it passes with a note.",
        why: "With UsePAM yes, keyboard-interactive runs the PAM stack, which asks for the \
              account password: `PasswordAuthentication no` alone then does not stop password \
              guessing. The Debian sshd_config comment warns it can also bypass \
              `PermitRootLogin prohibit-password`.",
        remediation: "Set `KbdInteractiveAuthentication no` in the first file sshd reads (Debian's \
                      stock sshd_config already does), unless PAM is deliberately used for a \
                      second factor together with `AuthenticationMethods publickey,keyboard-interactive`.",
        verify: "sshd -T | grep -Ei '^(kbdinteractiveauthentication|usepam|authenticationmethods)'",
        references: &[
            "seed 001 §6 SSH Hardening (key-only authentication)",
            "CIS Debian Linux 12 Benchmark, SSH server section (KbdInteractiveAuthentication)",
            "man sshd_config(5): KbdInteractiveAuthentication, UsePAM",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let ev = l.evidence(eff, Kw::KbdInteractiveAuthentication);
        if !eff.flag(Kw::KbdInteractiveAuthentication) {
            return Outcome::pass("keyboard-interactive authentication is off").with(ev);
        }
        if !eff.flag(Kw::UsePam) {
            return Outcome::pass(
                "KbdInteractiveAuthentication is yes but UsePAM is no: no keyboard-interactive device can ask for a password",
            )
            .with(ev)
            .with(l.evidence(eff, Kw::UsePam));
        }
        if let Some(m) = super::method_needs_key(eff, "keyboard-interactive") {
            return Outcome::pass(format!(
                "keyboard-interactive is only a second factor after a key (AuthenticationMethods {m})"
            ))
            .with(ev);
        }
        Outcome::fail("sshd accepts PAM keyboard-interactive logins (a password prompt)")
            .with(ev.expected("no"))
            .with(l.evidence(eff, Kw::UsePam))
    })
    .unwrap_or_else(|o| o)
}
