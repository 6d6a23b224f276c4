//! The attributes a rule records for each path, and the named sets policies use (`content`,
//! `perms`). It knows nothing of the file system: the scanner fills attributes, the comparison
//! reads them.

use std::fmt;

/// One recorded attribute of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attr {
    /// File type (regular, directory, symbolic link, device with its numbers, ...).
    Type,
    /// Permission bits, with setuid, setgid and sticky.
    Mode,
    /// Owning user id.
    Owner,
    /// Owning group id.
    Group,
    /// Size in bytes.
    Size,
    /// Modification time (nanoseconds).
    Mtime,
    /// Inode change time (nanoseconds); user space cannot set it back.
    Ctime,
    /// Inode number: a file replaced by another one gets a new inode.
    Inode,
    /// Hard link count.
    Links,
    /// Target of a symbolic link.
    Target,
    /// Extended attributes other than ACLs (file capabilities, SELinux labels, user.*).
    Xattrs,
    /// POSIX ACLs (`system.posix_acl_access`, `system.posix_acl_default`).
    Acl,
    /// Content hash.
    Hash,
}

impl Attr {
    pub const ALL: [Attr; 13] = [
        Attr::Type,
        Attr::Mode,
        Attr::Owner,
        Attr::Group,
        Attr::Size,
        Attr::Mtime,
        Attr::Ctime,
        Attr::Inode,
        Attr::Links,
        Attr::Target,
        Attr::Xattrs,
        Attr::Acl,
        Attr::Hash,
    ];

    /// The name used in policies and reports.
    pub fn name(self) -> &'static str {
        match self {
            Attr::Type => "type",
            Attr::Mode => "mode",
            Attr::Owner => "owner",
            Attr::Group => "group",
            Attr::Size => "size",
            Attr::Mtime => "mtime",
            Attr::Ctime => "ctime",
            Attr::Inode => "inode",
            Attr::Links => "links",
            Attr::Target => "target",
            Attr::Xattrs => "xattrs",
            Attr::Acl => "acl",
            Attr::Hash => "hash",
        }
    }

    pub fn parse(s: &str) -> Option<Attr> {
        Attr::ALL.into_iter().find(|a| a.name() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of attributes (a bit mask, stored as such in the baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AttrSet(u16);

impl AttrSet {
    pub const EMPTY: AttrSet = AttrSet(0);
    pub const ALL: AttrSet = AttrSet((1 << 13) - 1);

    pub fn of(attrs: &[Attr]) -> AttrSet {
        attrs.iter().fold(AttrSet::EMPTY, |s, a| s.with(*a))
    }

    /// From stored bits; `None` if a bit names no attribute.
    pub fn from_bits(bits: u16) -> Option<AttrSet> {
        (bits & !AttrSet::ALL.0 == 0).then_some(AttrSet(bits))
    }

    pub fn bits(self) -> u16 {
        self.0
    }

    pub fn contains(self, a: Attr) -> bool {
        self.0 & a.bit() != 0
    }

    #[must_use]
    pub fn with(self, a: Attr) -> AttrSet {
        AttrSet(self.0 | a.bit())
    }

    #[must_use]
    pub fn without(self, a: Attr) -> AttrSet {
        AttrSet(self.0 & !a.bit())
    }

    #[must_use]
    pub fn union(self, o: AttrSet) -> AttrSet {
        AttrSet(self.0 | o.0)
    }

    #[must_use]
    pub fn intersection(self, o: AttrSet) -> AttrSet {
        AttrSet(self.0 & o.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Attr> {
        Attr::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

/// What a rule records, for directories and for everything else. A directory's size, times and
/// link count move whenever a file inside it is added or removed, which the comparison already
/// reports as that file's addition or removal; the presets leave them out for directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleAttrs {
    pub files: AttrSet,
    pub dirs: AttrSet,
}

/// Attributes of a directory that do not move when its contents change.
const DIR_STABLE: [Attr; 7] = [
    Attr::Type,
    Attr::Mode,
    Attr::Owner,
    Attr::Group,
    Attr::Inode,
    Attr::Xattrs,
    Attr::Acl,
];

const PERMS: [Attr; 5] = [Attr::Type, Attr::Mode, Attr::Owner, Attr::Group, Attr::Acl];

/// The preset names accepted in a rule's `attrs`, with what they mean (for the docs).
pub const PRESETS: &[(&str, &str)] = &[
    (
        "content",
        "everything, including the content hash (binaries, libraries, configuration); \
         directories: type, mode, owner, group, inode, xattrs, acl",
    ),
    (
        "perms",
        "type, mode, owner, group and ACLs only (directories whose files change)",
    ),
];

impl RuleAttrs {
    /// Parse a rule's `attrs` list: preset names, attribute names (added for every kind), and
    /// `-name` to remove an attribute. The type is always recorded.
    pub fn parse(names: &[String]) -> Result<RuleAttrs, String> {
        let mut r = RuleAttrs {
            files: AttrSet::EMPTY,
            dirs: AttrSet::EMPTY,
        };
        for n in names {
            let n = n.trim();
            if let Some(rest) = n.strip_prefix('-') {
                let a = Attr::parse(rest).ok_or_else(|| unknown(rest))?;
                if a == Attr::Type {
                    return Err("the type is always recorded; `-type` is not allowed".into());
                }
                r.files = r.files.without(a);
                r.dirs = r.dirs.without(a);
                continue;
            }
            match n {
                "content" => {
                    r.files = r.files.union(AttrSet::ALL);
                    r.dirs = r.dirs.union(AttrSet::of(&DIR_STABLE));
                }
                "perms" => {
                    r.files = r.files.union(AttrSet::of(&PERMS));
                    r.dirs = r.dirs.union(AttrSet::of(&PERMS));
                }
                _ => {
                    let a = Attr::parse(n).ok_or_else(|| unknown(n))?;
                    r.files = r.files.with(a);
                    r.dirs = r.dirs.with(a);
                }
            }
        }
        r.files = r.files.with(Attr::Type);
        r.dirs = r
            .dirs
            .with(Attr::Type)
            .without(Attr::Hash)
            .without(Attr::Target);
        Ok(r)
    }
}

fn unknown(n: &str) -> String {
    let names: Vec<&str> = Attr::ALL.iter().map(|a| a.name()).collect();
    format!(
        "unknown attribute `{n}` (presets: content, perms; attributes: {})",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<RuleAttrs, String> {
        RuleAttrs::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn presets_and_modifiers() {
        let c = p(&["content"]).unwrap();
        assert_eq!(c.files, AttrSet::ALL);
        assert!(!c.dirs.contains(Attr::Mtime) && c.dirs.contains(Attr::Inode));
        let perms = p(&["perms"]).unwrap();
        assert!(perms.files.contains(Attr::Mode) && !perms.files.contains(Attr::Hash));
        let no_mtime = p(&["content", "-mtime"]).unwrap();
        assert!(!no_mtime.files.contains(Attr::Mtime) && no_mtime.files.contains(Attr::Hash));
        let dir_times = p(&["perms", "mtime"]).unwrap();
        assert!(dir_times.dirs.contains(Attr::Mtime));
        assert!(p(&["mode"]).unwrap().files.contains(Attr::Type));
        assert!(p(&["md5"]).unwrap_err().contains("unknown attribute `md5`"));
        assert!(p(&["-type"]).is_err());
    }

    #[test]
    fn bits_round_trip_and_reject_unknown() {
        assert_eq!(AttrSet::from_bits(AttrSet::ALL.bits()), Some(AttrSet::ALL));
        assert_eq!(AttrSet::from_bits(1 << 15), None);
    }
}
