//! WEB-NGINX-TLS-PROTOCOLS: nginx TLS servers accept nothing older than TLS 1.2.

use super::nginx::Nginx;
use super::tls::{nginx_protocols, OpensslPolicy, OLD};
use crate::facts::packages::compare_versions;
use crate::facts::Packages;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use std::cmp::Ordering;

pub const RULE: Rule = Rule {
    id: "WEB-NGINX-TLS-PROTOCOLS",
    name: "nginx-old-tls-accepted",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "nginx TLS servers accept only TLS 1.2 and later",
    doc: RuleDoc {
        what: "For every server with a TLS listen socket, the effective `ssl_protocols` (the \
               server's, else the http block's, else nginx's default: `TLSv1 TLSv1.1 TLSv1.2 \
               TLSv1.3` before 1.23.4, `TLSv1.2 TLSv1.3` from it, judged from the installed \
               package version) must not list SSLv3, TLSv1 or TLSv1.1 — when the host's \
               OpenSSL would accept them: libssl older than 3, `@SECLEVEL=0` in `ssl_ciphers` \
               or /etc/ssl/openssl.cnf, or an unknown OpenSSL. Debian 12's nginx.conf lists \
               TLSv1 and TLSv1.1, which its OpenSSL 3 refuses at the default security level; \
               the rule then passes and notes the stale line.",
        why: "TLS 1.0 and 1.1 are deprecated (RFC 8996) and rely on weak constructions; \
              accepting them lets a downgrade or a legacy client weaken every session.",
        remediation: "Set `ssl_protocols TLSv1.2 TLSv1.3;` in the http block of \
                      /etc/nginx/nginx.conf (and remove other ssl_protocols lines); nginx -t && \
                      systemctl reload nginx.",
        verify: "openssl s_client -connect your.site:443 -tls1_1 </dev/null  # must fail",
        references: &[
            "seed 000 §4 Chiffrement (« TLS 1.2+ uniquement »)",
            "RFC 8996",
            "nginx documentation: ngx_http_ssl_module ssl_protocols",
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
    let servers: Vec<_> = cfg.servers().into_iter().filter(|s| s.has_tls()).collect();
    if servers.is_empty() {
        return Outcome::pass("no TLS server");
    }
    let pkgs = ctx.fact::<Packages>();
    let version = [
        "nginx",
        "nginx-core",
        "nginx-full",
        "nginx-light",
        "nginx-extras",
    ]
    .iter()
    .find_map(|p| pkgs.version(p));
    let modern_default = version.is_some_and(|v| compare_versions(v, "1.23.4") != Ordering::Less);
    let default: Vec<String> = if modern_default {
        vec!["TLSv1.2".into(), "TLSv1.3".into()]
    } else {
        ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
            .map(String::from)
            .to_vec()
    };
    let policy = OpensslPolicy::load(ctx);
    let mut bad = Vec::new();
    let mut notes = Vec::new();
    for s in &servers {
        let d = s.inherited("ssl_protocols");
        let args = d.map_or_else(|| default.clone(), |d| d.args.clone());
        let old: Vec<&str> = nginx_protocols(&args)
            .into_iter()
            .filter(|p| OLD.contains(p))
            .collect();
        if old.is_empty() {
            continue;
        }
        let ciphers = s.inherited("ssl_ciphers").map(|d| d.args.join(" "));
        let ev = d
            .map(|d| d.evidence())
            .unwrap_or_else(|| s.block.evidence())
            .key("ssl_protocols")
            .actual(args.join(" "))
            .expected("TLSv1.2 TLSv1.3");
        match policy.refuses_old(ciphers.as_deref()) {
            Ok(why) => notes.push(ev.note(format!("{} listed but refused: {why}", old.join(", ")))),
            Err(why) => bad.push(ev.note(format!(
                "server {} accepts {}: {why}",
                s.name(),
                old.join(", ")
            ))),
        }
    }
    notes.dedup();
    bad.dedup();
    if bad.is_empty() {
        let msg = if notes.is_empty() {
            "TLS servers accept only TLS 1.2+".to_string()
        } else {
            "old protocols are listed but the host's OpenSSL refuses them; remove them anyway"
                .to_string()
        };
        Outcome::pass(msg).with_all(notes)
    } else {
        Outcome::fail("TLS servers accept protocols older than TLS 1.2").with_all(bad)
    }
}
