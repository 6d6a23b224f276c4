//! Comparing a new scan with a baseline: which paths were added, removed or changed, which
//! attributes changed (old and new values), and notes on the changes that matter most (a new
//! setuid bit, content replaced with size and time stamps kept).

use crate::attrs::Attr;
use crate::entry::{Entry, Kind};
use crate::hostpath::{self, HostPath};
use crate::scan::{Issue, Sink};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One attribute that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrChange {
    pub attr: Attr,
    pub old: String,
    pub new: String,
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: HostPath,
    pub kind: ChangeKind,
    /// The kind of the path (the new one, or the removed one's).
    pub entry_kind: Kind,
    /// For `Changed`: the attributes that differ.
    pub attrs: Vec<AttrChange>,
    /// For `Added` and `Removed`: the entry's main attributes (`file 0755 0:0 1234 bytes`).
    pub summary: Option<String>,
    /// What makes this change stand out (a new setuid bit, ...).
    pub notes: Vec<String>,
}

fn mode_str(m: u32) -> String {
    format!("{m:04o}")
}

fn kind_str(e: &Entry) -> String {
    if e.kind.is_device() {
        let (ma, mi) = e.rdev_pair();
        format!("{} {ma}:{mi}", e.kind)
    } else {
        e.kind.to_string()
    }
}

fn xattrs_str(e: &Entry, acl: bool) -> String {
    let v: Vec<String> = e
        .xattrs
        .iter()
        .filter(|x| x.is_acl() == acl)
        .map(|x| {
            format!(
                "{}={}",
                hostpath::display(&x.name),
                hostpath::to_hex(&x.value)
            )
        })
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(" ")
    }
}

fn digest_str(e: &Entry) -> String {
    match (&e.digest, e.unread) {
        (Some(d), _) => d.hex(),
        (None, Some(u)) => format!("unread ({u})"),
        (None, None) => "none".into(),
    }
}

/// A one-line description of an entry, for additions and removals.
pub fn summary(e: &Entry) -> String {
    let mut s = kind_str(e);
    if e.attrs.contains(Attr::Mode) {
        s.push(' ');
        s.push_str(&mode_str(e.mode));
    }
    if e.attrs.contains(Attr::Owner) || e.attrs.contains(Attr::Group) {
        s.push_str(&format!(" {}:{}", e.uid, e.gid));
    }
    if e.kind == Kind::File && e.attrs.contains(Attr::Size) {
        s.push_str(&format!(" {} bytes", e.size));
    }
    if let Some(t) = &e.target {
        s.push_str(&format!(" -> {}", hostpath::display(t)));
    }
    s
}

/// An attribute's value, for reports.
fn value(e: &Entry, a: Attr) -> String {
    match a {
        Attr::Type => kind_str(e),
        Attr::Mode => mode_str(e.mode),
        Attr::Owner => e.uid.to_string(),
        Attr::Group => e.gid.to_string(),
        Attr::Size => e.size.to_string(),
        Attr::Mtime => e.mtime.to_string(),
        Attr::Ctime => e.ctime.to_string(),
        Attr::Inode => e.inode.to_string(),
        Attr::Links => e.links.to_string(),
        Attr::Target => e.target.as_deref().map_or("none".into(), hostpath::display),
        Attr::Xattrs => xattrs_str(e, false),
        Attr::Acl => xattrs_str(e, true),
        Attr::Hash => digest_str(e),
    }
}

fn xattrs_differ(old: &Entry, new: &Entry, acl: bool) -> bool {
    let o = old.xattrs.iter().filter(|x| x.is_acl() == acl);
    let n = new.xattrs.iter().filter(|x| x.is_acl() == acl);
    !o.eq(n)
}

/// The attributes that differ between a baseline entry and the same path now. Only attributes
/// both recorded are compared; a hash that could not be read now is not a change (the scan
/// reports why it could not be read). Values are formatted only for what differs: the
/// comparison runs once per scanned path.
pub fn diff(old: &Entry, new: &Entry) -> Vec<AttrChange> {
    let common = old.attrs.intersection(new.attrs);
    let mut out = Vec::new();
    for a in common.iter() {
        let differs = match a {
            Attr::Type => old.kind != new.kind || old.rdev != new.rdev,
            Attr::Mode => old.mode != new.mode,
            Attr::Owner => old.uid != new.uid,
            Attr::Group => old.gid != new.gid,
            Attr::Size => old.size != new.size,
            Attr::Mtime => old.mtime != new.mtime,
            Attr::Ctime => old.ctime != new.ctime,
            Attr::Inode => old.inode != new.inode,
            Attr::Links => old.links != new.links,
            Attr::Target => old.target != new.target,
            Attr::Xattrs => xattrs_differ(old, new, false),
            Attr::Acl => xattrs_differ(old, new, true),
            Attr::Hash => {
                old.kind == Kind::File
                    && new.kind == Kind::File
                    && matches!((&old.digest, &new.digest), (Some(o), Some(n)) if o != n)
            }
        };
        if differs {
            out.push(AttrChange {
                attr: a,
                old: value(old, a),
                new: value(new, a),
            });
        }
    }
    out
}

