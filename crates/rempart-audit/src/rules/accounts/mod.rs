//! The accounts family: who can become root and how. UID 0 accounts, empty and usable password
//! hashes, service accounts with a login shell, the administrators (sudo/wheel members and
//! sudoers grants), passwordless sudo.
//!
//! The account databases are read once per run into [`AccountDb`] (the host's own
//! `/etc/passwd`, `/etc/group`, `/etc/shadow` and `/etc/login.defs`, never the running NSS);
//! sudoers(5) is parsed in [`sudoers`]. SSH logins (PermitRootLogin, AllowUsers) belong to the
//! ssh family.

pub mod admins;
pub mod passwords;
pub mod service_shell;
pub mod sudo_nopasswd;
pub mod sudoers;
pub mod uid0;

use crate::host::{parse_group, parse_passwd, parse_shadow, HostError, TextFile, Users};
use crate::model::Evidence;
use crate::rule::{Ctx, Fact, Outcome};

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";
pub const SHADOW: &str = "/etc/shadow";
pub const LOGIN_DEFS: &str = "/etc/login.defs";

/// The first uid of ordinary users when login.defs does not say (Debian's value).
const DEFAULT_UID_MIN: u32 = 1000;

/// The account databases of the host, read once.
#[derive(Debug, Clone, Default)]
pub struct AccountDb {
    pub users: Users,
    /// `/etc/passwd` as read, for evidence snippets.
    pub passwd: Option<TextFile>,
    /// `/etc/group` as read, for evidence snippets.
    pub group: Option<TextFile>,
    pub passwd_error: Option<HostError>,
    pub group_error: Option<HostError>,
    pub shadow_error: Option<HostError>,
    /// `UID_MIN` of `/etc/login.defs`: accounts below it are system accounts.
    pub uid_min: u32,
}

impl Fact for AccountDb {
    fn collect(ctx: &Ctx) -> AccountDb {
        let host = ctx.host;
        let mut db = AccountDb {
            uid_min: DEFAULT_UID_MIN,
            ..AccountDb::default()
        };
        match host.read_text(PASSWD) {
            Ok(Some(f)) => {
                db.users.users = parse_passwd(&f.text);
                db.passwd = Some(f);
            }
            Ok(None) => {}
            Err(e) => db.passwd_error = Some(e),
        }
        match host.read_text(GROUP) {
            Ok(Some(f)) => {
                db.users.groups = parse_group(&f.text);
                db.group = Some(f);
            }
            Ok(None) => {}
            Err(e) => db.group_error = Some(e),
        }
        match host.read_text(SHADOW) {
            Ok(Some(f)) => db.users.shadow = Some(parse_shadow(&f.text)),
            Ok(None) => {}
            Err(e) => db.shadow_error = Some(e),
        }
        if let Ok(Some(f)) = host.read_text(LOGIN_DEFS) {
            if let Some(v) = login_defs_value(&f.text, "UID_MIN").and_then(|v| v.parse().ok()) {
                db.uid_min = v;
            }
        }
        db
    }
}

impl AccountDb {
    /// `Err(outcome)` when `/etc/passwd` cannot be judged: unreadable (error) or absent (the
    /// tree has no account database: not applicable).
    pub fn require_passwd(&self) -> Result<&TextFile, Outcome> {
        if let Some(e) = &self.passwd_error {
            return Err(Outcome::from(e.clone()));
        }
        self.passwd
            .as_ref()
            .ok_or_else(|| Outcome::not_applicable("no /etc/passwd: no account database"))
    }

    /// Evidence pointing at a user's line of `/etc/passwd`.
    pub fn passwd_evidence(&self, line: u32) -> Evidence {
        let mut e = Evidence::file(PASSWD).line(line);
        if let Some(text) = self.passwd.as_ref().and_then(|f| f.line(line)) {
            e = e.snippet(text);
        }
        e
    }
}

impl AccountDb {
    /// Evidence pointing at a group's line of `/etc/group`.
    pub fn group_evidence(&self, line: u32) -> Evidence {
        let mut e = Evidence::file(GROUP).line(line);
        if let Some(text) = self.group.as_ref().and_then(|f| f.line(line)) {
            e = e.snippet(text);
        }
        e
    }
}

/// The value of a `KEY value` line of login.defs.
pub fn login_defs_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            (it.next()? == key).then(|| it.next()).flatten()
        })
        .next()
}

/// The hash scheme of a crypt(3) hash, never the hash itself (`$y$` yescrypt, `$6$` SHA-512).
pub fn hash_scheme(hash: &str) -> String {
    let name = match hash.split('$').nth(1) {
        Some("y") => "yescrypt",
        Some("gy") => "gost-yescrypt",
        Some("7") => "scrypt",
        Some("2b" | "2a" | "2y") => "bcrypt",
        Some("6") => "sha512crypt",
        Some("5") => "sha256crypt",
        Some("1") => "md5crypt",
        _ if hash.len() == 13 => "DES crypt",
        _ => "unknown scheme",
    };
    format!("usable password hash ({name})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn login_defs_never_panics_and_finds_written_values(
            noise in "\\PC{0,200}",
            v in 0u32..100_000,
        ) {
            let _ = login_defs_value(&noise, "UID_MIN");
            let text = format!("{noise}\nUID_MIN\t{v}\n");
            let want = v.to_string();
            prop_assert_eq!(login_defs_value(&text, "UID_MIN"), Some(want.as_str()));
        }
    }

    #[test]
    fn login_defs_last_value_wins_and_comments_are_skipped() {
        let t = "#UID_MIN 500\nUID_MIN\t\t\t 1000\nUID_MAX 60000\nUID_MIN 2000\n";
        assert_eq!(login_defs_value(t, "UID_MIN"), Some("2000"));
        assert_eq!(login_defs_value(t, "SYS_UID_MIN"), None);
    }

    #[test]
    fn hash_schemes_are_named_without_the_hash() {
        assert_eq!(
            hash_scheme("$y$j9T$abc$def"),
            "usable password hash (yescrypt)"
        );
        assert!(!hash_scheme("$6$salt$secret").contains("secret"));
    }
}
