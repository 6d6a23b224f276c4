//! The scan: walk the policy's paths in a tree, in parallel on every core, and record one
//! [`Entry`] per path, hashing each regular file once.
//!
//! Safety properties, all enforced by the kernel rather than by string checks: every
//! directory is opened beneath the scan root with no symbolic link followed on the way
//! (`openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`); every entry is `lstat`ed; links are
//! recorded with their target, never followed; only regular files are opened, non-blocking, and
//! a file that turns out to be something else once open is not read; a directory replaced
//! between listing and opening is detected by its inode. Files that vanish, refuse to be read or
//! change while being read become [`Issue`]s, never errors: the scan always completes.
//!
//! It does not compare or store anything: entries go to a [`Sink`].

mod fs;
mod walk;

#[cfg(test)]
mod tests;

use crate::entry::Entry;
use crate::hostpath::{self, HostPath};
use crate::policy::CompiledPolicy;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The tree being scanned: `/` on the live host, or a root directory given with `--root`.
#[derive(Debug)]
pub struct ScanRoot {
    fd: OwnedFd,
    path: PathBuf,
}

/// The scan root could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the scan root {path}: {source}")]
pub struct RootError {
    pub path: String,
    pub source: std::io::Error,
}

impl ScanRoot {
    /// Open a directory as the scan root. It is resolved once (symbolic links in the path
    /// given are followed here, as the user named them); nothing inside it ever is.
    pub fn open(dir: &Path) -> Result<ScanRoot, RootError> {
        let err = |source| RootError {
            path: dir.display().to_string(),
            source,
        };
        let path = std::fs::canonicalize(dir).map_err(err)?;
        let fd = rustix::fs::open(
            &path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| err(e.into()))?;
        Ok(ScanRoot { fd, path })
    }

    /// The real path of the root directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read a small file of the tree by host path, without following links; `Ok(None)` when
    /// it does not exist. At most `limit` bytes are read.
    pub fn read_file(&self, host_path: &[u8], limit: usize) -> std::io::Result<Option<Vec<u8>>> {
        let rel = host_path.strip_prefix(b"/").unwrap_or(host_path);
        let fd = match fs::open_beneath(
            self.fd.as_fd(),
            rel,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY,
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let st = fs::stat_fd(fd.as_fd())?;
        if st.kind != crate::entry::Kind::File {
            return Err(std::io::Error::other("not a regular file"));
        }
        let mut out = vec![0u8; limit.min(st.size as usize)];
        let mut n = 0;
        while n < out.len() {
            let m = rustix::io::read(&fd, &mut out[n..])?;
            if m == 0 {
                break;
            }
            n += m;
        }
        out.truncate(n);
        Ok(Some(out))
    }

    /// What identifies the host whose tree this is, bound into baselines so that another
    /// host's baseline is recognised as such: `machine-id:<id>` from `/etc/machine-id` when
    /// the tree has one, else `root:<real path of the root>`.
    pub fn host_id(&self) -> Vec<u8> {
        if let Ok(Some(id)) = self.read_file(b"/etc/machine-id", 128) {
            let id = id.trim_ascii();
            if !id.is_empty() {
                let mut out = b"machine-id:".to_vec();
                out.extend_from_slice(id);
                return out;
            }
        }
        let mut out = b"root:".to_vec();
        out.extend_from_slice(self.path.as_os_str().as_encoded_bytes());
        out
    }
}

/// Receives batches of entries as the scan produces them, from many threads at once.
pub trait Sink: Sync {
    fn accept(&self, entries: Vec<Entry>);
}

/// A sink that keeps every entry.
#[derive(Debug, Default)]
pub struct Collect(Mutex<Vec<Entry>>);

impl Sink for Collect {
    fn accept(&self, mut entries: Vec<Entry>) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.append(&mut entries);
    }
}

impl Collect {
    /// The entries, sorted by path (byte order), as baselines store them.
    pub fn into_sorted(self) -> Vec<Entry> {
        use rayon::prelude::*;
        let mut v = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        v.par_sort_unstable_by(|a, b| a.path.cmp(&b.path));
        v
    }
}

/// Something the scan could not do as asked. The scan goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: HostPath,
    pub kind: IssueKind,
    pub detail: String,
    /// Nothing beneath `path` was scanned (an unreadable or replaced directory): baseline
    /// entries there are unverified, not removed.
    pub subtree: bool,
}

/// Kinds of [`Issue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// Permission denied: a directory not walked, or a file whose content was not read.
    Denied,
    /// The path disappeared during the scan.
    Vanished,
    /// The path changed kind or identity between listing and opening (for example a
    /// directory replaced by a link); it was not followed.
    Replaced,
    /// A file changed while being read; its hash is not recorded.
    Changing,
    /// A rule path lies beneath a symbolic link, which the scan never follows.
    BeneathSymlink,
    /// Any other input/output error.
    Io,
}

impl IssueKind {
    pub fn name(self) -> &'static str {
        match self {
            IssueKind::Denied => "permission-denied",
            IssueKind::Vanished => "vanished",
            IssueKind::Replaced => "replaced-during-scan",
            IssueKind::Changing => "changed-while-read",
            IssueKind::BeneathSymlink => "beneath-symlink",
            IssueKind::Io => "io-error",
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", hostpath::display(&self.path), self.detail)
    }
}

/// Counters of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub entries: u64,
    pub directories: u64,
    pub files_hashed: u64,
    pub bytes_hashed: u64,
    pub elapsed: Duration,
}

/// What a scan returns besides its entries.
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    pub stats: ScanStats,
    /// Sorted by path.
    pub issues: Vec<Issue>,
}

/// Scan the policy's paths in `root`, sending entries to `sink`. Runs on the current rayon
/// thread pool (install a pool to choose the number of threads).
pub fn scan(root: &ScanRoot, policy: &CompiledPolicy, sink: &dyn Sink) -> ScanOutcome {
    walk::Walker::run(root, policy, sink)
}
