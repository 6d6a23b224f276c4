//! WEB-PROBE-DEBUG: no debug page or traceback on the site's answers, provoked errors included.

use super::http_ev;
use crate::site::Site;
use rempart_audit::{Family, Level, Outcome, Rule, RuleDoc, Severity};

pub const RULE: Rule = Rule {
    id: "WEB-PROBE-DEBUG",
    name: "debug-page-exposed",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Errors show no debug page or traceback",
    doc: RuleDoc {
        what: "The bodies of the page, of a provoked 404 (a random path), of a request with a \
               Host header the site does not serve (Django answers DisallowedHost), of a \
               malformed path, and of every probed path are searched for the marks of a debug \
               page: Django's technical 404/500 (`DEBUG = True`, `Using the URLconf defined \
               in`, `DisallowedHost at`), the Werkzeug debugger, Starlette/FastAPI's debugger, \
               a Python traceback, PHP's fatal errors with file paths.",
        why: "A debug page is a map of the application: settings (with secrets Django does not \
              mask), URL patterns, source code and local variables; the Werkzeug console even \
              runs code.",
        remediation: "Django: DEBUG = False and ALLOWED_HOSTS set in production settings. \
                      FastAPI/Starlette: debug=False. Flask: never `app.run(debug=True)` or \
                      FLASK_DEBUG=1 outside development. Restart the app.",
        verify:
            "curl -s https://HOST/this-does-not-exist | grep -iE 'DEBUG = True|Traceback|Debugger'",
        references: &[
            "seed 000 §6 (production settings)",
            "Django deployment checklist (DEBUG, ALLOWED_HOSTS)",
        ],
    },
    check: crate::probe_only,
};

/// (marker, what it shows). Matched case-sensitively on the body.
const MARKERS: &[(&str, &str)] = &[
    (
        "because you have <code>DEBUG = True</code>",
        "Django debug page",
    ),
    (
        "Using the URLconf defined in",
        "Django debug 404 (URL patterns listed)",
    ),
    (
        "<title>DisallowedHost at",
        "Django debug page (DisallowedHost)",
    ),
    (
        "The install worked successfully! Congratulations!",
        "Django default page (DEBUG on, no URLs)",
    ),
    (
        "Werkzeug Debugger",
        "Werkzeug debugger (remote code execution)",
    ),
    (
        "The debugger caught an exception in your WSGI application",
        "Werkzeug debugger",
    ),
    (
        "<title>Starlette Debugger</title>",
        "Starlette/FastAPI debug traceback",
    ),
    ("Traceback (most recent call last)", "Python traceback"),
    ("<b>Fatal error</b>:", "PHP error with file paths"),
];

pub fn check(site: &Site) -> Outcome {
    // One piece of evidence per kind of page (the first response showing it), with a count.
    let mut found: Vec<(usize, rempart_audit::Evidence, usize)> = Vec::new();
    let mut total = 0usize;
    for f in std::iter::once(&site.plain).chain(site.responses()) {
        let Some(r) = f.response() else { continue };
        let body = r.text();
        let Some(i) = MARKERS.iter().position(|(m, _)| body.contains(m)) else {
            continue;
        };
        total += 1;
        match found.iter_mut().find(|(k, _, _)| *k == i) {
            Some((_, _, n)) => *n += 1,
            None => {
                let (marker, what) = MARKERS[i];
                found.push((
                    i,
                    http_ev(f)
                        .key(format!("{} response body", r.status))
                        .actual(what)
                        .expected("a plain error page")
                        .note(format!("contains `{marker}`")),
                    1,
                ));
            }
        }
    }
    if found.is_empty() {
        return Outcome::pass("no debug page or traceback in any response");
    }
    let kinds: Vec<&str> = found.iter().map(|(i, _, _)| MARKERS[*i].1).collect();
    let evidence = found.into_iter().map(|(_, ev, n)| {
        if n > 1 {
            let note = ev.note.clone().unwrap_or_default();
            ev.note(format!("{note}; {} more responses show it", n - 1))
        } else {
            ev
        }
    });
    Outcome::fail(format!(
        "{total} responses show a debug page ({})",
        kinds.join(", ")
    ))
    .with_all(evidence)
}
