//! SSH-ADMIN-KEY: a non-root administrator (member of sudo, wheel or admin) can log in over SSH
//! with a key, so turning passwords and root logins off is safe.

use super::effective::Effective;
use super::keywords::Kw;
use super::matching::{match_pattern, Conn};
use super::Loaded;
use crate::host::{Host, User};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-ADMIN-KEY",
    name: "no-admin-ssh-key",
    family: Family::Ssh,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "A non-root sudo user can log in over SSH with a key",
    doc: RuleDoc {
        what: "Some account other than root that belongs to `sudo`, `wheel` or `admin` (primary \
               or supplementary group, from the host's /etc/group) and has a login shell: is \
               let in by AllowUsers/DenyUsers/AllowGroups/DenyGroups, has \
               `PubkeyAuthentication yes`, and has at least one key line in one of its \
               `AuthorizedKeysFile` files (evaluated for that user, so `Match User` blocks \
               count; `%h`, `%u`, `%U` and `%%` expanded, relative paths under the home \
               directory; default `.ssh/authorized_keys .ssh/authorized_keys2`). With \
               `StrictModes yes`, a key file or directory writable by group or others, or owned \
               by another user, does not count (sshd ignores it). When keys come from an \
               `AuthorizedKeysCommand` the rule is skipped.",
        why: "Turning off passwords or root login without a working admin key locks the \
              admins out, or pushes them to keep root login open. The seed guide's order is: \
              create the admin, put it in sudo, install its key, test from a second session, \
              then close passwords.",
        remediation: "adduser admin && usermod -aG sudo admin; from your workstation \
                      `ssh-copy-id -i ~/.ssh/id_ed25519.pub admin@host`; check \
                      `chmod 700 ~admin/.ssh && chmod 600 ~admin/.ssh/authorized_keys`; log in \
                      as admin in a second session and run `sudo -v` before changing sshd.",
        verify: "ssh -o PasswordAuthentication=no admin@host sudo -v",
        references: &[
            "seed 002 Phase 1 §3 (admin user in sudo with a key; test from a second session)",
            "seed 001 §6 SSH Hardening (add SSH key, key-only)",
            "man sshd(8): AUTHORIZED_KEYS FILE FORMAT; man sshd_config(5): AuthorizedKeysFile, StrictModes",
        ],
    },
    check,
};

/// Why an admin cannot log in with a key, or the file holding their keys.
enum Verdict {
    Ok { file: String, keys: usize },
    No(Evidence),
    Unknown(String),
}

