//! A scratch root tree: a private temporary directory holding copies of the host files the access
//! checks read (accounts, the sshd configuration with every file it includes, the admins'
//! authorized keys with the modes and owners of the directories above them, the installed
//! versions of the packages concerned, the firewall configuration and the systemd state of the
//! firewall and fail2ban units), with the plan's changes
//! written over them. The audit engine then judges it as a `--root` tree: the host itself is
//! only read.
//!
//! Private host keys and `/etc/shadow` are never copied: no check needs them.

use crate::change::FileState;
use crate::plan::Plan;
use crate::HardenError;
use rempart_audit::facts::packages::DPKG_STATUS;
use rempart_audit::facts::Packages;
use rempart_audit::host::{FileKind, Host};
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Files and directories copied when they exist (directories recursively).
pub const COPIED: &[&str] = &[
    "/etc/passwd",
    "/etc/group",
    "/etc/services",
    "/etc/ssh",
    // What a firewall check reads: the configurations loaded at boot and fail2ban's.
    "/etc/default/ufw",
    "/etc/ufw",
    "/etc/nftables.conf",
    "/etc/nftables.d",
    "/etc/iptables",
    "/etc/fail2ban",
];

/// Programs whose presence the checks test (copied as empty files).
const MARKERS: &[&str] = &["/usr/sbin/sshd"];

/// Packages whose installed version the checks read: the scratch dpkg database lists only them
/// (the host's can be megabytes).
const PACKAGES: &[&str] = &[
    "openssh-server",
    "ufw",
    "nftables",
    "iptables-persistent",
    "netfilter-persistent",
    "fail2ban",
];

/// Units whose state (unit file, enabling links, mask) decides which firewall loads at boot and
/// whether fail2ban runs: copied with their links so the scratch tree's systemd facts match the
/// host's.
pub const UNITS: &[&str] = &[
    "ufw.service",
    "nftables.service",
    "netfilter-persistent.service",
    "firewalld.service",
    "fail2ban.service",
];

/// Entries copied from one directory before giving up (a hostile tree).
const WALK_LIMIT: usize = 20_000;

/// A scratch tree, removed when dropped.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
    /// Directories created, so their metadata is set once.
    made: BTreeSet<String>,
}

fn err(path: &str, e: impl std::fmt::Display) -> HardenError {
    HardenError::Write(format!("scratch tree: {path}: {e}"))
}

/// A secret no check needs: a private host key (`ssh_host_ed25519_key`, not its `.pub`) or the
/// password hashes (even when a hostile sshd_config includes them).
fn secret(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    (name.starts_with("ssh_host_") && name.ends_with("_key"))
        || path == "/etc/shadow"
        || path == "/etc/gshadow"
}

