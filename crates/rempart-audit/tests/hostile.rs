//! The whole catalogue on a host tree full of hostile files: symbolic link loops, a fifo behind a
//! configuration name, directories where files belong, a sparse multi-gigabyte file, NUL bytes,
//! invalid UTF-8 and truncated lines. Nothing may panic or hang; every rule whose input is
//! broken reports `error` naming the path; the other rules still judge; every renderer works and
//! the JSON report validates against the schema.
//!
//! To protect a new family: add its hostile files in a `family_tree` function below (called from
//! `hostile_tree`) and the rules it must turn into errors to `EXPECTED_ERRORS`.

mod support;

use rempart_audit::engine::{run_rules, AuditOptions};
use rempart_audit::registry::RULES;
use rempart_audit::report::{
    render_junit, render_markdown, render_sarif, render_text, Finding, Report, TextOptions,
};
use rempart_audit::{AuditConfig, Host, Status};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

/// Rules that must report `error`, and a path their message or evidence must name.
const EXPECTED_ERRORS: &[(&str, &str)] = &[
    // kernel: unreadable sysctl.d entries could set any key.
    ("KRN-SYNCOOKIES", "/etc/sysctl.d/loop.conf"),
    ("KRN-ASLR", "/etc/sysctl.d/31-pipe.conf"),
    ("KRN-KPTR-RESTRICT", "/etc/sysctl.d/50-garbage.conf"),
    ("KRN-SUID-DUMPABLE", "/etc/sysctl.d/99-sysctl.conf"),
    ("KRN-CORE-DUMPS", "/etc/security/limits.d/zz-loop.conf"),
    // accounts: binary /etc/passwd, garbage sudoers.d file.
    ("ACC-UID0", "/etc/passwd"),
    ("ACC-EMPTY-PASSWORD", "/etc/passwd"),
    ("ACC-ROOT-PASSWORD", "/etc/passwd"),
    ("ACC-SERVICE-SHELL", "/etc/passwd"),
    ("ACC-ADMINS", "/etc/passwd"),
    ("ACC-SUDO-NOPASSWD", "/etc/sudoers.d/garbage"),
    // files: binary crypttab.
    ("FILE-SECRETS-PERMS", "/etc/crypttab"),
];

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    symlink(target, p).unwrap();
}

