//! Fixes of the backup family: the pruning step BAK-RETENTION asks for, added to the job that
//! writes the dumps (a line after the dump in its script, or a crontab line beside a one-line
//! job). Scheduling, encrypting and copying backups off the host stay in `MANUAL`: they need
//! the admin's plan, keys and destinations.

use super::web::{indent_of, line_at};
use crate::change::{Fix, Intent, Safety};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::backup::analyze::Dump;
use rempart_audit::rules::backup::{cron, BackupJobs, Job};

/// Days dumps are kept on the host: seed 000 §10 (« Rétention 30 jours »:
/// `find /backups/avmvp_*.sql.gz -mtime +30 -delete`).
const KEEP_DAYS: u32 = 30;
/// Days kept when the job also copies its dumps off the host: seed 001 §2 (« Retention policy:
/// 7 days local »).
const KEEP_DAYS_OFFSITE: u32 = 7;

/// Whether `path` is a crontab, and whether it has a user field.
fn crontab_kind(path: &str) -> Option<bool> {
    if path == "/etc/crontab" || path.starts_with("/etc/cron.d/") {
        Some(true)
    } else if path.starts_with("/var/spool/cron/crontabs/") {
        Some(false)
    } else {
        None
    }
}

/// The `find -name` pattern of a dump's file name: the command substitutions and variables
/// that make each name unique (`db-$(date +%F).sql`) become `*`. `None` when the name has
/// nothing fixed around them or characters a pattern cannot carry safely.
pub fn name_pattern(file: &str) -> Option<String> {
    let name = file.rsplit('/').next()?;
    let mut out = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => {
                match chars.peek() {
                    Some('(') | Some('{') => {
                        let (open, close) = if chars.peek() == Some(&'(') {
                            ('(', ')')
                        } else {
                            ('{', '}')
                        };
                        let mut depth = 0u32;
                        for d in chars.by_ref() {
                            if d == open {
                                depth += 1;
                            } else if d == close {
                                depth = depth.saturating_sub(1);
                                if depth == 0 {
                                    break;
                                }
                            }
                        }
                        if depth != 0 {
                            return None;
                        }
                    }
                    Some(n) if n.is_ascii_alphanumeric() || *n == '_' => {
                        while chars
                            .peek()
                            .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_')
                        {
                            chars.next();
                        }
                    }
                    _ => return None,
                }
                if !out.ends_with('*') {
                    out.push('*');
                }
            }
            '`' => {
                if !chars.by_ref().any(|d| d == '`') {
                    return None;
                }
                if !out.ends_with('*') {
                    out.push('*');
                }
            }
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@') => {
                out.push(c)
            }
            _ => return None,
        }
    }
    // Something fixed beside the wildcard, so other files of the directory are never matched.
    let fixed = out.chars().filter(|c| *c != '*').count();
    (out.contains('*') && fixed >= 3).then_some(out)
}

/// A directory a command can name without quoting.
fn plain_dir(dir: &str) -> bool {
    dir.starts_with('/')
        && dir.len() > 1
        && dir
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | '@'))
}

/// The pruning command for one dump.
fn prune_command(dir: &str, pattern: &str, days: u32) -> String {
    format!("find {dir} -maxdepth 1 -type f -name '{pattern}' -mtime +{days} -delete")
}

/// Lines to insert after line `after` of file `path` (a real path), in order.
struct Insert {
    path: String,
    after: u32,
    lines: Vec<String>,
}

/// Where and what to insert so that the pruning `cmd` runs after `dump` (written by `job`).
fn prune_after(ctx: &Ctx, job: &Job, dump: &Dump, cmd: &str) -> Result<Insert, String> {
    let place = &dump.place;
    let comment = "# Written by `rempart harden` (BAK-RETENTION): old dumps deleted. `rempart \
                   harden rollback` removes it.";
    let (real, line) = line_at(ctx, &place.path, place.line)?;
    if let Some(system) = crontab_kind(&place.path) {
        if place.path != job.path || job.line != Some(place.line) {
            return Err(format!("{}: the dump is not a crontab line", place.path));
        }
        let text = ctx
            .host
            .read_text(&real)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{} is gone", place.path))?;
        let tab = cron::parse(&text.text, system);
        let entry = tab
            .entries
            .iter()
            .find(|e| e.line == place.line)
            .ok_or_else(|| format!("{}:{}: not a crontab entry", place.path, place.line))?;
        let user = match (system, &entry.user) {
            (true, Some(u)) => format!(" {u}"),
            (true, None) => return Err(format!("{}: no user field", place.path)),
            (false, _) => String::new(),
        };
        return Ok(Insert {
            path: real,
            after: place.line,
            lines: vec![
                comment.to_string(),
                format!("{}{user} {cmd}", entry.schedule),
            ],
        });
    }
    if place.path.contains("/systemd/") {
        return Err(format!(
            "{}: the dump runs from a systemd unit: add `ExecStartPost=/usr/bin/{cmd}` to it by \
             hand",
            place.path
        ));
    }
    // A line of the script: the pruning goes right after it, at its indentation.
    if line.trim_end().ends_with('\\') || line.contains("<<") {
        return Err(format!(
            "{}:{}: the dump command goes on after this line: add `{cmd}` after it by hand",
            place.path, place.line
        ));
    }
    let indent = indent_of(&line);
    Ok(Insert {
        path: real,
        after: place.line,
        lines: vec![format!("{indent}{comment}"), format!("{indent}{cmd}")],
    })
}

