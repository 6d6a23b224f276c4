//! Filters turn one log line into at most one failure: the host to blame, the time, and which
//! kind of message it was. Built-in filters are hand-written parsers (a cheap literal test
//! rejects most lines before any parsing); fail2ban `filter.d` files are compiled by
//! [`crate::f2b`] into the same [`Filter`] trait.
//!
//! Every built-in filter carries sample lines with the outcome it must give; `rempart guard test
//! --samples` runs them for users, and the crate's tests run them in CI.
//!
//! This module does not count failures or decide bans: that is [`crate::jail`].

pub mod access;
pub mod apache;
pub mod api_abuse;
pub mod mysqld;
pub mod nginx;
pub mod postgres;
pub mod recidive;
pub mod samples;
pub mod scan;
pub mod sshd;
pub mod syslog;
pub mod tracker;
pub mod traefik;
pub mod webattack;

use crate::addr::Host;
use crate::time::Clock;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use samples::{run_samples, Sample, SampleResult};

/// One line handed to a filter.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The line, without its newline.
    pub text: &'a str,
    /// The time the source knows for the line (the journal's); `None` for plain files, whose
    /// lines carry their own time.
    pub time: Option<Timestamp>,
    /// The line's syslog split (`syslog::parse(text, time.is_some())`) when the caller made it
    /// already: once per line for every jail, or on the thread that reads ahead. `None`: not
    /// made, filters split the line themselves.
    pub syslog: Option<Option<syslog::Envelope<'a>>>,
}

impl<'a> Input<'a> {
    /// A line from a plain log file.
    pub fn line(text: &'a str) -> Input<'a> {
        Input::new(text, None)
    }

    /// A line and the time its source gives it.
    pub fn new(text: &'a str, time: Option<Timestamp>) -> Input<'a> {
        Input {
            text,
            time,
            syslog: None,
        }
    }

    /// The line with its syslog split already made from `spans` (see [`syslog::spans`]).
    pub fn presplit(mut self, spans: Option<syslog::Spans>) -> Input<'a> {
        self.syslog = Some(spans.and_then(|s| s.envelope(self.text)));
        self
    }

    /// The line with its syslog split made now, for callers handing it to several filters.
    pub fn split(mut self) -> Input<'a> {
        self.syslog = Some(syslog::parse(self.text, self.time.is_some()));
        self
    }

    /// The line's syslog envelope: the one given, else split now.
    pub fn envelope(&self) -> Option<syslog::Envelope<'a>> {
        match self.syslog {
            Some(e) => e,
            None => syslog::parse(self.text, self.time.is_some()),
        }
    }
}

/// A failure a filter found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Who to blame.
    pub host: Host,
    /// When (the line's time, or the source's); `None` if the line had no readable time.
    pub time: Option<Timestamp>,
    /// Which kind of message matched (`failed-auth`, `invalid-user`...), for humans.
    pub rule: &'static str,
}

/// A detector of failures in log lines. Filters may remember earlier lines (sshd follows a
/// connection across lines), so `examine` takes `&mut self`; they must stay bounded in memory.
pub trait Filter: Send + fmt::Debug {
    /// Looks at one line.
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure>;
}

/// Options a jail passes to its filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterOptions {
    /// Detection mode, for filters that have several (`sshd`: `normal`, `ddos`, `extra`,
    /// `aggressive`; `apache-auth`: `normal`, `aggressive`; `traefik-auth` and `nginx-http-auth`:
    /// `normal`, `ddos`, `aggressive`, `fallback`...). Default: `normal`.
    #[serde(default)]
    pub mode: Option<String>,
    /// `api-abuse` only: the request path prefix whose requests are counted (`/ingest`).
    #[serde(default)]
    pub path_prefix: Option<String>,
}

impl FilterOptions {
    /// Options with a mode.
    pub fn with_mode(mode: &str) -> FilterOptions {
        FilterOptions {
            mode: Some(mode.to_string()),
            ..FilterOptions::default()
        }
    }

