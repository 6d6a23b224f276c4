//! Following log files (paths or globs) across rotation, resuming at a saved offset.
//!
//! A followed file is identified by device and inode. On each check (an inotify event on its
//! directory, or the poll interval):
//! - **rename + create** (logrotate's default): the path now names another inode. The old file
//!   stays open and is read to its end (and a little longer, for writers that have not reopened
//!   yet); the new file is read from its start.
//! - **copytruncate**: same inode, now shorter than the offset: read again from the start.
//! - **delete + recreate**: the path is gone; the open file is read to its end, and the path is
//!   read from the start when it reappears.
//!
//! After a restart a file whose inode matches the saved one resumes at the saved offset; if it
//! was rotated meanwhile, the rotated file (`NAME.1` or another sibling with the saved inode) is
//! finished first. Only complete lines advance the offset, so a line being written is never cut.

use super::lines::LineReader;
use crate::state::FileOffset;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::inotify;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::mem::MaybeUninit;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a rotated-away file keeps being read after its last new line.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// A file being read.
#[derive(Debug)]
struct Open {
    reader: LineReader<File>,
    dev: u64,
    ino: u64,
    /// The offset the reader started at.
    base: u64,
    /// The last bytes consumed (end of the last line, newline included), to notice a file
    /// truncated and rewritten past our offset before we looked (copytruncate races).
    tail: Vec<u8>,
    /// The first bytes of the file, for the same purpose.
    head: Vec<u8>,
    /// Modification time when last read.
    mtime: (i64, i64),
}

const TAIL: usize = 64;

impl Open {
    fn offset(&self) -> u64 {
        self.base + self.reader.consumed()
    }

    /// Whether the bytes at the start of the file and just before our offset are still the
    /// ones we read.
    fn still_ours(&self) -> bool {
        use std::os::unix::fs::FileExt;
        let f = self.reader.get_ref();
        let same_at = |want: &[u8], at: u64| {
            let mut buf = vec![0u8; want.len()];
            f.read_exact_at(&mut buf, at).is_ok() && buf == want
        };
        let n = self.tail.len() as u64;
        let tail_ok = n == 0 || self.offset() < n || same_at(&self.tail, self.offset() - n);
        tail_ok && (self.head.is_empty() || same_at(&self.head, 0))
    }

    /// Takes the head fingerprint once the file has some.
    fn fingerprint_head(&mut self) {
        use std::os::unix::fs::FileExt;
        let n = self.offset().min(TAIL as u64) as usize;
        if self.head.len() < n {
            let mut buf = vec![0u8; n];
            if self.reader.get_ref().read_exact_at(&mut buf, 0).is_ok() {
                self.head = buf;
            }
        }
    }

    fn remember(&mut self, line: &[u8]) {
        self.tail.clear();
        let keep = line.len().min(TAIL - 1);
        self.tail.extend_from_slice(&line[line.len() - keep..]);
        self.tail.push(b'\n');
    }
}

fn open_at(path: &Path, offset: u64) -> io::Result<Open> {
    let mut f = File::open(path)?;
    let meta = f.metadata()?;
    let base = if offset <= meta.len() { offset } else { 0 };
    f.seek(SeekFrom::Start(base))?;
    Ok(Open {
        reader: LineReader::new(f),
        dev: meta.dev(),
        ino: meta.ino(),
        base,
        tail: Vec::new(),
        head: Vec::new(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    })
}

/// One path followed.
#[derive(Debug)]
struct Followed {
    cur: Option<Open>,
    /// Rotated-away files still being drained, with the time they last gave a line.
    old: Vec<(Open, Instant)>,
    /// Indexes of the consumers (jails) reading this path.
    consumers: Vec<usize>,
}

/// Counters of what the follower saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileStats {
    /// Lines read.
    pub lines: u64,
    /// Lines cut for being too long.
    pub truncated: u64,
    /// Rotations seen (renamed, deleted or truncated files).
    pub rotations: u64,
    /// Read errors (unreadable files...).
    pub errors: u64,
}

/// All followed files.
#[derive(Debug)]
pub struct FileSources {
    /// Patterns (paths or globs) with the consumers reading them.
    patterns: Vec<(String, Vec<usize>)>,
    files: BTreeMap<PathBuf, Followed>,
    inotify: Option<OwnedFd>,
    watched: BTreeSet<PathBuf>,
    saved: BTreeMap<PathBuf, FileOffset>,
    /// What happened so far.
    pub stats: FileStats,
}

