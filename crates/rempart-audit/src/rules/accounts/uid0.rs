//! ACC-UID0: no account other than root has user id 0.

use super::AccountDb;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "ACC-UID0",
    name: "extra-uid0-account",
    family: Family::Accounts,
    severity: Severity::Critical,
    level: Level::Dev,
    title: "Only root has user id 0",
    doc: RuleDoc {
        what: "No line of /etc/passwd other than `root`'s has user id 0. Ids are read as glibc \
               reads them (`+0` and ` 0` are 0); lines glibc skips are skipped.",
        why: "Any account with uid 0 is root under another name: its password or keys open the \
              whole machine, and its logins do not look like root's in the logs. It is a classic \
              backdoor.",
        remediation: "Find who created it and why; then `userdel NAME` (or give it a fresh uid \
                      with `usermod -u`), and look for other persistence (keys, cron, units).",
        verify: "awk -F: '$3 == 0 { print $1 }' /etc/passwd",
        references: &[
            "seed 002 Phase 1 §3 Gestion des utilisateurs (root not used directly)",
            "CIS Debian Linux 12 Benchmark 7.2.x (root is the only UID 0 account)",
            "man passwd(5)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let db = ctx.fact::<AccountDb>();
    if let Err(o) = db.require_passwd() {
        return o;
    }
    let extra: Vec<_> = db
        .users
        .users
        .iter()
        .filter(|u| u.uid == 0 && u.name != "root")
        .collect();
    if extra.is_empty() {
        return Outcome::pass("only root has user id 0");
    }
    Outcome::fail(format!(
        "{} accounts besides root have user id 0: {}",
        extra.len(),
        extra
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .with_all(extra.iter().map(|u| {
        db.passwd_evidence(u.line)
            .key(u.name.as_str())
            .actual(0u32)
            .note("uid 0 is root")
    }))
}
