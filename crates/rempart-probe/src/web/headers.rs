//! Security headers of the HTTPS page: HSTS and its includeSubDomains, Content-Security-Policy,
//! framing protection, nosniff, Referrer-Policy, Permissions-Policy. Judged on the page fetched
//! (the URL given, or where its plain-HTTP redirect leads).

use super::{http_ev, require_https};
use crate::http::headers::{parse_csp, parse_hsts, weak_script_sources};
use crate::site::Site;
use rempart_audit::{Evidence, Family, Level, Outcome, Rule, RuleDoc, Severity};

const CURL: &str = "curl -sI https://HOST/ | grep -iE 'strict-transport|content-security|x-frame|x-content-type|referrer-policy|permissions-policy'";
const OWASP: &str = "OWASP Secure Headers Project";

/// Six months, the shortest `max-age` accepted.
pub const HSTS_MIN_AGE: u64 = 15_768_000;

pub const HSTS: Rule = Rule {
    id: "WEB-PROBE-HSTS",
    name: "hsts-missing",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "HTTPS responses carry Strict-Transport-Security with max-age of 6 months or more",
    doc: RuleDoc {
        what: "The `Strict-Transport-Security` header of the HTTPS page, parsed as browsers do \
               (RFC 6797: case-insensitive directives, quoted values, a duplicated directive \
               voids the header). Fails when it is missing, has no valid max-age, or max-age is \
               under 15768000 seconds (6 months).",
        why: "Without HSTS a browser that types the bare name or follows an http:// link goes \
              through plain HTTP first, where an attacker on the network (public Wi-Fi) can \
              strip TLS (sslstrip) before the redirect happens.",
        remediation: "Once HTTPS is stable: nginx `add_header Strict-Transport-Security \
                      \"max-age=63072000; includeSubDomains\" always;`, Apache `Header always set \
                      Strict-Transport-Security \"max-age=63072000; includeSubDomains\"`, \
                      Traefik `stsSeconds = 63072000` in a headers middleware.",
        verify: CURL,
        references: &[
            "seed 000 §4 (« HSTS (HTTP Strict Transport Security) recommandé »)",
            "seed 002 Phase 2 §2 (« Header always set Strict-Transport-Security \"max-age=63072000; includeSubDomains; preload\" »)",
            "RFC 6797",
        ],
    },
    check: crate::probe_only,
};

pub const HSTS_SUBDOMAINS: Rule = Rule {
    id: "WEB-PROBE-HSTS-SUBDOMAINS",
    name: "hsts-without-subdomains",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "HSTS covers subdomains (includeSubDomains)",
    doc: RuleDoc {
        what: "The HSTS header of the HTTPS page has the includeSubDomains directive. Skipped \
               when there is no valid HSTS header (WEB-PROBE-HSTS reports that).",
        why: "Without includeSubDomains an attacker can use a plain-HTTP subdomain \
              (http://anything.example.org) to set cookies for the parent domain or phish under \
              its name.",
        remediation: "Add includeSubDomains once every subdomain serves HTTPS.",
        verify: CURL,
        references: &[
            "seed 002 Phase 2 §2 (HSTS with includeSubDomains)",
            "RFC 6797 §6.1.2",
        ],
    },
    check: crate::probe_only,
};

pub const CSP: Rule = Rule {
    id: "WEB-PROBE-CSP",
    name: "csp-missing-or-weak",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "A Content-Security-Policy restricts where scripts come from",
    doc: RuleDoc {
        what: "The enforced `Content-Security-Policy` header of the HTTPS page (a Report-Only \
               policy protects nothing and is noted). Fails when it is missing, has neither \
               script-src nor default-src, or lets any script run: 'unsafe-inline' without a \
               nonce, hash or 'strict-dynamic', 'unsafe-eval', or a source of `*`, `http:`, \
               `https:`, `data:` or `blob:`.",
        why: "A CSP is the last line against cross-site scripting: an injected script that the \
              policy does not allow never runs, so a template bug does not become account \
              takeover.",
        remediation: "Start from `default-src 'self'; object-src 'none'; base-uri 'self'; \
                      frame-ancestors 'none'` and add the origins the pages need; move inline \
                      scripts to files or give them nonces. Try it first as \
                      Content-Security-Policy-Report-Only.",
        verify: CURL,
        references: &[OWASP, "W3C Content Security Policy Level 3"],
    },
    check: crate::probe_only,
};

pub const FRAMING: Rule = Rule {
    id: "WEB-PROBE-FRAMING",
    name: "framing-allowed",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Pages cannot be framed by other sites (X-Frame-Options or frame-ancestors)",
    doc: RuleDoc {
        what: "Passes when the HTTPS page sends `X-Frame-Options: DENY` or `SAMEORIGIN`, or a \
               Content-Security-Policy with a frame-ancestors directive that is not `*`. \
               `ALLOW-FROM` is obsolete and does not count.",
        why: "A page that any site can frame can be overlaid with decoys so a user clicks \
              buttons they do not see (clickjacking): change a setting, confirm a transfer.",
        remediation: "Apache: `Header always set X-Frame-Options \"DENY\"`; nginx: `add_header \
                      X-Frame-Options DENY always;`; or CSP `frame-ancestors 'none'`.",
        verify: CURL,
        references: &[
            "seed 002 Phase 2 §2 (« Header always set X-Frame-Options \"DENY\" »)",
            OWASP,
        ],
    },
    check: crate::probe_only,
};

