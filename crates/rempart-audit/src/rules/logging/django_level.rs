//! LOG-DJANGO-DEBUG-LEVEL: Django does not log at DEBUG level in production.

use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::django::{judge_projects, Verdict};
use crate::rules::app::pyread::Val;

pub const RULE: Rule = Rule {
    id: "LOG-DJANGO-DEBUG-LEVEL",
    name: "django-logs-at-debug-level",
    family: Family::Logging,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Django logs at INFO or above in production",
    doc: RuleDoc {
        what: "In the effective Django `LOGGING` dictionary (read as APP-DJANGO-DEBUG reads \
               settings), neither `root` nor any logger under `loggers` has level `DEBUG` \
               while one of its handlers would pass DEBUG records (a handler with level \
               DEBUG or no level). Levels may come from the environment \
               (`os.getenv('DJANGO_LOG_LEVEL', 'INFO')`). A project without `LOGGING` uses \
               Django's defaults, which do not log DEBUG records.",
        why: "At DEBUG, `django.db.backends` writes every SQL query with its parameters \
              (passwords being set, personal data, session keys) and other libraries log \
              request bodies and headers; the logs grow fast and keep what should never be \
              stored.",
        remediation: "Set the loggers and the root to `INFO` (or `WARNING`/`ERROR`) in the \
                      production settings, e.g. `'root': {'handlers': ['file'], 'level': \
                      'INFO'}`, and restart the service.",
        verify: "sudo -u APPUSER APPDIR/venv/bin/python APPDIR/manage.py diffsettings | grep -A20 ^LOGGING | grep -n DEBUG",
        references: &[
            "seed 002 Phase 2 §4 (journalisation Django niveau INFO/ERROR en prod, dans /var/log/observations)",
            "Django docs: Logging (django.db.backends logs every SQL statement at DEBUG)",
        ],
    },
    check,
};

fn level(v: Option<&Val>) -> Option<String> {
    v.and_then(Val::as_str)
        .map(|s| s.trim().to_ascii_uppercase())
}

fn check(ctx: &Ctx) -> Outcome {
    judge_projects(
        ctx,
        "Django logs DEBUG records in production",
        "Django logs at INFO or above",
        |p| {
            let mut v = Verdict::default();
            let Some(b) = p.values.get("LOGGING") else {
                v.seen.push(p.unset_evidence("LOGGING", "no DEBUG records"));
                return v;
            };
            if !matches!(b.val, Val::Dict(_)) {
                v.unknown.push(b.evidence());
                return v;
            }
            let handlers = b.val.get("handlers");
            let passes_debug = |names: Option<&Val>| -> bool {
                let Some(Val::List(names)) = names else {
                    return true;
                };
                names.iter().any(|n| {
                    let h = n.as_str().and_then(|n| handlers.and_then(|h| h.get(n)));
                    match h {
                        Some(h) => matches!(
                            level(h.get("level")).as_deref(),
                            None | Some("DEBUG" | "NOTSET")
                        ),
                        None => true,
                    }
                })
            };
            let mut loggers: Vec<(String, &Val)> = Vec::new();
            if let Some(r) = b.val.get("root") {
                loggers.push(("root".into(), r));
            }
            if let Some(Val::Dict(ls)) = b.val.get("loggers") {
                for (k, l) in ls {
                    loggers.push((k.as_str().unwrap_or("?").to_string(), l));
                }
            }
            let text = ctx.host.read_text(&b.path).ok().flatten();
            for (name, l) in loggers {
                if level(l.get("level")).as_deref() == Some("DEBUG")
                    && passes_debug(l.get("handlers"))
                {
                    // The line of the logger's entry, searched from the LOGGING assignment.
                    let needle = if name == "root" {
                        "'root'".to_string()
                    } else {
                        format!("'{name}'")
                    };
                    let dq = needle.replace('\'', "\"");
                    let line = text
                        .as_ref()
                        .and_then(|t| {
                            t.text
                                .lines()
                                .enumerate()
                                .skip(b.line.saturating_sub(1) as usize)
                                .find(|(_, x)| x.contains(&needle) || x.contains(&dq))
                                .map(|(i, _)| i as u32 + 1)
                        })
                        .unwrap_or(b.line);
                    let snippet = text
                        .as_ref()
                        .and_then(|t| t.line(line))
                        .unwrap_or("")
                        .to_string();
                    v.fails.push(
                        Evidence::file(&b.path)
                            .line(line)
                            .snippet(snippet)
                            .key(format!("LOGGING {name}"))
                            .actual("DEBUG")
                            .expected("INFO"),
                    );
                    v.fails.extend(b.env_evidence(false));
                }
            }
            if v.fails.is_empty() {
                v.seen.push(b.evidence().actual("no DEBUG logger"));
            }
            v
        },
    )
}
