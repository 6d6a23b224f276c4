//! rempart's file integrity engine (what AIDE does, on every core, with an authenticated
//! database).
//!
//! Data flows one way: a [`policy::Policy`] says what to watch; the [`scan`] walks the tree in
//! parallel without following symbolic links and records [`entry::Entry`]s, hashing each
//! regular file once; [`baseline`] stores them compactly and authenticates the file with a key
//! kept apart from it ([`auth`]); [`compare`] diffs a baseline with a new scan into changes;
//! [`report`] renders them and [`status`] keeps the last check's verdict for the audit.
//!
//! This crate never prints and never exits, and it does not know the audit: the binary wires
//! both together, and the audit's `integrity` family reads baselines and check records through
//! this crate.

#![forbid(unsafe_code)]

pub mod atomic;
pub mod attrs;
pub mod auth;
pub mod baseline;
pub mod compare;
pub mod entry;
pub mod hash;
pub mod hostpath;
pub mod policy;
pub mod report;
pub mod run;
pub mod scan;
pub mod status;

pub use attrs::{Attr, AttrSet};
pub use entry::{Entry, Kind};
pub use hash::HashAlgo;
pub use policy::{default_policy, IntegrityConfig, Policy};
