//! The [`BackupJobs`] fact: every scheduled job of the host, with what it does.
//!
//! Sources, as Debian's cron and systemd run them: `/etc/crontab` and `/etc/cron.d/*` (with a
//! user field; cron ignores file names with characters outside `[A-Za-z0-9_-]`), the users'
//! crontabs in `/var/spool/cron/crontabs/`, the `run-parts` directories
//! `/etc/cron.{hourly,daily,weekly,monthly}/` (same naming rule), `/etc/anacrontab`, and the
//! enabled systemd timers with the `ExecStart=` lines of the service they start. A script a job
//! runs is read one level deep (an absolute path to a text file starting with `#!` or ending in
//! `.sh`).

use super::analyze::{analyze, Analysis, Where};
use super::cron::{self, Frequency};
use crate::facts::Units;
use crate::host::{FileKind, Host, HostError};
use crate::rule::{Ctx, Fact};

/// The largest script rempart follows.
const MAX_SCRIPT: u64 = 1024 * 1024;

/// One scheduled job.
#[derive(Debug, Clone)]
pub struct Job {
    /// The file that schedules it (a crontab, a timer, a script in a run-parts directory).
    pub path: String,
    /// The line in that file, for crontab entries.
    pub line: Option<u32>,
    pub text: String,
    /// The schedule as written (`0 2 * * *`, `@daily`, `OnCalendar=daily`, `cron.daily`).
    pub schedule: String,
    pub frequency: Frequency,
    pub command: String,
    /// Scripts followed.
    pub scripts: Vec<String>,
    pub analysis: Analysis,
}

impl Job {
    /// True when the job dumps a database.
    pub fn is_backup(&self) -> bool {
        !self.analysis.dumps.is_empty()
    }
}

/// Every scheduled job found.
#[derive(Debug, Clone, Default)]
pub struct BackupJobs {
    pub jobs: Vec<Job>,
    /// Files that look like jobs but that cron or run-parts ignores: `(path, why)`.
    pub ignored: Vec<(String, String)>,
    pub errors: Vec<HostError>,
}

