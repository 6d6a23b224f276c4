//! The crontab format (Debian's cron): `m h dom mon dow [user] command` lines (the user field in
//! `/etc/crontab` and `/etc/cron.d/*` only), `@reboot`/`@daily`-style shortcuts, `NAME=value`
//! environment lines, `#` comments, and the `%` rule (an unescaped `%` ends the command; what
//! follows is its standard input, `%` meaning newline; `\%` is a literal `%`). Also anacron's
//! `/etc/anacrontab` (`period delay job-id command`) and how often a schedule runs.

/// How often a job runs, as far as the schedule says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Frequency {
    /// Every day or more often.
    Daily,
    /// Some days of the week.
    Weekly,
    /// Some days of the month, or rarer.
    Monthly,
    /// Only at boot.
    AtBoot,
    /// A schedule rempart cannot classify.
    Unknown,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly or rarer",
            Frequency::AtBoot => "at boot only",
            Frequency::Unknown => "unknown",
        }
    }

    /// The age past which the newest backup of such a job is stale, in hours.
    pub fn max_age_hours(self) -> Option<u64> {
        match self {
            Frequency::Daily => Some(26),
            Frequency::Weekly => Some(7 * 24 + 2),
            Frequency::Monthly => Some(32 * 24),
            Frequency::AtBoot | Frequency::Unknown => None,
        }
    }
}

/// One job line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronEntry {
    pub line: u32,
    pub text: String,
    /// The five fields joined by spaces, or the `@` shortcut.
    pub schedule: String,
    pub frequency: Frequency,
    pub user: Option<String>,
    /// The command, `%` rule applied.
    pub command: String,
    /// Standard input given after an unescaped `%`.
    pub stdin: Option<String>,
}

/// A parsed crontab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Crontab {
    pub entries: Vec<CronEntry>,
    /// `NAME=value` lines, in order.
    pub env: Vec<(String, String)>,
    /// Lines cron would reject: `(line, message)`.
    pub bad: Vec<(u32, String)>,
}

/// Parse a crontab; `system` for `/etc/crontab` and `/etc/cron.d/*` (a user field follows the
/// schedule).
pub fn parse(text: &str, system: bool) -> Crontab {
    let mut tab = Crontab::default();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let s = raw.trim_start();
        if s.is_empty() || s.starts_with('#') {
            continue;
        }
        if let Some((name, value)) = env_line(s) {
            tab.env.push((name, value));
            continue;
        }
        match entry(s, system) {
            Ok((schedule, frequency, user, rest)) => {
                let (command, stdin) = split_percent(rest);
                if command.trim().is_empty() {
                    tab.bad.push((line, "no command".into()));
                    continue;
                }
                tab.entries.push(CronEntry {
                    line,
                    text: raw.to_string(),
                    schedule,
                    frequency,
                    user,
                    command,
                    stdin,
                });
            }
            Err(m) => tab.bad.push((line, m)),
        }
    }
    tab
}

/// `NAME = value` (quotes optional) when the line is an environment setting.
fn env_line(s: &str) -> Option<(String, String)> {
    let (name, value) = s.split_once('=')?;
    let name = name.trim();
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || name.chars().next().is_some_and(|c| c.is_ascii_digit())
    {
        return None;
    }
    let v = value.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
        .unwrap_or(v);
    Some((name.to_string(), v.to_string()))
}

type Parsed<'a> = (String, Frequency, Option<String>, &'a str);

/// Split off `n` blank-separated fields; the rest starts at the next non-blank.
fn take_fields(s: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut fields = Vec::with_capacity(n);
    let mut rest = s;
    for _ in 0..n {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return None;
        }
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        fields.push(&rest[..end]);
        rest = &rest[end..];
    }
    Some((fields, rest.trim_start_matches([' ', '\t'])))
}

fn entry(s: &str, system: bool) -> Result<Parsed<'_>, String> {
    let (schedule, frequency, rest) = if s.starts_with('@') {
        let (f, rest) = take_fields(s, 1).ok_or("empty line")?;
        let freq = match f[0] {
            "@hourly" | "@daily" | "@midnight" => Frequency::Daily,
            "@weekly" => Frequency::Weekly,
            "@monthly" | "@yearly" | "@annually" => Frequency::Monthly,
            "@reboot" => Frequency::AtBoot,
            other => return Err(format!("unknown schedule {other}")),
        };
        (f[0].to_string(), freq, rest)
    } else {
        let (f, rest) = take_fields(s, 5).ok_or("fewer than five schedule fields")?;
        for (field, (lo, hi)) in f.iter().zip(RANGES) {
            check_field(field, lo, hi)?;
        }
        (f.join(" "), classify(&f), rest)
    };
    let (user, rest) = if system {
        let (u, rest) = take_fields(rest, 1).ok_or("no user field")?;
        (Some(u[0].to_string()), rest)
    } else {
        (None, rest)
    };
    Ok((schedule, frequency, user, rest))
}

