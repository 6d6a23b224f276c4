//! Accounts of the host, parsed from its own `/etc/passwd`, `/etc/group` and `/etc/shadow` (never
//! from the running machine's NSS, so a root tree is judged on its own files).

use super::{Host, HostError};

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// The password field of `/etc/passwd`: `x` when the hash is in `/etc/shadow`, empty when the
    /// account has no password at all.
    pub password: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
    /// 1-based line in `/etc/passwd`.
    pub line: u32,
}

impl User {
    /// A shell that lets the account log in interactively.
    pub fn has_login_shell(&self) -> bool {
        let s = self.shell.trim();
        !(s.is_empty()
            || s.ends_with("/nologin")
            || s.ends_with("/false")
            || s == "/bin/sync"
            || s == "/usr/bin/sync"
            || s.ends_with("/shutdown")
            || s.ends_with("/halt"))
    }
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
    pub line: u32,
}

/// One line of `/etc/shadow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadow {
    pub name: String,
    /// The hash field as written: `*`, `!...`, empty, or a crypt hash.
    pub hash: String,
    pub line: u32,
}

impl Shadow {
    /// The account can log in with a password (a real hash, not locked).
    pub fn password_usable(&self) -> bool {
        !self.hash.is_empty() && !self.hash.starts_with('!') && !self.hash.starts_with('*')
    }
}

/// The account databases of a host. Missing files are empty lists; a file that cannot be read is
/// kept as an error so rules can report it.
#[derive(Debug, Clone, Default)]
pub struct Users {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// `None` when `/etc/shadow` is absent.
    pub shadow: Option<Vec<Shadow>>,
    pub errors: Vec<HostError>,
}

impl Users {
    pub fn load(host: &Host) -> Users {
        let mut out = Users::default();
        match host.read_text("/etc/passwd") {
            Ok(Some(f)) => out.users = parse_passwd(&f.text),
            Ok(None) => {}
            Err(e) => out.errors.push(e),
        }
        match host.read_text("/etc/group") {
            Ok(Some(f)) => out.groups = parse_group(&f.text),
            Ok(None) => {}
            Err(e) => out.errors.push(e),
        }
        match host.read_text("/etc/shadow") {
            Ok(Some(f)) => out.shadow = Some(parse_shadow(&f.text)),
            Ok(None) => {}
            Err(e) => out.errors.push(e),
        }
        out
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    pub fn user_by_uid(&self, uid: u32) -> Option<&User> {
        self.users.iter().find(|u| u.uid == uid)
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    pub fn group_by_gid(&self, gid: u32) -> Option<&Group> {
        self.groups.iter().find(|g| g.gid == gid)
    }

    pub fn shadow_entry(&self, name: &str) -> Option<&Shadow> {
        self.shadow.as_ref()?.iter().find(|s| s.name == name)
    }

    /// Names of the groups a user belongs to (primary and supplementary).
    pub fn groups_of(&self, user: &User) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(g) = self.group_by_gid(user.gid) {
            out.push(&g.name);
        }
        for g in &self.groups {
            if g.members.iter().any(|m| m == &user.name) && !out.contains(&g.name.as_str()) {
                out.push(&g.name);
            }
        }
        out
    }

    /// Members of the admin groups `sudo` (Debian) and `wheel`, primary or supplementary.
    pub fn admins(&self) -> Vec<&User> {
        self.users
            .iter()
            .filter(|u| {
                self.groups_of(u)
                    .iter()
                    .any(|g| *g == "sudo" || *g == "wheel" || *g == "admin")
            })
            .collect()
    }
}

fn numbered(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i as u32 + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

/// A numeric id field as glibc's nss_files reads it (strtoul: leading blanks and `+` allowed).
fn parse_id(s: &str) -> Option<u32> {
    let t = s.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Parse `/etc/passwd` text. Lines glibc would skip (too few fields, non-numeric ids) are skipped.
pub fn parse_passwd(text: &str) -> Vec<User> {
    numbered(text)
        .filter_map(|(line, l)| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(User {
                name: f[0].to_string(),
                password: f[1].to_string(),
                uid: parse_id(f[2])?,
                gid: parse_id(f[3])?,
                home: f[5].to_string(),
                shell: f[6].to_string(),
                line,
            })
        })
        .collect()
}

/// Parse `/etc/group` text.
pub fn parse_group(text: &str) -> Vec<Group> {
    numbered(text)
        .filter_map(|(line, l)| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(Group {
                name: f[0].to_string(),
                gid: parse_id(f[2])?,
                members: f[3]
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(String::from)
                    .collect(),
                line,
            })
        })
        .collect()
}

/// Parse `/etc/shadow` text.
pub fn parse_shadow(text: &str) -> Vec<Shadow> {
    numbered(text)
        .filter_map(|(line, l)| {
            let mut f = l.split(':');
            let name = f.next()?.to_string();
            let hash = f.next()?.to_string();
            Some(Shadow { name, hash, line })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines_keep_their_numbers_and_skip_garbage() {
        let text = "root:x:0:0:root:/root:/bin/bash\n\ngarbage\nwww-data:x:33:33:www:/var/www:/usr/sbin/nologin\n";
        let users = parse_passwd(text);
        assert_eq!(users.len(), 2);
        assert_eq!(users[1].name, "www-data");
        assert_eq!(users[1].line, 4);
        assert!(users[0].has_login_shell());
        assert!(!users[1].has_login_shell());
    }

    #[test]
    fn ids_parse_like_glibc_and_the_password_field_is_kept() {
        let users = parse_passwd(
            "toor: :+0:0::/root:/bin/sh\nsneak:x: 0:0::/:/bin/sh\nbad:x:0x0:0::/:/bin/sh\n",
        );
        assert_eq!(users.len(), 2);
        assert_eq!((users[0].uid, users[0].password.as_str()), (0, " "));
        assert_eq!(users[1].uid, 0);
    }

    #[test]
    fn admins_include_primary_and_supplementary_members() {
        let users = Users {
            users: parse_passwd(
                "root:x:0:0::/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/bash\nbob:x:1001:27::/home/bob:/bin/bash\n",
            ),
            groups: parse_group("sudo:x:27:ann\nann:x:1000:\n"),
            ..Users::default()
        };
        let names: Vec<&str> = users.admins().iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["ann", "bob"]);
    }

    #[test]
    fn shadow_locked_and_empty_hashes() {
        let s = parse_shadow("a:!:1::::::\nb:*:1::::::\nc::1::::::\nd:$y$j9T$abc:1::::::\n");
        assert!(!s[0].password_usable());
        assert!(!s[1].password_usable());
        assert!(!s[2].password_usable());
        assert!(s[2].hash.is_empty());
        assert!(s[3].password_usable());
    }
}
