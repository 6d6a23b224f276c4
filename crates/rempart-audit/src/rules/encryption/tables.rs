//! The block-device tables: `/etc/crypttab` (`name device [keyfile [options]]`), `/etc/fstab`
//! (`spec mountpoint type options [freq [passno]]`) and the kernel's `/proc/self/mountinfo`.
//! `#` comment lines; fields separated by blanks; `\040`-style octal escapes in fstab and
//! mountinfo fields. The [`Volumes`] fact holds the parsed crypttab and fstab.

use crate::host::HostError;
use crate::rule::{Ctx, Fact};

pub const CRYPTTAB: &str = "/etc/crypttab";
pub const FSTAB: &str = "/etc/fstab";

/// A line of a table that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u32,
    pub message: String,
}

/// One `/etc/crypttab` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptEntry {
    /// The mapped name: the volume appears as `/dev/mapper/<name>`.
    pub name: String,
    pub device: String,
    /// The key file as written; `None` for `none`, `-` or no third field (a passphrase).
    pub keyfile: Option<String>,
    pub options: Vec<String>,
    pub line: u32,
    pub text: String,
}

impl CryptEntry {
    /// The key file as a host path rempart can check: `None` for a passphrase, a random key
    /// (`/dev/urandom`, for swap) or a key on another device (`/key:UUID=...`).
    pub fn local_keyfile(&self) -> Option<&str> {
        let k = self.keyfile.as_deref()?;
        if k.starts_with("/dev/") || !k.starts_with('/') {
            return None;
        }
        if let Some((_, dev)) = k.split_once(':') {
            if dev.contains('=') || dev.starts_with('/') {
                return None;
            }
        }
        Some(k)
    }
}

/// Undo the octal escapes (`\040` is a space) of fstab and mountinfo fields.
pub fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let digits = &b[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let v = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(v) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn lines(text: &str) -> impl Iterator<Item = (u32, &str, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, raw)| {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            return None;
        }
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        Some((line, raw, t.split_whitespace().collect()))
    })
}

/// Parse `/etc/crypttab`.
pub fn parse_crypttab(text: &str) -> (Vec<CryptEntry>, Vec<BadLine>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (line, raw, f) in lines(text) {
        if f.len() < 2 || f.len() > 4 {
            bad.push(BadLine {
                line,
                message: format!("expected 2 to 4 fields, found {}", f.len()),
            });
            continue;
        }
        let keyfile = f
            .get(2)
            .filter(|k| !matches!(**k, "none" | "-" | ""))
            .map(|k| k.to_string());
        out.push(CryptEntry {
            name: f[0].to_string(),
            device: f[1].to_string(),
            keyfile,
            options: f
                .get(3)
                .map(|o| o.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            line,
            text: raw.to_string(),
        });
    }
    (out, bad)
}

/// One `/etc/fstab` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// The device (`/dev/mapper/x`, `UUID=...`, `LABEL=...`).
    pub spec: String,
    pub mount_point: String,
    pub fstype: String,
    pub line: u32,
    pub text: String,
}

/// Parse `/etc/fstab`.
pub fn parse_fstab(text: &str) -> (Vec<MountEntry>, Vec<BadLine>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (line, raw, f) in lines(text) {
        if f.len() < 3 || f.len() > 6 {
            bad.push(BadLine {
                line,
                message: format!("expected 3 to 6 fields, found {}", f.len()),
            });
            continue;
        }
        out.push(MountEntry {
            spec: unescape_octal(f[0]),
            mount_point: unescape_octal(f[1]),
            fstype: f[2].to_string(),
            line,
            text: raw.to_string(),
        });
    }
    (out, bad)
}

/// One mount of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    pub major: u32,
    pub minor: u32,
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
}

/// Parse `/proc/self/mountinfo` (`id parent major:minor root mountpoint options [optional...] -
/// fstype source superoptions`). Malformed lines are skipped: the kernel writes this file.
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    let mut out = Vec::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 7 {
            continue;
        }
        let Some((maj, min)) = f[2].split_once(':') else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (maj.parse(), min.parse()) else {
            continue;
        };
        let Some(sep) = f.iter().skip(6).position(|x| *x == "-") else {
            continue;
        };
        let rest = &f[6 + sep + 1..];
        out.push(MountInfo {
            major,
            minor,
            mount_point: unescape_octal(f[4]),
            fstype: rest.first().map_or_else(String::new, |s| s.to_string()),
            source: rest.get(1).map_or_else(String::new, |s| unescape_octal(s)),
        });
    }
    out
}

/// The entry whose mount point is the longest path-component prefix of `path`.
pub fn mount_of<'a, T>(path: &str, mounts: &'a [T], point: impl Fn(&T) -> &str) -> Option<&'a T> {
    mounts
        .iter()
        .filter(|m| {
            let p = point(m).trim_end_matches('/');
            p.is_empty() || path == p || path.starts_with(&format!("{p}/"))
        })
        .max_by_key(|m| point(m).trim_end_matches('/').len())
}