impl FileSources {
    /// Follows `patterns` (each with its consumers), resuming from `saved` offsets.
    pub fn new(patterns: Vec<(String, Vec<usize>)>, saved: BTreeMap<PathBuf, FileOffset>) -> Self {
        let inotify =
            inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK).ok();
        let mut s = FileSources {
            patterns,
            files: BTreeMap::new(),
            inotify,
            watched: BTreeSet::new(),
            saved,
            stats: FileStats::default(),
        };
        s.rescan();
        s
    }

    /// The inotify descriptor to wait on (readable when a watched directory changed).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.inotify.as_ref().map(|f| f.as_fd())
    }

    /// Empties the inotify queue (the events only say "look again").
    pub fn drain_events(&mut self) {
        let Some(fd) = &self.inotify else { return };
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut r = inotify::Reader::new(fd, &mut buf);
        while r.next().is_ok() {}
    }

    /// The paths the patterns name now (globs expanded), with their consumers.
    fn expand(&self) -> BTreeMap<PathBuf, Vec<usize>> {
        let mut out: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
        for (pat, consumers) in &self.patterns {
            let paths: Vec<PathBuf> = if pat.contains(['*', '?', '[']) {
                match glob::glob(pat) {
                    Ok(g) => g.filter_map(Result::ok).filter(|p| p.is_file()).collect(),
                    Err(_) => Vec::new(),
                }
            } else {
                vec![PathBuf::from(pat)]
            };
            for p in paths {
                let e = out.entry(p).or_default();
                for c in consumers {
                    if !e.contains(c) {
                        e.push(*c);
                    }
                }
            }
        }
        out
    }

    /// Picks up files that appeared (globs) and watches their directories.
    pub fn rescan(&mut self) {
        for (path, consumers) in self.expand() {
            if let Some(dir) = path.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                if !self.watched.contains(dir) {
                    if let Some(fd) = &self.inotify {
                        let flags = inotify::WatchFlags::MODIFY
                            | inotify::WatchFlags::CREATE
                            | inotify::WatchFlags::MOVED_TO
                            | inotify::WatchFlags::MOVED_FROM
                            | inotify::WatchFlags::DELETE
                            | inotify::WatchFlags::ATTRIB;
                        if inotify::add_watch(fd, dir, flags).is_ok() {
                            self.watched.insert(dir.to_path_buf());
                        }
                    }
                }
            }
            let f = self.files.entry(path).or_insert_with(|| Followed {
                cur: None,
                old: Vec::new(),
                consumers: Vec::new(),
            });
            f.consumers = consumers;
        }
    }

    /// Reads every new complete line of every followed file, handing each to `on_line` with its
    /// consumers. Handles rotation as described in the module docs.
    pub fn read(&mut self, on_line: &mut dyn FnMut(&[usize], &str)) {
        let paths: Vec<PathBuf> = self.files.keys().cloned().collect();
        for path in paths {
            let saved = self.saved.get(&path).copied();
            let Some(f) = self.files.get_mut(&path) else {
                continue;
            };
            let stats = &mut self.stats;
            // Rotated-away files first: their lines are older.
            let now = Instant::now();
            f.old.retain_mut(|(o, last)| {
                let n = pump(o, &f.consumers, stats, on_line, false);
                if n > 0 {
                    *last = now;
                }
                if now.duration_since(*last) < DRAIN_GRACE {
                    return true;
                }
                pump(o, &f.consumers, stats, on_line, true);
                false
            });
            match std::fs::metadata(&path) {
                Err(_) => {
                    // Deleted or renamed away: finish what is open.
                    if let Some(o) = f.cur.take() {
                        stats.rotations += 1;
                        pump_into_old(o, f, stats, on_line, now);
                    }
                }
                Ok(meta) => {
                    let same = f
                        .cur
                        .as_ref()
                        .is_some_and(|o| o.dev == meta.dev() && o.ino == meta.ino());
                    if f.cur.is_some() && !same {
                        stats.rotations += 1;
                        if let Some(o) = f.cur.take() {
                            pump_into_old(o, f, stats, on_line, now);
                        }
                    }
                    if let Some(o) = &mut f.cur {
                        let mtime = (meta.mtime(), meta.mtime_nsec());
                        let rewritten = mtime != o.mtime && !o.still_ours();
                        o.mtime = mtime;
                        if meta.len() < o.offset() || rewritten {
                            // copytruncate: the file restarted.
                            stats.rotations += 1;
                            match open_at(&path, 0) {
                                Ok(n) => *o = n,
                                Err(_) => stats.errors += 1,
                            }
                        }
                    }
                    if f.cur.is_none() {
                        f.cur = open_resuming(&path, &meta, saved, f, stats, on_line, now);
                        if f.cur.is_some() {
                            self.saved.remove(&path);
                        }
                    }
                    if let Some(o) = &mut f.cur {
                        pump(o, &f.consumers, stats, on_line, false);
                        o.fingerprint_head();
                    }
                }
            }
        }
    }

    /// The offsets to save.
    pub fn offsets(&self) -> BTreeMap<PathBuf, FileOffset> {
        let mut out = self.saved.clone();
        for (p, f) in &self.files {
            if let Some(o) = &f.cur {
                out.insert(
                    p.clone(),
                    FileOffset {
                        dev: o.dev,
                        ino: o.ino,
                        offset: o.offset(),
                    },
                );
            }
        }
        out
    }

    /// How many paths are followed.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether nothing is followed.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

