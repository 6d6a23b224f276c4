//! ACC-SERVICE-SHELL: system accounts (below UID_MIN) other than root have no login shell.

use super::AccountDb;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "ACC-SERVICE-SHELL",
    name: "service-account-login-shell",
    family: Family::Accounts,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "Service accounts cannot open a shell",
    doc: RuleDoc {
        what: "Every account of /etc/passwd with a uid between 1 and UID_MIN - 1 (UID_MIN from \
               /etc/login.defs, 1000 by default) or the overflow uid 65534 has a shell that \
               refuses logins (`nologin`, `false`, or the `sync`/`shutdown`/`halt` special \
               shells). Debian's postgres account (/bin/bash) is reported: ignore it with a \
               reason if the database tools need it.",
        why: "Service accounts own daemons and their data. With a shell, a stolen key or a \
              password set by mistake gives an interactive session as the service, and `su` \
              from a compromised daemon is one step away.",
        remediation: "usermod -s /usr/sbin/nologin NAME (run tasks as it with `runuser -u NAME -- \
                      CMD` or `su -s /bin/sh NAME -c CMD`).",
        verify: "awk -F: '$3 > 0 && $3 < 1000 { print $1, $7 }' /etc/passwd",
        references: &[
            "seed 000 §2 Principe du moindre privilège (service user avmvp, non-root)",
            "CIS Debian Linux 12 Benchmark 5.4.2.x (system accounts do not have a valid login shell)",
            "man login.defs(5)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let db = ctx.fact::<AccountDb>();
    if let Err(o) = db.require_passwd() {
        return o;
    }
    let bad: Vec<_> = db
        .users
        .users
        .iter()
        .filter(|u| (u.uid > 0 && u.uid < db.uid_min) || u.uid == 65534)
        .filter(|u| u.has_login_shell())
        .collect();
    if bad.is_empty() {
        return Outcome::pass(format!(
            "no system account (uid < {}) has a login shell",
            db.uid_min
        ));
    }
    Outcome::fail(format!(
        "system accounts with a login shell: {}",
        bad.iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .with_all(bad.iter().map(|u| {
        let mut e = db
            .passwd_evidence(u.line)
            .key(u.name.as_str())
            .actual(u.shell.as_str())
            .expected("/usr/sbin/nologin");
        if db
            .users
            .shadow_entry(&u.name)
            .is_some_and(|s| s.password_usable())
        {
            e = e.note("it also has a usable password");
        }
        e
    }))
}
