//! Endpoints that should not answer the public: API documentation, the admin interface, the
//! Traefik dashboard, metrics, server status pages, directory listings and secret files.

use super::http_ev;
use crate::site::Site;
use rempart_audit::{Evidence, Family, Level, Outcome, Rule, RuleDoc, Severity};

const REF_000_AUTH: &str = "seed 000 §5 Authentification (« Interface web et API (/ui/*, /api/*, /admin/*) — Protection via Cloudflare Zero Trust »)";

pub const API_DOCS: Rule = Rule {
    id: "WEB-PROBE-API-DOCS",
    name: "api-docs-public",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Interactive API documentation is not public",
    doc: RuleDoc {
        what: "GET /docs, /redoc, /openapi.json, /swagger-ui/ and /api/docs on the site. Fails \
               when one answers 2xx with Swagger UI, ReDoc or an OpenAPI document (`\"openapi\"` \
               or `\"swagger\"` key) — FastAPI serves all three by default. A page identical to \
               the one every unknown path gets does not count.",
        why: "The schema lists every endpoint, parameter and model, internal ones included, and \
              the console lets anyone call them: it is the first thing an attacker fetches.",
        remediation: "FastAPI: `FastAPI(docs_url=None, redoc_url=None, openapi_url=None)` in \
                      production, or serve them behind authentication (proxy rule with \
                      BasicAuth or Cloudflare Access).",
        verify: "curl -s -o /dev/null -w '%{http_code}\\n' https://HOST/openapi.json (expect 404 or 401)",
        references: &[REF_000_AUTH, "FastAPI: Metadata and Docs URLs"],
    },
    check: crate::probe_only,
};

pub const ADMIN: Rule = Rule {
    id: "WEB-PROBE-ADMIN",
    name: "admin-interface-public",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "The admin interface is not reachable without an authentication layer in front",
    doc: RuleDoc {
        what: "GET /admin/ on the site. Passes on 401 (an authentication layer answers), 403, \
               404, or a redirect to another host (Cloudflare Access, an SSO). Fails on a 2xx \
               page or a redirect to a login page of the same site: the admin interface is \
               public, protected only by the application's own login (Django admin).",
        why: "Admin logins are brute-forced and credential-stuffed all day; an extra layer \
              (Cloudflare Zero Trust, BasicAuth, a VPN or an IP allow-list) keeps the \
              application's login out of reach.",
        remediation: "Put /admin behind Cloudflare Access or the proxy's authentication \
                      (nginx `auth_basic`, Traefik basicAuth middleware), or allow it from \
                      known addresses only; consider moving it to an unguessable path.",
        verify: "curl -s -o /dev/null -w '%{http_code} %{redirect_url}\\n' https://HOST/admin/",
        references: &[
            REF_000_AUTH,
            "seed 000 Audit (« Test d'authentification interface web - doit demander login »)",
        ],
    },
    check: crate::probe_only,
};

pub const TRAEFIK: Rule = Rule {
    id: "WEB-PROBE-TRAEFIK-DASHBOARD",
    name: "traefik-dashboard-public",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "The Traefik dashboard and API are not public",
    doc: RuleDoc {
        what: "GET /dashboard/, /api/rawdata and /api/overview on the site. Fails when the \
               dashboard page (a Traefik page) or the API's JSON (routers, services, \
               middlewares) answers without authentication. Probe the API port too if Traefik \
               runs with `api.insecure` (rempart probe http://HOST:8080/).",
        why: "The dashboard and API map every route, backend address and middleware of the \
              proxy: the internal architecture handed over, and with `api.insecure` often on a \
              port the firewall forgot.",
        remediation: "Disable `api.insecure`; expose the dashboard only through a router with \
                      an authentication middleware (basicAuth, forwardAuth) or not at all.",
        verify:
            "curl -s -o /dev/null -w '%{http_code}\\n' https://HOST/api/rawdata (expect 401 or 404)",
        references: &[
            "seed 000 §1 (Traefik en reverse proxy)",
            "Traefik docs: API & Dashboard security",
        ],
    },
    check: crate::probe_only,
};

pub const METRICS: Rule = Rule {
    id: "WEB-PROBE-METRICS",
    name: "metrics-public",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Prometheus metrics are not public",
    doc: RuleDoc {
        what: "GET /metrics on the site. Fails when it answers 2xx with the Prometheus \
               exposition format (`# HELP` or `# TYPE` lines).",
        why: "Metrics reveal versions, route names, error rates, users and queue sizes, and a \
              scrape endpoint is cheap to hammer.",
        remediation: "Serve metrics on a loopback or private listener scraped by Prometheus, or \
                      deny /metrics at the proxy (`location = /metrics { deny all; }`).",
        verify:
            "curl -s -o /dev/null -w '%{http_code}\\n' https://HOST/metrics (expect 404 or 403)",
        references: &[
            "seed 001 Monitoring (« Backend /metrics »)",
            "Prometheus security model",
        ],
    },
    check: crate::probe_only,
};

