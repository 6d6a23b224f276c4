//! The compose files the container fixes write are valid compose files, as docker-compose
//! itself reads them: `docker-compose -f FILE config -q` (Debian bookworm's docker-compose
//! 1.29, which validates against the compose schema without a Docker engine; the `docker
//! compose` v2 plugin is not packaged in bookworm). Needs the docker-compose package
//! (scripts/test-deps).

#[path = "../../rempart-audit/tests/support/mod.rs"]
mod support;

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

fn rempart() -> Command {
    let mut c = Command::cargo_bin("rempart").unwrap();
    c.env("REMPART_HARDEN_NO_CHECK", "1");
    c
}

/// docker-compose, or a failure saying how to get it.
fn docker_compose() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("docker-compose"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("docker-compose is not installed: apt-get install docker-compose (scripts/test-deps)")
        })
}

/// `docker-compose config -q` on a host compose file of `root`: `Err(message)` when invalid.
fn config(root: &Path, file: &str) -> Result<(), String> {
    let path = root.join(file.trim_start_matches('/'));
    let out = std::process::Command::new(docker_compose())
        .arg("-f")
        .arg(&path)
        .args(["config", "-q"])
        .current_dir(path.parent().unwrap())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Every regular file of a tree, as a host path.
fn host_files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                walk(root, &p, out);
            } else if m.is_file() {
                out.push(format!("/{}", p.strip_prefix(root).unwrap().display()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// Applies the fixes of `rules` to `root` and returns the paths they changed.
fn apply(root: &Path, rules: &str) -> Vec<String> {
    let plan = rempart()
        .args(["harden", "plan", "--json", "--only", rules, "--root"])
        .arg(root)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let paths: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap().to_string())
        .collect();
    let out = rempart()
        .args(["harden", "apply", "--unsafe", "--only", rules, "--root"])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    paths
}

#[test]
fn the_checker_refuses_a_volumes_key_left_with_only_comments() {
    // Why the socket fix writes `volumes: []` when the socket was Traefik's only volume.
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("docker-compose.yml"),
        "services:\n  traefik:\n    image: traefik:v3.1\n    volumes:\n      # gone\n",
    )
    .unwrap();
    let err = config(dir.path(), "docker-compose.yml").unwrap_err();
    assert!(err.contains("volumes"), "{err}");
}

#[test]
fn koprogo_compose_files_stay_valid_after_the_socket_proxy_and_cadvisor_fixes() {
    let tree = support::materialise_seed_host("koprogo", "insecure");
    let root = tree.path();
    let files = [
        "/home/koprogo/koprogo/docker-compose.yml",
        "/home/koprogo/koprogo/monitoring/docker-compose.monitoring.yml",
    ];
    for f in files {
        config(root, f).unwrap_or_else(|e| panic!("{f} before the fixes: {e}"));
    }
    let changed = apply(
        root,
        "WEB-TRAEFIK-DOCKER-SOCKET,CTR-DOCKER-SOCKET,CTR-PRIVILEGED",
    );
    for f in files {
        assert!(
            changed.iter().any(|c| c == f),
            "{f} not changed: {changed:?}"
        );
        config(root, f).unwrap_or_else(|e| panic!("{f} after the fixes: {e}"));
    }
    let main = fs::read_to_string(root.join(files[0].trim_start_matches('/'))).unwrap();
    assert_eq!(
        main.matches("tecnativa/docker-socket-proxy:v0.4.2").count(),
        1,
        "one proxy, even with both rules fixed:\n{main}"
    );
}

#[test]
fn every_fixed_socket_and_privileged_fixture_stays_a_valid_compose_file() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in support::all_cases() {
        let case = support::load_case(&dir);
        let ours = [
            "CTR-DOCKER-SOCKET",
            "WEB-TRAEFIK-DOCKER-SOCKET",
            "CTR-PRIVILEGED",
        ];
        if case.expect != "fail" || !ours.contains(&case.rule.as_str()) {
            continue;
        }
        let tree = support::materialise(&dir, &case);
        let root = tree.path();
        // The compose files rempart read in this tree, and which of them docker-compose 1.29
        // accepts as they are (a file using a newer compose feature, such as a top-level
        // `name:`, is judged by the fix's not making it worse: it is skipped).
        let valid: Vec<String> = host_files(root)
            .into_iter()
            .filter(|p| p.ends_with(".yml") || p.ends_with(".yaml"))
            .filter(|p| !p.contains("traefik.y") && !p.contains("prometheus"))
            .filter(|p| config(root, p).is_ok())
            .collect();
        for path in apply(root, &case.rule) {
            if !valid.contains(&path) {
                continue;
            }
            checked += 1;
            if let Err(e) = config(root, &path) {
                failures.push(format!("{}: {path}: {e}", dir.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked >= 4,
        "only {checked} fixed compose files were checked"
    );
}

#[test]
fn both_socket_rules_fixed_in_one_plan_write_one_proxy_and_both_pass() {
    let dir = support::fixtures_dir().join("containers/docker-socket/traefik-socket.fail");
    let case = support::load_case(&dir);
    let tree = support::materialise(&dir, &case);
    let root = tree.path();
    let changed = apply(root, "CTR-DOCKER-SOCKET,WEB-TRAEFIK-DOCKER-SOCKET");
    assert_eq!(changed, vec!["/opt/edge/docker-compose.yml".to_string()]);
    let text = fs::read_to_string(root.join("opt/edge/docker-compose.yml")).unwrap();
    // The proxy service once, and its network once (both are `  socket-proxy:` lines).
    assert_eq!(text.matches("\n  socket-proxy:\n").count(), 2, "{text}");
    assert_eq!(text.matches("image: tecnativa/").count(), 1, "{text}");
    assert_eq!(text.matches("\nnetworks:\n").count(), 1, "{text}");
    assert_eq!(text.matches("      - default\n").count(), 1, "{text}");
    config(root, "/opt/edge/docker-compose.yml").unwrap();
    let report = rempart()
        .args(["audit", "--format", "json", "--profile", "sme", "--root"])
        .arg(root)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    for id in ["CTR-DOCKER-SOCKET", "WEB-TRAEFIK-DOCKER-SOCKET"] {
        let f = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap();
        assert_eq!(f["status"], "pass", "{id}: {f}");
    }
}

/// cAdvisor's socket is left to the admin, and the reason says when the host's Docker is too old
/// for the one way out the audit accepts (a non-recursive bind needs Docker Engine 25):
/// koprogo runs Debian's docker.io 20.10; with Docker's docker-ce 25 the sentence is gone.
#[test]
fn cadvisor_is_declined_naming_an_engine_too_old_for_non_recursive_binds() {
    let tree = support::materialise_seed_host("koprogo", "insecure");
    let root = tree.path();
    let reason = |root: &Path| -> String {
        let out = rempart()
            .args([
                "harden",
                "plan",
                "--json",
                "--only",
                "CTR-DOCKER-SOCKET",
                "--root",
            ])
            .arg(root)
            .output()
            .unwrap();
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        plan["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["rule"] == "CTR-DOCKER-SOCKET")
            .map(|s| s["reason"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let old = reason(root);
    assert!(old.contains("service cadvisor"), "{old}");
    assert!(
        old.contains("this host's Docker (docker.io 20.10.24+dfsg1-1+deb12u1) predates"),
        "{old}"
    );
    let status = root.join("var/lib/dpkg/status");
    let text = fs::read_to_string(&status).unwrap();
    let text = text
        .replace("Package: docker.io\n", "Package: docker-ce\n")
        .replace("20.10.24+dfsg1-1+deb12u1", "5:25.0.3-1~debian.12~bookworm");
    fs::write(&status, text).unwrap();
    let new = reason(root);
    assert!(new.contains("service cadvisor"), "{new}");
    assert!(!new.contains("predates"), "{new}");
}
