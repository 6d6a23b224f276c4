//! The sysctl configuration a host boots with, merged from every sysctl.d file the way its boot
//! applies them, and kept with the file and line of each winning assignment.
//!
//! systemd-sysctl (Debian 12 boots with it) lists `*.conf` in `/etc/sysctl.d`, `/run/sysctl.d`,
//! `/usr/local/lib/sysctl.d`, `/usr/lib/sysctl.d` and `/lib/sysctl.d`; a name in an earlier
//! directory hides the same name in later ones (a link to `/dev/null` or an empty file masks it);
//! files are applied sorted by name and a later assignment of a key replaces an earlier one. An
//! explicit key always beats a glob, whatever the order. systemd never reads `/etc/sysctl.conf`
//! itself: Debian's systemd package links it in as `/etc/sysctl.d/99-sysctl.conf`, so it applies
//! at that name's place. Without systemd (sysvinit and procps' `sysctl --system`), the same
//! directories are applied and `/etc/sysctl.conf` comes last.
//!
//! A file that cannot be read is kept as an error with its place in the order, so a rule can tell
//! whether the unread file could have changed the value it judges.

use super::sysctl_d::{self, Entry};
use crate::host::{FileKind, Host, HostError};
use crate::rule::{Ctx, Fact};
use std::collections::{BTreeMap, HashMap};

/// sysctl.d directories, in precedence order.
pub const SYSCTL_DIRS: &[&str] = &[
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// The legacy file, read last by procps and through a link by systemd.
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";

/// systemd-sysctl binaries: when one exists the host boots with systemd's rules.
const SYSTEMD_SYSCTL: &[&str] = &[
    "/lib/systemd/systemd-sysctl",
    "/usr/lib/systemd/systemd-sysctl",
];

/// Who applies sysctl.d at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applier {
    Systemd,
    Procps,
}

/// One configuration file, in application order.
#[derive(Debug, Clone)]
pub struct ConfFile {
    /// The path in the sysctl.d listing (`/etc/sysctl.d/99-sysctl.conf`).
    pub path: String,
    /// The file people edit: the link's target when the listed path is a symbolic link
    /// (`/etc/sysctl.conf`), else the listed path.
    pub shown: String,
}

/// Where a key was assigned.
#[derive(Debug, Clone)]
pub struct Placed {
    /// `None` for a `-key` exclusion.
    pub value: Option<String>,
    /// Index into [`SysctlConfig::files`].
    pub file: usize,
    pub line: u32,
    pub text: String,
    /// The last file that (re)asserted this assignment.
    last_file: usize,
}

