//! KRN-SYSCTL-DRIFT: on a live host, every key the sysctl configuration sets has that value in
//! the running kernel.

use super::docker::docker;
use super::judge::{live_value, normalize_value, parse_int};
use super::sysctl::{Configured, Placed, SysctlConfig};
use super::sysctl_d::display;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "KRN-SYSCTL-DRIFT",
    name: "sysctl-drift",
    family: Family::Kernel,
    severity: Severity::Low,
    level: Level::Sme,
    title: "The running kernel uses the sysctl values the host is configured with",
    doc: RuleDoc {
        what: "On a live host: for every key the sysctl configuration sets (explicit keys, and \
               the keys of /proc/sys a glob assigns), the value in /proc/sys equals the winning \
               assignment (numbers compared as numbers, blanks folded). Keys the running kernel \
               does not have (module not loaded) and write-only keys are noted, not judged. \
               Forwarding keys are not judged on a Docker host (its daemon sets them). Under \
               --root the rule skips.",
        why: "A value changed at runtime (`sysctl -w`, a script, a daemon) and never written to \
              a file disappears at the next reboot; a file edited but never applied protects \
              nothing until then. Either way the host is not in the state its configuration \
              claims.",
        remediation: "Apply the configuration with `sysctl --system` (or \
                      `systemctl restart systemd-sysctl`); if the running value is the one \
                      wanted, write it to a file in /etc/sysctl.d/.",
        verify: "systemd-analyze cat-config sysctl.d; sysctl KEY for each key reported",
        references: &[
            "seed 001 §7 Kernel Hardening (`sysctl -p /etc/sysctl.d/99-koprogo-hardening.conf`)",
            "man sysctl.d(5), systemd-sysctl.service(8)",
        ],
    },
    check,
};

/// Keys Docker changes at runtime.
const FORWARDING: &[&str] = &[
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/forwarding",
    "net/ipv6/conf/all/forwarding",
    "net/ipv6/conf/default/forwarding",
];

/// Glob expansions judged at most (a glob over every interface of a busy container host).
const MAX_GLOB_KEYS: usize = 1000;

fn check(ctx: &Ctx) -> Outcome {
    if let Err(skip) = ctx.require_live("the running kernel's /proc/sys") {
        return skip;
    }
    let cfg = ctx.fact::<SysctlConfig>();
    let docker = docker(ctx).is_some();
    let mut keys: Vec<(String, &Placed)> = cfg
        .explicit()
        .into_iter()
        .map(|(k, p)| (k.to_string(), p))
        .collect();
    for (pattern, _) in cfg.globs() {
        let Ok(paths) = ctx.host.glob(&format!("/proc/sys/{pattern}")) else {
            continue;
        };
        for path in paths.into_iter().take(MAX_GLOB_KEYS) {
            let Some(key) = path.strip_prefix("/proc/sys/") else {
                continue;
            };
            if keys.iter().any(|(k, _)| k == key) {
                continue;
            }
            if let Configured::Set(p) = cfg.configured(key) {
                keys.push((key.to_string(), p));
            }
        }
    }

    let mut drift = Vec::new();
    let mut notes = Vec::new();
    let mut checked = 0usize;
    for (key, placed) in &keys {
        let Some(wanted) = placed.value.as_deref() else {
            continue;
        };
        if docker && FORWARDING.contains(&key.as_str()) {
            notes.push(format!("{}: set by Docker at runtime", display(key)));
            continue;
        }
        match live_value(ctx.host, key) {
            Some(Ok(Some(live))) => {
                checked += 1;
                if !same(wanted, &live) {
                    let file = cfg.file_of(placed);
                    drift.push(
                        Evidence::file(&file.shown)
                            .line(placed.line)
                            .snippet(placed.text.as_str())
                            .key(display(key))
                            .actual(live)
                            .expected(wanted)
                            .with_source("proc")
                            .note("the running kernel differs from the configuration"),
                    );
                }
            }
            Some(Ok(None)) => notes.push(format!("{}: not in the running kernel", display(key))),
            Some(Err(e)) => notes.push(format!("{}: not readable ({e})", display(key))),
            None => {}
        }
    }
    if !drift.is_empty() {
        return Outcome::fail(format!(
            "{} of {checked} configured sysctl keys differ in the running kernel",
            drift.len()
        ))
        .with_all(drift);
    }
    if let Some((_, e)) = cfg.errors.first() {
        return Outcome::error(format!(
            "the sysctl configuration could not be read whole: {e}"
        ))
        .with(Evidence::file(e.path()).note(e.reason()));
    }
    let mut msg = format!("the {checked} configured sysctl keys match the running kernel");
    if !notes.is_empty() {
        msg.push_str(&format!(" ({})", notes.join("; ")));
    }
    Outcome::pass(msg)
}

/// The configured value and the running one agree: as numbers when the kernel shows numbers,
/// else as text with blanks folded.
fn same(wanted: &str, live: &str) -> bool {
    let l: Vec<&str> = live.split_whitespace().collect();
    if !l.is_empty() && l.iter().all(|t| t.parse::<i64>().is_ok()) {
        let w: Vec<&str> = wanted.split_whitespace().collect();
        if w.len() >= l.len() {
            let lw: Option<Vec<i64>> = w[..l.len()].iter().map(|t| parse_int(t)).collect();
            let ll: Option<Vec<i64>> = l.iter().map(|t| parse_int(t)).collect();
            return lw == ll;
        }
        return false;
    }
    normalize_value(wanted) == normalize_value(live)
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn values_compare_like_the_kernel_stores_them() {
        assert!(same("1", "1"));
        assert!(same("01", "1"));
        assert!(same("4096 87380   6291456", "4096\t87380\t6291456"));
        assert!(same("1 # on", "1"));
        assert!(!same("1", "0"));
        assert!(!same("4096 87380", "4096\t87380\t6291456"));
        assert!(same(
            "|/lib/systemd/systemd-coredump %P",
            "|/lib/systemd/systemd-coredump %P"
        ));
        assert!(!same("core", "|/bin/false"));
    }
}
