//! APP-DJANGO-COOKIES: session and CSRF cookies carry the Secure flag.

use super::{judge_projects, Setting, Verdict};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "APP-DJANGO-COOKIES",
    name: "django-cookies-not-secure",
    family: Family::App,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Django's session and CSRF cookies are sent over HTTPS only",
    doc: RuleDoc {
        what: "The effective `SESSION_COOKIE_SECURE` and `CSRF_COOKIE_SECURE` are both true \
               (read as APP-DJANGO-DEBUG reads DEBUG). Unset is Django's default, False. The \
               flag is needed behind a TLS-terminating proxy too: it tells the browser, which \
               speaks HTTPS to the proxy, never to send the cookie over plain HTTP.",
        why: "Without the Secure flag the browser also sends the session cookie on any plain \
              HTTP request to the domain (a typed URL, an http:// link, a downgrade by an \
              attacker on the same network), where it can be read and replayed to take over \
              the session.",
        remediation: "Add `SESSION_COOKIE_SECURE = True` and `CSRF_COOKIE_SECURE = True` to \
                      the production settings and restart the service.",
        verify: "curl -sI https://SITE/admin/login/ | grep -i set-cookie   # each cookie shows `Secure`",
        references: &[
            "Django deployment checklist: CSRF_COOKIE_SECURE, SESSION_COOKIE_SECURE (security.W012, W016)",
            "seed 000 §4 Chiffrement en transit (HTTPS obligatoire)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    judge_projects(
        ctx,
        "Django's session or CSRF cookie can be sent over plain HTTP",
        "session and CSRF cookies are Secure",
        |p| {
            let mut v = Verdict::default();
            for name in ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"] {
                match p.get(name) {
                    Setting::Set(b) => match b.val.truthy() {
                        Some(true) => v.seen.push(b.evidence()),
                        Some(false) => {
                            v.fails.push(b.evidence().expected("True"));
                            v.fails.extend(b.env_evidence(false));
                        }
                        None => v.unknown.push(b.evidence()),
                    },
                    Setting::Unset => v
                        .fails
                        .push(p.unset_evidence(name, "False").expected("True")),
                }
                v.seen.extend(p.conditional_evidence(name));
            }
            v
        },
    )
}
