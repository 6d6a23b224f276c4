//! Where bans go. [`nft::Nftables`] owns the `inet rempart` table (IPv4 and IPv6 sets with
//! element timeouts, per-port sets of `address . port`) and changes it only in whole
//! transactions: one `nft -f -` run per batch of bans, never one process per address.
//! [`LogOnly`] decides nothing and touches nothing: the dry run.
//!
//! Backends do not decide bans ([`crate::jail`] does) nor remember them across restarts
//! ([`crate::state`] does); they are told what to apply.

pub mod nft;

use crate::state::BanRecord;

/// A backend failed.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// `nft` could not be run.
    #[error("running {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// `nft` refused the transaction (nothing of it was applied).
    #[error("nft refused the transaction: {stderr}")]
    Refused { stderr: String },
}

/// Something that applies bans.
pub trait Backend: Send {
    /// Sets up (replacing whatever the backend owned before) with `restore` already banned, in
    /// one step.
    fn start(&mut self, restore: &[BanRecord]) -> Result<(), BackendError>;
    /// Applies new bans, in one step.
    fn ban(&mut self, bans: &[BanRecord]) -> Result<(), BackendError>;
    /// Lifts bans before their time, in one step.
    fn unban(&mut self, bans: &[BanRecord]) -> Result<(), BackendError>;
    /// A short name for logs.
    fn name(&self) -> &'static str;
}

/// The dry-run backend: bans are only logged.
#[derive(Debug, Default)]
pub struct LogOnly;

impl Backend for LogOnly {
    fn start(&mut self, restore: &[BanRecord]) -> Result<(), BackendError> {
        tracing::info!(
            restored = restore.len(),
            "log-only backend: firewall untouched"
        );
        Ok(())
    }
    fn ban(&mut self, bans: &[BanRecord]) -> Result<(), BackendError> {
        for b in bans {
            tracing::info!(jail = %b.jail, target = %b.target, until = %b.until, "would ban");
        }
        Ok(())
    }
    fn unban(&mut self, bans: &[BanRecord]) -> Result<(), BackendError> {
        for b in bans {
            tracing::info!(jail = %b.jail, target = %b.target, "would unban");
        }
        Ok(())
    }
    fn name(&self) -> &'static str {
        "log"
    }
}
