//! rempart guard: follow logs, find abuse per client address, ban through nftables.
//!
//! Data flows one way: [`source`]s (files followed across rotation, the systemd journal) yield
//! lines; [`filters`] turn a line into at most one failure (host and time); [`jail`]s count
//! failures per host in a window and decide bans (allow lists, incremental ban times, IPv6
//! prefixes, bounded state); [`backend`]s apply bans (nftables, in batches; or log only);
//! [`state`] persists offsets, the journal cursor and active bans. [`daemon`] wires them together;
//! [`replay`] runs logs through jails offline. fail2ban `filter.d` files are read by [`f2b`].
//!
//! This crate never prints and never exits: the `rempart` binary does.

#![forbid(unsafe_code)]

pub mod addr;
pub mod backend;
pub mod config;
pub mod control;
pub mod daemon;
pub mod engine;
pub mod events;
pub mod f2b;
pub mod filters;
pub mod jail;
pub mod metrics;
pub mod replay;
pub mod source;
pub mod state;
pub mod time;

pub use addr::{AllowList, Cidr, Host};
pub use filters::{Failure, Filter, FilterOptions, Input};
pub use time::Clock;
