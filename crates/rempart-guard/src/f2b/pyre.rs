//! Translating fail2ban regular expressions (Python `re` syntax with fail2ban's `<HOST>`-style
//! tags) into patterns Rust can run. Plain patterns go to the `regex` crate (linear time);
//! lookaround and back-references need `fancy-regex` (bounded backtracking). Constructs neither
//! supports (conditional groups `(?(name)...)`, possessive quantifiers, `<SKIPLINES>`) are errors
//! that say so.

use std::fmt;

/// An IPv4 or IPv6 address as logs write them (IPv6 possibly bracketed or IPv4-mapped).
const ADDR_RE: &str = r"(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}\]?)";
/// A DNS name.
const DNS_RE: &str = r"[\w\-.^_]*\w";

/// Why a pattern cannot be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A translated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The Rust pattern.
    pub pattern: String,
    /// Whether it needs backtracking (lookaround, back-references).
    pub fancy: bool,
}

/// Replaces fail2ban's tags: `<HOST>`, `<ADDR>`, `<IP4>`, `<IP6>`, `<DNS>`, `<SUBNET>`,
/// `<F-NAME>...</F-NAME>` (named groups `f_name`), and `<var>` from `lookup` (resolved
/// innermost first, so `<mdre-<mode>>` works). A `<...>` that is none of these stays literal.
pub fn expand_tags(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Unsupported> {
    let mut cur = s.to_string();
    for _ in 0..32 {
        let (next, changed) = expand_once(&cur, lookup)?;
        cur = next;
        if !changed {
            return Ok(cur);
        }
    }
    Err(Unsupported(
        "tags expand into each other without end".to_string(),
    ))
}

fn expand_once(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, bool), Unsupported> {
    let mut out = String::with_capacity(s.len() + 64);
    let mut changed = false;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let n = s[i + 1..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&s[i..i + 1 + n]);
            i += 1 + n;
            continue;
        }
        if b[i] == b'<' {
            let named_group = s[..i].ends_with("?P") || s[..i].ends_with("(?");
            if !named_group {
                // The innermost tag: `<` then name chars then `>`, no `<` inside.
                let rest = &s[i + 1..];
                if let Some(end) = rest.find(['>', '<']) {
                    if rest.as_bytes()[end] == b'>' {
                        let name = &rest[..end];
                        if let Some(rep) = tag(name, lookup)? {
                            out.push_str(&rep);
                            i += end + 2;
                            changed = true;
                            continue;
                        }
                    }
                }
            }
        }
        let n = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + n]);
        i += n;
    }
    Ok((out, changed))
}

fn tag(name: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, Unsupported> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'/'))
    {
        return Ok(None);
    }
    let rep = match name {
        "HOST" => format!("(?:::f{{4,6}}:)?(?P<host>{ADDR_RE}|{DNS_RE})"),
        "ADDR" => format!("(?:::f{{4,6}}:)?(?P<host>{ADDR_RE})"),
        "IP4" => r"(?P<ip4>\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})".to_string(),
        "IP6" => r"(?P<ip6>\[?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}\]?)".to_string(),
        "DNS" => format!("(?P<dns>{DNS_RE})"),
        "SUBNET" | "CIDR" => format!("(?P<host>{ADDR_RE})(?:/\\d{{1,3}})?"),
        "SKIPLINES" => {
            return Err(Unsupported(
                "`<SKIPLINES>` (multi-line matching) is not supported".to_string(),
            ))
        }
        _ => {
            if let Some(f) = name.strip_prefix("F-") {
                if let Some(f) = f.strip_suffix('/') {
                    return Ok(Some(format!("(?P<{}>\\w+)", group_name(f))));
                }
                return Ok(Some(format!("(?P<{}>", group_name(f))));
            }
            if let Some(f) = name.strip_prefix("/F-") {
                let _ = f;
                return Ok(Some(")".to_string()));
            }
            match lookup(name) {
                Some(v) => v,
                None => return Ok(None),
            }
        }
    };
    Ok(Some(rep))
}

