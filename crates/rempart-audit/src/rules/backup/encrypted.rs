//! BAK-ENCRYPTED: database dumps are encrypted before they are stored.

use super::jobs::BackupJobs;
use super::place_evidence;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::database::Databases;

pub const RULE: Rule = Rule {
    id: "BAK-ENCRYPTED",
    name: "database-backups-unencrypted",
    family: Family::Backup,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "Database dumps are encrypted",
    doc: RuleDoc {
        what: "For every dump run by a scheduled job (see BAK-SCHEDULED for where jobs are \
               found): the dump's pipeline passes through an encryption tool (gpg/gpg2 with \
               -e/-c, age, openssl enc, ccrypt, restic, borg, duplicity, kopia, 7z -p, zip \
               -e), or is written to a `.gpg`/`.age`/`.enc` file, or the script that runs it \
               encrypts (a later `gpg --encrypt \"$FILE\"`). Skipped when no dump job exists.",
        why: "A dump holds every row and every password hash of the database. Unencrypted, it \
              leaks from wherever copies end up: a backup disk, a bucket, a laptop.",
        remediation: "Pipe the dump through gpg or age: `pg_dump db | gzip | gpg --batch -e -r \
                      backup@example.org > /backups/db.sql.gz.gpg` (keep the private key off \
                      the server), or back up with restic/borg.",
        verify: "grep -rnE 'pg_dump|mysqldump|mariadb-dump' /etc/cron* /var/spool/cron /etc/systemd/system",
        references: &[
            "seed 000 Risques résiduels 7 « Backups non chiffrés — chiffrer avec GPG avant stockage »; Entreprise « Backups chiffrés hors site »",
            "seed 001 §2 Encrypted Backups (GPG + S3)",
            "seed 002 Phase 3 §2 (« chiffrer avec gpg »)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let jobs = ctx.fact::<BackupJobs>();
    let dumps: Vec<_> = jobs.backups().flat_map(|j| &j.analysis.dumps).collect();
    if dumps.is_empty() {
        if ctx.fact::<Databases>().is_empty() {
            return Outcome::not_applicable("no database server and no dump job");
        }
        return Outcome::skip("no scheduled database dump to judge (see BAK-SCHEDULED)");
    }
    let plain: Vec<_> = dumps
        .iter()
        .filter(|d| !d.encrypted)
        .map(|d| {
            place_evidence(&d.place)
                .key(d.tool.clone())
                .actual("written unencrypted")
                .expected("piped through gpg, age, restic or borg")
        })
        .collect();
    if plain.is_empty() {
        Outcome::pass(format!("{} dump(s) are encrypted", dumps.len()))
    } else {
        Outcome::fail(format!("{} dump(s) are stored unencrypted", plain.len())).with_all(plain)
    }
}
