//! Sample lines built-in filters carry, with the outcome each must give, and the runner that
//! checks them (`rempart guard test --samples`, and the crate's tests). Sample times are read in
//! UTC with "now" at [`SAMPLE_NOW`].

use super::{Builtin, FilterOptions, Input};
use crate::addr;
use crate::time::Clock;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// "Now" for samples: 2025-06-15T12:00:00Z (syslog lines without a year fall in 2025).
pub const SAMPLE_NOW: i64 = 1_749_988_800;

/// One sample line.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The log line.
    pub line: &'static str,
    /// Expected host, or `None` if the line must not match.
    pub host: Option<&'static str>,
    /// Expected time (RFC 3339), when checked.
    pub time: Option<&'static str>,
    /// Filter mode to run the sample in (`None`: the default).
    pub mode: Option<&'static str>,
    /// The line comes from the journal (its time is the journal's: [`SAMPLE_NOW`]).
    pub journal: bool,
    /// A line fed just before, for filters that follow a connection across lines.
    pub after: Option<&'static str>,
    /// Why this sample is here.
    pub about: &'static str,
}

impl Sample {
    /// A line that must match, blaming `host` at `time`.
    pub const fn hit(line: &'static str, host: &'static str, time: &'static str) -> Sample {
        Sample {
            line,
            host: Some(host),
            time: Some(time),
            mode: None,
            journal: false,
            after: None,
            about: "",
        }
    }

    /// A line that must not match.
    pub const fn miss(line: &'static str) -> Sample {
        Sample {
            line,
            host: None,
            time: None,
            mode: None,
            journal: false,
            after: None,
            about: "",
        }
    }

    /// Runs in this mode.
    pub const fn mode(mut self, mode: &'static str) -> Sample {
        self.mode = Some(mode);
        self
    }

    /// Comes from the journal.
    pub const fn journal(mut self) -> Sample {
        self.journal = true;
        self
    }

    /// Follows `line` from the same process.
    pub const fn after(mut self, line: &'static str) -> Sample {
        self.after = Some(line);
        self
    }

    /// Says why it is here.
    pub const fn about(mut self, about: &'static str) -> Sample {
        self.about = about;
        self
    }
}

/// The outcome of one sample.
#[derive(Debug, Clone)]
pub struct SampleResult {
    /// The sample.
    pub sample: Sample,
    /// What the filter found: host and time (RFC 3339).
    pub got: Option<(String, Option<String>)>,
    /// Whether it is what the sample expects.
    pub ok: bool,
    /// Why not, when not.
    pub problem: Option<String>,
}

/// Runs every sample of `b`, each in a fresh filter (so samples do not leak state into each
/// other), and reports each outcome.
pub fn run_samples(b: &Builtin) -> Vec<SampleResult> {
    let now = Timestamp::from_second(SAMPLE_NOW).unwrap_or(Timestamp::UNIX_EPOCH);
    let clock = Clock::new(TimeZone::UTC, now);
    b.samples
        .iter()
        .map(|s| {
            let opts = FilterOptions {
                mode: s.mode.map(str::to_string),
                path_prefix: (b.name == "api-abuse").then(|| "/ingest".to_string()),
            };
            let mut f = match b.build(&opts) {
                Ok(f) => f,
                Err(e) => {
                    return SampleResult {
                        sample: *s,
                        got: None,
                        ok: false,
                        problem: Some(e.to_string()),
                    }
                }
            };
            let time = s.journal.then_some(now);
            if let Some(prev) = s.after {
                let _ = f.examine(&Input::new(prev, time), &clock);
            }
            let got = f.examine(&Input::new(s.line, time), &clock);
            let got = got.map(|f| (f.host.to_string(), f.time.map(|t| t.to_string())));
            let problem = check(s, got.as_ref());
            SampleResult {
                sample: *s,
                ok: problem.is_none(),
                got,
                problem,
            }
        })
        .collect()
}

fn check(s: &Sample, got: Option<&(String, Option<String>)>) -> Option<String> {
    match (s.host, got) {
        (None, None) => None,
        (None, Some((h, _))) => Some(format!("matched (host {h}) but must not")),
        (Some(h), None) => Some(format!("did not match (expected host {h})")),
        (Some(want), Some((h, t))) => {
            let same_host = match (addr::parse_ip(want), addr::parse_ip(h)) {
                (Some(a), Some(b)) => a == b,
                _ => want == h,
            };
            if !same_host {
                return Some(format!("blamed {h}, expected {want}"));
            }
            let want_t = s.time.and_then(|t| t.parse::<Timestamp>().ok());
            let got_t = t.as_deref().and_then(|t| t.parse::<Timestamp>().ok());
            match (want_t, got_t) {
                (Some(a), Some(b)) if a != b => Some(format!("time {b}, expected {a}")),
                (Some(a), None) => Some(format!("no time, expected {a}")),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::filters::BUILTINS;

    #[test]
    fn every_builtin_passes_its_samples() {
        let mut failures = Vec::new();
        for b in BUILTINS {
            assert!(
                b.samples.iter().any(|s| s.host.is_some()),
                "{} has no matching sample",
                b.name
            );
            assert!(
                b.samples.iter().any(|s| s.host.is_none()),
                "{} has no non-matching sample",
                b.name
            );
            for r in super::run_samples(b) {
                if !r.ok {
                    failures.push(format!(
                        "{}: {}\n    {}",
                        b.name,
                        r.problem.unwrap_or_default(),
                        r.sample.line
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
