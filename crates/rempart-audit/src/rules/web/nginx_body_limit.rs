//! WEB-NGINX-BODY-LIMIT: nginx keeps a bound on request bodies (`client_max_body_size` not 0).

use super::nginx::Nginx;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-NGINX-BODY-LIMIT",
    name: "nginx-request-body-unbounded",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "nginx bounds request bodies (client_max_body_size is not 0)",
    doc: RuleDoc {
        what: "No `client_max_body_size` in the loaded configuration (http, server or location) \
               is `0`, which disables the check. nginx's default, 1m, is a bound, so an unset \
               value passes.",
        why: "Unbounded uploads let one client fill the disk or tie up the application behind \
              the proxy, a cheap denial of service.",
        remediation: "Replace `client_max_body_size 0;` with the size the application needs \
                      (e.g. `client_max_body_size 10m;`) in that block; nginx -t && systemctl \
                      reload nginx.",
        verify: "nginx -T 2>/dev/null | grep -n client_max_body_size",
        references: &[
            "seed 002 Phase 2 §2 (« Limiter la taille des uploads », LimitRequestBody for Apache)",
            "nginx documentation: ngx_http_core_module client_max_body_size",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let nginx = ctx.fact::<Nginx>();
    let cfg = match nginx.require("nginx configuration") {
        Ok(c) => c,
        Err(o) => return o,
    };
    let all = cfg.all("client_max_body_size");
    let bad: Vec<_> = all
        .iter()
        .filter(|d| {
            d.arg(0)
                .is_some_and(|v| v.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']) == "0")
        })
        .map(|d| {
            d.evidence()
                .key("client_max_body_size")
                .actual("0 (unlimited)")
                .expected("a size such as 10m")
        })
        .collect();
    if bad.is_empty() {
        Outcome::pass(match all.len() {
            0 => "client_max_body_size unset (nginx default 1m)".to_string(),
            n => format!("{n} client_max_body_size setting(s), none unlimited"),
        })
    } else {
        Outcome::fail("request bodies are unbounded").with_all(bad)
    }
}