/// A fail2ban `F-` field name as the group name fail2ban gives it (`ALT_USER` -> `alt_user`,
/// `ID` -> `fid`).
pub fn group_name(f: &str) -> String {
    if f == "ID" {
        return "fid".to_string();
    }
    f.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Translates Python regex syntax to Rust syntax.
pub fn translate(py: &str) -> Result<Translated, Unsupported> {
    let mut out = String::with_capacity(py.len() + 16);
    let mut fancy = false;
    let chars: Vec<char> = py.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                return Err(Unsupported("the pattern ends with a lone `\\`".to_string()));
            };
            i += 2;
            match n {
                'Z' => out.push_str(r"\z"),
                '<' => out.push('<'),
                '>' => out.push('>'),
                '1'..='9' if !in_class => {
                    fancy = true;
                    out.push('\\');
                    out.push(n);
                }
                c if c.is_ascii_alphanumeric() => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_ascii() && !c.is_ascii_control() && c != ' ' => {
                    out.push('\\');
                    out.push(c);
                }
                c => push_literal(&mut out, c),
            }
            continue;
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '[' => out.push_str(r"\["),
                '&' | '-' | '~' if chars.get(i + 1) == Some(&c) => {
                    out.push(c);
                    out.push('\\');
                    out.push(c);
                    i += 1;
                }
                _ => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A `]` right after `[` or `[^` is literal.
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..chars.len().min(i + 6)].iter().collect();
                if rest.starts_with('(') {
                    return Err(Unsupported(
                        "conditional groups `(?(name)yes|no)` are not supported".to_string(),
                    ));
                }
                if rest.starts_with('#') {
                    // A comment group: drop it.
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                if rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest.starts_with("<=")
                    || rest.starts_with("<!")
                    || rest.starts_with("P=")
                {
                    fancy = true;
                }
                if rest.starts_with("P=") {
                    // `(?P=name)` -> `\k<name>`
                    let name_end = chars[i..].iter().position(|c| *c == ')').map(|p| p + i);
                    let Some(end) = name_end else {
                        return Err(Unsupported("unclosed `(?P=`".to_string()));
                    };
                    let name: String = chars[i + 4..end].iter().collect();
                    out.push_str(&format!("\\k<{name}>"));
                    i = end + 1;
                    continue;
                }
                // Inline flags: drop Python-only ones (L, u, a).
                let flags_end = chars[i + 2..]
                    .iter()
                    .position(|c| !c.is_ascii_alphabetic())
                    .map(|p| p + i + 2);
                if let Some(fe) = flags_end {
                    if fe > i + 2 && matches!(chars.get(fe), Some(')') | Some(':')) {
                        let flags: String = chars[i + 2..fe]
                            .iter()
                            .filter(|f| !matches!(f, 'L' | 'u' | 'a'))
                            .collect();
                        if flags.is_empty() && chars[fe] == ')' {
                            i = fe + 1;
                            continue;
                        }
                        out.push_str("(?");
                        out.push_str(&flags);
                        i = fe;
                        continue;
                    }
                }
                out.push_str("(?");
                i += 2;
                continue;
            }
            '{' => {
                let rest: String = chars[i..chars.len().min(i + 24)].iter().collect();
                match quantifier(&rest) {
                    Some((q, len)) => {
                        out.push_str(&q);
                        i += len;
                        if matches!(chars.get(i), Some('+')) {
                            return Err(Unsupported(
                                "possessive quantifiers are not supported".to_string(),
                            ));
                        }
                    }
                    None => {
                        out.push_str(r"\{");
                        i += 1;
                    }
                }
                continue;
            }
            '}' => out.push_str(r"\}"),
            '*' | '+' | '?' if matches!(chars.get(i + 1), Some('+')) => {
                return Err(Unsupported(
                    "possessive quantifiers are not supported".to_string(),
                ));
            }
            c => out.push(c),
        }
        i += 1;
    }
    if in_class {
        return Err(Unsupported(
            "a `[` character class is not closed".to_string(),
        ));
    }
    Ok(Translated {
        pattern: out,
        fancy,
    })
}

fn push_literal(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// A Python quantifier `{n}`, `{n,}`, `{,m}`, `{n,m}` at the start of `s`: its Rust form and
/// length.
fn quantifier(s: &str) -> Option<(String, usize)> {
    let close = s.find('}')?;
    let inner = &s[1..close];
    let ok = |p: &str| p.is_empty() || p.bytes().all(|c| c.is_ascii_digit());
    let q = match inner.split_once(',') {
        Some((a, b)) if ok(a) && ok(b) && !(a.is_empty() && b.is_empty()) => {
            format!("{{{},{}}}", if a.is_empty() { "0" } else { a }, b)
        }
        None if !inner.is_empty() && ok(inner) => format!("{{{inner}}}"),
        _ => return None,
    };
    Some((q, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn no_vars(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn tags_expand() {
        let s = expand_tags("^<F-USER>\\S+</F-USER> from <HOST> x <keep>", &no_vars).unwrap();
        assert!(s.starts_with("^(?P<user>\\S+) from (?:::f{4,6}:)?(?P<host>"));
        assert!(s.ends_with(" x <keep>"));
        let vars = |n: &str| match n {
            "mode" => Some("ddos".to_string()),
            "mdre-ddos" => Some("DD".to_string()),
            _ => None,
        };
        assert_eq!(expand_tags("a <mdre-<mode>> b", &vars).unwrap(), "a DD b");
        assert!(expand_tags("<SKIPLINES>", &no_vars).is_err());
        assert_eq!(expand_tags("(?P<x>a)", &no_vars).unwrap(), "(?P<x>a)");
    }

    #[test]
    fn python_syntax_becomes_rust() {
        let t = translate(r"^\<a\> [^]x[] {json} a{,3} \Z").unwrap();
        assert_eq!(t.pattern, r"^<a> [^\]x\[] \{json\} a{0,3} \z");
        assert!(!t.fancy);
        assert!(translate(r"(?!x)y").unwrap().fancy);
        assert!(translate(r"(a)\1").unwrap().fancy);
        assert_eq!(
            translate(r"(?P<u>a)(?P=u)").unwrap().pattern,
            r"(?P<u>a)\k<u>"
        );
        assert!(translate(r"(?(u)a|b)").is_err());
        assert!(translate(r"[abc").is_err());
        assert_eq!(translate(r"(?#comment)a").unwrap().pattern, "a");
        assert_eq!(translate(r"(?u)a").unwrap().pattern, "a");
        assert_eq!(translate(r"(?i)a").unwrap().pattern, "(?i)a");
        for p in [r"^\<a\> [^]x[] {json} a{,3} \Z", r"\s+\S*\d\w", r"a|b(?:c)"] {
            regex::Regex::new(&translate(p).unwrap().pattern).unwrap();
        }
    }

    proptest! {
        #[test]
        fn translate_never_panics(s in "\\PC{0,60}") {
            if let Ok(t) = translate(&s) {
                let _ = regex::Regex::new(&t.pattern);
            }
            let _ = expand_tags(&s, &no_vars);
        }
    }
}
