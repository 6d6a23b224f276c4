//! The parallel walk. Each directory is a rayon task: it is opened beneath the root, checked
//! to be the directory its parent saw, listed, and its entries are visited in chunks (so a
//! directory of 200,000 files keeps every core busy). Subdirectories become new tasks.

use super::fs::{self, Stat, XattrSource, XattrWant};
use super::{Issue, IssueKind, ScanOutcome, ScanRoot, ScanStats, Sink};
use crate::attrs::Attr;
use crate::entry::{Entry, Kind, Unread};
use crate::hostpath;
use crate::policy::{CompiledPolicy, PathComponent};
use rayon::Scope;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Dir, FileType, OFlags};
use rustix::io::Errno;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Entries visited per task inside one directory.
const CHUNK: usize = 512;

/// A concrete rule root: a path of the tree and the rule governing it.
#[derive(Debug)]
struct RootRule {
    path: Vec<u8>,
    rule: usize,
}

/// The names of one directory, NUL-terminated, in one buffer.
struct Names {
    buf: Vec<u8>,
    items: Vec<(u32, u32, FileType)>,
}

impl Names {
    fn get(&self, i: usize) -> Option<(&CStr, FileType)> {
        let (start, end, t) = *self.items.get(i)?;
        let c = CStr::from_bytes_with_nul(self.buf.get(start as usize..end as usize)?).ok()?;
        Some((c, t))
    }
}

/// A directory to walk.
pub(super) struct DirJob {
    pub(super) path: Vec<u8>,
    /// Index into `roots` of the rule root governing this directory; `None` when the walk only
    /// passes through on its way to a rule root.
    pub(super) root: Option<usize>,
    pub(super) dev: u64,
    pub(super) inode: u64,
}

enum Descend {
    No,
    /// Walk, governed by this root.
    Rule(usize),
    /// Walk only towards rule roots beneath.
    Transit,
}

pub(super) struct Walker<'a> {
    root: &'a ScanRoot,
    policy: &'a CompiledPolicy,
    sink: &'a dyn Sink,
    roots: Vec<RootRule>,
    reached: Vec<AtomicBool>,
    issues: Mutex<Vec<Issue>>,
    entries: AtomicU64,
    dirs: AtomicU64,
    files_hashed: AtomicU64,
    bytes_hashed: AtomicU64,
}

