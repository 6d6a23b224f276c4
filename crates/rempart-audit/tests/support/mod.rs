//! Helpers shared by the integration tests: fixture cases (a root tree plus a `case.toml`), tree
//! copying with modes and owners that git cannot carry, and the report schema.

#![allow(dead_code)]

pub mod dbserver;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

/// The fixture cases (this module is also included by the binary crate's tests, hence the path
/// through `../rempart-audit`).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rempart-audit/tests/fixtures")
}

/// `../shared` beside the repository (CI puts it there).
pub fn shared_dir() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        p.join("schemas").is_dir(),
        "../shared is missing beside the repository ({}); CI provides it",
        p.display()
    );
    p
}

/// The case description next to a fixture's `root/`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The rule judged.
    pub rule: String,
    /// pass | fail | skip | error | n/a
    pub expect: String,
    #[serde(default)]
    pub profile: Option<String>,
    /// At least one evidence item must have all these fields.
    #[serde(default)]
    pub evidence: Option<ExpectedEvidence>,
    /// The outcome's message must contain this text.
    #[serde(default)]
    pub message_contains: Option<String>,
    /// Octal modes to set, by path relative to `root/`.
    #[serde(default)]
    pub modes: std::collections::BTreeMap<String, String>,
    /// `uid:gid` owners to set, by path relative to `root/`.
    #[serde(default)]
    pub owners: std::collections::BTreeMap<String, String>,
    /// Empty directories to create (git keeps none).
    #[serde(default)]
    pub dirs: Vec<String>,
    /// Treat the tree as a running system (its `proc/` stands for the live kernel).
    #[serde(default)]
    pub live: bool,
    /// A rempart.toml to audit with.
    #[serde(default)]
    pub config: Option<String>,
    /// Why this case exists (not checked).
    #[serde(default)]
    pub about: Option<String>,
    /// Ages to give files (`"72h"`, `"30m"`, `"2d"`), by path relative to `root/`: their
    /// modification time is set that far in the past.
    #[serde(default)]
    pub ages: std::collections::BTreeMap<String, String>,
    /// A throwaway database server to start inside the tree (live database rules).
    #[serde(default)]
    pub server: Option<dbserver::ServerSpec>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedEvidence {
    pub path: Option<String>,
    pub line: Option<u32>,
    pub key: Option<String>,
    pub actual: Option<toml::Value>,
}

/// Every `case.toml` under the fixtures directory, sorted.
pub fn all_cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![fixtures_dir()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == "root") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "case.toml") {
                out.push(p.parent().unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

pub fn load_case(dir: &Path) -> Case {
    let text = fs::read_to_string(dir.join("case.toml")).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Copy a tree, keeping symbolic links as links.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    let Ok(rd) = fs::read_dir(from) else { return };
    for e in rd.flatten() {
        let src = e.path();
        let dst = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A materialised case: its tree, and the server running inside it (stopped on drop, before
/// the tree is removed).
pub struct Materialised {
    pub server: Option<dbserver::Server>,
    pub dir: tempfile::TempDir,
}

impl Materialised {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn parse_age(s: &str) -> std::time::Duration {
    let (n, unit) = s.split_at(s.len() - 1);
    let n: u64 = n.parse().unwrap_or_else(|_| panic!("bad age {s}"));
    std::time::Duration::from_secs(match unit {
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => panic!("bad age unit in {s} (m, h or d)"),
    })
}

/// Materialise a case's root tree in a temp dir, with its modes, owners, ages and empty dirs,
/// and start its server if it has one.
pub fn materialise(dir: &Path, case: &Case) -> Materialised {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&dir.join("root"), tmp.path());
    for d in &case.dirs {
        fs::create_dir_all(tmp.path().join(d)).unwrap();
    }
    for (path, mode) in &case.modes {
        let m = u32::from_str_radix(mode, 8).unwrap_or_else(|_| panic!("bad mode {mode}"));
        fs::set_permissions(tmp.path().join(path), fs::Permissions::from_mode(m))
            .unwrap_or_else(|e| panic!("{}: chmod {path}: {e}", dir.display()));
    }
    for (path, owner) in &case.owners {
        let (u, g) = owner.split_once(':').expect("owner is uid:gid");
        std::os::unix::fs::lchown(
            tmp.path().join(path),
            Some(u.parse().unwrap()),
            Some(g.parse().unwrap()),
        )
        .unwrap_or_else(|e| panic!("{}: chown {path}: {e}", dir.display()));
    }
    for (path, age) in &case.ages {
        let when = std::time::SystemTime::now() - parse_age(age);
        fs::File::options()
            .write(true)
            .open(tmp.path().join(path))
            .and_then(|f| f.set_modified(when))
            .unwrap_or_else(|e| panic!("{}: age {path}: {e}", dir.display()));
    }
    let server = case
        .server
        .as_ref()
        .map(|spec| dbserver::start(tmp.path(), spec));
    Materialised { server, dir: tmp }
}

/// A seed host tree (`tests/hosts/<host>/<variant>`, variant `insecure` or `hardened`)
/// materialised with the modes, owners and empty directories of its `host.toml`.
pub fn materialise_seed_host(host: &str, variant: &str) -> Materialised {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rempart-audit/tests/hosts")
        .join(host)
        .join(variant);
    #[derive(serde::Deserialize)]
    struct Manifest {
        #[serde(default)]
        modes: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        owners: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        dirs: Vec<String>,
    }
    let m: Manifest = toml::from_str(&fs::read_to_string(dir.join("host.toml")).unwrap()).unwrap();
    let case = Case {
        modes: m.modes,
        owners: m.owners,
        dirs: m.dirs,
        ..Case::default()
    };
    materialise(&dir, &case)
}

/// The audit report schema, compiled.
pub fn report_schema() -> jsonschema::Validator {
    let text = fs::read_to_string(shared_dir().join("schemas/audit-report.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}
