//! `rempart audit` on firewall and intrusion fixture trees, through the binary: exit codes and
//! the JSON a user gets for the seed guide's cases.

use assert_cmd::Command;
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../rempart-audit/tests/fixtures")
        .join(rel)
        .join("root")
}

fn audit_json(root: PathBuf, only: &str) -> (i32, serde_json::Value) {
    let out = Command::cargo_bin("rempart")
        .unwrap()
        .args(["audit", "--format", "json", "--only", only, "--root"])
        .arg(root)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn finding<'a>(json: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

#[test]
fn postgres_opened_with_ufw_fails_at_the_tuple_line() {
    let (code, json) = audit_json(
        fixture("firewall/open-ports/ufw-postgres-open.fail"),
        "firewall",
    );
    assert_eq!(code, 1, "a high failure makes the exit status 1");
    let f = finding(&json, "FW-OPEN-PORTS");
    assert_eq!(f["status"], "fail");
    let ev = &f["evidence"][0];
    assert_eq!(ev["path"], "/etc/ufw/user.rules");
    assert_eq!(ev["line"], 29);
    assert_eq!(ev["key"], "tcp/5432");
    assert_eq!(finding(&json, "FW-DEFAULT-DENY")["status"], "pass");
    assert_eq!(finding(&json, "FW-LIVE-RULESET")["status"], "skip");
}

#[test]
fn seed_firewall_passes_and_debian_12_fail2ban_defaults_fail() {
    let (code, json) = audit_json(
        fixture("firewall/open-ports/ufw-seed-ports.pass"),
        "FW-ACTIVE,FW-DEFAULT-DENY,FW-OPEN-PORTS",
    );
    assert_eq!(code, 0, "{json}");
    for id in ["FW-ACTIVE", "FW-DEFAULT-DENY", "FW-OPEN-PORTS"] {
        assert_eq!(finding(&json, id)["status"], "pass", "{id}");
    }
    let (code, json) = audit_json(
        fixture("intrusion/backend/debian-12-defaults.fail"),
        "intrusion",
    );
    assert_eq!(code, 1);
    assert_eq!(finding(&json, "IPS-BACKEND")["status"], "fail");
    assert_eq!(finding(&json, "IPS-SSHD-JAIL")["status"], "pass");
}
