//! The body of a baseline: entries sorted by path, each path stored as the length it shares
//! with the previous one plus the rest (paths in a tree share long prefixes), numbers as
//! LEB128 varints, only the attributes the entry's rule recorded. The body is then compressed
//! with zstd by the envelope. Decoding treats its input as hostile: every length is bounded by
//! what remains, every value is validated, and paths must be strictly increasing.

use super::FormatError;
use crate::attrs::{Attr, AttrSet};
use crate::entry::{Entry, Kind, Time, Unread, Xattr};
use crate::hash::{Digest, HashAlgo};

/// The longest path, link target, xattr name or value accepted (Linux's limits are lower).
const MAX_FIELD: u64 = 1 << 16;
/// The most extended attributes on one path.
const MAX_XATTRS: u64 = 4096;

const F_DIGEST: u8 = 1;
const F_TARGET: u8 = 2;
const F_UNREAD: u8 = 4;
const F_XATTRS: u8 = 8;
const F_KNOWN: u8 = F_DIGEST | F_TARGET | F_UNREAD | F_XATTRS;

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_time(out: &mut Vec<u8>, t: Time) {
    // Zig-zag: times before 1970 stay short.
    put_varint(out, ((t.secs << 1) ^ (t.secs >> 63)) as u64);
    put_varint(out, u64::from(t.nanos));
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A cursor over untrusted bytes.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn err(&self, what: &str) -> FormatError {
        FormatError::Malformed(format!("{what} at byte {}", self.pos))
    }

    pub(crate) fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], FormatError> {
        if n > self.remaining() as u64 {
            return Err(self.err(&format!("truncated {what}")));
        }
        let n = n as usize;
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, FormatError> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn fixed<const N: usize>(&mut self, what: &str) -> Result<[u8; N], FormatError> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn varint(&mut self, what: &str) -> Result<u64, FormatError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8(what)?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err(self.err(&format!("{what} overflows")));
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err(&format!("{what} overflows")))
    }

    fn varint_u32(&mut self, what: &str) -> Result<u32, FormatError> {
        let v = self.varint(what)?;
        u32::try_from(v).map_err(|_| self.err(&format!("{what} out of range")))
    }

    fn time(&mut self, what: &str) -> Result<Time, FormatError> {
        let z = self.varint(what)?;
        let secs = ((z >> 1) as i64) ^ -((z & 1) as i64);
        let nanos = self.varint_u32(what)?;
        if nanos >= 1_000_000_000 {
            return Err(self.err(&format!("{what}: nanoseconds out of range")));
        }
        Ok(Time { secs, nanos })
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], FormatError> {
        let n = self.varint(what)?;
        if n > MAX_FIELD {
            return Err(self.err(&format!("{what} too long")));
        }
        self.take(n, what)
    }
}

fn unread_code(u: Unread) -> (u8, i32) {
    match u {
        Unread::Denied => (1, 0),
        Unread::Vanished => (2, 0),
        Unread::Changing => (3, 0),
        Unread::Io(e) => (4, e),
    }
}

/// Append one entry; `prev` is the previous entry's path (empty for the first).
pub(crate) fn encode_entry(out: &mut Vec<u8>, prev: &[u8], e: &Entry, algo: HashAlgo) {
    let shared = prev
        .iter()
        .zip(e.path.iter())
        .take_while(|(a, b)| a == b)
        .count();
    put_varint(out, shared as u64);
    put_bytes(out, &e.path[shared..]);
    out.push(e.kind.id());
    put_varint(out, u64::from(e.attrs.bits()));
    let digest = e.digest.filter(|d| d.as_bytes().len() == algo.digest_len());
    let mut flags = 0;
    if digest.is_some() {
        flags |= F_DIGEST;
    }
    if e.target.is_some() {
        flags |= F_TARGET;
    }
    if e.unread.is_some() {
        flags |= F_UNREAD;
    }
    if !e.xattrs.is_empty() {
        flags |= F_XATTRS;
    }
    out.push(flags);
    if let Some(u) = e.unread {
        let (code, errno) = unread_code(u);
        out.push(code);
        if code == 4 {
            put_varint(out, u64::from(errno.unsigned_abs()));
        }
    }
    let has = |a| e.attrs.contains(a);
    if has(Attr::Type) && e.kind.is_device() {
        put_varint(out, e.rdev);
    }
    if has(Attr::Mode) {
        put_varint(out, u64::from(e.mode));
    }
    if has(Attr::Owner) {
        put_varint(out, u64::from(e.uid));
    }
    if has(Attr::Group) {
        put_varint(out, u64::from(e.gid));
    }
    if has(Attr::Size) {
        put_varint(out, e.size);
    }
    if has(Attr::Mtime) {
        put_time(out, e.mtime);
    }
    if has(Attr::Ctime) {
        put_time(out, e.ctime);
    }
    if has(Attr::Inode) {
        put_varint(out, e.inode);
    }
    if has(Attr::Links) {
        put_varint(out, e.links);
    }
    if let Some(t) = &e.target {
        put_bytes(out, t);
    }
    if !e.xattrs.is_empty() {
        put_varint(out, e.xattrs.len() as u64);
        for x in e.xattrs.iter() {
            put_bytes(out, &x.name);
            put_bytes(out, &x.value);
        }
    }
    if let Some(d) = digest {
        out.extend_from_slice(d.as_bytes());
    }
}

