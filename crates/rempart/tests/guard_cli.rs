//! `rempart guard test`, `replay`, `filters` as a user runs them: real log lines in, the
//! documented output out.

use assert_cmd::Command;
use serde_json::Value;

fn rempart() -> Command {
    Command::cargo_bin("rempart").unwrap()
}

const AUTH_LOG: &str = "\
2025-06-14T09:00:00Z web1 sshd[1]: Invalid user admin from 203.0.113.5 port 40000
2025-06-14T09:00:01Z web1 sshd[1]: Failed password for invalid user admin from 203.0.113.5 port 40000 ssh2
2025-06-14T09:00:02Z web1 sshd[2]: Accepted publickey for deploy from 192.0.2.10 port 40001 ssh2: ED25519 SHA256:x
2025-06-14T09:00:03Z web1 sshd[3]: Failed password for root from 2001:db8::5 port 40002 ssh2
2025-06-14T09:00:04Z web1 sshd[1]: Failed password for invalid user admin from 203.0.113.5 port 40000 ssh2
2025-06-14T09:00:05Z web1 CRON[9]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)
";

#[test]
fn test_prints_each_match_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, AUTH_LOG).unwrap();
    let out = rempart()
        .args([
            "guard",
            "test",
            "sshd",
            log.to_str().unwrap(),
            "--show",
            "all",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("       1  match  203.0.113.5"), "{text}");
    assert!(text.contains("2025-06-14T09:00:03Z"), "{text}");
    assert!(
        text.contains("       3  -      2025-06-14T09:00:02Z web1 sshd[2]: Accepted"),
        "{text}"
    );
    assert!(
        text.contains("Lines: 6, matched: 4, missed: 2, distinct hosts: 2"),
        "{text}"
    );
}

#[test]
fn test_json_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, AUTH_LOG).unwrap();
    let out = rempart()
        .args([
            "guard",
            "test",
            "sshd",
            log.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["matched"], 4);
    assert_eq!(v["lines"][2]["host"], "2001:db8::5");
    for f in [
        "sshd",
        "apache-auth",
        "traefik-auth",
        "postgres-auth",
        "web-attacks",
    ] {
        rempart()
            .args(["guard", "test", f, "--samples"])
            .assert()
            .success()
            .stdout(predicates::str::contains(" 0 failed"));
    }
    rempart()
        .args(["guard", "test", "nope", log.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown filter `nope`"));
}

#[test]
fn replay_json_lists_the_bans_it_would_cause() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, AUTH_LOG).unwrap();
    let out = rempart()
        .args([
            "guard",
            "replay",
            "--jail",
            "sshd",
            "--maxretry",
            "3",
            "--findtime",
            "10m",
            "--bantime",
            "1h",
            log.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lines"], 6);
    assert_eq!(v["matches"], 4);
    assert_eq!(
        v["bans"],
        serde_json::json!([{"jail": "sshd", "ip": "203.0.113.5", "at": "2025-06-14T09:00:04Z",
            "until": "2025-06-14T10:00:04Z", "count": 1}])
    );
}

#[test]
fn replay_with_a_config_and_a_fail2ban_filter_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(
        &log,
        "2025-06-14 09:00:00 app: login failed from 198.51.100.7\n\
         2025-06-14 09:00:01 app: login failed from 198.51.100.7\n",
    )
    .unwrap();
    let filter = dir.path().join("app.conf");
    std::fs::write(
        &filter,
        "[Definition]\nfailregex = ^\\s*app: login failed from <HOST>$\n",
    )
    .unwrap();
    let cfg = dir.path().join("guard.toml");
    std::fs::write(
        &cfg,
        format!(
            "[jail.app]\nfilter = \"{}\"\nlogpath = [\"{}\"]\nmaxretry = 2\n",
            filter.display(),
            log.display()
        ),
    )
    .unwrap();
    let out = rempart()
        .args([
            "guard",
            "replay",
            "--config",
            cfg.to_str().unwrap(),
            log.to_str().unwrap(),
            "--tz",
            "UTC",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("app 198.51.100.7 at 2025-06-14T09:00:01Z"),
        "{text}"
    );
    std::fs::write(
        &filter,
        "[Definition]\nfailregex = ^(?P<x>a)?(?(x)b|c) <HOST>$\n",
    )
    .unwrap();
    rempart()
        .args([
            "guard",
            "replay",
            "--config",
            cfg.to_str().unwrap(),
            log.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("app.conf:2: conditional groups"));
}
