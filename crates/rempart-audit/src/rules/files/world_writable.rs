//! FILE-WORLD-WRITABLE: nothing under `/etc` or an application directory is writable by every
//! user.

use super::scan::FileScan;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "FILE-WORLD-WRITABLE",
    name: "world-writable-files",
    family: Family::Files,
    severity: Severity::High,
    level: Level::Dev,
    title: "Nothing under /etc or the application directories is writable by every user",
    doc: RuleDoc {
        what: "Walks /etc and every application directory (`app_paths` in rempart.toml) without \
               following symbolic links, and reports regular files and directories whose mode \
               grants write to others (o+w), sticky directories included. Links, sockets and \
               devices are not judged by their mode. A walk stops after 50,000 entries under \
               /etc and 200,000 per application directory: an unfinished walk with no finding \
               is an error, not a pass.",
        why: "Any local account, or any compromised service running as its own user, can rewrite \
              a world-writable configuration, script or code file and wait for root or the \
              application to run it.",
        remediation: "chmod o-w PATH (find /etc /opt/APP -xdev \\( -type f -o -type d \\) -perm \
                      -0002 lists them); find out which deployment step set the mode.",
        verify: "find /etc /opt/APP -xdev \\( -type f -o -type d \\) -perm -0002 -ls",
        references: &[
            "seed 000 Checklist (« find /opt/av-monitoring-mvp -type f -perm /o+w »)",
            "CIS Debian Linux 12 Benchmark 7.1.x (world writable files and directories)",
        ],
    },
    check,
};

/// Findings shown at most (the message gives the total).
const MAX_SHOWN: usize = 50;

fn check(ctx: &Ctx) -> Outcome {
    let scan = ctx.fact::<FileScan>();
    let found: Vec<_> = scan
        .roots
        .iter()
        .flat_map(|r| r.world_writable.iter())
        .collect();
    let unfinished: Vec<_> = scan.roots.iter().filter(|r| !r.complete).collect();
    let errors: Vec<_> = scan.roots.iter().flat_map(|r| r.errors.iter()).collect();
    let walked: Vec<String> = scan
        .roots
        .iter()
        .map(|r| {
            if r.exists {
                format!("{} ({} entries)", r.root, r.entries)
            } else {
                format!("{} (absent)", r.root)
            }
        })
        .collect();
    if !found.is_empty() {
        let mut msg = format!("{} world-writable entries", found.len());
        if !unfinished.is_empty() || !errors.is_empty() {
            msg.push_str(" (the walk was not complete: there may be more)");
        }
        return Outcome::fail(msg).with_all(found.iter().take(MAX_SHOWN).map(|e| {
            let mut ev = Evidence::file(e.path.as_str())
                .key(e.meta.kind.as_str())
                .actual(e.meta.mode_octal())
                .expected("no write for others (o-w)");
            if e.meta.mode & 0o1000 != 0 {
                ev = ev.note("sticky: others cannot delete, but can create");
            }
            ev
        }));
    }
    if let Some(r) = unfinished.first() {
        return Outcome::error(format!(
            "the walk of {} stopped after {} entries; nothing world-writable so far",
            r.root, r.entries
        ))
        .with(Evidence::file(r.root.as_str()).note("walk bound reached"));
    }
    if let Some(e) = errors.first() {
        return Outcome::error(format!(
            "part of the tree could not be walked: {e}{}",
            if errors.len() > 1 {
                format!(" (and {} more)", errors.len() - 1)
            } else {
                String::new()
            }
        ))
        .with_all(
            errors
                .iter()
                .take(MAX_SHOWN)
                .map(|e| Evidence::file(e.path()).note(e.reason())),
        );
    }
    Outcome::pass(format!(
        "nothing world-writable under {}",
        walked.join(", ")
    ))
}
