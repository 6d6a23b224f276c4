//! LOG-CENTRAL: logs are shipped off the host to a central store.

use crate::facts::{Packages, Units};
use crate::host::Host;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::containers::compose::ComposeFiles;

pub const RULE: Rule = Rule {
    id: "LOG-CENTRAL",
    name: "logs-not-centralised",
    family: Family::Logging,
    severity: Severity::Medium,
    level: Level::Critical,
    title: "Logs are shipped to a central store off the host",
    doc: RuleDoc {
        what: "Something forwards the host's logs: rsyslog with a remote action (`*.* \
               @@logs.example:514`, `action(type=\"omfwd\")` or `omrelp`) in \
               `/etc/rsyslog.conf` or `/etc/rsyslog.d/*.conf`; syslog-ng with a `network()`, \
               `syslog()`, `tcp()` or `udp()` destination; `systemd-journal-upload` enabled \
               with a `URL=`; or a log shipping agent installed, enabled as a unit or run as a \
               compose service (Promtail, Grafana Agent or Alloy, Vector, Fluent Bit, \
               Fluentd, Filebeat, Elastic Agent, the OpenTelemetry collector, Wazuh). Whether \
               the destination receives them is not checked.",
        why: "Logs kept only on the host are the first thing an intruder erases, and are \
              lost with the disk. A copy elsewhere keeps the trail of an incident and lets \
              alerts fire on several hosts' logs at once.",
        remediation: "Ship the logs: Promtail or Grafana Alloy to Loki (seed 001's stack), or \
                      rsyslog forwarding (`/etc/rsyslog.d/90-forward.conf`: `*.* \
                      @@logs.example:6514` with TLS), or systemd-journal-upload to a \
                      systemd-journal-remote server.",
        verify: "grep -rE '@@?|omfwd|omrelp' /etc/rsyslog.conf /etc/rsyslog.d/; systemctl status promtail alloy vector fluent-bit filebeat systemd-journal-upload 2>/dev/null | grep Active",
        references: &[
            "seed 000 §8 Logs et audit (Recommandation : centraliser les logs, Loki, Elasticsearch)",
            "seed 000 Recommandations selon le contexte, infrastructure critique (audit complet avec logs centralisés)",
            "seed 001 Monitoring Stack (Loki, Promtail)",
        ],
    },
    check,
};

/// Shipping agents: (package or unit name, image base name).
const AGENTS: &[&str] = &[
    "promtail",
    "grafana-agent",
    "alloy",
    "vector",
    "fluent-bit",
    "td-agent-bit",
    "fluentd",
    "td-agent",
    "filebeat",
    "elastic-agent",
    "otelcol",
    "otelcol-contrib",
    "opentelemetry-collector",
    "wazuh-agent",
];

/// The first non-comment line of the files matching `patterns` for which `hit` holds.
fn find_line(host: &Host, patterns: &[&str], hit: &dyn Fn(&str) -> bool) -> Option<Evidence> {
    for pat in patterns {
        for path in host.glob(pat).unwrap_or_default() {
            let Ok(Some(f)) = host.read_text(&path) else {
                continue;
            };
            for (i, line) in f.text.lines().enumerate() {
                let t = line.trim();
                if t.starts_with('#') || t.starts_with("//") || t.is_empty() {
                    continue;
                }
                if hit(t) {
                    return Some(Evidence::file(&path).line(i as u32 + 1).snippet(line));
                }
            }
        }
    }
    None
}

/// An rsyslog legacy forwarding action: a selector then `@host` or `@@host`.
fn rsyslog_forward(t: &str) -> bool {
    if t.contains("omfwd") || t.contains("omrelp") {
        return true;
    }
    let mut words = t.split_whitespace();
    let (Some(sel), Some(action)) = (words.next(), words.next()) else {
        return false;
    };
    !sel.starts_with('$')
        && sel.contains('.')
        && action.trim_start_matches('-').starts_with('@')
        && action
            .trim_start_matches(['-', '@', '('])
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '[')
}

fn check(ctx: &Ctx) -> Outcome {
    let host = ctx.host;
    let mut found = Vec::new();
    found.extend(find_line(
        host,
        &["/etc/rsyslog.conf", "/etc/rsyslog.d/*.conf"],
        &rsyslog_forward,
    ));
    found.extend(find_line(
        host,
        &[
            "/etc/syslog-ng/syslog-ng.conf",
            "/etc/syslog-ng/conf.d/*.conf",
        ],
        &|t| {
            t.starts_with("destination")
                && ["network(", "syslog(", "tcp(", "udp("]
                    .iter()
                    .any(|d| t.contains(d))
        },
    ));
    let units = ctx.fact::<Units>();
    if units.is_enabled("systemd-journal-upload.service") {
        if let Some(e) = find_line(
            host,
            &[
                "/etc/systemd/journal-upload.conf",
                "/etc/systemd/journal-upload.conf.d/*.conf",
            ],
            &|t| t.starts_with("URL=") && t.len() > 4,
        ) {
            found.push(e);
        }
    }
    let pkgs = ctx.fact::<Packages>();
    for a in AGENTS {
        if pkgs.is_installed(a) {
            found.push(
                Evidence::file(crate::facts::packages::DPKG_STATUS)
                    .key(*a)
                    .actual("installed"),
            );
        } else if units.is_enabled(&format!("{a}.service")) {
            let path = units
                .path(&format!("{a}.service"))
                .unwrap_or("/etc/systemd/system")
                .to_string();
            found.push(Evidence::file(path).key(*a).actual("enabled"));
        }
    }
    let compose = ctx.fact::<ComposeFiles>();
    for f in &compose.files {
        for s in &f.services {
            let base = s.image_base().unwrap_or_default();
            if AGENTS.contains(&base.as_str()) {
                let line = s.image.as_ref().map_or(s.line, |i| i.line);
                found.push(
                    Evidence::file(&f.path)
                        .line(line)
                        .snippet(f.line(line).trim_end())
                        .key("image")
                        .actual(base)
                        .note(format!("service {}", s.name)),
                );
            }
        }
    }
    if found.is_empty() {
        return Outcome::fail("no log shipping found: the logs stay on this host").with(
            Evidence::source("host")
                .key("log shipping")
                .actual("none (no rsyslog/syslog-ng forwarding, journal upload or shipping agent)")
                .expected("logs forwarded to a central store"),
        );
    }
    Outcome::pass("logs are shipped off the host").with_all(found)
}

#[cfg(test)]
mod tests {
    use super::rsyslog_forward;

    #[test]
    fn rsyslog_actions() {
        assert!(rsyslog_forward("*.* @@logs.example.org:6514"));
        assert!(rsyslog_forward("auth,authpriv.* @10.0.0.5"));
        assert!(rsyslog_forward(
            "*.*  action(type=\"omfwd\" target=\"10.0.0.5\" port=\"514\" protocol=\"tcp\")"
        ));
        assert!(rsyslog_forward("*.* @[2001:db8::1]:514"));
        assert!(!rsyslog_forward("*.*;auth,authpriv.none -/var/log/syslog"));
        assert!(!rsyslog_forward(
            "$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat"
        ));
        assert!(!rsyslog_forward("user@example.org"));
    }
}