    pub(crate) fn reject_path_prefix(&self, filter: &str) -> Result<(), FilterError> {
        match &self.path_prefix {
            Some(_) => Err(FilterError::Option {
                filter: filter.to_string(),
                message: "`path_prefix` only applies to the api-abuse filter".to_string(),
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn only_modes(&self, b: &Builtin) -> Result<(), FilterError> {
        match &self.mode {
            Some(m) if !b.modes.contains(&m.as_str()) => Err(FilterError::mode(b.name, m, b.modes)),
            _ => Ok(()),
        }
    }
}

/// A filter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// No built-in filter of that name (and no filter file was given).
    #[error("unknown filter `{name}` (built-in filters: {known})")]
    Unknown { name: String, known: String },
    /// An option the filter does not accept.
    #[error("filter `{filter}`: {message}")]
    Option { filter: String, message: String },
    /// A fail2ban filter file could not be used.
    #[error(transparent)]
    File(#[from] crate::f2b::F2bError),
}

impl FilterError {
    fn mode(filter: &str, mode: &str, modes: &[&str]) -> FilterError {
        FilterError::Option {
            filter: filter.to_string(),
            message: format!("unknown mode `{mode}` (modes: {})", modes.join(", ")),
        }
    }
}

/// A built-in filter: its name, what it detects, its modes, its samples and its constructor.
#[derive(Debug)]
pub struct Builtin {
    /// The name jails refer to (`sshd`).
    pub name: &'static str,
    /// One line saying what it detects.
    pub about: &'static str,
    /// Accepted `mode` values, the default first (empty: no modes).
    pub modes: &'static [&'static str],
    /// Sample lines with their expected outcome.
    pub samples: &'static [Sample],
    build: fn(&FilterOptions) -> Result<Box<dyn Filter>, FilterError>,
}

impl Builtin {
    /// A fresh detector with these options.
    pub fn build(&self, opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
        (self.build)(opts)
    }
}

/// The built-in filters, in documentation order.
pub const BUILTINS: &[&Builtin] = &[
    &sshd::BUILTIN,
    &apache::AUTH,
    &apache::BADBOTS,
    &nginx::HTTP_AUTH,
    &nginx::BOTSEARCH,
    &traefik::AUTH,
    &traefik::BADBOTS,
    &mysqld::BUILTIN,
    &postgres::BUILTIN,
    &api_abuse::BUILTIN,
    &webattack::BUILTIN,
    &recidive::BUILTIN,
];

/// The built-in filter named `name`.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().copied().find(|b| b.name == name)
}

/// Builds the filter `spec`: a built-in filter name, or the path of a fail2ban filter file
/// (anything containing `/` or ending in `.conf` / `.local`), whose `[Init]` `mode` the options'
/// mode overrides.
pub fn build(spec: &str, opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    if spec.contains('/') || spec.ends_with(".conf") || spec.ends_with(".local") {
        let mut vars = std::collections::BTreeMap::new();
        if let Some(m) = &opts.mode {
            vars.insert("mode".to_string(), m.clone());
        }
        let f = crate::f2b::F2bFilter::load(std::path::Path::new(spec), &vars)?;
        return Ok(Box::new(f));
    }
    let name = spec;
    match builtin(name) {
        Some(b) => b.build(opts),
        None => Err(FilterError::Unknown {
            name: name.to_string(),
            known: BUILTINS
                .iter()
                .map(|b| b.name)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    fn clock() -> Clock {
        Clock::new(
            TimeZone::UTC,
            Timestamp::from_second(1_749_988_800).unwrap(),
        )
    }

    fn all_filters() -> Vec<Box<dyn Filter>> {
        let mut out = Vec::new();
        for b in BUILTINS {
            let mut modes: Vec<Option<String>> =
                b.modes.iter().map(|m| Some(m.to_string())).collect();
            if modes.is_empty() {
                modes.push(None);
            }
            for mode in modes {
                let opts = FilterOptions {
                    mode,
                    path_prefix: (b.name == "api-abuse").then(|| "/ingest".to_string()),
                };
                out.push(b.build(&opts).unwrap());
            }
        }
        out
    }

    proptest! {
        #[test]
        fn no_filter_panics_on_any_line(lines in proptest::collection::vec("\\PC{0,200}", 1..8)) {
            let c = clock();
            for mut f in all_filters() {
                for l in &lines {
                    let _ = f.examine(&Input::line(l), &c);
                    let _ = f.examine(&Input::new(l, Some(c.now())), &c);
                }
            }
        }

        #[test]
        fn sshd_blames_the_address_sshd_wrote(user in "[ -~]{0,60}", real: u32, port in 1u16..65535) {
            let real = std::net::Ipv4Addr::from(real);
            let line = format!("Jun 14 09:15:02 h sshd[1]: Failed password for invalid user {user} from {real} port {port} ssh2");
            let mut f = build("sshd", &FilterOptions::default()).unwrap();
            let got = f.examine(&Input::line(&line), &clock()).map(|f| f.host);
            prop_assert_eq!(got, Some(Host::Ip(real.into())));
        }

        #[test]
        fn nginx_blames_the_client_nginx_wrote(user in "[ -~]{0,60}", real: u32) {
            let real = std::net::Ipv4Addr::from(real);
            let line = format!("2025/06/14 09:15:02 [error] 1#1: *1 user \"{user}\": password mismatch, client: {real}, server: x, request: \"GET / HTTP/1.1\", host: \"x\"");
            let mut f = build("nginx-http-auth", &FilterOptions::default()).unwrap();
            let got = f.examine(&Input::line(&line), &clock()).map(|f| f.host);
            prop_assert_eq!(got, Some(Host::Ip(real.into())));
        }
    }
}
