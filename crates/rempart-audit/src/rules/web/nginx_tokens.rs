//! WEB-NGINX-TOKENS: nginx hides its version (`server_tokens off`).

use super::nginx::{last, Nginx};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-NGINX-TOKENS",
    name: "nginx-version-disclosed",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Sme,
    title: "nginx hides its version (server_tokens off)",
    doc: RuleDoc {
        what: "The `http` block of the loaded configuration (nginx.conf and what it includes) \
               sets `server_tokens off`, and no `server` or `location` sets it back to `on` or \
               `build`. Unset means nginx's default, `on`; Debian ships the line commented out.",
        why: "The Server header and error pages give the exact nginx version to every scanner, \
              which lets attackers match it against known vulnerabilities without probing.",
        remediation: "Uncomment `server_tokens off;` in the http block of /etc/nginx/nginx.conf; \
                      nginx -t && systemctl reload nginx.",
        verify: "curl -sI https://your.site/ | grep -i '^server:'  # expect `Server: nginx`",
        references: &[
            "nginx documentation: ngx_http_core_module server_tokens",
            "CIS NGINX Benchmark 2.5.1",
            "seed 002 Phase 2 §2 (the Apache equivalent: ServerTokens Prod)",
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
    let Some(http) = cfg.http() else {
        return Outcome::pass("no http block (nginx serves no HTTP)");
    };
    let mut bad = Vec::new();
    match last(http.kids(), "server_tokens") {
        Some(d) if d.arg(0) == Some("off") => {}
        Some(d) => bad.push(
            d.evidence()
                .key("server_tokens")
                .actual(d.arg(0).unwrap_or(""))
                .expected("off"),
        ),
        None => bad.push(
            http.evidence()
                .key("server_tokens")
                .actual("unset (on)")
                .expected("off"),
        ),
    }
    for d in cfg.all("server_tokens") {
        if d.arg(0) != Some("off")
            && !bad
                .iter()
                .any(|e: &Evidence| e.line == Some(d.line) && e.path.as_deref() == Some(&*d.file))
        {
            bad.push(
                d.evidence()
                    .key("server_tokens")
                    .actual(d.arg(0).unwrap_or(""))
                    .expected("off"),
            );
        }
    }
    if bad.is_empty() {
        Outcome::pass("server_tokens off")
    } else {
        Outcome::fail("nginx discloses its version").with_all(bad)
    }
}
