//! Hostile trees: names that are not UTF-8, link loops and links out of the tree, FIFOs,
//! sockets and devices, a directory of 200,000 files, files changing during the scan, and a
//! tampered or swapped baseline.

mod common;

use common::*;
use rempart_integrity::auth::{HmacKey, Signers, Verifier};
use rempart_integrity::baseline::{Envelope, Limits, Untrusted};
use rempart_integrity::compare::ChangeKind;
use rempart_integrity::hash::HashAlgo;
use rempart_integrity::policy::{Policy, RuleSpec};
use rempart_integrity::report::{self, Verdict};
use rempart_integrity::scan::{scan, Collect, IssueKind, ScanRoot};
use rempart_integrity::{hostpath, run, Kind};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn entries(
    t: &Tree,
    policy: &rempart_integrity::policy::CompiledPolicy,
) -> Vec<rempart_integrity::Entry> {
    let sink = Collect::default();
    scan(&t.root(), policy, &sink);
    sink.into_sorted()
}

#[test]
fn names_that_are_not_utf8_round_trip_through_baseline_report_and_json() {
    let t = Tree::new();
    let name = OsStr::from_bytes(b"caf\xe9\n.conf");
    fs::write(t.path("etc").join(name), b"latin-1 name with a newline").unwrap();
    let b = t.record(&policy(HashAlgo::Blake3));
    let env = Envelope::parse(&b, &Limits::default()).unwrap();
    let decoded = env.entries(&Limits::default()).unwrap();
    let want: &[u8] = b"/etc/caf\xe9\n.conf";
    assert!(
        decoded.iter().any(|e| e.path.as_ref() == want),
        "exact bytes kept"
    );
    assert_eq!(t.check(&b).verdict, Verdict::Clean);

    fs::write(t.path("etc").join(name), b"changed").unwrap();
    fs::write(t.path("etc").join(OsStr::from_bytes(b"\xff\xfe")), b"new").unwrap();
    let r = t.check(&b);
    assert_eq!(latin1_change(&r).kind, ChangeKind::Changed);
    let mut text = Vec::new();
    report::render_text(&r, Default::default(), &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("/etc/caf\\xe9\\n.conf"), "{text}");
    assert!(text.contains("/etc/\\xff\\xfe"), "{text}");
    let json = report::to_json(&r);
    let changes = json["changes"].as_array().unwrap();
    let mut got: Vec<Vec<u8>> = changes
        .iter()
        .map(|c| {
            hostpath::from_json_fields(c["path"].as_str().unwrap(), c["path_hex"].as_str()).unwrap()
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![want.to_vec(), b"/etc/\xff\xfe".to_vec()]);
}

fn latin1_change(
    r: &rempart_integrity::report::CheckReport,
) -> &rempart_integrity::compare::Change {
    r.comparison
        .changes
        .iter()
        .find(|c| c.path.as_ref() == b"/etc/caf\xe9\n.conf")
        .unwrap_or_else(|| panic!("{:#?}", r.comparison.changes))
}

#[test]
fn links_are_recorded_never_followed_loops_and_escapes_included() {
    let t = Tree::new();
    symlink("loop-b", t.path("etc/loop-a")).unwrap();
    symlink("loop-a", t.path("etc/loop-b")).unwrap();
    symlink("..", t.path("etc/parent")).unwrap();
    symlink(".", t.path("etc/self")).unwrap();
    symlink("/", t.path("etc/host-root")).unwrap();
    symlink("../../../../../../etc/shadow", t.path("etc/escape")).unwrap();
    let es = entries(&t, &policy(HashAlgo::Blake3));
    for (p, target) in [
        ("/etc/loop-a", "loop-b"),
        ("/etc/parent", ".."),
        ("/etc/host-root", "/"),
        ("/etc/escape", "../../../../../../etc/shadow"),
    ] {
        let e = es.iter().find(|e| e.path.as_ref() == p.as_bytes()).unwrap();
        assert_eq!(e.kind, Kind::Symlink);
        assert_eq!(e.target.as_deref(), Some(target.as_bytes()));
        assert!(e.digest.is_none());
    }
    // Nothing was reached through a link: every path is a real path of the tree.
    for e in &es {
        let p = String::from_utf8_lossy(&e.path);
        assert!(
            !p.contains("/parent/") && !p.contains("/self/") && !p.contains("/host-root/"),
            "{p}"
        );
    }
    assert_eq!(es.len(), 16);
}

#[test]
fn a_rule_path_beneath_a_link_is_reported_not_followed() {
    let t = Tree::new();
    fs::create_dir_all(t.path("usr/lib/systemd/system")).unwrap();
    symlink("usr/lib", t.path("lib")).unwrap();
    let p = Policy {
        hash: HashAlgo::Blake3,
        exclude: Vec::new(),
        rules: vec![
            RuleSpec::new("/lib", &["content"]),
            RuleSpec::new("/lib/systemd/system", &["content"]),
        ],
    }
    .compile()
    .unwrap();
    let sink = Collect::default();
    let o = scan(&t.root(), &p, &sink);
    let es = sink.into_sorted();
    assert_eq!(es.len(), 1);
    assert_eq!(es[0].kind, Kind::Symlink);
    assert_eq!(o.issues.len(), 1, "{:?}", o.issues);
    assert_eq!(o.issues[0].kind, IssueKind::BeneathSymlink);
    assert_eq!(o.issues[0].path.as_ref(), b"/lib/systemd/system");
}

#[test]
fn fifos_sockets_and_devices_are_recorded_and_never_opened() {
    use rustix::fs::{mknodat, FileType, Mode, CWD};
    let t = Tree::new();
    // A FIFO with no writer: opening it for reading without O_NONBLOCK would hang the scan.
    mknodat(
        CWD,
        t.path("etc/initctl").as_path(),
        FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(t.path("etc/agent.sock")).unwrap();
    // /dev/null's numbers; creating it needs CAP_MKNOD (the tests run as root).
    mknodat(
        CWD,
        t.path("etc/null").as_path(),
        FileType::CharacterDevice,
        Mode::from_raw_mode(0o666),
        rustix::fs::makedev(1, 3),
    )
    .expect("mknod a character device (tests run as root)");
    let b = t.record(&policy(HashAlgo::Blake3));
    let es = Envelope::parse(&b, &Limits::default())
        .unwrap()
        .entries(&Limits::default())
        .unwrap();
    let kind = |p: &str| es.iter().find(|e| e.path.as_ref() == p.as_bytes()).unwrap();
    assert_eq!(kind("/etc/initctl").kind, Kind::Fifo);
    assert_eq!(kind("/etc/agent.sock").kind, Kind::Socket);
    let dev = kind("/etc/null");
    assert_eq!(dev.kind, Kind::CharDevice);
    assert_eq!(dev.rdev_pair(), (1, 3));
    assert!(es
        .iter()
        .all(|e| e.kind == Kind::File || e.digest.is_none()));

    // A device re-pointed at another device is a type change (/dev/null -> /dev/mem's 1:1).
    fs::remove_file(t.path("etc/null")).unwrap();
    mknodat(
        CWD,
        t.path("etc/null").as_path(),
        FileType::CharacterDevice,
        Mode::from_raw_mode(0o666),
        rustix::fs::makedev(1, 1),
    )
    .unwrap();
    let r = t.check(&b);
    let c = r
        .comparison
        .changes
        .iter()
        .find(|c| c.path.as_ref() == b"/etc/null")
        .unwrap();
    let ty = c.attrs.iter().find(|a| a.attr.name() == "type").unwrap();
    assert_eq!(
        (ty.old.as_str(), ty.new.as_str()),
        ("char-device 1:3", "char-device 1:1")
    );
}

#[test]
fn a_directory_of_200_000_files_is_scanned_whole() {
    let t = Tree::new();
    let big = t.path("usr/bin/many");
    fs::create_dir(&big).unwrap();
    for i in 0..200_000u32 {
        fs::File::create(big.join(format!("f{i:06}"))).unwrap();
    }
    let p = policy(HashAlgo::Blake3);
    let b = t.record(&p);
    let env = Envelope::parse(&b, &Limits::default()).unwrap();
    assert_eq!(env.header.entries, 200_000 + 11);
    fs::remove_file(big.join("f123456")).unwrap();
    fs::write(big.join("f999999"), b"x").unwrap();
    let r = t.check(&b);
    assert_eq!(r.comparison.changes.len(), 2, "{:#?}", r.comparison.changes);
    assert_eq!(r.comparison.changes[0].kind, ChangeKind::Removed);
    assert_eq!(r.comparison.changes[1].kind, ChangeKind::Added);
}

#[test]
fn files_changing_during_the_scan_never_break_it() {
    let t = Tree::new();
    let churn = t.path("etc/churn");
    fs::create_dir(&churn).unwrap();
    let p = policy(HashAlgo::Blake3);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, dir) = (Arc::clone(&stop), churn.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let a = dir.join(format!("f{}", i % 50));
                let _ = fs::write(&a, vec![b'x'; (i % 7000) as usize]);
                let _ = fs::remove_file(dir.join(format!("f{}", (i + 25) % 50)));
                let d = dir.join(format!("d{}", i % 5));
                let _ = fs::create_dir(&d);
                let _ = fs::write(d.join("x"), b"y");
                let _ = fs::remove_dir_all(dir.join(format!("d{}", (i + 2) % 5)));
                let _ = fs::rename(&a, dir.join(format!("r{}", i % 3)));
                i += 1;
            }
        })
    };
    for _ in 0..30 {
        let sink = Collect::default();
        let o = scan(&t.root(), &p, &sink);
        for i in &o.issues {
            assert!(
                matches!(
                    i.kind,
                    IssueKind::Vanished | IssueKind::Replaced | IssueKind::Changing
                ),
                "{i}"
            );
        }
        let es = sink.into_sorted();
        assert!(
            es.windows(2).all(|w| w[0].path < w[1].path),
            "no path twice"
        );
        assert!(es.iter().any(|e| e.path.as_ref() == b"/etc/passwd"));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn large_files_hash_like_one_shot_digests() {
    let t = Tree::new();
    let data: Vec<u8> = (0..(3 * 1024 * 1024 + 7))
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    fs::write(t.path("usr/bin/big"), &data).unwrap();
    for algo in HashAlgo::ALL {
        let es = entries(&t, &policy(algo));
        let e = es
            .iter()
            .find(|e| e.path.as_ref() == b"/usr/bin/big")
            .unwrap();
        assert_eq!(e.digest, Some(algo.digest(&data)), "{algo}");
        assert_eq!(e.size, data.len() as u64);
    }
}

#[test]
fn globs_excludes_and_nested_rules_shape_what_is_recorded() {
    let t = Tree::new();
    for u in ["alice", "bob"] {
        t.write(
            &format!("home/{u}/.ssh/authorized_keys"),
            "ssh-ed25519 AAAA\n",
        );
        t.write(&format!("home/{u}/notes.txt"), "not watched\n");
    }
    t.write("srv/app/bin/server", "binary");
    t.write("srv/app/logs/today.log", "noise");
    t.write("srv/app/uploads/a.jpg", "user data");
    t.write("var/log/syslog", "noise");
    let p = Policy {
        hash: HashAlgo::Blake3,
        exclude: vec!["/var/log".into()],
        rules: vec![
            RuleSpec::new("/home/*/.ssh", &["content"]),
            rempart_integrity::policy::app_rule("/srv/app"),
            RuleSpec {
                recurse: false,
                ..RuleSpec::new("/srv/app/uploads", &["perms"])
            },
            RuleSpec::new("/var", &["content"]),
        ],
    }
    .compile()
    .unwrap();
    let sink = Collect::default();
    let o = scan(&t.root(), &p, &sink);
    assert!(o.issues.is_empty(), "{:?}", o.issues);
    let es = sink.into_sorted();
    let paths: Vec<String> = es.iter().map(|e| hostpath::display(&e.path)).collect();
    assert_eq!(
        paths,
        [
            "/home/alice/.ssh",
            "/home/alice/.ssh/authorized_keys",
            "/home/bob/.ssh",
            "/home/bob/.ssh/authorized_keys",
            "/srv/app",
            "/srv/app/bin",
            "/srv/app/bin/server",
            "/srv/app/uploads",
            "/var",
        ]
    );
    let uploads = es
        .iter()
        .find(|e| e.path.as_ref() == b"/srv/app/uploads")
        .unwrap();
    assert!(!uploads.attrs.contains(rempart_integrity::Attr::Inode));
}

#[test]
fn a_tampered_baseline_is_reported_as_such_never_trusted() {
    let t = Tree::new();
    let b = t.record(&policy(HashAlgo::Blake3));
    // The attacker replaces a binary and edits the baseline to match (without the key).
    fs::write(t.path("usr/bin/sudo"), "\x7fELF trojan").unwrap();
    for at in [20, b.len() / 2, b.len() - 40, b.len() - 1] {
        let mut bad = b.clone();
        bad[at] ^= 0x55;
        let r = t.check(&bad);
        match &r.verdict {
            Verdict::Untrusted(u) => assert!(!u.is_swap(), "{u}"),
            v => panic!("byte {at}: {v:?}"),
        }
        assert!(!r.is_clean());
        assert!(r.comparison.changes.is_empty(), "nothing compared");
    }
    // A baseline re-made with another key is not trusted either.
    let forged = run::record(
        &t.root(),
        &policy(HashAlgo::Blake3),
        &Signers {
            hmac: Some(HmacKey::from_bytes([8; 32])),
            sign: None,
        },
        run::now(),
    )
    .unwrap()
    .bytes;
    let r = t.check(&forged);
    assert!(
        matches!(r.verdict, Verdict::Untrusted(Untrusted::NoTag { .. })),
        "{:?}",
        r.verdict
    );
    // The genuine one still reports the change.
    assert_eq!(t.check(&b).verdict, Verdict::Changes);
}

#[test]
fn another_trees_valid_baseline_is_reported_as_swapped() {
    let a = Tree::new();
    let other = Tree::new();
    let theirs = other.record(&policy(HashAlgo::Blake3));
    let r = a.check(&theirs);
    match &r.verdict {
        Verdict::Untrusted(u) => assert!(u.is_swap(), "{u}"),
        v => panic!("{v:?}"),
    }
    // Bound to the machine id when the tree has one: the same tree at another path is fine...
    a.write("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    let b = a.record(&policy(HashAlgo::Blake3));
    let moved = tempfile::tempdir().unwrap();
    let dest = moved.path().join("mnt");
    fs::rename(a.dir.path(), &dest).unwrap();
    let root = ScanRoot::open(&dest).unwrap();
    let r = run::check(
        &root,
        &run::CheckInput {
            baseline_path: "b",
            bytes: &b,
            verifier: &Verifier::Hmac(key()),
            current_policy: None,
            runtime_excludes: &[],
            now: run::now(),
        },
    );
    assert_eq!(r.verdict, Verdict::Clean, "{:?}", r.verdict);
    fs::rename(&dest, a.dir.path()).unwrap();
    // ...but another machine's is not.
    other.write("etc/machine-id", "ffffffffffffffffffffffffffffffff\n");
    let theirs = other.record(&policy(HashAlgo::Blake3));
    let r = a.check(&theirs);
    assert!(
        matches!(&r.verdict, Verdict::Untrusted(u) if u.is_swap()),
        "{:?}",
        r.verdict
    );
}
