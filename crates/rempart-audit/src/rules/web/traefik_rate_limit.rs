//! WEB-TRAEFIK-RATE-LIMIT: Traefik limits request rates on at least one router or entry point.

use super::traefik::Traefik;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-TRAEFIK-RATE-LIMIT",
    name: "traefik-no-rate-limit",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Traefik rate-limits requests (rateLimit middleware in use)",
    doc: RuleDoc {
        what: "Some router or entry point with routers uses a `rateLimit` middleware (directly \
               or through a chain). A rateLimit middleware defined but attached to nothing \
               does not count. Skips when no router is visible and the docker provider is on.",
        why: "Without a rate limit one client (or a stolen agent token) can flood an endpoint \
              such as an ingestion API or a login form; the proxy is the cheapest place to \
              stop it.",
        remediation: "Define `http.middlewares.ratelimit.rateLimit: {average: 50, burst: 100}` \
                      and attach it to the routers that take writes or logins (e.g. /ingest).",
        verify: "for i in $(seq 200); do curl -s -o /dev/null -w '%{http_code}\\n' https://your.site/ingest; done | sort | uniq -c  # expect some 429",
        references: &[
            "seed 000 §7 DDoS (« Traefik : Rate limiting possible ; configurer rate limiting sur /ingest ») and Recommandations PME (« Activer rate limiting »)",
            "Traefik documentation: RateLimit middleware",
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
    let mut routers = 0;
    let mut docker_unseen = false;
    for inst in instances {
        let rs = inst.routers();
        if rs.is_empty()
            && inst
                .static_root()
                .and_then(|r| r.path("providers.docker"))
                .is_some()
        {
            docker_unseen = true;
        }
        for r in rs {
            routers += 1;
            let (mws, _) = inst.router_middlewares(&r);
            if let Some(m) = mws.iter().find(|m| m.kind() == "ratelimit") {
                return Outcome::pass(format!("router {} is rate-limited by {}", r.name, m.name));
            }
        }
    }
    if routers == 0 && docker_unseen {
        return Outcome::skip("no router found; the docker provider's routers come from container labels not in a compose file here");
    }
    if routers == 0 {
        return Outcome::not_applicable(
            "Traefik routes nothing here (no router in its configuration)",
        );
    }
    let inst = &instances[0];
    Outcome::fail(format!("none of {routers} router(s) is rate-limited")).with(
        inst.static_evidence(None)
            .key("http.middlewares.*.rateLimit")
            .actual("not attached to any router")
            .expected("a rateLimit middleware on the routers that take writes or logins"),
    )
}
