//! The jails of a configuration, each with its filter, and the routing of lines and bans to
//! them: a line from a source goes to the jails that read that source; a ban decided by any jail
//! goes to the jails that watch bans (recidive). Shared by the daemon and by `replay`.
//!
//! The engine holds no I/O: sources hand it lines, it hands back decisions.

use crate::addr::{self, AllowList, Cidr, Host};
use crate::config::{GuardConfig, JailConfig};
use crate::filters::{self, Failure, Filter, FilterError, Input};
use crate::jail::{Decision, Jail, JailSpec, Outcome};
use crate::time::Clock;
use jiff::Timestamp;
use std::net::IpAddr;

/// One jail with its filter and counters.
#[derive(Debug)]
pub struct JailRuntime {
    /// Counting and ban decisions.
    pub jail: Jail,
    /// The filter.
    pub filter: Box<dyn Filter>,
    /// Its configuration (sources).
    pub config: JailConfig,
    /// Lines examined.
    pub lines: u64,
    /// Lines that matched (failures).
    pub matches: u64,
    /// Whether it is fed from other jails' bans.
    pub watches_bans: bool,
}

/// What happened to one line in one jail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fed {
    /// The failure found, if any.
    pub failure: Option<Failure>,
    /// What the jail did with it.
    pub outcome: Option<Outcome>,
}

/// The engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A jail's filter could not be built.
    #[error("jail `{jail}`: {source}")]
    Filter {
        jail: String,
        #[source]
        source: FilterError,
    },
}

/// All jails.
#[derive(Debug)]
pub struct Engine {
    /// The jails, in configuration order.
    pub jails: Vec<JailRuntime>,
}

/// The networks never banned by default: loopback, plus the host's own addresses if asked.
pub fn default_allow(allow_self: bool) -> Vec<Cidr> {
    let mut v: Vec<Cidr> = vec![
        Cidr::new(IpAddr::from([127, 0, 0, 0]), 8).expect("static"),
        Cidr::host("::1".parse().expect("static")),
    ];
    if allow_self {
        v.extend(addr::own_addresses().into_iter().map(Cidr::host));
    }
    v
}

impl Engine {
    /// Builds the enabled jails of `cfg`; `base_allow` is added to every jail's allow list.
    pub fn from_config(cfg: &GuardConfig, base_allow: &[Cidr]) -> Result<Engine, EngineError> {
        let mut jails = Vec::new();
        for (name, jc) in cfg.jail.iter().filter(|(_, j)| j.enabled) {
            let filter = filters::build(&jc.filter, &jc.filter_options()).map_err(|source| {
                EngineError::Filter {
                    jail: name.clone(),
                    source,
                }
            })?;
            let mut allow = AllowList::new(base_allow.to_vec());
            for n in cfg.global.allow.iter().chain(&jc.allow) {
                allow.push(*n);
            }
            let spec = JailSpec {
                name: name.as_str().into(),
                maxretry: jc.maxretry,
                findtime: jc.findtime,
                bantime: jc.bantime,
                increment: jc.increment.clone(),
                ports: jc.ports.clone(),
                allow,
                ipv6_prefix: jc.ipv6_prefix.unwrap_or(cfg.global.ipv6_prefix),
                max_tracked: cfg.global.max_tracked.max(16),
            };
            let watches_bans =
                jc.filter == "recidive" && jc.logpath.is_empty() && jc.journal.is_none();
            jails.push(JailRuntime {
                jail: Jail::new(spec),
                filter,
                config: jc.clone(),
                lines: 0,
                matches: 0,
                watches_bans,
            });
        }
        Ok(Engine { jails })
    }

    /// The index of the jail named `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.jails.iter().position(|j| &*j.jail.spec().name == name)
    }

    /// Examines one line in jail `idx`. `now` expires bans; the failure's own time (or `now`
    /// when the line has none) is what is counted.
    pub fn feed(&mut self, idx: usize, input: &Input<'_>, clock: &Clock, now: Timestamp) -> Fed {
        let Some(j) = self.jails.get_mut(idx) else {
            return Fed {
                failure: None,
                outcome: None,
            };
        };
        j.lines += 1;
        let Some(failure) = j.filter.examine(input, clock) else {
            return Fed {
                failure: None,
                outcome: None,
            };
        };
        j.matches += 1;
        let t = failure.time.unwrap_or(now);
        let outcome = j.jail.record(&failure.host, t, now.max(t));
        Fed {
            failure: Some(failure),
            outcome: Some(outcome),
        }
    }

    /// Hands a ban to the jails that watch bans (not to the jail that made it); returns the
    /// bans they decide in turn.
    pub fn feed_ban(&mut self, d: &Decision) -> Vec<Decision> {
        let mut out = Vec::new();
        for j in self.jails.iter_mut().filter(|j| j.watches_bans) {
            if j.jail.spec().name == d.jail {
                continue;
            }
            j.lines += 1;
            j.matches += 1;
            let host = Host::Ip(d.target.addr);
            if let Outcome::Ban(b) = j.jail.record(&host, d.at, d.at) {
                out.push(b);
            }
        }
        out
    }
}
