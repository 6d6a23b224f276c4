//! Runs the selected rules on a host (in parallel, each rule isolated so one failure never stops
//! the audit), applies ignores, and computes the score and the level reached.

use crate::config::AuditConfig;
use crate::host::Host;
use crate::model::{Evidence, Family, Level, Severity, Status};
use crate::registry;
use crate::report::{Finding, Report, Score, Target, TargetKind};
use crate::rule::{Ctx, Facts, Outcome, Rule};
use rayon::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// Rule selection by id, name or family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Id(String),
    Family(Family),
}

impl Selector {
    /// Parse a selector: a family name (`ssh`) or a rule id or name (`SSH-ROOT-LOGIN`,
    /// `root-login-allowed`). Unknown selectors are an error listing the valid families.
    pub fn parse(s: &str) -> Result<Selector, String> {
        let s = s.trim();
        if let Some(f) = Family::parse(s) {
            return Ok(Selector::Family(f));
        }
        let upper = s.to_ascii_uppercase();
        if let Some(r) = registry::find(&upper) {
            return Ok(Selector::Id(r.id.to_string()));
        }
        Err(format!(
            "unknown rule or family `{s}` (families: {}; `rempart rules` lists the ids)",
            Family::ALL.map(|f| f.as_str()).join(", ")
        ))
    }

    pub fn matches(&self, rule: &Rule) -> bool {
        match self {
            Selector::Id(id) => rule.id == id,
            Selector::Family(f) => rule.family == *f,
        }
    }
}

/// How to run an audit (the command line, over the configuration file).
#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub profile: Level,
    pub only: Vec<Selector>,
    pub skip: Vec<Selector>,
    pub min_severity: Severity,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            profile: Level::Sme,
            only: Vec::new(),
            skip: Vec::new(),
            min_severity: Severity::Low,
        }
    }
}

/// The id reported for an ignore in the configuration that matched no rule of the run.
pub const UNUSED_IGNORE_ID: &str = "RP-UNUSED-IGNORE";

/// Audit `host` with the rules of the catalogue selected by `opts`.
pub fn run(host: &Host, config: &AuditConfig, opts: &AuditOptions) -> Report {
    run_rules(host, config, opts, registry::RULES)
}

/// Audit with an explicit rule list (tests use it to run one rule).
pub fn run_rules(host: &Host, config: &AuditConfig, opts: &AuditOptions, rules: &[Rule]) -> Report {
    run_rules_with(host, config, opts, rules, &Facts::default())
}

/// [`run_rules`] with facts given beforehand ([`Facts::preset`]): harden judges the host as it
/// will be once the packages it installs are in.
pub fn run_rules_with(
    host: &Host,
    config: &AuditConfig,
    opts: &AuditOptions,
    rules: &[Rule],
    facts: &Facts,
) -> Report {
    let start = Instant::now();
    let ctx = Ctx {
        host,
        config,
        facts,
    };
    let selected: Vec<&Rule> = rules
        .iter()
        .filter(|r| opts.only.is_empty() || opts.only.iter().any(|s| s.matches(r)))
        .filter(|r| !opts.skip.iter().any(|s| s.matches(r)))
        .filter(|r| r.severity >= opts.min_severity || r.severity == Severity::Info)
        .collect();

    // Ignored rules still run: an ignore whose rule passes (or does not apply) is stale and is
    // reported, like an ignore naming no rule at all.
    let outcomes: Vec<Outcome> = selected
        .par_iter()
        .map(|rule| run_one(rule, &ctx))
        .collect();

    let mut used_ignores = vec![false; config.ignore.len()];
    let mut findings = Vec::with_capacity(selected.len());
    for (rule, outcome) in selected.iter().zip(outcomes) {
        let ignored = config
            .ignore
            .iter()
            .enumerate()
            .find(|(_, i)| ignore_matches(&i.id, rule));
        let needed = matches!(outcome.status, Status::Fail | Status::Error);
        let mut f = Finding::new(rule, outcome, opts.profile);
        if let Some((n, ig)) = ignored {
            if needed {
                used_ignores[n] = true;
                f.status = Status::Skip;
                f.message = format!("ignored by configuration: {} ({})", ig.reason, f.message);
                f.ignored = Some(ig.reason.clone());
            }
        }
        findings.push(f);
    }
    for (n, ig) in config.ignore.iter().enumerate() {
        let known = ignore_names_a_rule(&ig.id, rules);
        let selected_here = selected.iter().any(|r| ignore_matches(&ig.id, r));
        if !used_ignores[n] && (selected_here || !known) {
            findings.push(unused_ignore(&ig.id, &ig.reason, known));
        }
    }

    assemble(
        Target {
            root: host.root().display().to_string(),
            hostname: hostname(host),
            live: host.is_live(),
            kind: TargetKind::Host,
        },
        opts,
        findings,
        start.elapsed().as_secs_f64() * 1000.0,
    )
}

