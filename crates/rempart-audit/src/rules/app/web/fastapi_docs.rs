//! APP-FASTAPI-DOCS: the interactive API docs and OpenAPI schema are not public in production.

use super::{app_calls, errors_outcome, eval_at};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::pyread::Val;

pub const RULE: Rule = Rule {
    id: "APP-FASTAPI-DOCS",
    name: "fastapi-docs-public",
    family: Family::App,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "FastAPI apps do not publish their OpenAPI schema and docs in production",
    doc: RuleDoc {
        what: "Every `FastAPI(...)` call (found as for APP-FASTAPI-DEBUG) passes \
               `openapi_url=None` (or an empty string), which also turns off `/docs` and \
               `/redoc`, possibly through a value from the environment that evaluates to None. \
               Without it the schema is served at `/openapi.json`; turning off only `docs_url` \
               and `redoc_url` still publishes the schema. A value rempart cannot evaluate is \
               shown, not failed.",
        why: "The schema lists every route with its parameters and models, internal and admin \
              endpoints included: a map for an attacker. Routes protected at the proxy (seed \
              000 protects /api and /admin with Cloudflare Access) are still described.",
        remediation: "Create the app with `FastAPI(openapi_url=None)` in production, or \
                      `openapi_url=\"/openapi.json\" if os.getenv(\"ENABLE_DOCS\") == \"1\" \
                      else None`, or protect the docs routes with authentication.",
        verify:
            "curl -s -o /dev/null -w '%{http_code}\\n' https://SITE/openapi.json   # 404 expected",
        references: &[
            "seed 000 §5 Authentification (interface et API derrière Cloudflare Zero Trust)",
            "FastAPI docs: Metadata and Docs URLs (openapi_url=None)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let (w, n) = match app_calls(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut seen = Vec::new();
    for (m, call, line) in w.with_call(&["FastAPI"]) {
        let off = |name: &str| -> Option<Option<bool>> {
            let e = call.kwarg(name)?;
            let (v, _) = eval_at(ctx, m, e);
            Some(match v {
                Val::None => Some(true),
                Val::Str(s) => Some(s.is_empty()),
                _ => None,
            })
        };
        match off("openapi_url") {
            Some(Some(true)) => seen.push(m.at(line).key("openapi_url").actual("None")),
            Some(None) => seen.push(
                m.at(line)
                    .key("openapi_url")
                    .note("computed in a way rempart does not evaluate"),
            ),
            Some(Some(false)) | None => {
                let mut ev = m
                    .at(line)
                    .key("openapi_url")
                    .actual(if call.kwarg("openapi_url").is_some() {
                        "a path (schema served)"
                    } else {
                        "unset (/openapi.json, /docs, /redoc served)"
                    })
                    .expected("None");
                if call.starred {
                    ev = ev.note("more arguments are passed with **kwargs");
                }
                if off("docs_url") == Some(Some(true)) && off("redoc_url") == Some(Some(true)) {
                    ev = ev.note("docs pages are off, but the schema is still served");
                }
                bad.push(ev);
            }
        }
    }
    if !bad.is_empty() {
        return Outcome::fail("a FastAPI app publishes its OpenAPI schema").with_all(bad);
    }
    if n == 0 {
        return errors_outcome(&w);
    }
    if seen.iter().all(|e| e.note.is_some()) && !seen.is_empty() {
        return Outcome::skip("openapi_url is computed in a way rempart does not evaluate")
            .with_all(seen);
    }
    Outcome::pass("the OpenAPI schema and docs are off").with_all(seen)
}
