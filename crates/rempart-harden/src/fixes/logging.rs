//! Fixes of the logging family: a logrotate drop-in (`/etc/logrotate.d/rempart-<app>`) naming
//! the exact log files nothing rotates, and a Django logger's `'level': 'DEBUG'` lowered to
//! INFO when that is one literal on one line. Shipping logs off the host (LOG-CENTRAL) needs a
//! destination only the admin knows: it is in `MANUAL`.

use super::web::{edit_line, safe};
use crate::change::{Fix, Intent};
use rempart_audit::host::Users;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::logging::logrotate::LogrotateConfig;
use rempart_audit::rules::logging::logs::AppLogs;
use std::collections::BTreeMap;

const DROPIN_DIR: &str = "/etc/logrotate.d";

/// A file name part from who writes the log (`observations.service StandardOutput` ->
/// `observations`).
fn slug(writer: &str) -> String {
    let first = writer.split_whitespace().next().unwrap_or("app");
    let first = first.strip_suffix(".service").unwrap_or(first);
    let s: String = first
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "app".into()
    } else {
        s
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/')
        .map_or("/", |(d, _)| if d.is_empty() { "/" } else { d })
}

/// LOG-ROTATE-APP: one logrotate drop-in per application naming its unrotated log files
/// (weekly, 12 kept, compressed, `copytruncate` so the application needs no signal; `su` the
/// directory's owner when logrotate would refuse the directory as insecure).
pub fn rotate_app(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    if let Some(e) = f
        .evidence
        .iter()
        .find(|e| matches!(e.key.as_deref(), Some("logrotate" | "logrotate.timer")))
    {
        return Err(format!(
            "{} is {}: installing or unmasking logrotate is the admin's (apt's) job",
            e.key.as_deref().unwrap_or("logrotate"),
            e.actual.as_ref().map(|a| a.to_string()).unwrap_or_default()
        ));
    }
    let main = ctx
        .host
        .read_text("/etc/logrotate.conf")
        .map_err(|e| e.to_string())?
        .ok_or("no /etc/logrotate.conf")?;
    let includes_dir = main.text.lines().any(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        w.len() == 2 && w[0] == "include" && w[1].trim_end_matches('/') == DROPIN_DIR
    });
    // A missing directory is created by apply (and removed again by rollback).
    if !includes_dir {
        return Err(format!(
            "/etc/logrotate.conf does not include {DROPIN_DIR}: add a stanza for the logs there by hand"
        ));
    }
    let logs = ctx.fact::<AppLogs>();
    let cfg = LogrotateConfig::load(ctx.host);
    let users = ctx.fact::<Users>();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &logs.logs {
        if cfg.covering(&l.path).is_some() {
            continue;
        }
        if l.path.contains(['"', '\n']) || l.path.contains(['*', '?', '[']) {
            return Err(format!(
                "{}: a log path logrotate cannot name exactly",
                l.path
            ));
        }
        let paths = groups.entry(slug(&l.writer)).or_default();
        if !paths.contains(&l.path) {
            paths.push(l.path.clone());
        }
    }
    let mut intents = Vec::new();
    let mut files = Vec::new();
    for (name, paths) in groups {
        let path = format!("{DROPIN_DIR}/rempart-{name}");
        if ctx.host.exists(&path) {
            return Err(format!(
                "{path} exists and does not cover {}: edit it by hand",
                paths.join(", ")
            ));
        }
        // logrotate refuses a directory writable by others or by a non-root group unless
        // told which account rotates there.
        let mut su = None;
        for p in &paths {
            if let Ok(Some(m)) = ctx.host.metadata(parent(p)) {
                if m.mode & 0o002 != 0 || (m.mode & 0o020 != 0 && m.gid != 0) {
                    let user = users.user_by_uid(m.uid).map(|u| u.name.clone());
                    let group = users.group_by_gid(m.gid).map(|g| g.name.clone());
                    match (user, group) {
                        (Some(u), Some(g)) => su = Some(format!("{u} {g}")),
                        _ => {
                            return Err(format!(
                                "{}: its owner is not a known account, so `su` cannot be set",
                                parent(p)
                            ))
                        }
                    }
                }
            }
        }
        let mut text = super::header("#", "LOG-ROTATE-APP");
        let names: Vec<String> = paths
            .iter()
            .map(|p| {
                if p.contains(' ') {
                    format!("\"{p}\"")
                } else {
                    p.clone()
                }
            })
            .collect();
        text.push_str(&format!("{} {{\n", names.join(" ")));
        for d in [
            "weekly",
            "rotate 12",
            "compress",
            "delaycompress",
            "missingok",
            "notifempty",
            "copytruncate",
        ] {
            text.push_str(&format!("    {d}\n"));
        }
        if let Some(su) = su {
            text.push_str(&format!("    su {su}\n"));
        }
        text.push_str("}\n");
        intents.push(Intent::Write {
            path: path.clone(),
            content: text.into_bytes(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        });
        files.push(path);
    }
    Ok(safe(
        f,
        format!(
            "logrotate drop-in(s) {} (check with logrotate --debug /etc/logrotate.conf)",
            files.join(", ")
        ),
        intents,
    ))
}

