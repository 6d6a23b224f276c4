//! Races simulated deterministically: the walker's steps are called after the tree has
//! changed between listing and visiting, as a concurrent writer would make it.

use super::fs;
use super::walk::{DirJob, Walker};
use super::{Collect, IssueKind, ScanRoot};
use crate::entry::Kind;
use crate::policy::{Policy, RuleSpec};
use rustix::fd::AsFd;
use rustix::fs::{FileType, OFlags};
use std::time::Instant;

fn setup() -> (tempfile::TempDir, crate::policy::CompiledPolicy) {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("etc/sub")).unwrap();
    std::fs::write(d.path().join("etc/file"), b"x").unwrap();
    let p = Policy {
        hash: Default::default(),
        exclude: Vec::new(),
        rules: vec![RuleSpec::new("/etc", &["content"])],
    }
    .compile()
    .unwrap();
    (d, p)
}

#[test]
fn a_file_that_vanishes_after_listing_is_an_issue_not_an_entry() {
    let (d, p) = setup();
    let root = ScanRoot::open(d.path()).unwrap();
    let sink = Collect::default();
    let w = Walker::new(&root, &p, &sink);
    let ri = w.root_index(b"/etc").unwrap();
    let dir =
        fs::open_beneath(root.fd.as_fd(), b"etc", OFlags::RDONLY | OFlags::DIRECTORY).unwrap();
    let mut out = Vec::new();
    rayon::scope(|s| {
        w.visit(
            s,
            dir.as_fd(),
            b"/etc",
            Some(ri),
            c"gone",
            Some(FileType::RegularFile),
            &mut out,
        );
        w.visit(
            s,
            dir.as_fd(),
            b"/etc",
            Some(ri),
            c"gone-dir",
            Some(FileType::Directory),
            &mut out,
        );
    });
    assert!(out.is_empty());
    let o = w.finish(Instant::now());
    assert_eq!(o.issues.len(), 2, "{:?}", o.issues);
    assert!(o
        .issues
        .iter()
        .all(|i| i.kind == IssueKind::Vanished && !i.subtree));
}

#[test]
fn a_directory_replaced_before_it_is_opened_is_not_walked() {
    let (d, p) = setup();
    let root = ScanRoot::open(d.path()).unwrap();
    let sink = Collect::default();
    let w = Walker::new(&root, &p, &sink);
    let ri = w.root_index(b"/etc").unwrap();
    // The parent saw /etc/sub with another inode: it was swapped since.
    rayon::scope(|s| {
        w.walk_dir(
            s,
            DirJob {
                path: b"/etc/sub".to_vec(),
                root: Some(ri),
                dev: 0,
                inode: 1,
            },
        );
    });
    // Or replaced by a link pointing out of the tree.
    std::fs::remove_dir(d.path().join("etc/sub")).unwrap();
    std::os::unix::fs::symlink("/", d.path().join("etc/sub")).unwrap();
    rayon::scope(|s| {
        w.walk_dir(
            s,
            DirJob {
                path: b"/etc/sub".to_vec(),
                root: Some(ri),
                dev: 0,
                inode: 1,
            },
        );
    });
    let o = w.finish(Instant::now());
    assert_eq!(o.issues.len(), 2, "{:?}", o.issues);
    assert!(
        o.issues
            .iter()
            .all(|i| i.kind == IssueKind::Replaced && i.subtree),
        "{:?}",
        o.issues
    );
    assert!(sink.into_sorted().is_empty());
}

#[test]
fn a_regular_file_swapped_for_a_fifo_or_a_link_is_described_not_read() {
    let (d, p) = setup();
    let root = ScanRoot::open(d.path()).unwrap();
    let sink = Collect::default();
    let w = Walker::new(&root, &p, &sink);
    let ri = w.root_index(b"/etc").unwrap();
    // Listed as regular files, now a FIFO (opening it blocking would hang) and a link.
    rustix::fs::mknodat(
        rustix::fs::CWD,
        d.path().join("etc/fifo").as_path(),
        FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/shadow", d.path().join("etc/link")).unwrap();
    let dir =
        fs::open_beneath(root.fd.as_fd(), b"etc", OFlags::RDONLY | OFlags::DIRECTORY).unwrap();
    let mut out = Vec::new();
    rayon::scope(|s| {
        w.visit(
            s,
            dir.as_fd(),
            b"/etc",
            Some(ri),
            c"fifo",
            Some(FileType::RegularFile),
            &mut out,
        );
        w.visit(
            s,
            dir.as_fd(),
            b"/etc",
            Some(ri),
            c"link",
            Some(FileType::RegularFile),
            &mut out,
        );
    });
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].kind, Kind::Fifo);
    assert!(out[0].digest.is_none());
    assert_eq!(out[1].kind, Kind::Symlink);
    assert_eq!(out[1].target.as_deref(), Some(&b"/etc/shadow"[..]));
    assert!(out[1].digest.is_none());
}

#[test]
fn opening_beneath_the_root_never_follows_links() {
    let (d, _) = setup();
    std::os::unix::fs::symlink("/", d.path().join("up")).unwrap();
    std::os::unix::fs::symlink("sub", d.path().join("etc/lsub")).unwrap();
    let root = ScanRoot::open(d.path()).unwrap();
    for rel in [&b"up"[..], b"up/etc", b"etc/lsub", b"../..", b"etc/../.."] {
        let r = fs::open_beneath(root.fd.as_fd(), rel, OFlags::RDONLY | OFlags::DIRECTORY);
        assert!(r.is_err(), "{} opened", String::from_utf8_lossy(rel));
    }
    assert!(fs::open_beneath(
        root.fd.as_fd(),
        b"etc/sub",
        OFlags::RDONLY | OFlags::DIRECTORY
    )
    .is_ok());
}
