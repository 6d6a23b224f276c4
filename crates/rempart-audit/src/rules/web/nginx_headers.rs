//! WEB-NGINX-HEADERS: every TLS server of nginx sends the security headers, in every location.

use super::headers::{self, HeaderSeen};
use super::nginx::{add_headers, Directive, Nginx};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-NGINX-HEADERS",
    name: "nginx-security-headers-missing",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "nginx sites send X-Frame-Options, X-Content-Type-Options, Referrer-Policy and HSTS",
    doc: RuleDoc {
        what: "For every `server` with a TLS listen socket (or, when there is none, every \
               plain server that does not redirect), the `add_header` set in effect must give \
               X-Frame-Options DENY/SAMEORIGIN (or CSP `frame-ancestors`), \
               `X-Content-Type-Options: nosniff`, a Referrer-Policy other than `unsafe-url`, \
               and on TLS servers HSTS with max-age of at least 15768000. nginx's inheritance \
               is modelled: a level (http, server, location, if) with any `add_header` of its \
               own inherits none from above, so every `location` that adds a header must repeat \
               the security headers (unless `add_header_inherit merge` is in effect).",
        why: "These headers stop clickjacking, MIME sniffing, URL leaks and SSL stripping. The \
              inheritance rule is a classic trap: adding a Cache-Control header in one \
              location silently drops HSTS and the rest for every response served there.",
        remediation: "Put the four headers in a snippet (/etc/nginx/snippets/security-headers.conf \
                      with `add_header Strict-Transport-Security \"max-age=63072000\" always;` \
                      etc.) and `include` it in each TLS server and in every location that has \
                      its own add_header; nginx -t && systemctl reload nginx.",
        verify: "curl -sI https://your.site/some/location | grep -iE 'x-frame|x-content|referrer|strict-transport'",
        references: &[
            "seed 000 §4 (HSTS) and §7 (headers de sécurité)",
            "seed 002 Phase 2 §2 (the same headers for Apache)",
            "nginx documentation: ngx_http_headers_module add_header (inheritance)",
            "OWASP Secure Headers Project",
        ],
    },
    check,
};

fn merge_mode(kids: &[Directive], parent: bool) -> bool {
    match kids.iter().rev().find(|d| d.name == "add_header_inherit") {
        Some(d) => d.arg(0) == Some("merge"),
        None => parent,
    }
}

fn effective(own: Vec<HeaderSeen>, parent: &[HeaderSeen], merge: bool) -> Vec<HeaderSeen> {
    if own.is_empty() {
        parent.to_vec()
    } else if merge {
        parent.iter().cloned().chain(own).collect()
    } else {
        own
    }
}

fn walk(
    kids: &[Directive],
    parent: &[HeaderSeen],
    merge: bool,
    tls: bool,
    site: &str,
    bad: &mut Vec<Evidence>,
) {
    for d in kids {
        if d.block.is_none() || !matches!(d.name.as_str(), "location" | "if" | "limit_except") {
            continue;
        }
        let own = add_headers(d.kids());
        let m = merge_mode(d.kids(), merge);
        let has_own = !own.is_empty();
        let eff = effective(own, parent, m);
        if has_own {
            for p in headers::judge(&eff, tls) {
                bad.push(
                    p.evidence(d.evidence())
                        .note(format!(
                            "server {site}: this {} has its own add_header, so it inherits none from the server or http block",
                            d.name
                        )),
                );
            }
        }
        walk(d.kids(), &eff, m, tls, site, bad);
    }
}

fn check(ctx: &Ctx) -> Outcome {
    let nginx = ctx.fact::<Nginx>();
    let cfg = match nginx.require("nginx configuration") {
        Ok(c) => c,
        Err(o) => return o,
    };
    let servers = cfg.servers();
    let tls: Vec<_> = servers.iter().filter(|s| s.has_tls()).collect();
    let judged: Vec<_> = if tls.is_empty() {
        servers
            .iter()
            .filter(|s| super::nginx::https_redirect(s.block.kids()).is_none())
            .collect()
    } else {
        tls
    };
    if judged.is_empty() {
        return Outcome::pass("no server serves content");
    }
    let mut bad = Vec::new();
    for s in &judged {
        let http_merge = merge_mode(s.http.kids(), false);
        let http_h = add_headers(s.http.kids());
        let m = merge_mode(s.block.kids(), http_merge);
        let eff = effective(add_headers(s.block.kids()), &http_h, m);
        let site = s.name();
        for p in headers::judge(&eff, s.has_tls()) {
            bad.push(
                p.evidence(s.block.evidence())
                    .note(format!("server {site}")),
            );
        }
        walk(s.block.kids(), &eff, m, s.has_tls(), &site, &mut bad);
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} server(s) send the security headers everywhere",
            judged.len()
        ))
    } else {
        Outcome::fail(format!("{} missing or weak security header(s)", bad.len())).with_all(bad)
    }
}
