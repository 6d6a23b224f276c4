//! BAK-RETENTION: old database dumps are deleted on a schedule.

use super::jobs::BackupJobs;
use super::place_evidence;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::database::Databases;

pub const RULE: Rule = Rule {
    id: "BAK-RETENTION",
    name: "database-backups-never-pruned",
    family: Family::Backup,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Old database dumps are pruned on a schedule",
    doc: RuleDoc {
        what: "For every scheduled dump whose output directory is known (see BAK-FRESH): a \
               scheduled job deletes old files there (`find DIR ... -mtime +N -delete` or \
               `-exec rm`, tmpreaper/tmpwatch; the Debian automysqlbackup and \
               autopostgresqlbackup packages rotate their own directory). Dumps streamed into \
               restic or borg need a `restic forget` / `borg prune` job. Dumps whose \
               destination is unknown are not judged.",
        why: "Dumps that are never deleted fill the disk until the database itself stops \
              writing, and keep copies of data that was deleted on purpose (personal data \
              erased on request) for ever.",
        remediation: "Add a pruning job, as the guide does: `30 2 * * * find /backups -name \
                      'avmvp_*.sql.gz' -mtime +30 -delete` (30 days; 7 locally when copies go \
                      off-site), or `restic forget --keep-daily 7 --keep-weekly 4 --prune`.",
        verify: "grep -rnE 'find .*-mtime .*(-delete|rm)|restic forget|borg prune' /etc/cron* /var/spool/cron /etc/systemd/system",
        references: &[
            "seed 000 §10 « Rétention 30 jours » (find /backups/avmvp_*.sql.gz -mtime +30 -delete)",
            "seed 001 §2 Retention policy: 7 days local",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let jobs = ctx.fact::<BackupJobs>();
    let prunes: Vec<_> = jobs.jobs.iter().flat_map(|j| &j.analysis.prunes).collect();
    let mut judged = 0;
    let mut bad = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut any_dump = false;
    for j in jobs.backups() {
        for d in &j.analysis.dumps {
            any_dump = true;
            let repo = j
                .analysis
                .encrypts
                .iter()
                .any(|e| matches!(e.tool.as_str(), "restic" | "borg"));
            let key = match (&d.output_dir, repo) {
                (Some(dir), _) => dir.clone(),
                (None, true) => "repository".to_string(),
                (None, false) => continue,
            };
            if seen.contains(&key) {
                continue;
            }
            seen.push(key.clone());
            judged += 1;
            let pruned = prunes.iter().any(|p| match (&p.dir, &d.output_dir) {
                (Some(pd), Some(od)) => {
                    let pd = pd.trim_end_matches('/');
                    od == pd || od.starts_with(&format!("{pd}/")) || pd.is_empty()
                }
                (None, None) => true,
                _ => false,
            });
            if !pruned {
                bad.push(
                    place_evidence(&d.place)
                        .key(d.tool.clone())
                        .actual(format!("nothing deletes old dumps in {key}"))
                        .expected(
                            "a scheduled find -mtime +N -delete, restic forget or borg prune",
                        ),
                );
            }
        }
    }
    if !any_dump {
        if ctx.fact::<Databases>().is_empty() {
            return Outcome::not_applicable("no database server and no dump job");
        }
        return Outcome::skip("no scheduled database dump to judge (see BAK-SCHEDULED)");
    }
    if judged == 0 {
        return Outcome::skip("no dump job names where it writes");
    }
    if bad.is_empty() {
        Outcome::pass(format!("old dumps are pruned in {judged} place(s)"))
    } else {
        Outcome::fail("database dumps accumulate without limit").with_all(bad)
    }
}
