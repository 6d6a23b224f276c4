//! The daemon's internal events: each is a typed struct-like variant with one [`Event::emit`]
//! that writes the structured log line and updates the counters, so what is logged and what is
//! counted never drift apart. Addresses go into logs, never into metric labels.

use crate::metrics::{Metric, Metrics};
use crate::state::BanRecord;

/// Something worth logging and counting.
#[derive(Debug)]
pub enum Event<'a> {
    /// A ban was applied.
    Banned { ban: &'a BanRecord, manual: bool },
    /// A ban ended (expired or lifted by hand).
    Unbanned { ban: &'a BanRecord, manual: bool },
    /// A host that matched could not be banned (a name, not an address).
    NotAnAddress { jail: &'a str, host: &'a str },
    /// The firewall refused or could not run a transaction.
    BackendFailed { op: &'static str, error: String },
    /// A transaction ran.
    BackendApplied { op: &'static str, elements: usize },
    /// Bans restored at start.
    Restored { count: usize },
}

impl Event<'_> {
    /// Logs the event and counts it.
    pub fn emit(&self, m: &mut Metrics) {
        match self {
            Event::Banned { ban, manual } => {
                tracing::warn!(
                    event = "ban", jail = %ban.jail, target = %ban.target, until = %ban.until,
                    count = ban.count, manual, "banned"
                );
                m.add(Metric::Bans, &ban.jail, 1);
            }
            Event::Unbanned { ban, manual } => {
                tracing::info!(event = "unban", jail = %ban.jail, target = %ban.target, manual, "unbanned");
                m.add(Metric::Unbans, &ban.jail, 1);
            }
            Event::NotAnAddress { jail, host } => {
                tracing::info!(
                    event = "not_an_address",
                    jail,
                    host,
                    "failure from a host name: not banned"
                );
            }
            Event::BackendFailed { op, error } => {
                tracing::error!(event = "backend_error", op, error = %error, "firewall change failed");
                m.add(Metric::BackendErrors, "", 1);
            }
            Event::BackendApplied { op, elements } => {
                tracing::debug!(event = "backend_applied", op, elements, "firewall updated");
                m.add(Metric::BackendTransactions, "", 1);
            }
            Event::Restored { count } => {
                tracing::info!(event = "restored", count, "bans restored");
            }
        }
    }
}
