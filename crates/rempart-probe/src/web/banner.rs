//! WEB-PROBE-BANNER: responses do not announce server or framework versions.

use super::http_ev;
use crate::site::Site;
use rempart_audit::{Family, Level, Outcome, Rule, RuleDoc, Severity};

pub const RULE: Rule = Rule {
    id: "WEB-PROBE-BANNER",
    name: "version-banner-exposed",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Responses do not reveal server or framework versions",
    doc: RuleDoc {
        what: "Every response fetched (including the provoked 404 and 400): a `Server` header \
               holding a version number (`nginx/1.22.1`, `Apache/2.4.57 (Debian)`) or naming an \
               application server (uvicorn, gunicorn, Werkzeug, WSGIServer, daphne, hypercorn), \
               any `X-Powered-By`, `X-AspNet-Version`, `X-AspNetMvc-Version` or `X-Runtime` \
               header, and error pages signed with a version (nginx's `<center>nginx/1.22.1`, \
               Apache's `<address>Apache/2.4.57 ... Server at`). A bare `nginx` or `Apache` \
               passes.",
        why: "Versions tell an attacker which published vulnerabilities to try first; an \
              application server's own banner shows the backend answers directly or that the \
              proxy forwards its headers.",
        remediation: "nginx: `server_tokens off;` (and `proxy_hide_header X-Powered-By;`). \
                      Apache: `ServerTokens Prod` and `ServerSignature Off`. uvicorn: \
                      `--no-server-header`; gunicorn behind nginx: `proxy_hide_header Server` is \
                      not needed once nginx answers.",
        verify: "curl -sI https://HOST/ | grep -iE '^(server|x-powered-by)'; curl -s https://HOST/nonexistent | tail -3",
        references: &[
            "seed 002 Phase 2 §2 (« ServerSignature Off », « ServerTokens Prod »)",
            "OWASP WSTG-INFO-02 (fingerprint web server)",
        ],
    },
    check: crate::probe_only,
};

const APP_SERVERS: &[&str] = &[
    "uvicorn",
    "gunicorn",
    "werkzeug",
    "wsgiserver",
    "daphne",
    "hypercorn",
    "waitress",
    "tornadoserver",
    "simplehttp",
];

const LEAKY_HEADERS: &[&str] = &[
    "X-Powered-By",
    "X-AspNet-Version",
    "X-AspNetMvc-Version",
    "X-Runtime",
];

fn has_version(s: &str) -> bool {
    // `name/1.2` or `name 1.2`: a digit after a slash, or digits with a dot.
    s.split(['/', ' ', '(', ')'])
        .any(|w| w.contains('.') && w.chars().next().is_some_and(|c| c.is_ascii_digit()))
}

/// The version signature of a built-in error page, if any.
fn page_signature(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    for (open, close) in [("<center>", "</center>"), ("<address>", "</address>")] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(open) {
            let start = from + i + open.len();
            let end = lower[start..]
                .find(close)
                .map_or(lower.len(), |j| start + j);
            let text = body.get(start..end).unwrap_or("").trim();
            if has_version(text) && text.len() < 200 {
                return Some(text.to_string());
            }
            from = end.min(lower.len());
            if from >= lower.len() {
                break;
            }
        }
    }
    None
}

pub fn check(site: &Site) -> Outcome {
    let mut bad = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut push = |ev: rempart_audit::Evidence, what: String| {
        if !seen.contains(&what) {
            seen.push(what);
            bad.push(ev);
        }
    };
    for f in std::iter::once(&site.plain).chain(site.responses()) {
        let Some(r) = f.response() else { continue };
        if let Some(server) = r.header("server") {
            let lower = server.to_ascii_lowercase();
            if has_version(server) || APP_SERVERS.iter().any(|a| lower.contains(a)) {
                push(
                    http_ev(f)
                        .key("Server")
                        .actual(server)
                        .expected("a bare product name, or none"),
                    format!("Server: {server}"),
                );
            }
        }
        for h in LEAKY_HEADERS {
            if let Some(v) = r.header(h) {
                push(
                    http_ev(f).key(*h).actual(v).expected("absent"),
                    format!("{h}: {v}"),
                );
            }
        }
        if r.status >= 400 {
            if let Some(sig) = page_signature(&r.text()) {
                push(
                    http_ev(f)
                        .key(format!("{} error page", r.status))
                        .actual(sig.as_str())
                        .expected("no version in error pages"),
                    format!("page: {sig}"),
                );
            }
        }
    }
    if bad.is_empty() {
        Outcome::pass("no version or application server is announced")
    } else {
        Outcome::fail(format!(
            "{} version banners: {}",
            bad.len(),
            seen.join("; ")
        ))
        .with_all(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_signatures() {
        assert!(has_version("nginx/1.22.1"));
        assert!(has_version("Apache/2.4.57 (Debian)"));
        assert!(!has_version("nginx"));
        assert!(!has_version("Apache"));
        assert!(!has_version("cloudflare"));
        assert_eq!(
            page_signature("<hr><center>nginx/1.22.1</center>").as_deref(),
            Some("nginx/1.22.1")
        );
        assert_eq!(page_signature("<hr><center>nginx</center>"), None);
        assert!(page_signature(
            "<address>Apache/2.4.67 (Debian) Server at rempart.test Port 443</address>"
        )
        .is_some());
        assert_eq!(page_signature("<center><h1>404</h1></center><center"), None);
    }
}