/// Decode one entry following the entry whose path is `prev`.
pub(crate) fn decode_entry(
    r: &mut Reader<'_>,
    prev: &[u8],
    algo: HashAlgo,
) -> Result<Entry, FormatError> {
    let start = r.pos();
    let bad = |m: String| FormatError::Malformed(format!("entry at byte {start}: {m}"));
    let shared = r.varint("path prefix")?;
    if shared > prev.len() as u64 {
        return Err(bad("shares more than the previous path".into()));
    }
    let suffix = r.bytes("path")?;
    let mut path = Vec::with_capacity(shared as usize + suffix.len());
    path.extend_from_slice(&prev[..shared as usize]);
    path.extend_from_slice(suffix);
    if path.first() != Some(&b'/') || path.contains(&0) || path.len() as u64 > MAX_FIELD {
        return Err(bad("not an absolute path".into()));
    }
    if !prev.is_empty() && path.as_slice() <= prev {
        return Err(bad("paths out of order or repeated".into()));
    }
    let kind = Kind::from_id(r.u8("kind")?).ok_or_else(|| bad("unknown kind".into()))?;
    let bits = r.varint("attributes")?;
    let attrs = u16::try_from(bits)
        .ok()
        .and_then(AttrSet::from_bits)
        .ok_or_else(|| bad("unknown attributes".into()))?;
    let flags = r.u8("flags")?;
    if flags & !F_KNOWN != 0 {
        return Err(bad("unknown flags".into()));
    }
    let mut e = Entry::new(path, kind);
    e.attrs = attrs;
    if flags & F_UNREAD != 0 {
        e.unread = Some(match r.u8("unread")? {
            1 => Unread::Denied,
            2 => Unread::Vanished,
            3 => Unread::Changing,
            4 => Unread::Io(
                i32::try_from(r.varint("errno")?).map_err(|_| bad("errno out of range".into()))?,
            ),
            _ => return Err(bad("unknown unread code".into())),
        });
    }
    let has = |a| attrs.contains(a);
    if has(Attr::Type) && kind.is_device() {
        e.rdev = r.varint("rdev")?;
    }
    if has(Attr::Mode) {
        e.mode = r.varint_u32("mode")?;
        if e.mode > 0o7777 {
            return Err(bad("mode out of range".into()));
        }
    }
    if has(Attr::Owner) {
        e.uid = r.varint_u32("uid")?;
    }
    if has(Attr::Group) {
        e.gid = r.varint_u32("gid")?;
    }
    if has(Attr::Size) {
        e.size = r.varint("size")?;
    }
    if has(Attr::Mtime) {
        e.mtime = r.time("mtime")?;
    }
    if has(Attr::Ctime) {
        e.ctime = r.time("ctime")?;
    }
    if has(Attr::Inode) {
        e.inode = r.varint("inode")?;
    }
    if has(Attr::Links) {
        e.links = r.varint("links")?;
    }
    if flags & F_TARGET != 0 {
        if kind != Kind::Symlink || !has(Attr::Target) {
            return Err(bad("a link target on something that records none".into()));
        }
        e.target = Some(r.bytes("link target")?.into());
    }
    if flags & F_XATTRS != 0 {
        let n = r.varint("xattr count")?;
        if n == 0 || n > MAX_XATTRS {
            return Err(bad("xattr count out of range".into()));
        }
        let mut v = Vec::new();
        for _ in 0..n {
            let name = r.bytes("xattr name")?;
            let value = r.bytes("xattr value")?;
            v.push(Xattr {
                name: name.into(),
                value: value.into(),
            });
        }
        if v.windows(2).any(|w| w[0].name >= w[1].name) {
            return Err(bad("xattrs out of order".into()));
        }
        e.xattrs = v.into_boxed_slice();
    }
    if flags & F_DIGEST != 0 {
        if kind != Kind::File || !has(Attr::Hash) {
            return Err(bad("a hash on something that records none".into()));
        }
        e.digest = Some(Digest::from_slice(
            r.take(algo.digest_len() as u64, "hash")?,
        ));
    }
    Ok(e)
}
