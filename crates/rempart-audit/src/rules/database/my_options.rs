//! DB-MY-LOCAL-INFILE and DB-MY-SYMLINKS: two server switches MariaDB turns on by default
//! (twins: same lookup, different option).

use super::servers::{Databases, DbKind};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const LOCAL_INFILE: Rule = Rule {
    id: "DB-MY-LOCAL-INFILE",
    name: "mariadb-local-infile-enabled",
    family: Family::Database,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "MariaDB refuses LOAD DATA LOCAL INFILE",
    doc: RuleDoc {
        what: "For the MariaDB/MySQL server: the effective `local-infile` in the server's \
               groups is off (`local-infile = 0`, `skip-local-infile`, `loose-` forms \
               accepted). Unset fails: MariaDB's default is ON.",
        why: "With LOCAL INFILE a client, or an SQL injection in the application, makes the \
              client side read arbitrary local files; a rogue server can read the client's \
              files. The application never needs it.",
        remediation: "Under [mysqld] in /etc/mysql/mariadb.conf.d/50-server.cnf: \
                      `local-infile = 0`, then `systemctl restart mariadb`.",
        verify: "mariadb -e \"SHOW GLOBAL VARIABLES LIKE 'local_infile';\"",
        references: &[
            "CIS MariaDB 10.6 Benchmark 4.x (local_infile)",
            "MariaDB documentation: local_infile (default ON)",
            "seed 002 Phase 2 §3 Sécuriser MariaDB",
        ],
    },
    check: check_local_infile,
};

pub const SYMLINKS: Rule = Rule {
    id: "DB-MY-SYMLINKS",
    name: "mariadb-symbolic-links-enabled",
    family: Family::Database,
    severity: Severity::Low,
    level: Level::Sme,
    title: "MariaDB does not follow symbolic links for table files",
    doc: RuleDoc {
        what: "For the MariaDB/MySQL server: the effective `symbolic-links` is off \
               (`skip-symbolic-links`, `symbolic-links = 0`). Unset fails: MariaDB's default \
               is ON (MySQL 8 turned it off).",
        why: "With symbolic links, `DATA DIRECTORY`/`INDEX DIRECTORY` and planted links let \
              the server write table files outside its data directory, over files it can \
              reach.",
        remediation: "Under [mysqld]: `skip-symbolic-links`, then `systemctl restart mariadb`.",
        verify: "mariadb -e \"SHOW GLOBAL VARIABLES LIKE 'have_symlink';\" (DISABLED)",
        references: &[
            "CIS MariaDB 10.6 Benchmark 4.x (skip-symbolic-links)",
            "MariaDB documentation: --symbolic-links (default on)",
        ],
    },
    check: check_symlinks,
};

fn judge(ctx: &Ctx, option: &str, what: &str) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let Some(s) = dbs.of_kind(DbKind::MariaDb).next() else {
        return Outcome::not_applicable("no MariaDB/MySQL server is installed");
    };
    let Some(my) = s.mariadb() else {
        return Outcome::not_applicable("no MariaDB/MySQL server is installed");
    };
    if let Some(e) = s.errors.first() {
        return Outcome::from(e.clone());
    }
    match my.conf.flag(option, &my.groups) {
        None => Outcome::fail(format!("{option} is not set: {what} is on by default")).with(
            Evidence::file(&s.main_config)
                .with_source("default")
                .key(option)
                .actual("ON (default)")
                .expected("0"),
        ),
        Some((Ok(false), o)) => Outcome::pass(format!("{what} is off")).with(
            Evidence::file(&o.path)
                .line(o.line)
                .snippet(&o.text)
                .key(option)
                .actual("0"),
        ),
        Some((Ok(true), o)) => Outcome::fail(format!("{what} is turned on")).with(
            Evidence::file(&o.path)
                .line(o.line)
                .snippet(&o.text)
                .key(option)
                .actual(o.value.clone().unwrap_or_else(|| "ON".into()))
                .expected("0"),
        ),
        Some((Err(v), o)) => Outcome::error(format!(
            "{}:{}: `{option}` has a value the server rejects: {v}",
            o.path, o.line
        ))
        .with(Evidence::file(&o.path).line(o.line).snippet(&o.text)),
    }
}

fn check_local_infile(ctx: &Ctx) -> Outcome {
    judge(ctx, "local-infile", "LOAD DATA LOCAL INFILE")
}

fn check_symlinks(ctx: &Ctx) -> Outcome {
    judge(ctx, "symbolic-links", "symbolic link support")
}
