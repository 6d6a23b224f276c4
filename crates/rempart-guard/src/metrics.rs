//! The daemon's counters and their Prometheus text exposition (format 0.0.4). Metric names are
//! the [`Metric`] enum, never strings spread through the code; labels are jail names and a few
//! fixed words, never an address.
//!
//! Counting happens through [`crate::events`]; this module only stores and renders.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Every metric the daemon exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Lines a jail examined.
    Lines,
    /// Lines a jail's filter matched (failures).
    Matches,
    /// Bans a jail decided.
    Bans,
    /// Bans that ended (expired or lifted).
    Unbans,
    /// Bans in force now.
    ActiveBans,
    /// Hosts with failures in memory.
    TrackedHosts,
    /// Lines read from a kind of source.
    SourceLines,
    /// Lines cut for being too long.
    TruncatedLines,
    /// Rotations seen in followed files.
    Rotations,
    /// Backend transactions run.
    BackendTransactions,
    /// Backend transactions that failed.
    BackendErrors,
}

impl Metric {
    /// The exported name.
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Lines => "rempart_guard_lines_total",
            Metric::Matches => "rempart_guard_matches_total",
            Metric::Bans => "rempart_guard_bans_total",
            Metric::Unbans => "rempart_guard_unbans_total",
            Metric::ActiveBans => "rempart_guard_active_bans",
            Metric::TrackedHosts => "rempart_guard_tracked_hosts",
            Metric::SourceLines => "rempart_guard_source_lines_total",
            Metric::TruncatedLines => "rempart_guard_truncated_lines_total",
            Metric::Rotations => "rempart_guard_file_rotations_total",
            Metric::BackendTransactions => "rempart_guard_backend_transactions_total",
            Metric::BackendErrors => "rempart_guard_backend_errors_total",
        }
    }

    /// Help text.
    pub const fn help(self) -> &'static str {
        match self {
            Metric::Lines => "Log lines examined, per jail.",
            Metric::Matches => "Log lines that matched the jail's filter (failures), per jail.",
            Metric::Bans => "Bans decided, per jail.",
            Metric::Unbans => "Bans ended (expired or lifted), per jail.",
            Metric::ActiveBans => "Bans in force, per jail.",
            Metric::TrackedHosts => "Hosts with recent failures held in memory, per jail.",
            Metric::SourceLines => "Lines read, per kind of source.",
            Metric::TruncatedLines => "Lines cut because they were too long.",
            Metric::Rotations => "Log rotations seen in followed files.",
            Metric::BackendTransactions => "Firewall transactions run.",
            Metric::BackendErrors => "Firewall transactions that failed.",
        }
    }

    /// `counter` or `gauge`.
    pub const fn kind(self) -> &'static str {
        match self {
            Metric::ActiveBans | Metric::TrackedHosts => "gauge",
            _ => "counter",
        }
    }

    /// The label key, if the metric has one.
    pub const fn label(self) -> Option<&'static str> {
        match self {
            Metric::Lines
            | Metric::Matches
            | Metric::Bans
            | Metric::Unbans
            | Metric::ActiveBans
            | Metric::TrackedHosts => Some("jail"),
            Metric::SourceLines => Some("source"),
            _ => None,
        }
    }

    const ALL: [Metric; 11] = [
        Metric::Lines,
        Metric::Matches,
        Metric::Bans,
        Metric::Unbans,
        Metric::ActiveBans,
        Metric::TrackedHosts,
        Metric::SourceLines,
        Metric::TruncatedLines,
        Metric::Rotations,
        Metric::BackendTransactions,
        Metric::BackendErrors,
    ];
}

/// Counter and gauge values by metric and label value (`""` when unlabelled).
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    values: BTreeMap<(Metric, String), u64>,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(&mut self, m: Metric, label: &str, n: u64) {
        *self.values.entry((m, label.to_string())).or_default() += n;
    }

    /// Sets a gauge (or a counter mirrored from elsewhere).
    pub fn set(&mut self, m: Metric, label: &str, v: u64) {
        self.values.insert((m, label.to_string()), v);
    }

    /// A value.
    pub fn get(&self, m: Metric, label: &str) -> u64 {
        self.values
            .get(&(m, label.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for m in Metric::ALL {
            let _ = writeln!(out, "# HELP {} {}", m.name(), m.help());
            let _ = writeln!(out, "# TYPE {} {}", m.name(), m.kind());
            let mut any = false;
            for ((k, label), v) in self.values.range((m, String::new())..) {
                if *k != m {
                    break;
                }
                any = true;
                match m.label() {
                    Some(key) => {
                        let _ = writeln!(out, "{}{{{key}=\"{}\"}} {v}", m.name(), escape(label));
                    }
                    None => {
                        let _ = writeln!(out, "{} {v}", m.name());
                    }
                }
            }
            if !any && m.label().is_none() {
                let _ = writeln!(out, "{} 0", m.name());
            }
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_exposition_format() {
        let mut m = Metrics::default();
        m.add(Metric::Lines, "sshd", 3);
        m.add(Metric::Lines, "sshd", 2);
        m.set(Metric::ActiveBans, "sshd", 1);
        m.add(Metric::Rotations, "", 1);
        let r = m.render();
        assert!(r.contains("# TYPE rempart_guard_lines_total counter\nrempart_guard_lines_total{jail=\"sshd\"} 5\n"));
        assert!(r.contains("rempart_guard_active_bans{jail=\"sshd\"} 1\n"));
        assert!(r.contains("rempart_guard_file_rotations_total 1\n"));
        assert!(r.contains("rempart_guard_backend_errors_total 0\n"));
        for line in r.lines().filter(|l| !l.starts_with('#')) {
            assert!(!line.contains("ip="), "{line}");
        }
    }
}
