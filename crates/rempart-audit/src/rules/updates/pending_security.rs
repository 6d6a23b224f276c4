//! UPD-PENDING-SECURITY: on a live host, security updates available in the APT lists but not
//! installed.

use crate::facts::packages::{compare_versions, parse_status_versions, Packages};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use std::cmp::Ordering;

pub const RULE: Rule = Rule {
    id: "UPD-PENDING-SECURITY",
    name: "security-updates-pending",
    family: Family::Updates,
    severity: Severity::High,
    level: Level::Sme,
    title: "No security update is waiting to be installed",
    doc: RuleDoc {
        what: "On a live Debian-family host with APT metadata: compares every installed package \
               with the versions offered by the security suites in `/var/lib/apt/lists/` \
               (`*-security_*_Packages`). Any installed version older than the security \
               suite's is pending. Under --root the lists of an image are stale, so the rule \
               skips.",
        why: "A security fix downloaded but not installed protects nothing; it also shows that \
              automatic updates are not working.",
        remediation: "apt update && apt upgrade (or let unattended-upgrades run: \
                      unattended-upgrade -d shows why it held a package back).",
        verify: "apt list --upgradable 2>/dev/null | grep -- -security",
        references: &[
            "seed 002 Phase 1 §1 (« apt list --upgradable doit être vide »)",
            "seed 000 §9 Mises à jour de sécurité",
        ],
    },
    check,
};

const LISTS: &str = "/var/lib/apt/lists";

fn check(ctx: &Ctx) -> Outcome {
    if let Err(skip) = ctx.require_live("APT metadata of the running system") {
        return skip;
    }
    let pkgs = ctx.fact::<Packages>();
    let Some(installed) = &pkgs.installed else {
        return Outcome::not_applicable("not a Debian-family host (no dpkg database)");
    };
    let lists = match ctx.host.read_dir(LISTS) {
        Ok(Some(names)) => names
            .into_iter()
            .filter(|n| n.ends_with("_Packages") && n.contains("-security_"))
            .collect::<Vec<_>>(),
        Ok(None) => Vec::new(),
        Err(e) => return Outcome::from(e),
    };
    if lists.is_empty() {
        return Outcome::skip("no APT metadata for a security suite (run `apt update`)");
    }
    let mut pending: Vec<(String, String, String, String)> = Vec::new();
    for list in &lists {
        let path = format!("{LISTS}/{list}");
        let text = match ctx.host.read_text(&path) {
            Ok(Some(f)) => f.text,
            Ok(None) => continue,
            Err(e) => return Outcome::from(e),
        };
        for (name, offered) in parse_status_versions(&text) {
            if let Some(have) = installed.get(name) {
                if compare_versions(have, offered) == Ordering::Less
                    && !pending
                        .iter()
                        .any(|p| p.0 == name && compare_versions(&p.2, offered) != Ordering::Less)
                {
                    pending.retain(|p| p.0 != name);
                    pending.push((
                        name.to_string(),
                        have.clone(),
                        offered.to_string(),
                        path.clone(),
                    ));
                }
            }
        }
    }
    if pending.is_empty() {
        return Outcome::pass(format!(
            "every installed package is at least at its security-suite version ({} lists)",
            lists.len()
        ));
    }
    pending.sort();
    let n = pending.len();
    Outcome::fail(format!(
        "{n} installed packages have a pending security update"
    ))
    .with_all(
        pending
            .into_iter()
            .take(25)
            .map(|(name, have, offered, path)| {
                Evidence::file(path)
                    .key(name)
                    .actual(have)
                    .expected(format!(">= {offered}"))
            }),
    )
}