pub const NOSNIFF: Rule = Rule {
    id: "WEB-PROBE-NOSNIFF",
    name: "nosniff-missing",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Responses send X-Content-Type-Options: nosniff",
    doc: RuleDoc {
        what: "The HTTPS page sends `X-Content-Type-Options: nosniff`.",
        why: "Without it browsers may guess a type from the content: an uploaded text file can \
              run as a script or a stylesheet.",
        remediation: "Apache: `Header always set X-Content-Type-Options \"nosniff\"`; nginx: \
                      `add_header X-Content-Type-Options nosniff always;`.",
        verify: CURL,
        references: &[
            "seed 002 Phase 2 §2 (« Header always set X-Content-Type-Options \"nosniff\" »)",
            OWASP,
        ],
    },
    check: crate::probe_only,
};

pub const REFERRER: Rule = Rule {
    id: "WEB-PROBE-REFERRER",
    name: "referrer-policy-missing",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Sme,
    title: "A Referrer-Policy is set and is not unsafe-url",
    doc: RuleDoc {
        what: "The HTTPS page sends a `Referrer-Policy` with a known value other than \
               `unsafe-url`. `no-referrer-when-downgrade` (seed 002's choice) passes with a note: \
               it sends full URLs to other HTTPS sites, more than browsers' default.",
        why: "URLs carry identifiers and sometimes tokens (password-reset links, search terms); \
              the policy decides what other sites learn of them.",
        remediation:
            "Apache: `Header always set Referrer-Policy \"strict-origin-when-cross-origin\"`; \
                      nginx: `add_header Referrer-Policy strict-origin-when-cross-origin always;`.",
        verify: CURL,
        references: &[
            "seed 002 Phase 2 §2 (« Header always set Referrer-Policy ... »)",
            "W3C Referrer Policy",
        ],
    },
    check: crate::probe_only,
};

pub const PERMISSIONS: Rule = Rule {
    id: "WEB-PROBE-PERMISSIONS",
    name: "permissions-policy-missing",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "A Permissions-Policy limits powerful browser features",
    doc: RuleDoc {
        what: "The HTTPS page sends a `Permissions-Policy` header (any policy).",
        why: "It keeps an injected script or a framed third party from using the camera, the \
              microphone, geolocation or payment APIs in the site's name.",
        remediation: "Send the features the site does not use disabled, e.g. `Permissions-Policy: \
                      camera=(), microphone=(), geolocation=(), payment=()`.",
        verify: CURL,
        references: &[OWASP, "W3C Permissions Policy"],
    },
    check: crate::probe_only,
};

fn header_ev(site: &Site, name: &str) -> (Evidence, Option<String>) {
    let value = site
        .main
        .response()
        .and_then(|r| r.header(name))
        .map(str::to_string);
    let ev = http_ev(&site.main).key(name);
    let ev = match &value {
        Some(v) => ev.actual(v.as_str()),
        None => ev.actual("absent"),
    };
    (ev, value)
}

pub fn hsts(site: &Site) -> Outcome {
    if let Err(o) = require_https(site) {
        return o;
    }
    let (ev, value) = header_ev(site, "Strict-Transport-Security");
    let want = format!("max-age >= {HSTS_MIN_AGE}");
    let Some(v) = value else {
        return Outcome::fail("no Strict-Transport-Security header").with(ev.expected(want));
    };
    let h = parse_hsts(&v);
    match h.max_age {
        None => Outcome::fail("the HSTS header has no valid max-age: browsers ignore it")
            .with(ev.expected(want)),
        Some(age) if age < HSTS_MIN_AGE => Outcome::fail(format!(
            "HSTS max-age is {age} s ({} days), under 6 months",
            age / 86_400
        ))
        .with(ev.expected(want)),
        Some(age) => {
            Outcome::pass(format!("HSTS max-age {age} s ({} days)", age / 86_400)).with(ev)
        }
    }
}

pub fn hsts_subdomains(site: &Site) -> Outcome {
    if let Err(o) = require_https(site) {
        return o;
    }
    let (ev, value) = header_ev(site, "Strict-Transport-Security");
    let Some(h) = value
        .as_deref()
        .map(parse_hsts)
        .filter(|h| h.max_age.is_some())
    else {
        return Outcome::skip("no valid HSTS header (see WEB-PROBE-HSTS)");
    };
    if h.include_subdomains {
        Outcome::pass("HSTS includes subdomains").with(ev)
    } else {
        Outcome::fail("HSTS does not include subdomains").with(ev.expected("includeSubDomains"))
    }
}

