//! SVC-ACCOUNT-SHELL: the account an application runs as cannot log in.

use super::app_units;
use crate::host::Users;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SVC-ACCOUNT-SHELL",
    name: "app-account-has-login-shell",
    family: Family::Services,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Application accounts have no login shell",
    doc: RuleDoc {
        what: "For each application unit with `User=`, the account's shell in /etc/passwd is \
               /usr/sbin/nologin, /bin/false or similar, not an interactive shell.",
        why: "A service account with a shell is a way in: a leaked or guessed password, an \
              `authorized_keys` file dropped by the app's own compromised process, or `su` from \
              another account gives an interactive session with the app's data and secrets.",
        remediation: "usermod --shell /usr/sbin/nologin APP (the service keeps running: systemd \
                      does not need the account's shell).",
        verify: "getent passwd APP | cut -d: -f7",
        references: &[
            "seed 000 §2 Service backend (« Pas de shell (/bin/false) »)",
            "man usermod(8)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let (d, idx) = match app_units(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let users = ctx.fact::<Users>();
    let mut bad = Vec::new();
    let mut judged = 0;
    for &i in &idx {
        let u = &d.units[i];
        let Some(name) = u.user.as_deref() else {
            continue;
        };
        if name == "root" || name == "0" {
            continue; // SVC-RUNS-AS-ROOT reports it.
        }
        let Some(account) = users.user(name) else {
            continue;
        };
        judged += 1;
        if account.has_login_shell() {
            bad.push(
                Evidence::file("/etc/passwd")
                    .line(account.line)
                    .key(format!("{name} shell"))
                    .actual(account.shell.as_str())
                    .expected("/usr/sbin/nologin")
                    .note(format!("runs {}", u.unit.name)),
            );
        }
    }
    if judged == 0 {
        return Outcome::not_applicable(
            "no application unit runs as a named account of /etc/passwd",
        );
    }
    if bad.is_empty() {
        Outcome::pass(format!("{judged} application accounts have no login shell"))
    } else {
        Outcome::fail(format!(
            "{} application accounts have a login shell",
            bad.len()
        ))
        .with_all(bad)
    }
}
