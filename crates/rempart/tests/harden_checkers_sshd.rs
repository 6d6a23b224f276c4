//! The sshd configurations `rempart harden` writes pass the real checker: `sshd -t` from Debian's
//! openssh-server, run by the apply in a private mount namespace over the tree's /etc/ssh (the
//! host's own files are never read). A change sshd refuses is undone, with sshd's message shown.
//! Needs openssh-server and util-linux's unshare (scripts/test-deps) and root.

#[path = "../../rempart-audit/tests/support/mod.rs"]
mod support;

use assert_cmd::Command;
use rempart_audit::Host;
use rempart_harden::validate::{self, Check, Group};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn require_checker() {
    assert!(
        Path::new("/usr/sbin/sshd").exists(),
        "sshd is missing: install openssh-server (scripts/test-deps)"
    );
    assert!(
        ["/usr/bin/unshare", "/bin/unshare"]
            .iter()
            .any(|p| Path::new(p).exists()),
        "unshare (util-linux) is missing"
    );
}

/// The apply runs the checkers (no REMPART_HARDEN_NO_CHECK).
fn rempart() -> Command {
    let mut c = Command::cargo_bin("rempart").unwrap();
    c.env_remove("REMPART_HARDEN_NO_CHECK");
    c.env_remove("SSH_CONNECTION");
    c
}

/// A seed host's insecure tree, with the modes and owners of its host.toml.
fn seed_tree(host: &str) -> support::Materialised {
    let variant = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rempart-audit/tests/hosts")
        .join(host)
        .join("insecure");
    #[derive(serde::Deserialize)]
    struct Manifest {
        #[serde(default)]
        modes: BTreeMap<String, String>,
        #[serde(default)]
        owners: BTreeMap<String, String>,
        #[serde(default)]
        dirs: Vec<String>,
    }
    let m: Manifest =
        toml::from_str(&fs::read_to_string(variant.join("host.toml")).unwrap()).unwrap();
    let case = support::Case {
        modes: m.modes,
        owners: m.owners,
        dirs: m.dirs,
        ..support::Case::default()
    };
    support::materialise(&variant, &case)
}