pub fn csp(site: &Site) -> Outcome {
    if let Err(o) = require_https(site) {
        return o;
    }
    let (ev, value) = header_ev(site, "Content-Security-Policy");
    let Some(v) = value else {
        let mut o = Outcome::fail("no Content-Security-Policy header")
            .with(ev.expected("a policy with script-src or default-src"));
        let (ro, ro_value) = header_ev(site, "Content-Security-Policy-Report-Only");
        if ro_value.is_some() {
            o = o.with(ro.note("a report-only policy is sent: it reports, it does not block"));
        }
        return o;
    };
    let csp = parse_csp(&v);
    let Some(src) = csp.script_sources() else {
        return Outcome::fail(
            "the policy restricts no script source (no script-src, no default-src)",
        )
        .with(ev.expected("script-src or default-src"));
    };
    let weak = weak_script_sources(src);
    if weak.is_empty() {
        Outcome::pass("the Content-Security-Policy restricts scripts").with(ev)
    } else {
        Outcome::fail(format!(
            "the policy lets any script run: {}",
            weak.join("; ")
        ))
        .with(ev.expected("no 'unsafe-inline' (without nonce), 'unsafe-eval' or wildcard"))
    }
}

pub fn framing(site: &Site) -> Outcome {
    if let Err(o) = require_https(site) {
        return o;
    }
    let (xev, xfo) = header_ev(site, "X-Frame-Options");
    let (cev, csp) = header_ev(site, "Content-Security-Policy");
    let ancestors = csp
        .as_deref()
        .map(parse_csp)
        .and_then(|c| c.get("frame-ancestors").map(|v| v.to_vec()));
    if let Some(a) = &ancestors {
        if !a.iter().any(|s| s == "*") {
            return Outcome::pass(format!("CSP frame-ancestors {}", a.join(" "))).with(cev);
        }
    }
    match xfo.as_deref().map(|v| v.trim().to_ascii_uppercase()) {
        Some(v) if v == "DENY" || v == "SAMEORIGIN" => {
            Outcome::pass(format!("X-Frame-Options {v}")).with(xev)
        }
        Some(v) => Outcome::fail(format!("X-Frame-Options {v} does not stop framing"))
            .with(xev.expected("DENY or SAMEORIGIN")),
        None => Outcome::fail("neither X-Frame-Options nor CSP frame-ancestors is sent")
            .with(xev.expected("DENY or SAMEORIGIN")),
    }
}

pub fn nosniff(site: &Site) -> Outcome {
    if let Err(o) = require_https(site) {
        return o;
    }
    let (ev, value) = header_ev(site, "X-Content-Type-Options");
    match value {
        Some(v) if v.trim().eq_ignore_ascii_case("nosniff") => {
            Outcome::pass("X-Content-Type-Options nosniff").with(ev)
        }
        _ => Outcome::fail("X-Content-Type-Options: nosniff is not sent")
            .with(ev.expected("nosniff")),
    }
}

const REFERRER_VALUES: &[&str] = &[
    "no-referrer",
    "no-referrer-when-downgrade",
    "same-origin",
    "origin",
    "strict-origin",
    "origin-when-cross-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];

pub fn referrer(site: &Site) -> Outcome {
    if let Err(o) = require_https(site) {
        return o;
    }
    let (ev, value) = header_ev(site, "Referrer-Policy");
    let Some(v) = value else {
        return Outcome::fail("no Referrer-Policy header")
            .with(ev.expected("strict-origin-when-cross-origin or stricter"));
    };
    // The last known token wins (RFC: a comma list falls back to the last understood value).
    let token = v
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .rfind(|t| REFERRER_VALUES.contains(&t.as_str()));
    match token.as_deref() {
        None => Outcome::fail(format!("Referrer-Policy `{v}` is not a policy browsers know"))
            .with(ev.expected("strict-origin-when-cross-origin or stricter")),
        Some("unsafe-url") => Outcome::fail("Referrer-Policy unsafe-url sends full URLs everywhere")
            .with(ev.expected("strict-origin-when-cross-origin or stricter")),
        Some("no-referrer-when-downgrade") => Outcome::pass("Referrer-Policy no-referrer-when-downgrade")
            .with(ev.note("sends full URLs to other HTTPS sites; strict-origin-when-cross-origin sends only the origin")),
        Some(t) => Outcome::pass(format!("Referrer-Policy {t}")).with(ev),
    }
}

pub fn permissions(site: &Site) -> Outcome {
    if let Err(o) = require_https(site) {
        return o;
    }
    let (ev, value) = header_ev(site, "Permissions-Policy");
    match value {
        Some(v) if !v.trim().is_empty() => Outcome::pass("a Permissions-Policy is sent").with(ev),
        _ => Outcome::fail("no Permissions-Policy header")
            .with(ev.expected("camera=(), microphone=(), geolocation=() ...")),
    }
}