impl Scratch {
    /// An empty scratch tree.
    pub fn new() -> Result<Scratch, HardenError> {
        let dir = tempfile::Builder::new()
            .prefix("rempart-scratch-")
            .tempdir()
            .map_err(|e| err("/", e))?;
        Ok(Scratch {
            dir,
            made: BTreeSet::new(),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The tree as an audited host.
    pub fn host(&self) -> Result<Host, HardenError> {
        Host::tree(self.dir.path()).map_err(|e| err("/", e))
    }

    fn real(&self, path: &str) -> PathBuf {
        self.dir.path().join(path.trim_start_matches('/'))
    }

    /// Create the parent directories of `path`, each with the mode and owner it has on `host`
    /// (sshd's StrictModes looks at them), or 0755 root when the host has none.
    fn parents(&mut self, host: &Host, path: &str) -> Result<(), HardenError> {
        let mut cur = String::new();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            cur.push('/');
            cur.push_str(part);
            if self.made.contains(&cur) {
                continue;
            }
            let real = self.real(&cur);
            if !real.is_dir() {
                fs::create_dir(&real).map_err(|e| err(&cur, e))?;
            }
            let (mode, uid, gid) = match host.metadata(&cur) {
                Ok(Some(m)) if m.kind == FileKind::Dir => (m.mode, m.uid, m.gid),
                _ => (0o755, 0, 0),
            };
            set_meta(&real, &cur, mode, uid, gid)?;
            self.made.insert(cur.clone());
        }
        Ok(())
    }

    /// Put `state` at `path` in the tree.
    pub fn write(&mut self, host: &Host, path: &str, state: &FileState) -> Result<(), HardenError> {
        let real = self.real(path);
        if let FileState::Dir { mode, uid, gid } = state {
            // A directory's mode or owner: the checks only read through it.
            self.parents(host, path)?;
            if !real.is_dir() {
                fs::create_dir(&real).map_err(|e| err(path, e))?;
            }
            return set_meta(&real, path, *mode, *uid, *gid);
        }
        if let Ok(m) = fs::symlink_metadata(&real) {
            if m.is_dir() {
                return Err(err(path, "is a directory"));
            }
            fs::remove_file(&real).map_err(|e| err(path, e))?;
        }
        match state {
            FileState::Absent | FileState::Dir { .. } => Ok(()),
            FileState::File {
                content,
                mode,
                uid,
                gid,
            } => {
                self.parents(host, path)?;
                fs::write(&real, content).map_err(|e| err(path, e))?;
                set_meta(&real, path, *mode, *uid, *gid)
            }
            FileState::Symlink { target } => {
                self.parents(host, path)?;
                std::os::unix::fs::symlink(target, &real).map_err(|e| err(path, e))
            }
        }
    }

    /// Copy one host file as seen through its links (content, mode, owner). Missing files are
    /// skipped; secrets (private host keys, shadow files) are never copied.
    pub fn copy_file(&mut self, host: &Host, path: &str) -> Result<(), HardenError> {
        if secret(path) {
            return Ok(());
        }
        let meta = match host.metadata(path) {
            Ok(Some(m)) if m.kind == FileKind::File => m,
            Ok(_) => return Ok(()),
            Err(e) => return Err(err(path, e)),
        };
        let content = host
            .read(path)
            .map_err(|e| err(path, e))?
            .unwrap_or_default();
        let state = FileState::File {
            content,
            mode: meta.mode,
            uid: meta.uid,
            gid: meta.gid,
        };
        self.write(host, path, &state)
    }

    /// Copy a file, or a directory with everything below it.
    pub fn copy(&mut self, host: &Host, path: &str) -> Result<(), HardenError> {
        match host.metadata(path) {
            Ok(Some(m)) if m.kind == FileKind::Dir => {
                let mut files = Vec::new();
                let mut failed = None;
                let complete = host.walk(
                    path,
                    WALK_LIMIT,
                    &mut |e| {
                        if e.meta.kind != FileKind::Dir {
                            files.push(e.path.clone());
                        }
                    },
                    &mut |e| failed = Some(e),
                );
                if let Some(e) = failed {
                    return Err(err(path, e));
                }
                if !complete {
                    return Err(err(path, format!("more than {WALK_LIMIT} entries")));
                }
                for f in files {
                    self.copy_file(host, &f)?;
                }
                Ok(())
            }
            Ok(Some(_)) => self.copy_file(host, path),
            Ok(None) => Ok(()),
            Err(e) => Err(err(path, e)),
        }
    }

    /// Copy a symbolic link as a link (its target as written).
    fn copy_link(&mut self, host: &Host, path: &str) -> Result<(), HardenError> {
        match host.read_link(path) {
            Ok(Some(target)) => self.write(host, path, &FileState::Symlink { target }),
            Ok(None) => Ok(()),
            Err(e) => Err(err(path, e)),
        }
    }

    /// The state of one systemd unit: its unit file in every unit directory (a link to
    /// /dev/null is a mask), and the `*.wants/` / `*.requires/` links enabling it.
    pub fn copy_unit(&mut self, host: &Host, unit: &str) -> Result<(), HardenError> {
        for dir in rempart_audit::facts::systemd::UNIT_DIRS {
            let path = format!("{dir}/{unit}");
            match host.symlink_metadata(&path) {
                Ok(Some(m)) if m.kind == FileKind::Symlink => self.copy_link(host, &path)?,
                Ok(Some(m)) if m.kind == FileKind::File => self.copy_file(host, &path)?,
                Ok(_) => {}
                Err(e) => return Err(err(&path, e)),
            }
            let Ok(Some(names)) = host.read_dir(dir) else {
                continue;
            };
            for name in names
                .iter()
                .filter(|n| n.ends_with(".wants") || n.ends_with(".requires"))
            {
                let link = format!("{dir}/{name}/{unit}");
                match host.symlink_metadata(&link) {
                    Ok(Some(m)) if m.kind == FileKind::Symlink => self.copy_link(host, &link)?,
                    Ok(Some(m)) if m.kind == FileKind::File => self.copy_file(host, &link)?,
                    Ok(_) => {}
                    Err(e) => return Err(err(&link, e)),
                }
            }
        }
        Ok(())
    }

    /// An empty file standing for a program that exists on the host.
    pub fn mark(&mut self, host: &Host, path: &str) -> Result<(), HardenError> {
        if !host.exists(path) {
            return Ok(());
        }
        let state = FileState::File {
            content: Vec::new(),
            mode: 0o755,
            uid: 0,
            gid: 0,
        };
        self.write(host, path, &state)
    }

    /// The tree the checks read: [`COPIED`], the markers, a dpkg database with the versions of
    /// [`PACKAGES`] (when the host has one), `extra` host files, then the plan's changes over
    /// them.
    pub fn of_plan(
        host: &Host,
        packages: &Packages,
        plan: &Plan,
        extra: &[String],
    ) -> Result<Scratch, HardenError> {
        let mut s = Scratch::new()?;
        for p in COPIED {
            s.copy(host, p)?;
        }
        if packages.known() {
            let status: String = PACKAGES
                .iter()
                .filter_map(|p| {
                    packages.version(p).map(|v| {
                        format!("Package: {p}\nStatus: install ok installed\nVersion: {v}\n\n")
                    })
                })
                .collect();
            let state = FileState::File {
                content: status.into_bytes(),
                mode: 0o644,
                uid: 0,
                gid: 0,
            };
            s.write(host, DPKG_STATUS, &state)?;
        }
        for p in MARKERS {
            s.mark(host, p)?;
        }
        for u in UNITS {
            s.copy_unit(host, u)?;
        }
        for p in extra {
            s.copy(host, p)?;
        }
        for c in &plan.changes {
            s.write(host, &c.path, &c.after)?;
        }
        Ok(s)
    }
}

/// Mode and owner of a path in the tree. Changing the owner needs root: without it, a file owned
/// by someone else cannot be reproduced and the check says so rather than judge a wrong tree.
fn set_meta(real: &Path, path: &str, mode: u32, uid: u32, gid: u32) -> Result<(), HardenError> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::symlink_metadata(real).map_err(|e| err(path, e))?;
    if (m.uid(), m.gid()) != (uid, gid) {
        std::os::unix::fs::lchown(real, Some(uid), Some(gid))
            .map_err(|e| err(path, format!("cannot give it owner {uid}:{gid} ({e})")))?;
    }
    fs::set_permissions(real, fs::Permissions::from_mode(mode)).map_err(|e| err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn copies_keep_modes_and_skip_private_host_keys() {
        let src = tempfile::tempdir().unwrap();
        let ssh = src.path().join("etc/ssh");
        fs::create_dir_all(&ssh).unwrap();
        fs::write(ssh.join("sshd_config"), "PasswordAuthentication no\n").unwrap();
        fs::write(ssh.join("ssh_host_ed25519_key"), "PRIVATE").unwrap();
        fs::write(ssh.join("ssh_host_ed25519_key.pub"), "ssh-ed25519 AAAA").unwrap();
        fs::write(src.path().join("etc/shadow"), "root:$y$hash:19000::::::\n").unwrap();
        let home = src.path().join("home/ann/.ssh");
        fs::create_dir_all(&home).unwrap();
        fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(home.join("authorized_keys"), "ssh-ed25519 AAAA ann").unwrap();
        fs::set_permissions(
            home.join("authorized_keys"),
            fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let host = Host::tree(src.path()).unwrap();
        let mut s = Scratch::new().unwrap();
        s.copy(&host, "/etc/ssh").unwrap();
        s.copy(&host, "/home/ann/.ssh/authorized_keys").unwrap();
        s.copy(&host, "/etc/shadow").unwrap();
        s.copy(&host, "/does/not/exist").unwrap();
        let p = s.path();
        assert!(p.join("etc/ssh/sshd_config").is_file());
        assert!(p.join("etc/ssh/ssh_host_ed25519_key.pub").is_file());
        assert!(!p.join("etc/ssh/ssh_host_ed25519_key").exists());
        assert!(!p.join("etc/shadow").exists());
        let dir = fs::metadata(p.join("home/ann/.ssh")).unwrap();
        assert_eq!(dir.mode() & 0o7777, 0o700);
        let key = fs::metadata(p.join("home/ann/.ssh/authorized_keys")).unwrap();
        assert_eq!(key.mode() & 0o7777, 0o600);
        let path = s.path().to_path_buf();
        drop(s);
        assert!(!path.exists(), "the scratch tree is removed");
    }
}
