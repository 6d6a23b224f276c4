//! `rempart harden` end to end on root trees: every fix converges (fix, the rule passes, fixing
//! again is a no-op) and rolls back byte for byte; an apply crashed after any write can be rolled
//! back; confirm-or-revert reverts without a confirm and keeps with one.

#[path = "../../rempart-audit/tests/support/mod.rs"]
mod support;

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Everything rollback must restore: content, mode, owner, link target, for every path.
type Snapshot = BTreeMap<PathBuf, (String, u32, u32, u32, Vec<u8>)>;

fn snapshot(root: &Path) -> Snapshot {
    fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel.starts_with("var/lib/rempart") {
                continue;
            }
            let m = fs::symlink_metadata(&p).unwrap();
            let (kind, data) = if m.file_type().is_symlink() {
                (
                    "link",
                    fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                )
            } else if m.is_dir() {
                ("dir", Vec::new())
            } else {
                ("file", fs::read(&p).unwrap())
            };
            out.insert(
                rel,
                (kind.to_string(), m.mode() & 0o7777, m.uid(), m.gid(), data),
            );
            if m.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Snapshot::new();
    walk(root, root, &mut out);
    out
}

fn assert_same(before: &Snapshot, after: &Snapshot, what: &str) {
    let mut diffs = Vec::new();
    for (p, v) in before {
        match after.get(p) {
            None => diffs.push(format!("{} missing", p.display())),
            Some(w) if w != v => diffs.push(format!(
                "{} differs: {} {:o} {}:{} ({} bytes) vs {} {:o} {}:{} ({} bytes)",
                p.display(),
                v.0,
                v.1,
                v.2,
                v.3,
                v.4.len(),
                w.0,
                w.1,
                w.2,
                w.3,
                w.4.len()
            )),
            Some(_) => {}
        }
    }
    for p in after.keys() {
        // The run journal lives in the tree under --root: its parents may be new.
        let state_dir_parent = Path::new("var/lib/rempart").starts_with(p);
        if !before.contains_key(p) && !state_dir_parent {
            diffs.push(format!("{} added", p.display()));
        }
    }
    assert!(
        diffs.is_empty(),
        "{what}: not restored byte for byte:\n{}",
        diffs.join("\n")
    );
}

