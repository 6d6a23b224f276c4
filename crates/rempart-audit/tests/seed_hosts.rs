//! End to end: one host tree per seed guide (`tests/hosts/<host>/{insecure,hardened}`), built from
//! the guide's own files and commands. The insecure tree fails the measures the guide takes
//! (`expect.toml`); the hardened tree, set up as the guide says, fails none of them and nothing
//! else required at the `sme` level.

mod support;

use rempart_audit::{AuditConfig, AuditOptions, Host, Level, Status};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    modes: BTreeMap<String, String>,
    #[serde(default)]
    owners: BTreeMap<String, String>,
    #[serde(default)]
    dirs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Rule ids that must fail.
    fail: Vec<String>,
}

fn hosts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hosts")
}

fn materialise(variant: &Path) -> tempfile::TempDir {
    let m: Manifest =
        toml::from_str(&fs::read_to_string(variant.join("host.toml")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    support::copy_tree(&variant.join("root"), tmp.path());
    for d in &m.dirs {
        fs::create_dir_all(tmp.path().join(d)).unwrap();
    }
    for (p, mode) in &m.modes {
        let mode = u32::from_str_radix(mode, 8).unwrap();
        fs::set_permissions(tmp.path().join(p), fs::Permissions::from_mode(mode)).unwrap();
    }
    for (p, o) in &m.owners {
        let (u, g) = o.split_once(':').unwrap();
        std::os::unix::fs::lchown(
            tmp.path().join(p),
            Some(u.parse().unwrap()),
            Some(g.parse().unwrap()),
        )
        .unwrap();
    }
    tmp
}

fn audit(variant: &Path) -> rempart_audit::Report {
    let tmp = materialise(variant);
    let host = Host::tree(tmp.path()).unwrap();
    let opts = AuditOptions {
        profile: Level::Sme,
        ..AuditOptions::default()
    };
    rempart_audit::run(&host, &AuditConfig::default(), &opts)
}

fn expect(variant: &Path) -> Expect {
    toml::from_str(&fs::read_to_string(variant.join("expect.toml")).unwrap()).unwrap()
}

fn check_host(name: &str) {
    let dir = hosts_dir().join(name);
    let insecure = audit(&dir.join("insecure"));
    let hardened = audit(&dir.join("hardened"));
    let want = expect(&dir.join("insecure"));
    let mut problems = Vec::new();
    for id in &want.fail {
        match insecure.findings.iter().find(|f| &f.id == id) {
            Some(f) if f.status == Status::Fail => {}
            Some(f) => problems.push(format!("insecure: {id} is {} ({})", f.status, f.message)),
            None => problems.push(format!("insecure: {id} did not run")),
        }
    }
    for f in &hardened.findings {
        if matches!(f.status, Status::Fail | Status::Error)
            && (f.is_blocking(rempart_audit::Severity::Low)
                || want.fail.contains(&f.id)
                || f.status == Status::Error)
        {
            problems.push(format!(
                "hardened: {} {}: {} {:?}",
                f.id, f.status, f.message, f.evidence
            ));
        }
    }
    for f in &insecure.findings {
        if f.status == Status::Error {
            problems.push(format!("insecure: {} error: {}", f.id, f.message));
        }
    }
    let unexpected: Vec<&str> = insecure
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail && f.required && !want.fail.contains(&f.id))
        .map(|f| f.id.as_str())
        .collect();
    assert!(
        problems.is_empty(),
        "{name}:\n{}\n(insecure also fails, not listed in expect.toml: {unexpected:?})",
        problems.join("\n")
    );
    assert!(
        unexpected.is_empty(),
        "{name}: the insecure tree fails rules expect.toml does not list (add them, or fix the rule): {unexpected:?}"
    );
}

#[test]
fn seed_000_fastapi_traefik_postgresql() {
    check_host("avmonitoring");
}

#[test]
fn seed_001_docker_compose_monitoring_fail2ban() {
    check_host("koprogo");
}

#[test]
fn seed_002_raspberry_pi_django_mariadb_apache() {
    check_host("raspberry");
}
