//! Offline replay: log files through the jails, in log time, without touching any firewall.
//! Each failure is counted at the time its line carries, and bans expire in that same time, so a
//! week of logs replays in seconds with the bans it would have caused.

use crate::engine::Engine;
use crate::filters::{Failure, Input};
use crate::jail::{Decision, Outcome};
use crate::source::lines::LineReader;
use crate::time::Clock;
use jiff::Timestamp;
use std::io::{self, Read};

/// One failure seen during a replay.
#[derive(Debug, Clone)]
pub struct ReplayMatch {
    /// The jail whose filter matched.
    pub jail: String,
    /// The input name and 1-based line number.
    pub source: String,
    pub line: u64,
    /// The failure.
    pub failure: Failure,
    /// What the jail did.
    pub outcome: Outcome,
}

/// What a replay found.
#[derive(Debug, Clone, Default)]
pub struct ReplayReport {
    /// Lines read.
    pub lines: u64,
    /// Failures found (a line matched by two jails counts twice).
    pub matches: u64,
    /// Bans decided, in order.
    pub bans: Vec<Decision>,
    /// Lines cut because they were too long.
    pub truncated: u64,
}

/// Replays `inputs` (name, reader) through the jails `targets` of `engine`. `journal` treats
/// lines as the journal's short form (their time is the clock's now). `on_match` sees every
/// failure.
pub fn replay<R: Read>(
    engine: &mut Engine,
    targets: &[usize],
    inputs: Vec<(String, R)>,
    clock: &Clock,
    journal: bool,
    mut on_match: impl FnMut(&ReplayMatch),
) -> io::Result<ReplayReport> {
    let mut report = ReplayReport::default();
    let mut now: Timestamp = Timestamp::MIN;
    for (name, reader) in inputs {
        let mut lines = LineReader::new(reader);
        let mut n = 0u64;
        while let Some(raw) = lines.next_line(true)? {
            n += 1;
            report.lines += 1;
            report.truncated += u64::from(raw.truncated);
            let text = raw.text();
            let mut input = Input::new(&text, journal.then(|| clock.now()));
            if targets.len() > 1 {
                input = input.split();
            }
            for &idx in targets {
                let fed = engine.feed(idx, &input, clock, now.max(Timestamp::UNIX_EPOCH));
                let (Some(failure), Some(outcome)) = (fed.failure, fed.outcome) else {
                    continue;
                };
                report.matches += 1;
                if let Some(t) = failure.time {
                    now = now.max(t);
                }
                let m = ReplayMatch {
                    jail: engine.jails[idx].jail.spec().name.to_string(),
                    source: name.clone(),
                    line: n,
                    failure,
                    outcome,
                };
                on_match(&m);
                if let Outcome::Ban(d) = m.outcome {
                    let more = engine.feed_ban(&d);
                    report.bans.push(d);
                    report.bans.extend(more);
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GuardConfig;
    use std::path::Path;

    #[test]
    fn replays_bans_in_log_time_and_feeds_recidive() {
        let cfg = GuardConfig::parse(
            r#"
            [jail.sshd]
            filter = "sshd"
            logpath = ["/var/log/auth.log"]
            maxretry = 2
            findtime = "10m"
            bantime = "1m"
            [jail.recidive]
            filter = "recidive"
            maxretry = 2
            findtime = "1d"
            bantime = "1w"
        "#,
            Path::new("t.toml"),
        )
        .unwrap();
        let mut e = Engine::from_config(&cfg, &[]).unwrap();
        let sshd = e.index("sshd").unwrap();
        let log = "\
2025-06-14T09:00:00Z h sshd[1]: Invalid user a from 203.0.113.5 port 1
2025-06-14T09:00:01Z h sshd[1]: Invalid user b from 203.0.113.5 port 1
2025-06-14T09:00:02Z h sshd[1]: Invalid user c from 203.0.113.5 port 1
2025-06-14T09:05:00Z h sshd[2]: Invalid user d from 203.0.113.5 port 1
2025-06-14T09:05:01Z h sshd[2]: Invalid user e from 203.0.113.5 port 1
2025-06-14T09:05:02Z h sshd[2]: Accepted publickey for me from 192.0.2.1 port 1 ssh2
";
        let clock = Clock::new(jiff::tz::TimeZone::UTC, Timestamp::now());
        let mut seen = 0;
        let r = replay(
            &mut e,
            &[sshd],
            vec![("auth.log".to_string(), log.as_bytes())],
            &clock,
            false,
            |_| seen += 1,
        )
        .unwrap();
        assert_eq!((r.lines, r.matches, seen), (6, 5, 5));
        let bans: Vec<_> = r
            .bans
            .iter()
            .map(|d| (d.jail.to_string(), d.target.to_string(), d.at.to_string()))
            .collect();
        assert_eq!(
            bans,
            vec![
                (
                    "sshd".into(),
                    "203.0.113.5".into(),
                    "2025-06-14T09:00:01Z".into()
                ),
                (
                    "sshd".into(),
                    "203.0.113.5".into(),
                    "2025-06-14T09:05:01Z".into()
                ),
                (
                    "recidive".into(),
                    "203.0.113.5".into(),
                    "2025-06-14T09:05:01Z".into()
                ),
            ],
            "the third line falls in the first ban; the ban has expired by 09:05"
        );
    }
}
