//! SVC-BIND-ALL: application servers listen on loopback (or a unix socket) behind the proxy.

use super::app_units;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SVC-BIND-ALL",
    name: "app-server-listens-on-all-interfaces",
    family: Family::Services,
    severity: Severity::High,
    level: Level::Sme,
    title: "Application servers listen on loopback only, behind the reverse proxy",
    doc: RuleDoc {
        what: "For each application unit, the addresses its app server binds, computed from \
               `ExecStart=` arguments (`--host`, `-b/--bind`, `runserver ADDR`), the unit's \
               environment and EnvironmentFile (`UVICORN_HOST`, `GUNICORN_CMD_ARGS`, gunicorn's \
               `PORT` rule), gunicorn's config file (`bind = ...`), and each server's default \
               (uvicorn, gunicorn, daphne, runserver: 127.0.0.1; `fastapi run`: 0.0.0.0). Any \
               address other than loopback or a unix socket fails.",
        why: "An app server reachable directly bypasses everything the reverse proxy adds: TLS, \
              security headers, rate limits, authentication (Cloudflare Access, BasicAuth) and \
              the logs fail2ban reads. ufw does not always stop it (Docker-published ports and \
              permissive rules are common).",
        remediation: "Bind to 127.0.0.1 (uvicorn --host 127.0.0.1, gunicorn -b 127.0.0.1:8000) \
                      or to a unix socket the proxy reads, in the unit (systemctl edit UNIT) or \
                      the server's config file; restart the unit.",
        verify: "ss -ltnp | grep -E ':8000|uvicorn|gunicorn' (must show 127.0.0.1); from another machine: curl -m 3 http://HOST:8000/ must fail",
        references: &[
            "seed 000 §1 and §3 (« Écoute UNIQUEMENT sur 127.0.0.1:8000 »)",
            "seed 000 Checklist (« Test d'accès backend direct (port 8000) - doit échouer »)",
            "uvicorn settings (--host), gunicorn settings (bind)",
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
        for b in server.binds.iter().filter(|b| b.is_exposed()) {
            let mut ev = Evidence::file(&b.origin.path)
                .key(format!("{} bind", server.kind.as_str()))
                .actual(b.addr.as_str())
                .expected("127.0.0.1 or a unix socket")
                .note(format!("unit {} ({})", u.unit.name, b.origin.how));
            if let Some(l) = b.origin.line {
                ev = ev.line(l);
            }
            if let Some(t) = &b.origin.text {
                ev = ev.snippet(t);
            }
            bad.push(ev);
        }
    }
    if judged == 0 {
        return Outcome::not_applicable("no application unit runs a recognised app server");
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{judged} app servers listen on loopback or a unix socket"
        ))
    } else {
        Outcome::fail(format!(
            "{} app server addresses are reachable from the network",
            bad.len()
        ))
        .with_all(bad)
    }
}