fn check(ctx: &Ctx) -> Outcome {
    let fact = match super::judged(ctx) {
        Ok(f) => f,
        Err(o) => return o,
    };
    let super::SshdConfig::Loaded(l) = &*fact else {
        return Outcome::error("sshd configuration not loaded");
    };
    let admins: Vec<&User> = l
        .users
        .admins()
        .into_iter()
        .filter(|u| u.uid != 0 && u.has_login_shell())
        .collect();
    if admins.is_empty() {
        return Outcome::fail(
            "no account other than root is in sudo/wheel/admin with a login shell: only root can administer this host over SSH",
        )
        .with(Evidence::file("/etc/group").key("sudo").actual("no non-root member"));
    }
    let mut evidence = Vec::new();
    let mut unknown = Vec::new();
    for u in &admins {
        let eff = match l.for_conn(
            &Conn {
                user: Some(u.name.clone()),
                ..Conn::default()
            },
            false,
        ) {
            Ok(e) => e,
            Err(e) => return Outcome::error(e.to_string()),
        };
        match judge_user(ctx.host, l, &eff, u, true) {
            Verdict::Ok { file, keys } => {
                return Outcome::pass(format!(
                    "{} (sudo-capable) can log in with a key ({keys} key(s) in {file})",
                    u.name
                ))
                .with(Evidence::file(file).key(u.name.clone()).actual(keys as i64));
            }
            Verdict::No(ev) => evidence.push(ev),
            Verdict::Unknown(why) => unknown.push(why),
        }
    }
    if !unknown.is_empty() {
        return Outcome::skip(unknown.join("; ")).with_all(evidence);
    }
    Outcome::fail(format!(
        "none of the {} sudo-capable account(s) ({}) can log in over SSH with a key",
        admins.len(),
        admins
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .with_all(evidence)
}

/// The non-root sudo-capable accounts with a login shell that can log in with a key today, each
/// with the file holding its keys (what the rule's pass names). With `access_lists` false, the
/// AllowUsers/DenyUsers/AllowGroups/DenyGroups lists are not consulted (the accounts that would
/// get in with a key if the lists named them). `rempart harden` builds `AllowUsers` from them.
pub fn key_admins(host: &Host, l: &Loaded, access_lists: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for u in l.users.admins() {
        if u.uid == 0 || !u.has_login_shell() {
            continue;
        }
        let conn = Conn {
            user: Some(u.name.clone()),
            ..Conn::default()
        };
        let Ok(eff) = l.for_conn(&conn, false) else {
            continue;
        };
        if let Verdict::Ok { file, .. } = judge_user(host, l, &eff, u, access_lists) {
            out.push((u.name.clone(), file));
        }
    }
    out
}

fn judge_user(host: &Host, l: &Loaded, eff: &Effective, u: &User, access_lists: bool) -> Verdict {
    let groups = l.groups_of(&u.name).unwrap_or_default();
    if let Some(why) = refused_by_access_lists(eff, &u.name, &groups).filter(|_| access_lists) {
        return Verdict::No(l.evidence(eff, why.0).note(why.1));
    }
    if !eff.flag(Kw::PubkeyAuthentication) {
        return Verdict::No(
            l.evidence(eff, Kw::PubkeyAuthentication)
                .note(format!("public key authentication is off for {}", u.name)),
        );
    }
    if eff
        .text(Kw::AuthorizedKeysCommand)
        .is_some_and(|c| !c.eq_ignore_ascii_case("none"))
    {
        return Verdict::Unknown(format!(
            "keys of {} may come from AuthorizedKeysCommand, which rempart does not run",
            u.name
        ));
    }
    let strict = eff.flag(Kw::StrictModes);
    let mut last = None;
    for pattern in eff.list(Kw::AuthorizedKeysFile) {
        if pattern.eq_ignore_ascii_case("none") {
            continue;
        }
        let path = expand(pattern, u);
        let file = match host.read_text(&path) {
            Ok(Some(f)) => f,
            Ok(None) => {
                last = Some(Evidence::file(path).key(u.name.clone()).actual("missing"));
                continue;
            }
            Err(e) => {
                last = Some(Evidence::file(path).key(u.name.clone()).note(e.to_string()));
                continue;
            }
        };
        let keys = file
            .text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .count();
        if keys == 0 {
            last = Some(Evidence::file(path).key(u.name.clone()).actual("no key"));
            continue;
        }
        if strict {
            if let Some(bad) = unsafe_path(host, &path, u) {
                last = Some(
                    Evidence::file(path)
                        .key(u.name.clone())
                        .note(format!("StrictModes: sshd ignores this file because {bad}")),
                );
                continue;
            }
        }
        return Verdict::Ok { file: path, keys };
    }
    Verdict::No(last.unwrap_or_else(|| {
        l.evidence(eff, Kw::AuthorizedKeysFile)
            .note(format!("no authorized keys file for {}", u.name))
    }))
}

/// The access list that refuses `user`, as sshd's `allowed_user` checks them. Host-qualified
/// entries (`user@host`) are judged on the user part only.
fn refused_by_access_lists(eff: &Effective, user: &str, groups: &[String]) -> Option<(Kw, String)> {
    let user_part = |p: &String| p.split_once('@').map_or(p.clone(), |(u, _)| u.to_string());
    if eff
        .list(Kw::DenyUsers)
        .iter()
        .any(|p| !p.contains('@') && match_pattern(user, p))
    {
        return Some((Kw::DenyUsers, format!("DenyUsers refuses {user}")));
    }
    let allow = eff.list(Kw::AllowUsers);
    if !allow.is_empty() && !allow.iter().any(|p| match_pattern(user, &user_part(p))) {
        return Some((Kw::AllowUsers, format!("AllowUsers does not name {user}")));
    }
    let in_group = |list: &[String]| {
        groups
            .iter()
            .any(|g| list.iter().any(|p| match_pattern(g, p)))
    };
    if in_group(eff.list(Kw::DenyGroups)) {
        return Some((
            Kw::DenyGroups,
            format!("DenyGroups refuses a group of {user}"),
        ));
    }
    let allow_g = eff.list(Kw::AllowGroups);
    if !allow_g.is_empty() && !in_group(allow_g) {
        return Some((
            Kw::AllowGroups,
            format!("{user} is in none of the AllowGroups"),
        ));
    }
    None
}

/// `AuthorizedKeysFile` tokens expanded for a user; relative paths are under the home.
pub fn expand(pattern: &str, u: &User) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('h') => out.push_str(&u.home),
            Some('u') => out.push_str(&u.name),
            Some('U') => out.push_str(&u.uid.to_string()),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    if out.starts_with('/') {
        out
    } else {
        format!("{}/{out}", u.home.trim_end_matches('/'))
    }
}

/// Why sshd's StrictModes check (`safe_path`) would refuse a key file: the file and every
/// directory up to the home must be owned by the user or root and not group/world writable.
pub fn unsafe_path(host: &Host, path: &str, u: &User) -> Option<String> {
    let mut cur = path.to_string();
    loop {
        let meta = match host.metadata(&cur) {
            Ok(Some(m)) => m,
            _ => return Some(format!("{cur} cannot be examined")),
        };
        if (meta.uid != 0 && meta.uid != u.uid) || meta.mode & 0o022 != 0 {
            return Some(format!(
                "{cur} is mode {} owned by uid {}",
                meta.mode_octal(),
                meta.uid
            ));
        }
        if cur == u.home.trim_end_matches('/') || cur == "/" {
            return None;
        }
        cur = match cur.rsplit_once('/') {
            Some(("", _)) => "/".to_string(),
            Some((parent, _)) => parent.to_string(),
            None => return None,
        };
    }
}