fn notes_for_change(old: &Entry, new: &Entry, changes: &[AttrChange]) -> Vec<String> {
    let mut notes = Vec::new();
    let changed = |a| changes.iter().any(|c| c.attr == a);
    if changed(Attr::Mode) || (changed(Attr::Type) && new.attrs.contains(Attr::Mode)) {
        for (bit, what) in [(0o4000, "setuid"), (0o2000, "setgid")] {
            if new.mode & bit != 0 && old.mode & bit == 0 {
                notes.push(format!("{what} bit added"));
            }
        }
        if new.mode & 0o002 != 0 && old.mode & 0o002 == 0 && new.kind != Kind::Symlink {
            notes.push("made world-writable".into());
        }
    }
    if changed(Attr::Hash)
        && new.attrs.contains(Attr::Size)
        && new.attrs.contains(Attr::Mtime)
        && !changed(Attr::Size)
        && !changed(Attr::Mtime)
    {
        notes.push(
            "content changed but size and modification time did not: the time stamp was \
             likely restored to hide the change"
                .into(),
        );
    }
    if changed(Attr::Xattrs)
        && new
            .xattrs
            .iter()
            .any(|x| &*x.name == b"security.capability")
        && !old
            .xattrs
            .iter()
            .any(|x| &*x.name == b"security.capability")
    {
        notes.push("file capabilities added".into());
    }
    notes
}

fn notes_for_added(e: &Entry) -> Vec<String> {
    let mut notes = Vec::new();
    if e.kind == Kind::File && e.attrs.contains(Attr::Mode) {
        if e.mode & 0o4000 != 0 {
            notes.push("new setuid file".into());
        }
        if e.mode & 0o2000 != 0 {
            notes.push("new setgid file".into());
        }
    }
    if e.xattrs.iter().any(|x| &*x.name == b"security.capability") {
        notes.push("new file with capabilities".into());
    }
    notes
}

/// A [`Sink`] that compares each scanned entry with the baseline as it arrives, keeping only
/// the differences (memory stays at the baseline's size whatever the tree's).
#[derive(Debug)]
pub struct Comparer<'b> {
    baseline: &'b [Entry],
    seen: Vec<AtomicBool>,
    changes: Mutex<Vec<Change>>,
}

/// The result of a comparison.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Sorted by path.
    pub changes: Vec<Change>,
    /// Baseline entries that could not be verified (beneath a directory the scan could not
    /// read): neither removed nor unchanged.
    pub unverified: u64,
}

impl<'b> Comparer<'b> {
    /// `baseline` must be sorted by path (as baselines are).
    pub fn new(baseline: &'b [Entry]) -> Comparer<'b> {
        Comparer {
            baseline,
            seen: baseline.iter().map(|_| AtomicBool::new(false)).collect(),
            changes: Mutex::new(Vec::new()),
        }
    }

    /// Compare one entry now (also used by [`Sink::accept`]).
    fn compare(&self, e: &Entry, out: &mut Vec<Change>) {
        match self
            .baseline
            .binary_search_by(|b| b.path.as_ref().cmp(e.path.as_ref()))
        {
            Ok(i) => {
                self.seen[i].store(true, Ordering::Relaxed);
                let old = &self.baseline[i];
                let attrs = diff(old, e);
                if !attrs.is_empty() {
                    let notes = notes_for_change(old, e, &attrs);
                    out.push(Change {
                        path: e.path.clone(),
                        kind: ChangeKind::Changed,
                        entry_kind: e.kind,
                        attrs,
                        summary: None,
                        notes,
                    });
                }
            }
            Err(_) => out.push(Change {
                notes: notes_for_added(e),
                summary: Some(summary(e)),
                kind: ChangeKind::Added,
                entry_kind: e.kind,
                attrs: Vec::new(),
                path: e.path.clone(),
            }),
        }
    }

    /// Everything not seen is removed, unless a scan issue says it could not be looked at.
    pub fn finish(self, issues: &[Issue]) -> Comparison {
        let mut changes = self.changes.into_inner().unwrap_or_else(|e| e.into_inner());
        let blind: Vec<&[u8]> = issues
            .iter()
            .filter(|i| i.subtree)
            .map(|i| i.path.as_ref())
            .collect();
        let mut unverified = 0;
        for (i, e) in self.baseline.iter().enumerate() {
            if self.seen[i].load(Ordering::Relaxed) {
                continue;
            }
            if blind.iter().any(|b| hostpath::is_within(&e.path, b)) {
                unverified += 1;
                continue;
            }
            changes.push(Change {
                path: e.path.clone(),
                kind: ChangeKind::Removed,
                entry_kind: e.kind,
                attrs: Vec::new(),
                summary: Some(summary(e)),
                notes: Vec::new(),
            });
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Comparison {
            changes,
            unverified,
        }
    }
}

impl Sink for Comparer<'_> {
    fn accept(&self, entries: Vec<Entry>) {
        let mut out = Vec::new();
        for e in &entries {
            self.compare(e, &mut out);
        }
        if !out.is_empty() {
            let mut all = self.changes.lock().unwrap_or_else(|e| e.into_inner());
            all.append(&mut out);
        }
    }
}

/// Compare two sorted entry lists (for `update`, which keeps the new scan whole).
pub fn compare_all(baseline: &[Entry], current: &[Entry], issues: &[Issue]) -> Comparison {
    let c = Comparer::new(baseline);
    let mut out = Vec::new();
    for e in current {
        c.compare(e, &mut out);
    }
    c.changes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .append(&mut out);
    c.finish(issues)
}
