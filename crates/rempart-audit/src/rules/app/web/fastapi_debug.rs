//! APP-FASTAPI-DEBUG: FastAPI/Starlette apps do not run in debug mode.

use super::{app_calls, errors_outcome, eval_at};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::django::read_evidence;

pub const RULE: Rule = Rule {
    id: "APP-FASTAPI-DEBUG",
    name: "fastapi-debug-on",
    family: Family::App,
    severity: Severity::High,
    level: Level::Sme,
    title: "FastAPI and Starlette apps run without debug tracebacks",
    doc: RuleDoc {
        what: "In the module the unit's server loads (`uvicorn app.main:app` -> `app/main.py` \
               under WorkingDirectory), or the app directory's entry point, every `FastAPI(...)` \
               or `Starlette(...)` call (in a factory function too) has no `debug` argument or \
               one that is false, evaluated with the service's environment (`debug=os.getenv(\
               \"DEBUG\") == \"1\"`).",
        why: "In debug mode an unhandled exception returns the full traceback, with source \
              lines and local values (credentials, tokens, queries), to whoever made the \
              request.",
        remediation: "Remove `debug=True` (or make it depend on a variable unset in \
                      production) and restart the service.",
        verify: "grep -rn 'FastAPI(\\|Starlette(' APP/ | grep debug",
        references: &[
            "seed 000 §7 Protection contre les attaques",
            "Starlette docs: Applications (debug)",
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
    for (m, call, line) in w.with_call(&["FastAPI", "Starlette"]) {
        let Some(e) = call.kwarg("debug") else {
            seen.push(m.at(line).key("debug").actual("unset (False)"));
            continue;
        };
        let (v, reads) = eval_at(ctx, m, e);
        match v.truthy() {
            Some(true) => {
                bad.push(m.at(line).key("debug").actual(v.show()).expected("False"));
                bad.extend(reads.iter().map(|r| read_evidence(r, false)));
            }
            Some(false) => seen.push(m.at(line).key("debug").actual(v.show())),
            None => seen.push(
                m.at(line)
                    .key("debug")
                    .note("computed in a way rempart does not evaluate"),
            ),
        }
    }
    if !bad.is_empty() {
        return Outcome::fail("a FastAPI/Starlette app runs in debug mode").with_all(bad);
    }
    if n == 0 {
        return errors_outcome(&w);
    }
    Outcome::pass(format!("{n} application(s) without debug mode")).with_all(seen)
}