fn mkfifo(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo (coreutils) runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

fn kernel_tree(root: &Path) {
    write(root, "usr/lib/systemd/systemd-sysctl", b"");
    link(root, "etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
    // A 5 GiB sparse /etc/sysctl.conf: refused by size, never read.
    let big = fs::File::create(root.join("etc/sysctl.conf")).unwrap();
    big.set_len(5 << 30).unwrap();
    link(root, "etc/sysctl.d/loop.conf", "loop.conf");
    mkfifo(&root.join("run/pipe"));
    link(root, "etc/sysctl.d/31-pipe.conf", "/run/pipe");
    // A fifo listed directly is skipped, as systemd skips it.
    mkfifo(&root.join("etc/sysctl.d/30-fifo.conf"));
    fs::create_dir_all(root.join("usr/lib/sysctl.d/40-dir.conf")).unwrap();
    write(
        root,
        "etc/sysctl.d/50-garbage.conf",
        b"\x7fELF\x02\x01\x01\x00\x00\x00garbage\xff\xfe",
    );
    write(
        root,
        "etc/sysctl.d/20-latin1.conf",
        b"# R\xe9glages\nkernel.kptr_restrict = \xb2\nnet.ipv4.conf.all.rp_fil\n=\n-\nnet.ipv4.tcp_syncookies = 1",
    );
    write(
        root,
        "etc/security/limits.conf",
        b"*  hard  core  0\n@adm soft\n",
    );
    link(root, "etc/security/limits.d/zz-loop.conf", "zz-loop.conf");
    write(root, "boot/config-6.1.0-9-amd64", b"\x00\x00\x00");
}

fn accounts_tree(root: &Path) {
    write(
        root,
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\nd\xe9mon:x:1:1::/:/bin/sh\x00\x01\x02\ntrunc:x:10",
    );
    write(
        root,
        "etc/shadow",
        b"root:$y$j9T$\xff\xfe:19800:0:99999:7:::\nbad\x00line",
    );
    write(root, "etc/group", b"root:x:0:\nsudo:x:2");
    // A truncated runas list, and an include swallowed by a continuation line before the
    // one that is read.
    write(
        root,
        "etc/sudoers",
        b"Defaults env_reset\n%sudo ALL=(ALL:ALL\nroot ALL=(ALL:ALL) ALL \\\n@includedir /etc/sudoers.d\n#includedir /etc/sudoers.d\n",
    );
    write(root, "etc/sudoers.d/README", b"#\n");
    write(root, "etc/sudoers.d/garbage", b"\x00\x00sudo\xff");
    fs::create_dir_all(root.join("etc/login.defs")).unwrap();
}

fn files_tree(root: &Path) {
    write(
        root,
        "etc/crypttab",
        b"data UUID=1 /root/key luks\n\x00\x01",
    );
    // A world-writable file whose name is not UTF-8: reported, not a crash.
    let p = root.join(OsStr::from_bytes(b"etc/bad-\xff-name"));
    fs::write(&p, b"x").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).unwrap();
    // Links that loop or climb out of the tree are not followed by the walk.
    link(root, "etc/ssl/private/loop.key", "loop.key");
    link(root, "etc/escape", "../../../../../..");
    let mut deep = root.join("opt/app");
    for _ in 0..64 {
        deep = deep.join("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join(".env"), b"SECRET=\xff\x00").unwrap();
    fs::set_permissions(deep.join(".env"), fs::Permissions::from_mode(0o600)).unwrap();
    write(root, "var/lib/dpkg/status", b"Package: docker.io\n\x00\x00");
}

fn hostile_tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    kernel_tree(tmp.path());
    accounts_tree(tmp.path());
    files_tree(tmp.path());
    tmp
}

fn audit(host: &Host) -> Report {
    let config = AuditConfig::parse(
        "hostile",
        "app_paths = [\"/opt/app\", \"/etc/passwd/app\", \"relative/dir\"]\n",
    )
    .unwrap();
    run_rules(host, &config, &AuditOptions::default(), RULES)
}

fn names(f: &Finding, path: &str) -> bool {
    f.message.contains(path)
        || f.evidence.iter().any(|e| {
            e.path.as_deref() == Some(path) || e.note.as_deref().is_some_and(|n| n.contains(path))
        })
}

fn check_report(report: &Report) {
    for f in &report.findings {
        assert!(
            !f.message.contains("internal error"),
            "{} panicked: {}",
            f.id,
            f.message
        );
    }
    let json = serde_json::to_value(report).unwrap();
    let schema = support::report_schema();
    let errors: Vec<String> = schema
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid JSON report: {errors:?}");
    let mut out = Vec::new();
    render_text(
        report,
        TextOptions {
            color: true,
            verbose: true,
        },
        &mut out,
    )
    .unwrap();
    render_sarif(report, &mut out).unwrap();
    render_junit(report, &mut out).unwrap();
    render_markdown(report, &mut out).unwrap();
}

#[test]
fn hostile_files_give_errors_naming_them_and_the_audit_goes_on() {
    let tmp = hostile_tree();
    let host = Host::tree(tmp.path()).unwrap();
    let report = audit(&host);
    check_report(&report);
    let mut problems = Vec::new();
    for (id, path) in EXPECTED_ERRORS {
        match report.findings.iter().find(|f| f.id == *id) {
            None => problems.push(format!("{id} did not run")),
            Some(f) if f.status != Status::Error => problems.push(format!(
                "{id}: expected error, got {}: {}",
                f.status, f.message
            )),
            Some(f) if !names(f, path) => problems.push(format!(
                "{id}: the error does not name {path}: {} {:?}",
                f.message, f.evidence
            )),
            Some(_) => {}
        }
    }
    // The rules whose inputs are intact still judge.
    let judged = |id: &str| {
        report
            .findings
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.status)
    };
    if judged("FILE-WORLD-WRITABLE") != Some(Status::Fail) {
        problems.push(format!(
            "FILE-WORLD-WRITABLE should find the 0666 file: {:?}",
            report
                .findings
                .iter()
                .find(|f| f.id == "FILE-WORLD-WRITABLE")
        ));
    }
    if judged("KRN-SYSCTL-DRIFT") != Some(Status::Skip) {
        problems.push("KRN-SYSCTL-DRIFT should skip under --root".into());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_sysctl_errors_list_every_unreadable_file() {
    let tmp = hostile_tree();
    let host = Host::tree(tmp.path()).unwrap();
    let report = audit(&host);
    let f = report.findings.iter().find(|f| f.id == "KRN-ASLR").unwrap();
    for path in [
        "/etc/sysctl.d/31-pipe.conf",
        "/etc/sysctl.d/50-garbage.conf",
        "/etc/sysctl.d/99-sysctl.conf",
        "/etc/sysctl.d/loop.conf",
    ] {
        assert!(names(f, path), "{path} missing from {:?}", f.evidence);
    }
    assert!(
        !names(f, "/etc/sysctl.d/30-fifo.conf") && !names(f, "/usr/lib/sysctl.d/40-dir.conf"),
        "systemd skips non-regular entries: {:?}",
        f.evidence
    );
}

#[test]
fn unreadable_live_values_are_errors_too() {
    let tmp = hostile_tree();
    write(
        tmp.path(),
        "proc/sys/kernel/randomize_va_space",
        b"\x00\x00\x00",
    );
    fs::create_dir_all(tmp.path().join("proc/sys/kernel/kptr_restrict")).unwrap();
    write(tmp.path(), "proc/sys/kernel/dmesg_restrict", b"0\n");
    let host = Host::tree_with_live_facts(tmp.path()).unwrap();
    let report = audit(&host);
    check_report(&report);
    let get = |id: &str| report.findings.iter().find(|f| f.id == id).unwrap();
    let aslr = get("KRN-ASLR");
    assert_eq!(aslr.status, Status::Error, "{}", aslr.message);
    assert!(names(aslr, "/proc/sys/kernel/randomize_va_space"));
    assert_eq!(get("KRN-KPTR-RESTRICT").status, Status::Error);
    // A bad running value is a failure even when the configuration cannot be read.
    let dmesg = get("KRN-DMESG-RESTRICT");
    assert_eq!(dmesg.status, Status::Fail, "{}", dmesg.message);
}
