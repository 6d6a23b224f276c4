//! DB-MY-APP-PRIVILEGES: on a live host, application accounts hold only the privileges the
//! guide lists, on their own database, from localhost.

use super::live::{LiveDatabases, LiveServer, MyPrivilege};
use super::pg_superuser::live_servers;
use super::servers::{Databases, DbKind};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-MY-APP-PRIVILEGES",
    name: "mariadb-application-account-overprivileged",
    family: Family::Database,
    severity: Severity::High,
    level: Level::Sme,
    title: "MariaDB application accounts hold only the privileges they need",
    doc: RuleDoc {
        what: "On a live host whose MariaDB/MySQL socket answers: every account that is not a \
               system account (root, mysql, mariadb.sys, debian-sys-maint, mysql.sys, \
               mysql.session, mysql.infoschema, roles) has no global privilege but USAGE; its \
               schema privileges are among SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, \
               without GRANT OPTION, on named databases (not `%`, not `mysql`); and its host \
               is localhost, 127.0.0.1 or ::1. Privileges received through roles are not \
               followed. Under --root the rule is skipped.",
        why: "The application's account is what an SQL injection or a leaked settings file \
              gives. Global privileges (FILE, SUPER, PROCESS, ALL) turn that into reading host \
              files, every database or other sessions' queries; DROP and ALTER let it destroy \
              the data; a wildcard host lets it be used from anywhere.",
        remediation: "`REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'app'@'localhost'; GRANT SELECT, \
                      INSERT, UPDATE, DELETE, CREATE, INDEX ON appdb.* TO 'app'@'localhost';` \
                      (run schema migrations with a separate account), and recreate `app`@`%` \
                      as `app`@`localhost`.",
        verify: "mariadb -e \"SHOW GRANTS FOR 'app'@'localhost';\"",
        references: &[
            "seed 002 Phase 2 §3 (« GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX ON nom_bd.* TO 'django'@'localhost' »)",
            "seed 000 §2 Principe du moindre privilège",
        ],
    },
    check,
};

/// Accounts created by the server or the distribution, judged elsewhere.
const SYSTEM_ACCOUNTS: &[&str] = &[
    "root",
    "mysql",
    "mariadb.sys",
    "debian-sys-maint",
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
    "PUBLIC",
];

/// The privileges the guide grants the application on its database.
pub const ALLOWED: &[&str] = &["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "INDEX"];

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let live = ctx.fact::<LiveDatabases>();
    let servers = match live_servers(ctx, &dbs, &live, DbKind::MariaDb) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let mut ev = Vec::new();
    let mut apps = 0;
    for (_, l) in servers {
        let LiveServer::MariaDb(my) = l else { continue };
        for u in &my.users {
            if u.is_role || u.user.is_empty() || SYSTEM_ACCOUNTS.contains(&u.user.as_str()) {
                continue;
            }
            apps += 1;
            let account = u.account();
            let item = |k: &str, a: String, e: &str| {
                Evidence::source("mariadb")
                    .key(format!("{account} {k}"))
                    .actual(a)
                    .expected(e)
            };
            if !matches!(u.host.as_str(), "localhost" | "127.0.0.1" | "::1") {
                ev.push(item("host", u.host.clone(), "localhost"));
            }
            let mine: Vec<&MyPrivilege> = my
                .privileges
                .iter()
                .filter(|p| p.user == u.user && p.host == u.host)
                .collect();
            let global: Vec<&str> = mine
                .iter()
                .filter(|p| p.schema.is_none() && p.privilege != "USAGE")
                .map(|p| p.privilege.as_str())
                .collect();
            if !global.is_empty() {
                ev.push(item("global privileges", global.join(", "), "USAGE only"));
            }
            let mut schemas: Vec<&str> = mine.iter().filter_map(|p| p.schema.as_deref()).collect();
            schemas.dedup();
            for schema in schemas {
                let on: Vec<&&MyPrivilege> = mine
                    .iter()
                    .filter(|p| p.schema.as_deref() == Some(schema))
                    .collect();
                let extra: Vec<&str> = on
                    .iter()
                    .filter(|p| !ALLOWED.contains(&p.privilege.as_str()))
                    .map(|p| p.privilege.as_str())
                    .collect();
                if !extra.is_empty() {
                    ev.push(item(
                        &format!("privileges on {schema}"),
                        extra.join(", "),
                        "SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX",
                    ));
                }
                if on.iter().any(|p| p.grantable) {
                    ev.push(item(
                        &format!("on {schema}"),
                        "WITH GRANT OPTION".into(),
                        "no grant option",
                    ));
                }
                if schema == "%" || schema == "mysql" {
                    ev.push(item("database", schema.to_string(), "its own database"));
                }
            }
        }
    }
    if ev.is_empty() {
        Outcome::pass(format!(
            "{apps} application account(s) hold only the privileges the guide lists"
        ))
    } else {
        Outcome::fail("application accounts hold more than they need").with_all(ev)
    }
}
