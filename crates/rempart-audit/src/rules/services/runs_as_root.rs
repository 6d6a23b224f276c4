//! SVC-RUNS-AS-ROOT: application services run as a dedicated unprivileged account.

use super::app_units;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SVC-RUNS-AS-ROOT",
    name: "app-service-runs-as-root",
    family: Family::Services,
    severity: Severity::High,
    level: Level::Sme,
    title: "Application services run as an unprivileged account",
    doc: RuleDoc {
        what: "Every systemd unit that runs an application (an app server such as uvicorn, \
               gunicorn or daphne, or a service working in /opt, /srv, /home or /var/www) sets \
               `User=` to an account other than root, or `DynamicUser=yes`. A unit without \
               `User=` runs as root.",
        why: "A flaw in the application (a deserialisation bug, a template injection, a \
              vulnerable dependency) gives the attacker the rights of its process. As root that \
              is the whole machine; as a dedicated account it is the app's own files.",
        remediation: "Create an account without a shell (`adduser --system --group \
                      --no-create-home --shell /usr/sbin/nologin APP`), give it the app \
                      directory, and add `User=APP` and `Group=APP` in a drop-in \
                      (`systemctl edit UNIT`), then `systemctl restart UNIT`.",
        verify: "systemctl show -p User -p DynamicUser UNIT; ps -o user= -p $(systemctl show -p MainPID --value UNIT)",
        references: &[
            "seed 000 §2 Principe du moindre privilège (« Tourne avec utilisateur avmvp (non-root) »)",
            "man systemd.exec(5): User=, DynamicUser=",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let (d, idx) = match app_units(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    for &i in &idx {
        let u = &d.units[i];
        if !u.runs_as_root() {
            continue;
        }
        let ev = match u.unit.get("Service", "User") {
            Some(s) => Evidence::file(&s.path)
                .line(s.line)
                .snippet(&s.text)
                .key("User")
                .actual(s.value.as_str()),
            None => Evidence::file(&u.unit.path)
                .key("User")
                .actual("unset (root)"),
        };
        bad.push(
            ev.expected("a dedicated account")
                .note(format!("unit {}", u.unit.name)),
        );
    }
    if bad.is_empty() {
        Outcome::pass(format!("{} application units run unprivileged", idx.len()))
    } else {
        Outcome::fail(format!("{} application units run as root", bad.len())).with_all(bad)
    }
}
