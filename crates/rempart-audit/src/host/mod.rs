//! The `Host` abstraction: every read a rule makes goes through here, so the same rule runs on the
//! live machine (`/`) and on a root tree given with `--root` (a fixture, a mounted disk, an
//! extracted image).
//!
//! Paths in and out of this module are *host paths* (`/etc/ssh/sshd_config`), never prefixed by
//! the root. Under a root tree, symbolic links are resolved as if the tree were `/` (an absolute
//! link target stays inside the tree, `..` never climbs above it), with a hop limit so a loop is an
//! error rather than a hang. Reads are bounded in size. Live facts (`/proc/sys`, sockets) are only
//! offered on the live host.
//!
//! It does not parse any configuration format: that lives with each rule family.

mod users;

pub use users::{parse_group, parse_passwd, parse_shadow, Group, Shadow, User, Users};

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// The largest configuration file rempart reads whole. Anything larger is reported, not read.
pub const DEFAULT_MAX_FILE: u64 = 16 * 1024 * 1024;

/// Symbolic links followed while resolving one path (Linux allows 40).
const MAX_SYMLINK_HOPS: u32 = 40;

/// Why a read failed. Each variant names the host path concerned.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HostError {
    #[error("{path}: too many levels of symbolic links")]
    SymlinkLoop { path: String },
    #[error(
        "{path}: file is {size} bytes, more than the {limit}-byte limit for a configuration file"
    )]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("{path}: binary content (NUL byte at offset {offset}), not a text configuration file")]
    Binary { path: String, offset: usize },
    #[error("{path}: not a regular file ({kind})")]
    NotAFile { path: String, kind: &'static str },
    #[error("{path}: not an absolute path")]
    NotAbsolute { path: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

impl HostError {
    /// The host path the error is about.
    pub fn path(&self) -> &str {
        match self {
            HostError::SymlinkLoop { path }
            | HostError::TooLarge { path, .. }
            | HostError::Binary { path, .. }
            | HostError::NotAFile { path, .. }
            | HostError::NotAbsolute { path }
            | HostError::Io { path, .. } => path,
        }
    }

    /// What went wrong, without the path (for evidence that already names it).
    pub fn reason(&self) -> String {
        let text = self.to_string();
        match text.strip_prefix(&format!("{}: ", self.path())) {
            Some(r) => r.to_string(),
            None => text,
        }
    }

    fn io(path: &str, e: &io::Error) -> HostError {
        if e.raw_os_error() == Some(40) {
            return HostError::SymlinkLoop {
                path: path.to_string(),
            };
        }
        HostError::Io {
            path: path.to_string(),
            message: e.to_string(),
        }
    }
}

/// A text file read from the host.
#[derive(Debug, Clone)]
pub struct TextFile {
    /// Host path.
    pub path: String,
    pub text: String,
    /// Some bytes were not valid UTF-8 and were replaced by U+FFFD.
    pub lossy: bool,
}

impl TextFile {
    /// The text of line `n` (1-based), without its newline.
    pub fn line(&self, n: u32) -> Option<&str> {
        self.text.lines().nth((n as usize).checked_sub(1)?)
    }
}

/// File kinds, as `ls -l` would show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Socket,
    Fifo,
    CharDevice,
    BlockDevice,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::File => "regular file",
            FileKind::Dir => "directory",
            FileKind::Symlink => "symbolic link",
            FileKind::Socket => "socket",
            FileKind::Fifo => "fifo",
            FileKind::CharDevice => "character device",
            FileKind::BlockDevice => "block device",
        }
    }
}

/// The metadata rules judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub kind: FileKind,
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
}

impl Meta {
    fn from_fs(m: &fs::Metadata) -> Meta {
        use std::os::unix::fs::FileTypeExt;
        let ft = m.file_type();
        let kind = if ft.is_symlink() {
            FileKind::Symlink
        } else if ft.is_dir() {
            FileKind::Dir
        } else if ft.is_socket() {
            FileKind::Socket
        } else if ft.is_fifo() {
            FileKind::Fifo
        } else if ft.is_char_device() {
            FileKind::CharDevice
        } else if ft.is_block_device() {
            FileKind::BlockDevice
        } else {
            FileKind::File
        };
        Meta {
            kind,
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            size: m.size(),
            mtime: m.mtime(),
        }
    }

    /// Readable or writable by "others", or by the group.
    pub fn group_or_other_access(&self) -> bool {
        self.mode & 0o077 != 0
    }

    pub fn world_writable(&self) -> bool {
        self.mode & 0o002 != 0
    }

