//! The system calls of the scan, through rustix: opening directories beneath the scan root
//! without following any symbolic link (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`,
//! or a component-by-component `O_NOFOLLOW` walk where `openat2` is missing), `statx` without
//! following, extended attributes, and reading a file once into a hasher.

use crate::entry::{Kind, Time, Xattr};
use crate::hash::{Digest, HashAlgo};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{openat, openat2, statx, AtFlags, Mode, OFlags, ResolveFlags, StatxFlags};
use rustix::io::Errno;
use std::cell::RefCell;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};

/// What `statx` says about a path, in the units the entries use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: Time,
    pub ctime: Time,
    pub inode: u64,
    pub links: u64,
    pub rdev: u64,
    pub dev: u64,
}

fn from_statx(s: &rustix::fs::Statx) -> Stat {
    let mode = u32::from(s.stx_mode);
    let kind = Kind::from_mode(mode);
    Stat {
        kind,
        mode: mode & 0o7777,
        uid: s.stx_uid,
        gid: s.stx_gid,
        size: s.stx_size,
        mtime: Time {
            secs: s.stx_mtime.tv_sec,
            nanos: s.stx_mtime.tv_nsec,
        },
        ctime: Time {
            secs: s.stx_ctime.tv_sec,
            nanos: s.stx_ctime.tv_nsec,
        },
        inode: s.stx_ino,
        links: u64::from(s.stx_nlink),
        rdev: if kind.is_device() {
            u64::from(s.stx_rdev_major) << 32 | u64::from(s.stx_rdev_minor)
        } else {
            0
        },
        dev: u64::from(s.stx_dev_major) << 32 | u64::from(s.stx_dev_minor),
    }
}

/// `lstat` of `name` in a directory.
pub(crate) fn stat_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<Stat, Errno> {
    statx(
        dir,
        name,
        AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT,
        StatxFlags::BASIC_STATS,
    )
    .map(|s| from_statx(&s))
}

/// `fstat` of an open descriptor.
pub(crate) fn stat_fd(fd: BorrowedFd<'_>) -> Result<Stat, Errno> {
    statx(
        fd,
        c"",
        AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::BASIC_STATS,
    )
    .map(|s| from_statx(&s))
}

static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Open `rel` (a path relative to the scan root, no leading `/`; empty for the root itself)
/// without following any symbolic link on the way, the last component included, and without
/// leaving the root. A symbolic link anywhere on the path gives `ELOOP` (or `ENOTDIR`).
pub(crate) fn open_beneath(
    root: BorrowedFd<'_>,
    rel: &[u8],
    flags: OFlags,
) -> Result<OwnedFd, Errno> {
    let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let rel: &[u8] = if rel.is_empty() { b"." } else { rel };
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        match openat2(
            root,
            rel,
            flags,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        ) {
            // Kernels before 5.6, or a seccomp filter that refuses the call.
            Err(Errno::NOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
            r => return r,
        }
    }
    open_components(root, rel, flags)
}

/// The portable fallback: one `openat(O_NOFOLLOW)` per component.
fn open_components(root: BorrowedFd<'_>, rel: &[u8], flags: OFlags) -> Result<OwnedFd, Errno> {
    let comps: Vec<&[u8]> = rel
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    if comps.contains(&&b".."[..]) {
        return Err(Errno::XDEV);
    }
    let mut cur = openat(
        root,
        c".",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let Some((last, parents)) = comps.split_last() else {
        return openat(root, c".", flags, Mode::empty());
    };
    for c in parents {
        cur = match openat(
            &cur,
            *c,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Err(Errno::NOTDIR) if is_symlink(cur.as_fd(), c) => return Err(Errno::LOOP),
            r => r?,
        };
    }
    openat(&cur, *last, flags, Mode::empty())
}

fn is_symlink(dir: BorrowedFd<'_>, name: &[u8]) -> bool {
    statx(dir, name, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::TYPE)
        .is_ok_and(|s| Kind::from_mode(u32::from(s.stx_mode)) == Kind::Symlink)
}

/// Open a regular file for reading, by name in a directory, never following a link and never
/// blocking (a FIFO swapped in between listing and opening must not hang the scan).
pub(crate) fn open_file(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    let base =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    match openat(dir, name, base | OFlags::NOATIME, Mode::empty()) {
        // O_NOATIME needs ownership or CAP_FOWNER.
        Err(Errno::PERM) => openat(dir, name, base, Mode::empty()),
        r => r,
    }
}

/// The target of a symbolic link, as stored.
pub(crate) fn read_link(dir: BorrowedFd<'_>, name: &CStr) -> Result<Box<[u8]>, Errno> {
    rustix::fs::readlinkat(dir, name, Vec::new()).map(|c| c.into_bytes().into_boxed_slice())
}

/// Where to reach `name` in `dir` by path without following it (for the xattr calls that
/// have no `*at` form): `/proc/self/fd/N/name`.
pub(crate) fn proc_path(dir: BorrowedFd<'_>, name: &CStr) -> Vec<u8> {
    let mut p = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    p.extend_from_slice(name.to_bytes());
    p
}

/// Which extended attributes to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct XattrWant {
    pub acl: bool,
    pub other: bool,
}

