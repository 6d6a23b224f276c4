//! `rempart probe URL` against real servers inside a network namespace: Apache configured as
//! seed 002 asks (every check passes) and nginx configured badly (TLS 1.0, weak suites, no
//! headers, banners, Django with DEBUG on and bound to 0.0.0.0, FastAPI docs, metrics, status
//! page, directory listing, .env). The TLS verdicts are compared with testssl.sh's on the points
//! both tools judge: protocol versions, weak cipher categories, key type and size, days to
//! expiry, chain of trust, OCSP stapling.

mod world;

use std::collections::BTreeMap;
use world::web::*;
use world::*;

fn rempart() -> &'static str {
    env!("CARGO_BIN_EXE_rempart")
}

fn require_all() {
    require_root();
    require("ip", "iproute2");
    require("nginx", "nginx");
    require("apache2", "apache2");
    require("openssl", "openssl");
    require("testssl", "testssl.sh");
    assert!(
        std::process::Command::new(PYTHON)
            .args(["-c", "import django, fastapi, uvicorn"])
            .status()
            .is_ok_and(|s| s.success()),
        "this test needs Debian's python3-django, python3-fastapi and python3-uvicorn; run scripts/test-deps"
    );
}

struct Probe {
    report: serde_json::Value,
    code: Option<i32>,
}

impl Probe {
    fn finding(&self, id: &str) -> &serde_json::Value {
        self.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in the report"))
    }

    fn status(&self, id: &str) -> &str {
        self.finding(id)["status"].as_str().unwrap()
    }

    /// The `actual` of the evidence with this key.
    fn actual(&self, id: &str, key: &str) -> Option<String> {
        self.finding(id)["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"].as_str().is_some_and(|k| k.starts_with(key)))
            .map(|e| match &e["actual"] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    }
}

fn probe(ns: &Netns, dir: &std::path::Path, https: u16, http: u16) -> Probe {
    let out = ns
        .cmd(rempart())
        .args([
            "probe",
            &format!("https://{HOST}:{https}/"),
            "--connect",
            "127.0.0.1",
            "--http-url",
            &format!("http://{HOST}:{http}/"),
            "--ca-file",
        ])
        .arg(dir.join("ca.crt"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let schema_text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/schemas/audit-report.schema.json"),
    )
    .expect("../shared/schemas beside the repository");
    let schema = jsonschema::validator_for(&serde_json::from_str(&schema_text).unwrap()).unwrap();
    let errors: Vec<String> = schema.iter_errors(&report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "JSON report invalid: {errors:?}");
    assert_eq!(report["target"]["kind"], "url");
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["family"], "web", "{}", f["id"]);
        for e in f["evidence"].as_array().unwrap() {
            let src = e["source"].as_str().unwrap_or("");
            assert!(
                src == "http" || src == "tls",
                "{}: evidence source {src}",
                f["id"]
            );
            assert!(
                e["url"].as_str().is_some_and(|u| u.starts_with("http")),
                "{}: {e}",
                f["id"]
            );
        }
    }
    Probe {
        report,
        code: out.status.code(),
    }
}

