//! The command line as a user meets it: exit statuses, formats valid against their schemas, the
//! configuration file, and a closed pipe. Every test audits a fixture tree, never this machine.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rempart-audit/tests/fixtures")
        .join(case)
        .join("root")
}

fn failing() -> PathBuf {
    fixture("updates/auto-upgrades/disabled-by-later-file.fail")
}

fn passing() -> PathBuf {
    fixture("updates/auto-upgrades/enabled.pass")
}

fn rempart() -> Command {
    Command::cargo_bin("rempart").unwrap()
}

fn json_of(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

#[test]
fn failing_tree_exits_1_and_shows_the_offending_line() {
    let out = rempart()
        .args(["audit", "--only", "updates", "--color", "never", "--root"])
        .arg(failing())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("/etc/apt/apt.conf.d/99-local:3"), "{text}");
    assert!(text.contains("Unattended-Upgrade \"0\";"), "{text}");
    assert!(text.contains("UPD-AUTO-UPGRADES"), "{text}");
    assert!(text.contains("Summary:"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when not asked: {text}");
    // Evidence paths are host paths, never prefixed by the root (only the header names the tree).
    let root = failing().canonicalize().unwrap().display().to_string();
    assert!(text.lines().next().unwrap().contains(&root), "{text}");
    assert!(!text.lines().skip(1).any(|l| l.contains(&root)), "{text}");
}

#[test]
fn passing_tree_exits_0() {
    rempart()
        .args(["audit", "--only", "UPD-AUTO-UPGRADES", "--root"])
        .arg(passing())
        .assert()
        .code(0);
}

#[test]
fn min_severity_above_the_failure_exits_0() {
    rempart()
        .args([
            "audit",
            "--only",
            "updates",
            "--min-severity",
            "critical",
            "--root",
        ])
        .arg(failing())
        .assert()
        .code(0);
}

#[test]
fn operational_errors_exit_2_with_a_message() {
    let out = rempart()
        .args(["audit", "--root", "/nonexistent/tree"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/nonexistent/tree"), "{err}");

    let out = rempart()
        .args(["audit", "--only", "no-such-family", "--root"])
        .arg(passing())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown rule or family"));

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    fs::write(&cfg, "profile = \"paranoid\"\n").unwrap();
    let out = rempart()
        .args(["audit", "--config"])
        .arg(&cfg)
        .arg("--root")
        .arg(passing())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}

#[test]
fn json_report_validates_against_the_shared_schema() {
    let text = fs::read_to_string(shared().join("schemas/audit-report.schema.json"))
        .expect("../shared/schemas is beside the repository");
    let schema = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    for root in [failing(), passing()] {
        let out = rempart()
            .args(["audit", "--format", "json", "--root"])
            .arg(&root)
            .output()
            .unwrap();
        let report = json_of(&out.stdout);
        let errors: Vec<String> = schema.iter_errors(&report).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(report["target"]["live"], false);
        assert_eq!(report["profile"], "sme");
    }
}

fn sarif_schema() -> jsonschema::Validator {
    let path = std::env::var_os("REMPART_SARIF_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/test-deps/sarif-2.1.0-rtm.5.json")
        });
    let text = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the SARIF 2.1.0 schema is missing at {} ({e}): run scripts/test-deps",
            path.display()
        )
    });
    // The published schema has one `pattern` with a stray `]` that ECMAScript tolerates and Rust
    // regex engines reject; it only constrains `run.language`, which we do not emit.
    let text = text.replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
    );
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let schema = sarif_schema();
    let out = rempart()
        .args(["audit", "--format", "sarif", "--root"])
        .arg(failing())
        .output()
        .unwrap();
    let sarif = json_of(&out.stdout);
    let errors: Vec<String> = schema.iter_errors(&sarif).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "UPD-AUTO-UPGRADES")
        .expect("the failing rule is a result");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "etc/apt/apt.conf.d/99-local"
    );
    assert_eq!(loc["region"]["startLine"], 3);
    // The schema itself must reject a broken log: the check above can fail.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = "bogus".into();
    assert!(!schema.is_valid(&broken));
}

#[test]
fn junit_output_has_one_case_per_rule_and_a_failure() {
    let out = rempart()
        .args(["audit", "--format", "junit", "--only", "updates", "--root"])
        .arg(failing())
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2, "{xml}");
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]
        .attribute("name")
        .unwrap()
        .starts_with("UPD-AUTO-UPGRADES"));
}

