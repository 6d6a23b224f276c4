//! DB-MY-SECURE-INSTALL: on a live host, what `mysql_secure_installation` removes is gone:
//! anonymous accounts, root reachable from other hosts, the `test` database, accounts without a
//! password.

use super::live::{LiveDatabases, LiveServer};
use super::pg_superuser::live_servers;
use super::servers::{Databases, DbKind};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-MY-SECURE-INSTALL",
    name: "mariadb-insecure-defaults",
    family: Family::Database,
    severity: Severity::High,
    level: Level::Dev,
    title: "MariaDB has no anonymous account, remote root or test database",
    doc: RuleDoc {
        what: "On a live host whose MariaDB/MySQL socket answers (rempart runs `mariadb` as \
               root over the socket, or with `[database] mysql_defaults_file` from \
               rempart.toml): no anonymous account (`''@host`); no `root` account whose host \
               is other than localhost, 127.0.0.1 or ::1; no `test` database and no \
               schema-level grant on `test` or `test\\_%`; no unlocked account with an empty \
               password under a password plugin. Under --root the rule is skipped.",
        why: "These are the defaults `mysql_secure_installation` exists to remove: an anonymous \
              account lets anyone in, a remote root turns the server into an open target, and \
              `test`/`test_%` are writable by every account, a foothold for filling the disk \
              or staging data.",
        remediation: "Run `mysql_secure_installation`, or by hand: `DROP USER ''@'localhost', \
                      ''@'HOSTNAME'; DROP USER 'root'@'%'; DROP DATABASE test; DELETE FROM \
                      mysql.db WHERE Db LIKE 'test%'; FLUSH PRIVILEGES;`.",
        verify: "mariadb -e \"SELECT user, host FROM mysql.user; SHOW DATABASES;\"",
        references: &[
            "seed 002 Phase 1 §4 mysql_secure_installation (« supprimer comptes anonymes, désactiver accès root distant, supprimer DB test »)",
            "CIS MariaDB 10.6 Benchmark 7.x (anonymous accounts, remote root)",
        ],
    },
    check,
};

fn is_local_host(h: &str) -> bool {
    matches!(h, "localhost" | "127.0.0.1" | "::1")
}

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let live = ctx.fact::<LiveDatabases>();
    let servers = match live_servers(ctx, &dbs, &live, DbKind::MariaDb) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let mut ev = Vec::new();
    for (_, l) in servers {
        let LiveServer::MariaDb(my) = l else { continue };
        let base = || Evidence::source("mariadb").note(format!("via {}", my.via));
        for u in my.users.iter().filter(|u| !u.is_role) {
            if u.user.is_empty() {
                ev.push(
                    base()
                        .key("anonymous account")
                        .actual(u.account())
                        .expected("none"),
                );
            } else if u.user == "root" && !is_local_host(&u.host) {
                ev.push(
                    base()
                        .key("remote root")
                        .actual(u.account())
                        .expected("root@localhost only"),
                );
            } else if u.empty_password
                && !u.locked
                && matches!(
                    u.plugin.as_str(),
                    "" | "mysql_native_password" | "mysql_old_password"
                )
            {
                ev.push(
                    base()
                        .key("account without password")
                        .actual(u.account())
                        .expected("a password or unix_socket"),
                );
            }
        }
        if my.databases.iter().any(|d| d == "test") {
            ev.push(base().key("database").actual("test").expected("absent"));
        }
        for (db, user, host) in &my.db_grants {
            if db == "test" || db.starts_with("test\\_") || db.starts_with("test_") {
                ev.push(
                    base()
                        .key("grant on test databases")
                        .actual(format!("{db} to '{user}'@'{host}'"))
                        .expected("none"),
                );
            }
        }
    }
    if ev.is_empty() {
        Outcome::pass("no anonymous account, remote root, test database or passwordless account")
    } else {
        Outcome::fail("MariaDB keeps defaults mysql_secure_installation removes").with_all(ev)
    }
}
