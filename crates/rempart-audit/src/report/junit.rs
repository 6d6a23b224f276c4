//! JUnit XML, so CI systems show each rule as a test case: one suite per family, a failure per
//! failing rule, a skipped case per skipped or not-applicable rule, an error per rule in error.

use super::{Finding, Report};
use crate::model::Status;
use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
use std::io;
use std::time::Duration;

pub fn render_junit(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mut j = JReport::new(format!(
        "rempart {} of {}",
        report.target.kind.verb(),
        report.target.root
    ));
    j.set_time(Duration::from_secs_f64(report.duration_ms / 1000.0));
    let mut families: Vec<&str> = Vec::new();
    for f in &report.findings {
        if !families.contains(&f.family.as_str()) {
            families.push(&f.family);
        }
    }
    for family in families {
        let mut suite = TestSuite::new(family);
        for f in report.findings.iter().filter(|f| f.family == family) {
            suite.add_test_case(case(f));
        }
        j.add_test_suite(suite);
    }
    j.serialize(&mut *out).map_err(io::Error::other)?;
    writeln!(out)
}

fn details(f: &Finding) -> String {
    let mut s = format!("{}\n", f.message);
    for e in &f.evidence {
        let place = match (&e.path, e.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.clone(),
            _ => e
                .url
                .clone()
                .or_else(|| e.source.clone())
                .unwrap_or_default(),
        };
        s.push_str(&format!("  at {place}"));
        if let Some(k) = &e.key {
            s.push_str(&format!(" {k}"));
        }
        if let Some(a) = &e.actual {
            s.push_str(&format!(" = {a}"));
        }
        if let Some(x) = &e.expected {
            s.push_str(&format!(" (expected {x})"));
        }
        s.push('\n');
    }
    s.push_str(&format!("fix: {}\nverify: {}\n", f.remediation, f.verify));
    s
}

fn case(f: &Finding) -> TestCase {
    let status = match f.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Fail if f.applicable => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!("{}: {}", f.title, f.message))
                .set_type(f.severity.as_str())
                .set_description(details(f));
            s
        }
        Status::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(f.message.clone()).set_type("error");
            s
        }
        Status::Fail | Status::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(f.message.clone());
            s
        }
    };
    let mut c = TestCase::new(format!("{} {}", f.id, f.title), status);
    c.set_classname(format!("rempart.{}", f.family));
    c
}
