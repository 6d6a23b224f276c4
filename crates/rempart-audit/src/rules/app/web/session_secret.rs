//! APP-SESSION-SECRET: the session signing secret is stable and not in the code.

use super::{eval_at, WebModule, WebModules};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::django::read_evidence;
use crate::rules::app::pyread::{Expr, StmtKind, Val};

pub const RULE: Rule = Rule {
    id: "APP-SESSION-SECRET",
    name: "session-secret-unstable-or-hard-coded",
    family: Family::App,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Session secrets come from the service's environment, stable across restarts",
    doc: RuleDoc {
        what: "Where a web app module (found as for APP-FASTAPI-DEBUG) configures signed \
               sessions — Starlette/FastAPI `add_middleware(SessionMiddleware, \
               secret_key=...)`, `Middleware(SessionMiddleware, secret_key=...)`, Flask \
               `app.secret_key = ...` or `app.config[\"SECRET_KEY\"] = ...` — the secret is \
               read from an environment variable that the unit or the app's `.env` sets. It \
               fails when the secret is a literal in the code, generated at import \
               (`secrets.token_urlsafe(32)`, `os.urandom`), or taken from a variable that is \
               not set so the code's fallback (literal or generated) is used.",
        why: "A secret generated at start changes at every restart and differs between \
              workers: sessions break at random, and the usual workaround is to weaken \
              something else. A secret in the code is known to everyone with the repository \
              and lets them forge sessions.",
        remediation: "Generate the secret once (`python -c 'import secrets; \
                      print(secrets.token_urlsafe(32))'`), put it in the service's .env \
                      (`SESSION_SECRET=...`, mode 600, owned by the service account) and read \
                      it with `os.environ[\"SESSION_SECRET\"]`. Restart the service.",
        verify: "grep -rn 'SessionMiddleware\\|secret_key' APP/; grep -c '^SESSION_SECRET=' APP/.env",
        references: &[
            "seed 000 Risques résiduels §5 (Session middleware avec secret aléatoire, régénéré à chaque redémarrage : stocker SESSION_SECRET dans .env)",
            "seed 000 §6 Gestion des secrets (.env avec SESSION_SECRET)",
            "Starlette docs: SessionMiddleware; Flask docs: SECRET_KEY",
        ],
    },
    check,
};

/// The session-secret expressions of a module: (expression, line).
fn secrets_of(m: &WebModule) -> Vec<(Expr, u32)> {
    let mut out = Vec::new();
    for (c, line) in m
        .calls("add_middleware")
        .into_iter()
        .chain(m.calls("Middleware"))
    {
        if c.args.first().and_then(Expr::last_name) == Some("SessionMiddleware") {
            if let Some(e) = c.arg(1, "secret_key") {
                out.push((e.clone(), line));
            }
        }
    }
    for (c, line) in m.calls("SessionMiddleware") {
        if let Some(e) = c.arg(1, "secret_key") {
            out.push((e.clone(), line));
        }
    }
    if let Ok(module) = &m.module {
        for s in &module.stmts {
            let StmtKind::Assign { targets, value } = &s.kind else {
                continue;
            };
            let flask = targets.iter().any(|t| match t {
                Expr::Attr(_, a) => a == "secret_key",
                Expr::Subscript(base, key) => {
                    matches!(base.as_ref(), Expr::Attr(_, a) if a == "config")
                        && matches!(key.as_ref(), Expr::Str(k) if k == "SECRET_KEY")
                }
                _ => false,
            });
            if flask {
                out.push((value.clone(), s.line));
            }
        }
    }
    out
}

fn check(ctx: &Ctx) -> Outcome {
    let w = ctx.fact::<WebModules>();
    let mut bad = Vec::new();
    let mut seen = Vec::new();
    let mut unknown = Vec::new();
    let mut judged = 0;
    for m in &w.modules {
        for (e, line) in secrets_of(m) {
            judged += 1;
            let (v, reads) = eval_at(ctx, m, &e);
            let at = m.at(line).key("secret_key");
            let unset = reads.iter().find(|r| r.hit.is_none());
            let set = reads.iter().find(|r| r.hit.is_some());
            match (&v, set, unset) {
                (Val::Str(_) | Val::Bytes, Some(r), _) => {
                    seen.push(at.actual(format!("from ${}", r.var)));
                }
                (Val::Random, _, None) => bad.push(
                    at.actual("generated at each start")
                        .expected("a fixed secret from the service's environment"),
                ),
                (Val::Random, _, Some(r)) => {
                    bad.push(at.actual(format!("generated at each start: ${} is not set", r.var)));
                    bad.push(read_evidence(r, true));
                }
                (Val::Str(_) | Val::Bytes, None, None) => bad.push(
                    Evidence::file(&m.path)
                        .line(line)
                        .key("secret_key")
                        .actual("hard-coded in the code")
                        .expected("read from the service's environment"),
                ),
                (Val::Str(_) | Val::Bytes, None, Some(r)) => {
                    bad.push(
                        Evidence::file(&m.path)
                            .line(line)
                            .key("secret_key")
                            .actual(format!(
                                "falls back to a hard-coded secret: ${} is unset",
                                r.var
                            )),
                    );
                    bad.push(read_evidence(r, true));
                }
                (Val::None, _, Some(r)) => {
                    bad.push(at.actual(format!("${} is not set", r.var)));
                    bad.push(read_evidence(r, true));
                }
                _ => unknown.push(at.note("computed in a way rempart does not evaluate")),
            }
        }
    }
    if !bad.is_empty() {
        return Outcome::fail("a session secret is generated at start or written in the code")
            .with_all(bad);
    }
    if judged == 0 {
        return Outcome::not_applicable("no signed-session configuration found in the web apps");
    }
    if !unknown.is_empty() && seen.is_empty() {
        return Outcome::skip("the session secret is computed in a way rempart does not evaluate")
            .with_all(unknown);
    }
    Outcome::pass("session secrets come from the service's environment").with_all(seen)
}
