//! WEB-TRAEFIK-HEADERS: every TLS router of Traefik goes through a headers middleware that sets
//! the security headers.

use super::headers::{self, HeaderSeen};
use super::traefik::{tree::Node, Middleware, Traefik};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-TRAEFIK-HEADERS",
    name: "traefik-security-headers-missing",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Traefik TLS routers send X-Frame-Options, X-Content-Type-Options, Referrer-Policy and HSTS",
    doc: RuleDoc {
        what: "Every router that terminates TLS (a `tls` section, or an entry point with `http.tls`), \
               other than the dashboard's, has — through its own middlewares, chains or its \
               entry points' `http.middlewares` — `headers` middlewares that together give: \
               frameDeny or customFrameOptionsValue DENY/SAMEORIGIN (or a \
               contentSecurityPolicy with frame-ancestors), contentTypeNosniff, a \
               referrerPolicy other than unsafe-url, and stsSeconds of at least 15768000. \
               `customResponseHeaders` count too. When the docker provider is on and no router \
               is found in compose labels or files, the rule skips: routers may come from \
               containers it cannot see.",
        why: "These headers stop clickjacking, MIME sniffing, URL leaks and SSL stripping for \
              every application behind the proxy, whatever each application does.",
        remediation: "Define a middleware, e.g. `http.middlewares.secure.headers: {frameDeny: \
                      true, contentTypeNosniff: true, referrerPolicy: \
                      strict-origin-when-cross-origin, stsSeconds: 63072000, \
                      stsIncludeSubdomains: true}`, and attach it to the TLS entry point \
                      (`entryPoints.websecure.http.middlewares: [secure@file]`) or each router.",
        verify: "curl -sI https://your.site/ | grep -iE 'x-frame|x-content|referrer|strict-transport'",
        references: &[
            "seed 000 §1 (« Headers de sécurité » in Traefik), §4 (HSTS), §7 (XSS: headers via Traefik)",
            "Traefik documentation: Headers middleware",
            "OWASP Secure Headers Project",
        ],
    },
    check,
};

/// The response headers a headers middleware sets.
pub fn headers_of(m: &Middleware<'_>) -> Vec<HeaderSeen> {
    let Some(h) = m.node.get("headers") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut add = |name: &str, value: String, n: &Node| {
        out.push(HeaderSeen::at(name, &value, m.doc.evidence(n)));
    };
    for (k, n) in h.entries() {
        let v = n.str().unwrap_or("").to_string();
        match k.as_str() {
            "framedeny" if n.truthy() => add("x-frame-options", "DENY".into(), n),
            "customframeoptionsvalue" => add("x-frame-options", v, n),
            "contenttypenosniff" if n.truthy() => {
                add("x-content-type-options", "nosniff".into(), n)
            }
            "referrerpolicy" => add("referrer-policy", v, n),
            "contentsecuritypolicy" => add("content-security-policy", v, n),
            "stsseconds" => add("strict-transport-security", format!("max-age={v}"), n),
            "customresponseheaders" => {
                for (hk, hn) in n.entries() {
                    add(hk, hn.str().unwrap_or("").to_string(), hn);
                }
            }
            _ => {}
        }
    }
    out
}

fn check(ctx: &Ctx) -> Outcome {
    let traefik = ctx.fact::<Traefik>();
    let instances = match traefik.require("Traefik configuration") {
        Ok(i) => i,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    let mut docker_unseen = false;
    for inst in instances {
        let routers = inst.routers();
        if routers.is_empty()
            && inst
                .static_root()
                .and_then(|r| r.path("providers.docker"))
                .is_some()
        {
            docker_unseen = true;
        }
        for r in routers {
            let svc = r.node.get("service").and_then(Node::str).unwrap_or("");
            if svc.ends_with("@internal") || !inst.router_tls(&r) {
                continue;
            }
            judged += 1;
            let (mws, _) = inst.router_middlewares(&r);
            let hs: Vec<HeaderSeen> = mws.iter().flat_map(headers_of).collect();
            for p in headers::judge(&hs, true) {
                let at = r.node.get("middlewares").unwrap_or(r.node);
                bad.push(
                    p.evidence(r.doc.evidence(at))
                        .note(format!("router {} ({})", r.name, inst.origin)),
                );
            }
        }
    }
    if !bad.is_empty() {
        return Outcome::fail(format!("{} missing or weak security header(s)", bad.len()))
            .with_all(bad);
    }
    if judged == 0 && docker_unseen {
        return Outcome::skip("no router found; the docker provider's routers come from container labels not in a compose file here");
    }
    Outcome::pass(format!("{judged} TLS router(s) send the security headers"))
}