pub const SERVER_STATUS: Rule = Rule {
    id: "WEB-PROBE-SERVER-STATUS",
    name: "server-status-public",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Server status pages are not public",
    doc: RuleDoc {
        what: "GET /server-status and /server-info (Apache mod_status, mod_info), /nginx_status \
               and /stub_status (nginx stub_status). Fails when one answers 2xx with its \
               content (`Apache Server Status`, `Server Information`, `Active connections:`).",
        why: "mod_status shows every client address and URL being served (tokens in query \
              strings included); mod_info dumps the whole configuration.",
        remediation: "Apache: `a2dismod status info`, or `Require local` in their <Location>. \
                      nginx: `allow 127.0.0.1; deny all;` in the stub_status location.",
        verify: "curl -s -o /dev/null -w '%{http_code}\\n' https://HOST/server-status",
        references: &[
            "seed 002 Phase 2 §2 (« Désactiver modules inutiles : sudo a2dismod status cgi »)",
        ],
    },
    check: crate::probe_only,
};

pub const DIR_LISTING: Rule = Rule {
    id: "WEB-PROBE-DIR-LISTING",
    name: "directory-listing-enabled",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Directories are not listed",
    doc: RuleDoc {
        what: "The page and GET /static/, /media/, /uploads/, /files/ and /backup/. Fails when a \
               body is a generated directory index (Apache and nginx `Index of /`, Python's \
               `Directory listing for`).",
        why: "A listing hands out every file, including the ones nobody linked: backups, \
              uploads of other users, exports.",
        remediation: "Apache: `Options -Indexes`. nginx: remove `autoindex on;`.",
        verify: "curl -s https://HOST/static/ | grep -i 'index of'",
        references: &[
            "OWASP WSTG-CONF-04",
            "seed 002 Phase 2 §2 (Hardening Apache)",
        ],
    },
    check: crate::probe_only,
};

pub const SECRET_FILES: Rule = Rule {
    id: "WEB-PROBE-SECRET-FILES",
    name: "secret-file-served",
    family: Family::Web,
    severity: Severity::Critical,
    level: Level::Dev,
    title: "No .env or .git file is served",
    doc: RuleDoc {
        what: "GET /.env, /.git/HEAD and /.git/config. Fails when /.env answers 2xx with \
               `NAME=value` lines, /.git/HEAD with `ref: refs/` or /.git/config with a `[core]` \
               section.",
        why: "A served .env gives away the database password and the secret key; a served .git \
              directory gives the whole source history, secrets committed once included.",
        remediation: "Serve only a public directory (nginx `root` on the static folder, not the \
                      project), and deny dotfiles: nginx `location ~ /\\. { deny all; }`, Apache \
                      `<FilesMatch \"^\\.\"> Require all denied </FilesMatch>`.",
        verify: "curl -s -o /dev/null -w '%{http_code}\\n' https://HOST/.env (expect 403 or 404)",
        references: &["seed 000 §6 Gestion des secrets (.env)"],
    },
    check: crate::probe_only,
};

fn served_matching(
    site: &Site,
    paths: &[&str],
    test: &dyn Fn(&str) -> Option<&'static str>,
) -> Vec<Evidence> {
    let mut out = Vec::new();
    for p in paths {
        let Some(r) = site.served(p) else { continue };
        if let Some(what) = test(&r.text()) {
            if let Some(f) = site.path(p) {
                out.push(
                    http_ev(f)
                        .key(format!("GET {p}"))
                        .actual(format!("{} {}", r.status, what))
                        .expected("401, 403 or 404"),
                );
            }
        }
    }
    out
}

fn verdict(bad: Vec<Evidence>, what: &str, pass: &str) -> Outcome {
    if bad.is_empty() {
        Outcome::pass(pass.to_string())
    } else {
        let keys: Vec<String> = bad.iter().filter_map(|e| e.key.clone()).collect();
        Outcome::fail(format!("{what}: {}", keys.join(", "))).with_all(bad)
    }
}

pub fn api_docs(site: &Site) -> Outcome {
    let bad = served_matching(
        site,
        &[
            "/docs",
            "/redoc",
            "/openapi.json",
            "/swagger-ui/",
            "/api/docs",
        ],
        &|b| {
            if b.contains("swagger-ui") || b.contains("SwaggerUIBundle") {
                Some("Swagger UI")
            } else if b.contains("redoc") && b.contains("<redoc") || b.contains("redoc.standalone")
            {
                Some("ReDoc")
            } else if b.trim_start().starts_with('{')
                && (b.contains("\"openapi\"") || b.contains("\"swagger\""))
            {
                Some("an OpenAPI document")
            } else {
                None
            }
        },
    );
    verdict(
        bad,
        "API documentation is public",
        "no API documentation answers",
    )
}

