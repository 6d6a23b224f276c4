//! rempart harden: turn the failing rules of an audit into changes, and apply them so that they
//! can never lock an admin out and can always be undone.
//!
//! Data flows one way: audit report -> fixes ([`fixes`], one function per fixable rule, returning
//! [`change::Intent`]s) -> [`plan::Plan`] (the exact before/after state of every path, with
//! diffs) -> [`apply::apply`] (write-ahead [`journal`], atomic writes, the software's own
//! checkers in [`validate`], reloads) -> [`apply::confirm`] / [`apply::rollback`]. Before a plan
//! with unsafe fixes is applied, [`lockout::check`] shows on a scratch copy that the admin can
//! still get in.
//!
//! It does not judge anything itself: the audit engine does. It never prints nor exits.

#![forbid(unsafe_code)]

pub mod apply;
pub mod change;
pub mod edit;
pub mod fixes;
pub mod journal;
pub mod live;
pub mod lockout;
pub mod packages;
pub mod plan;
pub mod validate;

pub use apply::{apply, confirm, rollback, ApplyOptions};
pub use change::{FileChange, FileState, Fix, Intent, Safety};
pub use plan::{plan, Plan};

/// Why a harden operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HardenError {
    #[error("cannot read: {0}")]
    Read(String),
    #[error("cannot write: {0}")]
    Write(String),
    #[error("{path}: {reason}")]
    Conflict { path: String, reason: String },
    #[error("nothing to apply: no failing rule has a fix on this host")]
    NothingToDo,
    #[error("run {0} is waiting for `rempart harden confirm` (or rollback) first")]
    Pending(String),
    #[error("no run is waiting for confirmation")]
    NothingPending,
    #[error("no run to roll back")]
    NothingToRollBack,
    #[error("no run {0} in the journal (`rempart harden history` lists them)")]
    NoSuchRun(String),
    #[error("refused: {0}")]
    Refused(String),
}
