//! CTR-PROMETHEUS-ADMIN-API: Prometheus runs without its admin and lifecycle APIs.

use super::{at, compose_files, finish, services};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "CTR-PROMETHEUS-ADMIN-API",
    name: "prometheus-admin-api-enabled",
    family: Family::Containers,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Prometheus runs without its admin and lifecycle HTTP APIs",
    doc: RuleDoc {
        what: "No Prometheus service of a compose file (image `prom/prometheus` and the like) \
               passes `--web.enable-admin-api` or `--web.enable-lifecycle` in its `command` \
               or `entrypoint` (list or string form).",
        why: "Prometheus has no authentication of its own. The admin API lets anyone who \
              reaches it delete every series and take snapshots onto the disk; the lifecycle \
              API lets them shut it down or reload it (`POST /-/quit`), silencing the \
              monitoring that would show an attack.",
        remediation: "Remove the flags and restart with `docker compose up -d`; reload the \
                      configuration with `docker compose kill -s HUP prometheus` instead of \
                      the HTTP endpoint.",
        verify: "curl -s -o /dev/null -w '%{http_code}\\n' -X POST http://127.0.0.1:9090/api/v1/admin/tsdb/snapshot   # 404/405 expected",
        references: &[
            "seed 001 Monitoring Stack (Prometheus :9090)",
            "Prometheus docs: Security model (admin APIs, --web.enable-lifecycle)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let c = match compose_files(ctx) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    for (f, s) in services(&c) {
        if s.image_base().as_deref() != Some("prometheus") {
            continue;
        }
        judged += 1;
        for a in s.args() {
            let flag = a.value.split('=').next().unwrap_or("").trim();
            let off = a
                .value
                .split_once('=')
                .is_some_and(|(_, v)| v.trim() == "false");
            if matches!(flag, "--web.enable-admin-api" | "--web.enable-lifecycle") && !off {
                bad.push(
                    at(f, s, a.line)
                        .key("command")
                        .actual(flag)
                        .expected("absent"),
                );
            }
        }
    }
    let n = bad.len();
    finish(
        &c,
        bad,
        judged,
        format!("{n} Prometheus admin or lifecycle API flag(s)"),
        format!("{judged} Prometheus service(s) without admin APIs"),
        "no Prometheus service in the compose files",
    )
}
