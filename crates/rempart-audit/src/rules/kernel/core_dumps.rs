//! KRN-CORE-DUMPS: user processes cannot write core dumps (pam_limits hard limit, and
//! systemd-coredump not storing them), unless the kernel discards every dump.

use super::coredump_conf;
use super::judge::{boot_value, live_value, Boot};
use super::limits::{self, LIMITS_CONF};
use super::sysctl::SysctlConfig;
use crate::facts::Packages;
use crate::host::HostError;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "KRN-CORE-DUMPS",
    name: "core-dumps-enabled",
    family: Family::Kernel,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Processes cannot leave core dumps on disk",
    doc: RuleDoc {
        what: "pam_limits gives every user a hard core-size limit of 0: the last `*` line for \
               `core` with type `hard` or `-` in /etc/security/limits.conf then \
               /etc/security/limits.d/*.conf says 0, and no user or group line raises the hard \
               limit again. When systemd-coredump is installed, its `Storage=` (coredump.conf and \
               its drop-ins, last wins) is `none`. A `kernel.core_pattern` piping dumps to \
               /bin/false or /bin/true discards them all and passes on its own.",
        why: "A core dump is a copy of a process's memory: session secrets, database passwords, \
              private keys. Written to disk it outlives the process and ends up in backups.",
        remediation: "echo '* hard core 0' > /etc/security/limits.d/60-rempart-core.conf; with \
                      systemd-coredump: mkdir -p /etc/systemd/coredump.conf.d && printf \
                      '[Coredump]\\nStorage=none\\nProcessSizeMax=0\\n' > \
                      /etc/systemd/coredump.conf.d/60-rempart.conf",
        verify: "grep -rs core /etc/security/limits.conf /etc/security/limits.d/; \
                 systemd-analyze cat-config systemd/coredump.conf | grep Storage; sysctl \
                 kernel.core_pattern",
        references: &[
            "seed 001 §7 Kernel Hardening (core dumps disabled)",
            "CIS Debian Linux 12 Benchmark 1.5.x (core dumps are restricted; coredump storage)",
            "man limits.conf(5), coredump.conf(5)",
        ],
    },
    check,
};

const DISCARDING: &[&str] = &[
    "|/bin/false",
    "|/usr/bin/false",
    "|/bin/true",
    "|/usr/bin/true",
];

fn check(ctx: &Ctx) -> Outcome {
    if let Some(ev) = discarded_by_kernel(ctx) {
        return Outcome::pass("kernel.core_pattern discards every core dump").with(ev);
    }
    let mut bad: Vec<Evidence> = Vec::new();
    let mut good: Vec<Evidence> = Vec::new();
    let mut errors: Vec<HostError> = Vec::new();

    let (files, errs) = limits::load(ctx.host);
    errors.extend(errs);
    let mut wildcard: Option<Evidence> = None;
    let mut wildcard_zero = false;
    for (path, parsed) in &files {
        for l in parsed
            .limits
            .iter()
            .filter(|l| l.item == "core" && l.kind.sets_hard())
        {
            let ev = Evidence::file(path.as_str())
                .line(l.line)
                .snippet(l.text.as_str())
                .key(format!("{} hard core", l.domain))
                .actual(l.value.as_str())
                .expected("0");
            if l.domain == "*" {
                wildcard_zero = l.value == "0";
                wildcard = Some(ev);
            } else if l.value != "0" {
                bad.push(ev.note("this user or group escapes the `*` limit"));
            }
        }
    }
    match (wildcard, wildcard_zero) {
        (Some(ev), true) => good.push(ev),
        (Some(ev), false) => bad.push(ev),
        (None, _) => bad.push(
            Evidence::file(LIMITS_CONF)
                .key("* hard core")
                .actual("unset (unlimited)")
                .expected("0"),
        ),
    }

    if systemd_coredump(ctx) {
        let (storage, errs) = coredump_conf::lookup(ctx.host, "Storage");
        errors.extend(errs);
        match storage {
            Some((path, s)) => {
                let ev = Evidence::file(path)
                    .line(s.line)
                    .snippet(s.text.as_str())
                    .key("Coredump.Storage")
                    .actual(s.value.as_str())
                    .expected("none");
                if s.value == "none" {
                    good.push(ev);
                } else {
                    bad.push(ev);
                }
            }
            None => bad.push(
                Evidence::file(coredump_conf::MAIN)
                    .key("Coredump.Storage")
                    .actual("external (default)")
                    .expected("none"),
            ),
        }
    }

    if !bad.is_empty() {
        return Outcome::fail("processes can write core dumps").with_all(bad);
    }
    if let Some(e) = errors.into_iter().next() {
        return Outcome::from(e);
    }
    Outcome::pass("core dumps are disabled for users (hard limit 0)").with_all(good)
}

/// Evidence that `kernel.core_pattern` pipes every dump to a program that discards it.
fn discarded_by_kernel(ctx: &Ctx) -> Option<Evidence> {
    let key = "kernel/core_pattern";
    let discards = |v: &str| DISCARDING.iter().any(|d| v.trim() == *d);
    match live_value(ctx.host, key) {
        Some(Ok(Some(v))) => discards(&v).then(|| {
            Evidence::file("/proc/sys/kernel/core_pattern")
                .with_source("proc")
                .key("kernel.core_pattern")
                .actual(v)
        }),
        Some(_) => None,
        None => {
            let cfg = ctx.fact::<SysctlConfig>();
            match boot_value(ctx.host, &cfg, key) {
                Boot::Known { value, evidence } if discards(&value) => Some(evidence),
                _ => None,
            }
        }
    }
}

fn systemd_coredump(ctx: &Ctx) -> bool {
    ctx.fact::<Packages>().is_installed("systemd-coredump")
        || ctx.host.exists("/lib/systemd/systemd-coredump")
        || ctx.host.exists("/usr/lib/systemd/systemd-coredump")
}
