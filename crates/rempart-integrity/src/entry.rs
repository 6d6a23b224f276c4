//! One recorded path: its kind and the attributes its rule asked for. Shared by the scanner
//! (which fills entries), the baseline (which stores them) and the comparison (which diffs them).

use crate::attrs::AttrSet;
use crate::hash::Digest;
use crate::hostpath::HostPath;
use std::fmt;

/// File kinds, as `ls -l` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::File,
        Kind::Dir,
        Kind::Symlink,
        Kind::Fifo,
        Kind::Socket,
        Kind::CharDevice,
        Kind::BlockDevice,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "directory",
            Kind::Symlink => "symlink",
            Kind::Fifo => "fifo",
            Kind::Socket => "socket",
            Kind::CharDevice => "char-device",
            Kind::BlockDevice => "block-device",
        }
    }

    /// The code stored in the baseline.
    pub fn id(self) -> u8 {
        match self {
            Kind::File => 1,
            Kind::Dir => 2,
            Kind::Symlink => 3,
            Kind::Fifo => 4,
            Kind::Socket => 5,
            Kind::CharDevice => 6,
            Kind::BlockDevice => 7,
        }
    }

    pub fn from_id(id: u8) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.id() == id)
    }

    /// From the `S_IFMT` bits of a mode.
    pub fn from_mode(mode: u32) -> Kind {
        match mode & 0o170000 {
            0o040000 => Kind::Dir,
            0o120000 => Kind::Symlink,
            0o010000 => Kind::Fifo,
            0o140000 => Kind::Socket,
            0o020000 => Kind::CharDevice,
            0o060000 => Kind::BlockDevice,
            _ => Kind::File,
        }
    }

    pub fn is_device(self) -> bool {
        matches!(self, Kind::CharDevice | Kind::BlockDevice)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A time stamp with nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time {
    pub secs: i64,
    pub nanos: u32,
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::new(self.secs, self.nanos.min(999_999_999) as i32) {
            Ok(t) => write!(f, "{t}"),
            Err(_) => write!(f, "{}.{:09}", self.secs, self.nanos),
        }
    }
}

/// One extended attribute (name and value, both raw bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Xattr {
    pub name: Box<[u8]>,
    pub value: Box<[u8]>,
}

impl Xattr {
    /// POSIX ACLs are stored as these two extended attributes.
    pub fn is_acl(&self) -> bool {
        self.name.starts_with(b"system.posix_acl_")
    }
}

/// Why the content of a regular file could not be hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unread {
    /// Opening or reading was refused (EACCES, EPERM).
    Denied,
    /// The file disappeared between listing and opening.
    Vanished,
    /// The file changed size while it was read; its hash is not recorded.
    Changing,
    /// Another error, by errno.
    Io(i32),
}

impl fmt::Display for Unread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unread::Denied => f.write_str("permission denied"),
            Unread::Vanished => f.write_str("vanished during the scan"),
            Unread::Changing => f.write_str("changed while being read"),
            Unread::Io(e) => write!(f, "{}", std::io::Error::from_raw_os_error(*e)),
        }
    }
}

/// Everything recorded for one path. Attributes outside `attrs` are zero and never compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: HostPath,
    pub kind: Kind,
    /// The attributes recorded for this entry (its rule's, for its kind).
    pub attrs: AttrSet,
    /// Permission bits (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: Time,
    pub ctime: Time,
    pub inode: u64,
    pub links: u64,
    /// Device numbers (`major << 32 | minor`) of a character or block device.
    pub rdev: u64,
    /// Target of a symbolic link, as stored (never resolved).
    pub target: Option<Box<[u8]>>,
    /// Extended attributes (ACLs included), sorted by name.
    pub xattrs: Box<[Xattr]>,
    /// Content hash of a regular file, when the rule records it and the file could be read.
    pub digest: Option<Digest>,
    /// Why `digest` is missing although the rule asked for it.
    pub unread: Option<Unread>,
}

impl Entry {
    /// An entry with every attribute empty.
    pub fn new(path: impl Into<HostPath>, kind: Kind) -> Entry {
        Entry {
            path: path.into(),
            kind,
            attrs: AttrSet::EMPTY,
            mode: 0,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: Time::default(),
            ctime: Time::default(),
            inode: 0,
            links: 0,
            rdev: 0,
            target: None,
            xattrs: Box::new([]),
            digest: None,
            unread: None,
        }
    }

    /// `major:minor` of a device.
    pub fn rdev_pair(&self) -> (u64, u64) {
        (self.rdev >> 32, self.rdev & 0xffff_ffff)
    }
}
