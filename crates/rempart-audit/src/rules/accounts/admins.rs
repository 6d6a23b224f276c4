//! ACC-ADMINS: who can administer the host, against the configured list.
//!
//! Administrators are the members (primary or supplementary) of the `sudo`, `wheel` and `admin`
//! groups and the users a sudoers rule grants every command (directly, through `%group`, `#uid`
//! or a User_Alias), root excepted. With `admin_users` in rempart.toml, anyone else is a finding.
//! Without it, the rule fails only when nobody but root can administer (administration then
//! means a shared root password or root SSH), and otherwise passes listing the administrators.

use super::sudoers::SudoersSet;
use super::AccountDb;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "ACC-ADMINS",
    name: "unexpected-administrators",
    family: Family::Accounts,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Administration goes through named, expected accounts",
    doc: RuleDoc {
        what: "Lists the administrators: members of the `sudo`, `wheel` and `admin` groups \
               (primary or supplementary, from /etc/group and /etc/passwd) and users granted \
               `ALL` commands in sudoers (directly, `%group`, `#uid`, User_Alias; `ALL` as the \
               user list means everyone), root excepted. With `admin_users` set in \
               rempart.toml, any other administrator fails. Without it, the rule fails when \
               there is no administrator but root, and passes listing them otherwise.",
        why: "Each administrator is a way to root. Accounts added for a contractor or a test and \
              never removed are found by attackers before they are found by the owner. With no \
              named administrator, everybody shares root, and the logs cannot tell who did what.",
        remediation: "Create a named admin and add it to sudo (`adduser jmadmin; usermod -aG sudo \
                      jmadmin`); remove the others with `gpasswd -d NAME sudo` or from sudoers; \
                      list the expected ones in rempart.toml (`admin_users = [\"jmadmin\"]`).",
        verify: "getent group sudo wheel admin; grep -rn ALL /etc/sudoers /etc/sudoers.d/",
        references: &[
            "seed 002 Phase 1 §3 Gestion des utilisateurs & SSH (adduser jmadmin; usermod -aG sudo jmadmin)",
            "CIS Debian Linux 12 Benchmark 5.2 (sudo)",
            "man sudoers(5), group(5)",
        ],
    },
    check,
};

const ADMIN_GROUPS: &[&str] = &["sudo", "wheel", "admin"];

/// One administrator and where it gets the right.
struct Admin {
    name: String,
    evidence: Evidence,
}

fn check(ctx: &Ctx) -> Outcome {
    let db = ctx.fact::<AccountDb>();
    if let Err(o) = db.require_passwd() {
        return o;
    }
    if let Some(e) = &db.group_error {
        return Outcome::from(e.clone());
    }
    let sudoers = ctx.fact::<SudoersSet>();
    let admins = collect(&db, &sudoers);
    let expected = &ctx.config.admin_users;
    if admins.is_empty() {
        let mut ev = Evidence::file(super::GROUP)
            .key("sudo")
            .actual("no members")
            .expected("a named administrator");
        if let Some(g) = db.users.group("sudo") {
            ev = db
                .group_evidence(g.line)
                .key("sudo")
                .actual("no members")
                .expected("a named administrator");
        }
        if let Some(e) = sudoers.errors.first() {
            return Outcome::from(e.clone());
        }
        return Outcome::fail("nobody but root can administer the host").with(ev);
    }
    let extra: Vec<&Admin> = admins
        .iter()
        .filter(|a| !expected.is_empty() && !expected.contains(&a.name))
        .collect();
    if !extra.is_empty() {
        return Outcome::fail(format!(
            "administrators not in admin_users ({}): {}",
            expected.join(", "),
            extra
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_all(extra.iter().map(|a| a.evidence.clone()));
    }
    if let Some(e) = sudoers.errors.first() {
        return Outcome::from(e.clone());
    }
    Outcome::pass(format!(
        "administrators: {}",
        admins
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .with_all(admins.into_iter().map(|a| a.evidence))
}

fn collect(db: &AccountDb, sudoers: &SudoersSet) -> Vec<Admin> {
    let mut out: Vec<Admin> = Vec::new();
    let add = |out: &mut Vec<Admin>, name: &str, ev: Evidence| {
        if name != "root" && !out.iter().any(|a| a.name == name) {
            out.push(Admin {
                name: name.to_string(),
                evidence: ev,
            });
        }
    };
    for g in ADMIN_GROUPS {
        for (name, ev) in group_members(db, g) {
            add(&mut out, &name, ev);
        }
    }
    for f in &sudoers.files {
        for spec in &f.parsed.specs {
            if !spec
                .commands
                .iter()
                .any(|c| !c.negated && sudoers.is_all(&c.command))
            {
                continue;
            }
            let ev = Evidence::file(f.path.as_str())
                .line(spec.line)
                .snippet(spec.text.as_str());
            for user in expand_users(sudoers, &spec.users, 0) {
                if user == "ALL" {
                    add(
                        &mut out,
                        "ALL",
                        ev.clone()
                            .key("ALL")
                            .actual("every user")
                            .note("the sudoers rule grants everything to every user"),
                    );
                } else if let Some(group) = user.strip_prefix('%') {
                    let group = match group.strip_prefix('#') {
                        Some(gid) => gid
                            .parse()
                            .ok()
                            .and_then(|gid| db.users.group_by_gid(gid))
                            .map(|g| g.name.clone()),
                        None => Some(group.to_string()),
                    };
                    for (name, _) in group.map(|g| group_members(db, &g)).unwrap_or_default() {
                        add(
                            &mut out,
                            &name,
                            ev.clone().key(name.as_str()).actual(user.as_str()),
                        );
                    }
                } else if let Some(uid) = user.strip_prefix('#') {
                    if let Some(u) = uid.parse().ok().and_then(|uid| db.users.user_by_uid(uid)) {
                        add(
                            &mut out,
                            &u.name,
                            ev.clone().key(u.name.as_str()).actual(user.as_str()),
                        );
                    }
                } else if !user.starts_with('+') {
                    add(
                        &mut out,
                        &user,
                        ev.clone().key(user.as_str()).actual("sudoers: ALL"),
                    );
                }
            }
        }
    }
    out
}

/// Members of a group, primary or supplementary, each with its evidence.
fn group_members(db: &AccountDb, group: &str) -> Vec<(String, Evidence)> {
    let Some(g) = db.users.group(group) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Evidence)> = g
        .members
        .iter()
        .map(|m| {
            (
                m.clone(),
                db.group_evidence(g.line)
                    .key(m.as_str())
                    .actual(format!("member of {group}")),
            )
        })
        .collect();
    for u in db.users.users.iter().filter(|u| u.gid == g.gid) {
        if !out.iter().any(|(n, _)| *n == u.name) {
            out.push((
                u.name.clone(),
                db.passwd_evidence(u.line)
                    .key(u.name.as_str())
                    .actual(format!("primary group {group}")),
            ));
        }
    }
    out
}

/// A sudoers user list with User_Aliases expanded (negations dropped: they remove, never add).
fn expand_users(sudoers: &SudoersSet, users: &[String], depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    for u in users {
        if u.starts_with('!') {
            continue;
        }
        match sudoers.alias("User_Alias", u) {
            Some(members) if depth < 8 => out.extend(expand_users(sudoers, members, depth + 1)),
            Some(_) => {}
            None => out.push(u.clone()),
        }
    }
    out
}
