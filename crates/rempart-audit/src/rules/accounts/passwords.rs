//! ACC-EMPTY-PASSWORD and ACC-ROOT-PASSWORD: accounts that log in without a password, and a root
//! password that can be typed.

use super::{hash_scheme, AccountDb, SHADOW};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const EMPTY: Rule = Rule {
    id: "ACC-EMPTY-PASSWORD",
    name: "empty-password",
    family: Family::Accounts,
    severity: Severity::Critical,
    level: Level::Dev,
    title: "No account has an empty password",
    doc: RuleDoc {
        what: "No account of /etc/passwd has an empty password field (then /etc/shadow is not \
               even consulted), and no /etc/shadow entry of an existing account has an empty \
               hash. A locked (`!`, `*`) hash is fine. Without /etc/shadow only the passwd field \
               is judged; an unreadable /etc/shadow is an error.",
        why: "Debian's PAM accepts empty passwords (`pam_unix.so nullok` in common-auth): such an \
              account logs in on the console, through `su` and any PAM service, with no secret.",
        remediation: "passwd -l NAME (lock it) or passwd NAME (give it a password); for a passwd \
                      field left empty, `pwconv` moves accounts to shadow.",
        verify: "awk -F: '$2 == \"\"' /etc/passwd /etc/shadow",
        references: &[
            "CIS Debian Linux 12 Benchmark 7.2.x (shadowed passwords; no empty password fields)",
            "man shadow(5), pam_unix(8) (nullok)",
        ],
    },
    check: check_empty,
};

fn check_empty(ctx: &Ctx) -> Outcome {
    let db = ctx.fact::<AccountDb>();
    if let Err(o) = db.require_passwd() {
        return o;
    }
    let mut bad: Vec<Evidence> = db
        .users
        .users
        .iter()
        .filter(|u| u.password.is_empty())
        .map(|u| {
            db.passwd_evidence(u.line)
                .key(u.name.as_str())
                .actual("empty password field")
                .expected("x (hash in /etc/shadow)")
        })
        .collect();
    if let Some(shadow) = &db.users.shadow {
        bad.extend(
            shadow
                .iter()
                .filter(|s| s.hash.is_empty() && db.users.user(&s.name).is_some())
                .map(|s| {
                    Evidence::file(SHADOW)
                        .line(s.line)
                        .key(s.name.as_str())
                        .actual("empty hash")
                        .expected("a hash, or ! to lock")
                }),
        );
    }
    if !bad.is_empty() {
        let names: Vec<String> = bad.iter().filter_map(|e| e.key.clone()).collect();
        return Outcome::fail(format!("accounts without a password: {}", names.join(", ")))
            .with_all(bad);
    }
    if let Some(e) = &db.shadow_error {
        return Outcome::from(e.clone());
    }
    if db.users.shadow.is_none() && db.users.users.iter().any(|u| u.password == "x") {
        return Outcome::skip("no /etc/shadow: the password hashes cannot be judged");
    }
    Outcome::pass("every account has a password hash or is locked")
}

pub const ROOT: Rule = Rule {
    id: "ACC-ROOT-PASSWORD",
    name: "root-password-login",
    family: Family::Accounts,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "root has no usable password",
    doc: RuleDoc {
        what: "root's /etc/shadow hash (or its /etc/passwd field when there is no shadow entry) \
               is locked (`!` or `*` prefix): nobody can log in as root by typing a password. \
               Administrators use their own accounts and sudo (see ACC-ADMINS). Whether sshd \
               lets root in is judged by the ssh family.",
        why: "A root password is a shared secret: it is guessed, reused, written down, and it \
              leaves no trace of who used it. A locked root forces named, logged administration.",
        remediation: "First make sure a named administrator can `sudo -i` (ACC-ADMINS), then \
                      `passwd -l root`. Console recovery then needs `init=/bin/bash` or \
                      SYSTEMD_SULOGIN_FORCE=1 in the rescue environment.",
        verify: "passwd -S root   # L = locked",
        references: &[
            "seed 002 Phase 1 §3 Gestion des utilisateurs & SSH (admin jmadmin in sudo, root not used)",
            "man passwd(1) (-l), shadow(5)",
        ],
    },
    check: check_root,
};

fn check_root(ctx: &Ctx) -> Outcome {
    let db = ctx.fact::<AccountDb>();
    if let Err(o) = db.require_passwd() {
        return o;
    }
    let Some(root) = db.users.user("root") else {
        return Outcome::not_applicable("no root entry in /etc/passwd");
    };
    if let Some(e) = &db.shadow_error {
        return Outcome::from(e.clone());
    }
    let (hash, ev) = match db.users.shadow_entry("root") {
        Some(s) => (s.hash.clone(), Evidence::file(SHADOW).line(s.line)),
        None if root.password != "x" => (root.password.clone(), db.passwd_evidence(root.line)),
        None if db.users.shadow.is_none() => {
            return Outcome::skip("no /etc/shadow: root's hash cannot be judged");
        }
        // `x` and no shadow entry: no password can match.
        None => return Outcome::pass("root has no shadow entry: no password can match"),
    };
    let locked = hash.starts_with('!') || hash.starts_with('*');
    if locked {
        return Outcome::pass("root's password is locked");
    }
    let actual = if hash.is_empty() {
        "empty: no password at all".to_string()
    } else {
        hash_scheme(&hash)
    };
    Outcome::fail("root can log in with a password")
        .with(ev.key("root").actual(actual).expected("locked (! or *)"))
}
