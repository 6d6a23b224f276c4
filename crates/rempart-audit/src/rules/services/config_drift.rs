//! SVC-CONFIG-DRIFT: on the live host, sshd, nginx, Apache and PostgreSQL run the configuration
//! their files hold (no file changed after the daemon last loaded it).

use super::live::{Process, Processes};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SVC-CONFIG-DRIFT",
    name: "daemon-runs-stale-config",
    family: Family::Services,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Running daemons have loaded their current configuration files",
    doc: RuleDoc {
        what: "On the live host: for each running sshd, nginx, Apache (apache2/httpd) and \
               PostgreSQL main process, the time it last loaded its configuration is compared \
               with the modification time of its configuration files. That time is the start \
               of the main process (boot time from /proc/stat plus the start time in \
               /proc/PID/stat); for nginx and Apache, whose reload starts new workers, the \
               start of the newest worker. Files judged: /etc/ssh/sshd_config and \
               sshd_config.d/*.conf; nginx.conf, conf.d/*.conf, sites-enabled/*, \
               modules-enabled/*; apache2.conf, ports.conf, envvars, conf-enabled, mods-enabled, \
               sites-enabled; the cluster's postgresql.conf and conf.d (from the postgres \
               command line, else every cluster). A file modified more than a second after the \
               load fails. A reload of sshd or PostgreSQL (SIGHUP) leaves no trace in /proc: \
               after one, the rule keeps reporting until the daemon restarts. Under --root the \
               rule skips.",
        why: "A hardening step that was written but never applied protects nothing: \
              `PasswordAuthentication no` in sshd_config while the running sshd still accepts \
              passwords, `server_tokens off` while nginx still announces its version, \
              `listen_addresses = 'localhost'` while PostgreSQL still listens on every \
              address. Audits of files alone report such a host as fixed.",
        remediation: "Check the configuration and restart (or reload) the daemon: `sshd -t && \
                      systemctl restart ssh` (open sessions stay), `nginx -t && systemctl \
                      reload nginx`, `apachectl configtest && systemctl reload apache2`, \
                      `systemctl restart postgresql` (listen_addresses and ssl need a restart).",
        verify: "ps -o pid,lstart,cmd -C sshd,nginx,apache2,postgres; ls -l --time-style=full-iso /etc/ssh/sshd_config /etc/nginx/nginx.conf",
        references: &[
            "seed 002 Phase 1 §4 (« sudo systemctl restart ssh » after editing sshd_config)",
            "seed 002 Phase 2 §2 (« apachectl configtest puis redémarrer »)",
            "man proc(5): /proc/PID/stat starttime, /proc/stat btime",
        ],
    },
    check,
};

/// One daemon family: its process names, whether a reload starts new workers, and its files.
struct Daemon {
    name: &'static str,
    comms: &'static [&'static str],
    workers_reload: bool,
    files: &'static [&'static str],
}

const DAEMONS: &[Daemon] = &[
    Daemon {
        name: "sshd",
        comms: &["sshd"],
        workers_reload: false,
        files: &["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/*.conf"],
    },
    Daemon {
        name: "nginx",
        comms: &["nginx"],
        workers_reload: true,
        files: &[
            "/etc/nginx/nginx.conf",
            "/etc/nginx/conf.d/*.conf",
            "/etc/nginx/sites-enabled/*",
            "/etc/nginx/modules-enabled/*.conf",
        ],
    },
    Daemon {
        name: "apache2",
        comms: &["apache2", "httpd"],
        workers_reload: true,
        files: &[
            "/etc/apache2/apache2.conf",
            "/etc/apache2/ports.conf",
            "/etc/apache2/envvars",
            "/etc/apache2/conf-enabled/*.conf",
            "/etc/apache2/mods-enabled/*.conf",
            "/etc/apache2/mods-enabled/*.load",
            "/etc/apache2/sites-enabled/*.conf",
        ],
    },
    Daemon {
        name: "postgres",
        comms: &["postgres", "postmaster"],
        workers_reload: false,
        files: &[
            "/etc/postgresql/*/*/postgresql.conf",
            "/etc/postgresql/*/*/conf.d/*.conf",
        ],
    },
];