/// A report from findings judged elsewhere (`rempart probe` judges a site or a host's ports with
/// the same finding model): scores them like an audit against `opts.profile`.
pub fn assemble(
    target: Target,
    opts: &AuditOptions,
    findings: Vec<Finding>,
    duration_ms: f64,
) -> Report {
    let (score, level, next) = score(&findings, opts.profile);
    Report {
        schema: "rempart.audit/v1",
        tool: crate::report::Tool::current(),
        target,
        profile: opts.profile,
        duration_ms,
        score: Score {
            value: score,
            max: 100,
            level: level.map_or_else(|| "none".to_string(), |l| l.as_str().to_string()),
            next_level: next.as_ref().map(|(l, _)| *l),
            missing_for_next: next.map(|(_, ids)| ids).unwrap_or_default(),
        },
        min_severity: opts.min_severity,
        findings,
    }
}

fn run_one(rule: &Rule, ctx: &Ctx) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| (rule.check)(ctx))) {
        Ok(o) => o,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Outcome::error(format!(
                "internal error in rule {} (please report it): {msg}",
                rule.id
            ))
        }
    }
}

fn ignore_matches(ignore: &str, rule: &Rule) -> bool {
    rule.id.eq_ignore_ascii_case(ignore) || rule.family.as_str().eq_ignore_ascii_case(ignore)
}

fn ignore_names_a_rule(ignore: &str, rules: &[Rule]) -> bool {
    rules.iter().any(|r| ignore_matches(ignore, r))
}

fn unused_ignore(id: &str, reason: &str, known: bool) -> Finding {
    Finding {
        id: UNUSED_IGNORE_ID.to_string(),
        name: "unused-ignore".into(),
        title: "Every ignore in the configuration matches a rule".into(),
        family: "config".into(),
        severity: Severity::Info,
        status: Status::Fail,
        level: Level::Dev,
        required: false,
        applicable: true,
        message: if known {
            format!(
                "the ignore of `{id}` (reason: {reason}) is not needed: what it names does not fail"
            )
        } else {
            format!("the ignore of `{id}` names no rule or family of the catalogue")
        },
        evidence: vec![Evidence::source("config").key("ignore").actual(id)],
        remediation: "Remove the ignore from rempart.toml, or fix its id.".into(),
        verify: "rempart audit --format json | grep RP-UNUSED-IGNORE".into(),
        references: Vec::new(),
        ignored: None,
    }
}

/// The score over required, applicable, judged rules; the highest level whose required rules all
/// pass; and the next level with the rules it is missing.
#[allow(clippy::type_complexity)]
fn score(
    findings: &[Finding],
    profile: Level,
) -> (u32, Option<Level>, Option<(Level, Vec<String>)>) {
    let mut got = 0u32;
    let mut max = 0u32;
    for f in findings {
        if !f.applicable || f.level > profile || f.ignored.is_some() {
            continue;
        }
        match f.status {
            Status::Pass => {
                got += f.severity.weight();
                max += f.severity.weight();
            }
            Status::Fail | Status::Error => max += f.severity.weight(),
            Status::Skip => {}
        }
    }
    let value = if max == 0 {
        100
    } else {
        ((u64::from(got) * 100) / u64::from(max)) as u32
    };
    let blocking = |lvl: Level| -> Vec<String> {
        let mut ids: Vec<String> = findings
            .iter()
            .filter(|f| f.applicable && f.level <= lvl && f.ignored.is_none())
            .filter(|f| f.severity != Severity::Info)
            .filter(|f| matches!(f.status, Status::Fail | Status::Error))
            .map(|f| f.id.clone())
            .collect();
        ids.dedup();
        ids
    };
    let mut reached = None;
    for lvl in Level::ALL {
        if blocking(lvl).is_empty() {
            reached = Some(lvl);
        } else {
            return (value, reached, Some((lvl, blocking(lvl))));
        }
    }
    (value, reached, None)
}

fn hostname(host: &Host) -> Option<String> {
    let f = host.read_text("/etc/hostname").ok().flatten()?;
    let name = f.text.lines().next()?.trim();
    (!name.is_empty()).then(|| name.to_string())
}
