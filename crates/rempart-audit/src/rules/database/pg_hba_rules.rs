//! DB-PG-HBA-TRUST, DB-PG-HBA-WEAK-AUTH, DB-PG-HBA-OPEN: the client authentication records of
//! `pg_hba.conf` (twins: one parser, one walk, three verdicts).

use super::pghba::{ConnType, HbaLine};
use super::servers::{Databases, DbKind};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const TRUST: Rule = Rule {
    id: "DB-PG-HBA-TRUST",
    name: "postgres-trust-authentication",
    family: Family::Database,
    severity: Severity::Critical,
    level: Level::Dev,
    title: "No pg_hba.conf record uses `trust` authentication",
    doc: RuleDoc {
        what: "Fails for any record of pg_hba.conf whose method is `trust`, `local` records \
               included. Reads every record of each cluster's `pg_hba.conf` (the `hba_file` \
               setting, default `<data_directory>/pg_hba.conf`, with its `include*` directives).",
        why: "`trust` lets anyone who can open a connection log in as any role, the superuser \
              included, without a password. On a `local` line every Unix account (a \
              compromised web application's included) becomes the database superuser.",
        remediation: "Replace `trust` by `peer` for `local` records and by `scram-sha-256` for \
                      `host` records, then `systemctl reload postgresql`.",
        verify: "sudo -u postgres psql -c \"SELECT line_number, type, database, user_name, auth_method FROM pg_hba_file_rules WHERE auth_method = 'trust';\"",
        references: &[
            "seed 000 §2 Principe du moindre privilège (PostgreSQL)",
            "PostgreSQL documentation, 21.1 The pg_hba.conf File; 21.4 Trust Authentication",
            "CIS PostgreSQL 15 Benchmark 3.1 / 5.x (authentication methods)",
        ],
    },
    check: check_trust,
};

pub const WEAK_AUTH: Rule = Rule {
    id: "DB-PG-HBA-WEAK-AUTH",
    name: "postgres-weak-password-authentication",
    family: Family::Database,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "pg_hba.conf authenticates passwords with scram-sha-256",
    doc: RuleDoc {
        what: "Fails for records whose method is `password` (cleartext), `md5`, or `ident` on \
               a TCP (`host*`) record. Reads every record of each cluster's `pg_hba.conf` (the \
               `hba_file` setting, default `<data_directory>/pg_hba.conf`, with its `include*` \
               directives).",
        why: "`password` sends the password in clear; `md5` accepts MD5 hashes, which are \
              replayable when stolen and weak against offline guessing; `ident` over TCP \
              trusts an identd answer from the client's host, which the client controls.",
        remediation: "Use `scram-sha-256` for `host` records (after `password_encryption = \
                      scram-sha-256` and resetting every password), `peer` for `local`, then \
                      `systemctl reload postgresql`.",
        verify: "grep -nE '^[^#]*(md5|password|ident)' /etc/postgresql/*/main/pg_hba.conf",
        references: &[
            "PostgreSQL documentation, 21.5 Password Authentication",
            "seed 000 §5 Authentification",
            "CIS PostgreSQL 15 Benchmark 4.x (scram-sha-256)",
        ],
    },
    check: check_weak,
};

pub const OPEN: Rule = Rule {
    id: "DB-PG-HBA-OPEN",
    name: "postgres-accepts-any-address",
    family: Family::Database,
    severity: Severity::High,
    level: Level::Dev,
    title: "No pg_hba.conf record admits clients from any address",
    doc: RuleDoc {
        what: "Fails for `host*` records (not `reject`) whose address is `all`, `0.0.0.0/0`, \
               `::/0` or `0.0.0.0 0.0.0.0`. Reads every record of each cluster's \
               `pg_hba.conf` (the `hba_file` setting, default `<data_directory>/pg_hba.conf`, \
               with its `include*` directives).",
        why: "Such a record lets the whole Internet try to log in as soon as the server \
              listens beyond loopback: the last barrier is a password.",
        remediation: "Name the exact client addresses (`10.0.0.5/32`) or use loopback \
                      (`127.0.0.1/32`, `::1/128`), then `systemctl reload postgresql`.",
        verify: "grep -nE '^[^#]*host.*(0\\.0\\.0\\.0/0|::/0|[[:space:]]all[[:space:]]+[a-z-]+$)' /etc/postgresql/*/main/pg_hba.conf",
        references: &[
            "seed 000 §3 Isolation réseau (« Communication locale uniquement »)",
            "PostgreSQL documentation, 21.1 The pg_hba.conf File",
        ],
    },
    check: check_open,
};

fn evidence(l: &HbaLine, actual: &str, expected: &str) -> Evidence {
    Evidence::file(&l.path)
        .line(l.line)
        .snippet(l.text.lines().next().unwrap_or(""))
        .key(l.conn.as_str())
        .actual(actual)
        .expected(expected)
}

/// Walk the records of every cluster; `judge` returns the evidence of a bad record.
fn walk(ctx: &Ctx, judge: fn(&HbaLine) -> Option<Evidence>, good: &str, bad: &str) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let mut found = false;
    let mut ev = Vec::new();
    for s in dbs.of_kind(DbKind::Postgres) {
        let Some(pg) = s.postgres() else { continue };
        found = true;
        if let Some(e) = pg.hba.errors.first() {
            return Outcome::from(e.clone());
        }
        if pg.hba.files.is_empty() {
            return Outcome::error(format!("{}: pg_hba.conf does not exist", pg.hba_path))
                .with(Evidence::file(&pg.hba_path));
        }
        ev.extend(pg.hba.lines.iter().filter_map(judge));
    }
    if !found {
        return Outcome::not_applicable("no PostgreSQL cluster is configured");
    }
    if ev.is_empty() {
        Outcome::pass(good)
    } else {
        Outcome::fail(format!("{} pg_hba.conf record(s) {bad}", ev.len())).with_all(ev)
    }
}

fn check_trust(ctx: &Ctx) -> Outcome {
    walk(
        ctx,
        |l| (l.method == "trust").then(|| evidence(l, "trust", "peer or scram-sha-256")),
        "no pg_hba.conf record uses trust",
        "let clients in without authentication (trust)",
    )
}

fn check_weak(ctx: &Ctx) -> Outcome {
    walk(
        ctx,
        |l| {
            let weak = match l.method.as_str() {
                "password" | "md5" => true,
                "ident" => l.conn != ConnType::Local,
                _ => false,
            };
            weak.then(|| evidence(l, &l.method, "scram-sha-256"))
        },
        "every password record uses scram-sha-256",
        "use a weak authentication method",
    )
}

fn check_open(ctx: &Ctx) -> Outcome {
    walk(
        ctx,
        |l| {
            (l.conn != ConnType::Local && l.method != "reject" && l.from_anywhere()).then(|| {
                evidence(
                    l,
                    l.address.as_deref().unwrap_or(""),
                    "a named client address or loopback",
                )
            })
        },
        "no pg_hba.conf record admits every address",
        "admit clients from any address",
    )
}
