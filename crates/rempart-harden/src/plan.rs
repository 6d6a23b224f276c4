//! The plan: audit the host, ask each failing rule's fix for its intents, and fold them into the
//! exact state every touched path will have. Nothing is written here.

use crate::change::{FileChange, FileState, Fix, Intent, LineFormat, Safety};
use crate::fixes;
use crate::HardenError;
use rempart_audit::engine::{run_rules, AuditOptions};
use rempart_audit::host::{FileKind, Host};
use rempart_audit::registry::RULES;
use rempart_audit::rule::{Ctx, Facts};
use rempart_audit::{AuditConfig, Report, Status};
use serde::Serialize;
use std::collections::BTreeMap;

/// A fix the plan will apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFix {
    pub rule: String,
    pub summary: String,
    pub safety: Safety,
    pub paths: Vec<String>,
}

/// A failing rule the plan does not fix, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub rule: String,
    pub reason: String,
}

/// Everything `harden apply` would do, computed from one audit.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub root: String,
    pub live: bool,
    pub fixes: Vec<PlannedFix>,
    pub changes: Vec<FileChange>,
    pub skipped: Vec<Skipped>,
    /// Whether access remains once applied ([`crate::lockout::check`]), computed for plans
    /// with unsafe fixes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::lockout::Access>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The unsafe fixes (those that can cut remote access).
    pub fn unsafe_fixes(&self) -> Vec<&PlannedFix> {
        self.fixes
            .iter()
            .filter(|f| matches!(f.safety, Safety::Unsafe(_)))
            .collect()
    }
}

/// Read the current state of a host path (a link is not followed).
pub fn read_state(host: &Host, path: &str) -> Result<FileState, HardenError> {
    let meta = host
        .symlink_metadata(path)
        .map_err(|e| HardenError::Read(e.to_string()))?;
    match meta {
        None => Ok(FileState::Absent),
        Some(m) if m.kind == FileKind::Symlink => {
            let target = host
                .read_link(path)
                .map_err(|e| HardenError::Read(e.to_string()))?
                .unwrap_or_default();
            Ok(FileState::Symlink { target })
        }
        Some(m) if m.kind == FileKind::File => {
            let content = host
                .read(path)
                .map_err(|e| HardenError::Read(e.to_string()))?
                .unwrap_or_default();
            Ok(FileState::File {
                content,
                mode: m.mode,
                uid: m.uid,
                gid: m.gid,
            })
        }
        Some(m) => Err(HardenError::Conflict {
            path: path.into(),
            reason: format!("is a {}, not a file rempart can change", m.kind.as_str()),
        }),
    }
}

