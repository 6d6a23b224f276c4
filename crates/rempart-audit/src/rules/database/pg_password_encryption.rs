//! DB-PG-PASSWORD-ENCRYPTION: new passwords are stored as SCRAM-SHA-256 verifiers.

use super::servers::{Databases, DbKind, Origin};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-PG-PASSWORD-ENCRYPTION",
    name: "postgres-md5-password-hashes",
    family: Family::Database,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "PostgreSQL stores passwords as SCRAM-SHA-256",
    doc: RuleDoc {
        what: "For every PostgreSQL cluster: the effective `password_encryption` is \
               `scram-sha-256`. When unset, the default is `scram-sha-256` from PostgreSQL 14 \
               and `md5` before (the version is the cluster's directory under \
               /etc/postgresql).",
        why: "An MD5 hash is password-equivalent for the `md5` method and cheap to brute-force \
              once the catalogue leaks (a dump, a backup); SCRAM verifiers are salted, \
              iterated and cannot be replayed.",
        remediation: "Set `password_encryption = scram-sha-256`, reload, then set every \
                      password again (`\\password ROLE` in psql) and switch pg_hba.conf to \
                      `scram-sha-256`.",
        verify: "sudo -u postgres psql -c 'SHOW password_encryption;' -c \"SELECT rolname FROM pg_authid WHERE rolpassword LIKE 'md5%';\"",
        references: &[
            "PostgreSQL documentation, 20.3.2 Authentication (password_encryption); 21.5",
            "seed 000 §5 Authentification",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let mut found = false;
    let mut bad = Vec::new();
    for s in dbs.of_kind(DbKind::Postgres) {
        let Some(pg) = s.postgres() else { continue };
        found = true;
        if let Some(e) = pg.conf.errors.first() {
            return Outcome::from(e.clone());
        }
        let major: u32 = s
            .version
            .as_deref()
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let (value, origin) = match pg.conf.get("password_encryption") {
            Some(v) => (
                v.value.to_ascii_lowercase(),
                Origin::file(&v.path, v.line, &v.text),
            ),
            None if major >= 14 => ("scram-sha-256".to_string(), Origin::default()),
            None => ("md5".to_string(), Origin::default()),
        };
        if value != "scram-sha-256" {
            bad.push(
                origin
                    .evidence(&s.main_config)
                    .key("password_encryption")
                    .actual(value)
                    .expected("scram-sha-256")
                    .note(s.label()),
            );
        }
    }
    if !found {
        return Outcome::not_applicable("no PostgreSQL cluster is configured");
    }
    if bad.is_empty() {
        Outcome::pass("passwords are stored as SCRAM-SHA-256")
    } else {
        Outcome::fail("PostgreSQL stores new passwords as MD5 hashes").with_all(bad)
    }
}
