//! Packages the guides install with apt before configuring them (`apt install fail2ban ufw
//! unattended-upgrades`): which failing rules need which package, whether this host can install
//! it, and running apt (on the live host, or chrooted into a `--root` tree that is a real Debian
//! system with its own apt and dpkg).
//!
//! A plan that installs packages plans its fixes against the package list as it will be, so the
//! configuration the guides write after `apt install` is in the same plan. Apply installs first
//! (so the software's checkers exist), then writes the files; rollback restores the files, then
//! purges exactly the packages the run installed (the ones named and the dependencies apt
//! pulled in), read from dpkg's status before and after.
//!
//! A tree without apt (a fixture, a copy of /etc) cannot install anything: the fixes that need a
//! package decline as before, with the apt command to run.

use rempart_audit::facts::packages::{parse_status, DPKG_STATUS};
use rempart_audit::facts::Packages;
use rempart_audit::host::Host;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Which package each rule's fix needs, as the guides install it. Firewall rules need one
/// firewall: nftables, Debian's default, when neither it nor ufw is installed.
pub const NEEDS: &[(&str, &[&str])] = &[
    ("UPD-AUTO-UPGRADES", &["unattended-upgrades"]),
    ("IPS-FAIL2BAN", &["fail2ban"]),
    ("IPS-SSHD-JAIL", &["fail2ban"]),
    ("IPS-BANACTION", &["fail2ban"]),
    ("IPS-BACKEND", &["fail2ban", "python3-systemd"]),
    ("FW-ACTIVE", &["nftables"]),
    ("FW-DEFAULT-DENY", &["nftables"]),
    ("FW-OPEN-PORTS", &["nftables"]),
];

/// Packages that stand in for a needed one (a firewall is a firewall).
const ALTERNATIVES: &[(&str, &[&str])] =
    &[("nftables", &["ufw", "firewalld", "iptables-persistent"])];

/// A package the plan installs, and the rules that need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageInstall {
    pub name: String,
    pub rules: Vec<String>,
}

/// How this host installs packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installer {
    /// apt on the running system.
    Live,
    /// apt chrooted into a root tree that is a Debian system.
    Chroot(std::path::PathBuf),
}

impl Installer {
    /// The installer for `host`, or why packages cannot be installed there.
    pub fn of(host: &Host) -> Result<Installer, String> {
        let has = |p: &str| host.exists(p);
        if !(has("/usr/bin/apt-get") && has("/usr/bin/dpkg") && has(DPKG_STATUS)) {
            return Err(format!(
                "{} has no apt and dpkg of its own, so packages cannot be installed in it",
                host.root().display()
            ));
        }
        if host.root() == Path::new("/") {
            Ok(Installer::Live)
        } else {
            Ok(Installer::Chroot(host.root().to_path_buf()))
        }
    }

