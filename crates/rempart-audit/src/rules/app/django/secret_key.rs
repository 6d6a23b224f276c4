//! APP-DJANGO-SECRET-KEY: Django's SECRET_KEY is neither written in the code nor weak.

use super::{judge_projects, read_evidence, Binding, Setting, Verdict};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::pyread::Val;
use crate::rules::app::strength::{self, SecretKind, Weakness};

pub const RULE: Rule = Rule {
    id: "APP-DJANGO-SECRET-KEY",
    name: "django-secret-key-exposed",
    family: Family::App,
    severity: Severity::High,
    level: Level::Sme,
    title: "Django's SECRET_KEY comes from outside the code and is strong",
    doc: RuleDoc {
        what: "The effective `SECRET_KEY` is not a literal written in the settings (nor a \
               `django-insecure-` key from startproject), not generated at each start \
               (`get_random_secret_key()`, `secrets.token_*`), and, when it comes from the \
               environment, the variable is set for the service (a literal fallback such as \
               `os.environ.get('X', 'dev-key')` is reported when X is set neither by the unit \
               nor in the app's `.env`) and its value passes Django's own check: at least 50 \
               characters, 5 distinct, no placeholder. Values are never shown, only their \
               length. A key read from a file at run time is accepted.",
        why: "The key signs sessions, password-reset links, CSRF tokens and signed cookies: \
              whoever knows it can forge a session for any user, and with some session \
              serialisers run code. A key in the code is in every clone of the repository and \
              every backup; a key regenerated at start logs everyone out at each restart and \
              differs between workers.",
        remediation: "Generate a key (`python -c 'from django.core.management.utils import \
                      get_random_secret_key as g; print(g())'`), store it in the service's \
                      environment file (mode 600, e.g. `DJANGO_SECRET_KEY=...` in .env), read \
                      it with `SECRET_KEY = os.environ[\"DJANGO_SECRET_KEY\"]`, remove the \
                      literal from the code, and rotate the old key (it stays in the \
                      repository's history).",
        verify: "grep -rn 'SECRET_KEY *=' APP/; python manage.py check --deploy \
                 # security.W009 must not appear",
        references: &[
            "seed 002 Phase 1 §5 (SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY'), raise if missing)",
            "Django deployment checklist: SECRET_KEY (security.W009)",
        ],
    },
    check,
};

/// Django's W009: at least 50 characters and 5 distinct ones, not a development key.
fn weakness(value: &str) -> Option<Weakness> {
    if let Some(w) = strength::judge(value, SecretKind::Key) {
        return Some(w);
    }
    let len = value.trim().chars().count();
    (len < 50).then_some(Weakness::Short { len, min: 50 })
}

/// The assignment, with the literal replaced (the key must not travel in reports).
fn redacted(b: &Binding, what: &str) -> Evidence {
    let n = b.val.as_str().map_or(0, |s| s.chars().count());
    Evidence::file(&b.path)
        .line(b.line)
        .snippet(format!("SECRET_KEY = <redacted, {n} characters>"))
        .key("SECRET_KEY")
        .actual(what.to_string())
        .expected("read from the service's environment")
}

fn check(ctx: &Ctx) -> Outcome {
    judge_projects(
        ctx,
        "Django's SECRET_KEY is hard-coded, generated at start or weak",
        "SECRET_KEY comes from the environment and is strong",
        |p| {
            let mut v = Verdict::default();
            let b = match p.get("SECRET_KEY") {
                Setting::Set(b) => b,
                Setting::Unset => {
                    v.unknown.push(
                        p.unset_evidence("SECRET_KEY", "none: Django refuses to start")
                            .note("no assignment found in the settings modules read"),
                    );
                    return v;
                }
            };
            if b.val == Val::Random {
                v.fails.push(
                    Evidence::file(&b.path)
                        .line(b.line)
                        .snippet(&b.text)
                        .key("SECRET_KEY")
                        .actual("generated at each start")
                        .expected("a fixed key from the service's environment"),
                );
                v.fails.extend(b.env_evidence(true));
                return v;
            }
            if b.literal() {
                let what = match b.val.as_str() {
                    Some(s) if s.starts_with("django-insecure-") => {
                        "hard-coded `django-insecure-` development key"
                    }
                    _ => "hard-coded in the settings",
                };
                v.fails.push(redacted(b, what));
                return v;
            }
            // From the environment: the read that gave the value.
            let key_read = b
                .reads
                .iter()
                .rev()
                .find(|r| r.hit.is_some() || r.default.is_some());
            match (key_read, b.val.as_str()) {
                (Some(r), Some(value)) if r.hit.is_some() => match weakness(value) {
                    Some(w) => {
                        v.fails.push(read_evidence(r, true).actual(w.describe()).expected(
                            "at least 50 random characters (get_random_secret_key())",
                        ));
                        v.fails.push(
                            Evidence::file(&b.path)
                                .line(b.line)
                                .snippet(&b.text)
                                .key("SECRET_KEY"),
                        );
                    }
                    None => v.seen.push(
                        Evidence::file(&b.path)
                            .line(b.line)
                            .snippet(&b.text)
                            .key("SECRET_KEY")
                            .actual(format!("from ${} (strong)", r.var)),
                    ),
                },
                (Some(r), Some(_)) => {
                    v.fails.push(redacted(
                        b,
                        &format!("falls back to a hard-coded key: ${} is unset", r.var),
                    ));
                    v.fails.push(read_evidence(r, true));
                }
                _ if b.reads.is_empty() => v.seen.push(
                    Evidence::file(&b.path)
                        .line(b.line)
                        .snippet(&b.text)
                        .key("SECRET_KEY")
                        .note("read at run time, not written in the code"),
                ),
                _ => v.unknown.push(
                    Evidence::file(&b.path)
                        .line(b.line)
                        .snippet(&b.text)
                        .key("SECRET_KEY")
                        .note("the variable it reads is not set for the service (see APP-ENV-SECRETS)"),
                ),
            }
            v
        },
    )
}