fn statuses(root: &Path) -> BTreeMap<String, String> {
    let out = rempart()
        .args(["audit", "--format", "json", "--only", "ssh", "--root"])
        .arg(root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Apply every ssh fix with the checker on; returns the rules fixed and the apply's output.
fn apply_ssh(root: &Path) -> (Vec<String>, String) {
    let plan = rempart()
        .args([
            "harden",
            "plan",
            "--json",
            "--profile",
            "critical",
            "--only",
            "ssh",
            "--root",
        ])
        .arg(root)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let fixed: Vec<String> = plan["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    let out = rempart()
        .args([
            "harden",
            "apply",
            "--unsafe",
            "--profile",
            "critical",
            "--only",
            "ssh",
            "--root",
        ])
        .arg(root)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    (fixed, text)
}

#[test]
fn ssh_fixes_on_every_seed_host_pass_sshd_t() {
    require_checker();
    for host in ["avmonitoring", "koprogo", "raspberry"] {
        let t = seed_tree(host);
        let (fixed, out) = apply_ssh(t.path());
        assert!(!fixed.is_empty(), "{host}: nothing to fix");
        assert!(out.contains("sshd: checked"), "{host}: {out}");
        assert!(!out.contains("refused the change"), "{host}: {out}");
        let after = statuses(t.path());
        for rule in &fixed {
            assert_eq!(after[rule], "pass", "{host}: {rule} after the fix\n{out}");
        }
    }
}

#[test]
fn every_ssh_fix_together_passes_sshd_t_on_a_config_without_include() {
    require_checker();
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let w = |p: &str, text: &str| {
        let path = root.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    w(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\njmadmin:x:1000:1000:JM:/home/jmadmin:/bin/bash\n",
    );
    w(
        "etc/group",
        "root:x:0:\nsudo:x:27:jmadmin\njmadmin:x:1000:\n",
    );
    w(
        "home/jmadmin/.ssh/authorized_keys",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICf9JVwVr2roC7nguTO0rkboMZOfvrDX9+MakT7eWHKD admin@laptop\n",
    );
    // No Include: the fix inserts one at the top; the Match lines then move down two lines.
    w(
        "etc/ssh/sshd_config",
        "# hand-written, no Include\nLogLevel INFO\nPermitRootLogin yes\nX11Forwarding yes\nCiphers +aes256-cbc\nHostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\nSubsystem sftp /usr/lib/openssh/sftp-server\n\nMatch User root\n    PermitRootLogin yes\nMatch all\n    MaxAuthTries 6\n",
    );
    for kind in ["ed25519", "ecdsa"] {
        let key = root.join(format!("etc/ssh/ssh_host_{kind}_key"));
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", kind, "-N", "", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    fs::set_permissions(
        root.join("etc/ssh/ssh_host_ecdsa_key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let before = statuses(root);
    let (fixed, out) = apply_ssh(root);
    assert!(out.contains("sshd: checked"), "{out}");
    for rule in [
        "SSH-ROOT-LOGIN",
        "SSH-PASSWORD-AUTH",
        "SSH-MAX-AUTH-TRIES",
        "SSH-X11-FORWARDING",
        "SSH-LOG-LEVEL",
        "SSH-CIPHERS",
        "SSH-HOSTKEY-ALGORITHMS",
        "SSH-HOST-KEY-PERMS",
        "SSH-ALLOW-USERS",
    ] {
        assert_eq!(before[rule], "fail", "{rule} before");
        assert!(fixed.iter().any(|f| f == rule), "{rule} not planned");
    }
    let after = statuses(root);
    for (rule, status) in &after {
        if fixed.contains(rule) {
            assert_eq!(status, "pass", "{rule} after the fix\n{out}");
        }
    }
    let main = fs::read_to_string(root.join("etc/ssh/sshd_config")).unwrap();
    assert_eq!(
        main.lines().nth(2),
        Some("Include /etc/ssh/sshd_config.d/00-rempart.conf"),
        "{main}"
    );
    assert!(main.contains("\n    #PermitRootLogin yes # rempart harden SSH-ROOT-LOGIN"));
    assert!(main.contains("\n    #MaxAuthTries 6 # rempart harden SSH-MAX-AUTH-TRIES"));
}

#[test]
fn a_change_sshd_refuses_is_undone_with_its_message() {
    require_checker();
    // Placeholder host keys: once the fix is written, sshd -t cannot load any host key.
    let dir = support::fixtures_dir().join("ssh/host-key-perms/world-readable.fail");
    let t = support::materialise(&dir, &support::load_case(&dir));
    let key = t.path().join("etc/ssh/ssh_host_ecdsa_key");
    let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o7777;
    assert_eq!(mode(&key), 0o644);
    let out = rempart()
        .args(["harden", "apply", "--only", "SSH-HOST-KEY-PERMS", "--root"])
        .arg(t.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("sshd: the checker refused the change; it was undone:"),
        "{text}"
    );
    assert!(
        text.contains("no hostkeys available"),
        "sshd's own message: {text}"
    );
    assert_eq!(mode(&key), 0o644, "the refused chmod was undone");
    let journal = rempart()
        .args(["harden", "history", "--root"])
        .arg(t.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&journal.stdout).contains("SSH-HOST-KEY-PERMS"));
}

#[test]
fn the_checker_reports_sshds_message_for_a_bad_drop_in() {
    require_checker();
    let t = tempfile::tempdir().unwrap();
    let ssh = t.path().join("etc/ssh");
    fs::create_dir_all(ssh.join("sshd_config.d")).unwrap();
    fs::write(
        ssh.join("sshd_config"),
        "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n",
    )
    .unwrap();
    fs::write(
        ssh.join("sshd_config.d/00-rempart.conf"),
        "PasswordAuthentication no\n",
    )
    .unwrap();
    let host = Host::tree(t.path()).unwrap();
    assert!(
        matches!(validate::check(&host, Group::Sshd), Check::Passed(_)),
        "{:?}",
        validate::check(&host, Group::Sshd)
    );
    fs::write(
        ssh.join("sshd_config.d/00-rempart.conf"),
        "PasswordAuthentication no\nMaxAuthTries three\n",
    )
    .unwrap();
    match validate::check(&host, Group::Sshd) {
        Check::Failed(msg) => {
            assert!(msg.contains("00-rempart.conf"), "{msg}");
            assert!(msg.contains("line 2"), "{msg}");
        }
        other => panic!("sshd -t accepted a bad drop-in: {other:?}"),
    }
}
