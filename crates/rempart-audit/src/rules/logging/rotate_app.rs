//! LOG-ROTATE-APP: every application and server log found is rotated by logrotate.

use super::logrotate::{LogrotateConfig, MAIN};
use super::logs::AppLogs;
use crate::facts::{Packages, Units};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "LOG-ROTATE-APP",
    name: "app-logs-not-rotated",
    family: Family::Logging,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Application and server log files are rotated by logrotate",
    doc: RuleDoc {
        what: "Every log file found (units' `StandardOutput=append:FILE`, gunicorn's \
               `--access-logfile`/`--error-logfile` and config file, Django `LOGGING` file \
               handlers other than the self-rotating ones, the files in `/var/log/<app>/`, and \
               the `*.log` files of Apache, nginx, MariaDB/MySQL, PostgreSQL and Traefik) is \
               matched by a path or glob of a logrotate stanza, reading `/etc/logrotate.conf` \
               and what it includes (`/etc/logrotate.d`). logrotate itself must be installed \
               and not have its timer masked. Logs sent to journald are rotated by journald \
               and are not judged here.",
        why: "A log nobody rotates grows until the disk is full: the database stops writing, \
              the app fails, and the logs of an incident are truncated or lost. An attacker \
              can also fill the disk on purpose through a logged request.",
        remediation: "Add a stanza in /etc/logrotate.d/APP, e.g. `/var/log/observations/*.log { \
                      weekly rotate 12 compress delaycompress missingok notifempty create 0640 \
                      APPUSER adm postrotate systemctl kill -s HUP APP.service endscript }` (or \
                      `copytruncate` for apps that cannot reopen their files), and test it \
                      with `logrotate --debug /etc/logrotate.conf`.",
        verify: "sudo logrotate --debug /etc/logrotate.conf 2>&1 | grep -A2 'considering log /var/log/APP'",
        references: &[
            "seed 002 Phase 2 §4 Logs & rotation (logrotate pour Apache, MariaDB et logs Django dans /var/log/observations)",
            "seed 000 §8 Logs et audit",
            "man logrotate(8)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let logs = ctx.fact::<AppLogs>();
    if logs.logs.is_empty() {
        return Outcome::not_applicable("no application or server log file found");
    }
    let pkgs = ctx.fact::<Packages>();
    if pkgs.known() && !pkgs.is_installed("logrotate") {
        return Outcome::fail("logrotate is not installed: no log file is rotated").with(
            Evidence::file(crate::facts::packages::DPKG_STATUS)
                .key("logrotate")
                .actual("not installed")
                .expected("installed"),
        );
    }
    let units = ctx.fact::<Units>();
    if units.masked.contains("logrotate.timer") && !ctx.host.exists("/etc/cron.daily/logrotate") {
        return Outcome::fail("logrotate's timer is masked and no cron job runs it").with(
            Evidence::file("/etc/systemd/system/logrotate.timer")
                .key("logrotate.timer")
                .actual("masked")
                .expected("enabled"),
        );
    }
    let cfg = LogrotateConfig::load(ctx.host);
    let mut bad = Vec::new();
    let mut seen = Vec::new();
    for l in &logs.logs {
        match cfg.covering(&l.path) {
            Some(st) => seen.push(
                Evidence::file(&st.path)
                    .line(st.line)
                    .snippet(&st.text)
                    .key(&l.path)
                    .note(format!("rotates the log of {}", l.writer)),
            ),
            None => {
                let base = match &l.origin {
                    Some(o) => o.clone(),
                    None => Evidence::file(&l.path),
                };
                bad.push(
                    base.actual(format!("{} (written by {})", l.path, l.writer))
                        .expected(format!("a stanza in {MAIN} or /etc/logrotate.d")),
                );
            }
        }
    }
    let syntax: Vec<Evidence> = cfg
        .syntax_errors
        .iter()
        .map(|(p, l, m)| Evidence::file(p).line(*l).note(m.clone()))
        .collect();
    if !bad.is_empty() {
        return Outcome::fail(format!(
            "{} log file(s) not rotated by logrotate",
            bad.len()
        ))
        .with_all(bad)
        .with_all(syntax);
    }
    if let Some(e) = cfg.read_errors.first() {
        return Outcome::from(e.clone());
    }
    if !syntax.is_empty() {
        return Outcome::error("the logrotate configuration has syntax errors").with_all(syntax);
    }
    Outcome::pass(format!("{} log file(s) rotated", seen.len())).with_all(seen)
}
