//! WEB-TRAEFIK-DASHBOARD-AUTH: a router exposing the Traefik dashboard goes through an
//! authentication middleware.

use super::traefik::{Instance, Traefik};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

/// Middleware types that authenticate.
pub const AUTH_KINDS: &[&str] = &["basicauth", "digestauth", "forwardauth"];

pub const RULE: Rule = Rule {
    id: "WEB-TRAEFIK-DASHBOARD-AUTH",
    name: "traefik-dashboard-unauthenticated",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "The Traefik dashboard is only reachable through authentication",
    doc: RuleDoc {
        what: "Every router of the dynamic configuration (file provider files, and Docker labels \
               of compose services when the docker provider is on) whose service is \
               `api@internal` or `dashboard@internal` has a basicAuth, digestAuth or forwardAuth \
               middleware — its own, through a chain, or from its entry point's \
               `http.middlewares`. A middleware name that resolves to nothing does not count.",
        why: "The dashboard and API show every route, backend address and middleware; exposed \
              without authentication they map the whole host for an attacker.",
        remediation: "Add a middleware such as `traefik.http.middlewares.auth.basicauth.users=admin:$$apr1$$...` \
                      (htpasswd -nB admin) and list it in the dashboard router's `middlewares`; or \
                      restrict the router to a VPN-only entry point.",
        verify: "curl -sI https://traefik.your.site/dashboard/  # expect 401",
        references: &[
            "seed 001 §3 fail2ban custom jails (traefik-auth: HTTP 401/403 detection)",
            "Traefik documentation: API & Dashboard (securing the dashboard)",
        ],
    },
    check,
};

fn judge(inst: &Instance, bad: &mut Vec<crate::model::Evidence>) -> usize {
    let mut n = 0;
    for r in inst.routers() {
        let Some(svc) = r.node.get("service") else {
            continue;
        };
        let name = svc.str().unwrap_or("").to_ascii_lowercase();
        if name != "api@internal" && name != "dashboard@internal" {
            continue;
        }
        n += 1;
        let (mws, missing) = inst.router_middlewares(&r);
        if mws.iter().any(|m| AUTH_KINDS.contains(&m.kind())) {
            continue;
        }
        let mut ev = r
            .doc
            .evidence(svc)
            .key(format!("http.routers.{}.middlewares", r.name))
            .actual(if mws.is_empty() {
                "none".to_string()
            } else {
                mws.iter()
                    .map(|m| format!("{} ({})", m.name, m.kind()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .expected("basicAuth, digestAuth or forwardAuth");
        if !missing.is_empty() {
            ev = ev.note(format!("middlewares not found: {}", missing.join(", ")));
        }
        bad.push(ev);
    }
    n
}

fn check(ctx: &Ctx) -> Outcome {
    let traefik = ctx.fact::<Traefik>();
    let instances = match traefik.require("Traefik configuration") {
        Ok(i) => i,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut routed = 0;
    for inst in instances {
        if inst.api().is_none() {
            continue;
        }
        routed += judge(inst, &mut bad);
    }
    if !bad.is_empty() {
        return Outcome::fail("the Traefik dashboard is routed without authentication")
            .with_all(bad);
    }
    Outcome::pass(match routed {
        0 => "the dashboard is not routed (API disabled or no router on api@internal)".to_string(),
        n => format!("{n} dashboard router(s), all authenticated"),
    })
}
