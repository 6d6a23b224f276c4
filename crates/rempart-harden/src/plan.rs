//! The plan: audit the host, ask each failing rule's fix for its intents, and fold them into the
//! exact state every touched path will have. Nothing is written here.

use crate::change::{FileChange, FileState, Fix, Intent, LineFormat, Safety};
use crate::fixes;
use crate::packages::{self, Installer, PackageInstall};
use crate::HardenError;
use rempart_audit::engine::{run_rules, run_rules_with, AuditOptions, Selector};
use rempart_audit::facts::Packages;
use rempart_audit::host::{FileKind, Host};
use rempart_audit::registry::RULES;
use rempart_audit::rule::{Ctx, Fact, Facts};
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
    /// Packages apt installs before the files are written (what the guides `apt install`
    /// before configuring it), with the rules that need each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<PackageInstall>,
    /// Live changes run once the files are written (a database role's password).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<crate::live::PlannedAction>,
    pub skipped: Vec<Skipped>,
    /// Whether access remains once applied ([`crate::lockout::check`]), computed for plans
    /// with unsafe fixes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::lockout::Access>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.packages.is_empty() && self.actions.is_empty()
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
        Some(m) if m.kind == FileKind::Dir => Ok(FileState::Dir {
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
        }),
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
    plan_for(host, config, opts, None)
}

