//! Rotation in each style, resumption, globs: every line read exactly once, in order.

use super::*;
use std::io::Write;

fn append(path: &Path, lines: &[&str]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

fn read_all(s: &mut FileSources) -> Vec<String> {
    let mut got = Vec::new();
    s.rescan();
    s.read(&mut |_, l| got.push(l.to_string()));
    got
}

fn follow(path: &Path, saved: BTreeMap<PathBuf, FileOffset>) -> FileSources {
    FileSources::new(vec![(path.display().to_string(), vec![0])], saved)
}

#[test]
fn reads_appended_lines_and_waits_for_unfinished_ones() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("auth.log");
    append(&log, &["a", "b"]);
    let mut s = follow(&log, BTreeMap::new());
    assert_eq!(read_all(&mut s), ["a", "b"]);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    write!(f, "unfini").unwrap();
    assert!(read_all(&mut s).is_empty());
    writeln!(f, "shed").unwrap();
    assert_eq!(read_all(&mut s), ["unfinished"]);
    assert_eq!(read_all(&mut s), Vec::<String>::new());
}

#[test]
fn rename_and_create() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("auth.log");
    append(&log, &["1", "2"]);
    let mut s = follow(&log, BTreeMap::new());
    assert_eq!(read_all(&mut s), ["1", "2"]);
    append(&log, &["3"]);
    std::fs::rename(&log, d.path().join("auth.log.1")).unwrap();
    // A writer that has not reopened yet still appends to the old file.
    append(&d.path().join("auth.log.1"), &["4"]);
    append(&log, &["5", "6"]);
    assert_eq!(read_all(&mut s), ["3", "4", "5", "6"]);
    append(&d.path().join("auth.log.1"), &["late"]);
    append(&log, &["7"]);
    assert_eq!(read_all(&mut s), ["late", "7"]);
    assert!(s.stats.rotations >= 1);
}

#[test]
fn copytruncate() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("access.log");
    append(&log, &["1", "2", "3"]);
    let mut s = follow(&log, BTreeMap::new());
    assert_eq!(read_all(&mut s), ["1", "2", "3"]);
    std::fs::copy(&log, d.path().join("access.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &["4"]);
    assert_eq!(read_all(&mut s), ["4"]);
    assert_eq!(s.stats.rotations, 1);
}

#[test]
fn copytruncate_rewritten_past_the_offset_before_we_look() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("access.log");
    append(&log, &["line one", "line two"]);
    let mut s = follow(&log, BTreeMap::new());
    assert_eq!(read_all(&mut s), ["line one", "line two"]);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    // New content as long as the old, written before the follower looks again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    append(&log, &["line 3..", "line 4.."]);
    assert_eq!(read_all(&mut s), ["line 3..", "line 4.."]);
}

#[test]
fn delete_and_recreate() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("x.log");
    append(&log, &["1"]);
    let mut s = follow(&log, BTreeMap::new());
    assert_eq!(read_all(&mut s), ["1"]);
    append(&log, &["2"]);
    std::fs::remove_file(&log).unwrap();
    assert_eq!(read_all(&mut s), ["2"]);
    assert!(read_all(&mut s).is_empty());
    append(&log, &["3"]);
    assert_eq!(read_all(&mut s), ["3"]);
}

#[test]
fn resumes_at_the_saved_offset() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("auth.log");
    append(&log, &["1", "2"]);
    let mut s = follow(&log, BTreeMap::new());
    assert_eq!(read_all(&mut s), ["1", "2"]);
    let saved = s.offsets();
    drop(s);
    append(&log, &["3"]);
    let mut s = follow(&log, saved);
    assert_eq!(
        read_all(&mut s),
        ["3"],
        "no line counted twice, none skipped"
    );
}

#[test]
fn resumes_across_a_rotation_that_happened_while_stopped() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("auth.log");
    append(&log, &["1"]);
    let mut s = follow(&log, BTreeMap::new());
    assert_eq!(read_all(&mut s), ["1"]);
    let saved = s.offsets();
    drop(s);
    append(&log, &["2"]);
    std::fs::rename(&log, d.path().join("auth.log.1")).unwrap();
    append(&log, &["3"]);
    let mut s = follow(&log, saved);
    assert_eq!(read_all(&mut s), ["2", "3"]);
}

#[test]
fn globs_pick_up_new_files() {
    let d = tempfile::tempdir().unwrap();
    append(&d.path().join("a-error.log"), &["a"]);
    let pat = d.path().join("*error.log").display().to_string();
    let mut s = FileSources::new(vec![(pat, vec![3])], BTreeMap::new());
    let mut got = Vec::new();
    s.read(&mut |c, l| got.push((c.to_vec(), l.to_string())));
    assert_eq!(got, [(vec![3], "a".to_string())]);
    append(&d.path().join("b-error.log"), &["b"]);
    append(&d.path().join("other.log"), &["x"]);
    assert_eq!(read_all(&mut s), ["b"]);
}

#[test]
fn inotify_wakes_on_append() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("auth.log");
    append(&log, &["1"]);
    let mut s = follow(&log, BTreeMap::new());
    read_all(&mut s);
    append(&log, &["2"]);
    let fd = s.fd().expect("inotify available");
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    let ts = rustix::event::Timespec {
        tv_sec: 5,
        tv_nsec: 0,
    };
    let n = rustix::event::poll(&mut fds, Some(&ts)).unwrap();
    assert_eq!(n, 1);
    s.drain_events();
    assert_eq!(read_all(&mut s), ["2"]);
}