/// Main processes of a daemon: processes with one of its names whose parent is not one.
fn masters<'a>(procs: &'a Processes, d: &Daemon) -> Vec<&'a Process> {
    let is_d = |p: &Process| d.comms.contains(&p.comm.as_str());
    procs
        .list
        .iter()
        .filter(|p| is_d(p))
        .filter(|p| !procs.get(p.ppid).is_some_and(is_d))
        .collect()
}

/// The files a master loaded: for PostgreSQL, those of its own cluster when its command line
/// names `config_file=` or `-D`.
fn files_of(ctx: &Ctx, d: &Daemon, master: &Process) -> Vec<String> {
    let mut patterns: Vec<String> = d.files.iter().map(|s| s.to_string()).collect();
    if d.name == "postgres" {
        let conf = master
            .cmdline
            .iter()
            .find_map(|w| w.strip_prefix("config_file="))
            .and_then(|f| f.rsplit_once('/').map(|(dir, _)| dir.to_string()));
        if let Some(dir) = conf {
            patterns = vec![
                format!("{dir}/postgresql.conf"),
                format!("{dir}/conf.d/*.conf"),
            ];
        }
    }
    let mut out = Vec::new();
    for p in patterns {
        if let Ok(found) = ctx.host.glob(&p) {
            out.extend(found);
        }
    }
    out
}

fn check(ctx: &Ctx) -> Outcome {
    if let Err(skip) = ctx.require_live("process start times in /proc") {
        return skip;
    }
    let procs = ctx.fact::<Processes>();
    let Some(boot) = procs.boot_time else {
        return if procs.list.is_empty() {
            Outcome::skip("no process table under /proc")
        } else {
            Outcome::error("/proc/stat has no btime line: process start times are unknown")
                .with(Evidence::file("/proc/stat"))
        };
    };
    let mut bad = Vec::new();
    let mut judged = Vec::new();
    for d in DAEMONS {
        for m in masters(&procs, d) {
            let loaded = if d.workers_reload {
                procs
                    .children(m.pid)
                    .filter(|c| c.comm == m.comm)
                    .map(|c| c.start_ticks)
                    .max()
                    .unwrap_or(m.start_ticks)
                    .max(m.start_ticks)
            } else {
                m.start_ticks
            };
            let loaded_at =
                boot.saturating_add((loaded / super::live::processes::TICKS_PER_SECOND) as i64);
            judged.push(format!("{} pid {}", d.name, m.pid));
            for f in files_of(ctx, d, m) {
                let Ok(Some(meta)) = ctx.host.metadata(&f) else {
                    continue;
                };
                if meta.mtime > loaded_at + 1 {
                    bad.push(
                        Evidence::file(&f)
                            .with_source("process")
                            .key(format!("{} pid {}", d.name, m.pid))
                            .actual(format!("file modified {}", show_time(meta.mtime)))
                            .expected(format!(
                                "not after the configuration was loaded ({})",
                                show_time(loaded_at)
                            ))
                            .note(format!(
                                "{} has not loaded this version; {}",
                                d.name,
                                if d.workers_reload {
                                    "reload it"
                                } else {
                                    "restart it"
                                }
                            )),
                    );
                }
            }
        }
    }
    if judged.is_empty() {
        return Outcome::not_applicable("no sshd, nginx, Apache or PostgreSQL process is running");
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} run the configuration their files hold",
            judged.join(", ")
        ))
    } else {
        Outcome::fail(format!(
            "{} configuration files changed after their daemon loaded them",
            bad.len()
        ))
        .with_all(bad)
    }
}

fn show_time(epoch: i64) -> String {
    jiff::Timestamp::from_second(epoch)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| format!("{epoch} s after the epoch"))
}
