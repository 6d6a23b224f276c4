//! `rempart facts sshd`: output form, `-C`, `--origin`, and exit status 2 on every operational
//! error (missing sshd, a configuration sshd would refuse, a bad -C specification).

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

fn facts(root: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("rempart")
        .unwrap()
        .args(["facts", "sshd", "--root"])
        .arg(root)
        .args(extra)
        .assert()
}

const CLOUD: &[(&str, &str)] = &[
    (
        "etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\nMatch User root\n  PermitRootLogin yes\n",
    ),
    (
        "etc/ssh/sshd_config.d/50-cloud-init.conf",
        "PasswordAuthentication yes\n",
    ),
];

#[test]
fn prints_the_effective_config_like_sshd_t() {
    let t = tree(CLOUD);
    let out = facts(t.path(), &[]).success().get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("port 22\naddressfamily any\n"), "{out}");
    assert!(out.contains("\npasswordauthentication yes\n"), "{out}");
    assert!(
        out.contains("\npermitrootlogin without-password\n"),
        "{out}"
    );
    assert!(out.lines().all(|l| {
        let k = l.split(' ').next().unwrap();
        !k.is_empty() && k == k.to_ascii_lowercase()
    }));
}

#[test]
fn connection_spec_applies_match_blocks() {
    let t = tree(CLOUD);
    let out = facts(t.path(), &["-C", "user=root,host=h,addr=192.0.2.1"])
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("\npermitrootlogin yes\n"));
}

#[test]
fn origin_names_the_dropin_line() {
    let t = tree(CLOUD);
    let out = facts(t.path(), &["--origin"])
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("passwordauthentication yes  # /etc/ssh/sshd_config.d/50-cloud-init.conf:1"),
        "{out}"
    );
    assert!(out.contains("maxauthtries 6  # default"), "{out}");
}

#[test]
fn refused_configuration_exits_2_with_file_and_line() {
    let t = tree(&[(
        "etc/ssh/sshd_config",
        "PasswordAuthentication no\nPermitRootLogin maybe\n",
    )]);
    let err = facts(t.path(), &[]).code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("/etc/ssh/sshd_config line 2") && err.contains("maybe"),
        "{err}"
    );
}

#[test]
fn operational_errors_exit_2() {
    let empty = tree(&[("etc/hostname", "web1\n")]);
    let err = facts(empty.path(), &[]).code(2).get_output().stderr.clone();
    assert!(String::from_utf8(err)
        .unwrap()
        .contains("no OpenSSH server"));
    let t = tree(CLOUD);
    facts(t.path(), &["-C", "colour=blue"]).code(2);
    facts(Path::new("/nonexistent/rempart-root"), &[]).code(2);
    let lport = tree(&[(
        "etc/ssh/sshd_config",
        "Match LocalPort 2222\n  PasswordAuthentication no\n",
    )]);
    let err = facts(lport.path(), &["-C", "user=u"])
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("lport"));
}
