//! Fixes of the accounts family: one field of one line of `/etc/passwd` or `/etc/shadow` at a
//! time, the rest of the file byte for byte (the backup copies `/etc/passwd-` and
//! `/etc/shadow-` are left alone, as `vipw` leaves them). Removing a uid-0 account, choosing the
//! administrators and rewriting sudo grants are the admin's decisions (see `MANUAL`).

use crate::change::{Fix, Intent, Safety};
use crate::edit::FieldSep;
use rempart_audit::host::{User, Users};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::accounts::sudoers::SudoersSet;
use rempart_audit::rules::accounts::{AccountDb, PASSWD, SHADOW};

const NOLOGIN: &str = "/usr/sbin/nologin";

/// The edit that gives `user` the nologin shell.
pub fn nologin_edit(user: &User) -> Intent {
    colon_field(PASSWD, user.line, 6, &user.shell, NOLOGIN)
}

fn colon_field(path: &str, line: u32, index: usize, old: &str, new: &str) -> Intent {
    Intent::SetField {
        path: path.into(),
        line,
        sep: FieldSep::Colon,
        index,
        old: old.into(),
        new: new.into(),
    }
}

/// Signs that an account is used to log in: an admin group, a usable password, SSH keys.
pub fn login_signs(ctx: &Ctx, users: &Users, user: &User) -> Vec<&'static str> {
    let mut signs = Vec::new();
    if users.admins().iter().any(|a| a.name == user.name) {
        signs.push("an administrator");
    }
    if users
        .shadow_entry(&user.name)
        .is_some_and(|s| s.password_usable())
    {
        signs.push("a usable password");
    }
    let home = user.home.trim_end_matches('/');
    if !home.is_empty()
        && (ctx.host.exists(&format!("{home}/.ssh/authorized_keys"))
            || ctx.host.exists(&format!("{home}/.ssh/authorized_keys2")))
    {
        signs.push("SSH keys");
    }
    signs
}

/// ACC-SERVICE-SHELL: `/usr/sbin/nologin` as the shell of every system account that has a login
/// shell. Unsafe when one of them looks used for logins (SSH keys, a password, admin rights).
pub fn service_shell(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let db = ctx.fact::<AccountDb>();
    let bad: Vec<&User> = db
        .users
        .users
        .iter()
        .filter(|u| (u.uid > 0 && u.uid < db.uid_min) || u.uid == 65534)
        .filter(|u| u.has_login_shell())
        .collect();
    if bad.is_empty() {
        return Ok(None);
    }
    let mut intents = Vec::new();
    let mut used = Vec::new();
    for u in &bad {
        intents.push(nologin_edit(u));
        let signs = login_signs(ctx, &db.users, u);
        if !signs.is_empty() {
            used.push(format!("{} has {}", u.name, signs.join(", ")));
        }
    }
    let names: Vec<&str> = bad.iter().map(|u| u.name.as_str()).collect();
    let safety = if used.is_empty() {
        Safety::Safe
    } else {
        Safety::Unsafe(format!(
            "logins as these accounts stop: {}",
            used.join("; ")
        ))
    };
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "shell {NOLOGIN} for {} (`su - NAME -c CMD` stops working: use `runuser -u NAME -- CMD`)",
            names.join(", ")
        ),
        safety,
        intents,
    }))
}