/// What the boot configuration says about one key.
#[derive(Debug, Clone)]
pub enum Configured<'a> {
    /// An assignment wins (explicit, or the last matching glob).
    Set(&'a Placed),
    /// Nothing assigns it: the kernel's default stays.
    Unset,
    /// Files that could not be read might assign it.
    Unknown(Vec<&'a HostError>),
}

/// The merged sysctl configuration of a host.
#[derive(Debug, Clone)]
pub struct SysctlConfig {
    pub applier: Applier,
    pub files: Vec<ConfFile>,
    explicit: HashMap<String, Placed>,
    /// Glob assignments in application order (a re-assigned pattern moves to the end).
    globs: Vec<(String, Placed)>,
    /// Read errors, with the index of the file concerned (`None`: a directory could not be
    /// listed, so any key may be affected).
    pub errors: Vec<(Option<usize>, HostError)>,
    /// Lines systemd-sysctl rejects: (file index, line, reason).
    pub invalid: Vec<(usize, u32, &'static str)>,
}

impl Fact for SysctlConfig {
    fn collect(ctx: &Ctx) -> SysctlConfig {
        SysctlConfig::load(ctx.host)
    }
}

impl SysctlConfig {
    /// Read and merge every sysctl file of the host.
    pub fn load(host: &Host) -> SysctlConfig {
        let applier = if SYSTEMD_SYSCTL.iter().any(|p| host.exists(p)) {
            Applier::Systemd
        } else {
            Applier::Procps
        };
        let mut cfg = SysctlConfig {
            applier,
            files: Vec::new(),
            explicit: HashMap::new(),
            globs: Vec::new(),
            errors: Vec::new(),
            invalid: Vec::new(),
        };
        // Name -> listed path; the first directory holding a name wins.
        let mut by_name: BTreeMap<String, String> = BTreeMap::new();
        for dir in SYSCTL_DIRS {
            let names = match host.read_dir(dir) {
                Ok(Some(n)) => n,
                Ok(None) => continue,
                Err(e) => {
                    cfg.errors.push((None, e));
                    continue;
                }
            };
            for name in names {
                if !name.ends_with(".conf") || by_name.contains_key(&name) {
                    continue;
                }
                let path = format!("{dir}/{name}");
                // systemd lists regular files and links only (a directory or a fifo named
                // `x.conf` is skipped).
                match host.symlink_metadata(&path) {
                    Ok(Some(m)) if matches!(m.kind, FileKind::File | FileKind::Symlink) => {}
                    Ok(_) => continue,
                    Err(e) => {
                        cfg.errors.push((None, e));
                        continue;
                    }
                }
                by_name.insert(name, path);
            }
        }
        let mut listed: Vec<String> = by_name.into_values().collect();
        if applier == Applier::Procps {
            listed.push(SYSCTL_CONF.to_string());
        }
        for path in listed {
            cfg.read_file(host, path);
        }
        cfg
    }

    /// A configuration from file texts given in application order (tests, fuzzing).
    pub fn from_texts(applier: Applier, files: &[(&str, &str)]) -> SysctlConfig {
        let mut cfg = SysctlConfig {
            applier,
            files: Vec::new(),
            explicit: HashMap::new(),
            globs: Vec::new(),
            errors: Vec::new(),
            invalid: Vec::new(),
        };
        for (i, (path, text)) in files.iter().enumerate() {
            cfg.files.push(ConfFile {
                path: path.to_string(),
                shown: path.to_string(),
            });
            cfg.apply(i, text);
        }
        cfg
    }

    fn read_file(&mut self, host: &Host, path: String) {
        let link = host.read_link(&path).ok().flatten();
        if link.as_deref() == Some("/dev/null") {
            return; // masked
        }
        let shown = match &link {
            Some(target) => link_target(&path, target),
            None => path.clone(),
        };
        let index = self.files.len();
        self.files.push(ConfFile {
            path: path.clone(),
            shown,
        });
        match host.read_text(&path) {
            Ok(Some(f)) => self.apply(index, &f.text),
            // A dangling link: systemd ignores ENOENT.
            Ok(None) => {}
            Err(e) => self.errors.push((Some(index), e)),
        }
    }

    /// Apply one file's text, as file number `file` of the order.
    pub fn apply(&mut self, file: usize, text: &str) {
        for entry in sysctl_d::parse(text) {
            let (key, value, line, text) = match entry {
                Entry::Assign(a) => (a.key, Some(a.value), a.line, a.text),
                Entry::Exclude { key, line } => (key, None, line, String::new()),
                Entry::Invalid { line, reason } => {
                    self.invalid.push((file, line, reason));
                    continue;
                }
            };
            let placed = Placed {
                value,
                file,
                line,
                text,
                last_file: file,
            };
            if sysctl_d::is_glob(&key) && placed.value.is_some() {
                match self.globs.iter().position(|(k, _)| *k == key) {
                    Some(i) if self.globs[i].1.value == placed.value => {
                        self.globs[i].1.last_file = file;
                    }
                    Some(i) => {
                        self.globs.remove(i);
                        self.globs.push((key, placed));
                    }
                    None => self.globs.push((key, placed)),
                }
                continue;
            }
            match self.explicit.get_mut(&key) {
                // systemd keeps the first of two identical assignments.
                Some(old) if old.value == placed.value => old.last_file = file,
                _ => {
                    self.explicit.insert(key, placed);
                }
            }
        }
    }

    /// What the boot configuration assigns to `key` (slash form).
    pub fn configured(&self, key: &str) -> Configured<'_> {
        let winner: Option<(&Placed, bool)> = match self.explicit.get(key) {
            Some(p) if p.value.is_some() => Some((p, true)),
            // `-key`: excluded from globs, nothing set.
            Some(_) => None,
            None => self
                .globs
                .iter()
                .rev()
                .find(|(pat, _)| sysctl_d::glob_matches(pat, key))
                .map(|(_, p)| (p, false)),
        };
        let decisive = match (winner, self.explicit.get(key)) {
            (Some((p, true)), _) => Some(p.last_file),
            (None, Some(excl)) => Some(excl.last_file),
            _ => None,
        };
        // An unread file can change the result unless an explicit line of a later file decides.
        let unknown: Vec<&HostError> = self
            .errors
            .iter()
            .filter(|(at, _)| !matches!((at, decisive), (Some(i), Some(d)) if *i < d))
            .map(|(_, e)| e)
            .collect();
        if !unknown.is_empty() {
            return Configured::Unknown(unknown);
        }
        match winner {
            Some((p, _)) => Configured::Set(p),
            None => Configured::Unset,
        }
    }

    /// Every explicit assignment (key, placement), sorted by key.
    pub fn explicit(&self) -> Vec<(&str, &Placed)> {
        let mut v: Vec<(&str, &Placed)> = self
            .explicit
            .iter()
            .filter(|(_, p)| p.value.is_some())
            .map(|(k, p)| (k.as_str(), p))
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Glob assignments, in application order.
    pub fn globs(&self) -> &[(String, Placed)] {
        &self.globs
    }

    /// The file a placement comes from, as people edit it.
    pub fn file_of(&self, p: &Placed) -> &ConfFile {
        &self.files[p.file]
    }
}

/// The host path a link at `link_path` points to, `..` and `.` folded.
fn link_target(link_path: &str, target: &str) -> String {
    let base = if target.starts_with('/') {
        String::new()
    } else {
        link_path
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string())
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in base.split('/').chain(target.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(files: &[&str]) -> SysctlConfig {
        let named: Vec<(String, &str)> = files
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("/etc/sysctl.d/{i}.conf"), *t))
            .collect();
        let refs: Vec<(&str, &str)> = named.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        SysctlConfig::from_texts(Applier::Systemd, &refs)
    }

    fn value(cfg: &SysctlConfig, key: &str) -> Option<String> {
        match cfg.configured(key) {
            Configured::Set(p) => p.value.clone(),
            _ => None,
        }
    }

    #[test]
    fn later_assignments_win_and_explicit_beats_glob() {
        let cfg = config(&[
            "net.ipv4.conf.all.rp_filter = 1\nnet.ipv4.conf.default.rp_filter = 1\n",
            "net.ipv4.conf.*.rp_filter = 2\n",
            "net.ipv4.conf.default.rp_filter = 0\n",
        ]);
        assert_eq!(
            value(&cfg, "net/ipv4/conf/all/rp_filter").as_deref(),
            Some("1")
        );
        assert_eq!(
            value(&cfg, "net/ipv4/conf/default/rp_filter").as_deref(),
            Some("0")
        );
        assert_eq!(
            value(&cfg, "net/ipv4/conf/eth0/rp_filter").as_deref(),
            Some("2")
        );
    }

    #[test]
    fn exclusions_keep_globs_off_a_key() {
        let cfg = config(&["net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n"]);
        assert!(matches!(
            cfg.configured("net/ipv4/conf/all/rp_filter"),
            Configured::Unset
        ));
        assert_eq!(
            value(&cfg, "net/ipv4/conf/lo/rp_filter").as_deref(),
            Some("2")
        );
    }

    #[test]
    fn an_unread_file_only_matters_when_no_later_explicit_line_decides() {
        let mut cfg = config(&["", "kernel.kptr_restrict = 1\n"]);
        cfg.errors.push((
            Some(0),
            HostError::SymlinkLoop {
                path: "/etc/sysctl.d/0.conf".into(),
            },
        ));
        assert!(matches!(
            cfg.configured("kernel/kptr_restrict"),
            Configured::Set(_)
        ));
        assert!(matches!(
            cfg.configured("kernel/dmesg_restrict"),
            Configured::Unknown(_)
        ));
    }

    #[test]
    fn link_targets_fold_dotdot() {
        assert_eq!(
            link_target("/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf"),
            "/etc/sysctl.conf"
        );
        assert_eq!(
            link_target("/etc/sysctl.d/x.conf", "/usr/a/./b"),
            "/usr/a/b"
        );
    }
}
