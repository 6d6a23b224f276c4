//! DB-MY-BIND: MariaDB listens on loopback only, or not on TCP at all.

use super::servers::{Databases, DbKind};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-MY-BIND",
    name: "mariadb-listens-beyond-localhost",
    family: Family::Database,
    severity: Severity::High,
    level: Level::Dev,
    title: "MariaDB accepts TCP connections on loopback only",
    doc: RuleDoc {
        what: "For the MariaDB/MySQL server: `skip-networking` is on, or the effective \
               `bind-address` (last setting in the server's groups `[mysqld]`, `[server]`, \
               `[mariadb]`, `[mariadbd]`, their `-<version>` forms, `[client-server]`, \
               `[galera]`, across /etc/my.cnf, /etc/mysql/my.cnf and every `!include` / \
               `!includedir`) names only loopback addresses. Unset means every interface (the \
               server's default; Debian's 50-server.cnf sets 127.0.0.1).",
        why: "A database port reachable from the network is exposed to password guessing and \
              pre-authentication bugs; the application on the same host needs only loopback \
              or the socket.",
        remediation: "In /etc/mysql/mariadb.conf.d/50-server.cnf, under [mysqld]: \
                      `bind-address = 127.0.0.1` (or `skip-networking` when every client uses \
                      the socket), then `systemctl restart mariadb`.",
        verify: "my_print_defaults --mysqld | grep -E 'bind|networking'; ss -ltnp | grep 3306",
        references: &[
            "seed 002 Phase 2 §3 Sécuriser MariaDB réseau (`bind-address` 127.0.0.1 in 50-server.cnf)",
            "CIS MariaDB 10.6 Benchmark 6.x (bind_address)",
            "MariaDB documentation: bind_address, skip_networking",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let Some(s) = dbs.of_kind(DbKind::MariaDb).next() else {
        return Outcome::not_applicable("no MariaDB/MySQL server is installed");
    };
    if let Some(e) = s.errors.first() {
        return Outcome::from(e.clone());
    }
    if s.listen.is_empty() {
        return Outcome::pass("skip-networking is on: no TCP listener")
            .with(s.listen_origin.evidence(&s.main_config));
    }
    if !s.listens_beyond_loopback() {
        return Outcome::pass(format!("MariaDB binds {}", s.listen.join(",")));
    }
    Outcome::fail(if s.listen_origin.path.is_none() {
        "bind-address is not set: MariaDB listens on every interface".to_string()
    } else {
        format!("MariaDB binds {}", s.listen.join(","))
    })
    .with(
        s.listen_origin
            .evidence(&s.main_config)
            .key("bind-address")
            .actual(s.listen.join(","))
            .expected("127.0.0.1"),
    )
}