pub fn admin(site: &Site) -> Outcome {
    let Some(f) = site.path("/admin/") else {
        return Outcome::error("/admin/ was not fetched");
    };
    let r = match &f.result {
        Ok(r) => r,
        Err(e) => return Outcome::pass(format!("/admin/ does not answer ({e})")).with(http_ev(f)),
    };
    let ev = http_ev(f).key("GET /admin/");
    if r.is_redirect() {
        let loc = r.header("location").unwrap_or("");
        return match f.url.join(loc) {
            Ok(t) if t.host == f.url.host => Outcome::fail(format!(
                "/admin/ redirects to the site's own login ({}): the admin is public, behind the \
                 application's login only",
                t.path
            ))
            .with(
                ev.actual(format!("{} to {loc}", r.status))
                    .expected("401, 403, 404 or an external sign-in"),
            ),
            Ok(t) => Outcome::pass(format!(
                "/admin/ redirects to {} (an external sign-in)",
                t.host
            ))
            .with(ev.actual(format!("{} to {loc}", r.status))),
            Err(e) => Outcome::fail(format!("/admin/ redirects to an unreadable Location ({e})"))
                .with(ev.actual(loc)),
        };
    }
    if site.served("/admin/").is_some() {
        let body = r.text();
        let what = if body.contains("Django administration") || body.contains("Django site admin") {
            "the Django admin"
        } else if body.contains("type=\"password\"") || body.contains("type='password'") {
            "a login form"
        } else {
            "a page (no login form: possibly open)"
        };
        return Outcome::fail(format!("/admin/ answers {} with {what}", r.status)).with(
            ev.actual(format!("{} {what}", r.status))
                .expected("401, 403, 404 or an external sign-in"),
        );
    }
    Outcome::pass(format!("/admin/ answers {} {}", r.status, r.reason))
        .with(ev.actual(i64::from(r.status)))
}

pub fn traefik(site: &Site) -> Outcome {
    let bad = served_matching(
        site,
        &["/dashboard/", "/api/rawdata", "/api/overview"],
        &|b| {
            let l = b.to_ascii_lowercase();
            if l.contains("<title>traefik") || (l.contains("traefik") && l.contains("<html")) {
                Some("the Traefik dashboard")
            } else if b.trim_start().starts_with('{')
                && (b.contains("\"routers\"")
                    || (b.contains("\"http\"") && b.contains("\"services\"")))
            {
                Some("the Traefik API")
            } else {
                None
            }
        },
    );
    verdict(
        bad,
        "the Traefik dashboard or API is public",
        "no Traefik dashboard or API answers",
    )
}

pub fn metrics(site: &Site) -> Outcome {
    let bad = served_matching(site, &["/metrics"], &|b| {
        (b.contains("# HELP ") || b.contains("# TYPE ")).then_some("Prometheus metrics")
    });
    verdict(bad, "metrics are public", "no metrics endpoint answers")
}

pub fn server_status(site: &Site) -> Outcome {
    let bad = served_matching(
        site,
        &[
            "/server-status",
            "/server-info",
            "/nginx_status",
            "/stub_status",
        ],
        &|b| {
            if b.contains("Apache Server Status") {
                Some("Apache mod_status")
            } else if b.contains("Apache Server Information")
                || b.contains("Server Information") && b.contains("Server Settings")
            {
                Some("Apache mod_info")
            } else if b.contains("Active connections:") {
                Some("nginx stub_status")
            } else {
                None
            }
        },
    );
    verdict(
        bad,
        "server status pages are public",
        "no server status page answers",
    )
}

fn is_listing(b: &str) -> Option<&'static str> {
    if b.contains("<title>Index of /") || b.contains("<h1>Index of /") {
        Some("a directory index")
    } else if b.contains("Directory listing for /") {
        Some("a Python directory listing")
    } else {
        None
    }
}

pub fn dir_listing(site: &Site) -> Outcome {
    let mut bad = served_matching(
        site,
        &["/static/", "/media/", "/uploads/", "/files/", "/backup/"],
        &is_listing,
    );
    if let Some(r) = site.main.response() {
        if let Some(what) = is_listing(&r.text()) {
            bad.push(
                http_ev(&site.main)
                    .key("GET /")
                    .actual(what)
                    .expected("no index"),
            );
        }
    }
    verdict(bad, "directories are listed", "no directory listing found")
}

pub fn secret_files(site: &Site) -> Outcome {
    let mut bad = served_matching(site, &["/.env"], &|b| {
        let env_lines = b
            .lines()
            .filter(|l| {
                let l = l.trim_start_matches("export ").trim();
                l.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                })
            })
            .count();
        (env_lines > 0 && !b.contains("<html")).then_some("environment file with NAME=value lines")
    });
    bad.extend(served_matching(site, &["/.git/HEAD"], &|b| {
        b.starts_with("ref: refs/").then_some("git HEAD")
    }));
    bad.extend(served_matching(site, &["/.git/config"], &|b| {
        b.contains("[core]").then_some("git config")
    }));
    verdict(
        bad,
        "secret files are served",
        "no .env or .git file is served",
    )
}