const RANGES: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn value_of(v: &str, lo: u32, hi: u32) -> Result<u32, String> {
    let lower = v.to_ascii_lowercase();
    let named = if hi == 12 {
        MONTHS
            .iter()
            .position(|m| *m == lower)
            .map(|p| p as u32 + 1)
    } else if hi == 7 {
        DAYS.iter().position(|d| *d == lower).map(|p| p as u32)
    } else {
        None
    };
    let n = match named {
        Some(n) => n,
        None => v.parse::<u32>().map_err(|_| format!("bad value `{v}`"))?,
    };
    if n < lo || n > hi {
        return Err(format!("`{v}` out of range {lo}-{hi}"));
    }
    Ok(n)
}

/// Validate one schedule field: `*`, numbers, names, ranges, lists and `/step`.
fn check_field(f: &str, lo: u32, hi: u32) -> Result<(), String> {
    for part in f.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(s) = step {
            match s.parse::<u32>() {
                Ok(n) if n >= 1 => {}
                _ => return Err(format!("bad step in `{part}`")),
            }
        }
        if range == "*" {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value_of(a, lo, hi)?, value_of(b, lo, hi)?);
                if a > b {
                    return Err(format!("reversed range `{range}`"));
                }
            }
            None => {
                value_of(range, lo, hi)?;
            }
        }
    }
    Ok(())
}

/// True when a field stands for every value of its range.
fn covers_all(f: &str, lo: u32, hi: u32) -> bool {
    let mut seen = vec![false; (hi + 1) as usize];
    for part in f.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().unwrap_or(0)),
            None => (part, 1),
        };
        if step == 0 {
            return false;
        }
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            match (value_of(a, lo, hi), value_of(b, lo, hi)) {
                (Ok(a), Ok(b)) => (a, b),
                _ => return false,
            }
        } else {
            match value_of(range, lo, hi) {
                Ok(a) => (a, a),
                Err(_) => return false,
            }
        };
        let mut v = a;
        while v <= b {
            seen[v as usize] = true;
            match v.checked_add(step) {
                Some(n) => v = n,
                None => break,
            }
        }
    }
    if hi == 7 {
        // 0 and 7 are both Sunday.
        let sunday = seen[0] || seen[7];
        return sunday && (1..=6).all(|d| seen[d]);
    }
    (lo..=hi).all(|v| seen[v as usize])
}

fn classify(f: &[&str]) -> Frequency {
    let all_dom = covers_all(f[2], 1, 31);
    let all_mon = covers_all(f[3], 1, 12);
    let all_dow = covers_all(f[4], 0, 7);
    if all_dom && all_mon && all_dow {
        Frequency::Daily
    } else if all_dom && all_mon {
        Frequency::Weekly
    } else {
        Frequency::Monthly
    }
}

/// Apply the `%` rule: `(command, stdin)`.
pub fn split_percent(s: &str) -> (String, Option<String>) {
    let mut cmd = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                chars.next();
                cmd.push('%');
            }
            '%' => {
                let rest: String = chars.collect();
                return (cmd, Some(rest.replace('%', "\n")));
            }
            _ => cmd.push(c),
        }
    }
    (cmd, None)
}

/// One `/etc/anacrontab` job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnacronJob {
    pub line: u32,
    pub text: String,
    pub frequency: Frequency,
    pub period: String,
    pub command: String,
}

