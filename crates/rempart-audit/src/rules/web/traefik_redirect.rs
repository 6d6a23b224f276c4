//! WEB-TRAEFIK-REDIRECT: Traefik's port-80 entry points redirect to https.

use super::traefik::{tree::Node, Traefik};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-TRAEFIK-REDIRECT",
    name: "traefik-plain-http-served",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Traefik's plain-HTTP entry points redirect to https",
    doc: RuleDoc {
        what: "Every entry point of the static configuration listening on port 80 either has \
               `http.redirections.entryPoint.to` (scheme https, the default) or every router \
               attached to it (routers naming no entry point attach to all) uses a \
               `redirectScheme` middleware with scheme https. An entry point on port 80 with no \
               redirection and no router fails too: the next router without `entryPoints` will \
               be served in clear.",
        why: "Without a redirect, every site behind Traefik is also served in clear text, where \
              credentials and cookies can be read and altered on the way.",
        remediation:
            "In the static configuration: `entryPoints.web.http.redirections.entryPoint.to: \
                      websecure` and `.scheme: https` (flags: \
                      --entrypoints.web.http.redirections.entrypoint.to=websecure).",
        verify: "curl -sI http://your.site/ | head -3  # expect 301/308 and Location: https://",
        references: &[
            "seed 000 §1 (« HTTPS uniquement ») and §3 (« Port 80 : redirection HTTPS »)",
            "Traefik documentation: EntryPoints, http.redirections",
        ],
    },
    check,
};

fn port_of(address: &str) -> Option<u16> {
    address.split('/').next()?.rsplit(':').next()?.parse().ok()
}

fn check(ctx: &Ctx) -> Outcome {
    let traefik = ctx.fact::<Traefik>();
    let instances = match traefik.require("Traefik configuration") {
        Ok(i) => i,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    for inst in instances {
        for (name, ep) in inst.entrypoints() {
            let Some(addr) = ep.get("address").and_then(Node::str) else {
                continue;
            };
            if port_of(addr) != Some(80) {
                continue;
            }
            judged += 1;
            if let Some(to) = ep.path("http.redirections.entrypoint") {
                let scheme = to.get("scheme").and_then(Node::str).unwrap_or("https");
                if to.get("to").is_some() && scheme.eq_ignore_ascii_case("https") {
                    continue;
                }
            }
            let routers: Vec<_> = inst
                .routers()
                .into_iter()
                .filter(|r| inst.router_entrypoints(r).contains(name))
                .collect();
            let plain: Vec<String> = routers
                .iter()
                .filter(|r| {
                    let (mws, _) = inst.router_middlewares(r);
                    !mws.iter().any(|m| {
                        m.kind() == "redirectscheme"
                            && m.node
                                .path("redirectscheme.scheme")
                                .and_then(Node::str)
                                .is_some_and(|s| s.eq_ignore_ascii_case("https"))
                    })
                })
                .map(|r| r.name.to_string())
                .collect();
            if routers.is_empty() || !plain.is_empty() {
                bad.push(
                    inst.static_evidence(Some(ep))
                        .key(format!("entrypoints.{name}.http.redirections"))
                        .actual(if plain.is_empty() {
                            "none".to_string()
                        } else {
                            format!("none; routers served in clear: {}", plain.join(", "))
                        })
                        .expected("entryPoint.to a TLS entry point, scheme https")
                        .note(inst.origin.as_str()),
                );
            }
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{judged} port-80 entry point(s), all redirect to https"
        ))
    } else {
        Outcome::fail("a Traefik entry point serves plain HTTP").with_all(bad)
    }
}
