//! The backup family: every database server found (the database family's [`Databases`] fact)
//! has a scheduled dump, dumps are encrypted and copied off the host, and on a live host the
//! newest dump is recent. It owns the crontab parser ([`cron`]), a small shell reader
//! ([`shell`]), the analysis of what a job does ([`analyze`]) and the [`BackupJobs`] fact
//! ([`jobs`]). It does not restore backups to test them.
//!
//! [`Databases`]: crate::rules::database::Databases

pub mod analyze;
pub mod cron;
pub mod encrypted;
pub mod fresh;
pub mod jobs;
pub mod offsite;
pub mod retention;
pub mod scheduled;
pub mod shell;

pub use jobs::{BackupJobs, Job};

use crate::model::Evidence;
use analyze::Place;

/// Evidence pointing at a line of a job or script.
pub fn place_evidence(p: &Place) -> Evidence {
    let e = Evidence::file(p.path.clone());
    if p.line == 0 {
        return e;
    }
    e.line(p.line)
        .snippet(p.text.lines().next().unwrap_or("").to_string())
}
