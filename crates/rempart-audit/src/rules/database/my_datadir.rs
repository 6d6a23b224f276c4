//! DB-MY-DATADIR-PERMS: MariaDB's data directory and option files are protected.

use super::pg_datadir::datadir_problems;
use super::servers::{Databases, DbKind};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-MY-DATADIR-PERMS",
    name: "mariadb-data-directory-exposed",
    family: Family::Database,
    severity: Severity::High,
    level: Level::Dev,
    title: "MariaDB's data directory and option files are protected",
    doc: RuleDoc {
        what: "For the MariaDB/MySQL server: the data directory (`datadir`, default \
               /var/lib/mysql) is owned by `mysql` and not writable by group or others \
               (Debian's 0755 passes), each database directory inside it gives no access to \
               others, and every option file of the chain is writable by its owner only.",
        why: "Table files readable by others leak the data (and `mysql/global_priv` the \
              password hashes); a writable option file lets its writer run code as the server \
              or switch off authentication (`skip-grant-tables`).",
        remediation: "chown -R mysql:mysql /var/lib/mysql && chmod 0755 /var/lib/mysql && \
                      chmod 0700 /var/lib/mysql/*/; chmod go-w /etc/mysql/*.cnf \
                      /etc/mysql/*/*.cnf.",
        verify: "stat -c '%a %U %n' /var/lib/mysql /var/lib/mysql/*/ /etc/mysql/my.cnf /etc/mysql/*/*.cnf",
        references: &[
            "seed 002 Notes (« Principe du moindre privilège : ... fichiers doivent avoir uniquement les droits nécessaires »)",
            "CIS MariaDB 10.6 Benchmark 3.1 (datadir permissions)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let Some(s) = dbs.of_kind(DbKind::MariaDb).next() else {
        return Outcome::not_applicable("no MariaDB/MySQL server is installed");
    };
    let mut ev = match datadir_problems(ctx.host, s, "mysql", 0o022) {
        Ok(ev) => ev,
        Err(o) => return o,
    };
    let dir = s.data_dir.as_deref().unwrap_or("/var/lib/mysql");
    if let Ok(Some(names)) = ctx.host.read_dir(dir) {
        for n in names {
            let p = format!("{dir}/{n}");
            if let Ok(Some(m)) = ctx.host.symlink_metadata(&p) {
                if m.kind == crate::host::FileKind::Dir && m.mode & 0o007 != 0 {
                    ev.push(
                        Evidence::file(p)
                            .key("mode")
                            .actual(m.mode_octal())
                            .expected("no access for others (0700)"),
                    );
                }
            }
        }
    }
    if ev.is_empty() {
        Outcome::pass("the data directory and option files are protected")
    } else {
        Outcome::fail("MariaDB files are open to other accounts").with_all(ev)
    }
}
