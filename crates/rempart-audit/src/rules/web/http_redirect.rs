//! WEB-HTTP-REDIRECT: Apache and nginx serve nothing over plain HTTP but a redirect to https.

use super::apache::Apache;
use super::nginx::{https_redirect, Nginx};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-HTTP-REDIRECT",
    name: "plain-http-served",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Plain-HTTP sites of Apache and nginx only redirect to https",
    doc: RuleDoc {
        what: "Apache: every virtual host without `SSLEngine on` (or the main server when no \
               vhost exists) sends every request to https with `Redirect / https://...`, a \
               catch-all `RedirectMatch`, or a `RewriteRule ... https://... [R]` under \
               `RewriteEngine on` (certbot's form). nginx: every `server` with a listen socket \
               without `ssl` (no `listen` means port 80) has, at server level, in an `if` block \
               or in `location /`, a `return 301|302|307|308 https://...`, a `rewrite ... \
               https://... permanent|redirect`, or a `return` of an error status (444). Only \
               enabled sites count. Traefik entry points are WEB-TRAEFIK-REDIRECT.",
        why: "Anything served over plain HTTP can be read and altered on the way: login forms, \
              session cookies, downloads. A redirect sends users to the encrypted site and, \
              with HSTS, keeps them there.",
        remediation: "certbot --apache / certbot --nginx offer the redirect; by hand, Apache: \
                      `Redirect permanent / https://your.site/` in the :80 vhost; nginx: \
                      `return 301 https://$host$request_uri;` in the port-80 server. Disable \
                      the default site (a2dissite 000-default, rm \
                      /etc/nginx/sites-enabled/default) if it is not used.",
        verify: "curl -sI http://your.site/ | head -3  # expect 301 and Location: https://",
        references: &[
            "seed 000 §3 Firewall (« Port 80 (HTTP) : Ouvert (redirection HTTPS) ») and §4 (« HTTPS obligatoire »)",
            "seed 002 Phase 2 §1 HTTPS (Let's Encrypt / Certbot)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let apache = ctx.fact::<Apache>();
    let nginx = ctx.fact::<Nginx>();
    if apache.config.is_none() && nginx.config.is_none() {
        return Outcome::not_applicable("neither Apache nor nginx is installed");
    }
    let mut bad: Vec<Evidence> = Vec::new();
    let mut judged = 0usize;
    if apache.config.is_some() {
        let cfg = match apache.require("Apache configuration") {
            Ok(c) => c,
            Err(o) => return o,
        };
        for site in cfg.sites().iter().filter(|s| !s.tls) {
            judged += 1;
            if site.redirect.is_none() {
                bad.push(
                    site.evidence(cfg)
                        .key("Redirect")
                        .actual("none (serves plain HTTP)")
                        .expected("redirect to https://")
                        .note(format!("Apache site {}", site.name())),
                );
            }
        }
    }
    if nginx.config.is_some() {
        let cfg = match nginx.require("nginx configuration") {
            Ok(c) => c,
            Err(o) => return o,
        };
        for server in cfg.servers().iter().filter(|s| s.has_plain()) {
            judged += 1;
            if https_redirect(server.block.kids()).is_none() {
                bad.push(
                    server
                        .block
                        .evidence()
                        .key("return")
                        .actual("none (serves plain HTTP)")
                        .expected("return 301 https://$host$request_uri")
                        .note(format!("nginx server {}", server.name())),
                );
            }
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{judged} plain-HTTP site(s), all redirect to https"
        ))
    } else {
        Outcome::fail(format!(
            "{} site(s) serve content over plain HTTP",
            bad.len()
        ))
        .with_all(bad)
    }
}
