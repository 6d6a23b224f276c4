//! The data-driven fixture test: every `tests/fixtures/<family>/<rule>/<case>/` holds a root tree
//! (`root/`) and a `case.toml` saying which rule is judged and what it must conclude. The whole
//! catalogue is also run on every tree and its JSON report validated against the shared schema.

mod support;

use rempart_audit::engine::{run_rules, AuditOptions, Selector};
use rempart_audit::registry::RULES;
use rempart_audit::{AuditConfig, Host, Level, Status};
use support::*;

fn status_name(status: Status, applicable: bool) -> &'static str {
    if !applicable {
        return "n/a";
    }
    status.as_str()
}

#[test]
fn every_fixture_case_gets_its_expected_verdict() {
    let cases = all_cases();
    assert!(!cases.is_empty(), "no fixture cases found");
    let schema = report_schema();
    let mut failures = Vec::new();
    for dir in &cases {
        let case = load_case(dir);
        let name = dir
            .strip_prefix(fixtures_dir())
            .unwrap()
            .display()
            .to_string();
        let Some(rule) = RULES.iter().find(|r| r.id == case.rule) else {
            failures.push(format!("{name}: unknown rule {}", case.rule));
            continue;
        };
        let tmp = materialise(dir, &case);
        let host = if case.live {
            Host::tree_with_live_facts(tmp.path()).unwrap()
        } else {
            Host::tree(tmp.path()).unwrap()
        };
        let config = match &case.config {
            Some(t) => AuditConfig::parse("case.toml config", t).unwrap(),
            None => AuditConfig::default(),
        };
        let profile = case
            .profile
            .as_deref()
            .map(|p| Level::parse(p).unwrap())
            .unwrap_or(Level::Sme);
        let opts = AuditOptions {
            profile,
            only: vec![Selector::Id(rule.id.to_string())],
            ..AuditOptions::default()
        };
        let report = run_rules(&host, &config, &opts, RULES);
        let Some(f) = report.findings.iter().find(|f| f.id == rule.id) else {
            failures.push(format!("{name}: rule did not run"));
            continue;
        };
        let got = status_name(f.status, f.applicable);
        if got != case.expect {
            failures.push(format!(
                "{name}: expected {}, got {got}: {} {:?}",
                case.expect, f.message, f.evidence
            ));
            continue;
        }
        if let Some(want) = &case.message_contains {
            if !f.message.contains(want.as_str()) {
                failures.push(format!("{name}: message {:?} lacks {want:?}", f.message));
            }
        }
        if let Some(want) = &case.evidence {
            let hit = f.evidence.iter().any(|e| {
                want.path
                    .as_ref()
                    .is_none_or(|p| e.path.as_ref() == Some(p))
                    && want.line.is_none_or(|l| e.line == Some(l))
                    && want.key.as_ref().is_none_or(|k| e.key.as_ref() == Some(k))
                    && want.actual.as_ref().is_none_or(|a| {
                        e.actual.as_ref().map(|v| v.to_string())
                            == Some(match a {
                                toml::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                    })
            });
            if !hit {
                failures.push(format!(
                    "{name}: no evidence matches {want:?}; got {:?}",
                    f.evidence
                ));
            }
        }
        if matches!(f.status, Status::Fail) && f.evidence.is_empty() {
            failures.push(format!("{name}: a failure must name at least one place"));
        }
        for e in &f.evidence {
            if let Some(p) = &e.path {
                if p.contains(&tmp.path().display().to_string()) || !p.starts_with('/') {
                    failures.push(format!("{name}: evidence path {p} is not a host path"));
                }
            }
        }
        // The whole catalogue on the same tree: the JSON must validate, nothing may panic.
        let full = run_rules(
            &host,
            &config,
            &AuditOptions {
                profile,
                ..AuditOptions::default()
            },
            RULES,
        );
        let json = serde_json::to_value(&full).unwrap();
        let errors: Vec<String> = schema
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        if !errors.is_empty() {
            failures.push(format!(
                "{name}: JSON report invalid: {}",
                errors.join("; ")
            ));
        }
        for f in &full.findings {
            if f.message.contains("internal error") {
                failures.push(format!("{name}: {} panicked: {}", f.id, f.message));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixture cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_a_failing_and_a_passing_fixture() {
    let cases: Vec<_> = all_cases().iter().map(|d| load_case(d)).collect();
    let mut missing = Vec::new();
    for r in RULES {
        for want in ["pass", "fail"] {
            if !cases.iter().any(|c| c.rule == r.id && c.expect == want) {
                missing.push(format!("{} has no `{want}` fixture", r.id));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