impl BackupJobs {
    pub fn backups(&self) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(|j| j.is_backup())
    }

    pub fn collect_from(host: &Host, units: &Units) -> BackupJobs {
        let mut b = BackupJobs::default();
        b.crontab(host, "/etc/crontab", true, None);
        for (path, name) in b.dir_files(host, "/etc/cron.d") {
            if valid_runparts_name(&name) {
                b.crontab(host, &path, true, None);
            } else if !name.starts_with('.') {
                b.ignored.push((path, "cron ignores files whose name has a dot or other characters outside [A-Za-z0-9_-]".into()));
            }
        }
        for (path, name) in b.dir_files(host, "/var/spool/cron/crontabs") {
            if !name.starts_with('.') {
                b.crontab(host, &path, false, Some(name));
            }
        }
        for (dir, freq) in [
            ("/etc/cron.hourly", Frequency::Daily),
            ("/etc/cron.daily", Frequency::Daily),
            ("/etc/cron.weekly", Frequency::Weekly),
            ("/etc/cron.monthly", Frequency::Monthly),
        ] {
            for (path, name) in b.dir_files(host, dir) {
                if !valid_runparts_name(&name) {
                    if !name.starts_with('.') {
                        b.ignored.push((path, "run-parts ignores names with a dot or other characters outside [A-Za-z0-9_-]".into()));
                    }
                    continue;
                }
                let mut job = Job {
                    path: path.clone(),
                    line: None,
                    text: String::new(),
                    schedule: dir.trim_start_matches("/etc/").to_string(),
                    frequency: freq,
                    command: path.clone(),
                    scripts: Vec::new(),
                    analysis: Analysis::default(),
                };
                follow(host, &path, &[], &mut job, &mut b.errors);
                b.jobs.push(job);
            }
        }
        b.anacron(host);
        b.timers(host, units);
        b
    }

    fn dir_files(&mut self, host: &Host, dir: &str) -> Vec<(String, String)> {
        match host.read_dir(dir) {
            Ok(Some(names)) => names
                .into_iter()
                .map(|n| (format!("{dir}/{n}"), n))
                .filter(
                    |(p, _)| matches!(host.metadata(p), Ok(Some(m)) if m.kind == FileKind::File),
                )
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => {
                self.errors.push(e);
                Vec::new()
            }
        }
    }

    fn crontab(&mut self, host: &Host, path: &str, system: bool, _user: Option<String>) {
        let text = match host.read_text(path) {
            Ok(Some(f)) => f.text,
            Ok(None) => return,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        let tab = cron::parse(&text, system);
        for e in tab.entries {
            if e.command.contains("run-parts") && e.command.contains("/etc/cron.") {
                continue;
            }
            let mut job = Job {
                path: path.to_string(),
                line: Some(e.line),
                text: e.text.clone(),
                schedule: e.schedule.clone(),
                frequency: e.frequency,
                command: e.command.clone(),
                scripts: Vec::new(),
                analysis: analyze(
                    &e.command,
                    Where::Line {
                        path,
                        line: e.line,
                        text: &e.text,
                    },
                    &tab.env,
                ),
            };
            follow_scripts(host, &tab.env, &mut job, &mut self.errors);
            self.jobs.push(job);
        }
    }

    fn anacron(&mut self, host: &Host) {
        let path = "/etc/anacrontab";
        let text = match host.read_text(path) {
            Ok(Some(f)) => f.text,
            Ok(None) => return,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        let (jobs, env, _) = cron::parse_anacrontab(&text);
        for a in jobs {
            if a.command.contains("run-parts") && a.command.contains("/etc/cron.") {
                continue;
            }
            let mut job = Job {
                path: path.to_string(),
                line: Some(a.line),
                text: a.text.clone(),
                schedule: format!("anacron period {}", a.period),
                frequency: a.frequency,
                command: a.command.clone(),
                scripts: Vec::new(),
                analysis: analyze(
                    &a.command,
                    Where::Line {
                        path,
                        line: a.line,
                        text: &a.text,
                    },
                    &env,
                ),
            };
            follow_scripts(host, &env, &mut job, &mut self.errors);
            self.jobs.push(job);
        }
    }

    fn timers(&mut self, host: &Host, units: &Units) {
        for (name, path) in &units.files {
            if !name.ends_with(".timer") || !units.is_enabled(name) {
                continue;
            }
            let timer = match host.read_text(path) {
                Ok(Some(f)) => unit_entries(&f.text),
                Ok(None) => continue,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            let mut freq = Frequency::Unknown;
            let mut schedule = Vec::new();
            let mut service = name.trim_end_matches(".timer").to_string() + ".service";
            for u in timer.iter().filter(|u| u.section == "Timer") {
                let f = match u.key.as_str() {
                    "OnCalendar" => calendar_frequency(&u.value),
                    "OnUnitActiveSec" | "OnUnitInactiveSec" | "OnActiveSec" => {
                        span_frequency(&u.value)
                    }
                    "OnBootSec" | "OnStartupSec" => Frequency::AtBoot,
                    "Unit" => {
                        service = u.value.clone();
                        continue;
                    }
                    _ => continue,
                };
                schedule.push(format!("{}={}", u.key, u.value));
                freq = freq.min(f);
            }
            let Some(svc_path) = units.path(&service) else {
                continue;
            };
            let svc = match host.read_text(svc_path) {
                Ok(Some(f)) => f,
                Ok(None) => continue,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            let entries = unit_entries(&svc.text);
            let mut env: Vec<(String, String)> = Vec::new();
            for u in entries.iter().filter(|u| u.section == "Service") {
                match u.key.as_str() {
                    "Environment" => {
                        for c in super::shell::commands(&u.value) {
                            for w in c.argv {
                                if let Some((k, v)) = w.split_once('=') {
                                    env.push((k.to_string(), v.to_string()));
                                }
                            }
                        }
                    }
                    "EnvironmentFile" => {
                        let f = u.value.trim_start_matches('-');
                        if let Ok(Some(t)) = host.read_text(f) {
                            env.extend(cron::parse(&t.text, false).env);
                        }
                    }
                    _ => {}
                }
            }
            for u in entries
                .iter()
                .filter(|u| u.section == "Service" && u.key.starts_with("ExecStart"))
            {
                let cmd = u.value.trim_start_matches(['@', '-', ':', '+', '!']);
                let mut job = Job {
                    path: svc_path.to_string(),
                    line: Some(u.line),
                    text: u.text.clone(),
                    schedule: format!("{name}: {}", schedule.join(", ")),
                    frequency: freq,
                    command: cmd.to_string(),
                    scripts: Vec::new(),
                    analysis: analyze(
                        cmd,
                        Where::Line {
                            path: svc_path,
                            line: u.line,
                            text: &u.text,
                        },
                        &env,
                    ),
                };
                follow_scripts(host, &env, &mut job, &mut self.errors);
                self.jobs.push(job);
            }
        }
    }
}

impl Fact for BackupJobs {
    fn collect(ctx: &Ctx) -> BackupJobs {
        BackupJobs::collect_from(ctx.host, &ctx.fact::<Units>())
    }
}

/// run-parts' default naming rule (Debian): `^[A-Za-z0-9_-]+$`.
pub fn valid_runparts_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn follow_scripts(
    host: &Host,
    env: &[(String, String)],
    job: &mut Job,
    errors: &mut Vec<HostError>,
) {
    let candidates = std::mem::take(&mut job.analysis.scripts);
    for s in candidates {
        if job.scripts.contains(&s) {
            continue;
        }
        follow(host, &s, env, job, errors);
    }
}

/// Read `path` as a script when it is one (a text file starting with `#!`, or named `*.sh`),
/// and add what it does to the job. Only the first bytes of binaries are read.
fn follow(
    host: &Host,
    path: &str,
    env: &[(String, String)],
    job: &mut Job,
    errors: &mut Vec<HostError>,
) {
    match host.metadata(path) {
        Ok(Some(m)) if m.kind == FileKind::File && m.size <= MAX_SCRIPT => {}
        _ => return,
    }
    let head = match host.read_head(path, 512) {
        Ok(Some(h)) => h,
        _ => return,
    };
    if !(head.starts_with(b"#!") || path.ends_with(".sh")) || head.contains(&0) {
        return;
    }
    let text = match host.read_text(path) {
        Ok(Some(f)) => f.text,
        Ok(None) | Err(HostError::Binary { .. }) => return,
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    job.scripts.push(path.to_string());
    let mut a = analyze(&text, Where::File { path }, env);
    a.scripts.clear();
    job.analysis.merge(a);
}

/// One `Key=Value` of a unit file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitEntry {
    pub section: String,
    pub key: String,
    pub value: String,
    pub line: u32,
    pub text: String,
}

/// Parse a systemd unit file: `[Section]` headers, `Key=Value`, `#`/`;` comments, backslash
/// continuations.
pub fn unit_entries(text: &str) -> Vec<UnitEntry> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pending: Option<(u32, String, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (start, mut joined, mut shown) = match pending.take() {
            Some(p) => p,
            None => {
                let t = raw.trim();
                if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                    continue;
                }
                if let Some(s) = t.strip_prefix('[') {
                    section = s.split(']').next().unwrap_or("").to_string();
                    continue;
                }
                (line, String::new(), String::new())
            }
        };
        if !shown.is_empty() {
            shown.push('\n');
        }
        shown.push_str(raw);
        let t = raw.trim();
        if let Some(c) = t.strip_suffix('\\') {
            joined.push_str(c);
            joined.push(' ');
            pending = Some((start, joined, shown));
            continue;
        }
        joined.push_str(t);
        if let Some((k, v)) = joined.split_once('=') {
            out.push(UnitEntry {
                section: section.clone(),
                key: k.trim().to_string(),
                value: v.trim().to_string(),
                line: start,
                text: shown,
            });
        }
    }
    out
}

/// How often an `OnCalendar=` expression fires.
pub fn calendar_frequency(v: &str) -> Frequency {
    let v = v.trim().to_ascii_lowercase();
    match v.as_str() {
        "minutely" | "hourly" | "daily" => return Frequency::Daily,
        "weekly" => return Frequency::Weekly,
        "monthly" | "yearly" | "annually" | "quarterly" | "semiannually" => {
            return Frequency::Monthly
        }
        "" => return Frequency::Unknown,
        _ => {}
    }
    let mut tokens = v.split_whitespace().peekable();
    let mut weekly = false;
    if let Some(t) = tokens.peek() {
        if t.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let all = [
                "mon..sun",
                "mon-sun",
                "sun..sat",
                "mon,tue,wed,thu,fri,sat,sun",
            ];
            weekly = !all.contains(t);
            tokens.next();
        }
    }
    for t in tokens {
        if t.contains('-') && !t.contains(':') {
            let day = t.rsplit('-').next().unwrap_or("*");
            let month = t.split('-').rev().nth(1).unwrap_or("*");
            if !(day == "*" || day == "*/1") || !(month == "*" || month == "*/1") {
                return Frequency::Monthly;
            }
        }
    }
    if weekly {
        Frequency::Weekly
    } else {
        Frequency::Daily
    }
}

