//! SSH-LOG-LEVEL: sshd logs at VERBOSE (key fingerprints of logins), not less, not DEBUG.

use super::keywords::Kw;
use super::values::log_level_rank;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-LOG-LEVEL",
    name: "log-level-not-verbose",
    family: Family::Ssh,
    severity: Severity::Low,
    level: Level::Sme,
    title: "sshd logs at VERBOSE",
    doc: RuleDoc {
        what: "The effective `LogLevel` for the default connection is `VERBOSE`. `INFO` (the \
               default) and quieter levels fail; `DEBUG`, `DEBUG2` and `DEBUG3` fail too.",
        why: "At VERBOSE sshd logs the fingerprint of the key each login used, so a stolen key \
              can be traced and revoked; at INFO it does not. Below INFO failed logins vanish. \
              The DEBUG levels log private details of users (the sshd_config man page warns \
              against them).",
        remediation: "Set `LogLevel VERBOSE` in sshd_config, `sshd -t && systemctl reload ssh`.",
        verify: "sshd -T | grep -i '^loglevel'",
        references: &[
            "seed 001 §6 SSH Hardening (verbose logging)",
            "CIS Debian Linux 12 Benchmark, SSH server section (LogLevel VERBOSE or INFO)",
            "man sshd_config(5): LogLevel",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let level = eff.text(Kw::LogLevel).unwrap_or("INFO").to_string();
        let ev = l.evidence(eff, Kw::LogLevel);
        let rank = log_level_rank(&level);
        let verbose = log_level_rank("VERBOSE");
        if rank == verbose {
            Outcome::pass("LogLevel is VERBOSE").with(ev)
        } else if rank < verbose {
            Outcome::fail(format!(
                "LogLevel is {level}: the key used by each login is not logged"
            ))
            .with(ev.expected("VERBOSE"))
        } else {
            Outcome::fail(format!(
                "LogLevel is {level}: debug logging records private details of users"
            ))
            .with(ev.expected("VERBOSE"))
        }
    })
    .unwrap_or_else(|o| o)
}
