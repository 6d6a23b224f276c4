//! INT-BASELINE-MISSING: a file-integrity baseline is recorded.

use super::{HostErrorOr, IntegrityState};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "INT-BASELINE-MISSING",
    name: "integrity-baseline-missing",
    family: Family::Integrity,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "A file-integrity baseline is recorded",
    doc: RuleDoc {
        what: "A baseline written by `rempart integrity init` exists at the configured location \
               (`baseline` in /etc/rempart/integrity.toml, by default \
               /var/lib/rempart/integrity/baseline), or, for hosts that followed the guides, an AIDE \
               database (/var/lib/aide/aide.db). Whether it is authentic and what changed \
               since is INT-CHANGES's business; its age is INT-BASELINE-STALE's.",
        why: "Without a record of what the system's binaries, libraries and configuration looked \
              like, a replaced `sshd`, a new setuid file or an added SSH key leaves no trace \
              anyone can find. The guides install AIDE for this; rempart records the same \
              baseline on every core and authenticates it.",
        remediation: "On a host known to be clean (right after installation or a reviewed \
                      upgrade): `rempart integrity init`, then schedule `rempart integrity \
                      check` daily (cron or a systemd timer) and keep a copy of \
                      /etc/rempart/integrity.key off the host.",
        verify: "rempart integrity check; echo $?   # 0: no change since the baseline",
        references: &[
            "seed 002 Phase 3 §1 Surveillance & détection (AIDE: aideinit, aide --check from cron)",
            "seed 001 §8 Security Auditing (AIDE file integrity monitoring)",
            "seed 000 « Recommandations selon le contexte », Entreprise (monitoring OSSEC/Wazuh)",
            "CIS Debian Linux 12 Benchmark 6.1 (filesystem integrity checking)",
            "docs/integrity.md",
        ],
    },
    check,
};

/// Where Debian's AIDE keeps its database (`aideinit` then `mv aide.db.new aide.db`).
const AIDE_DB: &str = "/var/lib/aide/aide.db";

fn check(ctx: &Ctx) -> Outcome {
    let st = ctx.fact::<IntegrityState>();
    if let Err(e) = &st.config {
        return config_error(e);
    }
    match &st.baseline {
        None if ctx.host.exists(AIDE_DB) => Outcome::pass(format!(
            "an AIDE database is recorded ({AIDE_DB}); it is not authenticated: an intruder who can write it can hide changes (rempart integrity signs its baseline)"
        ))
        .with(Evidence::file(AIDE_DB)),
        None => Outcome::fail("no file-integrity baseline has been recorded").with(
            Evidence::file(&st.baseline_path)
                .actual("absent")
                .expected("a baseline recorded by `rempart integrity init`"),
        ),
        Some(Err(e)) => Outcome::from(e.clone()),
        Some(Ok(b)) => match &b.header {
            Ok(h) => Outcome::pass(format!(
                "baseline of {} entries recorded {} ({})",
                h.entries,
                super::date(h.created.secs),
                st.baseline_path
            )),
            Err(_) => Outcome::pass(format!(
                "a baseline file exists at {} (it does not parse: see INT-CHANGES)",
                st.baseline_path
            )),
        },
    }
}

/// The outcome for an unusable integrity configuration.
pub(crate) fn config_error(e: &HostErrorOr) -> Outcome {
    match e {
        HostErrorOr::Host(h) => Outcome::from(h.clone()),
        HostErrorOr::Invalid { path, message } => {
            Outcome::error(message.clone()).with(Evidence::file(path))
        }
    }
}