/// Compare the TLS verdicts with testssl.sh's on the points both judge.
fn agree_with_testssl(p: &Probe, ts: &BTreeMap<String, String>) -> Vec<String> {
    let mut diffs = Vec::new();
    let accepted = p
        .actual("WEB-PROBE-TLS-PROTOCOLS", "accepted protocols")
        .unwrap();
    for (tid, ours) in [
        ("SSLv3", "SSLv3"),
        ("TLS1", "TLSv1.0"),
        ("TLS1_1", "TLSv1.1"),
        ("TLS1_2", "TLSv1.2"),
        ("TLS1_3", "TLSv1.3"),
    ] {
        let theirs = ts
            .get(tid)
            .map(|f| f.starts_with("offered"))
            .unwrap_or(false);
        let mine = accepted.split(", ").any(|a| a == ours);
        if theirs != mine {
            diffs.push(format!(
                "{ours}: testssl {:?}, rempart accepted={mine}",
                ts.get(tid)
            ));
        }
    }
    for cat in ["NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA"] {
        let theirs = ts
            .get(&format!("cipherlist_{cat}"))
            .map(|f| f.starts_with("offered"))
            .unwrap_or(false);
        let mine = p
            .actual("WEB-PROBE-TLS-CIPHERS", &format!("{cat} suites"))
            .is_some_and(|a| a.starts_with("offered"));
        if theirs != mine {
            diffs.push(format!(
                "cipher category {cat}: testssl {:?}, rempart offered={mine}",
                ts.get(&format!("cipherlist_{cat}"))
            ));
        }
    }
    let key = p.actual("WEB-PROBE-TLS-KEY", "certificate key").unwrap();
    if ts.get("cert_keySize") != Some(&key) {
        diffs.push(format!(
            "key: testssl {:?}, rempart {key}",
            ts.get("cert_keySize")
        ));
    }
    let days: i64 = p
        .actual("WEB-PROBE-TLS-EXPIRY", "days until")
        .unwrap()
        .parse()
        .unwrap();
    // testssl says `89 >= 60 days` or `expires < 30 days (4)`: the days left come first, or in
    // parentheses.
    let their_days: Option<i64> = ts.get("cert_expirationStatus").and_then(|f| {
        let f = f.rsplit_once('(').map_or(f.as_str(), |(_, inner)| inner);
        f.split(|c: char| !c.is_ascii_digit())
            .find(|w| !w.is_empty())
            .and_then(|w| w.parse().ok())
    });
    if their_days.is_none_or(|d| (d - days).abs() > 1) {
        diffs.push(format!(
            "days to expiry: testssl {:?}, rempart {days}",
            ts.get("cert_expirationStatus")
        ));
    }
    let trusted = ts
        .get("cert_chain_of_trust")
        .is_some_and(|f| f.starts_with("passed"));
    if trusted != (p.status("WEB-PROBE-TLS-CERT") == "pass") {
        diffs.push(format!(
            "chain: testssl {:?}, rempart {}",
            ts.get("cert_chain_of_trust"),
            p.status("WEB-PROBE-TLS-CERT")
        ));
    }
    let stapled = ts
        .get("OCSP_stapling")
        .is_some_and(|f| f.starts_with("offered"));
    if stapled != (p.status("WEB-PROBE-TLS-OCSP") == "pass") {
        diffs.push(format!(
            "OCSP stapling: testssl {:?}, rempart {}",
            ts.get("OCSP_stapling"),
            p.status("WEB-PROBE-TLS-OCSP")
        ));
    }
    diffs
}

#[test]
fn site_set_up_as_the_guides_ask_passes_and_agrees_with_testssl() {
    require_all();
    let ns = Netns::new("rpg");
    let tmp = tempfile::tempdir().unwrap();
    make_certs(tmp.path());
    let _stack = start_good(&ns, tmp.path());

    let p = probe(&ns, tmp.path(), APACHE_HTTPS, APACHE_HTTP);
    let failing: Vec<String> = p.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] != "pass")
        .map(|f| format!("{} {}: {}", f["id"], f["status"], f["message"]))
        .collect();
    assert!(failing.is_empty(), "{failing:#?}");
    assert_eq!(p.code, Some(0));
    assert_eq!(
        p.actual("WEB-PROBE-TLS-PROTOCOLS", "accepted protocols")
            .as_deref(),
        Some("TLSv1.2, TLSv1.3")
    );
    assert_eq!(
        p.actual("WEB-PROBE-TLS-OCSP", "OCSP status").as_deref(),
        Some("good")
    );

    let ts = testssl(&ns, tmp.path(), &format!("https://{HOST}:{APACHE_HTTPS}/"));
    let diffs = agree_with_testssl(&p, &ts);
    assert!(
        diffs.is_empty(),
        "rempart and testssl.sh disagree: {diffs:#?}"
    );
}

