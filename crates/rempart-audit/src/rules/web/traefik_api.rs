//! WEB-TRAEFIK-API-INSECURE: the Traefik API and dashboard are not served unauthenticated
//! (`api.insecure`).

use super::traefik::Traefik;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-TRAEFIK-API-INSECURE",
    name: "traefik-api-insecure",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Traefik does not serve its API in insecure mode (api.insecure)",
    doc: RuleDoc {
        what: "The static configuration of every Traefik found (/etc/traefik/traefik.{yml,toml}, \
               a unit's --configFile or flags, or a compose service running the traefik image: \
               its flags or the file its volumes mount) does not set `api.insecure` to true \
               (`--api.insecure=true`, `api: {insecure: true}`).",
        why: "Insecure mode publishes the API and dashboard on the `traefik` entry point (port \
              8080) without any authentication: anyone who reaches the port sees every route, \
              backend address and middleware of the host.",
        remediation: "Remove `api.insecure`; expose the dashboard through a router on \
                      `api@internal` with an authentication middleware (basicAuth, forwardAuth) \
                      on a TLS entry point, or not at all.",
        verify: "curl -s http://127.0.0.1:8080/api/rawdata  # must fail",
        references: &[
            "seed 001 Monitoring (Traefik 8080 metrics, dashboards) and fail2ban traefik-auth",
            "seed 000 §1 Architecture (Traefik reverse proxy)",
            "Traefik documentation: API & Dashboard (insecure mode)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let traefik = ctx.fact::<Traefik>();
    let instances = match traefik.require("Traefik configuration") {
        Ok(i) => i,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    for inst in instances {
        let Some(api) = inst.api() else { continue };
        if let Some(n) = api.get("insecure").filter(|n| n.truthy()) {
            bad.push(
                inst.static_evidence(Some(n))
                    .key("api.insecure")
                    .actual(true)
                    .expected(false)
                    .note(inst.origin.as_str()),
            );
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} Traefik instance(s), API not insecure",
            instances.len()
        ))
    } else {
        Outcome::fail("the Traefik API and dashboard are served without authentication")
            .with_all(bad)
    }
}
