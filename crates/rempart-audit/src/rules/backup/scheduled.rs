//! BAK-SCHEDULED: every database found has a scheduled dump, at least daily.

use super::analyze::Scope;
use super::cron::Frequency;
use super::jobs::BackupJobs;
use super::place_evidence;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::database::live::LiveDatabases;
use crate::rules::database::{Databases, DbKind};

pub const RULE: Rule = Rule {
    id: "BAK-SCHEDULED",
    name: "database-backup-not-scheduled",
    family: Family::Backup,
    severity: Severity::High,
    level: Level::Sme,
    title: "Every database is dumped by a daily scheduled job",
    doc: RuleDoc {
        what: "For every database server found: a scheduled job (crontab lines of \
               /etc/crontab, /etc/cron.d/*, /var/spool/cron/crontabs/*; scripts in \
               /etc/cron.{hourly,daily,weekly,monthly}/; /etc/anacrontab; enabled systemd \
               timers and their service's ExecStart=) runs a dump tool of that server \
               (pg_dump, pg_dumpall, pg_basebackup, pgbackrest, barman, wal-g, \
               autopostgresqlbackup; mysqldump, mariadb-dump, mariabackup, mydumper, \
               automysqlbackup) at least daily, directly or in a script the job runs (followed \
               one level). When database names are known (MariaDB's data directory; \
               PostgreSQL on a live host) each must be named by a dump or covered by an \
               all-databases dump. Files cron or run-parts ignores (a dot in the name) do not \
               count.",
        why: "Without a scheduled dump, a disk failure, a ransomware or a wrong `DELETE` \
              loses everything since the last manual copy; a weekly dump loses up to a week.",
        remediation: "Add a cron job, e.g. in /etc/cron.d/db-backup: `0 2 * * * postgres \
                      pg_dump avmvp_db | gzip | gpg -e -r backup@example.org > \
                      /backups/avmvp_$(date +\\%F).sql.gz.gpg` (or `pg_dumpall`, \
                      `mariadb-dump --all-databases`), or a systemd timer.",
        verify: "crontab -l; ls /etc/cron.d /etc/cron.daily; systemctl list-timers",
        references: &[
            "seed 000 §10 Backups (cron `0 2 * * * /usr/bin/pg_dump ...`); Recommandations PME « Backups quotidiens »",
            "seed 002 Phase 3 §2 Backups automatisés (cron `0 3 * * *` script_sauvegarde.sh)",
            "seed 001 §2 Encrypted Backups (daily at 2:00 AM)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    if dbs.is_empty() {
        return Outcome::not_applicable("no database server found");
    }
    let jobs = ctx.fact::<BackupJobs>();
    let live = if ctx.host.is_live() {
        Some(ctx.fact::<LiveDatabases>())
    } else {
        None
    };
    let mut bad = Vec::new();
    let mut good = Vec::new();
    for s in &dbs.servers {
        let names = live
            .as_ref()
            .and_then(|l| l.database_names(&dbs, s))
            .unwrap_or_else(|| s.databases.clone());
        let dumps: Vec<_> = jobs
            .backups()
            .flat_map(|j| j.analysis.dumps.iter().map(move |d| (j, d)))
            .filter(|(_, d)| d.kind == s.kind)
            .collect();
        let tools = match s.kind {
            DbKind::Postgres => "pg_dump/pg_dumpall",
            DbKind::MariaDb => "mariadb-dump/mysqldump",
        };
        if dumps.is_empty() {
            let mut e = vec![Evidence::file(&s.main_config)
                .key(s.label())
                .actual("no scheduled dump")
                .expected(format!("a daily {tools} job"))];
            e.extend(jobs.ignored.iter().map(|(p, why)| {
                Evidence::file(p.clone())
                    .key("ignored by cron")
                    .note(why.clone())
            }));
            bad.push(e);
            continue;
        }
        let targets: Vec<Option<&str>> = if names.is_empty() {
            vec![None]
        } else {
            names.iter().map(|n| Some(n.as_str())).collect()
        };
        for db in targets {
            let covering: Vec<_> = dumps
                .iter()
                .filter(|(_, d)| match db {
                    Some(n) => d.scope.covers(n),
                    None => true,
                })
                .collect();
            let what = db.map_or_else(|| s.label(), |n| format!("{} database {n}", s.label()));
            let Some((best_job, best)) = covering.iter().min_by_key(|(j, _)| j.frequency) else {
                let unnamed = dumps.iter().any(|(_, d)| matches!(d.scope, Scope::Unknown));
                bad.push(vec![Evidence::file(&s.main_config)
                    .key(what)
                    .actual("not dumped")
                    .expected(format!("named by a {tools} job or an all-databases dump"))
                    .note(if unnamed {
                        "a dump names no database (it uses the connection's default)"
                    } else {
                        "the scheduled dumps name other databases"
                    })]);
                continue;
            };
            if best_job.frequency != Frequency::Daily {
                bad.push(vec![place_evidence(&best.place)
                    .key(what)
                    .actual(format!(
                        "{} ({})",
                        best_job.frequency.as_str(),
                        best_job.schedule
                    ))
                    .expected("daily")]);
                continue;
            }
            good.push(place_evidence(&best.place).key(what));
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!("{} database(s) dumped daily", good.len())).with_all(good)
    } else {
        if let Some(e) = jobs.errors.first() {
            return Outcome::from(e.clone());
        }
        Outcome::fail("a database has no daily scheduled backup")
            .with_all(bad.into_iter().flatten())
    }
}
