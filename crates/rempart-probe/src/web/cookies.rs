//! WEB-PROBE-COOKIES: cookies set over HTTPS carry Secure, HttpOnly and SameSite.

use super::http_ev;
use crate::http::headers::parse_set_cookie;
use crate::http::Scheme;
use crate::site::Site;
use rempart_audit::{Family, Level, Outcome, Rule, RuleDoc, Severity};

pub const RULE: Rule = Rule {
    id: "WEB-PROBE-COOKIES",
    name: "cookie-flags-missing",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Cookies are Secure, HttpOnly and SameSite",
    doc: RuleDoc {
        what: "Every `Set-Cookie` of every response fetched (the page, the provoked errors, the \
               probed paths such as /admin/), parsed like a browser. Each cookie must be \
               `Secure` (when set over HTTPS) and carry `SameSite` (`None` only with Secure); \
               each must be `HttpOnly` except CSRF cookies that scripts read by design \
               (csrftoken, XSRF-TOKEN, any name holding `csrf`/`xsrf`). Deleted cookies \
               (Max-Age=0) are not judged. Passes when no cookie is set.",
        why: "A cookie without Secure is sent over plain HTTP where it can be read; without \
              HttpOnly an XSS can steal the session; without SameSite other sites can make the \
              browser send it with forged requests (CSRF).",
        remediation: "Django: SESSION_COOKIE_SECURE = True, CSRF_COOKIE_SECURE = True, \
                      SESSION_COOKIE_HTTPONLY = True (default), SESSION_COOKIE_SAMESITE = \
                      'Lax'. Starlette/FastAPI: SessionMiddleware(https_only=True, \
                      same_site='lax'). Or at the proxy: nginx `proxy_cookie_flags ~ secure \
                      httponly samesite=lax;`.",
        verify: "curl -sI https://HOST/PATH | grep -i '^set-cookie'",
        references: &[
            "OWASP Session Management Cheat Sheet",
            "RFC 6265bis (SameSite)",
        ],
    },
    check: crate::probe_only,
};

fn readable_by_design(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("csrf") || n.contains("xsrf")
}

pub fn check(site: &Site) -> Outcome {
    let mut bad = Vec::new();
    let mut seen = Vec::new();
    for f in site.responses() {
        let Some(r) = f.response() else { continue };
        for raw in r.headers_all("set-cookie") {
            let Some(c) = parse_set_cookie(raw) else {
                continue;
            };
            if c.deleted || seen.contains(&c.name) {
                continue;
            }
            seen.push(c.name.clone());
            let mut missing = Vec::new();
            if !c.secure && f.url.scheme == Scheme::Https {
                missing.push("Secure");
            }
            if !c.http_only && !readable_by_design(&c.name) {
                missing.push("HttpOnly");
            }
            match c
                .same_site
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None => missing.push("SameSite"),
                Some("none") if !c.secure => missing.push("SameSite=None needs Secure"),
                _ => {}
            }
            if !missing.is_empty() {
                let mut cut = raw.to_string();
                if let Some(eq) = cut.find('=') {
                    // Do not copy the cookie's value into the report.
                    let end = cut[eq..].find(';').map_or(cut.len(), |i| eq + i);
                    cut.replace_range(eq + 1..end, "…");
                }
                bad.push(
                    http_ev(f)
                        .key(format!("cookie {}", c.name))
                        .actual(cut)
                        .expected(format!("with {}", missing.join(", "))),
                );
            }
        }
    }
    if seen.is_empty() {
        return Outcome::pass("no cookie is set by the pages probed");
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} cookies, all with their flags: {}",
            seen.len(),
            seen.join(", ")
        ))
    } else {
        Outcome::fail(format!(
            "{} of {} cookies lack flags",
            bad.len(),
            seen.len()
        ))
        .with_all(bad)
    }
}
