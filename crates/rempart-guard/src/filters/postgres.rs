//! PostgreSQL authentication failures in the server log (`postgres-bruteforce` in the guides).
//!
//! With Debian's default `log_line_prefix = '%m [%p] %q%u@%d '` a failed password line does not
//! name the client; with `log_connections = on` the same backend (same `[PID]`) logged
//! `connection received: host=ADDR port=N` just before, and the failure is blamed on that address.
//! A prefix holding the client (`%h` or `%r`) and messages that name it (`no pg_hba.conf entry for
//! host "ADDR"`) are read directly. User and database names are never read as a host.

use super::scan;
use super::syslog;
use super::tracker::Tracker;
use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::addr::{self, Host};
use crate::time::{self, Clock};
use jiff::tz::TimeZone;
use memchr::memmem;

/// The built-in `postgres-auth` filter.
pub const BUILTIN: Builtin = Builtin {
    name: "postgres-auth",
    about:
        "PostgreSQL authentication failures (needs log_connections = on, or %h in log_line_prefix)",
    modes: &[],
    samples: SAMPLES,
    build,
};

fn build(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&BUILTIN)?;
    opts.reject_path_prefix(BUILTIN.name)?;
    Ok(Box::new(Postgres {
        backends: Tracker::new(16_384),
    }))
}

/// The postgres-auth detector.
#[derive(Debug)]
pub struct Postgres {
    backends: Tracker<Option<Host>>,
}

/// Severity tags PostgreSQL writes before the message.
const LEVELS: [&str; 3] = ["FATAL:  ", "LOG:  ", "DETAIL:  "];

fn split_level(line: &str) -> Option<(&str, &'static str, &str)> {
    for l in LEVELS {
        if let Some(i) = memmem::find(line.as_bytes(), l.as_bytes()) {
            return Some((&line[..i], l, &line[i + l.len()..]));
        }
    }
    None
}

/// The backend pid in a prefix: the first `[digits]`.
fn prefix_pid(prefix: &str) -> Option<u32> {
    let mut rest = prefix;
    while let Some(i) = rest.find('[') {
        let r = &rest[i + 1..];
        let end = r.find(']')?;
        if let Ok(pid) = r[..end].parse() {
            return Some(pid);
        }
        rest = &r[end..];
    }
    None
}

/// A client address in the prefix (`%h` or `%r` = `ADDR(PORT)`), skipping `user@db`.
fn prefix_host(prefix: &str) -> Option<Host> {
    prefix.split(' ').find_map(|tok| {
        if tok.contains('@') || tok.starts_with('[') {
            return None;
        }
        let tok = tok.split('(').next().unwrap_or(tok);
        addr::parse_ip(tok).map(Host::Ip)
    })
}

/// `host="ADDR"` / `host "ADDR"` inside a message.
fn quoted_host(msg: &str) -> Option<Host> {
    let at = memmem::find(msg.as_bytes(), b"for host \"")?;
    let r = &msg[at + 10..];
    addr::parse_host(&r[..r.find('"')?])
}

fn leading_time(clock: &Clock, s: &str) -> Option<jiff::Timestamp> {
    let (t, n) = time::iso(clock, s)?;
    let rest = &s[n..];
    if rest.starts_with(" UTC") || rest.starts_with(" GMT") {
        let utc = Clock::new(TimeZone::UTC, clock.now());
        return time::iso(&utc, s).map(|(t, _)| t);
    }
    Some(t)
}

impl Filter for Postgres {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        let line = input.text.trim_end();
        let (prefix, level, msg) = split_level(line)?;
        // Behind syslog, the envelope's pid is the backend's.
        let env = syslog::parse(prefix, true).filter(|e| e.tag.starts_with("postgres"));
        let pid = env.and_then(|e| e.pid).or_else(|| prefix_pid(prefix));
        let key = u64::from(pid.unwrap_or(0));
        if level == "LOG:  " {
            if let Some(r) = msg.strip_prefix("connection received: host=") {
                let (tok, _) = scan::token(r);
                let host = addr::parse_host(tok);
                if pid.is_some() && host.is_some() {
                    *self.backends.entry(key) = host;
                }
            }
            return None;
        }
        if level != "FATAL:  " {
            return None;
        }
        let rule = if msg.starts_with("password authentication failed for user ") {
            "password-failed"
        } else if msg.starts_with("no pg_hba.conf entry for host ")
            || msg.starts_with("pg_hba.conf rejects connection for host ")
        {
            "hba-rejected"
        } else if msg.starts_with("role \"") && msg.ends_with("\" does not exist") {
            "unknown-role"
        } else if msg.starts_with("database \"") && msg.ends_with("\" does not exist") {
            "unknown-database"
        } else if msg.starts_with("SCRAM authentication failed")
            || msg.starts_with("md5 authentication failed")
        {
            "password-failed"
        } else {
            return None;
        };
        let host = quoted_host(msg)
            .or_else(|| prefix_host(prefix))
            .or_else(|| pid.and_then(|_| self.backends.get(key).cloned().flatten()))?;
        let time = input.time.or_else(|| match env {
            Some(e) => e.timestamp(clock),
            None => leading_time(clock, line),
        });
        Some(Failure { host, time, rule })
    }
}

const SAMPLES: &[Sample] = &[
    Sample::hit(
        "2025-06-14 09:15:02.120 UTC [4242] app@appdb FATAL:  password authentication failed for user \"app\"",
        "203.0.113.90",
        "2025-06-14T09:15:02.120Z",
    )
    .after("2025-06-14 09:15:02.101 UTC [4242] [unknown]@[unknown] LOG:  connection received: host=203.0.113.90 port=51234")
    .about("Debian's default prefix: the client comes from the backend's connection line"),
    Sample::hit(
        "2025-06-14 09:15:03.000 UTC [4243] postgres@postgres FATAL:  no pg_hba.conf entry for host \"2001:db8::91\", user \"postgres\", database \"postgres\", no encryption",
        "2001:db8::91",
        "2025-06-14T09:15:03Z",
    ),
    Sample::hit(
        "2025-06-14 09:15:04.000 UTC [4244] 203.0.113.92(40112) admin@shop FATAL:  password authentication failed for user \"admin\"",
        "203.0.113.92",
        "2025-06-14T09:15:04Z",
    )
    .about("a prefix with %r"),
    Sample::miss(
        "2025-06-14 09:15:05.000 UTC [4245] 203.0.113.93@db FATAL:  password authentication failed for user \"203.0.113.93\"",
    )
    .about("a user named like an address is never the host"),
    Sample::miss("2025-06-14 09:15:06.000 UTC [4246] app@appdb LOG:  connection authorized: user=app database=appdb"),
];