/// `'level': 'DEBUG'` (either quotes) on one line, with DEBUG replaced by INFO.
fn level_info(line: &str) -> Option<String> {
    let mut hits = Vec::new();
    for q in ['\'', '"'] {
        let pat = format!("{q}level{q}");
        let mut from = 0;
        while let Some(i) = line[from..].find(&pat) {
            let at = from + i + pat.len();
            let rest = line[at..].trim_start();
            if let Some(v) = rest.strip_prefix(':') {
                let v = v.trim_start();
                for q2 in ['\'', '"'] {
                    if v.starts_with(&format!("{q2}DEBUG{q2}")) {
                        let start = line.len() - v.len() + 1;
                        hits.push(start);
                    }
                }
            }
            from = at;
        }
    }
    let [start] = hits.as_slice() else {
        return None;
    };
    Some(format!("{}INFO{}", &line[..*start], &line[start + 5..]))
}

/// LOG-DJANGO-DEBUG-LEVEL: each logger the audit names at DEBUG gets `'level': 'INFO'`, when
/// its level is written once, literally, on the logger's line or the few lines of its entry.
pub fn django_level(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut loggers = Vec::new();
    for e in &f.evidence {
        let (Some(path), Some(line)) = (e.path.as_deref(), e.line) else {
            continue;
        };
        let Some(logger) = e.key.as_deref().and_then(|k| k.strip_prefix("LOGGING ")) else {
            return Err(format!(
                "{path}:{line}: the level comes from the environment: set it to INFO there"
            ));
        };
        // The level is on the logger's line, or on one of the next lines of its entry.
        let mut found = None;
        for n in line..line + 8 {
            let Ok((_, text)) = super::web::line_at(ctx, path, n) else {
                break;
            };
            if level_info(&text).is_some() {
                if found.is_some() {
                    found = None;
                    break;
                }
                found = Some(n);
            }
            if text.contains('}') {
                break;
            }
        }
        let n = found.ok_or_else(|| {
            format!(
                "{path}:{line}: logger {logger}'s level is not one literal near its entry: set it to INFO by hand"
            )
        })?;
        intents.push(edit_line(
            ctx,
            path,
            n,
            "not a literal 'level': 'DEBUG'",
            level_info,
        )?);
        loggers.push(logger.to_string());
    }
    Ok(safe(
        f,
        format!(
            "Django loggers {} at INFO (restart the application)",
            loggers.join(", ")
        ),
        intents,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any line: no panic; a rewrite replaces one `DEBUG` and nothing else by `INFO`.
        #[test]
        fn level_info_replaces_only_the_value(pre in "[ {a-z',:]{0,20}", q in "'|\"", sp in "[ ]{0,2}", post in "[ },a-z'#]{0,20}", junk in "\\PC{0,60}") {
            for line in [junk.clone(), format!("{pre}{q}level{q}{sp}:{sp}{q}DEBUG{q}{post}")] {
                if let Some(out) = level_info(&line) {
                    let one_replaced = line
                        .match_indices("DEBUG")
                        .any(|(k, _)| out == format!("{}INFO{}", &line[..k], &line[k + 5..]));
                    prop_assert!(one_replaced, "{line:?} -> {out:?}");
                }
            }
            let line = format!("{pre}{q}level{q}{sp}:{sp}{q}DEBUG{q}{post}");
            if !pre.contains("level") && !post.contains("level") {
                prop_assert!(level_info(&line).is_some(), "{line:?}");
            }
        }
    }

    #[test]
    fn one_literal_debug_level_is_lowered() {
        assert_eq!(
            level_info("        'django': {'handlers': ['file'], 'level': 'DEBUG'},").unwrap(),
            "        'django': {'handlers': ['file'], 'level': 'INFO'},"
        );
        assert_eq!(
            level_info("  \"level\" : \"DEBUG\",").unwrap(),
            "  \"level\" : \"INFO\","
        );
        assert_eq!(level_info("'level': os.getenv('L', 'DEBUG')"), None);
        assert_eq!(
            level_info("'a': {'level': 'DEBUG'}, 'b': {'level': 'DEBUG'}"),
            None
        );
        assert_eq!(slug("observations.service StandardOutput"), "observations");
        assert_eq!(slug("Django LOGGING"), "django");
        assert_eq!(parent("/var/log/x/a.log"), "/var/log/x");
    }
}
