//! IPS-BACKEND: the sshd jail reads a log source that exists on Debian 12 (the journal).

use super::ips::{sshd_subject, Ips, Subject};
use crate::facts::packages::DPKG_STATUS;
use crate::facts::Packages;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "IPS-BACKEND",
    name: "sshd-jail-reads-no-log",
    family: Family::Intrusion,
    severity: Severity::High,
    level: Level::Sme,
    title: "The sshd jail reads a log that exists (systemd journal on Debian 12)",
    doc: RuleDoc {
        what: "For an enabled fail2ban sshd jail: with `backend = systemd` (fail2ban reads \
               sshd's messages from the journal), python3-systemd must be installed. With a \
               file backend (`auto`, `pyinotify`, `polling`, `gamin`), every `logpath` must \
               exist, and a syslog file (/var/log/auth.log, secure, messages, syslog) must be \
               written by an installed syslog daemon (rsyslog, syslog-ng ...). Debian 12 has no \
               syslog daemon by default and fail2ban 1.0.2-2's defaults are `backend = auto` \
               with `logpath = /var/log/auth.log` (jail.conf, paths-common.conf): fail2ban \
               refuses to start (\"Have not found any log file for sshd jail\", Debian bug \
               #1037437; fixed in 1.1.0-3 for trixie). rempart guard reads the journal itself.",
        why: "An sshd jail without a log bans nobody. With the Debian 12 defaults, fail2ban does \
              not even start, and with an auth.log left over from an upgrade it watches a file \
              nothing writes any more.",
        remediation: "In /etc/fail2ban/jail.d/sshd.local: `[sshd]` `backend = systemd` (and no \
                      logpath), apt install python3-systemd, systemctl restart fail2ban. Or \
                      install rsyslog if you want /var/log/auth.log.",
        verify: "fail2ban-client -d | grep \"'add', 'sshd'\"; fail2ban-client status sshd",
        references: &[
            "seed 002 annex jail.d/local.conf (logpath = /var/log/auth.log: broken on Debian 12 without rsyslog)",
            "Debian bug #1037437; fail2ban issue #3292",
            "man jail.conf(5) (backend)",
        ],
    },
    check,
};

/// Files written by a syslog daemon, not by the services themselves.
const SYSLOG_FILES: &[&str] = &[
    "/var/log/auth.log",
    "/var/log/secure",
    "/var/log/messages",
    "/var/log/syslog",
];

const SYSLOG_DAEMONS: &[&str] = &[
    "rsyslog",
    "syslog-ng",
    "syslog-ng-core",
    "busybox-syslogd",
    "inetutils-syslogd",
    "sysklogd",
];

fn check(ctx: &Ctx) -> Outcome {
    let ips = ctx.fact::<Ips>();
    let jail = match sshd_subject(ctx, &ips) {
        Ok(Subject::Guard(ev)) => {
            return Outcome::pass("rempart guard reads sshd's messages from the journal").with(ev)
        }
        Ok(Subject::Fail2ban(j, _)) => j,
        Err(o) => return o,
    };
    if !jail.is_enabled() {
        return Outcome::skip("the sshd jail is not enabled (see IPS-SSHD-JAIL)");
    }
    let pkgs = ctx.fact::<Packages>();
    let backend = jail.backend_name();
    let mut evidence = match &jail.backend {
        Some(b) => b.evidence("backend"),
        None => vec![Evidence::source("default").key("backend").actual("auto")],
    };
    match backend.as_str() {
        "systemd" => {
            if pkgs.known() && !pkgs.is_installed("python3-systemd") {
                evidence.push(
                    Evidence::file(DPKG_STATUS)
                        .key("python3-systemd")
                        .actual("not installed")
                        .expected("installed"),
                );
                return Outcome::fail(
                    "backend = systemd but python3-systemd is not installed: fail2ban cannot read \
                     the journal",
                )
                .with_all(evidence);
            }
            Outcome::pass("the sshd jail reads the systemd journal").with_all(evidence)
        }
        "auto" | "pyinotify" | "polling" | "gamin" => {
            let paths = jail.logpaths();
            if let Some(lp) = &jail.logpath {
                evidence.extend(lp.evidence("logpath"));
            }
            if paths.is_empty() {
                return Outcome::fail(format!(
                    "backend = {backend} needs a logpath and the sshd jail has none"
                ))
                .with_all(evidence);
            }
            let daemon = SYSLOG_DAEMONS.iter().find(|d| pkgs.is_installed(d));
            let mut problems = Vec::new();
            for p in &paths {
                let exists = match ctx.host.glob(p) {
                    Ok(found) => !found.is_empty(),
                    Err(e) => return Outcome::from(e),
                };
                let syslog = SYSLOG_FILES.contains(&p.as_str());
                if syslog && pkgs.known() && daemon.is_none() {
                    problems.push(format!(
                        "{p} is written by a syslog daemon and none is installed (Debian 12 \
                         keeps sshd's messages in the journal){}",
                        if exists { "; the file is stale" } else { "" }
                    ));
                } else if !(exists || (syslog && daemon.is_some())) {
                    problems.push(format!("{p} does not exist"));
                }
            }
            if problems.is_empty() {
                return Outcome::pass(format!(
                    "backend = {backend} reads {}{}",
                    paths.join(", "),
                    daemon
                        .map(|d| format!(", written by {d}"))
                        .unwrap_or_default()
                ))
                .with_all(evidence);
            }
            if daemon.is_none() && pkgs.known() {
                evidence.push(
                    Evidence::file(DPKG_STATUS)
                        .key("syslog daemon")
                        .actual("none installed")
                        .note("rsyslog is not installed by default on Debian 12"),
                );
            }
            Outcome::fail(format!(
                "the sshd jail uses backend = {backend} but {}: fail2ban bans nothing (or refuses \
                 to start); use backend = systemd",
                problems.join("; ")
            ))
            .with_all(evidence)
        }
        other => Outcome::fail(format!("unknown fail2ban backend `{other}`")).with_all(evidence),
    }
}
