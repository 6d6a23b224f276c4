//! INT-BASELINE-STALE: the baseline was recorded recently enough to be reviewed against.

use super::baseline_missing::config_error;
use super::{date, days_between, IntegrityState};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "INT-BASELINE-STALE",
    name: "integrity-baseline-stale",
    family: Family::Integrity,
    severity: Severity::Low,
    level: Level::Sme,
    title: "The file-integrity baseline is recent",
    doc: RuleDoc {
        what: "The baseline's authenticated creation time is at most `max_baseline_age_days` \
               (default 30, in /etc/rempart/integrity.toml) in the past, and not in the future \
               (more than a day ahead means the clock or the baseline is wrong). Not applicable \
               without a baseline.",
        why: "Every package upgrade changes hundreds of watched files. A baseline never updated \
              after upgrades makes each check report the same pile of expected changes, in \
              which a real intrusion hides; people stop reading the reports.",
        remediation: "After each reviewed upgrade: `rempart integrity check` (read the changes), \
                      then `rempart integrity update` to accept them. unattended-upgrades can \
                      run both from a post-invoke hook if the review is done from the report.",
        verify: "rempart integrity check --format json | jq .baseline.created",
        references: &[
            "seed 002 Phase 3 §1 (« exécuter aide --check régulièrement via cron »)",
            "man aide(1) --update",
            "docs/integrity.md",
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
    let h = match &b.header {
        Ok(h) => h,
        Err(e) => {
            return Outcome::skip(format!(
                "the baseline does not parse ({e}); see INT-CHANGES"
            ))
        }
    };
    let max = i64::from(cfg.max_baseline_age_days());
    let created = h.created.secs;
    let ev = || {
        Evidence::file(&st.baseline_path)
            .key("created")
            .actual(date(created))
    };
    if created > now + 86_400 {
        return Outcome::fail(format!(
            "the baseline says it was recorded in the future ({}): the clock or the baseline is \
             wrong",
            date(created)
        ))
        .with(ev().expected(format!("not after {}", date(now))));
    }
    let age = days_between(created, now);
    if age > max {
        Outcome::fail(format!(
            "the baseline is {age} days old (more than {max}); changes accepted since cannot be \
             told from intrusions"
        ))
        .with(ev().expected(format!("within {max} days")))
    } else {
        Outcome::pass(format!(
            "baseline recorded {} ({age} days ago, limit {max})",
            date(created)
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn day_arithmetic() {
        assert_eq!(super::days_between(0, 86_399), 0);
        assert_eq!(super::days_between(0, 86_400 * 31), 31);
        assert_eq!(super::days_between(10, 0), -1);
    }
}
