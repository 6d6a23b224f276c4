//! The `[database]` section of rempart.toml against real throwaway servers: when a server's
//! socket is not where its configuration says, the live rules skip; with a DSN (PostgreSQL) or
//! an option file (MariaDB) they reach it and judge it.

mod support;

use rempart_audit::config::DatabaseAccess;
use rempart_audit::engine::{run_rules, AuditOptions, Selector};
use rempart_audit::registry::RULES;
use rempart_audit::report::Finding;
use rempart_audit::{AuditConfig, Host, Status};
use std::fs;
use std::path::Path;
use support::dbserver::{start, ServerSpec};

fn judge(tree: &Path, rule: &str, database: DatabaseAccess) -> Finding {
    let host = Host::tree_with_live_facts(tree).unwrap();
    let config = AuditConfig {
        database,
        ..AuditConfig::default()
    };
    let opts = AuditOptions {
        only: vec![Selector::Id(rule.into())],
        ..AuditOptions::default()
    };
    let report = run_rules(&host, &config, &opts, RULES);
    report.findings.into_iter().find(|f| f.id == rule).unwrap()
}

fn tree_from(fixture: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    support::copy_tree(
        &support::fixtures_dir().join(fixture).join("root"),
        tmp.path(),
    );
    tmp
}

#[test]
fn mariadb_is_reached_through_a_configured_option_file() {
    let tree = tree_from("database/my-secure-install/secured.pass");
    let _server = start(
        tree.path(),
        &ServerSpec {
            kind: "mariadb".into(),
            sql: "DELETE FROM mysql.global_priv WHERE User=''; DROP DATABASE IF EXISTS test; \
                  DELETE FROM mysql.db WHERE Db LIKE 'test%'; \
                  CREATE USER 'root'@'%' IDENTIFIED BY 'x'; FLUSH PRIVILEGES;"
                .into(),
        },
    );
    // Move the socket away from the path the configuration names.
    let moved = tree.path().join("elsewhere.sock");
    fs::rename(tree.path().join("run/mysqld/mysqld.sock"), &moved).unwrap();

    let f = judge(
        tree.path(),
        "DB-MY-SECURE-INSTALL",
        DatabaseAccess::default(),
    );
    assert_eq!(f.status, Status::Skip, "{}", f.message);
    assert!(f.message.contains("no server socket"), "{}", f.message);

    let defaults = tree.path().join("rempart-client.cnf");
    fs::write(
        &defaults,
        format!("[client]\nuser = root\nsocket = {}\n", moved.display()),
    )
    .unwrap();
    let f = judge(
        tree.path(),
        "DB-MY-SECURE-INSTALL",
        DatabaseAccess {
            mysql_defaults_file: Some(defaults.display().to_string()),
            ..DatabaseAccess::default()
        },
    );
    assert_eq!(f.status, Status::Fail, "{} {:?}", f.message, f.evidence);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.actual.as_ref().map(|a| a.to_string()) == Some("'root'@'%'".into())),
        "{:?}",
        f.evidence
    );
}

#[test]
fn postgres_is_reached_through_a_configured_dsn() {
    let tree = tree_from("database/pg-superuser-app/root-tree.skip");
    fs::create_dir_all(tree.path().join("etc/postgresql/15/main/conf.d")).unwrap();
    let _server = start(
        tree.path(),
        &ServerSpec {
            kind: "postgres".into(),
            sql: "CREATE ROLE root LOGIN SUPERUSER;".into(),
        },
    );
    let alt = tree.path().join("alt");
    fs::create_dir_all(&alt).unwrap();
    fs::rename(
        tree.path().join("var/run/postgresql/.s.PGSQL.5432"),
        alt.join(".s.PGSQL.5432"),
    )
    .unwrap();

    let f = judge(
        tree.path(),
        "DB-PG-SUPERUSER-APP",
        DatabaseAccess::default(),
    );
    assert_eq!(f.status, Status::Skip, "{}", f.message);

    // Peer authentication maps the OS account running psql (root, as the tests run) to the
    // role of the same name.
    let dsn = format!("host={} port=5432 dbname=postgres user=root", alt.display());
    let f = judge(
        tree.path(),
        "DB-PG-SUPERUSER-APP",
        DatabaseAccess {
            postgres_dsn: Some(dsn),
            ..DatabaseAccess::default()
        },
    );
    assert_eq!(f.status, Status::Fail, "{} {:?}", f.message, f.evidence);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.key.as_deref() == Some("role root")),
        "{:?}",
        f.evidence
    );
}