/// BAK-RETENTION: after each dump whose directory nothing prunes, a `find DIR -maxdepth 1
/// -type f -name 'PATTERN' -mtime +N -delete`, the guide's own pruning (seed 000 §10: 30 days;
/// seed 001 §2: 7 days locally when the job copies its dumps off the host). The pattern is the
/// dump's file name with its date part as `*`, so only dumps are deleted (not the script or
/// other files kept in the same directory). Unsafe: it deletes data.
pub fn retention(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let jobs = ctx.fact::<BackupJobs>();
    let prunes: Vec<_> = jobs.jobs.iter().flat_map(|j| &j.analysis.prunes).collect();
    let mut inserts = Vec::new();
    let mut changes = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for job in jobs.backups() {
        for d in &job.analysis.dumps {
            let Some(dir) = d.output_dir.as_deref() else {
                continue;
            };
            let pruned = prunes.iter().any(|p| {
                p.dir.as_deref().is_some_and(|pd| {
                    let pd = pd.trim_end_matches('/');
                    dir == pd || dir.starts_with(&format!("{pd}/")) || pd.is_empty()
                })
            });
            if pruned || seen.contains(&dir) {
                continue;
            }
            seen.push(dir);
            let where_ = format!("{}:{}", d.place.path, d.place.line);
            if !plain_dir(dir) {
                return Err(format!(
                    "{where_}: the dump directory `{dir}` needs quoting: add the pruning by hand"
                ));
            }
            let pattern = d
                .file
                .as_deref()
                .filter(|f| f.rsplit_once('/').is_some_and(|(p, _)| p == dir))
                .and_then(name_pattern)
                .ok_or_else(|| {
                    format!(
                        "{where_}: no dated file name to match in {dir} (a dump directory or a \
                         fixed name): add `find {dir} ... -mtime +{KEEP_DAYS} -delete` by hand"
                    )
                })?;
            let days = if job.analysis.offsite.is_empty() {
                KEEP_DAYS
            } else {
                KEEP_DAYS_OFFSITE
            };
            let cmd = prune_command(dir, &pattern, days);
            inserts.push(prune_after(ctx, job, d, &cmd)?);
            changes.push(format!("{dir}/{pattern} kept {days} days ({where_})"));
        }
    }
    if inserts.is_empty() {
        return Ok(None);
    }
    // Last lines first, so that the line numbers of the earlier ones still hold; within one
    // insertion point the lines go in reverse, each before the previous one.
    inserts.sort_by(|a, b| (&a.path, b.after).cmp(&(&b.path, a.after)));
    let mut intents = Vec::new();
    for i in inserts {
        for text in i.lines.into_iter().rev() {
            intents.push(Intent::InsertLine {
                path: i.path.clone(),
                before: i.after + 1,
                text,
            });
        }
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("old dumps deleted: {}", changes.join(", ")),
        safety: Safety::Unsafe(format!(
            "deletes dumps older than the retention ({KEEP_DAYS} days, {KEEP_DAYS_OFFSITE} when \
             copied off the host) at the job's next run: copy those you must keep first"
        )),
        intents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dated_names_become_patterns() {
        assert_eq!(
            name_pattern("/backups/avmvp_$(date +\\%Y\\%m\\%d).sql.gz").unwrap(),
            "avmvp_*.sql.gz"
        );
        assert_eq!(
            name_pattern("/root/backups/db-$(date +%F).sql").unwrap(),
            "db-*.sql"
        );
        assert_eq!(
            name_pattern("/b/${DB}_`date +%s`.dump").unwrap(),
            "*_*.dump"
        );
        assert_eq!(name_pattern("/b/$DB-$(date).gz").unwrap(), "*-*.gz");
        assert_eq!(name_pattern("/backups/latest.sql"), None, "a fixed name");
        assert_eq!(name_pattern("/backups/$(date)"), None, "nothing fixed");
        assert_eq!(name_pattern("/backups/a b$(date).sql"), None);
        assert_eq!(name_pattern("/backups/x$(date.sql"), None);
        assert_eq!(name_pattern("/backups/x'$(date).sql"), None);
    }

    proptest! {
        /// Any name: no panic; a pattern is quotable in single quotes and keeps some fixed part.
        #[test]
        fn patterns_are_safe_to_quote(name in "\\PC{0,60}") {
            if let Some(p) = name_pattern(&name) {
                prop_assert!(!p.contains('\''));
                prop_assert!(!p.contains('/'));
                prop_assert!(p.contains('*'));
                prop_assert!(p.chars().filter(|c| *c != '*').count() >= 3);
            }
        }
    }
}
