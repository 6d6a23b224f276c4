//! SVC-DEV-MODE: no development server or auto-reload in production.

use super::app_units;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SVC-DEV-MODE",
    name: "development-server-in-production",
    family: Family::Services,
    severity: Severity::High,
    level: Level::Sme,
    title: "No development server or auto-reload runs in production",
    doc: RuleDoc {
        what: "Application units do not run a development server (`manage.py runserver`, \
               `flask run`, `fastapi dev`) and do not pass development flags (`--reload`, \
               `--debug`, gunicorn `reload = True`).",
        why: "Development servers are single-threaded, unhardened and often print debug pages \
              with settings and tracebacks; auto-reload watches the code tree, so anyone who can \
              write a file there restarts the service with their code.",
        remediation: "Run the app under a production server (gunicorn/uvicorn workers) without \
                      --reload or --debug, behind the reverse proxy; edit ExecStart with \
                      systemctl edit --full UNIT and restart it.",
        verify: "systemctl cat UNIT | grep -E 'runserver|--reload|--debug|fastapi dev|flask run'",
        references: &[
            "seed 002 Phase 1 §5 (DEBUG off, « provoque une erreur contrôlée »)",
            "Django docs: runserver is not for production; uvicorn docs: --reload is for development",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let (d, idx) = match app_units(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    for &i in &idx {
        let u = &d.units[i];
        let Some(server) = &u.server else { continue };
        judged += 1;
        for f in &server.dev_flags {
            let mut ev = Evidence::file(&f.origin.path)
                .key("ExecStart")
                .actual(f.flag.as_str())
                .expected("a production server without reload")
                .note(format!("unit {}", u.unit.name));
            if let Some(l) = f.origin.line {
                ev = ev.line(l);
            }
            if let Some(t) = &f.origin.text {
                ev = ev.snippet(t);
            }
            bad.push(ev);
        }
    }
    if judged == 0 {
        return Outcome::not_applicable("no application unit runs a recognised app server");
    }
    if bad.is_empty() {
        Outcome::pass(format!("{judged} app servers run in production mode"))
    } else {
        Outcome::fail("a development server or auto-reload runs in production").with_all(bad)
    }
}