/// Build the plan for the failing rules selected by `opts` (`only` limits the rules fixed).
pub fn plan(
    host: &Host,
    config: &AuditConfig,
    opts: &AuditOptions,
) -> Result<(Plan, Report), HardenError> {
    let report = run_rules(host, config, opts, RULES);
    let facts = Facts::default();
    let ctx = Ctx {
        host,
        config,
        facts: &facts,
    };
    let mut wanted: Vec<Fix> = Vec::new();
    let mut skipped = Vec::new();
    for f in &report.findings {
        if f.status != Status::Fail || !f.applicable || f.ignored.is_some() {
            continue;
        }
        let Some(fix_fn) = fixes::find(&f.id) else {
            skipped.push(Skipped {
                rule: f.id.clone(),
                reason: fixes::manual(&f.id).map_or_else(
                    || "no automatic fix: see `rempart explain` for the manual remediation".into(),
                    |why| format!("no automatic fix: {why}"),
                ),
            });
            continue;
        };
        match fix_fn(&ctx, f) {
            Ok(Some(fix)) => wanted.push(fix),
            Ok(None) => skipped.push(Skipped {
                rule: f.id.clone(),
                reason: "nothing to change on this host".into(),
            }),
            Err(reason) => skipped.push(Skipped {
                rule: f.id.clone(),
                reason,
            }),
        }
    }

    let mut states: BTreeMap<String, (FileState, FileState, Vec<String>)> = BTreeMap::new();
    let mut planned = Vec::new();
    for fix in wanted {
        let mut paths = Vec::new();
        // Apply this fix's intents to a copy, so a fix that conflicts leaves the others intact.
        let mut trial = states.clone();
        let mut failed = None;
        for intent in &fix.intents {
            let path = intent.path().to_string();
            if !trial.contains_key(&path) {
                match read_state(host, &path) {
                    Ok(s) => {
                        trial.insert(path.clone(), (s.clone(), s, Vec::new()));
                    }
                    Err(e) => {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
            let entry = trial.get_mut(&path).expect("inserted above");
            if let Err(e) = apply_intent(&mut entry.1, intent) {
                failed = Some(format!("{path}: {e}"));
                break;
            }
            if !entry.2.contains(&fix.rule) {
                entry.2.push(fix.rule.clone());
            }
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        match failed {
            Some(reason) => skipped.push(Skipped {
                rule: fix.rule.clone(),
                reason,
            }),
            None => {
                states = trial;
                planned.push(PlannedFix {
                    rule: fix.rule,
                    summary: fix.summary,
                    safety: fix.safety,
                    paths,
                });
            }
        }
    }
    let changes = states
        .into_iter()
        .filter(|(_, (b, a, _))| b != a)
        .map(|(path, (before, after, rules))| FileChange {
            path,
            before,
            after,
            rules,
        })
        .collect();
    Ok((
        Plan {
            root: host.root().display().to_string(),
            live: host.is_live(),
            fixes: planned,
            changes,
            skipped,
            access: None,
        },
        report,
    ))
}

/// Apply one intent to the planned state of its path.
pub fn apply_intent(state: &mut FileState, intent: &Intent) -> Result<(), String> {
    match intent {
        Intent::SetLine {
            format,
            key,
            value,
            header,
            mode,
            ..
        } => {
            if *state == FileState::Absent {
                *state = FileState::File {
                    content: header.as_bytes().to_vec(),
                    mode: *mode,
                    uid: 0,
                    gid: 0,
                };
            }
            let FileState::File { content, .. } = state else {
                return Err("is a symbolic link; rempart does not edit through links".into());
            };
            let text = String::from_utf8_lossy(content).into_owned();
            *content = set_line(&text, *format, key, value).into_bytes();
            Ok(())
        }
        Intent::EditLine { line, old, new, .. } => {
            let FileState::File { content, .. } = state else {
                return Err("does not exist (or is a link) any more".into());
            };
            let text = String::from_utf8_lossy(content).into_owned();
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            let idx = (*line as usize)
                .checked_sub(1)
                .filter(|i| *i < lines.len())
                .ok_or("line is past the end of the file")?;
            let current = lines[idx].trim_end_matches(['\n', '\r']);
            if current != old.as_str() {
                return Err(format!(
                    "line {line} changed since the audit (now `{current}`)"
                ));
            }
            let ending = &lines[idx][current.len()..];
            let replaced = format!("{new}{ending}");
            lines[idx] = &replaced;
            *content = lines.concat().into_bytes();
            Ok(())
        }
        Intent::InsertLine {
            before, text: new, ..
        } => {
            let FileState::File { content, .. } = state else {
                return Err("does not exist (or is a link)".into());
            };
            let text = String::from_utf8_lossy(content).into_owned();
            let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
            if lines.last().is_some_and(|l| !l.ends_with('\n')) {
                if let Some(l) = lines.last_mut() {
                    l.push('\n');
                }
            }
            let at = ((*before as usize).saturating_sub(1)).min(lines.len());
            if lines
                .get(at)
                .is_some_and(|l| l.trim_end_matches(['\n', '\r']) == new.as_str())
            {
                // Another fix already inserted the same line there.
                return Ok(());
            }
            lines.insert(at, format!("{new}\n"));
            *content = lines.concat().into_bytes();
            Ok(())
        }
        Intent::Write {
            content,
            mode,
            uid,
            gid,
            ..
        } => {
            *state = FileState::File {
                content: content.clone(),
                mode: *mode,
                uid: *uid,
                gid: *gid,
            };
            Ok(())
        }
        Intent::Chmod { mode: m, .. } => match state {
            FileState::File { mode, .. } => {
                *mode = *m;
                Ok(())
            }
            _ => Err("is not a regular file".into()),
        },
        Intent::Chown { uid: u, gid: g, .. } => match state {
            FileState::File { uid, gid, .. } => {
                *uid = *u;
                *gid = *g;
                Ok(())
            }
            _ => Err("is not a regular file".into()),
        },
        Intent::Symlink { target, .. } => {
            *state = FileState::Symlink {
                target: target.clone(),
            };
            Ok(())
        }
        Intent::Remove { .. } => {
            *state = FileState::Absent;
            Ok(())
        }
    }
}

/// Set `key` to `value` in a drop-in's text, replacing the line that sets it, or appending.
pub fn set_line(text: &str, format: LineFormat, key: &str, value: &str) -> String {
    let (section, key) = match format {
        LineFormat::Systemd => key
            .split_once('/')
            .map_or(("Service", key), |(s, k)| (s, k)),
        _ => ("", key),
    };
    let rendered = match format {
        LineFormat::Sshd => format!("{key} {value}"),
        LineFormat::KeyEquals => format!("{key} = {value}"),
        LineFormat::Systemd => format!("{key}={value}"),
    };
    let line_key = |line: &str| -> Option<String> {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') || t.starts_with('[') {
            return None;
        }
        let k = match format {
            LineFormat::Sshd => t.split(|c: char| c.is_whitespace() || c == '=').next()?,
            LineFormat::KeyEquals | LineFormat::Systemd => t.split('=').next()?.trim(),
        };
        Some(k.to_ascii_lowercase())
    };
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut current_section = String::new();
    let mut section_end: Option<usize> = None;
    let mut found = false;
    for (i, line) in lines.iter_mut().enumerate() {
        let t = line.trim();
        if format == LineFormat::Systemd && t.starts_with('[') {
            current_section = t.trim_matches(['[', ']']).to_string();
            continue;
        }
        if format == LineFormat::Systemd && current_section != section {
            continue;
        }
        if format == LineFormat::Systemd {
            section_end = Some(i + 1);
        }
        if line_key(line).as_deref() == Some(&key.to_ascii_lowercase()) {
            *line = rendered.clone();
            found = true;
            break;
        }
    }
    if !found {
        if format == LineFormat::Systemd {
            let has_section = lines.iter().any(|l| l.trim() == format!("[{section}]"));
            if !has_section {
                if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                    lines.push(String::new());
                }
                lines.push(format!("[{section}]"));
                lines.push(rendered);
            } else {
                let at = section_end.unwrap_or_else(|| {
                    lines
                        .iter()
                        .position(|l| l.trim() == format!("[{section}]"))
                        .map_or(lines.len(), |p| p + 1)
                });
                lines.insert(at, rendered);
            }
        } else {
            lines.push(rendered);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn set_line_replaces_or_appends_per_format() {
        let t = "# header\nPermitRootLogin yes\n";
        assert_eq!(
            set_line(t, LineFormat::Sshd, "permitrootlogin", "no"),
            "# header\npermitrootlogin no\n"
        );
        assert_eq!(
            set_line("# h\n", LineFormat::KeyEquals, "kernel.kptr_restrict", "2"),
            "# h\nkernel.kptr_restrict = 2\n"
        );
        let unit = "# h\n[Service]\nNoNewPrivileges=no\n";
        let out = set_line(unit, LineFormat::Systemd, "Service/PrivateTmp", "yes");
        assert_eq!(out, "# h\n[Service]\nNoNewPrivileges=no\nPrivateTmp=yes\n");
        let out = set_line(&out, LineFormat::Systemd, "Service/NoNewPrivileges", "yes");
        assert_eq!(out, "# h\n[Service]\nNoNewPrivileges=yes\nPrivateTmp=yes\n");
        assert_eq!(
            set_line("# h\n", LineFormat::Systemd, "Service/User", "app"),
            "# h\n\n[Service]\nUser=app\n"
        );
    }

    #[test]
    fn edit_line_keeps_the_rest_of_the_file_byte_for_byte() {
        let mut s = FileState::File {
            content: b"a\r\nb = 1\r\nc".to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        apply_intent(
            &mut s,
            &Intent::EditLine {
                path: "/x".into(),
                line: 2,
                old: "b = 1".into(),
                new: "b = 2".into(),
            },
        )
        .unwrap();
        assert_eq!(s.content().unwrap(), b"a\r\nb = 2\r\nc");
        let err = apply_intent(
            &mut s,
            &Intent::EditLine {
                path: "/x".into(),
                line: 2,
                old: "b = 1".into(),
                new: "b = 3".into(),
            },
        )
        .unwrap_err();
        assert!(err.contains("changed since the audit"), "{err}");
    }

    #[test]
    fn the_same_line_inserted_by_two_fixes_is_inserted_once() {
        let mut s = FileState::File {
            content: b"# head\nPort 22\n".to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        let insert = |before: u32, text: &str| Intent::InsertLine {
            path: "/x".into(),
            before,
            text: text.into(),
        };
        for _ in 0..2 {
            apply_intent(&mut s, &insert(2, "# note")).unwrap();
            apply_intent(&mut s, &insert(3, "Include /y")).unwrap();
        }
        assert_eq!(
            s.content().unwrap(),
            b"# head\n# note\nInclude /y\nPort 22\n"
        );
        // A different line at the same place is still inserted.
        apply_intent(&mut s, &insert(2, "# other")).unwrap();
        assert_eq!(
            s.content().unwrap(),
            b"# head\n# other\n# note\nInclude /y\nPort 22\n"
        );
    }

    proptest! {
        #[test]
        fn set_line_is_idempotent(text in "[a-zA-Z0-9 =#\\n\\[\\]/._-]{0,200}", v in "[a-z0-9]{1,8}") {
            for format in [LineFormat::Sshd, LineFormat::KeyEquals, LineFormat::Systemd] {
                let once = set_line(&text, format, "Service/Key", &v);
                let twice = set_line(&once, format, "Service/Key", &v);
                prop_assert_eq!(once, twice);
            }
        }
    }
}