#[test]
fn badly_configured_site_fails_and_agrees_with_testssl() {
    require_all();
    let ns = Netns::new("rpb");
    let tmp = tempfile::tempdir().unwrap();
    make_certs(tmp.path());
    let _stack = start_bad(&ns, tmp.path());

    let p = probe(&ns, tmp.path(), NGINX_HTTPS, NGINX_HTTP);
    assert_eq!(p.code, Some(1));
    for id in [
        "WEB-PROBE-HTTPS-REDIRECT",
        "WEB-PROBE-HSTS",
        "WEB-PROBE-CSP",
        "WEB-PROBE-FRAMING",
        "WEB-PROBE-NOSNIFF",
        "WEB-PROBE-REFERRER",
        "WEB-PROBE-PERMISSIONS",
        "WEB-PROBE-COOKIES",
        "WEB-PROBE-BANNER",
        "WEB-PROBE-DEBUG",
        "WEB-PROBE-API-DOCS",
        "WEB-PROBE-ADMIN",
        "WEB-PROBE-METRICS",
        "WEB-PROBE-SERVER-STATUS",
        "WEB-PROBE-DIR-LISTING",
        "WEB-PROBE-SECRET-FILES",
        "WEB-PROBE-TLS-PROTOCOLS",
        "WEB-PROBE-TLS-EXPIRY",
        "WEB-PROBE-TLS-KEY",
        "WEB-PROBE-TLS-OCSP",
        "WEB-PROBE-TLS-CIPHERS",
    ] {
        assert_eq!(p.status(id), "fail", "{id}: {}", p.finding(id));
    }
    // What nothing in this stack does wrong still passes.
    assert_eq!(p.status("WEB-PROBE-TRAEFIK-DASHBOARD"), "pass");
    assert_eq!(
        p.status("WEB-PROBE-TLS-CERT"),
        "pass",
        "{}",
        p.finding("WEB-PROBE-TLS-CERT")
    );
    assert_eq!(
        p.actual("WEB-PROBE-BANNER", "Server").as_deref(),
        Some("nginx/1.22.1")
    );
    assert_eq!(
        p.actual("WEB-PROBE-TLS-PROTOCOLS", "accepted protocols")
            .as_deref(),
        Some("TLSv1.0, TLSv1.1, TLSv1.2")
    );
    assert!(p.finding("WEB-PROBE-DEBUG")["message"]
        .as_str()
        .unwrap()
        .contains("Django"));

    let ts = testssl(&ns, tmp.path(), &format!("https://{HOST}:{NGINX_HTTPS}/"));
    let diffs = agree_with_testssl(&p, &ts);
    assert!(
        diffs.is_empty(),
        "rempart and testssl.sh disagree: {diffs:#?}"
    );

    // The same stack seen from the inside: Django listens on 0.0.0.0.
    let cfg = tmp.path().join("rempart.toml");
    std::fs::write(&cfg, "allowed_ports = [22, 80, 443]\n").unwrap();
    let out = ns
        .cmd(rempart())
        .args([
            "audit",
            "--only",
            "SVC-LISTEN-PUBLIC",
            "--format",
            "json",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &audit["findings"][0];
    assert_eq!(f["status"], "fail", "{f}");
    let ev = f["evidence"].as_array().unwrap();
    assert!(
        ev.iter()
            .any(|e| e["key"] == format!("tcp 0.0.0.0:{DJANGO}")
                && e["actual"].as_str().unwrap().contains("python3")
                && e["note"].as_str().unwrap_or("").contains("django_debug.py")),
        "{f}"
    );
    assert!(
        !ev.iter()
            .any(|e| e["key"].as_str().unwrap().contains("127.0.0.1")),
        "{f}"
    );
}