/// The parsed `/etc/crypttab` and `/etc/fstab` of the host.
#[derive(Debug, Clone, Default)]
pub struct Volumes {
    /// `None` when the host has no `/etc/crypttab`.
    pub crypttab: Option<Vec<CryptEntry>>,
    pub crypttab_bad: Vec<BadLine>,
    pub fstab: Vec<MountEntry>,
    pub fstab_bad: Vec<BadLine>,
    pub crypttab_error: Option<HostError>,
    pub fstab_error: Option<HostError>,
}

impl Fact for Volumes {
    fn collect(ctx: &Ctx) -> Volumes {
        let mut v = Volumes::default();
        match ctx.host.read_text(CRYPTTAB) {
            Ok(Some(f)) => {
                let (e, bad) = parse_crypttab(&f.text);
                v.crypttab = Some(e);
                v.crypttab_bad = bad;
            }
            Ok(None) => {}
            Err(e) => v.crypttab_error = Some(e),
        }
        match ctx.host.read_text(FSTAB) {
            Ok(Some(f)) => {
                let (e, bad) = parse_fstab(&f.text);
                v.fstab = e;
                v.fstab_bad = bad;
            }
            Ok(None) => {}
            Err(e) => v.fstab_error = Some(e),
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crypttab_of_the_luks_guide() {
        let (e, bad) = parse_crypttab(
            "# <target name> <source device> <key file> <options>\n\
             postgres_encrypted UUID=4b2c-11 /root/.koprogo-luks-key luks,discard\n\
             uploads_encrypted /dev/vdc /root/.koprogo-luks-key luks\n\
             cswap /dev/sda6 /dev/urandom swap,cipher=aes-xts-plain64\n\
             home /dev/sda5 none\n\
             usbkey /dev/sdb1 /key.bin:UUID=1234 luks\n\
             broken\n",
        );
        assert_eq!(
            bad,
            [BadLine {
                line: 7,
                message: "expected 2 to 4 fields, found 1".into()
            }]
        );
        assert_eq!(e[0].local_keyfile(), Some("/root/.koprogo-luks-key"));
        assert_eq!(e[0].options, ["luks", "discard"]);
        assert_eq!(e[2].local_keyfile(), None);
        assert_eq!(e[3].keyfile, None);
        assert_eq!(e[4].local_keyfile(), None);
    }

    #[test]
    fn fstab_and_mount_lookup() {
        let (m, bad) = parse_fstab(
            "UUID=abcd / ext4 errors=remount-ro 0 1\n\
             /dev/mapper/postgres_encrypted /var/lib/postgresql ext4 defaults,nofail 0 2\n\
             /dev/sdb1 /srv/my\\040data ext4 defaults 0 2\n",
        );
        assert!(bad.is_empty());
        assert_eq!(m[2].mount_point, "/srv/my data");
        let hit = mount_of("/var/lib/postgresql/15/main", &m, |e| &e.mount_point).unwrap();
        assert_eq!(hit.line, 2);
        let root = mount_of("/var/lib/postgresqlx", &m, |e| &e.mount_point).unwrap();
        assert_eq!(root.mount_point, "/");
    }

    #[test]
    fn mountinfo_lines() {
        let m = parse_mountinfo(
            "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
             40 1 253:1 / /var/lib/mysql rw,relatime shared:5 - ext4 /dev/mapper/db rw\n\
             garbage line\n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!((m[1].major, m[1].minor), (253, 1));
        assert_eq!(m[1].source, "/dev/mapper/db");
    }

    #[test]
    fn octal_escapes() {
        assert_eq!(unescape_octal("a\\040b"), "a b");
        assert_eq!(unescape_octal("a\\04"), "a\\04");
        assert_eq!(unescape_octal("\\777x"), "\\777x");
        assert_eq!(unescape_octal("\\"), "\\");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,400}") {
            let _ = parse_crypttab(&s);
            let _ = parse_fstab(&s);
            let _ = parse_mountinfo(&s);
            let _ = unescape_octal(&s);
        }

        #[test]
        fn every_crypttab_line_is_an_entry_or_bad(lines in proptest::collection::vec("[a-z0-9/=#, -]{0,30}", 0..20)) {
            let text = lines.join("\n");
            let (e, bad) = parse_crypttab(&text);
            let meaningful = lines.iter().filter(|l| { let t = l.trim(); !t.is_empty() && !t.starts_with('#') }).count();
            prop_assert_eq!(e.len() + bad.len(), meaningful);
        }

        #[test]
        fn escaped_mount_points_round_trip(p in "/[a-z ]{0,20}") {
            let text = format!("/dev/sda1 {} ext4 defaults 0 2\n", p.replace(' ', "\\040"));
            let (m, _) = parse_fstab(&text);
            prop_assert_eq!(&m[0].mount_point, &p);
        }
    }
}
