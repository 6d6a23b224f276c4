//! WEB-PROBE-HTTPS-REDIRECT: plain HTTP answers with a redirect to the HTTPS site.

use super::http_ev;
use crate::http::{FetchError, Scheme};
use crate::site::Site;
use rempart_audit::{Family, Level, Outcome, Rule, RuleDoc, Severity};

pub const RULE: Rule = Rule {
    id: "WEB-PROBE-HTTPS-REDIRECT",
    name: "plain-http-not-redirected",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Plain HTTP redirects to HTTPS on the same host",
    doc: RuleDoc {
        what: "`GET http://HOST/PATH` (or the URL given with --http-url) without following \
               redirects. Passes on a 301, 302, 307 or 308 whose Location is https:// on the \
               same host (302/307 are noted: a permanent redirect is better), or when nothing \
               listens on plain HTTP. Fails when content is served over plain HTTP or the \
               redirect goes elsewhere.",
        why: "Anything served over plain HTTP can be read and changed in transit: session \
              cookies, forms, the page itself (an injected login form). The redirect is also \
              what carries a first-time visitor to HTTPS before HSTS applies.",
        remediation: "nginx: a `server { listen 80; return 301 https://$host$request_uri; }`. \
                      Apache: `Redirect permanent / https://HOST/` in the *:80 virtual host \
                      (certbot --apache offers it). Traefik: a redirectScheme middleware on the \
                      web entrypoint.",
        verify: "curl -sI http://HOST/ | grep -iE '^(HTTP|location)'",
        references: &[
            "seed 000 §3 (« Port 80 (HTTP) : Ouvert (redirection HTTPS) »)",
            "seed 002 Phase 2 §1 (certbot --apache)",
        ],
    },
    check: crate::probe_only,
};

pub fn check(site: &Site) -> Outcome {
    let f = &site.plain;
    let r = match &f.result {
        Ok(r) => r,
        Err(FetchError::Refused(m)) | Err(FetchError::Timeout(m)) => {
            return Outcome::pass(format!("nothing answers on plain HTTP ({m})"))
                .with(http_ev(f).actual("no answer"));
        }
        Err(FetchError::Other(m)) => {
            return Outcome::error(format!("plain HTTP could not be read: {m}")).with(http_ev(f))
        }
    };
    let ev = http_ev(f).key("status").actual(i64::from(r.status));
    if !r.is_redirect() {
        return Outcome::fail(format!(
            "{} answers {} {} over plain HTTP instead of redirecting to HTTPS",
            f.url, r.status, r.reason
        ))
        .with(ev.expected("301 to https://"));
    }
    let Some(loc) = r.header("location") else {
        return Outcome::fail(format!(
            "{} redirects ({}) without a Location",
            f.url, r.status
        ))
        .with(ev.expected("301 to https://"));
    };
    let target = f.url.join(loc);
    let lev = http_ev(f).key("Location").actual(loc);
    match target {
        Ok(t) if t.scheme == Scheme::Https && t.host == f.url.host => {
            let mut o =
                Outcome::pass(format!("{} redirects ({}) to {t}", f.url, r.status)).with(lev);
            if matches!(r.status, 302 | 303 | 307) {
                o = o.with(ev.note("a temporary redirect; 301 or 308 lets browsers remember it"));
            }
            o
        }
        Ok(t) if t.scheme == Scheme::Https => Outcome::fail(format!(
            "{} redirects to another host over HTTPS ({t}) instead of its own",
            f.url
        ))
        .with(lev.expected(format!("https://{}/...", f.url.host))),
        _ => Outcome::fail(format!("{} redirects to {loc}, not to HTTPS", f.url))
            .with(lev.expected(format!("https://{}/...", f.url.host))),
    }
}
