//! DB-PG-DATADIR-PERMS: the cluster's data directory is private to the server account, and its
//! configuration files are writable by their owner only. The permission walk is shared with
//! DB-MY-DATADIR-PERMS.

use super::servers::{Databases, DbKind, DbServer};
use crate::host::{Host, Users};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-PG-DATADIR-PERMS",
    name: "postgres-data-directory-exposed",
    family: Family::Database,
    severity: Severity::High,
    level: Level::Dev,
    title: "PostgreSQL's data directory is private to the postgres account",
    doc: RuleDoc {
        what: "For every PostgreSQL cluster: the data directory (`data_directory`) is owned by \
               the `postgres` account and gives no access to others and no write access to its \
               group (0700, or 0750 for clusters initialised with group access); the \
               configuration files read (postgresql.conf, includes, pg_hba.conf) are writable \
               by their owner only. A data directory absent from a root tree is skipped.",
        why: "The data directory holds every table and the password verifiers in clear files; \
              whoever can write postgresql.conf or pg_hba.conf can run code as postgres or \
              turn authentication off.",
        remediation: "chown -R postgres:postgres /var/lib/postgresql/<ver>/<cluster> && chmod \
                      0700 /var/lib/postgresql/<ver>/<cluster>; chmod go-w the configuration \
                      files under /etc/postgresql.",
        verify: "stat -c '%a %U %n' /var/lib/postgresql/*/main /etc/postgresql/*/main/*.conf",
        references: &[
            "seed 000 §2 Principe du moindre privilège",
            "PostgreSQL documentation, 19.2 Creating a Database Cluster (data directory permissions)",
        ],
    },
    check,
};

/// Permission problems of a server's data directory and configuration files. `owner` is the
/// account that must own the data directory; `dir_mask` the mode bits it must not have.
/// `Err` when the data directory is absent (nothing to judge).
pub fn datadir_problems(
    host: &Host,
    s: &DbServer,
    owner: &str,
    dir_mask: u32,
) -> Result<Vec<Evidence>, Outcome> {
    let Some(dir) = &s.data_dir else {
        return Err(Outcome::skip(format!(
            "{}: no data directory known",
            s.label()
        )));
    };
    let meta = match host.metadata(dir) {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Err(Outcome::skip(format!(
                "{}: data directory {dir} is not present",
                s.label()
            )))
        }
        Err(e) => return Err(Outcome::from(e)),
    };
    let mut ev = Vec::new();
    let users = Users::load(host);
    if let Some(u) = users.user(owner) {
        if meta.uid != u.uid {
            let actual = users
                .user_by_uid(meta.uid)
                .map_or_else(|| meta.uid.to_string(), |o| o.name.clone());
            ev.push(
                Evidence::file(dir)
                    .key("owner")
                    .actual(actual)
                    .expected(owner),
            );
        }
    }
    if meta.mode & dir_mask != 0 {
        ev.push(
            Evidence::file(dir)
                .key("mode")
                .actual(meta.mode_octal())
                .expected(format!("no bits of {dir_mask:04o}")),
        );
    }
    for f in &s.config_files {
        if let Ok(Some(m)) = host.metadata(f) {
            if m.mode & 0o022 != 0 {
                ev.push(
                    Evidence::file(f)
                        .key("mode")
                        .actual(m.mode_octal())
                        .expected("writable by its owner only"),
                );
            }
        }
    }
    Ok(ev)
}

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let mut found = false;
    let mut ev = Vec::new();
    let mut skipped = None;
    for s in dbs.of_kind(DbKind::Postgres) {
        found = true;
        match datadir_problems(ctx.host, s, "postgres", 0o027) {
            Ok(e) => ev.extend(e),
            Err(o) => skipped = Some(o),
        }
    }
    if !found {
        return Outcome::not_applicable("no PostgreSQL cluster is configured");
    }
    if !ev.is_empty() {
        return Outcome::fail("PostgreSQL files are open to other accounts").with_all(ev);
    }
    match skipped {
        Some(o) => o,
        None => Outcome::pass("data directories are private and configuration files protected"),
    }
}
