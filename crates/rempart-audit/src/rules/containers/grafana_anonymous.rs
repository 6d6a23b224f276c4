//! CTR-GRAFANA-ANONYMOUS: Grafana requires a login and does not let visitors sign up.

use super::compose::{ComposeFile, Service};
use super::{at, compose_files, finish, services};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "CTR-GRAFANA-ANONYMOUS",
    name: "grafana-open-access",
    family: Family::Containers,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Grafana containers require a login and refuse self sign-up",
    doc: RuleDoc {
        what: "For each Grafana service of a compose file: anonymous access is off and \
               sign-up is off. Read from its environment (`GF_AUTH_ANONYMOUS_ENABLED`, \
               `GF_USERS_ALLOW_SIGN_UP`, true/1/yes/on meaning on) and, where the environment \
               does not set them, from a `grafana.ini` bind-mounted at \
               `/etc/grafana/grafana.ini` (`[auth.anonymous] enabled`, `[users] \
               allow_sign_up`). Grafana's defaults are off.",
        why: "Anonymous access shows every dashboard, and through them the metrics and logs \
              of the whole host, to anyone who reaches the port (with the anonymous role set \
              to Editor or Admin, it can also change them). Open sign-up lets anyone create \
              an account.",
        remediation: "Set `GF_AUTH_ANONYMOUS_ENABLED=false` and `GF_USERS_ALLOW_SIGN_UP=false` \
                      (or remove them: off is the default), then `docker compose up -d`.",
        verify: "curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:3001/api/dashboards/home   # 401 expected",
        references: &[
            "seed 001 Monitoring Stack (Grafana on :3001) and Security Checklist",
            "Grafana docs: Anonymous authentication; [users] allow_sign_up",
        ],
    },
    check,
};

const GRAFANA: &[&str] = &[
    "grafana/grafana",
    "grafana/grafana-oss",
    "grafana/grafana-enterprise",
    "bitnami/grafana",
];

fn on(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// `[section] key` of a mounted grafana.ini: (value, line, text).
fn ini_value(
    ctx: &Ctx,
    s: &Service,
    section: &str,
    key: &str,
) -> Option<(String, String, u32, String)> {
    let v = s
        .volumes
        .iter()
        .find(|v| v.target == "/etc/grafana/grafana.ini" && v.is_bind())?;
    let path = v.source.clone()?;
    let f = ctx.host.read_text(&path).ok()??;
    let mut cur = String::new();
    for (i, line) in f.text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with(';') || t.starts_with('#') {
            continue;
        }
        if let Some(sec) = t.strip_prefix('[') {
            cur = sec.trim_end_matches(']').trim().to_string();
            continue;
        }
        if cur == section {
            if let Some((k, val)) = t.split_once('=') {
                if k.trim() == key {
                    return Some((
                        val.trim().to_string(),
                        path.clone(),
                        i as u32 + 1,
                        line.to_string(),
                    ));
                }
            }
        }
    }
    None
}

fn judge(
    ctx: &Ctx,
    f: &ComposeFile,
    s: &Service,
    env: &str,
    section: &str,
    key: &str,
    what: &str,
) -> Option<Evidence> {
    if let Some(e) = s.env(env) {
        let v = e.value.as_deref().unwrap_or("");
        if !on(v) {
            return None;
        }
        let ev = if e.path == f.path {
            at(f, s, e.line)
        } else {
            Evidence::file(&e.path).line(e.line)
        };
        return Some(
            ev.key(env)
                .actual(format!("{v} ({what})"))
                .expected("false"),
        );
    }
    let (v, path, line, text) = ini_value(ctx, s, section, key)?;
    on(&v).then(|| {
        Evidence::file(path)
            .line(line)
            .snippet(text)
            .key(format!("[{section}] {key}"))
            .actual(format!("{v} ({what})"))
            .expected("false")
            .note(format!("grafana.ini of service {}", s.name))
    })
}

fn check(ctx: &Ctx) -> Outcome {
    let c = match compose_files(ctx) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    for (f, s) in services(&c) {
        if !GRAFANA.contains(&s.image_name().unwrap_or_default().as_str()) {
            continue;
        }
        judged += 1;
        if let Some(mut e) = judge(
            ctx,
            f,
            s,
            "GF_AUTH_ANONYMOUS_ENABLED",
            "auth.anonymous",
            "enabled",
            "anonymous access",
        ) {
            if let Some(role) = s
                .env("GF_AUTH_ANONYMOUS_ORG_ROLE")
                .and_then(|r| r.value.clone())
            {
                e = e.note(format!(
                    "service {}: anonymous visitors get the {role} role",
                    s.name
                ));
            }
            bad.push(e);
        }
        bad.extend(judge(
            ctx,
            f,
            s,
            "GF_USERS_ALLOW_SIGN_UP",
            "users",
            "allow_sign_up",
            "self sign-up",
        ));
    }
    let n = bad.len();
    finish(
        &c,
        bad,
        judged,
        format!("{n} Grafana setting(s) open access without an account"),
        format!("{judged} Grafana service(s) require a login"),
        "no Grafana service in the compose files",
    )
}