fn pump_into_old(
    mut o: Open,
    f: &mut Followed,
    stats: &mut FileStats,
    on_line: &mut dyn FnMut(&[usize], &str),
    now: Instant,
) {
    pump(&mut o, &f.consumers, stats, on_line, false);
    f.old.push((o, now));
}

/// Opens `path` for following: at the saved offset if it is the same file; after finishing the
/// rotated-away file if it was rotated while we were stopped; from the start otherwise.
fn open_resuming(
    path: &Path,
    meta: &std::fs::Metadata,
    saved: Option<FileOffset>,
    f: &mut Followed,
    stats: &mut FileStats,
    on_line: &mut dyn FnMut(&[usize], &str),
    now: Instant,
) -> Option<Open> {
    let offset = match saved {
        Some(s) if s.dev == meta.dev() && s.ino == meta.ino() => s.offset,
        Some(s) => {
            if let Some(rotated) = find_rotated(path, s.dev, s.ino) {
                if let Ok(o) = open_at(&rotated, s.offset) {
                    stats.rotations += 1;
                    pump_into_old(o, f, stats, on_line, now);
                }
            }
            0
        }
        None => 0,
    };
    match open_at(path, offset) {
        Ok(o) => Some(o),
        Err(_) => {
            stats.errors += 1;
            None
        }
    }
}

/// A sibling of `path` (`auth.log.1`, `auth.log-20250614`) with the given identity.
fn find_rotated(path: &Path, dev: u64, ino: u64) -> Option<PathBuf> {
    let dir = path.parent()?;
    let base = path.file_name()?.to_str()?;
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            if !name.starts_with(base) || name == base || name.ends_with(".gz") {
                return None;
            }
            let m = e.metadata().ok()?;
            (m.dev() == dev && m.ino() == ino).then(|| e.path())
        })
}

/// Reads the complete lines available (and the unfinished last one if `finish`).
fn pump(
    o: &mut Open,
    consumers: &[usize],
    stats: &mut FileStats,
    on_line: &mut dyn FnMut(&[usize], &str),
    finish: bool,
) -> u64 {
    let mut n = 0;
    loop {
        match o.reader.next_line(finish) {
            Ok(Some(raw)) => {
                n += 1;
                stats.lines += 1;
                stats.truncated += u64::from(raw.truncated);
                let mut tail = [0u8; TAIL];
                let keep = raw.bytes.len().min(TAIL - 1);
                tail[..keep].copy_from_slice(&raw.bytes[raw.bytes.len() - keep..]);
                let cut = raw.truncated;
                let text = raw.text();
                on_line(consumers, &text);
                if cut {
                    o.tail.clear();
                } else {
                    o.remember(&tail[..keep]);
                }
            }
            Ok(None) => return n,
            Err(_) => {
                stats.errors += 1;
                return n;
            }
        }
    }
}

#[cfg(test)]
mod tests;