    /// The mode as `ls`-style octal, e.g. `0640`.
    pub fn mode_octal(&self) -> String {
        format!("{:04o}", self.mode)
    }
}

/// One entry of a directory walk.
#[derive(Debug, Clone)]
pub struct WalkEntry {
    /// Host path, lossily converted if the name is not UTF-8.
    pub path: String,
    pub meta: Meta,
}

/// The machine being audited: the live host, or a root tree.
#[derive(Debug, Clone)]
pub struct Host {
    root: PathBuf,
    live: bool,
    max_file: u64,
}

impl Host {
    /// The running machine, read from `/`, with live facts.
    pub fn live() -> Host {
        Host {
            root: PathBuf::from("/"),
            live: true,
            max_file: DEFAULT_MAX_FILE,
        }
    }

    /// A root tree audited as if it were `/`. No live fact of the running machine is used.
    pub fn tree(root: impl AsRef<Path>) -> Result<Host, HostError> {
        let shown = root.as_ref().display().to_string();
        let root = fs::canonicalize(root.as_ref()).map_err(|e| HostError::io(&shown, &e))?;
        let meta = fs::metadata(&root).map_err(|e| HostError::io(&shown, &e))?;
        if !meta.is_dir() {
            return Err(HostError::Io {
                path: shown,
                message: "not a directory".into(),
            });
        }
        Ok(Host {
            live: false,
            root,
            max_file: DEFAULT_MAX_FILE,
        })
    }

    /// A root tree whose `/proc` (and other live sources) stand for a running system: for tests of
    /// live-only rules on fixtures (`proc/sys/...`, `proc/net/tcp` in the tree). Never use it on a
    /// tree that is not a simulation.
    pub fn tree_with_live_facts(root: impl AsRef<Path>) -> Result<Host, HostError> {
        let mut host = Host::tree(root)?;
        host.live = true;
        Ok(host)
    }

    /// Change the size limit for whole-file reads.
    pub fn with_max_file(mut self, bytes: u64) -> Host {
        self.max_file = bytes;
        self
    }