    fn command(&self, argv: &[&str]) -> Command {
        let mut c = match self {
            Installer::Live => Command::new(argv[0]),
            Installer::Chroot(root) => {
                let mut c = Command::new("chroot");
                c.arg(root).arg(argv[0]);
                c
            }
        };
        c.args(&argv[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("APT_LISTCHANGES_FRONTEND", "none")
            .stdin(std::process::Stdio::null());
        c
    }

    fn run(&self, argv: &[&str]) -> Result<(), String> {
        let out = self
            .command(argv)
            .output()
            .map_err(|e| format!("{}: {e}", argv.join(" ")))?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(6).collect();
        Err(format!(
            "`{}` failed ({}): {}",
            argv.join(" "),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ))
    }

    /// `apt-get install` of `names`, keeping configuration files already on disk (the plan's
    /// own are written right after); retried once after refreshing the package lists, since a
    /// mirror can drop a download.
    pub fn install(&self, names: &[String]) -> Result<(), String> {
        let mut argv = vec![
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "-o",
            "Dpkg::Options::=--force-confdef",
            "-o",
            "Dpkg::Options::=--force-confold",
        ];
        argv.extend(names.iter().map(String::as_str));
        match self.run(&argv) {
            Ok(()) => Ok(()),
            Err(first) => {
                let _ = self.run(&["apt-get", "update", "-q"]);
                self.run(&argv)
                    .map_err(|second| format!("{first}; after apt-get update: {second}"))
            }
        }
    }

    /// `apt-get purge` of `names` (packages this run installed).
    pub fn purge(&self, names: &[String]) -> Result<(), String> {
        if names.is_empty() {
            return Ok(());
        }
        let mut argv = vec!["apt-get", "purge", "-y", "-q"];
        argv.extend(names.iter().map(String::as_str));
        self.run(&argv)
    }
}

/// The installed packages of `host` now (name set), from dpkg's status.
pub fn installed_now(host: &Host) -> Result<BTreeSet<String>, String> {
    match host.read_text(DPKG_STATUS) {
        Ok(Some(f)) => Ok(parse_status(&f.text).into_keys().collect()),
        Ok(None) => Ok(BTreeSet::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// The packages the failing `rules` need that `pkgs` lacks, in a stable order, with the rules
/// asking for each.
pub fn needed(pkgs: &Packages, rules: &[String]) -> Vec<PackageInstall> {
    let mut out: Vec<PackageInstall> = Vec::new();
    for rule in rules {
        let Some((_, names)) = NEEDS.iter().find(|(r, _)| r == rule) else {
            continue;
        };
        for name in *names {
            let alts = ALTERNATIVES
                .iter()
                .find(|(n, _)| n == name)
                .map_or(&[][..], |(_, a)| *a);
            if pkgs.is_installed(name) || alts.iter().any(|a| pkgs.is_installed(a)) {
                continue;
            }
            match out.iter_mut().find(|p| p.name == *name) {
                Some(p) => {
                    if !p.rules.contains(rule) {
                        p.rules.push(rule.clone());
                    }
                }
                None => out.push(PackageInstall {
                    name: name.to_string(),
                    rules: vec![rule.clone()],
                }),
            }
        }
    }
    out
}

/// The version a package the plan installs has while planning.
pub const PLANNED: &str = "planned";

/// `pkgs` with `extra` marked installed (version [`PLANNED`]), for planning fixes against the
/// host as it will be once they are in.
pub fn with_planned(pkgs: &Packages, extra: &[PackageInstall]) -> Packages {
    let mut p = pkgs.clone();
    let list = p.installed.get_or_insert_with(Default::default);
    for e in extra {
        list.entry(e.name.clone())
            .or_insert_with(|| PLANNED.to_string());
    }
    p
}

/// Whether `unit` comes with a package this plan installs (so its unit file is not there yet).
/// Every package `NEEDS` names ships its service under its own name (`fail2ban.service`,
/// `nftables.service`, `unattended-upgrades.service`).
pub fn unit_planned(pkgs: &Packages, unit: &str) -> bool {
    unit.strip_suffix(".service")
        .is_some_and(|name| pkgs.version(name) == Some(PLANNED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn pkgs(names: &[&str]) -> Packages {
        Packages {
            installed: Some(
                names
                    .iter()
                    .map(|n| (n.to_string(), "1".to_string()))
                    .collect::<HashMap<_, _>>(),
            ),
            error: None,
        }
    }

    #[test]
    fn a_firewall_already_installed_stands_in_for_nftables() {
        let rules = vec!["FW-ACTIVE".to_string(), "IPS-BACKEND".to_string()];
        let got = needed(&pkgs(&["ufw", "fail2ban"]), &rules);
        assert_eq!(
            got,
            vec![PackageInstall {
                name: "python3-systemd".into(),
                rules: vec!["IPS-BACKEND".into()]
            }]
        );
        let got = needed(&pkgs(&[]), &rules);
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["nftables", "fail2ban", "python3-systemd"]);
    }

    #[test]
    fn rules_sharing_a_package_share_one_install() {
        let rules: Vec<String> = ["IPS-FAIL2BAN", "IPS-SSHD-JAIL", "UPD-AUTO-UPGRADES"]
            .map(String::from)
            .to_vec();
        let got = needed(&pkgs(&["openssh-server"]), &rules);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].rules, ["IPS-FAIL2BAN", "IPS-SSHD-JAIL"]);
        let planned = with_planned(&pkgs(&[]), &got);
        assert!(planned.is_installed("fail2ban") && planned.is_installed("unattended-upgrades"));
        assert!(unit_planned(&planned, "fail2ban.service"));
        assert!(!unit_planned(&planned, "nftables.service"));
        assert!(!unit_planned(&pkgs(&["fail2ban"]), "fail2ban.service"));
        assert!(needed(&planned, &rules).is_empty());
    }
}
