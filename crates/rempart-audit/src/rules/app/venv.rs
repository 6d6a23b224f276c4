//! APP-PYTHON-VENV: Python applications run from a virtualenv, not from pip installs into the
//! system.

use crate::host::Host;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::pyread::eval::dirname;
use crate::rules::services::appserver::ServerKind;
use crate::rules::services::discovery::Discovery;
use crate::rules::services::unit::split_command;

pub const RULE: Rule = Rule {
    id: "APP-PYTHON-VENV",
    name: "python-app-outside-virtualenv",
    family: Family::App,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Python applications run from a virtualenv",
    doc: RuleDoc {
        what: "Every unit that runs a Python app server (uvicorn, gunicorn, hypercorn, daphne, \
               the fastapi and flask CLIs, `python -m ...`) starts it from a virtualenv: the \
               program's directory sits in a tree holding `pyvenv.cfg`. A program in \
               `/usr/local/bin` or `~/.local/bin`, or the system `python3` while packages were \
               pip-installed into `/usr/local/lib/python3*/dist-packages`, fails. A server \
               from Debian's own packages (`/usr/bin/gunicorn`) with no pip-installed \
               packages beside it passes: apt keeps it updated.",
        why: "pip installs into the system tree mix the app's dependencies with Debian's, \
              need root (so a malicious package runs as root at install time), and break \
              on the next apt upgrade; the app's dependencies cannot be pinned, listed or \
              audited apart.",
        remediation: "python3 -m venv /opt/APP/venv && /opt/APP/venv/bin/pip install -r \
                      requirements.txt, then point ExecStart at /opt/APP/venv/bin/SERVER and \
                      restart the unit; remove the system-wide pip installs.",
        verify: "systemctl cat UNIT | grep ExecStart; ls /opt/APP/venv/pyvenv.cfg",
        references: &[
            "seed 002 Phase 2 §5 (Utilise un venv et un requirements.txt figé)",
            "seed 000 §9 (source venv/bin/activate; pip install -r requirements.txt)",
            "PEP 668 (externally managed environments)",
        ],
    },
    check,
};

fn in_venv(host: &Host, program: &str) -> bool {
    let mut dir = dirname(program);
    for _ in 0..3 {
        if dir.is_empty() || dir == "/" {
            return false;
        }
        if host.exists(&format!("{dir}/pyvenv.cfg")) {
            return true;
        }
        dir = dirname(&dir);
    }
    false
}

/// pip-installed packages in the system's /usr/local site directories.
fn system_pip_packages(host: &Host) -> Option<String> {
    let dirs = host
        .glob("/usr/local/lib/python3*/dist-packages")
        .unwrap_or_default();
    dirs.into_iter().find(|d| {
        host.read_dir(d)
            .ok()
            .flatten()
            .is_some_and(|names| names.iter().any(|n| n.ends_with(".dist-info")))
    })
}

fn check(ctx: &Ctx) -> Outcome {
    let d = ctx.fact::<Discovery>();
    let mut bad = Vec::new();
    let mut seen = Vec::new();
    let mut judged = 0;
    for u in &d.units {
        let Some(server) = &u.server else { continue };
        if server.kind == ServerKind::DockerCompose {
            continue;
        }
        let Some(exec) = u.unit.all("Service", "ExecStart").last().copied() else {
            continue;
        };
        let words = split_command(&exec.value);
        let Some(program) = words.first() else {
            continue;
        };
        let at = Evidence::file(&exec.path)
            .line(exec.line)
            .snippet(&exec.text)
            .key("ExecStart")
            .note(format!("unit {}", u.unit.name));
        if !program.starts_with('/') {
            // Found through PATH: nothing to judge from the host.
            continue;
        }
        judged += 1;
        if in_venv(ctx.host, program) {
            seen.push(at.actual("virtualenv"));
            continue;
        }
        let user_local = program.starts_with("/usr/local/") || program.contains("/.local/bin/");
        if user_local {
            bad.push(
                at.actual(format!("{program} (pip-installed outside a virtualenv)"))
                    .expected("a virtualenv"),
            );
            continue;
        }
        match system_pip_packages(ctx.host) {
            Some(dir) => bad.push(
                at.actual(format!("{program} with pip packages in {dir}"))
                    .expected("a virtualenv"),
            ),
            None => seen.push(at.actual(format!("{program} (Debian packages)"))),
        }
    }
    if !bad.is_empty() {
        return Outcome::fail("a Python application runs outside a virtualenv").with_all(bad);
    }
    if judged == 0 {
        return Outcome::not_applicable("no unit runs a Python app server by absolute path");
    }
    Outcome::pass(format!(
        "{judged} Python app server(s) run from a virtualenv or Debian packages"
    ))
    .with_all(seen)
}
