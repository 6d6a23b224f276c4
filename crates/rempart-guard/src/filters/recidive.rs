//! Repeat offenders: bans announced in fail2ban's log (`fail2ban.actions: NOTICE [JAIL] Ban
//! ADDR`, in its own file, syslog or the journal), so a host banned again and again gets a long
//! ban. Bans by the recidive jail itself are ignored. Inside the rempart daemon the recidive
//! jail is fed from rempart's own bans instead of a log file (see [`crate::jail`]).

use super::scan;
use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::addr;
use crate::time::{self, Clock};
use memchr::memmem;

/// The built-in `recidive` filter.
pub const BUILTIN: Builtin = Builtin {
    name: "recidive",
    about: "Hosts banned repeatedly (fail2ban's log; rempart feeds its own bans directly)",
    modes: &[],
    samples: SAMPLES,
    build,
};

fn build(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&BUILTIN)?;
    opts.reject_path_prefix(BUILTIN.name)?;
    Ok(Box::new(Recidive))
}

/// The recidive detector.
#[derive(Debug)]
pub struct Recidive;

impl Filter for Recidive {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        let line = input.text.trim_end();
        let at = memmem::rfind(line.as_bytes(), b"] Ban ")?;
        let head = &line[..at];
        memmem::find(head.as_bytes(), b"fail2ban")?;
        let jail = &head[head.rfind('[')? + 1..];
        if jail == "recidive" || jail.contains(' ') {
            return None;
        }
        // The word before `[JAIL]` is a level (`NOTICE`) or the program tag (`fail2ban[PID]:`).
        let before = head[..head.rfind('[')?].trim_end();
        let (_, word) = before.rsplit_once(' ').unwrap_or(("", before));
        if !(word == "NOTICE" || word.ends_with(':')) {
            return None;
        }
        let (tok, rest) = scan::token(&line[at + 6..]);
        if !rest.is_empty() {
            return None;
        }
        let host = addr::parse_host(tok)?;
        let time = input
            .time
            .or_else(|| time::leading(clock, line).map(|(t, _)| t));
        Some(Failure {
            host,
            time,
            rule: "banned",
        })
    }
}

const SAMPLES: &[Sample] = &[
    Sample::hit(
        "2025-06-14 09:15:02,388 fail2ban.actions        [812]: NOTICE  [sshd] Ban 203.0.113.80",
        "203.0.113.80",
        "2025-06-14T09:15:02.388Z",
    ),
    Sample::miss("2025-06-14 09:25:02,388 fail2ban.actions        [812]: NOTICE  [sshd] Unban 203.0.113.80"),
    Sample::miss("2025-06-14 09:25:03,001 fail2ban.actions        [812]: NOTICE  [recidive] Ban 203.0.113.80")
        .about("the recidive jail's own bans do not feed it"),
    Sample::hit(
        "web1 fail2ban[812]: [postfix-sasl] Ban 2001:db8::81",
        "2001:db8::81",
        "2025-06-15T12:00:00Z",
    )
    .journal(),
];