/// Parse `/etc/anacrontab`; `(jobs, env, bad lines)`.
pub fn parse_anacrontab(text: &str) -> (Vec<AnacronJob>, Vec<(String, String)>, Vec<u32>) {
    let mut jobs = Vec::new();
    let mut env = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let s = raw.trim_start();
        if s.is_empty() || s.starts_with('#') {
            continue;
        }
        if let Some(kv) = env_line(s) {
            env.push(kv);
            continue;
        }
        let Some((f, rest)) = take_fields(s, 3) else {
            bad.push(line);
            continue;
        };
        let frequency = match f[0] {
            "@daily" => Frequency::Daily,
            "@weekly" => Frequency::Weekly,
            "@monthly" | "@yearly" | "@annually" => Frequency::Monthly,
            p => match p.parse::<u32>() {
                Ok(1) => Frequency::Daily,
                Ok(2..=7) => Frequency::Weekly,
                Ok(_) => Frequency::Monthly,
                Err(_) => {
                    bad.push(line);
                    continue;
                }
            },
        };
        if rest.is_empty() {
            bad.push(line);
            continue;
        }
        jobs.push(AnacronJob {
            line,
            text: raw.to_string(),
            frequency,
            period: f[0].to_string(),
            command: rest.to_string(),
        });
    }
    (jobs, env, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_guides_lines() {
        let t = parse(
            "SHELL=/bin/sh\nMAILTO=\"admin@example.org\"\n\
             # m h dom mon dow command\n\
             0 2 * * * /usr/bin/pg_dump -U avmvp_user avmvp_db | gzip > /backups/avmvp_$(date +\\%Y\\%m\\%d).sql.gz\n\
             0 3 * * * /root/backups/script_sauvegarde.sh >> /var/log/backup.log 2>&1\n\
             @weekly /usr/local/bin/weekly\n\
             30 4 * * 1-5 /x\n\
             0 0 1 * * /y\n\
             0 1 * * mon,tue,wed,thu,fri,sat,sun /z\n\
             * * * * /missing-a-field\n\
             61 * * * * /bad\n",
            false,
        );
        assert_eq!(t.env[1], ("MAILTO".into(), "admin@example.org".into()));
        let e = &t.entries[0];
        assert_eq!(e.frequency, Frequency::Daily);
        assert_eq!(
            e.command,
            "/usr/bin/pg_dump -U avmvp_user avmvp_db | gzip > /backups/avmvp_$(date +%Y%m%d).sql.gz"
        );
        assert_eq!(e.stdin, None);
        assert_eq!(t.entries[2].frequency, Frequency::Weekly);
        assert_eq!(t.entries[3].frequency, Frequency::Weekly);
        assert_eq!(t.entries[4].frequency, Frequency::Monthly);
        assert_eq!(t.entries[5].frequency, Frequency::Daily);
        assert_eq!(t.bad.len(), 2, "{:?}", t.bad);
    }

    #[test]
    fn system_crontabs_have_a_user_and_percent_starts_stdin() {
        let t = parse(
            "17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly\n\
             0 2 * * * postgres pg_dumpall | mail -s dump root%line1%line2\n",
            true,
        );
        assert_eq!(t.entries[0].user.as_deref(), Some("root"));
        assert_eq!(
            t.entries[0].command,
            "cd / && run-parts --report /etc/cron.hourly"
        );
        assert_eq!(t.entries[1].command, "pg_dumpall | mail -s dump root");
        assert_eq!(t.entries[1].stdin.as_deref(), Some("line1\nline2"));
    }

    #[test]
    fn anacrontab() {
        let (jobs, env, bad) = parse_anacrontab(
            "SHELL=/bin/sh\n1\t5\tcron.daily\trun-parts --report /etc/cron.daily\n@monthly 15 m x\n7 10\n",
        );
        assert_eq!(env.len(), 1);
        assert_eq!(jobs[0].frequency, Frequency::Daily);
        assert_eq!(jobs[1].frequency, Frequency::Monthly);
        assert_eq!(bad, [4]);
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,400}", system: bool) {
            let _ = parse(&s, system);
            let _ = parse_anacrontab(&s);
        }

        #[test]
        fn every_line_is_an_entry_env_or_bad(lines in proptest::collection::vec("[0-9*/,@a-z= -]{0,30}", 0..20), system: bool) {
            let text = lines.join("\n");
            let t = parse(&text, system);
            let meaningful = lines.iter().filter(|l| { let s = l.trim_start(); !s.is_empty() && !s.starts_with('#') }).count();
            prop_assert_eq!(t.entries.len() + t.env.len() + t.bad.len(), meaningful);
        }

        #[test]
        fn daily_schedules_are_daily(m in 0u32..60, h in 0u32..24) {
            let t = parse(&format!("{m} {h} * * * /bin/true\n"), false);
            prop_assert_eq!(t.entries[0].frequency, Frequency::Daily);
        }

        #[test]
        fn escaped_percent_is_literal(a in "[a-z ]{0,10}", b in "[a-z ]{0,10}") {
            let (cmd, stdin) = split_percent(&format!("{a}\\%{b}"));
            prop_assert_eq!(cmd, format!("{a}%{b}"));
            prop_assert_eq!(stdin, None);
        }
    }
}
