//! WEB-APACHE-HEADERS: every site Apache serves over TLS sends the security headers.

use super::apache::Apache;
use super::headers;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-APACHE-HEADERS",
    name: "apache-security-headers-missing",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Apache sites send X-Frame-Options, X-Content-Type-Options, Referrer-Policy and HSTS",
    doc: RuleDoc {
        what: "For every TLS virtual host (`SSLEngine on`) of the loaded configuration — or, \
               when there is none, every site that serves plain HTTP without redirecting — the \
               `Header` directives at server level and in the vhost itself (mod_headers merges \
               them in that order; `Header unset` removes) must give: `X-Frame-Options` DENY or \
               SAMEORIGIN (or a Content-Security-Policy with `frame-ancestors`), \
               `X-Content-Type-Options: nosniff`, a `Referrer-Policy` other than `unsafe-url`, \
               and on TLS sites `Strict-Transport-Security` with max-age of at least six months \
               (15768000). Headers set only inside `<Directory>`, `<Location>` or `<If>` cover \
               part of a site and are not counted. Without mod_headers loaded no header is set.",
        why: "These headers stop clickjacking (framing), MIME-sniffing attacks, leaking URLs to \
              third parties, and SSL-stripping on the first request after a visitor has seen \
              the site once.",
        remediation: "a2enmod headers; in the TLS vhost (or conf-available/security.conf) add \
                      `Header always set X-Frame-Options \"DENY\"`, `Header always set \
                      X-Content-Type-Options \"nosniff\"`, `Header always set Referrer-Policy \
                      \"strict-origin-when-cross-origin\"`, `Header always set \
                      Strict-Transport-Security \"max-age=63072000; includeSubDomains\"`; \
                      apache2ctl configtest && systemctl reload apache2.",
        verify: "curl -sI https://your.site/ | grep -iE 'x-frame|x-content|referrer|strict-transport'",
        references: &[
            "seed 002 Phase 2 §2 and annex « Exemple de règle Apache (VirtualHost) pour headers & limites »",
            "seed 000 §4 Chiffrement (HSTS) and §7 XSS (headers de sécurité)",
            "OWASP Secure Headers Project",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let apache = ctx.fact::<Apache>();
    let cfg = match apache.require("Apache configuration") {
        Ok(c) => c,
        Err(o) => return o,
    };
    let sites = cfg.content_sites();
    let tls: Vec<_> = sites.iter().filter(|s| s.tls).collect();
    let judged: Vec<_> = if tls.is_empty() {
        sites.iter().collect()
    } else {
        tls
    };
    if judged.is_empty() {
        return Outcome::pass("every site only redirects to https");
    }
    let with_mod = cfg.module("headers_module").is_some();
    let mut bad = Vec::new();
    for site in &judged {
        let hs = if with_mod {
            cfg.headers(site.vhost.as_ref())
        } else {
            Vec::new()
        };
        for p in headers::judge(&hs, site.tls) {
            let note = if with_mod {
                format!("site {}", site.name())
            } else {
                format!(
                    "site {}: mod_headers is not enabled (a2enmod headers)",
                    site.name()
                )
            };
            bad.push(p.evidence(site.evidence(cfg)).note(note));
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} site(s) send the security headers",
            judged.len()
        ))
    } else {
        Outcome::fail(format!("{} missing or weak security header(s)", bad.len())).with_all(bad)
    }
}
