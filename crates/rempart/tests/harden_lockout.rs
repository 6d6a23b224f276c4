//! `rempart harden apply` never locks the admin out: unsafe fixes are refused without
//! `--unsafe`, and refused even with it unless the plan shows a sudo admin can still log in with
//! a key (from the admin's address, when known); the AllowUsers fix never leaves out the only
//! admin who has a key.

#[path = "../../rempart-audit/tests/support/mod.rs"]
mod support;

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn rempart() -> Command {
    let mut c = Command::cargo_bin("rempart").unwrap();
    // The checkers have their own test (harden_checkers.rs); these are about refusals.
    c.env("REMPART_HARDEN_NO_CHECK", "1");
    c.env_remove("SSH_CONNECTION");
    c
}

/// A fixture tree of the ssh family.
fn fixture(case: &str) -> support::Materialised {
    let dir = support::fixtures_dir().join("ssh").join(case);
    support::materialise(&dir, &support::load_case(&dir))
}

/// Every file of a tree with its bytes (the run journal left aside).
fn files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.starts_with(root.join("var/lib/rempart")) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn status(root: &Path, rule: &str) -> String {
    let out = rempart()
        .args(["audit", "--format", "json", "--only", rule, "--root"])
        .arg(root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"][0]["status"].as_str().unwrap().to_string()
}

fn apply(root: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = rempart()
        .args(["harden", "apply"])
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unsafe_fix_is_refused_without_the_unsafe_flag() {
    let t = fixture("admin-key/key-installed.pass");
    let before = files(t.path());
    let (code, _, err) = apply(t.path(), &["--only", "SSH-PASSWORD-AUTH"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("re-run with --unsafe"), "{err}");
    assert_eq!(files(t.path()), before);
}

#[test]
fn without_an_admin_key_even_unsafe_is_refused_with_the_reason() {
    let t = fixture("admin-key/no-key.fail");
    let before = files(t.path());
    let (code, out, err) = apply(t.path(), &["--unsafe", "--only", "SSH-PASSWORD-AUTH"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("does not show that access remains"), "{err}");
    assert!(err.contains("SSH-ADMIN-KEY"), "{err}");
    assert!(
        err.contains("/home/jmadmin/.ssh/authorized_keys"),
        "the missing key file is named: {err}"
    );
    assert!(out.contains("Access after the plan: NOT SHOWN"), "{out}");
    assert_eq!(files(t.path()), before);
    assert_eq!(status(t.path(), "SSH-PASSWORD-AUTH"), "fail");
}

#[test]
fn with_an_admin_key_the_unsafe_fix_is_applied() {
    let t = fixture("admin-key/key-installed.pass");
    assert_eq!(status(t.path(), "SSH-PASSWORD-AUTH"), "fail");
    let plan = rempart()
        .args([
            "harden",
            "plan",
            "--json",
            "--only",
            "SSH-PASSWORD-AUTH",
            "--root",
        ])
        .arg(t.path())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["access"]["ok"], true, "{}", plan["access"]);
    assert!(plan["access"]["admins"][0]
        .as_str()
        .unwrap()
        .starts_with("jmadmin"));
    let (code, out, err) = apply(t.path(), &["--unsafe", "--only", "SSH-PASSWORD-AUTH"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("Access after the plan: remains"), "{out}");
    assert_eq!(status(t.path(), "SSH-PASSWORD-AUTH"), "pass");
    assert_eq!(status(t.path(), "SSH-ADMIN-KEY"), "pass");
}

#[test]
fn the_admins_address_must_stay_allowed() {
    let t = fixture("admin-key/key-installed.pass");
    fs::write(
        t.path().join("etc/ssh/sshd_config"),
        "AllowUsers jmadmin@10.8.0.0/24\nKbdInteractiveAuthentication no\n",
    )
    .unwrap();
    let before = files(t.path());
    let args = ["--unsafe", "--only", "SSH-PASSWORD-AUTH", "--admin-address"];
    let (code, _, err) = apply(t.path(), &[&args[..], &["192.0.2.7"]].concat());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("from 192.0.2.7"), "{err}");
    assert_eq!(files(t.path()), before);
    let (code, out, err) = apply(t.path(), &[&args[..], &["10.8.0.9"]].concat());
    assert_eq!(code, Some(0), "{out}{err}");
}

/// key-installed.pass plus `deploy`, a sudo user without a key.
fn two_admins() -> support::Materialised {
    let t = fixture("admin-key/key-installed.pass");
    let etc = t.path().join("etc");
    let mut passwd = fs::read_to_string(etc.join("passwd")).unwrap();
    passwd.push_str("deploy:x:1001:1001:Deploy:/home/deploy:/bin/bash\n");
    fs::write(etc.join("passwd"), passwd).unwrap();
    let group = fs::read_to_string(etc.join("group"))
        .unwrap()
        .replace("sudo:x:27:jmadmin", "sudo:x:27:jmadmin,deploy");
    fs::write(etc.join("group"), group).unwrap();
    t
}

#[test]
fn allow_users_names_the_admins_with_keys_and_never_leaves_them_out() {
    let t = two_admins();
    let (code, out, err) = apply(t.path(), &["--unsafe", "--only", "SSH-ALLOW-USERS"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let dropin =
        fs::read_to_string(t.path().join("etc/ssh/sshd_config.d/00-rempart.conf")).unwrap();
    assert!(dropin.contains("\nAllowUsers jmadmin\n"), "{dropin}");
    assert_eq!(status(t.path(), "SSH-ALLOW-USERS"), "pass");
    assert_eq!(status(t.path(), "SSH-ADMIN-KEY"), "pass");

    // admin_users naming only the admin without a key: the fix refuses to write the list.
    let t = two_admins();
    let config = tempfile::tempdir().unwrap();
    let cfg = config.path().join("rempart.toml");
    fs::write(&cfg, "admin_users = [\"deploy\"]\n").unwrap();
    let before = files(t.path());
    let plan = rempart()
        .args(["harden", "plan", "--only", "SSH-ALLOW-USERS", "--config"])
        .arg(&cfg)
        .arg("--root")
        .arg(t.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains("names none of the sudo users who can log in with a key (jmadmin)"),
        "{text}"
    );
    let out = rempart()
        .args([
            "harden",
            "apply",
            "--unsafe",
            "--only",
            "SSH-ALLOW-USERS",
            "--config",
        ])
        .arg(&cfg)
        .arg("--root")
        .arg(t.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nothing to apply"));
    assert_eq!(files(t.path()), before);
}

#[test]
fn allow_users_is_refused_when_no_admin_has_a_key() {
    let t = fixture("admin-key/no-key.fail");
    let plan = rempart()
        .args([
            "harden",
            "plan",
            "--json",
            "--only",
            "SSH-ALLOW-USERS",
            "--root",
        ])
        .arg(t.path())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert!(plan["changes"].as_array().unwrap().is_empty());
    let reason = plan["skipped"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("no non-root sudo user can log in with a key"),
        "{reason}"
    );
}

/// The ssh fixture `admin-key/key-installed.pass` (a sudo admin with a key) with nftables
/// installed, nftables.service not enabled, and an `/etc/nftables.conf` of the admin's whose
/// input chain has `ssh_rule` (FW-ACTIVE's fix enables the unit and appends rempart's table).
fn half_done_nftables(ssh_rule: &str) -> support::Materialised {
    let t = fixture("admin-key/key-installed.pass");
    let root = t.path();
    let w = |p: &str, text: &str| {
        let path = root.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    w(
        "var/lib/dpkg/status",
        "Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2+deb12u3\n\n\
         Package: nftables\nStatus: install ok installed\nVersion: 1.0.6-2+deb12u2\n\n",
    );
    w(
        "lib/systemd/system/nftables.service",
        "[Unit]\nDescription=nftables\nDefaultDependencies=no\n\n[Service]\nType=oneshot\n\
         RemainAfterExit=yes\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n\
         ExecReload=/usr/sbin/nft -f /etc/nftables.conf\nExecStop=/usr/sbin/nft flush ruleset\n\n\
         [Install]\nWantedBy=sysinit.target\n",
    );
    w(
        "etc/nftables.conf",
        &format!(
            "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {{\n\tchain input {{\n\
             \t\ttype filter hook input priority filter; policy drop;\n\
             \t\tct state established,related accept\n\t\tiif \"lo\" accept\n\
             {ssh_rule}\n\t\ttcp dport {{ 80, 443 }} accept\n\t}}\n}}\n"
        ),
    );
    t
}

#[test]
fn a_firewall_fix_that_would_close_the_ssh_port_is_refused() {
    // The admin's ruleset has no SSH rule: turning it on at boot closes port 22, whatever
    // rempart's own table allows.
    let t = half_done_nftables("");
    let before = files(t.path());
    let (code, out, err) = apply(t.path(), &["--unsafe", "--only", "FW-ACTIVE"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("does not show that access remains"), "{err}");
    assert!(
        out.contains("nftables drops tcp/22 (IPv4)") && out.contains("/etc/nftables.conf:7"),
        "the blocking policy is named: {out}"
    );
    assert_eq!(files(t.path()), before, "a refused apply changed the tree");
    assert_eq!(status(t.path(), "FW-ACTIVE"), "fail");
}

#[test]
fn a_firewall_fix_keeps_the_admins_address_in() {
    let rule = "\t\tip saddr 10.0.0.0/8 tcp dport 22 accept";
    // From outside 10/8 the admin would be cut off.
    let t = half_done_nftables(rule);
    let before = files(t.path());
    let (code, out, err) = apply(
        t.path(),
        &[
            "--unsafe",
            "--only",
            "FW-ACTIVE",
            "--admin-address",
            "192.0.2.7",
        ],
    );
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.contains("tcp/22 (IPv4) from 192.0.2.7"), "{out}");
    assert_eq!(files(t.path()), before);
    // From inside it, the fix applies and the firewall loads at boot.
    let (code, out, err) = apply(
        t.path(),
        &[
            "--unsafe",
            "--only",
            "FW-ACTIVE",
            "--admin-address",
            "10.20.30.40",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(status(t.path(), "FW-ACTIVE"), "pass");
    assert!(t
        .path()
        .join("etc/systemd/system/sysinit.target.wants/nftables.service")
        .is_symlink());
}

#[test]
fn the_sshd_jail_never_bans_the_admin_address_given() {
    let t = support::materialise_seed_host("raspberry", "insecure");
    let (code, out, err) = apply(
        t.path(),
        &[
            "--unsafe",
            "--only",
            "IPS-BACKEND,IPS-BANACTION",
            "--admin-address",
            "198.51.100.23",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let dropin = fs::read_to_string(t.path().join("etc/fail2ban/jail.d/90-rempart.local")).unwrap();
    let ignoreip = dropin
        .lines()
        .find_map(|l| l.strip_prefix("ignoreip = "))
        .unwrap_or_else(|| panic!("no ignoreip in the drop-in:\n{dropin}"));
    assert!(
        ignoreip.split_whitespace().any(|a| a == "198.51.100.23"),
        "{ignoreip}"
    );
    assert!(
        out.contains("198.51.100.23"),
        "the plan names the admin: {out}"
    );
}
