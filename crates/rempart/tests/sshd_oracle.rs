//! `rempart facts sshd` against the real thing: for every configuration tree of
//! `tests/sshd-oracle/cases.toml`, Debian's `sshd -T` (openssh-server, installed by
//! `scripts/test-deps`) and rempart must agree on every keyword rempart prints, for each
//! connection of the case, and must refuse the same trees. Include paths are rewritten into the
//! tree for sshd, which only knows absolute paths under `/etc/ssh`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const SSHD: &str = "/usr/sbin/sshd";

/// Keywords rempart prints but does not compare: sshd -T's `hostkey` lists the `-h` key the
/// harness must pass instead of the tree's keys.
const NOT_COMPARED: &[&str] = &["hostkey"];

struct Case {
    name: String,
    conns: Vec<String>,
    files: Vec<(String, String)>,
    dirs: Vec<String>,
}

fn cases() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sshd-oracle/cases.toml");
    let doc: toml::Table = toml::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let list = doc["case"].as_array().unwrap();
    list.iter()
        .map(|c| {
            let t = c.as_table().unwrap();
            let strings = |key: &str| -> Vec<String> {
                t.get(key)
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default()
            };
            Case {
                name: t["name"].as_str().unwrap().to_string(),
                conns: strings("conns"),
                dirs: strings("dirs"),
                files: t["files"]
                    .as_table()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect(),
            }
        })
        .collect()
}

/// Rewrite `Include` arguments of a config text so sshd reads them inside `root`.
fn rewrite_includes(text: &str, root: &Path) -> String {
    let root = root.display().to_string();
    text.split('\n')
        .map(|line| {
            let trimmed = line.trim_start();
            let Some(kw) = trimmed.split([' ', '\t', '=']).next() else {
                return line.to_string();
            };
            if !kw.eq_ignore_ascii_case("include") {
                return line.to_string();
            }
            let args = trimmed[kw.len()..].trim_start_matches([' ', '\t', '=']);
            let rewritten: Vec<String> = args
                .split_whitespace()
                .map(|a| {
                    let (q, bare) = match a.strip_prefix('"') {
                        Some(b) => ("\"", b),
                        None => ("", a),
                    };
                    if bare.starts_with('/') {
                        format!("{q}{root}{bare}")
                    } else {
                        format!("{q}{root}/etc/ssh/{bare}")
                    }
                })
                .collect();
            format!("Include {}", rewritten.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn build_tree(case: &Case, dir: &Path, for_sshd: bool) {
    for d in &case.dirs {
        fs::create_dir_all(dir.join(d)).unwrap();
    }
    for (rel, text) in &case.files {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        let text = if for_sshd {
            rewrite_includes(text, dir)
        } else {
            text.clone()
        };
        fs::write(p, text).unwrap();
    }
    for f in ["passwd", "group", "services"] {
        let src = Path::new("/etc").join(f);
        if src.exists() {
            fs::create_dir_all(dir.join("etc")).unwrap();
            fs::copy(&src, dir.join("etc").join(f)).unwrap();
        }
    }
}

/// `keyword value` lines, in order.
fn lines(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn require_sshd() -> PathBuf {
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} is missing: the oracle test needs Debian's openssh-server (run scripts/test-deps as root)"
    );
    if !Path::new("/run/sshd").is_dir() {
        fs::create_dir_all("/run/sshd").unwrap_or_else(|e| {
            panic!("sshd -T needs /run/sshd (privilege separation directory): {e}; run as root")
        });
    }
    PathBuf::from(SSHD)
}

#[test]
fn rempart_facts_sshd_agrees_with_sshd_t() {
    let sshd = require_sshd();
    let work = tempfile::tempdir().unwrap();
    let key = work.path().join("hostkey");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen (openssh-client) is needed for a throwaway host key");
    assert!(st.success());
    let rempart = env!("CARGO_BIN_EXE_rempart");

    let mut failures = Vec::new();
    let mut compared = 0usize;
    let all = cases();
    assert!(all.len() >= 30, "only {} oracle cases", all.len());
    for case in &all {
        let ours_root = work.path().join(format!("ours-{}", case.name));
        let theirs_root = work.path().join(format!("sshd-{}", case.name));
        build_tree(case, &ours_root, false);
        build_tree(case, &theirs_root, true);
        for conn in &case.conns {
            let label = format!("{} [-C {conn}]", case.name);
            let mut cmd = Command::new(&sshd);
            cmd.current_dir("/")
                .arg("-T")
                .arg("-f")
                .arg(theirs_root.join("etc/ssh/sshd_config"))
                .arg("-h")
                .arg(&key);
            if !conn.is_empty() {
                cmd.args(["-C", conn]);
            }
            let theirs = cmd.output().unwrap();
            let mut ours_cmd = Command::new(rempart);
            ours_cmd.args(["facts", "sshd", "--root"]).arg(&ours_root);
            if !conn.is_empty() {
                ours_cmd.args(["-C", conn]);
            }
            let ours = ours_cmd.output().unwrap();
            let theirs_ok = theirs.status.success();
            let ours_ok = ours.status.success();
            if theirs_ok != ours_ok {
                failures.push(format!(
                    "{label}: sshd {} but rempart {}\n  sshd: {}\n  rempart: {}",
                    if theirs_ok {
                        "accepts it"
                    } else {
                        "refuses it"
                    },
                    if ours_ok { "accepts it" } else { "refuses it" },
                    String::from_utf8_lossy(&theirs.stderr).trim(),
                    String::from_utf8_lossy(&ours.stderr).trim()
                ));
                continue;
            }
            if !ours_ok {
                assert_eq!(ours.status.code(), Some(2), "{label}: error exit must be 2");
                compared += 1;
                continue;
            }
            let ours_lines = lines(&String::from_utf8_lossy(&ours.stdout));
            let keys: Vec<&str> = ours_lines
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| !NOT_COMPARED.contains(k))
                .collect();
            let theirs_lines: Vec<(String, String)> =
                lines(&String::from_utf8_lossy(&theirs.stdout))
                    .into_iter()
                    .filter(|(k, _)| keys.contains(&k.as_str()))
                    .collect();
            let ours_lines: Vec<(String, String)> = ours_lines
                .into_iter()
                .filter(|(k, _)| !NOT_COMPARED.contains(&k.as_str()))
                .collect();
            if ours_lines != theirs_lines {
                let diff: Vec<String> = theirs_lines
                    .iter()
                    .filter(|l| !ours_lines.contains(l))
                    .map(|(k, v)| format!("  sshd:    {k} {v}"))
                    .chain(
                        ours_lines
                            .iter()
                            .filter(|l| !theirs_lines.contains(l))
                            .map(|(k, v)| format!("  rempart: {k} {v}")),
                    )
                    .collect();
                failures.push(format!(
                    "{label}: outputs differ{}\n{}",
                    if diff.is_empty() { " (order)" } else { "" },
                    diff.join("\n")
                ));
            }
            compared += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} comparisons disagree with sshd -T:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 60, "only {compared} comparisons ran");
}

#[test]
fn include_rewriting_maps_paths_into_the_tree() {
    let root = Path::new("/tmp/t");
    assert_eq!(
        rewrite_includes("Include /etc/ssh/a/*.conf\n  include b.conf c\nX 1", root),
        "Include /tmp/t/etc/ssh/a/*.conf\nInclude /tmp/t/etc/ssh/b.conf /tmp/t/etc/ssh/c\nX 1"
    );
}
