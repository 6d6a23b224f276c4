//! `rempart probe` as a user meets it: the probe catalogue in `rules` and `explain`, operational
//! errors (exit 2), and a probe report in every format (JSON valid against the audit schema,
//! SARIF against SARIF 2.1.0 with the URL as location, JUnit, Markdown, text). The site probed is
//! Python's http.server inside a network namespace: plain HTTP only, a directory listing.

mod world;

use std::fs;
use std::path::{Path, PathBuf};
use world::*;

fn rempart() -> &'static str {
    env!("CARGO_BIN_EXE_rempart")
}

#[test]
fn rules_and_explain_know_the_probe_checks() {
    let out = std::process::Command::new(rempart())
        .args(["rules", "--probe", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"FW-PROBE-PORTS") && ids.contains(&"WEB-PROBE-TLS-PROTOCOLS"),
        "{ids:?}"
    );
    assert!(!ids
        .iter()
        .any(|i| i.starts_with("SSH-") || i.starts_with("SVC-")));
    let audit = std::process::Command::new(rempart())
        .args(["rules"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&audit.stdout).contains("WEB-PROBE-"));
    let out = std::process::Command::new(rempart())
        .args(["explain", "web-probe-hsts"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# WEB-PROBE-HSTS"), "{text}");
    assert!(text.contains("Strict-Transport-Security"));
}

#[test]
fn bad_targets_exit_2_with_a_message() {
    for (args, want) in [
        (vec!["probe", "ftp://example.org/"], "unsupported scheme"),
        (vec!["probe", "https://user:pw@example.org/"], "credentials"),
        (vec!["probe", "--ports", "192.0.2.0/24"], "network"),
        (
            vec!["probe", "--ports", "localhost", "--range", "0-10"],
            "port 0",
        ),
    ] {
        let out = std::process::Command::new(rempart())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // Neither a URL nor --ports: clap's usage error, also 2.
    let out = std::process::Command::new(rempart())
        .args(["probe"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_site_nobody_serves_is_an_operational_error() {
    require_root();
    let ns = Netns::new("rpe");
    let out = ns
        .cmd(rempart())
        .args(["probe", "https://127.0.0.1:9/", "--timeout", "2s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot fetch https://127.0.0.1:9/") && err.contains("refused"),
        "{err}"
    );
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
    let text = text.replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
    );
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn a_plain_http_site_in_every_format() {
    require_root();
    let ns = Netns::new("rpf");
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("exports")).unwrap();
    fs::write(dir.path().join("exports/clients.csv"), "name,email\n").unwrap();
    let log = dir.path().join("http.log");
    let _server = ns.spawn(
        &log,
        PYTHON,
        &[
            "-m",
            "http.server",
            "8000",
            "--bind",
            "127.0.0.1",
            "--directory",
            dir.path().to_str().unwrap(),
        ],
    );
    ns.wait_ports(&[8000], &[&log]);
    let run = |format: &str| {
        let out = ns
            .cmd(rempart())
            .args([
                "probe",
                "http://127.0.0.1:8000/",
                "--timeout",
                "3s",
                "--color",
                "never",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };

    let json: serde_json::Value = serde_json::from_slice(&run("json").stdout).unwrap();
    let schema_text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/schemas/audit-report.schema.json"),
    )
    .unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&schema_text).unwrap()).unwrap();
    let errors: Vec<String> = schema.iter_errors(&json).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let status = |id: &str| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .map(|f| f["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("WEB-PROBE-DIR-LISTING"), "fail");
    assert_eq!(
        status("WEB-PROBE-BANNER"),
        "fail",
        "SimpleHTTP/0.6 Python/3.11"
    );
    assert_eq!(status("WEB-PROBE-HTTPS-REDIRECT"), "fail");
    assert_eq!(status("WEB-PROBE-TLS-PROTOCOLS"), "fail", "no HTTPS at all");
    assert_eq!(status("WEB-PROBE-HSTS"), "fail");

    let sarif: serde_json::Value = serde_json::from_slice(&run("sarif").stdout).unwrap();
    let errors: Vec<String> = sarif_schema()
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let listing = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "WEB-PROBE-DIR-LISTING")
        .unwrap();
    assert_eq!(
        listing["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "http://127.0.0.1:8000/"
    );

    let junit = String::from_utf8(run("junit").stdout).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    assert!(doc
        .root_element()
        .attribute("name")
        .unwrap()
        .starts_with("rempart probe of"));
    assert!(doc.descendants().any(|n| n.has_tag_name("testcase")
        && n.attribute("name")
            .is_some_and(|a| a.contains("WEB-PROBE-DIR-LISTING"))));

    let md = String::from_utf8(run("markdown").stdout).unwrap();
    assert!(
        md.starts_with("# rempart probe of `http://127.0.0.1:8000/`"),
        "{md}"
    );
    assert!(md.contains("<http://127.0.0.1:8000/>"), "{md}");

    let text = String::from_utf8(run("text").stdout).unwrap();
    assert!(
        text.starts_with("rempart probe of http://127.0.0.1:8000/ [from this machine]"),
        "{text}"
    );
    assert!(
        text.contains("WEB-PROBE-DIR-LISTING") && text.contains("a Python directory listing"),
        "{text}"
    );
}
