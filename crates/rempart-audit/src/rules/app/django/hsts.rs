//! APP-DJANGO-HSTS: HSTS is sent for a year, by Django or by the reverse proxy.

use super::{judge_projects, Setting, Verdict};
use crate::host::Host;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

/// One year, the value browsers' preload lists require and Django's check suggests.
pub const ONE_YEAR: i64 = 31_536_000;

pub const RULE: Rule = Rule {
    id: "APP-DJANGO-HSTS",
    name: "django-hsts-missing",
    family: Family::App,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "Django or its reverse proxy sends HSTS for at least a year",
    doc: RuleDoc {
        what: "The effective `SECURE_HSTS_SECONDS` is at least 31536000 (one year). When it is \
               lower or unset (Django's default, 0), the rule passes only if a reverse proxy \
               configuration on the host sends the header itself: a `Strict-Transport-Security` \
               header in Apache (`/etc/apache2`), nginx (`/etc/nginx`) or Caddy \
               (`/etc/caddy`), or `stsSeconds` in Traefik's configuration (`/etc/traefik`) or \
               in a compose file's labels. That search does not tell which site the header \
               belongs to; the web family judges the proxy's headers in detail.",
        why: "Without HSTS a user who types the site's name, or follows an http:// link, makes \
              a first request in clear text that an attacker on the network can intercept and \
              keep on HTTP (SSL stripping), reading the session and the credentials typed.",
        remediation: "Send the header from one place. In Django: `SECURE_HSTS_SECONDS = \
                      31536000` (start lower, e.g. 3600, and raise it once HTTPS is stable \
                      everywhere; add SECURE_HSTS_INCLUDE_SUBDOMAINS if every subdomain is \
                      HTTPS). Or at the proxy: Apache `Header always set \
                      Strict-Transport-Security \"max-age=63072000; includeSubDomains\"`.",
        verify: "curl -sI https://SITE/ | grep -i strict-transport-security",
        references: &[
            "seed 000 §4 Chiffrement en transit (HSTS recommandé)",
            "seed 002 Phase 2 §2 (Header always set Strict-Transport-Security \"max-age=63072000\")",
            "Django deployment checklist: SECURE_HSTS_SECONDS (security.W004)",
        ],
    },
    check,
};

/// Configuration directories of reverse proxies, searched for an HSTS header.
const PROXY_CONFIGS: &[&str] = &[
    "/etc/apache2/apache2.conf",
    "/etc/apache2/conf-enabled/*",
    "/etc/apache2/sites-enabled/*",
    "/etc/nginx/nginx.conf",
    "/etc/nginx/conf.d/*",
    "/etc/nginx/sites-enabled/*",
    "/etc/nginx/snippets/*",
    "/etc/caddy/Caddyfile",
    "/etc/traefik/*",
    "/etc/traefik/*/*",
];

/// The first proxy configuration line that sends HSTS.
pub fn proxy_hsts(ctx: &Ctx) -> Option<Evidence> {
    let mut files: Vec<String> = Vec::new();
    for pat in PROXY_CONFIGS {
        files.extend(ctx.host.glob(pat).unwrap_or_default());
    }
    let d = ctx.fact::<crate::rules::services::discovery::Discovery>();
    files.extend(d.compose_files.iter().cloned());
    files
        .into_iter()
        .take(400)
        .find_map(|f| hsts_line(ctx.host, &f))
}

fn hsts_line(host: &Host, path: &str) -> Option<Evidence> {
    let f = host.read_text(path).ok()??;
    for (i, line) in f.text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with('#') || t.starts_with("//") {
            continue;
        }
        let lower = t.to_ascii_lowercase();
        if lower.contains("strict-transport-security") || lower.contains("stsseconds") {
            return Some(
                Evidence::file(path)
                    .line(i as u32 + 1)
                    .snippet(line)
                    .note("HSTS sent by the reverse proxy"),
            );
        }
    }
    None
}

fn check(ctx: &Ctx) -> Outcome {
    let proxy = std::sync::OnceLock::new();
    judge_projects(
        ctx,
        "HSTS is not sent for a year, neither by Django nor by a reverse proxy",
        "HSTS is sent",
        |p| {
            let mut v = Verdict::default();
            let ev = match p.get("SECURE_HSTS_SECONDS") {
                Setting::Set(b) => match b.val.as_int() {
                    Some(n) if n >= ONE_YEAR => {
                        v.seen.push(b.evidence());
                        return v;
                    }
                    Some(_) => b.evidence().expected(ONE_YEAR.to_string()),
                    None if b.val.is_known() => b.evidence().expected(ONE_YEAR.to_string()),
                    None => {
                        v.unknown.push(b.evidence());
                        return v;
                    }
                },
                Setting::Unset => p
                    .unset_evidence("SECURE_HSTS_SECONDS", "0, no header")
                    .expected(ONE_YEAR.to_string()),
            };
            match proxy.get_or_init(|| proxy_hsts(ctx)) {
                Some(e) => {
                    v.seen.push(ev);
                    v.seen.push(e.clone());
                }
                None => v.fails.push(ev),
            }
            v
        },
    )
}