/// [`plan`] for an admin connecting from `admin` (`--admin-address`): the fixes that must never
/// shut them out (fail2ban's ignoreip) include that address.
pub fn plan_for(
    host: &Host,
    config: &AuditConfig,
    opts: &AuditOptions,
    admin: Option<crate::lockout::Client>,
) -> Result<(Plan, Report), HardenError> {
    // Packages the guides install before configuring: when this host can install them, the
    // host is judged, and its fixes planned, as it will be once they are in (fail2ban installed
    // brings its jail's rules, whose fixes may need python3-systemd in turn).
    let now = {
        let scratch = Facts::default();
        Packages::collect(&Ctx {
            host,
            config,
            facts: &scratch,
        })
    };
    let can_install = Installer::of(host).is_ok();
    let mut to_install: Vec<PackageInstall> = Vec::new();
    let mut report = run_rules(host, config, opts, RULES);
    for _ in 0..3 {
        if !can_install {
            break;
        }
        let failing: Vec<String> = report
            .findings
            .iter()
            .filter(|f| wanted_finding(f, opts))
            .map(|f| f.id.clone())
            .collect();
        let more = packages::needed(&packages::with_planned(&now, &to_install), &failing);
        if more.is_empty() {
            break;
        }
        to_install.extend(more);
        let facts = Facts::default();
        facts.preset(packages::with_planned(&now, &to_install));
        report = run_rules_with(host, config, opts, RULES, &facts);
    }
    // Rules the packages' arrival makes fail ask for them too.
    for p in &mut to_install {
        for (rule, names) in packages::NEEDS {
            let fails = report
                .findings
                .iter()
                .any(|f| f.id == *rule && wanted_finding(f, opts));
            if fails && names.contains(&p.name.as_str()) && !p.rules.iter().any(|r| r == rule) {
                p.rules.push(rule.to_string());
            }
        }
    }
    let facts = Facts::default();
    if !to_install.is_empty() {
        facts.preset(packages::with_planned(&now, &to_install));
    }
    if admin.is_some() {
        facts.preset(crate::fixes::AdminClient(admin));
    }
    let ctx = Ctx {
        host,
        config,
        facts: &facts,
    };
    let mut wanted: Vec<Fix> = Vec::new();
    let mut skipped = Vec::new();
    for f in &report.findings {
        if !wanted_finding(f, opts) {
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

    // Fixes that insert lines inside a file go last: the line numbers every other fix edits are
    // the audit's, which an insertion above them would shift (appending at the end shifts
    // nothing). Among them, the one inserting furthest down a file goes first, so no insertion
    // shifts the lines a later one counts (two Traefik fixes adding to different entry points
    // of one static file). The sort is stable, so the registry's order holds otherwise. A line
    // numbered past the end of its file (one a fix appends at a place of its own, so that
    // another fix asking for it again finds it there) is an append too.
    let lines_of = |path: &str| -> u32 {
        host.read_text(path).ok().flatten().map_or(0, |t| {
            u32::try_from(t.text.lines().count()).unwrap_or(u32::MAX)
        })
    };
    wanted.sort_by_cached_key(|f| {
        let first = f
            .intents
            .iter()
            .filter_map(|i| match i {
                Intent::InsertLine { before, path, .. }
                    if *before != u32::MAX && *before <= lines_of(path) =>
                {
                    Some(*before)
                }
                _ => None,
            })
            .min();
        (first.is_some(), std::cmp::Reverse(first.unwrap_or(0)))
    });
    let mut states: BTreeMap<String, (FileState, FileState, Vec<String>)> = BTreeMap::new();
    // Paths whose new content is a secret (never shown).
    let mut secrets: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut planned = Vec::new();
    let mut actions = Vec::new();
    for fix in wanted {
        let mut paths = Vec::new();
        // Apply this fix's intents to a copy, so a fix that conflicts leaves the others intact.
        let mut trial = states.clone();
        let mut failed = None;
        let mut fix_actions = Vec::new();
        for intent in &fix.intents {
            if let Intent::PgPassword {
                socket,
                port,
                role,
                password,
            } = intent
            {
                fix_actions.push(crate::live::PlannedAction {
                    rule: fix.rule.clone(),
                    socket: socket.clone(),
                    port: *port,
                    role: role.clone(),
                    password: password.clone(),
                });
                continue;
            }
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
            if matches!(intent, Intent::MarkSecret { .. }) {
                secrets.insert(path.clone());
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
                actions.extend(fix_actions);
                planned.push(PlannedFix {
                    rule: fix.rule,
                    summary: fix.summary,
                    safety: fix.safety,
                    paths,
                });
            }
        }
    }
    // A package is installed only for a fix that made it into the plan.
    to_install.retain(|p| p.rules.iter().any(|r| planned.iter().any(|f| &f.rule == r)));
    let changes = states
        .into_iter()
        .filter(|(_, (b, a, _))| b != a)
        .map(|(path, (before, after, rules))| FileChange {
            secret: secrets.contains(&path),
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
            packages: to_install,
            actions,
            skipped,
            access: None,
        },
        report,
    ))
}

/// A failing finding the plan tries to fix: required by the profile, or named by `--only`.
fn wanted_finding(f: &rempart_audit::report::Finding, opts: &AuditOptions) -> bool {
    if f.status != Status::Fail || !f.applicable || f.ignored.is_some() {
        return false;
    }
    // Rules above the profile are fixed only when `--only` names them.
    f.required
        || opts
            .only
            .iter()
            .any(|s| matches!(s, Selector::Id(id) if *id == f.id))
}

/// Apply one intent to the planned state of its path.
pub fn apply_intent(state: &mut FileState, intent: &Intent) -> Result<(), String> {
    if matches!(state, FileState::Dir { .. })
        && !matches!(intent, Intent::Chmod { .. } | Intent::Chown { .. })
    {
        return Err("is a directory: rempart only changes a directory's mode and owner".into());
    }
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
            if current == new.as_str() {
                // Another fix already made the same edit.
                return Ok(());
            }
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
        Intent::SetField {
            line,
            sep,
            index,
            old,
            new,
            ..
        } => {
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
            let ending = &lines[idx][current.len()..];
            match crate::edit::field(current, *sep, *index) {
                Some(f) if f == new.as_str() => return Ok(()),
                Some(f) if f == old.as_str() => {}
                _ => {
                    return Err(format!(
                        "line {line} changed since the audit (now `{current}`)"
                    ))
                }
            }
            let replaced = crate::edit::set_field(current, *sep, *index, old, new)
                .map(|l| format!("{l}{ending}"))
                .ok_or("the field cannot be set")?;
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
            // A block of several lines (a compose service two fixes add alike) another fix
            // already inserted there, or already appended at the end.
            let block: Vec<&str> = new.split('\n').collect();
            let same = |from: usize| {
                lines.len() >= from + block.len()
                    && lines[from..from + block.len()]
                        .iter()
                        .zip(&block)
                        .all(|(l, b)| l.trim_end_matches(['\n', '\r']) == *b)
            };
            if block.len() > 1
                && (same(at) || (at == lines.len() && same(at.saturating_sub(block.len()))))
            {
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
            FileState::File { mode, .. } | FileState::Dir { mode, .. } => {
                *mode = *m;
                Ok(())
            }
            _ => Err("is neither a regular file nor a directory".into()),
        },
        Intent::Chown { uid: u, gid: g, .. } => match state {
            FileState::File { uid, gid, .. } | FileState::Dir { uid, gid, .. } => {
                *uid = *u;
                *gid = *g;
                Ok(())
            }
            _ => Err("is neither a regular file nor a directory".into()),
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
        Intent::PgPassword { .. } => Err("a live action, not a file change".into()),
        Intent::MarkSecret { .. } => Ok(()),
    }
}

/// Set `key` to `value` in a drop-in's text, replacing the line that sets it, or appending.
pub fn set_line(text: &str, format: LineFormat, key: &str, value: &str) -> String {
    let sections = matches!(format, LineFormat::Systemd | LineFormat::Ini);
    let (section, key) = match format {
        LineFormat::Systemd => key
            .split_once('/')
            .map_or(("Service", key), |(s, k)| (s, k)),
        LineFormat::Ini => key.split_once('/').map_or(("mysqld", key), |(s, k)| (s, k)),
        _ => ("", key),
    };
    let rendered = match format {
        LineFormat::Sshd => format!("{key} {value}"),
        LineFormat::Words => format!(
            "{} {value}",
            key.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
        LineFormat::KeyEquals | LineFormat::Ini => format!("{key} = {value}"),
        LineFormat::Systemd => format!("{key}={value}"),
    };
    let line_key = |line: &str| -> Option<String> {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') || t.starts_with('[') {
            return None;
        }
        let k = match format {
            LineFormat::Sshd => t.split(|c: char| c.is_whitespace() || c == '=').next()?,
            LineFormat::KeyEquals | LineFormat::Systemd | LineFormat::Ini => {
                t.split('=').next()?.trim()
            }
            LineFormat::Words => {
                // As many words as the key has, so `Header always set X-Frame-Options` and
                // `Header always set Referrer-Policy` are different keys.
                let n = key.split_whitespace().count();
                let words: Vec<&str> = t.split_whitespace().take(n).collect();
                return (words.len() == n).then(|| words.join(" ").to_ascii_lowercase());
            }
        };
        Some(k.to_ascii_lowercase())
    };
    // Each line with its own ending, so the lines not set keep their bytes (CRLF included).
    let mut lines: Vec<(String, String)> = text
        .split_inclusive('\n')
        .map(|l| {
            let body = l
                .strip_suffix('\n')
                .map_or(l, |b| b.strip_suffix('\r').unwrap_or(b));
            (body.to_string(), l[body.len()..].to_string())
        })
        .collect();
    let mut current_section = String::new();
    let mut section_end: Option<usize> = None;
    let mut found = false;
    for (i, (line, _)) in lines.iter_mut().enumerate() {
        let t = line.trim();
        if sections && t.starts_with('[') {
            current_section = t.trim_matches(['[', ']']).to_string();
            continue;
        }
        if sections && current_section != section {
            continue;
        }
        if sections {
            section_end = Some(i + 1);
        }
        let want = key
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        if line_key(line).as_deref() == Some(&want) {
            *line = rendered.clone();
            found = true;
            break;
        }
    }
    if !found {
        let mut new: Vec<String> = Vec::new();
        let mut at = lines.len();
        if sections {
            let header = format!("[{section}]");
            match lines.iter().position(|(l, _)| l.trim() == header) {
                Some(p) => at = section_end.unwrap_or(p + 1),
                None => {
                    if lines.last().is_some_and(|(l, _)| !l.trim().is_empty()) {
                        new.push(String::new());
                    }
                    new.push(header);
                }
            }
        }
        new.push(rendered);
        // The line before the insertion point needs an ending.
        if at > 0 && lines[at - 1].1.is_empty() {
            lines[at - 1].1 = "\n".into();
        }
        for (k, l) in new.into_iter().enumerate() {
            lines.insert(at + k, (l, "\n".into()));
        }
    }
    lines.into_iter().map(|(l, e)| l + &e).collect()
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
    fn a_block_inserted_twice_alike_is_written_once() {
        let mut s = FileState::File {
            content: b"services:\n  a:\n    image: x\n\n  b:\n    image: y\n".to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        let block = |before: u32, text: &str| Intent::InsertLine {
            path: "/c.yml".into(),
            before,
            text: text.into(),
        };
        let tail = block(u32::MAX, "\nnetworks:\n  p:\n    internal: true");
        let mid = block(4, "    networks:\n      - p");
        for _ in 0..2 {
            apply_intent(&mut s, &tail).unwrap();
            apply_intent(&mut s, &mid).unwrap();
        }
        assert_eq!(
            s.text(),
            "services:\n  a:\n    image: x\n    networks:\n      - p\n\n  b:\n    image: y\n\nnetworks:\n  p:\n    internal: true\n"
        );
        // One line is still inserted each time it is asked for elsewhere.
        let one = block(u32::MAX, "x: 1");
        apply_intent(&mut s, &one).unwrap();
        apply_intent(&mut s, &one).unwrap();
        assert!(s.text().ends_with("x: 1\nx: 1\n"));
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
    fn set_line_keeps_the_other_lines_bytes() {
        let t = "# dos\r\nkernel.a = 1\r\nlast = 2";
        assert_eq!(
            set_line(t, LineFormat::KeyEquals, "kernel.a", "0"),
            "# dos\r\nkernel.a = 0\r\nlast = 2"
        );
        assert_eq!(
            set_line(t, LineFormat::KeyEquals, "kernel.b", "0"),
            "# dos\r\nkernel.a = 1\r\nlast = 2\nkernel.b = 0\n"
        );
    }

    #[test]
    fn ini_sections_hold_their_keys() {
        let out = set_line("# h\n", LineFormat::Ini, "mysqld/bind-address", "127.0.0.1");
        assert_eq!(out, "# h\n\n[mysqld]\nbind-address = 127.0.0.1\n");
        let out = set_line(&out, LineFormat::Ini, "mysqld/local-infile", "0");
        let out = set_line(&out, LineFormat::Ini, "mysqld/bind-address", "::1");
        assert_eq!(
            out,
            "# h\n\n[mysqld]\nbind-address = ::1\nlocal-infile = 0\n"
        );
        let other = "[client]\nbind-address = 10.0.0.1\n";
        assert_eq!(
            set_line(other, LineFormat::Ini, "mysqld/bind-address", "127.0.0.1"),
            "[client]\nbind-address = 10.0.0.1\n\n[mysqld]\nbind-address = 127.0.0.1\n",
            "a key of another section is not the one set"
        );
    }

    fn file(text: &str) -> FileState {
        FileState::File {
            content: text.as_bytes().to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }
    }

    fn field(path: &str, line: u32, index: usize, old: &str, new: &str) -> Intent {
        Intent::SetField {
            path: path.into(),
            line,
            sep: crate::change::FieldSep::Colon,
            index,
            old: old.into(),
            new: new.into(),
        }
    }

    #[test]
    fn fields_of_the_same_line_compose() {
        // ACC-EMPTY-PASSWORD and ACC-SERVICE-SHELL on the same passwd entry.
        let mut s = file("root:x:0:0::/root:/bin/bash\nsvc::998:998::/srv:/bin/bash\n");
        apply_intent(&mut s, &field("/etc/passwd", 2, 1, "", "!")).unwrap();
        apply_intent(
            &mut s,
            &field("/etc/passwd", 2, 6, "/bin/bash", "/usr/sbin/nologin"),
        )
        .unwrap();
        // The same edit again (another fix asking for it) is accepted.
        apply_intent(
            &mut s,
            &field("/etc/passwd", 2, 6, "/bin/bash", "/usr/sbin/nologin"),
        )
        .unwrap();
        assert_eq!(
            s.content().unwrap(),
            b"root:x:0:0::/root:/bin/bash\nsvc:!:998:998::/srv:/usr/sbin/nologin\n"
        );
        let err =
            apply_intent(&mut s, &field("/etc/passwd", 1, 6, "/bin/sh", "/bin/false")).unwrap_err();
        assert!(err.contains("changed since the audit"), "{err}");
    }

    #[test]
    fn directories_only_change_mode_and_owner() {
        let mut d = FileState::Dir {
            mode: 0o777,
            uid: 0,
            gid: 0,
        };
        apply_intent(
            &mut d,
            &Intent::Chmod {
                path: "/srv/up".into(),
                mode: 0o775,
            },
        )
        .unwrap();
        apply_intent(
            &mut d,
            &Intent::Chown {
                path: "/srv/up".into(),
                uid: 998,
                gid: 998,
            },
        )
        .unwrap();
        assert_eq!(
            d,
            FileState::Dir {
                mode: 0o775,
                uid: 998,
                gid: 998
            }
        );
        for i in [
            Intent::Remove {
                path: "/srv/up".into(),
            },
            Intent::Write {
                path: "/srv/up".into(),
                content: Vec::new(),
                mode: 0o644,
                uid: 0,
                gid: 0,
            },
        ] {
            assert!(apply_intent(&mut d, &i).is_err(), "{i:?}");
        }
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

    #[test]
    fn words_keys_may_span_several_words() {
        let t = "# h\nHeader always set X-Frame-Options \"DENY\"\n";
        let out = set_line(
            t,
            LineFormat::Words,
            "Header always set X-Content-Type-Options",
            "\"nosniff\"",
        );
        assert_eq!(
            out,
            "# h\nHeader always set X-Frame-Options \"DENY\"\nHeader always set X-Content-Type-Options \"nosniff\"\n"
        );
        let out = set_line(
            &out,
            LineFormat::Words,
            "header  always set x-frame-options",
            "SAMEORIGIN",
        );
        assert!(
            out.contains("header always set x-frame-options SAMEORIGIN\n"),
            "{out}"
        );
        assert!(!out.contains("DENY"), "{out}");
        assert_eq!(
            set_line(
                "server_tokens on;\n",
                LineFormat::Words,
                "server_tokens",
                "off;"
            ),
            "server_tokens off;\n"
        );
    }

    proptest! {
        #[test]
        fn set_line_is_idempotent(text in "[a-zA-Z0-9 =#\\n\\[\\]/._-]{0,200}", v in "[a-z0-9]{1,8}") {
            for format in [LineFormat::Sshd, LineFormat::KeyEquals, LineFormat::Systemd, LineFormat::Ini, LineFormat::Words] {
                let once = set_line(&text, format, "Service/Key", &v);
                let twice = set_line(&once, format, "Service/Key", &v);
                prop_assert_eq!(once, twice);
            }
        }
    }
}
