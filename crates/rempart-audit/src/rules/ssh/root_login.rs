//! SSH-ROOT-LOGIN: root cannot log in over SSH with a password.

use super::keywords::Kw;
use super::matching::Conn;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-ROOT-LOGIN",
    name: "root-login-allowed",
    family: Family::Ssh,
    severity: Severity::High,
    level: Level::Sme,
    title: "Root cannot log in over SSH with a password",
    doc: RuleDoc {
        what: "The effective `PermitRootLogin` of sshd, computed like sshd does (Include files \
               in order, first value wins, `Match` blocks, the OpenSSH defaults), for the \
               default connection and for a connection as `root` (so a `Match User root` block \
               counts). `yes` fails; `no`, `prohibit-password` (printed `without-password` by \
               `sshd -T`) and `forced-commands-only` pass.",
        why: "Root exists on every Linux host, so a password login as root only needs the \
              password: it is the first account brute-force bots try. With root login off or \
              key-only, an attacker needs a key, and admins log in as themselves (traceable) \
              and escalate with sudo.",
        remediation: "Set `PermitRootLogin no` (or `prohibit-password` if automation logs in as \
                      root with a key) near the top of /etc/ssh/sshd_config, before any Include \
                      that could set it first, check with `sshd -T | grep permitrootlogin`, \
                      then `systemctl reload ssh`. Keep a second session open until a new login \
                      works.",
        verify: "sshd -T -C user=root,host=x,addr=192.0.2.1 | grep -i permitrootlogin",
        references: &[
            "seed 001 §6 SSH Hardening (root login prohibited or key-only)",
            "seed 002 Phase 1 §3 (PermitRootLogin no)",
            "CIS Debian Linux 12 Benchmark, SSH server section (PermitRootLogin)",
            "man sshd_config(5): PermitRootLogin",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let root = match l.for_conn(
            &Conn {
                user: Some("root".into()),
                ..Conn::default()
            },
            false,
        ) {
            Ok(e) => e,
            Err(e) => return Outcome::error(e.to_string()),
        };
        for (who, e) in [("the default connection", eff), ("user root", &root)] {
            if e.text(Kw::PermitRootLogin) == Some("yes") {
                return Outcome::fail(format!(
                    "root may log in over SSH with a password (PermitRootLogin yes for {who})"
                ))
                .with(l.evidence(e, Kw::PermitRootLogin).expected("no"));
            }
        }
        let v = root.text(Kw::PermitRootLogin).unwrap_or("?");
        Outcome::pass(format!(
            "root cannot log in with a password (PermitRootLogin {v})"
        ))
        .with(l.evidence(&root, Kw::PermitRootLogin))
    })
    .unwrap_or_else(|o| o)
}
