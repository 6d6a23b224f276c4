//! INT-CHANGES: the last integrity check found no change and an authentic baseline.

use super::baseline_missing::config_error;
use super::{date, days_between, HostErrorOr, IntegrityState};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use rempart_integrity::hostpath;

pub const RULE: Rule = Rule {
    id: "INT-CHANGES",
    name: "integrity-changes-detected",
    family: Family::Integrity,
    severity: Severity::High,
    level: Level::Sme,
    title: "No file changed since the integrity baseline, and the baseline is authentic",
    doc: RuleDoc {
        what: "Reads the baseline and the record of the last `rempart integrity check` beside it \
               (`<baseline>.check.json`), without re-hashing anything. Fails when the baseline's \
               HMAC does not verify with /etc/rempart/integrity.key, when the record's own MAC \
               does not verify, when the last check found the baseline tampered or another \
               host's, or when it found added, removed or changed files. Skips when no check \
               has run against the current baseline, or when the last one is older than \
               `max_check_age_days` (default 7). Not applicable without a baseline.",
        why: "A replaced binary, a new setuid file, a new SSH key or cron job are the traces an \
              intruder leaves. An integrity check nobody reads protects nothing: the audit \
              surfaces its result. A baseline or record that fails authentication means someone \
              tried to hide changes.",
        remediation: "Review the changes (`rempart integrity check`). Expected ones (an upgrade, \
                      an edited configuration): `rempart integrity update`. Unexpected ones, or \
                      a tampered baseline: treat the host as compromised (isolate it, keep the \
                      evidence, reinstall from trusted media).",
        verify: "rempart integrity check; echo $?   # 0 = no change, 1 = changes or tampering",
        references: &[
            "seed 002 Phase 3 §1 (« vérifier les alertes » of aide --check)",
            "seed 000 « En cas d'incident de sécurité »",
            "CIS Debian Linux 12 Benchmark 6.1.2 (filesystem integrity is regularly checked)",
            "docs/integrity.md (threat model)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    judge(ctx, super::now())
}

pub(super) fn judge(ctx: &Ctx, now: i64) -> Outcome {
    let st = ctx.fact::<IntegrityState>();
    let cfg = match &st.config {
        Ok(c) => c,
        Err(e) => return config_error(e),
    };
    let b = match &st.baseline {
        None => return Outcome::not_applicable("no baseline (see INT-BASELINE-MISSING)"),
        Some(Err(e)) => return Outcome::from(e.clone()),
        Some(Ok(b)) => b,
    };
    let base_ev = || Evidence::file(&st.baseline_path);
    match &st.key {
        Some(Err(e)) => {
            return Outcome::error(format!("cannot use the HMAC key: {e}"))
                .with(Evidence::file(&st.key_path))
        }
        Some(Ok(_)) => {
            if let Some(Err(reason)) = &b.hmac {
                return Outcome::fail(format!("the integrity baseline is tampered: {reason}"))
                    .with(
                        base_ev()
                            .key("authentication")
                            .actual("does not verify")
                            .expected(format!("HMAC by the key in {}", st.key_path)),
                    );
            }
        }
        None => {}
    }
    let (rec, mac) =
        match &st.record {
            None => return Outcome::skip(
                "no `rempart integrity check` has run since the baseline was recorded: schedule \
                 it (cron or a systemd timer)",
            ),
            Some(Err(HostErrorOr::Host(e))) => return Outcome::from(e.clone()),
            Some(Err(HostErrorOr::Invalid { path, message })) => {
                return Outcome::fail(format!(
                    "the last check's record is not readable: {message}"
                ))
                .with(Evidence::file(path).key("record").actual("malformed"))
            }
            Some(Ok(r)) => r,
        };
    let rec_ev = || Evidence::file(&st.record_path);
    if let Some(Ok(key)) = &st.key {
        let ok = mac.as_ref().is_some_and(|m| rec.verify(m, key));
        if !ok {
            return Outcome::fail(
                "the last check's record does not verify with the HMAC key: it was rewritten",
            )
            .with(
                rec_ev()
                    .key("mac")
                    .actual(if mac.is_some() { "mismatch" } else { "missing" })
                    .expected("HMAC by the integrity key"),
            );
        }
    }
    if rec.baseline_digest != hostpath::to_hex(&b.digest) {
        return Outcome::skip(
            "the baseline changed since the last check (a new baseline, or a replaced one): run \
             `rempart integrity check`",
        );
    }
    if rec.state != "authentic" {
        let why = rec.reason.clone().unwrap_or_default();
        return Outcome::fail(format!(
            "the last check ({}) found the baseline {}: {why}",
            date(rec.checked_at),
            rec.state
        ))
        .with(
            base_ev()
                .key("state")
                .actual(rec.state.as_str())
                .expected("authentic"),
        );
    }
    let total = rec.added + rec.removed + rec.changed;
    if total > 0 {
        let evidence = rec.sample.iter().take(25).map(|c| {
            let path = match &c.path_hex {
                Some(h) => hostpath::from_hex(h)
                    .map(|b| hostpath::display(&b))
                    .unwrap_or_else(|| c.path.clone()),
                None => c.path.clone(),
            };
            let path = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            let mut e = Evidence::file(path).key(c.change.as_str());
            if !c.attrs.is_empty() {
                e = e.actual(c.attrs.join(", "));
            }
            e
        });
        return Outcome::fail(format!(
            "the last check ({}) found {total} change{} since the baseline: {} added, {} \
             removed, {} changed",
            date(rec.checked_at),
            if total == 1 { "" } else { "s" },
            rec.added,
            rec.removed,
            rec.changed
        ))
        .with_all(evidence);
    }
    let max = i64::from(cfg.max_check_age_days());
    let age = days_between(rec.checked_at, now);
    if age > max {
        return Outcome::skip(format!(
            "the last check ran {} ({age} days ago, more than {max}): schedule `rempart \
             integrity check`",
            date(rec.checked_at)
        ));
    }
    Outcome::pass(format!(
        "no change since the baseline at the last check ({})",
        date(rec.checked_at)
    ))
}
