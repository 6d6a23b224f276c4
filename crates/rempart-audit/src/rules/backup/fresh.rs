//! BAK-FRESH: on a live host, the newest file in each backup directory is recent.

use super::jobs::BackupJobs;
use super::place_evidence;
use crate::host::FileKind;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::database::Databases;
use std::time::{SystemTime, UNIX_EPOCH};

pub const RULE: Rule = Rule {
    id: "BAK-FRESH",
    name: "database-backup-stale",
    family: Family::Backup,
    severity: Severity::High,
    level: Level::Sme,
    title: "The newest database dump is recent",
    doc: RuleDoc {
        what: "On a live host, for every scheduled dump whose output directory the job names \
               (a `>` redirection, `-f`/`--result-file`, `-D`, `--target-dir`, variables of \
               the script expanded; /var/lib/automysqlbackup and /var/lib/autopostgresqlbackup \
               for the Debian packages): the newest regular file in that directory (two levels \
               deep) is younger than the job's period plus slack: 26 h for daily jobs, 7 days \
               + 2 h for weekly, 32 days for monthly. A missing or empty directory fails. Under \
               --root the rule is skipped (file dates of an image say nothing about now).",
        why: "A backup job that fails every night (a full disk, a changed password, a removed \
              tool) is silent; the missing dumps show only on the day a restore is needed.",
        remediation: "Run the job by hand and read its output (`run-parts --test`, the cron \
                      mail, `journalctl -u NAME.service`), fix it, and have the job report \
                      failures (MAILTO, OnFailure=).",
        verify: "ls -lt /backups | head",
        references: &[
            "seed 000 Maintenance « Backup base de données (quotidien automatique) », « Test de restauration backup (mensuel) »",
            "seed 001 §2 Backup metrics for Prometheus monitoring; Troubleshooting « Backup failed »",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let jobs = ctx.fact::<BackupJobs>();
    let dumps: Vec<_> = jobs
        .backups()
        .flat_map(|j| j.analysis.dumps.iter().map(move |d| (j, d)))
        .collect();
    if dumps.is_empty() {
        if ctx.fact::<Databases>().is_empty() {
            return Outcome::not_applicable("no database server and no dump job");
        }
        return Outcome::skip("no scheduled database dump to judge (see BAK-SCHEDULED)");
    }
    if let Err(o) = ctx.require_live("the dates of the backup files now") {
        return o;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut bad = Vec::new();
    let mut good = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (j, d) in dumps {
        let (Some(dir), Some(max_h)) = (d.output_dir.as_deref(), j.frequency.max_age_hours())
        else {
            continue;
        };
        if seen.contains(&dir) {
            continue;
        }
        seen.push(dir);
        let mut newest: Option<(i64, String)> = None;
        let mut exists = false;
        let base_depth = dir.trim_end_matches('/').matches('/').count();
        ctx.host.walk(
            dir,
            20_000,
            &mut |e| {
                if e.path.trim_end_matches('/') == dir.trim_end_matches('/') {
                    exists = e.meta.kind == FileKind::Dir;
                    return;
                }
                if e.meta.kind == FileKind::File
                    && e.path.matches('/').count() <= base_depth + 2
                    && newest.as_ref().is_none_or(|(t, _)| e.meta.mtime > *t)
                {
                    newest = Some((e.meta.mtime, e.path.clone()));
                }
            },
            &mut |_| {},
        );
        let job_ev = place_evidence(&d.place)
            .key("job")
            .actual(j.schedule.clone());
        match newest {
            _ if !exists => bad.push(vec![
                Evidence::file(dir)
                    .key("backup directory")
                    .actual("missing")
                    .expected("the job's dumps"),
                job_ev,
            ]),
            None => bad.push(vec![
                Evidence::file(dir)
                    .key("backup directory")
                    .actual("empty")
                    .expected("the job's dumps"),
                job_ev,
            ]),
            Some((t, path)) => {
                let age_h = (now - t).max(0) / 3600;
                let ev = Evidence::file(path)
                    .key("age")
                    .actual(format!("{age_h} h"))
                    .expected(format!("< {max_h} h"));
                if age_h >= max_h as i64 {
                    bad.push(vec![ev, job_ev]);
                } else {
                    good.push(ev);
                }
            }
        }
    }
    if bad.is_empty() && good.is_empty() {
        return Outcome::skip("no dump job names the directory it writes to");
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} backup directories hold a recent dump",
            good.len()
        ))
        .with_all(good)
    } else {
        Outcome::fail("a backup directory holds no recent dump").with_all(bad.into_iter().flatten())
    }
}