impl<'a> Walker<'a> {
    pub(super) fn new(
        root: &'a ScanRoot,
        policy: &'a CompiledPolicy,
        sink: &'a dyn Sink,
    ) -> Walker<'a> {
        let mut w = Walker {
            root,
            policy,
            sink,
            roots: Vec::new(),
            reached: Vec::new(),
            issues: Mutex::new(Vec::new()),
            entries: AtomicU64::new(0),
            dirs: AtomicU64::new(0),
            files_hashed: AtomicU64::new(0),
            bytes_hashed: AtomicU64::new(0),
        };
        w.roots = w.expand_roots();
        w.reached = w.roots.iter().map(|_| AtomicBool::new(false)).collect();
        w
    }

    pub(super) fn run(
        root: &'a ScanRoot,
        policy: &'a CompiledPolicy,
        sink: &'a dyn Sink,
    ) -> ScanOutcome {
        let start = Instant::now();
        let w = Walker::new(root, policy, sink);
        let starts: Vec<usize> = (0..w.roots.len())
            .filter(|&i| {
                !w.roots.iter().any(|o| {
                    o.path != w.roots[i].path && hostpath::is_within(&w.roots[i].path, &o.path)
                })
            })
            .collect();
        let w = &w;
        rayon::scope(|s| {
            for i in starts {
                s.spawn(move |s| w.start(s, i));
            }
        });
        w.report_unreached();
        w.finish(start)
    }

    /// The counters and the sorted issues.
    pub(super) fn finish(&self, start: Instant) -> ScanOutcome {
        let w = self;
        let mut issues = std::mem::take(&mut *w.issues.lock().unwrap_or_else(|e| e.into_inner()));
        issues.sort_by(|a, b| a.path.cmp(&b.path));
        ScanOutcome {
            stats: ScanStats {
                entries: w.entries.load(Ordering::Relaxed),
                directories: w.dirs.load(Ordering::Relaxed),
                files_hashed: w.files_hashed.load(Ordering::Relaxed),
                bytes_hashed: w.bytes_hashed.load(Ordering::Relaxed),
                elapsed: start.elapsed(),
            },
            issues,
        }
    }

    fn issue(&self, path: &[u8], kind: IssueKind, detail: impl Into<String>, subtree: bool) {
        let mut v = self.issues.lock().unwrap_or_else(|e| e.into_inner());
        v.push(Issue {
            path: path.into(),
            kind,
            detail: detail.into(),
            subtree,
        });
    }

    fn issue_errno(&self, path: &[u8], e: Errno, what: &str, subtree: bool) {
        let kind = match e {
            Errno::ACCESS | Errno::PERM => IssueKind::Denied,
            Errno::NOENT => IssueKind::Vanished,
            Errno::LOOP | Errno::NOTDIR | Errno::XDEV => IssueKind::Replaced,
            _ => IssueKind::Io,
        };
        let detail = match kind {
            IssueKind::Vanished => format!("{what}: vanished during the scan"),
            IssueKind::Replaced => format!("{what}: replaced during the scan (not followed)"),
            _ => format!("{what}: {}", std::io::Error::from(e)),
        };
        self.issue(path, kind, detail, subtree);
    }

    /// The concrete rule roots: literal rule paths as they are, glob components expanded
    /// against the tree. Sorted by path; for the same path the later rule wins.
    fn expand_roots(&self) -> Vec<RootRule> {
        let mut out: Vec<RootRule> = Vec::new();
        for (i, rule) in self.policy.rules().iter().enumerate() {
            if !rule.has_glob() {
                out.push(RootRule {
                    path: rule.path.clone(),
                    rule: i,
                });
                continue;
            }
            let mut paths: Vec<Vec<u8>> = vec![b"/".to_vec()];
            for comp in &rule.components {
                let mut next = Vec::new();
                for p in &paths {
                    match comp {
                        PathComponent::Literal(l) => next.push(hostpath::join(p, l)),
                        PathComponent::Glob(_) => {
                            for name in self.list_names(p) {
                                if comp.matches(&name) {
                                    next.push(hostpath::join(p, &name));
                                }
                            }
                        }
                    }
                }
                paths = next;
            }
            out.extend(paths.into_iter().map(|path| RootRule { path, rule: i }));
        }
        // Stable sort keeps rule order for equal paths; keep the last of each run.
        out.sort_by(|a, b| a.path.cmp(&b.path));
        let mut dedup: Vec<RootRule> = Vec::with_capacity(out.len());
        for r in out {
            match dedup.last_mut() {
                Some(last) if last.path == r.path => *last = r,
                _ => dedup.push(r),
            }
        }
        dedup
    }

    /// Names in a directory of the tree (for glob expansion); nothing if it cannot be read.
    fn list_names(&self, dir: &[u8]) -> Vec<Vec<u8>> {
        let rel = dir.strip_prefix(b"/").unwrap_or(dir);
        let Ok(fd) = fs::open_beneath(
            self.root.fd.as_fd(),
            rel,
            OFlags::RDONLY | OFlags::DIRECTORY,
        ) else {
            return Vec::new();
        };
        let Ok(mut d) = Dir::new(fd) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while let Some(Ok(e)) = d.read() {
            let n = e.file_name().to_bytes();
            if n != b"." && n != b".." {
                out.push(n.to_vec());
            }
        }
        out.sort();
        out
    }

    pub(super) fn root_index(&self, path: &[u8]) -> Option<usize> {
        self.roots
            .binary_search_by(|r| r.path.as_slice().cmp(path))
            .ok()
    }

    /// True when some rule root lies strictly beneath `path`.
    fn leads_to_root(&self, path: &[u8]) -> bool {
        let mut prefix = path.to_vec();
        if prefix != b"/" {
            prefix.push(b'/');
        }
        let i = self
            .roots
            .partition_point(|r| r.path.as_slice() < prefix.as_slice());
        self.roots
            .get(i)
            .is_some_and(|r| r.path.starts_with(&prefix))
    }

    /// Walk one start root (a rule root not beneath another).
    fn start<'s>(&'s self, s: &Scope<'s>, i: usize) {
        let path = self.roots[i].path.clone();
        let root_fd = self.root.fd.as_fd();
        let mut out = Vec::new();
        if path == b"/" {
            self.reached[i].store(true, Ordering::Relaxed);
            match fs::stat_fd(root_fd) {
                Ok(st) => {
                    let rule = &self.policy.rules()[self.roots[i].rule];
                    let mut e = self.entry_from_stat(&path, &st, rule.attrs_for(st.kind));
                    if e.attrs.contains(Attr::Xattrs) || e.attrs.contains(Attr::Acl) {
                        let src = self.root.path.as_os_str().as_encoded_bytes().to_vec();
                        self.fill_xattrs(&mut e, &XattrSource::Path(&src));
                    }
                    out.push(e);
                    let descend = if rule.recurse { Some(i) } else { None };
                    if rule.recurse || self.leads_to_root(&path) {
                        self.spawn_dir(s, path.clone(), descend, &st);
                    }
                }
                Err(e) => self.issue_errno(&path, e, "stat", true),
            }
        } else {
            let (parent, name) = split_parent(&path);
            let parent_rel = parent.strip_prefix(b"/").unwrap_or(parent);
            match fs::open_beneath(root_fd, parent_rel, OFlags::PATH | OFlags::DIRECTORY) {
                Ok(pfd) => match std::ffi::CString::new(name) {
                    // A rule path that does not exist on this host is not worth a warning.
                    Ok(cname) if matches!(fs::stat_at(pfd.as_fd(), &cname), Err(Errno::NOENT)) => {}
                    Ok(cname) => self.visit(s, pfd.as_fd(), parent, None, &cname, None, &mut out),
                    Err(_) => self.issue(&path, IssueKind::Io, "name holds a NUL byte", true),
                },
                Err(Errno::NOENT) => {}
                Err(Errno::LOOP | Errno::NOTDIR) => self.beneath_symlink(&path),
                Err(e) => self.issue_errno(&path, e, "open parent directory", true),
            }
        }
        self.emit(out);
    }

    fn beneath_symlink(&self, path: &[u8]) {
        self.issue(
            path,
            IssueKind::BeneathSymlink,
            "rule path lies beneath a symbolic link, which is never followed; name the real \
             path in the policy",
            true,
        );
    }

    /// Rule roots that exist but were never reached (a link on the way).
    fn report_unreached(&self) {
        for (i, r) in self.roots.iter().enumerate() {
            if self.reached[i].load(Ordering::Relaxed) {
                continue;
            }
            let (parent, _) = split_parent(&r.path);
            let parent_rel = parent.strip_prefix(b"/").unwrap_or(parent);
            if let Err(Errno::LOOP | Errno::NOTDIR) = fs::open_beneath(
                self.root.fd.as_fd(),
                parent_rel,
                OFlags::PATH | OFlags::DIRECTORY,
            ) {
                let already = self
                    .issues
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .any(|x| x.path.as_ref() == r.path.as_slice());
                if !already {
                    self.beneath_symlink(&r.path);
                }
            }
        }
    }

    fn emit(&self, out: Vec<Entry>) {
        if !out.is_empty() {
            self.entries.fetch_add(out.len() as u64, Ordering::Relaxed);
            self.sink.accept(out);
        }
    }

    fn spawn_dir<'s>(&'s self, s: &Scope<'s>, path: Vec<u8>, root: Option<usize>, st: &Stat) {
        let job = DirJob {
            path,
            root,
            dev: st.dev,
            inode: st.inode,
        };
        s.spawn(move |s| self.walk_dir(s, job));
    }

    pub(super) fn walk_dir<'s>(&'s self, s: &Scope<'s>, job: DirJob) {
        let rel = job.path.strip_prefix(b"/").unwrap_or(&job.path);
        let fd = match fs::open_beneath(
            self.root.fd.as_fd(),
            rel,
            OFlags::RDONLY | OFlags::DIRECTORY,
        ) {
            Ok(fd) => fd,
            Err(e) => return self.issue_errno(&job.path, e, "open directory", true),
        };
        match fs::stat_fd(fd.as_fd()) {
            Ok(st) if st.dev == job.dev && st.inode == job.inode => {}
            Ok(_) => {
                return self.issue(
                    &job.path,
                    IssueKind::Replaced,
                    "directory replaced during the scan (not walked)",
                    true,
                )
            }
            Err(e) => return self.issue_errno(&job.path, e, "stat directory", true),
        }
        self.dirs.fetch_add(1, Ordering::Relaxed);
        let names = match self.read_names(&fd, &job.path) {
            Some(n) => n,
            None => return,
        };
        let fd = Arc::new(fd);
        let job = Arc::new(job);
        let n = names.items.len();
        if n <= CHUNK {
            self.visit_range(s, &fd, &job, &names, 0..n);
            return;
        }
        let names = Arc::new(names);
        for start in (0..n).step_by(CHUNK) {
            let (fd, job, names) = (Arc::clone(&fd), Arc::clone(&job), Arc::clone(&names));
            s.spawn(move |s| {
                self.visit_range(s, &fd, &job, &names, start..(start + CHUNK).min(n));
            });
        }
    }

    fn read_names(&self, fd: &OwnedFd, path: &[u8]) -> Option<Names> {
        let mut names = Names {
            buf: Vec::new(),
            items: Vec::new(),
        };
        // `Dir` takes a descriptor of its own, so the walk keeps `fd` for the *at calls.
        let dup = match rustix::io::fcntl_dupfd_cloexec(fd, 0) {
            Ok(d) => d,
            Err(e) => {
                self.issue_errno(path, e, "read directory", true);
                return None;
            }
        };
        let mut dir = match Dir::new(dup) {
            Ok(d) => d,
            Err(e) => {
                self.issue_errno(path, e, "read directory", true);
                return None;
            }
        };
        while let Some(item) = dir.read() {
            match item {
                Ok(e) => {
                    let n = e.file_name().to_bytes_with_nul();
                    if n == b".\0" || n == b"..\0" {
                        continue;
                    }
                    let start = names.buf.len();
                    names.buf.extend_from_slice(n);
                    let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(names.buf.len()))
                    else {
                        self.issue(path, IssueKind::Io, "directory listing too large", false);
                        break;
                    };
                    names.items.push((a, b, e.file_type()));
                }
                Err(e) => {
                    self.issue_errno(path, e, "read directory (listing incomplete)", false);
                    break;
                }
            }
        }
        Some(names)
    }

    fn visit_range<'s>(
        &'s self,
        s: &Scope<'s>,
        fd: &OwnedFd,
        job: &DirJob,
        names: &Names,
        range: std::ops::Range<usize>,
    ) {
        let mut out = Vec::new();
        for i in range {
            if let Some((name, t)) = names.get(i) {
                self.visit(s, fd.as_fd(), &job.path, job.root, name, Some(t), &mut out);
            }
        }
        self.emit(out);
    }

    /// Decide what to do with a path: record it under which root, and whether to walk it.
    fn decide(&self, path: &[u8], parent_root: Option<usize>) -> (Option<usize>, Descend) {
        if let Some(i) = self.root_index(path) {
            self.reached[i].store(true, Ordering::Relaxed);
            let rule = &self.policy.rules()[self.roots[i].rule];
            let descend = if rule.recurse {
                Descend::Rule(i)
            } else if self.leads_to_root(path) {
                Descend::Transit
            } else {
                Descend::No
            };
            return (Some(i), descend);
        }
        let transit = || {
            if self.leads_to_root(path) {
                Descend::Transit
            } else {
                Descend::No
            }
        };
        let Some(ri) = parent_root else {
            return (None, transit());
        };
        let rule = &self.policy.rules()[self.roots[ri].rule];
        let rel = hostpath::relative(path, &self.roots[ri].path).unwrap_or(path);
        if self.policy.excluded(path) || rule.excludes(rel) {
            return (None, transit());
        }
        let record = rule.includes(rel).then_some(ri);
        (record, Descend::Rule(ri))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn visit<'s>(
        &'s self,
        s: &Scope<'s>,
        dir: BorrowedFd<'_>,
        dir_path: &[u8],
        parent_root: Option<usize>,
        name: &CStr,
        dtype: Option<FileType>,
        out: &mut Vec<Entry>,
    ) {
        let path = hostpath::join(dir_path, name.to_bytes());
        let (record, descend) = self.decide(&path, parent_root);
        if record.is_none() && matches!(descend, Descend::No) {
            return;
        }
        // Transit only needs directories.
        if record.is_none()
            && dtype.is_some_and(|t| t != FileType::Directory && t != FileType::Unknown)
        {
            return;
        }
        let rule = record.map(|i| &self.policy.rules()[self.roots[i].rule]);
        let wants_hash = rule.is_some_and(|r| r.attrs_for(Kind::File).contains(Attr::Hash));
        let mut opened: Option<OwnedFd> = None;
        let mut unread: Option<Unread> = None;
        // The listing's type saves a stat for regular files; without it, stat first.
        let listed_regular = match dtype {
            Some(FileType::RegularFile) => true,
            Some(FileType::Unknown) | None => {
                if wants_hash {
                    match fs::stat_at(dir, name) {
                        Ok(st) if st.kind == Kind::File => true,
                        Ok(_) => false,
                        Err(e) => return self.issue_errno(&path, e, "stat", false),
                    }
                } else {
                    false
                }
            }
            Some(_) => false,
        };
        let st = if listed_regular && wants_hash {
            match fs::open_file(dir, name) {
                Ok(fd) => match fs::stat_fd(fd.as_fd()) {
                    Ok(st) => {
                        if st.kind == Kind::File {
                            opened = Some(fd);
                        }
                        st
                    }
                    Err(e) => return self.issue_errno(&path, e, "stat", false),
                },
                Err(Errno::NOENT) => return self.issue_errno(&path, Errno::NOENT, "open", false),
                Err(e) => {
                    // A refusal, or a link or special file swapped in since the listing:
                    // describe it without reading it.
                    if matches!(e, Errno::ACCESS | Errno::PERM) {
                        unread = Some(Unread::Denied);
                    } else if !matches!(e, Errno::LOOP | Errno::NXIO | Errno::NODEV) {
                        unread = Some(Unread::Io(e.raw_os_error()));
                    }
                    match fs::stat_at(dir, name) {
                        Ok(st) => st,
                        Err(e) => return self.issue_errno(&path, e, "stat", false),
                    }
                }
            }
        } else {
            match fs::stat_at(dir, name) {
                Ok(st) => st,
                Err(e) => return self.issue_errno(&path, e, "stat", false),
            }
        };
        if let Some(rule) = rule {
            let attrs = rule.attrs_for(st.kind);
            let mut e = self.entry_from_stat(&path, &st, attrs);
            if attrs.contains(Attr::Target) {
                match fs::read_link(dir, name) {
                    Ok(t) => e.target = Some(t),
                    Err(err) => self.issue_errno(&path, err, "read link", false),
                }
            }
            if attrs.contains(Attr::Xattrs) || attrs.contains(Attr::Acl) {
                match &opened {
                    Some(fd) => self.fill_xattrs(&mut e, &XattrSource::Fd(fd.as_fd())),
                    None => {
                        let p = fs::proc_path(dir, name);
                        self.fill_xattrs(&mut e, &XattrSource::Path(&p));
                    }
                }
            }
            if attrs.contains(Attr::Hash) {
                match (&opened, unread) {
                    (Some(fd), _) => self.hash_into(&mut e, fd.as_fd(), &st),
                    (None, Some(u)) => {
                        e.unread = Some(u);
                        let kind = if u == Unread::Denied {
                            IssueKind::Denied
                        } else {
                            IssueKind::Io
                        };
                        self.issue(&path, kind, format!("content not read: {u}"), false);
                    }
                    (None, None) => {
                        // Listed as something else, a regular file by the time of the stat.
                        e.unread = Some(Unread::Vanished);
                        self.issue(
                            &path,
                            IssueKind::Replaced,
                            "replaced during the scan; content not read",
                            false,
                        );
                    }
                }
            }
            out.push(e);
        }
        if st.kind == Kind::Dir {
            match descend {
                Descend::Rule(i) => self.spawn_dir(s, path, Some(i), &st),
                Descend::Transit => self.spawn_dir(s, path, None, &st),
                Descend::No => {}
            }
        }
    }

    fn entry_from_stat(&self, path: &[u8], st: &Stat, attrs: crate::attrs::AttrSet) -> Entry {
        let mut e = Entry::new(path, st.kind);
        e.attrs = attrs;
        let has = |a| attrs.contains(a);
        if has(Attr::Type) {
            e.rdev = st.rdev;
        }
        if has(Attr::Mode) {
            e.mode = st.mode;
        }
        if has(Attr::Owner) {
            e.uid = st.uid;
        }
        if has(Attr::Group) {
            e.gid = st.gid;
        }
        if has(Attr::Size) {
            e.size = st.size;
        }
        if has(Attr::Mtime) {
            e.mtime = st.mtime;
        }
        if has(Attr::Ctime) {
            e.ctime = st.ctime;
        }
        if has(Attr::Inode) {
            e.inode = st.inode;
        }
        if has(Attr::Links) {
            e.links = st.links;
        }
        e
    }

    fn fill_xattrs(&self, e: &mut Entry, src: &XattrSource<'_>) {
        let want = XattrWant {
            acl: e.attrs.contains(Attr::Acl),
            other: e.attrs.contains(Attr::Xattrs),
        };
        match fs::xattrs(src, want) {
            Ok(x) => e.xattrs = x,
            Err(err) => self.issue_errno(&e.path, err, "read extended attributes", false),
        }
    }

    fn hash_into(&self, e: &mut Entry, fd: BorrowedFd<'_>, st: &Stat) {
        let algo = self.policy.algo();
        let mut size = st.size;
        // One retry when the file changes while being read.
        for attempt in 0..2 {
            match fs::hash_file(fd, size, algo) {
                Ok((digest, n)) => {
                    self.files_hashed.fetch_add(1, Ordering::Relaxed);
                    self.bytes_hashed.fetch_add(n, Ordering::Relaxed);
                    if n == size {
                        e.digest = Some(digest);
                        return;
                    }
                    if attempt == 0 {
                        if let Ok(now) = fs::stat_fd(fd) {
                            // Record the metadata that goes with the content read next.
                            let fresh = self.entry_from_stat(&e.path, &now, e.attrs);
                            e.size = fresh.size;
                            e.mtime = fresh.mtime;
                            e.ctime = fresh.ctime;
                            size = now.size;
                            continue;
                        }
                    }
                    e.unread = Some(Unread::Changing);
                    self.issue(
                        &e.path,
                        IssueKind::Changing,
                        "changed while being read; hash not recorded",
                        false,
                    );
                    return;
                }
                Err(err) => {
                    e.unread = Some(match err {
                        Errno::ACCESS | Errno::PERM => Unread::Denied,
                        other => Unread::Io(other.raw_os_error()),
                    });
                    self.issue_errno(&e.path, err, "read", false);
                    return;
                }
            }
        }
    }
}

fn split_parent(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|b| *b == b'/') {
        Some(0) => (b"/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (b"/", path),
    }
}
