//! The firewall family: is a firewall loaded at boot, does it drop incoming traffic by default
//! (IPv4 and IPv6), does it open only the intended ports, and does the running kernel enforce what
//! the configuration says.
//!
//! Every source (ufw, `/etc/nftables.conf`, iptables-persistent's `rules.v4`/`rules.v6`, and the
//! live `nft -j list ruleset`) is parsed into one [`model`] and judged by one [`eval`]uator, so the
//! rules do not care which tool wrote the configuration. [`source`] decides which configuration
//! the host loads at boot. [`docker`] reads Docker's own chains from the kernel: ports it publishes
//! bypass the input chain unless DOCKER-USER filters them.

pub mod eval;
pub mod iptables;
pub mod live;
pub mod model;
pub mod net;
pub mod nft;
pub mod source;
pub mod ufw;

pub mod active;
pub mod default_deny;
pub mod docker;
pub mod live_exposed;
pub mod live_ruleset;
pub mod open_ports;

use crate::model::Evidence;
use crate::rule::Outcome;
use std::fmt;

/// A configuration rempart (or the tool that loads it) cannot make sense of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub path: String,
    pub line: Option<u32>,
    pub message: String,
}

impl ParseError {
    pub fn at(path: &str, line: u32, message: String) -> ParseError {
        ParseError {
            path: path.to_string(),
            line: (line > 0).then_some(line),
            message,
        }
    }

    /// An error outcome pointing at the file and line.
    pub fn outcome(&self) -> Outcome {
        let mut ev = Evidence::file(&self.path);
        if let Some(l) = self.line {
            ev = ev.line(l);
        }
        Outcome::error(self.to_string()).with(ev)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Lines as the tools reading these files see them: `\n`, `\r\n` and lone `\r` all end a line.
pub fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    text.split('\n').flat_map(|l| {
        let l = l.strip_suffix('\r').unwrap_or(l);
        l.split('\r')
    })
}
