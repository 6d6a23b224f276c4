//! BAK-OFFSITE: database dumps are copied off the host.

use super::jobs::BackupJobs;
use super::place_evidence;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::database::Databases;

pub const RULE: Rule = Rule {
    id: "BAK-OFFSITE",
    name: "database-backups-not-offsite",
    family: Family::Backup,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "Database dumps are copied off the host",
    doc: RuleDoc {
        what: "For every dump run by a scheduled job: the same job or script copies to \
               another host (rclone copy/sync to a remote, s3cmd, aws s3, gsutil, azcopy, mc, \
               b2, rsync/scp/sftp to `host:path`, restic with an sftp:/s3:/rest:/b2:... \
               repository, borg with an ssh:// or `host:` repository, duplicity to a URL, \
               lftp, curl -T), or another scheduled job does so from the dump's directory. \
               Skipped when no dump job exists.",
        why: "A backup on the same disk dies with it: a disk failure, a fire, a ransomware \
              or an intruder who deletes the server takes the backups too.",
        remediation: "Add the copy to the backup job: `rclone copy /backups remote:bucket`, \
                      `s3cmd put FILE s3://bucket/`, or use restic/borg with a remote \
                      repository.",
        verify: "grep -rnE 'rclone|s3cmd|aws s3|restic|borg|rsync|scp' /etc/cron* /var/spool/cron /etc/systemd/system",
        references: &[
            "seed 000 §10 « Backup chiffré sur stockage distant »; Entreprise « Backups chiffrés hors site »",
            "seed 001 §2 S3 sync to off-site storage",
            "seed 002 Phase 3 §2 (« envoyer hors-site »)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let jobs = ctx.fact::<BackupJobs>();
    let all_offsite: Vec<_> = jobs.jobs.iter().flat_map(|j| &j.analysis.offsite).collect();
    let mut n = 0;
    let mut bad = Vec::new();
    for j in jobs.backups() {
        for d in &j.analysis.dumps {
            n += 1;
            if !j.analysis.offsite.is_empty() {
                continue;
            }
            let elsewhere = d.output_dir.as_deref().is_some_and(|dir| {
                all_offsite.iter().any(|o| {
                    o.sources.iter().any(|s| {
                        let s = s.trim_end_matches('/');
                        dir == s
                            || dir.starts_with(&format!("{s}/"))
                            || s.starts_with(&format!("{dir}/"))
                    })
                })
            });
            if !elsewhere {
                bad.push(
                    place_evidence(&d.place)
                        .key(d.tool.clone())
                        .actual(d.output_dir.clone().map_or_else(
                            || "kept on this host".to_string(),
                            |o| format!("kept in {o} only"),
                        ))
                        .expected("a copy to another host"),
                );
            }
        }
    }
    if n == 0 {
        if ctx.fact::<Databases>().is_empty() {
            return Outcome::not_applicable("no database server and no dump job");
        }
        return Outcome::skip("no scheduled database dump to judge (see BAK-SCHEDULED)");
    }
    if bad.is_empty() {
        Outcome::pass(format!("{n} dump(s) are copied off the host"))
    } else {
        Outcome::fail(format!("{} dump(s) stay on this host", bad.len())).with_all(bad)
    }
}