    /// The directory audited as `/` (`/` on the live host).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when live facts (procfs, sockets, the kernel's ruleset) belong to this host.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The real path of a host path, with symbolic links resolved inside the root.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, HostError> {
        self.resolve_inner(path, true)
    }

    fn resolve_inner(&self, path: &str, follow_last: bool) -> Result<PathBuf, HostError> {
        if !path.starts_with('/') {
            return Err(HostError::NotAbsolute { path: path.into() });
        }
        if self.root == Path::new("/") {
            // The kernel resolves links the same way on the live host, loops included.
            return Ok(PathBuf::from(path));
        }
        let mut pending: Vec<OsString> = components_rev(Path::new(path));
        let mut cur: Vec<OsString> = Vec::new();
        let mut hops = 0u32;
        while let Some(name) = pending.pop() {
            if name == "." || name.is_empty() {
                continue;
            }
            if name == ".." {
                cur.pop();
                continue;
            }
            let mut candidate = self.root.clone();
            candidate.extend(cur.iter());
            candidate.push(&name);
            let is_last = pending.is_empty();
            match fs::symlink_metadata(&candidate) {
                Ok(m) if m.file_type().is_symlink() && (follow_last || !is_last) => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(HostError::SymlinkLoop { path: path.into() });
                    }
                    let target = fs::read_link(&candidate).map_err(|e| HostError::io(path, &e))?;
                    if target.is_absolute() {
                        cur.clear();
                    }
                    // Reversed, so the target's first component is popped next.
                    pending.extend(components_rev(&target));
                }
                Ok(_) => cur.push(name),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    cur.push(name);
                }
                Err(e) if e.raw_os_error() == Some(20) => {
                    // ENOTDIR: a file used as a directory; the final open reports it.
                    cur.push(name);
                }
                Err(e) => return Err(HostError::io(path, &e)),
            }
        }
        let mut out = self.root.clone();
        out.extend(cur.iter());
        Ok(out)
    }

    /// The host path of `path` with every symbolic link resolved (inside the root): where a
    /// file really lives, for matching it against mount points. A path that does not exist is
    /// returned with the links of its existing part resolved.
    pub fn canonical(&self, path: &str) -> Result<String, HostError> {
        if self.root == Path::new("/") {
            if !path.starts_with('/') {
                return Err(HostError::NotAbsolute { path: path.into() });
            }
            return match fs::canonicalize(path) {
                Ok(p) => Ok(p.to_string_lossy().into_owned()),
                Err(e) if is_absent(&e) => Ok(path.to_string()),
                Err(e) => Err(HostError::io(path, &e)),
            };
        }
        let real = self.resolve(path)?;
        let rel = real.strip_prefix(&self.root).unwrap_or(&real);
        Ok(format!("/{}", rel.to_string_lossy()))
    }

    /// Metadata of a path, following symbolic links. `Ok(None)` when it does not exist.
    pub fn metadata(&self, path: &str) -> Result<Option<Meta>, HostError> {
        let real = self.resolve(path)?;
        match fs::metadata(&real) {
            Ok(m) => Ok(Some(Meta::from_fs(&m))),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(HostError::io(path, &e)),
        }
    }

    /// Metadata of a path itself (a symbolic link is not followed).
    pub fn symlink_metadata(&self, path: &str) -> Result<Option<Meta>, HostError> {
        let real = self.resolve_inner(path, false)?;
        match fs::symlink_metadata(&real) {
            Ok(m) => Ok(Some(Meta::from_fs(&m))),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(HostError::io(path, &e)),
        }
    }

    /// True when the path exists (following links inside the root).
    pub fn exists(&self, path: &str) -> bool {
        matches!(self.metadata(path), Ok(Some(_)))
    }

    /// The target of a symbolic link, as written in the link.
    pub fn read_link(&self, path: &str) -> Result<Option<String>, HostError> {
        let real = self.resolve_inner(path, false)?;
        match fs::read_link(&real) {
            Ok(t) => Ok(Some(t.to_string_lossy().into_owned())),
            Err(e) if is_absent(&e) || e.kind() == io::ErrorKind::InvalidInput => Ok(None),
            Err(e) => Err(HostError::io(path, &e)),
        }
    }

    /// Read a whole regular file, bounded by the size limit. `Ok(None)` when it does not exist.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, HostError> {
        let real = self.resolve(path)?;
        // Opening a fifo for reading blocks until a writer comes: open without blocking, and
        // look at what was opened before reading from it.
        let file = match fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&real)
        {
            Ok(f) => f,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(HostError::io(path, &e)),
        };
        let meta = file.metadata().map_err(|e| HostError::io(path, &e))?;
        if !meta.is_file() {
            return Err(HostError::NotAFile {
                path: path.into(),
                kind: Meta::from_fs(&meta).kind.as_str(),
            });
        }
        if meta.len() > self.max_file {
            return Err(HostError::TooLarge {
                path: path.into(),
                size: meta.len(),
                limit: self.max_file,
            });
        }
        let mut buf = Vec::with_capacity(meta.len() as usize);
        // The file may grow while we read it: never read past the limit.
        file.take(self.max_file + 1)
            .read_to_end(&mut buf)
            .map_err(|e| HostError::io(path, &e))?;
        if buf.len() as u64 > self.max_file {
            return Err(HostError::TooLarge {
                path: path.into(),
                size: buf.len() as u64,
                limit: self.max_file,
            });
        }
        Ok(Some(buf))
    }

    /// The first `n` bytes of a regular file (fewer when it is shorter), to tell a script from a
    /// binary without reading it whole. `Ok(None)` when it does not exist.
    pub fn read_head(&self, path: &str, n: usize) -> Result<Option<Vec<u8>>, HostError> {
        let real = self.resolve(path)?;
        let file = match fs::File::open(&real) {
            Ok(f) => f,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(HostError::io(path, &e)),
        };
        let meta = file.metadata().map_err(|e| HostError::io(path, &e))?;
        if !meta.is_file() {
            return Err(HostError::NotAFile {
                path: path.into(),
                kind: Meta::from_fs(&meta).kind.as_str(),
            });
        }
        let mut buf = Vec::with_capacity(n);
        file.take(n as u64)
            .read_to_end(&mut buf)
            .map_err(|e| HostError::io(path, &e))?;
        Ok(Some(buf))
    }

    /// Read a text configuration file. Invalid UTF-8 is replaced (and flagged); a NUL byte means
    /// the file is binary, which is an error.
    pub fn read_text(&self, path: &str) -> Result<Option<TextFile>, HostError> {
        let Some(bytes) = self.read(path)? else {
            return Ok(None);
        };
        if let Some(offset) = memchr::memchr(0, &bytes) {
            return Err(HostError::Binary {
                path: path.into(),
                offset,
            });
        }
        let (text, lossy) = match String::from_utf8(bytes) {
            Ok(s) => (s, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        Ok(Some(TextFile {
            path: path.into(),
            text,
            lossy,
        }))
    }

    /// Names in a directory, sorted bytewise (the order `glob(3)` and systemd use).
    /// `Ok(None)` when the directory does not exist.
    pub fn read_dir(&self, path: &str) -> Result<Option<Vec<String>>, HostError> {
        let real = self.resolve(path)?;
        let rd = match fs::read_dir(&real) {
            Ok(rd) => rd,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(HostError::io(path, &e)),
        };
        let mut names = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| HostError::io(path, &e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(Some(names))
    }

    /// Expand a glob pattern of host paths (`/etc/ssh/sshd_config.d/*.conf`) into the existing
    /// host paths it names, in lexical order. Only the last components may hold wildcards in
    /// practice, but any component may.
    pub fn glob(&self, pattern: &str) -> Result<Vec<String>, HostError> {
        if !pattern.starts_with('/') {
            return Err(HostError::NotAbsolute {
                path: pattern.into(),
            });
        }
        let mut bases = vec![String::from("/")];
        let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let mut next = Vec::new();
            for base in &bases {
                if has_wildcard(part) {
                    let pat = glob::Pattern::new(part).map_err(|e| HostError::Io {
                        path: pattern.into(),
                        message: format!("bad glob pattern: {e}"),
                    })?;
                    let opts = glob::MatchOptions {
                        case_sensitive: true,
                        require_literal_separator: true,
                        require_literal_leading_dot: true,
                    };
                    let Ok(Some(names)) = self.read_dir(base) else {
                        continue;
                    };
                    for n in names {
                        if pat.matches_with(&n, opts) {
                            next.push(join(base, &n));
                        }
                    }
                } else {
                    let p = join(base, part);
                    if last {
                        if self.symlink_metadata(&p).ok().flatten().is_some() {
                            next.push(p);
                        }
                    } else {
                        next.push(p);
                    }
                }
            }
            bases = next;
        }
        if parts.is_empty() {
            return Ok(vec!["/".into()]);
        }
        bases.sort();
        Ok(bases)
    }

    /// Walk a directory tree without following symbolic links, calling `visit` for every entry
    /// (the starting directory included). Unreadable directories are passed to `on_error` and the
    /// walk goes on. Stops after `limit` entries and returns false in that case.
    pub fn walk(
        &self,
        start: &str,
        limit: usize,
        visit: &mut dyn FnMut(&WalkEntry),
        on_error: &mut dyn FnMut(HostError),
    ) -> bool {
        let real = match self.resolve(start) {
            Ok(r) => r,
            Err(e) => {
                on_error(e);
                return true;
            }
        };
        let mut count = 0usize;
        let mut stack: Vec<(PathBuf, String)> = vec![(real, start.trim_end_matches('/').into())];
        while let Some((dir_real, dir_host)) = stack.pop() {
            let meta = match fs::symlink_metadata(&dir_real) {
                Ok(m) => m,
                Err(e) if is_absent(&e) => continue,
                Err(e) => {
                    on_error(HostError::io(&dir_host, &e));
                    continue;
                }
            };
            let shown = if dir_host.is_empty() {
                "/".to_string()
            } else {
                dir_host.clone()
            };
            visit(&WalkEntry {
                path: shown.clone(),
                meta: Meta::from_fs(&meta),
            });
            count += 1;
            if count >= limit {
                return false;
            }
            if !meta.is_dir() {
                continue;
            }
            let rd = match fs::read_dir(&dir_real) {
                Ok(rd) => rd,
                Err(e) => {
                    on_error(HostError::io(&shown, &e));
                    continue;
                }
            };
            let mut children: Vec<(PathBuf, String)> = Vec::new();
            for entry in rd {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        on_error(HostError::io(&shown, &e));
                        continue;
                    }
                };
                let name = entry.file_name();
                let host = format!("{}/{}", dir_host, name.to_string_lossy());
                children.push((entry.path(), host));
            }
            children.sort_by(|a, b| b.1.cmp(&a.1));
            stack.extend(children);
        }
        true
    }

    /// A value under `/proc/sys` (`net/ipv4/tcp_syncookies`), only on the live host.
    /// `None` under a root tree: the running kernel is not the tree's.
    pub fn proc_sys(&self, key: &str) -> Option<Result<Option<String>, HostError>> {
        if !self.live {
            return None;
        }
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        Some(
            self.read_text(&path)
                .map(|f| f.map(|f| f.text.trim().to_string())),
        )
    }
}

fn is_absent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(20)
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn join(base: &str, name: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

/// Components of a path, reversed so that `pop()` yields them in order.
fn components_rev(p: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => None,
        })
        .collect();
    v.reverse();
    v
}

#[cfg(test)]
mod tests;