/// How often a `OnUnitActiveSec=`-style time span fires.
pub fn span_frequency(v: &str) -> Frequency {
    match parse_span(v) {
        Some(s) if s <= 86_400 => Frequency::Daily,
        Some(s) if s <= 7 * 86_400 => Frequency::Weekly,
        Some(_) => Frequency::Monthly,
        None => Frequency::Unknown,
    }
}

/// A systemd time span in seconds (`1d`, `12h 30min`, `86400`).
pub fn parse_span(v: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut num = String::new();
    let mut unit = String::new();
    let flush = |num: &mut String, unit: &mut String, total: &mut u64| -> Option<()> {
        if num.is_empty() {
            return if unit.is_empty() { Some(()) } else { None };
        }
        let n: u64 = num.parse().ok()?;
        let mult = match unit.as_str() {
            "" | "s" | "sec" | "second" | "seconds" => 1,
            "m" | "min" | "minute" | "minutes" => 60,
            "h" | "hr" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            "month" | "months" | "M" => 2_629_800,
            "y" | "year" | "years" => 31_557_600,
            "ms" | "msec" | "us" | "usec" => 0,
            _ => return None,
        };
        *total = total.checked_add(n.checked_mul(mult)?)?;
        num.clear();
        unit.clear();
        Some(())
    };
    for c in v.trim().chars() {
        if c.is_ascii_digit() {
            if !unit.is_empty() {
                flush(&mut num, &mut unit, &mut total)?;
            }
            num.push(c);
        } else if c.is_ascii_alphabetic() {
            unit.push(c);
        } else if c.is_whitespace() {
            continue;
        } else {
            return None;
        }
    }
    flush(&mut num, &mut unit, &mut total)?;
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unit_files_and_calendars() {
        let e = unit_entries(
            "[Unit]\nDescription=db backup\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c \\\n  'pg_dumpall | gzip > /b/all.gz'\n[Timer]\nOnCalendar=*-*-* 02:00:00\n",
        );
        assert_eq!(e[2].key, "ExecStart");
        assert_eq!(e[2].line, 6);
        assert_eq!(e[2].value, "/bin/sh -c  'pg_dumpall | gzip > /b/all.gz'");
        assert_eq!(calendar_frequency(&e[3].value), Frequency::Daily);
        assert_eq!(calendar_frequency("daily"), Frequency::Daily);
        assert_eq!(calendar_frequency("Sun *-*-* 03:00"), Frequency::Weekly);
        assert_eq!(calendar_frequency("*-*-01 00:00:00"), Frequency::Monthly);
        assert_eq!(calendar_frequency("02:30"), Frequency::Daily);
        assert_eq!(span_frequency("1d"), Frequency::Daily);
        assert_eq!(span_frequency("12h 30min"), Frequency::Daily);
        assert_eq!(span_frequency("2w"), Frequency::Monthly);
        assert_eq!(parse_span("bogus"), None);
        assert!(valid_runparts_name("pg-backup_1"));
        assert!(!valid_runparts_name("backup.sh"));
    }

    proptest! {
        #[test]
        fn never_panic(s in "\\PC{0,300}") {
            let _ = unit_entries(&s);
            let _ = calendar_frequency(&s);
            let _ = parse_span(&s);
        }

        #[test]
        fn spans_add_up(d in 0u64..30, h in 0u64..24, m in 0u64..60) {
            prop_assert_eq!(parse_span(&format!("{d}d {h}h {m}min")), Some(d * 86_400 + h * 3600 + m * 60));
        }
    }
}
