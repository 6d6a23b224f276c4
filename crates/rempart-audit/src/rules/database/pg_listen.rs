//! DB-PG-LISTEN: PostgreSQL listens on loopback only.

use super::servers::{Databases, DbKind};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "DB-PG-LISTEN",
    name: "postgres-listens-beyond-localhost",
    family: Family::Database,
    severity: Severity::High,
    level: Level::Dev,
    title: "PostgreSQL accepts TCP connections on loopback only",
    doc: RuleDoc {
        what: "For every PostgreSQL cluster (`/etc/postgresql/<version>/<cluster>/postgresql.conf`, \
               its includes and `postgresql.auto.conf`; the last value wins): the effective \
               `listen_addresses` (default `localhost`) names only loopback addresses \
               (`localhost`, `127.0.0.1`, `::1`) or is empty (Unix socket only). `*`, \
               `0.0.0.0`, `::` or any other address fails.",
        why: "A database port reachable from the network is exposed to password guessing and \
              to every pre-authentication vulnerability of the server. The application runs on \
              the same host and needs nothing but the loopback interface or the socket.",
        remediation: "Set `listen_addresses = 'localhost'` in postgresql.conf (and remove any \
                      `ALTER SYSTEM` override: `ALTER SYSTEM RESET listen_addresses;`), then \
                      `systemctl restart postgresql`. If another host must connect, restrict \
                      it with the firewall and a single `hostssl` line instead.",
        verify: "sudo -u postgres psql -c 'SHOW listen_addresses;'; ss -ltnp | grep 5432",
        references: &[
            "seed 000 §2 PostgreSQL (« Écoute uniquement sur localhost ») and §3 (`listen_addresses = 'localhost'`)",
            "seed 000 Checklist « Test d'accès PostgreSQL externe - doit échouer »",
            "PostgreSQL documentation, 20.3 Connections and Authentication (listen_addresses)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let mut found = false;
    let mut bad = Vec::new();
    for s in dbs.of_kind(DbKind::Postgres) {
        found = true;
        if let Some(e) = s.postgres().and_then(|p| p.conf.errors.first()) {
            return Outcome::from(e.clone());
        }
        if s.listens_beyond_loopback() {
            bad.push(
                s.listen_origin
                    .evidence(&s.main_config)
                    .key("listen_addresses")
                    .actual(s.listen.join(","))
                    .expected("localhost")
                    .note(s.label()),
            );
        }
    }
    if !found {
        return Outcome::not_applicable("no PostgreSQL cluster is configured");
    }
    if bad.is_empty() {
        Outcome::pass("every PostgreSQL cluster listens on loopback only")
    } else {
        Outcome::fail(format!(
            "{} PostgreSQL cluster(s) listen beyond loopback",
            bad.len()
        ))
        .with_all(bad)
    }
}