/// Where to read extended attributes from.
pub(crate) enum XattrSource<'a> {
    Fd(BorrowedFd<'a>),
    /// A path read without following its last component.
    Path(&'a [u8]),
}

fn xattr_list(src: &XattrSource<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    match src {
        XattrSource::Fd(fd) => rustix::fs::flistxattr(fd, buf),
        XattrSource::Path(p) => rustix::fs::llistxattr(*p, buf),
    }
}

fn xattr_get(src: &XattrSource<'_>, name: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    match src {
        XattrSource::Fd(fd) => rustix::fs::fgetxattr(fd, name, buf),
        XattrSource::Path(p) => rustix::fs::lgetxattr(*p, name, buf),
    }
}

/// Call a list/get xattr function with a growing buffer until the data fits (rustix caps the
/// returned length at the buffer's, so a size query with an empty buffer cannot be used).
fn sized_read(mut call: impl FnMut(&mut [u8]) -> Result<usize, Errno>) -> Result<Vec<u8>, Errno> {
    // Most files have no extended attribute: try a buffer on the stack first.
    let mut small = [0u8; 256];
    match call(&mut small) {
        Ok(n) => return Ok(small[..n].to_vec()),
        Err(Errno::RANGE) => {}
        Err(e) => return Err(e),
    }
    let mut size = 1024;
    loop {
        let mut buf = vec![0u8; size];
        match call(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            // Linux caps names lists and values at 64 KiB.
            Err(Errno::RANGE) if size <= 64 * 1024 => size *= 4,
            Err(e) => return Err(e),
        }
    }
}

/// The extended attributes of a path, sorted by name. A file system without them gives none.
pub(crate) fn xattrs(src: &XattrSource<'_>, want: XattrWant) -> Result<Box<[Xattr]>, Errno> {
    let list = match sized_read(|b| xattr_list(src, b)) {
        Ok(l) => l,
        Err(Errno::NOTSUP) => return Ok(Box::new([])),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for name in list.split_inclusive(|b| *b == 0) {
        let Ok(cname) = CStr::from_bytes_with_nul(name) else {
            continue;
        };
        let is_acl = cname.to_bytes().starts_with(b"system.posix_acl_");
        if (is_acl && !want.acl) || (!is_acl && !want.other) {
            continue;
        }
        let value = match sized_read(|b| xattr_get(src, cname, b)) {
            Ok(v) => v,
            // Removed between listing and reading.
            Err(Errno::NODATA) => continue,
            Err(e) => return Err(e),
        };
        out.push(Xattr {
            name: cname.to_bytes().into(),
            value: value.into_boxed_slice(),
        });
    }
    out.sort();
    Ok(out.into_boxed_slice())
}

/// Size of the read buffer: large enough for BLAKE3's SIMD paths and few system calls, small
/// enough to stay in cache.
const READ_BUF: usize = 256 * 1024;

thread_local! {
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Hash an open regular file from its start, reading it once. Returns the digest and the
/// number of bytes read. `size` (from `fstat`) lets a small file be read in one call.
pub(crate) fn hash_file(
    fd: BorrowedFd<'_>,
    size: u64,
    algo: HashAlgo,
) -> Result<(Digest, u64), Errno> {
    BUF.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < READ_BUF {
            buf.resize(READ_BUF, 0);
        }
        let mut h = algo.hasher();
        let mut total: u64 = 0;
        loop {
            let n = match rustix::io::pread(fd, &mut buf[..], total) {
                Ok(n) => n,
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            total += n as u64;
            // A short read that reaches the size fstat gave is the end of a regular file.
            if total == size && n < buf.len() {
                break;
            }
        }
        Ok((h.finish(), total))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_walk_refuses_links_and_dot_dot_like_openat2() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc/sub")).unwrap();
        std::os::unix::fs::symlink("/", d.path().join("up")).unwrap();
        std::os::unix::fs::symlink("sub", d.path().join("etc/lsub")).unwrap();
        let root =
            rustix::fs::open(d.path(), OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let dir = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        for rel in [
            &b"up"[..],
            b"up/etc",
            b"etc/lsub",
            b"etc/lsub/x",
            b"..",
            b"etc/../..",
        ] {
            let r = open_components(root.as_fd(), rel, dir);
            assert!(r.is_err(), "{} opened", String::from_utf8_lossy(rel));
        }
        assert_eq!(
            open_components(root.as_fd(), b"up/etc", dir).unwrap_err(),
            Errno::LOOP
        );
        assert!(open_components(root.as_fd(), b"etc/sub", dir).is_ok());
        assert!(open_components(root.as_fd(), b"", dir).is_ok());
    }
}
