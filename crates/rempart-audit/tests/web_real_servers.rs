//! The web fixtures checked by the real servers: every Apache and nginx fixture tree is given to
//! `apache2ctl -t` / `nginx -t` as if it were the host's /etc (in a private mount namespace: a
//! scratch /etc made of the fixture's files and links to the real entries is bind-mounted on
//! /etc for that process only; the real /etc is never written). A fixture our parser accepts must pass the
//! server's own configtest, and a fixture whose expected verdict is `error` because of a syntax
//! problem must fail it: rempart and the server agree on what the configuration is.
//!
//! Needs root, `unshare`, and the Debian packages apache2, nginx, libapache2-mod-evasive and
//! libapache2-mod-security2 (scripts/test-deps installs them).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

fn require(bin: &str) {
    assert!(
        Path::new(bin).exists(),
        "{bin} is missing: run scripts/test-deps (installs apache2, nginx, libapache2-mod-evasive, libapache2-mod-security2)"
    );
}

/// Lay `fixture` over `real` into `out`: entries only in the real /etc become symbolic links
/// to `link_base` (where the real /etc stays visible inside the namespace), directories in both
/// are merged, and the fixture wins for files and for the servers' own directories (a site the
/// fixture does not enable must not come from the real host).
fn overlay(real: &Path, fixture: &Path, out: &Path, link_base: &Path) {
    std::fs::create_dir_all(out).unwrap();
    let names = |d: &Path| -> Vec<std::ffi::OsString> {
        std::fs::read_dir(d)
            .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default()
    };
    for name in names(real) {
        let f = fixture.join(&name);
        let r = real.join(&name);
        let whole = name == "apache2" || name == "nginx";
        if f.symlink_metadata().is_ok() {
            if !whole && f.is_dir() && r.is_dir() && !r.is_symlink() {
                overlay(&r, &f, &out.join(&name), &link_base.join(&name));
            }
            continue;
        }
        std::os::unix::fs::symlink(link_base.join(&name), out.join(&name)).unwrap();
    }
    for name in names(fixture) {
        let dst = out.join(&name);
        if dst.symlink_metadata().is_ok() {
            continue;
        }
        let st = Command::new("cp")
            .arg("-a")
            .arg(fixture.join(&name))
            .arg(&dst)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

/// Run `check` with the fixture's etc laid over the real /etc.
fn configtest(root: &Path, check: &str) -> (bool, String) {
    let scratch = tempfile::tempdir().unwrap();
    let real = scratch.path().join("real-etc");
    let merged = scratch.path().join("etc");
    std::fs::create_dir_all(&real).unwrap();
    overlay(Path::new("/etc"), &root.join("etc"), &merged, &real);
    let script = format!(
        "mount --bind /etc {real} && mount --bind {merged} /etc && {check}",
        real = real.display(),
        merged = merged.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare must be available (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn web_cases(marker: &str) -> Vec<PathBuf> {
    all_cases()
        .into_iter()
        .filter(|d| d.starts_with(fixtures_dir().join("web")))
        .filter(|d| d.join("root").join(marker).exists())
        .collect()
}

fn run_all(marker: &str, check: &str) {
    let cases = web_cases(marker);
    assert!(!cases.is_empty(), "no fixture with {marker}");
    let mut disagreements = Vec::new();
    for dir in &cases {
        let case = load_case(dir);
        let tmp = materialise(dir, &case);
        let (ok, out) = configtest(tmp.path(), check);
        let syntax_error = case.expect == "error";
        if ok == syntax_error {
            disagreements.push(format!(
                "{}: rempart expects {}, `{check}` {}:\n{out}",
                dir.strip_prefix(fixtures_dir()).unwrap().display(),
                case.expect,
                if ok { "accepts it" } else { "rejects it" }
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} fixtures disagree with the real server:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

#[test]
fn apache_fixtures_pass_apache2ctl_configtest() {
    require("/usr/sbin/apache2ctl");
    require("/usr/lib/apache2/modules/mod_evasive20.so");
    require("/usr/lib/apache2/modules/mod_security2.so");
    run_all("etc/apache2/apache2.conf", "apache2ctl -t");
}

#[test]
fn nginx_fixtures_pass_nginx_configtest() {
    require("/usr/sbin/nginx");
    run_all("etc/nginx/nginx.conf", "nginx -t -q");
}
