//! CTR-WEAK-ADMIN-PASSWORD: container images' admin accounts have strong, non-default passwords.

use super::compose::{ComposeFile, EnvItem, Service};
use super::{at, compose_files, finish, services};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::strength::{judge, secret_kind, SecretKind};

pub const RULE: Rule = Rule {
    id: "CTR-WEAK-ADMIN-PASSWORD",
    name: "container-default-or-weak-password",
    family: Family::Containers,
    severity: Severity::High,
    level: Level::Sme,
    title: "Containers' admin passwords are set, not defaults, and strong",
    doc: RuleDoc {
        what: "For each compose service, after `env_file` and `environment` are merged and \
               `${VAR}` interpolated from the project's `.env`: images that fall back to a \
               known password when none is given have one (Grafana: \
               `GF_SECURITY_ADMIN_PASSWORD`, default `admin`; MinIO: `MINIO_ROOT_PASSWORD`, \
               default `minioadmin`; a `..._FILE` variant counts as set); database images do \
               not run without a password (`POSTGRES_HOST_AUTH_METHOD=trust`, \
               `MYSQL_ALLOW_EMPTY_PASSWORD`, `MARIADB_ALLOW_EMPTY_ROOT_PASSWORD`); and every \
               password variable set (a name with PASSWORD, PASSWD, or MINIO_SECRET_KEY) is not \
               empty, not a default or placeholder, and at least 20 characters. A variable \
               used in the file but set nowhere becomes empty, as compose makes it. Values \
               are never shown.",
        why: "Default credentials of monitoring tools are the first thing scanners try: \
              Grafana's admin/admin gives its data sources (with their credentials) and, \
              through alerting, often a path to run commands; MinIO's minioadmin gives every \
              bucket, backups included.",
        remediation: "Generate a password (`openssl rand -base64 24`), put it in the \
                      project's `.env` (mode 600) as the variable the compose file reads \
                      (`GRAFANA_ADMIN_PASSWORD=...`), without a weak `:-admin` fallback, run \
                      `docker compose up -d`, and change it in the application too (Grafana \
                      keeps the first admin password in its database: `grafana cli admin \
                      reset-admin-password`).",
        verify: "docker compose config | grep -iE 'PASSWORD|SECRET_KEY'   # look at lengths, not values, in shared terminals",
        references: &[
            "seed 001 Monitoring Stack (Grafana admin / GRAFANA_ADMIN_PASSWORD)",
            "seed 001 Security Checklist (Change Grafana admin password; strong passwords, min 20 chars)",
            "Grafana docs: configure security (admin_password); MinIO docs: MINIO_ROOT_PASSWORD",
        ],
    },
    check,
};

/// PostgreSQL images (the official image's entrypoint: POSTGRES_PASSWORD, POSTGRES_USER,
/// POSTGRES_HOST_AUTH_METHOD).
pub const POSTGRES_IMAGES: &[&str] = &["postgres", "postgis/postgis", "timescale/timescaledb"];

/// Images that fall back to a known admin password: (image names, variable, default).
pub const DEFAULTS: &[(&[&str], &str, &str)] = &[
    (
        &[
            "grafana/grafana",
            "grafana/grafana-oss",
            "grafana/grafana-enterprise",
            "bitnami/grafana",
        ],
        "GF_SECURITY_ADMIN_PASSWORD",
        "admin",
    ),
    (
        &["minio/minio", "bitnami/minio"],
        "MINIO_ROOT_PASSWORD",
        "minioadmin",
    ),
];

fn evidence(f: &ComposeFile, s: &Service, e: &EnvItem) -> Evidence {
    let base = if e.path == f.path {
        at(f, s, e.line)
    } else {
        Evidence::file(&e.path)
            .line(e.line)
            .note(format!("env_file of service {}", s.name))
    };
    base.snippet(format!("{}=<redacted>", e.key)).key(&e.key)
}

fn truthy(v: Option<&str>) -> bool {
    v.is_some_and(|v| {
        !v.trim().is_empty()
            && !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            )
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
        let image = s.image_name().unwrap_or_default();
        for (images, var, default) in DEFAULTS {
            if !images.contains(&image.as_str()) {
                continue;
            }
            judged += 1;
            let legacy = if *var == "MINIO_ROOT_PASSWORD" {
                s.env("MINIO_SECRET_KEY")
            } else {
                None
            };
            let set = s.env(var).or(legacy).is_some_and(|e| e.value.is_some())
                || s.env(&format!("{var}__FILE")).is_some()
                || s.env(&format!("{var}_FILE")).is_some();
            if !set {
                let line = s.image.as_ref().map_or(s.line, |i| i.line);
                bad.push(
                    at(f, s, line)
                        .key(*var)
                        .actual(format!("unset: the image's default `{default}` applies"))
                        .expected("a strong password of at least 20 characters"),
                );
            }
        }
        let db = |names: &[&str]| {
            names
                .iter()
                .any(|n| image == *n || image.ends_with(&format!("/{n}")))
        };
        if db(POSTGRES_IMAGES) {
            if let Some(e) = s.env("POSTGRES_HOST_AUTH_METHOD") {
                judged += 1;
                if e.value.as_deref().map(str::trim) == Some("trust") {
                    bad.push(
                        evidence(f, s, e)
                            .actual("trust (no password asked)")
                            .expected("scram-sha-256"),
                    );
                }
            }
        }
        if db(&["mysql", "mariadb"]) {
            for var in [
                "MYSQL_ALLOW_EMPTY_PASSWORD",
                "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
                "MARIADB_ALLOW_EMPTY_PASSWORD",
            ] {
                if let Some(e) = s.env(var) {
                    judged += 1;
                    if truthy(e.value.as_deref()) {
                        bad.push(
                            evidence(f, s, e)
                                .actual("root without a password")
                                .expected("unset"),
                        );
                    }
                }
            }
        }
        // Every password the service is given.
        let mut done: Vec<&str> = Vec::new();
        for e in s.environment.iter().rev() {
            if done.contains(&e.key.as_str()) {
                continue;
            }
            done.push(&e.key);
            let password =
                secret_kind(&e.key) == Some(SecretKind::Password) || e.key == "MINIO_SECRET_KEY";
            if !password || e.key.ends_with("_FILE") {
                continue;
            }
            let Some(value) = &e.value else { continue };
            judged += 1;
            if let Some(w) = judge(value, SecretKind::Password) {
                let mut ev = evidence(f, s, e)
                    .actual(w.describe())
                    .expected("a random password of at least 20 characters");
                if let Some(v) = e.vars.iter().find(|v| v.hit.is_none()) {
                    ev = ev.note(if v.defaulted {
                        format!("${} is set nowhere: the file's fallback applies", v.name)
                    } else {
                        format!(
                            "${} is set nowhere: compose substitutes an empty string",
                            v.name
                        )
                    });
                }
                bad.push(ev);
                for v in &e.vars {
                    if let Some(h) = &v.hit {
                        bad.push(
                            Evidence::file(&h.path)
                                .line(h.line)
                                .snippet(format!("{}=<redacted>", h.key))
                                .key(&h.key)
                                .note(format!("interpolated into {} of service {}", e.key, s.name)),
                        );
                    }
                }
            }
        }
    }
    let n = bad.iter().filter(|e| e.actual.is_some()).count();
    finish(
        &c,
        bad,
        judged,
        format!("{n} container password(s) missing, default or weak"),
        format!("{judged} container credential(s) set and strong"),
        "no compose service takes an admin password",
    )
}
