//! APP-DJANGO-SSL-REDIRECT: plain HTTP requests reaching Django are redirected to HTTPS.

use super::{judge_projects, Setting, Verdict};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::services::discovery::Discovery;

pub const RULE: Rule = Rule {
    id: "APP-DJANGO-SSL-REDIRECT",
    name: "django-ssl-redirect-off",
    family: Family::App,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Django redirects HTTP to HTTPS, or is only reachable through the HTTPS proxy",
    doc: RuleDoc {
        what: "The effective `SECURE_SSL_REDIRECT` is true, or every unit running the project \
               listens only on loopback or a unix socket (then only the reverse proxy reaches \
               Django, and the HTTP-to-HTTPS redirect belongs to the proxy, which the web \
               family judges). Unset is Django's default, False. Behind a TLS-terminating \
               proxy, `SECURE_SSL_REDIRECT = True` also needs `SECURE_PROXY_SSL_HEADER` \
               (e.g. `('HTTP_X_FORWARDED_PROTO', 'https')`) or every request redirects in a \
               loop; the rule notes when it is missing.",
        why: "A Django server reachable directly over HTTP serves pages and accepts \
              credentials in clear text to anyone who connects to it without going through \
              the proxy.",
        remediation: "Bind the app server to 127.0.0.1 (or a unix socket) behind the HTTPS \
                      proxy, or set `SECURE_SSL_REDIRECT = True` (with \
                      `SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')` when a \
                      proxy terminates TLS and sets that header).",
        verify: "curl -sI http://HOST:PORT/ | head -1   # 301 to https:// expected, or no answer from outside",
        references: &[
            "seed 000 §3 Isolation réseau (backend sur 127.0.0.1 derrière le reverse proxy)",
            "Django deployment checklist: SECURE_SSL_REDIRECT (security.W008), SECURE_PROXY_SSL_HEADER",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let d = ctx.fact::<Discovery>();
    judge_projects(
        ctx,
        "Django answers plain HTTP on a reachable address without redirecting to HTTPS",
        "HTTP requests cannot reach Django without HTTPS",
        |p| {
            let mut v = Verdict::default();
            let setting = match p.get("SECURE_SSL_REDIRECT") {
                Setting::Set(b) => match b.val.truthy() {
                    Some(true) => {
                        let mut ev = b.evidence();
                        if matches!(p.get("SECURE_PROXY_SSL_HEADER"), Setting::Unset) {
                            ev = ev.note(
                                "SECURE_PROXY_SSL_HEADER is unset: behind a TLS-terminating \
                                 proxy every request would redirect in a loop",
                            );
                        }
                        v.seen.push(ev);
                        return v;
                    }
                    Some(false) => b.evidence().expected("True"),
                    None => {
                        v.unknown.push(b.evidence());
                        return v;
                    }
                },
                Setting::Unset => p
                    .unset_evidence("SECURE_SSL_REDIRECT", "False")
                    .expected("True"),
            };
            let binds = d.app_binds(p.app);
            let exposed: Vec<_> = binds.iter().filter(|b| b.is_exposed()).collect();
            if !binds.is_empty() && exposed.is_empty() {
                v.seen.push(setting);
                v.seen.push(
                    Evidence::source("units")
                        .key("bind")
                        .actual(
                            binds
                                .iter()
                                .map(|b| b.addr.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        )
                        .note("only the reverse proxy reaches the app; it owns the redirect"),
                );
                return v;
            }
            v.fails.push(setting);
            for b in exposed {
                let mut ev = Evidence::file(&b.origin.path)
                    .key("bind")
                    .actual(b.addr.as_str())
                    .note("Django reachable over plain HTTP on this address");
                if let Some(l) = b.origin.line {
                    ev = ev.line(l);
                }
                if let Some(t) = &b.origin.text {
                    ev = ev.snippet(t);
                }
                v.fails.push(ev);
            }
            v
        },
    )
}
