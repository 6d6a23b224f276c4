//! SVC-ROOT-PROCESS: on the live host, no process of an application runs as root.

use super::discovery::Discovery;
use super::live::{Process, Processes};
use super::{app_units, is_app};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SVC-ROOT-PROCESS",
    name: "app-process-runs-as-root",
    family: Family::Services,
    severity: Severity::High,
    level: Level::Sme,
    title: "No running application process has root's rights",
    doc: RuleDoc {
        what: "On the live host: every process whose systemd unit (from /proc/PID/cgroup) is an \
               application unit (an app server, or a service working in /opt, /srv, /home or \
               /var/www), and every app-server or interpreter process (python, uvicorn, \
               gunicorn, node, java ...) whose working directory (/proc/PID/cwd) lies in a \
               discovered application directory, must run with an effective uid other than 0 \
               (/proc/PID/status). This is the running truth that SVC-RUNS-AS-ROOT judges in \
               the unit files: it also catches a unit edited but not restarted, and an app \
               started by hand from a root shell. Under --root the rule skips.",
        why: "A flaw in the application gives the attacker its process's rights: as root, the \
              whole machine (keys, other apps' databases, persistence in /etc).",
        remediation: "Run the app under its own account: `User=` and `Group=` in the unit (then \
                      `systemctl daemon-reload && systemctl restart UNIT`); stop processes \
                      started by hand as root and start them through their unit.",
        verify: "ps -o pid,user,unit,cmd -e | grep -E 'uvicorn|gunicorn|python|node'",
        references: &[
            "seed 000 §2 Principe du moindre privilège (« Tourne avec utilisateur avmvp (non-root) »)",
            "man proc(5): /proc/PID/status, /proc/PID/cgroup",
        ],
    },
    check,
};

/// Programs that run application code (matched on the command's words).
const RUNTIMES: &[&str] = &[
    "python",
    "uvicorn",
    "gunicorn",
    "daphne",
    "hypercorn",
    "celery",
    "node",
    "npm",
    "java",
    "ruby",
    "puma",
    "php",
    "php-fpm",
    "deno",
    "bun",
];

fn runs_app_code(p: &Process) -> bool {
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    std::iter::once(p.comm.clone())
        .chain(p.cmdline.iter().take(3).map(|w| base(w)))
        .any(|w| {
            RUNTIMES.iter().any(|r| {
                w == *r || w.starts_with(&format!("{r}3")) || w.starts_with(&format!("{r}2"))
            })
        })
}

fn check(ctx: &Ctx) -> Outcome {
    if let Err(skip) = ctx.require_live("the process table in /proc") {
        return skip;
    }
    let d = ctx.fact::<Discovery>();
    let app_unit_names: Vec<&str> = d
        .units
        .iter()
        .filter(|u| is_app(u))
        .map(|u| u.unit.name.as_str())
        .collect();
    if app_unit_names.is_empty() && d.apps.is_empty() {
        return match app_units(ctx) {
            Err(o) => o,
            Ok(_) => Outcome::not_applicable("no application found"),
        };
    }
    let procs = ctx.fact::<Processes>();
    if let Some(e) = &procs.error {
        return Outcome::error(format!("the process table could not be read: {e}"))
            .with(Evidence::file(e.path()));
    }
    let mut bad = Vec::new();
    let mut judged = 0usize;
    for p in &procs.list {
        let by_unit = p.unit.as_deref().filter(|u| app_unit_names.contains(u));
        let by_dir = if by_unit.is_none() && runs_app_code(p) {
            let cwd = ctx
                .host
                .read_link(&format!("/proc/{}/cwd", p.pid))
                .ok()
                .flatten();
            cwd.and_then(|c| {
                d.apps
                    .iter()
                    .find(|a| c == a.dir || c.starts_with(&format!("{}/", a.dir)))
                    .map(|a| (c.clone(), a.dir.clone()))
            })
        } else {
            None
        };
        if by_unit.is_none() && by_dir.is_none() {
            continue;
        }
        judged += 1;
        if p.euid != Some(0) {
            continue;
        }
        let mut note = match (by_unit, &by_dir) {
            (Some(u), _) => format!("unit {u}"),
            (None, Some((cwd, app))) => {
                format!("working directory {cwd} (application {app}), started outside its unit")
            }
            (None, None) => String::new(),
        };
        if let Some(u) = by_unit.and_then(|u| d.units.iter().find(|x| x.unit.name == u)) {
            if let Some(user) = u.user.as_deref().filter(|_| !u.runs_as_root()) {
                note.push_str(&format!(
                    "; the unit file says User={user}: it was changed but not restarted"
                ));
            }
        }
        note.push_str(&format!("; command: {}", p.command()));
        bad.push(
            Evidence::source("process")
                .key(p.label())
                .actual("uid 0 (root)")
                .expected("the application's own account")
                .note(note),
        );
    }
    if judged == 0 {
        return Outcome::pass("no application process is running");
    }
    if bad.is_empty() {
        Outcome::pass(format!("{judged} application processes run unprivileged"))
    } else {
        Outcome::fail(format!("{} application processes run as root", bad.len())).with_all(bad)
    }
}
