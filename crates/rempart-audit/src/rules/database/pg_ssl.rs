//! DB-PG-SSL: a PostgreSQL cluster reachable beyond loopback encrypts its connections.

use super::pghba::ConnType;
use super::servers::{Databases, DbKind, Origin};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-PG-SSL",
    name: "postgres-remote-connections-unencrypted",
    family: Family::Database,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "PostgreSQL connections from other hosts are encrypted",
    doc: RuleDoc {
        what: "For every PostgreSQL cluster whose `listen_addresses` goes beyond loopback: \
               `ssl` is `on` (the compiled default is `off`; Debian's postgresql.conf turns it \
               on), and every non-loopback `host`/`hostnossl` record that does not `reject` is \
               a `hostssl` record instead. A cluster listening on loopback only passes.",
        why: "Without TLS, passwords (with `password`) and every query and result cross the \
              network in clear; a `host` record lets a client fall back to plaintext.",
        remediation: "Set `ssl = on` with `ssl_cert_file`/`ssl_key_file`, change the remote \
                      `host` records to `hostssl`, then `systemctl reload postgresql`.",
        verify: "sudo -u postgres psql -c 'SHOW ssl;'; grep -nE '^[^#]*host(nossl)?[[:space:]]' /etc/postgresql/*/main/pg_hba.conf",
        references: &[
            "seed 000 §4 Chiffrement en transit",
            "PostgreSQL documentation, 19.9 Secure TCP/IP Connections with SSL; 21.1 (hostssl)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let mut found = false;
    let mut ev = Vec::new();
    let mut remote = 0;
    for s in dbs.of_kind(DbKind::Postgres) {
        let Some(pg) = s.postgres() else { continue };
        found = true;
        if !s.listens_beyond_loopback() {
            continue;
        }
        remote += 1;
        if let Some(e) = s.errors.first() {
            return Outcome::from(e.clone());
        }
        let (ssl, origin) = match pg.conf.get("ssl") {
            Some(v) => (
                v.value.to_ascii_lowercase(),
                Origin::file(&v.path, v.line, &v.text),
            ),
            None => ("off".to_string(), Origin::default()),
        };
        if !matches!(ssl.as_str(), "on" | "true" | "yes" | "1") {
            ev.push(
                origin
                    .evidence(&s.main_config)
                    .key("ssl")
                    .actual(ssl)
                    .expected("on")
                    .note(format!("{} listens on {}", s.label(), s.listen.join(","))),
            );
        }
        for l in &pg.hba.lines {
            if matches!(l.conn, ConnType::Host | ConnType::HostNoSsl)
                && l.method != "reject"
                && !l.local_only()
            {
                ev.push(
                    Evidence::file(&l.path)
                        .line(l.line)
                        .snippet(l.text.lines().next().unwrap_or(""))
                        .key("connection type")
                        .actual(l.conn.as_str())
                        .expected("hostssl"),
                );
            }
        }
    }
    if !found {
        return Outcome::not_applicable("no PostgreSQL cluster is configured");
    }
    if remote == 0 {
        return Outcome::pass("PostgreSQL listens on loopback only: no connection leaves the host");
    }
    if ev.is_empty() {
        Outcome::pass("connections from other hosts must use TLS")
    } else {
        Outcome::fail("PostgreSQL accepts unencrypted connections from other hosts").with_all(ev)
    }
}
