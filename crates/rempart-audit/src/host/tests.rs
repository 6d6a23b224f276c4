use super::*;
use std::os::unix::fs::symlink;

fn tree() -> (tempfile::TempDir, Host) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("etc/ssh/sshd_config.d")).unwrap();
    fs::create_dir_all(dir.path().join("usr/lib")).unwrap();
    let host = Host::tree(dir.path()).unwrap();
    (dir, host)
}

#[test]
fn absolute_symlink_targets_stay_inside_the_root() {
    let (dir, host) = tree();
    fs::write(dir.path().join("usr/lib/real.conf"), "inside\n").unwrap();
    symlink("/usr/lib/real.conf", dir.path().join("etc/link.conf")).unwrap();
    let f = host.read_text("/etc/link.conf").unwrap().unwrap();
    assert_eq!(f.text, "inside\n");
    assert_eq!(f.path, "/etc/link.conf");
}

#[test]
fn dotdot_never_climbs_above_the_root() {
    let (dir, host) = tree();
    fs::write(dir.path().join("passwd"), "root-of-tree\n").unwrap();
    symlink("../../../../../../passwd", dir.path().join("etc/escape")).unwrap();
    let f = host.read_text("/etc/escape").unwrap().unwrap();
    assert_eq!(f.text, "root-of-tree\n");
}

#[test]
fn symlink_loops_are_an_error_not_a_hang() {
    let (dir, host) = tree();
    symlink("/etc/b", dir.path().join("etc/a")).unwrap();
    symlink("/etc/a", dir.path().join("etc/b")).unwrap();
    let err = host.read_text("/etc/a").unwrap_err();
    assert!(matches!(err, HostError::SymlinkLoop { .. }), "{err}");
    assert!(err.to_string().contains("/etc/a"));
}

#[test]
fn missing_files_are_none_not_errors() {
    let (_dir, host) = tree();
    assert!(host.read_text("/etc/nothing").unwrap().is_none());
    assert!(host.metadata("/etc/nothing/deeper").unwrap().is_none());
}

#[test]
fn oversized_files_are_refused_with_their_size() {
    let (dir, host) = tree();
    let host = host.with_max_file(10);
    fs::write(dir.path().join("etc/big"), "0123456789abcdef").unwrap();
    let err = host.read("/etc/big").unwrap_err();
    assert_eq!(
        err,
        HostError::TooLarge {
            path: "/etc/big".into(),
            size: 16,
            limit: 10
        }
    );
}

#[test]
fn binary_files_are_refused_and_invalid_utf8_is_flagged() {
    let (dir, host) = tree();
    fs::write(dir.path().join("etc/bin"), b"abc\0def").unwrap();
    fs::write(dir.path().join("etc/latin1"), b"# Modifi\xe9\nPort 22\n").unwrap();
    assert!(matches!(
        host.read_text("/etc/bin"),
        Err(HostError::Binary { offset: 3, .. })
    ));
    let f = host.read_text("/etc/latin1").unwrap().unwrap();
    assert!(f.lossy);
    assert_eq!(f.line(2), Some("Port 22"));
}

#[test]
fn directories_are_not_read_as_files() {
    let (_dir, host) = tree();
    assert!(matches!(
        host.read("/etc/ssh"),
        Err(HostError::NotAFile { .. })
    ));
}

#[test]
fn glob_expands_in_lexical_order() {
    let (dir, host) = tree();
    for n in [
        "50-cloud-init.conf",
        "10-a.conf",
        "99-z.conf",
        "notes.txt",
        ".hidden.conf",
    ] {
        fs::write(dir.path().join("etc/ssh/sshd_config.d").join(n), "").unwrap();
    }
    let got = host.glob("/etc/ssh/sshd_config.d/*.conf").unwrap();
    assert_eq!(
        got,
        [
            "/etc/ssh/sshd_config.d/10-a.conf",
            "/etc/ssh/sshd_config.d/50-cloud-init.conf",
            "/etc/ssh/sshd_config.d/99-z.conf"
        ]
    );
    assert_eq!(
        host.glob("/etc/ssh/nothing*").unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(host.glob("/etc/ssh").unwrap(), ["/etc/ssh"]);
}

#[test]
fn walk_does_not_follow_symlinks_and_reports_every_entry() {
    let (dir, host) = tree();
    fs::write(dir.path().join("etc/ssh/sshd_config"), "").unwrap();
    symlink("/", dir.path().join("etc/ssh/loop")).unwrap();
    let mut seen = Vec::new();
    let complete = host.walk("/etc", 1000, &mut |e| seen.push(e.path.clone()), &mut |e| {
        panic!("{e}")
    });
    assert!(complete);
    assert!(seen.contains(&"/etc/ssh/sshd_config".to_string()));
    assert!(seen.contains(&"/etc/ssh/loop".to_string()));
    assert!(!seen.iter().any(|p| p.starts_with("/etc/ssh/loop/")));
}

#[test]
fn proc_sys_is_never_read_under_a_root_tree() {
    let (_dir, host) = tree();
    assert!(host.proc_sys("kernel.randomize_va_space").is_none());
}

#[test]
fn fifos_are_refused_without_blocking() {
    let (dir, host) = tree();
    let fifo = dir.path().join("etc/fifo.conf");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(made.success());
    let err = host.read_text("/etc/fifo.conf").unwrap_err();
    assert!(
        matches!(err, HostError::NotAFile { kind: "fifo", .. }),
        "{err}"
    );
}

#[test]
fn canonical_paths_resolve_links_inside_the_root() {
    let (dir, host) = tree();
    fs::create_dir_all(dir.path().join("data/pg")).unwrap();
    symlink("/data/pg", dir.path().join("usr/lib/pg")).unwrap();
    assert_eq!(host.canonical("/usr/lib/pg").unwrap(), "/data/pg");
    assert_eq!(
        host.canonical("/usr/lib/pg/15/main").unwrap(),
        "/data/pg/15/main"
    );
    assert_eq!(host.canonical("/etc").unwrap(), "/etc");
    assert!(host.canonical("relative").is_err());
}

#[test]
fn read_head_reads_only_the_start() {
    let (dir, host) = tree();
    fs::write(dir.path().join("etc/script"), "#!/bin/sh\necho hi\n").unwrap();
    assert_eq!(host.read_head("/etc/script", 2).unwrap().unwrap(), b"#!");
    assert_eq!(
        host.read_head("/etc/script", 100).unwrap().unwrap().len(),
        18
    );
    assert!(host.read_head("/etc/none", 2).unwrap().is_none());
    assert!(host.read_head("/etc", 2).is_err());
}
