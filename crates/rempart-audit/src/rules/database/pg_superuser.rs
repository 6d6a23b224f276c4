//! DB-PG-SUPERUSER-APP: on a live host, no login role but the bootstrap superuser holds
//! superuser-level attributes.

use super::live::{LiveDatabases, LiveServer};
use super::servers::{Databases, DbKind};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-PG-SUPERUSER-APP",
    name: "postgres-application-role-superuser",
    family: Family::Database,
    severity: Severity::High,
    level: Level::Sme,
    title: "Application roles are not PostgreSQL superusers",
    doc: RuleDoc {
        what: "On a live host, for every PostgreSQL cluster whose socket answers (rempart runs \
               `psql` as the socket's owner, or with `[database] postgres_dsn` from \
               rempart.toml): no login role other than the bootstrap superuser (`postgres`, \
               oid 10) has SUPERUSER, CREATEROLE or BYPASSRLS. Under --root, or with no server \
               running, the rule is skipped.",
        why: "The application's role is what an SQL injection or a stolen application secret \
              gives. As superuser it reads every database, runs programs on the host (`COPY \
              ... PROGRAM`) and rewrites authentication; CREATEROLE lets it grant itself \
              other roles' rights.",
        remediation: "`ALTER ROLE app NOSUPERUSER NOCREATEROLE NOBYPASSRLS;` and grant only \
                      what the application needs on its own database (CONNECT, USAGE on the \
                      schema, SELECT/INSERT/UPDATE/DELETE on its tables).",
        verify: "sudo -u postgres psql -c \"SELECT rolname FROM pg_roles WHERE rolcanlogin AND (rolsuper OR rolcreaterole OR rolbypassrls);\"",
        references: &[
            "seed 000 §2 PostgreSQL (« Utilisateur dédié avmvp_user, permissions limitées à la base avmvp_db »)",
            "PostgreSQL documentation, 22.2 Role Attributes",
        ],
    },
    check,
};

/// The shared prologue of the live rules: the servers of `kind` with their live state, or the
/// outcome to return when there is nothing to judge.
pub fn live_servers<'a>(
    ctx: &Ctx,
    dbs: &'a Databases,
    live: &'a LiveDatabases,
    kind: DbKind,
) -> Result<Vec<(&'a super::DbServer, &'a LiveServer)>, Outcome> {
    let servers: Vec<_> = dbs.of_kind(kind).map(|s| (s, live.of(dbs, s))).collect();
    if servers.is_empty() {
        return Err(Outcome::not_applicable(match kind {
            DbKind::Postgres => "no PostgreSQL cluster is configured",
            DbKind::MariaDb => "no MariaDB/MySQL server is installed",
        }));
    }
    ctx.require_live("a connection to the running database server")?;
    let mut usable = Vec::new();
    let mut reasons = Vec::new();
    for (s, l) in servers {
        match l {
            LiveServer::NotLive => return Err(Outcome::needs_live("a running database server")),
            LiveServer::NotRunning(why) => reasons.push(format!("{}: {why}", s.label())),
            LiveServer::Failed(why) if super::live::is_auth_failure(why) => {
                return Err(Outcome::skip(format!(
                    "{}: the server refused rempart's login ({why}); give credentials in rempart.toml [database]",
                    s.label()
                )));
            }
            LiveServer::Failed(why) => {
                return Err(Outcome::error(format!(
                    "{}: could not query the server: {why} (give credentials in rempart.toml [database])",
                    s.label()
                ))
                .with(Evidence::file(&s.main_config)));
            }
            LiveServer::Postgres(_) | LiveServer::MariaDb(_) => usable.push((s, l)),
        }
    }
    if usable.is_empty() {
        return Err(Outcome::skip(format!(
            "no server answered: {}",
            reasons.join("; ")
        )));
    }
    Ok(usable)
}

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let live = ctx.fact::<LiveDatabases>();
    let servers = match live_servers(ctx, &dbs, &live, DbKind::Postgres) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let mut ev = Vec::new();
    for (s, l) in servers {
        let LiveServer::Postgres(pg) = l else {
            continue;
        };
        for r in &pg.roles {
            if !r.can_login || r.oid == 10 {
                continue;
            }
            let attrs: Vec<&str> = [
                (r.superuser, "SUPERUSER"),
                (r.createrole, "CREATEROLE"),
                (r.bypassrls, "BYPASSRLS"),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
            if !attrs.is_empty() {
                ev.push(
                    Evidence::source("postgres")
                        .key(format!("role {}", r.name))
                        .actual(attrs.join(" "))
                        .expected("NOSUPERUSER NOCREATEROLE NOBYPASSRLS")
                        .note(format!("{} via {}", s.label(), pg.via)),
                );
            }
        }
    }
    if ev.is_empty() {
        Outcome::pass("no login role besides the bootstrap superuser has superuser-level rights")
    } else {
        Outcome::fail(format!(
            "{} login role(s) hold superuser-level attributes",
            ev.len()
        ))
        .with_all(ev)
    }
}