/// ACC-EMPTY-PASSWORD: lock every account without a password (`!` as its hash, as `passwd -l`
/// does; an empty `/etc/passwd` field becomes `x` with the shadow entry locked, or `!` without
/// one). Unsafe: whoever logs in with the empty password (console, `su`, `sudo`, SSH with
/// PermitEmptyPasswords) no longer can.
pub fn empty_password(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let db = ctx.fact::<AccountDb>();
    // Shadow lines to lock: (line, name, hash).
    let mut lock: Vec<(u32, &str, &str)> = Vec::new();
    let mut intents = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for u in db.users.users.iter().filter(|u| u.password.is_empty()) {
        let field = match db.users.shadow_entry(&u.name) {
            Some(s) => {
                if !s.hash.starts_with('!') && !s.hash.starts_with('*') {
                    lock.push((s.line, &s.name, &s.hash));
                }
                "x"
            }
            None => "!",
        };
        intents.push(colon_field(PASSWD, u.line, 1, "", field));
        names.push(&u.name);
    }
    if let Some(entries) = &db.users.shadow {
        for s in entries
            .iter()
            .filter(|s| s.hash.is_empty() && db.users.user(&s.name).is_some())
        {
            if !lock.iter().any(|(l, _, _)| *l == s.line) {
                lock.push((s.line, &s.name, &s.hash));
            }
        }
    }
    for (line, name, hash) in lock {
        intents.push(colon_field(SHADOW, line, 1, hash, &format!("!{hash}")));
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if intents.is_empty() {
        return Ok(None);
    }
    let admins: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| *n == "root" || db.users.admins().iter().any(|a| a.name == *n))
        .collect();
    let mut why = format!(
        "{} can no longer log in with an empty password (console, su, SSH with \
         PermitEmptyPasswords; with UsePAM no, sshd refuses their keys too)",
        names.join(", ")
    );
    if !admins.is_empty() {
        why.push_str(&format!(
            "; {} can no longer use sudo or su until given a password",
            admins.join(", ")
        ));
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "lock the password of {} (set one with `passwd NAME`)",
            names.join(", ")
        ),
        safety: Safety::Unsafe(why),
        intents,
    }))
}

/// Whether `user` may run every command as root through sudo (a spec naming the user, one of
/// its groups or `ALL`); `Some(true)` when without a password.
fn sudo_all(sudoers: &SudoersSet, users: &Users, user: &User) -> Option<bool> {
    let groups = users.groups_of(user);
    let mut found = None;
    for spec in sudoers.files.iter().flat_map(|f| f.parsed.specs.iter()) {
        let names_user = spec.users.iter().any(|u| {
            u == "ALL"
                || *u == user.name
                || u.strip_prefix('%').is_some_and(|g| groups.contains(&g))
        });
        if !names_user {
            continue;
        }
        if let Some(c) = spec
            .commands
            .iter()
            .find(|c| !c.negated && sudoers.is_all(&c.command))
        {
            found = Some(found.unwrap_or(false) || c.nopasswd);
        }
    }
    found
}

/// ACC-ROOT-PASSWORD: lock root's password (`!` before the hash, as `passwd -l root` does), once
/// an administrator with a password can use sudo.
pub fn root_password(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let db = ctx.fact::<AccountDb>();
    let sudoers = ctx.fact::<SudoersSet>();
    let admins: Vec<&str> = db
        .users
        .users
        .iter()
        .filter(|u| u.uid != 0)
        .filter(|u| match sudo_all(&sudoers, &db.users, u) {
            Some(nopasswd) => {
                nopasswd
                    || db
                        .users
                        .shadow_entry(&u.name)
                        .is_some_and(|s| s.password_usable())
            }
            None => false,
        })
        .map(|u| u.name.as_str())
        .collect();
    if admins.is_empty() {
        return Err(
            "no other account can become root with sudo: make an administrator first (apt \
             install sudo; adduser NAME sudo; passwd NAME), then lock root with `passwd -l root`"
                .into(),
        );
    }
    let root = db.users.user("root").ok_or("no root account")?;
    let intent = match db.users.shadow_entry("root") {
        Some(s) => colon_field(SHADOW, s.line, 1, &s.hash, &format!("!{}", s.hash)),
        None => colon_field(
            PASSWD,
            root.line,
            1,
            &root.password,
            &format!("!{}", root.password),
        ),
    };
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "lock root's password (`passwd -u root` restores it); administrators with sudo: {}",
            admins.join(", ")
        ),
        safety: Safety::Unsafe(
            "root can no longer log in with its password: console, su, and SSH where \
             PermitRootLogin allows passwords (with UsePAM no, sshd refuses root's keys too)"
                .into(),
        ),
        intents: vec![intent],
    }))
}
