//! APP-DJANGO-DEBUG: Django's DEBUG is off in production.

use super::{judge_projects, Setting, Verdict};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "APP-DJANGO-DEBUG",
    name: "django-debug-on",
    family: Family::App,
    severity: Severity::High,
    level: Level::Sme,
    title: "Django runs with DEBUG off",
    doc: RuleDoc {
        what: "In the settings module the service loads (DJANGO_SETTINGS_MODULE from its unit, \
               else the one its WSGI module or manage.py names), with star imports followed, \
               the last module-level assignment of `DEBUG` is false. Values taken from the \
               environment (`os.environ`, `os.getenv`, django-environ `env.bool`, decouple \
               `config(cast=bool)`) are evaluated with the environment the unit and the app's \
               `.env` give the service, and their fallbacks when the variable is unset. `DEBUG` \
               unset is Django's default, False. An assignment inside an `if` whose test cannot \
               be decided (or an `except`) is shown as a note, not judged.",
        why: "With DEBUG on, any error page shows the settings (database passwords included, \
              only partly masked), the SQL queries, the source around the failing line and the \
              environment; Django also keeps every SQL query in memory.",
        remediation: "Set `DEBUG = False` in the production settings, or read it from the \
                      environment with a false default (`DEBUG = \
                      os.environ.get(\"DJANGO_DEBUG\", \"\") == \"1\"`) and do not set the \
                      variable in production. Restart the service.",
        verify:
            "sudo -u APPUSER env $(cat .env | xargs) python manage.py diffsettings | grep ^DEBUG; \
                 curl -s https://SITE/does-not-exist | grep -c 'DEBUG = True'",
        references: &[
            "seed 002 Phase 1 §5 Désactiver DEBUG et protéger settings (DEBUG = False)",
            "Django deployment checklist: DEBUG",
            "manage.py check --deploy (security.W018)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    judge_projects(
        ctx,
        "Django's DEBUG is on in production",
        "DEBUG is off",
        |p| {
            let mut v = Verdict::default();
            match p.get("DEBUG") {
                Setting::Set(b) => match b.val.truthy() {
                    Some(true) => {
                        v.fails.push(b.evidence().expected("False"));
                        v.fails.extend(b.env_evidence(false));
                    }
                    Some(false) => {
                        v.seen.push(b.evidence());
                        v.seen.extend(b.env_evidence(false));
                    }
                    None => v.unknown.push(b.evidence()),
                },
                Setting::Unset => v.seen.push(p.unset_evidence("DEBUG", "False")),
            }
            v.seen.extend(p.conditional_evidence("DEBUG"));
            v
        },
    )
}
