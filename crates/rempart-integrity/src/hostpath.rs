//! Host paths as raw bytes. A file name on Linux is any byte string without `/` or NUL, so paths
//! stay bytes from the directory walk to the baseline and back: never converted lossily, never
//! compared as text. This module owns the two ways they leave the program: an escaped form for
//! humans (text reports, JSON `path`) and an exact hex form (JSON `path_hex`) for machines.

/// A host path (`/etc/passwd`), as bytes, absolute, without a trailing `/` (except `/` itself).
pub type HostPath = Box<[u8]>;

/// The path of `name` inside `dir` (`/` + `etc` = `/etc`, `/etc` + `ssh` = `/etc/ssh`).
pub fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(dir.len() + 1 + name.len());
    out.extend_from_slice(dir);
    if dir != b"/" {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

/// True when `path` is `ancestor` or lies beneath it.
pub fn is_within(path: &[u8], ancestor: &[u8]) -> bool {
    if ancestor == b"/" {
        return path.first() == Some(&b'/');
    }
    path.starts_with(ancestor) && (path.len() == ancestor.len() || path[ancestor.len()] == b'/')
}

/// `path` relative to `ancestor` (empty for the ancestor itself); `None` when not within it.
pub fn relative<'a>(path: &'a [u8], ancestor: &[u8]) -> Option<&'a [u8]> {
    if !is_within(path, ancestor) {
        return None;
    }
    if ancestor == b"/" {
        return Some(&path[1..]);
    }
    Some(path.get(ancestor.len() + 1..).unwrap_or(&[]))
}

/// The path for people: valid UTF-8 is kept, except that control characters and `\` are
/// escaped (a file name holding a newline cannot forge a report line); bytes that are not UTF-8
/// become `\xNN`. The form is unambiguous: `\` only ever starts an escape.
pub fn display(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Lower-case hex of any bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The bytes of a hex string (either case); `None` if it is not hex of whole bytes.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// The exact bytes of a path written as JSON (see [`crate::report::path_fields`]): `path_hex` when present, else `path`.
pub fn from_json_fields(path: &str, path_hex: Option<&str>) -> Option<Vec<u8>> {
    match path_hex {
        Some(h) => from_hex(h),
        None => Some(path.as_bytes().to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn join_and_relative() {
        assert_eq!(join(b"/", b"etc"), b"/etc");
        assert_eq!(join(b"/etc", b"ssh"), b"/etc/ssh");
        assert_eq!(relative(b"/etc/ssh/x", b"/etc"), Some(&b"ssh/x"[..]));
        assert_eq!(relative(b"/etc", b"/etc"), Some(&b""[..]));
        assert_eq!(relative(b"/etcx", b"/etc"), None);
        assert_eq!(relative(b"/etc", b"/"), Some(&b"etc"[..]));
        assert!(is_within(b"/", b"/"));
    }

    #[test]
    fn display_escapes_controls_and_invalid_bytes() {
        assert_eq!(display(b"/etc/passwd"), "/etc/passwd");
        assert_eq!(display(b"/tmp/a\nb"), "/tmp/a\\nb");
        assert_eq!(display(b"/tmp/\xff\xfe"), "/tmp/\\xff\\xfe");
        assert_eq!(display(b"/tmp/a\\xff"), "/tmp/a\\\\xff");
        assert_eq!(display("/tmp/café".as_bytes()), "/tmp/café");
        assert_eq!(display(b"/x\x1b[31m"), "/x\\u{1b}[31m");
    }

    proptest! {
        #[test]
        fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
        }

        #[test]
        fn display_is_injective(a in proptest::collection::vec(any::<u8>(), 0..16),
                                b in proptest::collection::vec(any::<u8>(), 0..16)) {
            if a != b {
                prop_assert_ne!(display(&a), display(&b));
            }
            prop_assert!(!display(&a).contains('\n'));
        }
    }
}
