//! `rempart probe --ports HOST`: the seed's "nmap: everything closed but 22, 80, 443" step, with
//! a verdict. [`target`] accepts one host only; [`scan`] connects to every port; [`judge`]
//! compares the open ports with the allowed ones (FW-PROBE-PORTS).

pub mod scan;
pub mod target;

pub use scan::{scan, PortState, ScanOptions, ScanResult};
pub use target::{resolve, PortSpec, ScanTarget};

use rempart_audit::{Evidence, Family, Level, Outcome, Rule, RuleDoc, Severity};

/// Printed before every scan by the command line.
pub const OWNERSHIP_NOTICE: &str = "rempart probe --ports: only scan hosts you own or are \
    authorised to test; one host per run, ranges are refused.";

pub const RULE: Rule = Rule {
    id: "FW-PROBE-PORTS",
    name: "unexpected-open-port",
    family: Family::Firewall,
    severity: Severity::High,
    level: Level::Sme,
    title: "From outside, only the allowed TCP ports accept connections",
    doc: RuleDoc {
        what: "`rempart probe --ports HOST` connects to every TCP port of one host (or the range \
               given with --range) from where rempart runs, many connects in flight, each with a \
               timeout: a port that accepts the connection is open, one that resets it is \
               closed, one that does not answer is filtered. Fails when a port outside the \
               allowed set is open (`--allow`, else `allowed_ports` of the configuration given \
               with --config, else 22, 80 and 443). Allowed ports that are closed are noted, \
               not judged.",
        why: "This is what an attacker sees: whatever the configuration files and the \
              firewall's intent, an open port is an open door. It catches a service bound to \
              0.0.0.0 that the firewall does not cover, a Docker-published port that bypasses \
              ufw, a rule added by hand and forgotten.",
        remediation: "For each unexpected open port: find the service (`ss -ltnp 'sport = \
                      :PORT'` on the host), bind it to 127.0.0.1 or stop it, and make the \
                      firewall drop the port (`ufw deny PORT`, or an nftables input chain with \
                      policy drop). For Docker, publish on 127.0.0.1 (`127.0.0.1:8080:80`) or \
                      filter in the DOCKER-USER chain.",
        verify: "nmap -sT -Pn -p- HOST (from another machine); rempart probe --ports HOST",
        references: &[
            "seed 000 Audit de sécurité (« Scan de ports (nmap) - tout fermé sauf 22, 80, 443 »)",
            "seed 002 Phase 3 (« Nmap en local pour voir ports ouverts »)",
            "nmap(1): -sT TCP connect scan",
        ],
    },
    check: crate::probe_only,
};

/// The verdict on a scan.
pub fn judge(r: &ScanResult, allowed: &[u16]) -> Outcome {
    let host = host_label(&r.target);
    let mut notes = Vec::new();
    if !r.target.others.is_empty() {
        notes.push(
            Evidence::source("dns")
                .key(r.target.input.as_str())
                .note(format!(
                    "also resolves to {} (not scanned: one address per run)",
                    r.target
                        .others
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
        );
    }
    notes.push(
        Evidence::source("scan")
            .key("open ports")
            .actual(
                r.open
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .note(format!("{} scanned: {}", host, r.ports)),
    );
    let closed_allowed: Vec<String> = allowed
        .iter()
        .filter(|p| r.ports.contains(**p) && !r.open.contains(p))
        .map(u16::to_string)
        .collect();
    if !closed_allowed.is_empty() {
        notes.push(
            Evidence::source("scan")
                .key("allowed but not open")
                .actual(closed_allowed.join(", ")),
        );
    }
    let summary = format!(
        "{host}: {} of {} ports open ({}), {} closed, {} filtered, in {:.1} s ({} connects in flight)",
        r.open.len(),
        r.ports.len(),
        if r.open.is_empty() {
            "none".to_string()
        } else {
            r.open
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
        r.closed,
        r.filtered.len(),
        r.elapsed.as_secs_f64(),
        r.concurrency
    );
    let expected = format!(
        "closed or filtered (allowed: {})",
        allowed
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let bad: Vec<Evidence> = r
        .open
        .iter()
        .filter(|p| !allowed.contains(p))
        .map(|p| {
            Evidence::source("tcp-connect")
                .key(format!("tcp/{p}"))
                .actual("open")
                .expected(expected.as_str())
                .note(format!("{host} accepted a connection"))
        })
        .collect();
    if !r.unknown.is_empty() {
        let shown: Vec<String> = r
            .unknown
            .iter()
            .take(5)
            .map(|(p, e)| format!("{p}: {e}"))
            .collect();
        let msg = format!(
            "{summary}; {} ports could not be judged ({})",
            r.unknown.len(),
            shown.join("; ")
        );
        if bad.is_empty() {
            return Outcome::error(msg).with(Evidence::source("tcp-connect").key(host));
        }
        return Outcome::fail(msg).with_all(bad).with_all(notes);
    }
    if bad.is_empty() {
        Outcome::pass(summary).with_all(notes)
    } else {
        Outcome::fail(format!(
            "{summary}; not allowed: {}",
            bad.iter()
                .filter_map(|e| e.key.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_all(bad)
        .with_all(notes)
    }
}

fn host_label(t: &ScanTarget) -> String {
    if t.input.trim() == t.addr.to_string() {
        t.input.trim().to_string()
    } else {
        format!("{} ({})", t.input.trim(), t.addr)
    }
}
