//! The firewall and fail2ban fixes with the software's own checkers on: the nftables.conf the
//! firewall fix writes (whole, or appended to the admin's) passes `nft -c -f`, and the fail2ban
//! drop-in passes `fail2ban-client -d` on Debian's complete fail2ban configuration; a
//! configuration fail2ban refuses is undone.
//!
//! Needs root and the Debian packages nftables and fail2ban (`scripts/test-deps`); a missing one
//! fails the test with its name.

#[path = "../../rempart-audit/tests/support/mod.rs"]
mod support;

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn require(paths: &[&str]) {
    for p in paths {
        assert!(
            Path::new(p).exists(),
            "{p} is missing: run scripts/test-deps (nftables, fail2ban)"
        );
    }
}

fn case(rel: &str) -> support::Materialised {
    let dir = support::fixtures_dir().join(rel);
    let c = support::load_case(&dir);
    support::materialise(&dir, &c)
}

/// `rempart harden apply --unsafe --only RULES` with the checkers on; (exit code, output).
fn apply(root: &Path, only: &str) -> (i32, String) {
    let out = Command::cargo_bin("rempart")
        .unwrap()
        .env_remove("REMPART_HARDEN_NO_CHECK")
        .args(["harden", "apply", "--unsafe", "--only", only, "--root"])
        .arg(root)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn status(root: &Path, rule: &str) -> String {
    let out = Command::cargo_bin("rempart")
        .unwrap()
        .args(["audit", "--format", "json", "--only", rule, "--root"])
        .arg(root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"][0]["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn nft_check(file: &Path) -> (bool, String) {
    let out = std::process::Command::new("nft")
        .args(["-c", "-f"])
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_nftables_conf_the_firewall_fix_writes_passes_nft_c() {
    require(&["/usr/sbin/nft"]);
    // Debian's stock file (replaced whole) and an admin's ruleset with a catch-all accept
    // (rempart's own table appended).
    for (rel, appended) in [
        ("firewall/default-deny/nftables-debian-default.fail", false),
        ("firewall/default-deny/nftables-catch-all-accept.fail", true),
        ("firewall/open-ports/nftables-backend-port.fail", true),
    ] {
        let t = case(rel);
        let root = t.path();
        let before = fs::read_to_string(root.join("etc/nftables.conf")).unwrap();
        let (code, out) = apply(root, "FW-DEFAULT-DENY,FW-OPEN-PORTS");
        assert_eq!(code, 0, "{rel}: {out}");
        assert!(out.contains("nftables: checked"), "{rel}: {out}");
        let after = fs::read_to_string(root.join("etc/nftables.conf")).unwrap();
        assert_eq!(after.starts_with(&before), appended, "{rel}: {after}");
        assert!(after.contains("policy drop;"), "{after}");
        let (ok, msg) = nft_check(&root.join("etc/nftables.conf"));
        assert!(ok, "{rel}: nft -c refuses the fixed file: {msg}\n{after}");
        for rule in ["FW-DEFAULT-DENY", "FW-OPEN-PORTS"] {
            assert_eq!(status(root, rule), "pass", "{rel}: {rule}\n{after}");
        }
    }
}

/// The fixture's tree with the test machine's /etc/fail2ban (Debian's package files, without
/// local overrides) in place of its excerpt.
fn with_real_fail2ban(rel: &str) -> support::Materialised {
    require(&["/etc/fail2ban/jail.conf", "/usr/bin/fail2ban-client"]);
    let t = case(rel);
    let dst = t.path().join("etc/fail2ban");
    fs::remove_dir_all(&dst).unwrap();
    let status = std::process::Command::new("cp")
        .args(["-a", "/etc/fail2ban"])
        .arg(&dst)
        .status()
        .unwrap();
    assert!(status.success());
    for local in ["jail.local", "fail2ban.local", "paths-overrides.local"] {
        let _ = fs::remove_file(dst.join(local));
    }
    for e in fs::read_dir(dst.join("jail.d")).unwrap().flatten() {
        if e.file_name() != "defaults-debian.conf" {
            fs::remove_file(e.path()).unwrap();
        }
    }
    t
}

#[test]
fn the_fail2ban_drop_in_passes_fail2ban_client_and_fixes_the_jail() {
    let t = with_real_fail2ban("intrusion/backend/debian-12-defaults-admin-with-key.fail");
    let root = t.path();
    assert_eq!(status(root, "IPS-BACKEND"), "fail");
    let (code, out) = apply(root, "IPS-BACKEND,IPS-BANACTION");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("fail2ban: checked"), "{out}");
    let dropin = fs::read_to_string(root.join("etc/fail2ban/jail.d/90-rempart.local")).unwrap();
    assert!(dropin.contains("backend = systemd"), "{dropin}");
    assert!(dropin.contains("ignoreip = 127.0.0.1/8 ::1"), "{dropin}");
    for rule in ["IPS-BACKEND", "IPS-BANACTION", "IPS-SSHD-JAIL"] {
        assert_eq!(status(root, rule), "pass", "{rule}");
    }
    // fail2ban itself reads the jail as rempart wrote it.
    let out = std::process::Command::new("fail2ban-client")
        .arg("-c")
        .arg(root.join("etc/fail2ban"))
        .arg("-d")
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{dump}");
    assert!(dump.contains("['add', 'sshd', 'systemd']"), "{dump}");
    assert!(dump.contains("nftables"), "{dump}");
}

#[test]
fn a_fail2ban_change_the_checker_refuses_is_undone() {
    let t = with_real_fail2ban("intrusion/backend/debian-12-defaults-admin-with-key.fail");
    let root = t.path();
    // The admin's own jail names a filter that does not exist: fail2ban refuses the whole
    // configuration once the jail is on, and rempart must not leave its drop-in behind.
    fs::write(
        root.join("etc/fail2ban/jail.d/50-custom.conf"),
        "[sshd]\nfilter = sshd-custom-missing\n",
    )
    .unwrap();
    let (code, out) = apply(root, "IPS-BACKEND");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("fail2ban: the checker refused"), "{out}");
    assert!(
        out.contains("sshd-custom-missing") || out.contains("config-error"),
        "{out}"
    );
    assert!(!root.join("etc/fail2ban/jail.d/90-rempart.local").exists());
}
