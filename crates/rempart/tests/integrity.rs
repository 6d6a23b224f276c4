//! `rempart integrity` end to end: default locations under --root, exit statuses, text and
//! JSON output, tampered and swapped baselines, signed baselines, permission denied (as an
//! unprivileged user), names that are not UTF-8.

use assert_cmd::Command;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn rempart() -> Command {
    Command::cargo_bin("rempart").unwrap()
}

struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    /// A small Debian-like tree: /etc, /usr/bin, /root/.ssh, an app in /opt.
    fn new() -> Host {
        let h = Host {
            dir: tempfile::tempdir().unwrap(),
        };
        h.write("etc/ssh/sshd_config", "PermitRootLogin no\n");
        h.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        h.write("etc/machine-id", "5f1c0a9e2b7d4c3a8e6f0b1d2c3e4f5a\n");
        h.write("usr/bin/sudo", "\x7fELF sudo");
        h.write("root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3Nz admin\n");
        h.write("opt/app/bin/server", "\x7fELF server");
        h.write("opt/app/logs/app.log", "noise\n");
        h.write("var/log/syslog", "noise\n");
        h
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn cmd(&self, sub: &str) -> Command {
        let mut c = rempart();
        c.args(["integrity", sub, "--color", "never", "--root"])
            .arg(self.root());
        c
    }

    fn baseline(&self) -> PathBuf {
        self.path("var/lib/rempart/integrity/baseline")
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn init_check_update_cycle_with_default_locations() {
    let h = Host::new();
    let o = h.cmd("init").output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout(&o).contains("generated the HMAC key"),
        "{}",
        stdout(&o)
    );
    let key = fs::metadata(h.path("etc/rempart/integrity.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        fs::metadata(h.baseline()).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(h
        .path("var/lib/rempart/integrity/baseline.check.json")
        .exists());

    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("no change"), "{}", stdout(&o));

    // Logs of the app and /var/log are not watched; its binary and sshd_config are.
    h.write("opt/app/logs/app.log", "more noise\n");
    h.write("var/log/syslog", "more noise\n");
    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    h.write("etc/ssh/sshd_config", "PermitRootLogin yes\n");
    h.write(
        "root/.ssh/authorized_keys",
        "ssh-ed25519 AAAAC3Nz admin\nssh-rsa AAAAB3 intruder\n",
    );
    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("changed /etc/ssh/sshd_config"), "{text}");
    assert!(
        text.contains("changed /root/.ssh/authorized_keys"),
        "{text}"
    );
    assert!(
        text.contains("2 changes: 0 added, 0 removed, 2 changed"),
        "{text}"
    );

    let o = h.cmd("check").args(["--format", "json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["baseline"]["state"], "authentic");
    assert_eq!(v["summary"]["changed"], 2);
    assert_eq!(v["changes"][0]["path"], "/etc/ssh/sshd_config");
    let attrs: Vec<&str> = v["changes"][0]["attrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        attrs.contains(&"hash") && attrs.contains(&"size"),
        "{attrs:?}"
    );
    let record: serde_json::Value = serde_json::from_slice(
        &fs::read(h.path("var/lib/rempart/integrity/baseline.check.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["record"]["changed"], 2);
    assert!(record["mac"].is_string());

    let o = h.cmd("update").output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout(&o).contains("accepted 0 added, 0 removed, 2 changed"),
        "{}",
        stdout(&o)
    );
    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // init never silently replaces a baseline.
    let o = h.cmd("init").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
}

#[test]
fn a_tampered_baseline_fails_the_check_and_blocks_update() {
    let h = Host::new();
    h.cmd("init").assert().code(0);
    let mut b = fs::read(h.baseline()).unwrap();
    let n = b.len();
    b[n / 2] ^= 1;
    fs::write(h.baseline(), &b).unwrap();
    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("BASELINE TAMPERED"), "{}", stdout(&o));
    let o = h.cmd("check").args(["--format", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["baseline"]["state"], "tampered");
    assert_eq!(v["clean"], false);
    let record =
        fs::read_to_string(h.path("var/lib/rempart/integrity/baseline.check.json")).unwrap();
    assert!(record.contains("\"state\": \"tampered\""), "{record}");
    let o = h.cmd("update").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be trusted"));
    // Garbage in place of the baseline is not trusted either.
    fs::write(h.baseline(), b"not a baseline").unwrap();
    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("BASELINE TAMPERED"), "{}", stdout(&o));
}

#[test]
fn another_hosts_baseline_is_reported_as_swapped() {
    let a = Host::new();
    let b = Host::new();
    b.write("etc/machine-id", "00000000000000000000000000000001\n");
    a.cmd("init").assert().code(0);
    // Same key on both hosts (a fleet), the other host's valid baseline copied over.
    fs::create_dir_all(b.path("etc/rempart")).unwrap();
    fs::copy(
        a.path("etc/rempart/integrity.key"),
        b.path("etc/rempart/integrity.key"),
    )
    .unwrap();
    fs::create_dir_all(b.baseline().parent().unwrap()).unwrap();
    fs::copy(a.baseline(), b.baseline()).unwrap();
    let o = b.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("BASELINE SWAPPED"), "{}", stdout(&o));
}

#[test]
fn missing_baseline_or_key_is_an_operational_error() {
    let h = Host::new();
    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no baseline"));
    h.cmd("init").assert().code(0);
    fs::remove_file(h.path("etc/rempart/integrity.key")).unwrap();
    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no HMAC key"));
}

#[test]
fn signed_baselines_verify_with_the_public_key() {
    let h = Host::new();
    let keys = tempfile::tempdir().unwrap();
    let sk = keys.path().join("integrity-sign.pem");
    rempart()
        .args(["integrity", "keygen", "--out"])
        .arg(&sk)
        .assert()
        .code(0);
    let pk = keys.path().join("integrity-sign.pem.pub");
    assert_eq!(
        fs::metadata(&sk).unwrap().permissions().mode() & 0o777,
        0o600
    );
    h.cmd("init")
        .arg("--sign-key")
        .arg(&sk)
        .arg("--no-hmac")
        .assert()
        .code(0);
    assert!(!h.path("etc/rempart/integrity.key").exists());
    h.cmd("check").arg("--verify-key").arg(&pk).assert().code(0);
    // Without the public key there is nothing to verify with.
    h.cmd("check").assert().code(2);
    // Another key pair's public key does not vouch for it.
    let other = keys.path().join("other.pem");
    rempart()
        .args(["integrity", "keygen", "--out"])
        .arg(&other)
        .assert()
        .code(0);
    let o = h
        .cmd("check")
        .arg("--verify-key")
        .arg(keys.path().join("other.pem.pub"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("BASELINE TAMPERED"), "{}", stdout(&o));
    // update needs the private key to re-sign.
    h.cmd("update")
        .arg("--verify-key")
        .arg(&pk)
        .assert()
        .code(2);
    h.cmd("update")
        .arg("--verify-key")
        .arg(&pk)
        .arg("--sign-key")
        .arg(&sk)
        .assert()
        .code(0);
    h.cmd("check").arg("--verify-key").arg(&pk).assert().code(0);
}

#[test]
fn non_utf8_names_are_exact_in_json() {
    let h = Host::new();
    h.cmd("init").assert().code(0);
    fs::write(h.path("etc").join(OsStr::from_bytes(b"bad\xffname")), b"x").unwrap();
    let o = h.cmd("check").args(["--format", "json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["changes"][0]["path"], "/etc/bad\\xffname");
    assert_eq!(v["changes"][0]["path_hex"], "2f6574632f626164ff6e616d65");
    assert_eq!(v["changes"][0]["change"], "added");
}

#[test]
fn config_file_rules_and_hash() {
    let h = Host::new();
    h.write(
        "etc/rempart/integrity.toml",
        "defaults = false\nhash = \"sha512\"\n\n[[rule]]\npath = \"/usr/bin\"\n",
    );
    let o = h.cmd("init").args(["--format", "json"]).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["hash"], "sha512");
    assert_eq!(v["entries"], 2, "{v}");
    // /etc is not watched by this policy.
    h.write("etc/passwd", "changed\n");
    h.cmd("check").assert().code(0);
    // A broken configuration is an error, not a silent fallback.
    h.write("etc/rempart/integrity.toml", "rules = 1\n");
    let o = h.cmd("check").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("rules"));
}

/// The effective user id of this test process (the owner of /proc/self).
fn euid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

#[test]
fn permission_denied_is_a_warning_and_unread_entries_are_not_removed() {
    // Root reads everything: the scan runs as `nobody` (setpriv, util-linux) over a tree whose
    // private parts belong to root.
    let h = Host::new();
    h.write("etc/private/secret.conf", "token=1\n");
    h.write("etc/shadow", "root:*:19000:0:99999:7:::\n");
    let state = tempfile::tempdir().unwrap();
    for d in [h.root(), state.path()] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let cfg = state.path().join("integrity.toml");
    fs::write(&cfg, "defaults = false\n[[rule]]\npath = \"/etc\"\n").unwrap();
    let baseline = state.path().join("baseline");
    let key = state.path().join("key");
    if euid() == 0 {
        assert!(
            std::process::Command::new("setpriv")
                .arg("--version")
                .output()
                .is_ok(),
            "setpriv (util-linux) is needed to run a scan as `nobody`: run scripts/test-deps"
        );
    }
    let run_as_nobody = |sub: &str| {
        let bin = assert_cmd::cargo::cargo_bin("rempart");
        let mut c = if euid() == 0 {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(bin);
            c
        } else {
            Command::new(bin)
        };
        c.args(["integrity", sub, "--color", "never", "--root"])
            .arg(h.root())
            .arg("--config")
            .arg(&cfg)
            .arg("--baseline")
            .arg(&baseline)
            .arg("--key")
            .arg(&key);
        c
    };
    if euid() == 0 {
        std::os::unix::fs::chown(state.path(), Some(65534), Some(65534)).unwrap();
    }
    fs::set_permissions(h.path("etc/private"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(h.path("etc/shadow"), fs::Permissions::from_mode(0o600)).unwrap();
    if euid() != 0 {
        fs::set_permissions(h.path("etc/shadow"), fs::Permissions::from_mode(0o000)).unwrap();
    }

    // Recorded as root: everything readable.
    rempart()
        .args(["integrity", "init", "--root"])
        .arg(h.root())
        .arg("--config")
        .arg(&cfg)
        .arg("--baseline")
        .arg(&baseline)
        .arg("--key")
        .arg(&key)
        .assert()
        .code(0);
    if euid() == 0 {
        for f in [&baseline, &key] {
            std::os::unix::fs::chown(f, Some(65534), Some(65534)).unwrap();
        }
    }
    let o = run_as_nobody("check").output().unwrap();
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains("/etc/private: open directory: Permission denied"),
        "{text}"
    );
    assert!(
        text.contains("/etc/shadow: content not read: permission denied"),
        "{text}"
    );
    assert!(text.contains("1 not verified"), "{text}");
    assert!(!text.contains("removed /etc/private/secret.conf"), "{text}");
}

#[test]
fn a_baseline_kept_inside_a_watched_tree_does_not_report_itself() {
    let h = Host::new();
    let inside = h.path("etc/rempart/baseline");
    h.cmd("init")
        .arg("--baseline")
        .arg(&inside)
        .assert()
        .code(0);
    assert!(h.path("etc/rempart/baseline.check.json").exists());
    for _ in 0..2 {
        let o = h
            .cmd("check")
            .arg("--baseline")
            .arg(&inside)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    }
    let o = h
        .cmd("update")
        .arg("--baseline")
        .arg(&inside)
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("accepted 0 added, 0 removed, 0 changed"),
        "{}",
        stdout(&o)
    );
}