fn rempart() -> Command {
    let mut c = Command::cargo_bin("rempart").unwrap();
    // The software's checkers run in their own test (they need the Debian packages); these tests
    // are about convergence and journaling.
    c.env("REMPART_HARDEN_NO_CHECK", "1");
    c
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

/// `rempart harden ARGS --root ROOT`.
fn harden(root: &Path, args: &[&str]) -> std::process::Output {
    rempart()
        .arg("harden")
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap()
}

/// Rolls back the newest run of `root`, which must succeed.
fn rollback_ok(root: &Path, what: &str) {
    let out = harden(root, &["rollback"]);
    assert!(
        out.status.success(),
        "{what}: rollback failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `harden apply --unsafe --profile sme` on `root`, which must succeed: its standard output.
fn apply_sme_ok(root: &Path, what: &str) -> String {
    let out = harden(root, &["apply", "--unsafe", "--profile", "sme"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: apply failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn rule_status(root: &Path, rule: &str, config: &[String]) -> String {
    let out = rempart()
        .args(["audit", "--format", "json", "--only", rule])
        .args(config)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap();
    let v = json(&out.stdout);
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == rule)
        .map(|f| f["status"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

fn fixable_rules() -> Vec<String> {
    let out = rempart().args(["harden", "fixes"]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn every_fix_converges_and_rolls_back_byte_for_byte() {
    let rules = fixable_rules();
    assert!(!rules.is_empty());
    let mut failures = Vec::new();
    let mut fixed = BTreeMap::<String, usize>::new();
    for dir in support::all_cases() {
        let case = support::load_case(&dir);
        if case.expect != "fail" || !rules.contains(&case.rule) || case.live {
            continue;
        }
        let name = dir
            .strip_prefix(support::fixtures_dir())
            .unwrap()
            .display()
            .to_string();
        let tmp = support::materialise(&dir, &case);
        let root = tmp.path();
        // The case's rempart.toml lives outside the tree (the tree is compared byte for byte).
        let config_dir = tempfile::tempdir().unwrap();
        let config: Vec<String> = match &case.config {
            Some(text) => {
                let path = config_dir.path().join("rempart.toml");
                fs::write(&path, text).unwrap();
                vec!["--config".into(), path.display().to_string()]
            }
            None => Vec::new(),
        };
        let before = snapshot(root);
        let plan = rempart()
            .args(["harden", "plan", "--json", "--only", &case.rule])
            .args(&config)
            .arg("--root")
            .arg(root)
            .output()
            .unwrap();
        let plan = json(&plan.stdout);
        if plan["changes"].as_array().unwrap().is_empty() {
            // The fix declined on this host (its reason is in the plan): fine, but some failing
            // fixture of each fixable rule must be fixable (checked below).
            continue;
        }
        if plan["access"]["ok"] == false {
            // An unsafe fix on a tree where no admin could get in afterwards: even --unsafe must
            // refuse it and leave the tree alone.
            let out = rempart()
                .args([
                    "harden", "apply", "--unsafe", "--only", &case.rule, "--root",
                ])
                .arg(root)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2) || !err.contains("does not show that access remains") {
                failures.push(format!(
                    "{name}: an unsafe fix without access was not refused: {err}"
                ));
            }
            if snapshot(root) != before {
                failures.push(format!("{name}: a refused apply changed the tree"));
            }
            continue;
        }
        let out = rempart()
            .args(["harden", "apply", "--unsafe", "--only", &case.rule])
            .args(&config)
            .arg("--root")
            .arg(root)
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{name}: apply failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let status = rule_status(root, &case.rule, &config);
        if status != "pass" {
            failures.push(format!("{name}: after the fix {} is {status}", case.rule));
        }
        let again = rempart()
            .args(["harden", "plan", "--json", "--only", &case.rule])
            .args(&config)
            .arg("--root")
            .arg(root)
            .output()
            .unwrap();
        let again = json(&again.stdout);
        if !again["changes"].as_array().unwrap().is_empty() {
            failures.push(format!(
                "{name}: fixing again is not a no-op: {}",
                again["changes"]
            ));
        }
        let out = harden(root, &["rollback"]);
        if !out.status.success() {
            failures.push(format!(
                "{name}: rollback failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let after = snapshot(root);
        {
            let r = std::panic::catch_unwind(|| assert_same(&before, &after, &name));
            if let Err(e) = r {
                failures.push(
                    e.downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| format!("{name}: not restored")),
                );
            }
        }
        *fixed.entry(case.rule.clone()).or_default() += 1;
    }
    for r in &rules {
        if !fixed.contains_key(r) {
            failures.push(format!(
                "{r}: no failing fixture was fixed (each fix needs one)"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn seed_tree(host: &str) -> (support::Materialised, PathBuf) {
    let tmp = support::materialise_seed_host(host, "insecure");
    let root = tmp.path().to_path_buf();
    (tmp, root)
}

#[test]
fn an_apply_killed_after_any_write_can_be_rolled_back() {
    let (_tmp, root) = seed_tree("avmonitoring");
    let original = snapshot(&root);
    let plan = harden(&root, &["plan", "--json"]);
    let n = json(&plan.stdout)["changes"].as_array().unwrap().len();
    assert!(n >= 1, "the seed host has something to fix");
    for k in 1..=n {
        let out = rempart()
            .env("REMPART_HARDEN_FAILPOINT", k.to_string())
            .args(["harden", "apply", "--unsafe", "--root"])
            .arg(&root)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "failpoint {k} did not stop the apply"
        );
        assert!(
            snapshot(&root) != original,
            "failpoint {k}: nothing was written"
        );
        rollback_ok(&root, &format!("failpoint {k}"));
        assert_same(
            &original,
            &snapshot(&root),
            &format!("crash after write {k}"),
        );
    }
}

#[test]
fn an_apply_killed_with_sigkill_can_be_rolled_back() {
    let (_tmp, root) = seed_tree("avmonitoring");
    let original = snapshot(&root);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rempart"))
        .env("REMPART_HARDEN_NO_CHECK", "1")
        .env("REMPART_HARDEN_PAUSE_AFTER", "1")
        .args(["harden", "apply", "--unsafe", "--root"])
        .arg(&root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first file is written (the apply pauses right after it), then kill -9.
    wait_until("the first write", 30, || snapshot(&root) != original);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(snapshot(&root) != original, "the apply changed nothing");
    rollback_ok(&root, "kill -9 during apply");
    assert_same(&original, &snapshot(&root), "kill -9 during apply");
}

fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn without_a_confirm_the_watchdog_reverts() {
    let (_tmp, root) = seed_tree("avmonitoring");
    let original = snapshot(&root);
    let out = harden(&root, &["apply", "--unsafe", "--confirm-within", "2s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(snapshot(&root) != original, "the apply changed nothing");
    // A second apply is refused while one is pending.
    let out = harden(&root, &["apply", "--unsafe"]);
    assert_eq!(out.status.code(), Some(2));
    wait_until("the watchdog's rollback", 30, || {
        snapshot(&root) == original
    });
}

#[test]
fn with_a_confirm_the_changes_stay() {
    let (_tmp, root) = seed_tree("avmonitoring");
    let original = snapshot(&root);
    let out = harden(&root, &["apply", "--unsafe", "--confirm-within", "3s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied = snapshot(&root);
    rempart()
        .args(["harden", "confirm", "--root"])
        .arg(&root)
        .assert()
        .success();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        snapshot(&root),
        applied,
        "a confirmed run must not be reverted"
    );
    assert!(applied != original, "the apply changed nothing");
    let hist = harden(&root, &["history"]);
    assert!(String::from_utf8_lossy(&hist.stdout).contains("confirmed"));
}

/// Required rules (sme) a seed host still fails after `harden apply --unsafe`, and why each has
/// no automatic fix there. Keep it short and honest: the test fails when one of them passes.
const SEED_LEFT: &[(&str, &str, &str)] = &[
    (
        "avmonitoring",
        "IPS-FAIL2BAN",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs fail2ban first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
    (
        "koprogo",
        "IPS-FAIL2BAN",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs fail2ban first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
    (
        "raspberry",
        "FW-ACTIVE",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs nftables first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
    (
        "raspberry",
        "FW-DEFAULT-DENY",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs nftables first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
    (
        "raspberry",
        "FW-OPEN-PORTS",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs nftables first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
    (
        "raspberry",
        "IPS-BACKEND",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs python3-systemd first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
    (
        "avmonitoring",
        "APP-ENV-SECRETS",
        "LIVE: the password inside DATABASE_URL is also PostgreSQL role avmvp_user's: harden changes both when the cluster runs, as it does on the Debian root (seed_hosts_on_a_debian_root_install_their_packages); in this tree it does not",
    ),
    (
        "koprogo",
        "CTR-DOCKER-SOCKET",
        "MANUAL for cAdvisor: its /:/rootfs:ro mount (network counters in /rootfs/proc, layers in /rootfs/var/lib/docker) holds /run/docker.sock, and its docker.io 20.10 predates the non-recursive binds (Engine 25) the audit would accept; Traefik's socket is replaced by a proxy (WEB-TRAEFIK-DOCKER-SOCKET's fix)",
    ),
    (
        "raspberry",
        "WEB-CERT-EXPIRY",
        "MANUAL: renewing a certificate needs the CA (certbot renew)",
    ),
    (
        "avmonitoring",
        "UPD-AUTO-UPGRADES",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs unattended-upgrades first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
    (
        "koprogo",
        "UPD-AUTO-UPGRADES",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs unattended-upgrades first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
    (
        "raspberry",
        "UPD-AUTO-UPGRADES",
        "APT: this fixture tree has no apt of its own; on a Debian root harden installs unattended-upgrades first (seed_hosts_on_a_debian_root_install_their_packages)",
    ),
];

/// `ID status` of every rule the `sme` profile requires that applies and does not pass (fail or
/// error) on `root`.
fn not_passing_at_sme(root: &Path) -> Vec<String> {
    let audit = rempart()
        .args(["audit", "--format", "json", "--profile", "sme", "--root"])
        .arg(root)
        .output()
        .unwrap();
    json(&audit.stdout)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["required"] == true && f["status"] != "pass")
        .filter(|f| f["applicable"] == true && f["status"] != "skip")
        .map(|f| {
            format!(
                "{} {}",
                f["id"].as_str().unwrap(),
                f["status"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn seed_hosts_harden_to_sme_and_roll_back() {
    let mut problems = Vec::new();
    for host in ["avmonitoring", "koprogo", "raspberry"] {
        let (_tmp, root) = seed_tree(host);
        let original = snapshot(&root);
        apply_sme_ok(&root, host);
        let failing = not_passing_at_sme(&root);
        let left: Vec<&str> = SEED_LEFT
            .iter()
            .filter(|(h, _, _)| *h == host)
            .map(|(_, r, _)| *r)
            .collect();
        for f in &failing {
            let id = f.split(' ').next().unwrap();
            if !left.contains(&id) || !f.ends_with(" fail") {
                problems.push(format!("{host}: {f} after harden apply"));
            }
        }
        for id in &left {
            if !failing.iter().any(|f| f.starts_with(&format!("{id} "))) {
                problems.push(format!("{host}: {id} passes now: take it off SEED_LEFT"));
            }
        }
        // The host converged: planning again finds nothing to do.
        let again = harden(&root, &["plan", "--json", "--profile", "sme"]);
        let again = json(&again.stdout);
        if !again["changes"].as_array().unwrap().is_empty() {
            problems.push(format!(
                "{host}: a second plan is not empty: {}",
                again["changes"]
            ));
        }
        rollback_ok(&root, host);
        assert_same(&original, &snapshot(&root), &format!("{host} rolled back"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The minimal Debian 12 root scripts/test-deps makes with debootstrap (python3 and systemd
/// real): copied per test, never written.
fn debian_root() -> PathBuf {
    let p = std::env::var_os("REMPART_DEBIAN_ROOT").map_or_else(
        || PathBuf::from("/var/cache/rempart-test/bookworm"),
        PathBuf::from,
    );
    assert!(
        p.join("usr/bin/apt-get").exists(),
        "{}: no Debian root to harden (run scripts/test-deps as root: it makes one with debootstrap)",
        p.display()
    );
    p
}

fn cp_a(from: &Path, to: &Path) {
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success(), "cp -a {} {}", from.display(), to.display());
}

/// Copies the tree `dir` (under `top`) into `root` keeping modes, owners and links, through the
/// root's own directory links (a seed's `lib/` lands in a merged-/usr root's `usr/lib/`).
fn lay_over(top: &Path, dir: &Path, root: &Path) {
    use std::os::unix::fs::{chown, symlink, PermissionsExt};
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let to = root.join(p.strip_prefix(top).unwrap());
        let m = fs::symlink_metadata(&p).unwrap();
        if m.file_type().is_symlink() {
            let _ = fs::remove_file(&to);
            symlink(fs::read_link(&p).unwrap(), &to).unwrap();
            continue;
        }
        if m.is_dir() {
            fs::create_dir_all(&to).unwrap();
            lay_over(top, &p, root);
        } else {
            let _ = fs::remove_file(&to);
            fs::copy(&p, &to).unwrap();
        }
        fs::set_permissions(&to, fs::Permissions::from_mode(m.mode() & 0o7777)).unwrap();
        chown(&to, Some(m.uid()), Some(m.gid())).unwrap();
    }
}

/// Package names of a dpkg status text.
fn stanza_names(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|st| {
            st.lines()
                .find_map(|l| l.strip_prefix("Package:"))
                .map(|n| n.trim().to_string())
        })
        .collect()
}

/// The Debian root's own dpkg status, plus the seed host's stanzas for packages the root does
/// not have (the services the audit must see installed: apache2, postgresql, docker.io ...).
fn merged_status(base: &str, seed: &str) -> String {
    let have = stanza_names(base);
    let mut out = base.trim_end().to_string();
    for st in seed.split("\n\n") {
        let name = st
            .lines()
            .find_map(|l| l.strip_prefix("Package:"))
            .map(|n| n.trim().to_string());
        if name.is_some_and(|n| !have.contains(&n)) && !st.trim().is_empty() {
            out.push_str("\n\n");
            out.push_str(st.trim());
        }
    }
    out.push('\n');
    out
}

fn installed(root: &Path) -> Vec<String> {
    let text = fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    let mut v: Vec<String> = text
        .split("\n\n")
        .filter(|st| {
            st.lines()
                .any(|l| l.trim() == "Status: install ok installed")
        })
        .filter_map(|st| {
            st.lines()
                .find_map(|l| l.strip_prefix("Package:"))
                .map(|n| n.trim().to_string())
        })
        .collect();
    v.sort();
    v
}

/// A copy of the Debian root with `host`'s seed files laid over it (dpkg's status merged):
/// the temp dir, the root, and the seed's own snapshot (its paths).
fn seed_on_debian(base: &Path, host: &str) -> (tempfile::TempDir, PathBuf, Snapshot) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fs::create_dir(&root).unwrap();
    cp_a(base, &root);
    let base_status = fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    let (_seed_tmp, seed) = seed_tree(host);
    let seed_status = fs::read_to_string(seed.join("var/lib/dpkg/status")).unwrap();
    let seed_files = snapshot(&seed);
    lay_over(&seed, &seed, &root);
    fs::write(
        root.join("var/lib/dpkg/status"),
        merged_status(&base_status, &seed_status),
    )
    .unwrap();
    (tmp, root, seed_files)
}

/// The seed's paths as they are in `root` now (dpkg's status is apt's to keep).
fn seed_paths_in(root: &Path, s: &Snapshot) -> Snapshot {
    s.keys()
        .filter(|p| !p.starts_with("var/lib/dpkg"))
        .map(|p| {
            let full = root.join(p);
            let state = match fs::symlink_metadata(&full) {
                Err(_) => ("absent".to_string(), 0, 0, 0, Vec::new()),
                Ok(m) if m.file_type().is_symlink() => (
                    "link".into(),
                    0,
                    m.uid(),
                    m.gid(),
                    fs::read_link(&full)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                ),
                Ok(m) if m.is_dir() => (
                    "dir".into(),
                    m.mode() & 0o7777,
                    m.uid(),
                    m.gid(),
                    Vec::new(),
                ),
                Ok(m) => (
                    "file".into(),
                    m.mode() & 0o7777,
                    m.uid(),
                    m.gid(),
                    fs::read(&full).unwrap(),
                ),
            };
            (p.clone(), state)
        })
        .collect()
}

/// The bar where the guides `apt install` first: a seed host's files laid over a real
/// Debian root; one `harden apply --unsafe` installs fail2ban, nftables, unattended-upgrades or
/// python3-systemd with apt (chrooted) and writes their configuration, after which every rule
/// SEED_LEFT gives to apt passes and only the judgment calls remain at `sme`; rollback restores
/// the seed's files byte for byte and purges exactly the packages apt installed.
#[test]
fn seed_hosts_on_a_debian_root_install_their_packages() {
    let base = debian_root();
    let mut problems = Vec::new();
    for host in ["avmonitoring", "koprogo", "raspberry"] {
        let (_tmp, root, seed_files) = seed_on_debian(&base, host);
        // avmonitoring's application logs in to the host's PostgreSQL (seed 000 §5): the
        // cluster runs, with the role and weak password of the seed's DATABASE_URL.
        let server = (host == "avmonitoring").then(|| {
            support::dbserver::start(
                &root,
                &support::dbserver::ServerSpec {
                    kind: "postgres".into(),
                    sql: "CREATE ROLE avmvp_user LOGIN PASSWORD 'mot_de_passe_fort';\n\
                          CREATE DATABASE avmvp_db OWNER avmvp_user;\n"
                        .into(),
                },
            )
        });
        let verifier_before = server.as_ref().map(|_| pg_verifier(&root, "avmvp_user"));
        let in_root = |s: &Snapshot| seed_paths_in(&root, s);
        let original = in_root(&seed_files);
        let packages_before = installed(&root);

        let stdout = apply_sme_ok(&root, host);
        assert!(
            stdout.contains("apt installed:"),
            "{host}: no package installed: {stdout}"
        );
        let judged = not_passing_at_sme(&root);
        for f in judged.iter().filter(|f| !f.ends_with(" fail")) {
            problems.push(format!("{host}: {f} on the Debian root after apply"));
        }
        if let Some(before) = &verifier_before {
            if pg_verifier(&root, "avmvp_user") == *before {
                problems.push(format!(
                    "{host}: avmvp_user's password did not change on the server"
                ));
            }
        }
        let failing: Vec<&str> = judged
            .iter()
            .filter_map(|f| f.strip_suffix(" fail"))
            .collect();
        for (h, rule, why) in SEED_LEFT {
            if *h != host {
                continue;
            }
            let fails = failing.contains(rule);
            // APT: fixed once apt installs a package; LIVE: fixed once the seed's database
            // server runs, as it does on the Debian root.
            let fixed_here = why.starts_with("APT: ") || why.starts_with("LIVE: ");
            match (fixed_here, fails) {
                (true, true) => problems.push(format!("{host}: {rule} still fails after apt")),
                (false, false) => {
                    problems.push(format!("{host}: {rule} passes on the Debian root"))
                }
                _ => {}
            }
        }
        for f in &failing {
            if !SEED_LEFT.iter().any(|(h, r, _)| *h == host && r == f) {
                problems.push(format!("{host}: {f} fails on the Debian root after apply"));
            }
        }

        rollback_ok(&root, host);
        assert_same(
            &original,
            &in_root(&seed_files),
            &format!("{host} rolled back"),
        );
        if let Some(before) = &verifier_before {
            assert_eq!(
                pg_verifier(&root, "avmvp_user"),
                *before,
                "{host}: rollback gives the role its previous password"
            );
        }
        assert_eq!(
            installed(&root),
            packages_before,
            "{host}: rollback leaves the packages as they were"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// apt failing (no reachable mirror, no package lists) ends the run before any file is written:
/// the error names apt, the seed's files and dpkg's installed list are as they were, and the
/// run is recorded as rolled back.
#[test]
fn when_apt_fails_nothing_is_written() {
    let base = debian_root();
    let (_tmp, root, seed_files) = seed_on_debian(&base, "raspberry");
    // A mirror nobody listens on, and no lists: `apt-get install` and `update` both fail.
    fs::write(
        root.join("etc/apt/sources.list"),
        "deb http://127.0.0.1:9/debian bookworm main\n",
    )
    .unwrap();
    for e in fs::read_dir(root.join("var/lib/apt/lists")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            fs::remove_file(p).unwrap();
        }
    }
    let original = seed_paths_in(&root, &seed_files);
    let packages_before = installed(&root);
    let out = harden(&root, &["apply", "--unsafe", "--profile", "sme"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("apt could not install"), "{stderr}");
    assert_same(
        &original,
        &seed_paths_in(&root, &seed_files),
        "after apt failed",
    );
    assert_eq!(installed(&root), packages_before);
    let history = harden(&root, &["history"]);
    let history = String::from_utf8_lossy(&history.stdout);
    assert!(
        history.contains("rolledback")
            && history.contains("apt: ")
            && history.contains(" nftables"),
        "{history}"
    );
}

/// The role's stored password verifier, read as the server's superuser over the tree's socket.
fn pg_verifier(root: &Path, role: &str) -> String {
    let out = std::process::Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(support::dbserver::pg_bin().join("psql"))
        .args(["-X", "-A", "-t", "-h"])
        .arg(support::dbserver::pg_socket_dir(root))
        .args(["-d", "postgres", "-c"])
        .arg(format!(
            "SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"
        ))
        .current_dir("/")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A weak database password in `.env` for a role of the PostgreSQL cluster running on the host
/// (a throwaway cluster inside the tree): one apply gives the file and the server the same new
/// password (the secret never printed), the rule passes, and rollback puts back the file's
/// bytes and the role's exact previous verifier.
#[test]
fn a_weak_database_password_is_rotated_in_the_file_and_on_the_server() {
    let dir =
        support::fixtures_dir().join("app/env-secrets/seed-000-placeholders-running-postgres.fail");
    let case = support::load_case(&dir);
    let tmp = support::materialise(&dir, &case);
    let root = tmp.path();
    let env = root.join("opt/av-monitoring-mvp/backend/.env");
    let env_before = fs::read(&env).unwrap();
    let verifier_before = pg_verifier(root, "avmvp_user");
    assert!(
        verifier_before.starts_with("SCRAM-SHA-256$"),
        "{verifier_before}"
    );

    let out = harden(root, &["apply", "--unsafe", "--only", "APP-ENV-SECRETS"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rule_status(root, "APP-ENV-SECRETS", &[]), "pass");
    let text = fs::read_to_string(&env).unwrap();
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("DATABASE_URL="))
        .unwrap();
    let password = url
        .split_once("avmvp_user:")
        .and_then(|(_, r)| r.split_once('@'))
        .map(|(p, _)| p)
        .unwrap();
    assert_eq!(password.len(), 32);
    assert!(
        !stdout.contains(password),
        "the new password is printed: {stdout}"
    );
    assert!(
        !stdout.contains("mot_de_passe_fort"),
        "the old one too: {stdout}"
    );
    let verifier_after = pg_verifier(root, "avmvp_user");
    assert!(verifier_after.starts_with("SCRAM-SHA-256$"));
    assert_ne!(
        verifier_after, verifier_before,
        "the server's password did not change"
    );

    rollback_ok(root, "the rotated password");
    assert_eq!(fs::read(&env).unwrap(), env_before);
    assert_eq!(pg_verifier(root, "avmvp_user"), verifier_before);
}

/// A compose PostgreSQL whose data directory holds no cluster yet, with clients naming the
/// service and its container_name: one apply gives POSTGRES_PASSWORD (in the project's `.env`,
/// 0600, owner kept) and every DATABASE_URL the same new password, as compose resolves them;
/// neither the plan's text nor its JSON shows it.
#[test]
fn a_fresh_compose_database_gets_one_new_password_in_the_service_and_its_clients() {
    use rempart_audit::rules::app::env::EnvEntry;
    use rempart_audit::rules::containers::compose;
    use rempart_audit::rules::services::unit::parse_env;

    let dir =
        support::fixtures_dir().join("containers/weak-admin-password/postgres-fresh-bind-dir.fail");
    let case = support::load_case(&dir);
    let tmp = support::materialise(&dir, &case);
    let root = tmp.path();
    let project = root.join("opt/shop");
    let before = snapshot(root);

    // The plan's JSON: the .env's contents (old and new) are placeholders, and no content it
    // shows holds a 32-character random run (what a new password is) or the .env's old URL.
    let out = harden(
        root,
        &["plan", "--json", "--only", "CTR-WEAK-ADMIN-PASSWORD"],
    );
    let plan = json(&out.stdout);
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{plan}");
    for c in changes {
        for state in ["before", "after"] {
            let b64 = c[state]["content"].as_str().unwrap();
            let content = String::from_utf8(
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap(),
            )
            .unwrap();
            if c["path"] == "/opt/shop/.env" {
                assert_eq!(c["secret"], true);
                assert!(content.starts_with("<secret, "), "{content}");
            }
            let longest = content
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .map(str::len)
                .max()
                .unwrap_or(0);
            assert!(longest < 32, "a random value is shown: {content}");
            assert!(!content.contains("shop:shop@db"), "{content}");
        }
    }

    // The text of the apply: the new password, read from the .env afterwards, is not in it.
    let out = harden(root, &["apply", "--only", "CTR-WEAK-ADMIN-PASSWORD"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env_path = project.join(".env");
    let env_text = fs::read_to_string(&env_path).unwrap();
    let password = parse_env(&env_text)
        .into_iter()
        .find(|(k, _, _)| k == "POSTGRES_PASSWORD")
        .map(|(_, v, _)| v)
        .expect("POSTGRES_PASSWORD in the .env");
    assert!(
        !stdout.contains(&password),
        "the new password is shown: {stdout}"
    );
    // The .env's values are hidden (old and new); the compose file's diff shows the literal
    // it replaces by `${POSTGRES_PASSWORD}`, readable there already.
    assert!(
        !stdout.contains("shop:shop@db") && !stdout.contains("SECRET_KEY=4kT9"),
        "the .env's values are shown: {stdout}"
    );

    assert_eq!(rule_status(root, "CTR-WEAK-ADMIN-PASSWORD", &[]), "pass");
    assert_eq!(password.len(), 32);
    assert!(password.bytes().all(|b| b.is_ascii_alphanumeric()));
    let meta = fs::metadata(&env_path).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o600);
    assert_eq!(
        (meta.uid(), meta.gid()),
        (1000, 1000),
        "the .env keeps its owner"
    );

    // What compose resolves, read with the audit's own compose reader.
    let entries: Vec<EnvEntry> = parse_env(&env_text)
        .into_iter()
        .map(|(key, value, line)| EnvEntry {
            key,
            value,
            path: "/opt/shop/.env".into(),
            line,
            text: String::new(),
        })
        .collect();
    let lookup = |k: &str| entries.iter().find(|e| e.key == k).cloned();
    let read = |p: &str| fs::read_to_string(root.join(p.trim_start_matches('/'))).ok();
    let text = fs::read_to_string(project.join("docker-compose.yml")).unwrap();
    assert!(
        !text.contains(&password),
        "the secret went into the compose file"
    );
    let file = compose::parse("/opt/shop/docker-compose.yml", &text, &lookup, &read);
    let value = |service: &str, key: &str| {
        file.services
            .iter()
            .find(|s| s.name == service)
            .and_then(|s| s.env(key))
            .and_then(|e| e.value.clone())
            .unwrap_or_else(|| panic!("{service} has no {key}"))
    };
    assert_eq!(value("db", "POSTGRES_PASSWORD"), password);
    assert_ne!(password, "shop");
    for (service, host) in [("api", "db"), ("worker", "shop-db")] {
        assert_eq!(
            value(service, "DATABASE_URL"),
            format!("postgresql://shop:{password}@{host}:5432/shop"),
            "{service}'s DATABASE_URL"
        );
    }
    rollback_ok(root, "the text apply");
    assert_same(&before, &snapshot(root), "the text apply");
}