#[test]
fn markdown_output_lists_the_failure() {
    let out = rempart()
        .args(["audit", "--format", "markdown", "--root"])
        .arg(failing())
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("| fail | high | `UPD-AUTO-UPGRADES`"), "{md}");
    assert!(md.contains("`/etc/apt/apt.conf.d/99-local:3`"), "{md}");
}

#[test]
fn ignores_need_a_reason_and_unused_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rempart.toml");
    fs::write(
        &cfg,
        "[[ignore]]\nid = \"UPD-AUTO-UPGRADES\"\nreason = \"updates go through our image pipeline\"\n\n[[ignore]]\nid = \"NOPE-RULE\"\nreason = \"typo\"\n",
    )
    .unwrap();
    let out = rempart()
        .args(["audit", "--only", "updates", "--format", "json", "--config"])
        .arg(&cfg)
        .arg("--root")
        .arg(failing())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "the only failure is ignored");
    let report = json_of(&out.stdout);
    let findings = report["findings"].as_array().unwrap();
    let ignored = findings
        .iter()
        .find(|f| f["id"] == "UPD-AUTO-UPGRADES")
        .unwrap();
    assert_eq!(ignored["status"], "skip");
    assert_eq!(ignored["ignored"], "updates go through our image pipeline");
    let unused: Vec<_> = findings
        .iter()
        .filter(|f| f["id"] == "RP-UNUSED-IGNORE")
        .collect();
    assert_eq!(unused.len(), 1);
    assert!(unused[0]["message"].as_str().unwrap().contains("NOPE-RULE"));

    // The same ignore on a tree where the rule passes is stale, and said so.
    let out = rempart()
        .args(["audit", "--only", "updates", "--format", "json", "--config"])
        .arg(&cfg)
        .arg("--root")
        .arg(passing())
        .output()
        .unwrap();
    let report = json_of(&out.stdout);
    let stale = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "RP-UNUSED-IGNORE")
        .count();
    assert_eq!(stale, 2);
}

#[test]
fn the_host_config_file_is_read_from_the_audited_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for e in fs::read_dir(failing()).unwrap() {
        let e = e.unwrap();
        let _ = std::process::Command::new("cp")
            .arg("-a")
            .arg(e.path())
            .arg(root)
            .status();
    }
    fs::create_dir_all(root.join("etc/rempart")).unwrap();
    fs::write(root.join("etc/rempart/rempart.toml"), "profile = \"dev\"\n").unwrap();
    let out = rempart()
        .args(["audit", "--only", "updates", "--format", "json", "--root"])
        .arg(root)
        .output()
        .unwrap();
    let report = json_of(&out.stdout);
    assert_eq!(report["profile"], "dev");
    // UPD-AUTO-UPGRADES is required from sme: with profile dev it does not fail the run.
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rempart"))
        .args(["audit", "-v", "--format", "json", "--root"])
        .arg(failing())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn rules_and_explain_document_the_catalogue() {
    let out = rempart().args(["rules"]).output().unwrap();
    assert!(out.status.success());
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(list.contains("UPD-AUTO-UPGRADES"));

    let out = rempart()
        .args(["explain", "upd-auto-upgrades"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc = String::from_utf8(out.stdout).unwrap();
    for section in [
        "What it checks",
        "Why it matters",
        "Remediation",
        "Verify by hand",
    ] {
        assert!(doc.contains(section), "{doc}");
    }
    rempart().args(["explain", "NOPE-NOPE"]).assert().code(2);
}

#[test]
fn facts_services_shows_what_discovery_found() {
    let root = fixture("services/bind-all/gunicorn-config-file.fail");
    let out = rempart()
        .args(["facts", "services", "--json", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_of(&out.stdout);
    let unit = &v["units"][0];
    assert_eq!(unit["name"], "avmonitoring-backend.service");
    assert_eq!(unit["user"], "avmvp");
    assert_eq!(unit["server"]["kind"], "gunicorn");
    assert_eq!(unit["server"]["binds"][0]["address"], "0.0.0.0:8000");
    assert_eq!(
        unit["server"]["binds"][0]["path"],
        "/opt/av-monitoring-mvp/backend/gunicorn.conf.py"
    );
    assert_eq!(v["apps"][0]["dir"], "/opt/av-monitoring-mvp/backend");
    assert_eq!(v["apps"][0]["kind"], "fastapi");
    assert_eq!(
        v["apps"][0]["env_files"][0],
        "/opt/av-monitoring-mvp/backend/.env"
    );
}
