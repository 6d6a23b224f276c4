//! Edits of one line that keep the rest of it byte for byte: the value of a `key = value` line
//! (sysctl.d, postgresql.conf, MariaDB option files), one blank-separated field (pg_hba.conf), one
//! `:`-separated field (/etc/passwd, /etc/shadow), the value of a compose `environment` entry.
//! Each returns `None` when the line does not
//! have the expected shape, so the fix can decline instead of guessing.
//!
//! Which line to edit is the audit's business (its parsers give the file and line); this module
//! only rewrites the text of that line.

pub use crate::change::FieldSep;

/// How the value of a `key = value` line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueStyle {
    /// sysctl.d: the value is the rest of the line.
    RestOfLine,
    /// postgresql.conf: `name [=] value`, the value a single-quoted string or one word, a `#`
    /// comment may follow.
    Postgres,
    /// MariaDB option files: `name = value`, a `#` comment outside quotes may follow.
    Option,
}

/// The byte range of the value in a `key = value` line.
fn value_span(line: &str, style: ValueStyle) -> Option<(usize, usize)> {
    let start = match style {
        ValueStyle::RestOfLine | ValueStyle::Option => {
            let eq = line.find('=')?;
            eq + 1 + blank_len(&line[eq + 1..])
        }
        ValueStyle::Postgres => {
            let lead = blank_len(line);
            let name_len = line[lead..]
                .find(|c: char| c.is_whitespace() || c == '=')
                .unwrap_or(line.len() - lead);
            let mut at = lead + name_len;
            at += blank_len(&line[at..]);
            if line[at..].starts_with('=') {
                at += 1;
                at += blank_len(&line[at..]);
            }
            at
        }
    };
    let rest = &line[start..];
    let len = match style {
        ValueStyle::RestOfLine => rest.trim_end().len(),
        ValueStyle::Postgres => {
            if let Some(body) = rest.strip_prefix('\'') {
                1 + quoted_len(body)?
            } else {
                rest.find(|c: char| c.is_whitespace() || c == '#')
                    .unwrap_or(rest.len())
            }
        }
        ValueStyle::Option => {
            let mut quote: Option<char> = None;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match (quote, c) {
                    (None, '\'' | '"') => quote = Some(c),
                    (Some(q), c) if c == q => quote = None,
                    (None, '#') => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            rest[..end].trim_end().len()
        }
    };
    (len > 0).then_some((start, start + len))
}

fn blank_len(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t']).len()
}

/// Length of a PostgreSQL quoted string body up to and including its closing quote.
fn quoted_len(body: &str) -> Option<usize> {
    let mut it = body.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\'' if it.peek().is_some_and(|(_, n)| *n == '\'') => {
                it.next();
            }
            '\'' => return Some(i + 1),
            '\\' => {
                it.next();
            }
            _ => {}
        }
    }
    None
}

/// The line with its value replaced by `value`; comments and spacing kept.
pub fn set_value(line: &str, style: ValueStyle, value: &str) -> Option<String> {
    let (a, b) = value_span(line, style)?;
    Some(format!("{}{value}{}", &line[..a], &line[b..]))
}

/// A PostgreSQL string literal.
pub fn pg_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// The byte range of field number `index` (0-based) of a line.
fn field_span(line: &str, sep: FieldSep, index: usize) -> Option<(usize, usize)> {
    match sep {
        FieldSep::Colon => {
            let mut start = 0;
            for (n, part) in line.split(':').enumerate() {
                if n == index {
                    return Some((start, start + part.len()));
                }
                start += part.len() + 1;
            }
            None
        }
        FieldSep::Blank => {
            let body = &line[..line.find('#').unwrap_or(line.len())];
            let mut at = 0;
            let mut n = 0;
            loop {
                at += body[at..].len() - body[at..].trim_start().len();
                if at >= body.len() {
                    return None;
                }
                let len = body[at..]
                    .find(char::is_whitespace)
                    .unwrap_or(body.len() - at);
                if n == index {
                    return Some((at, at + len));
                }
                n += 1;
                at += len;
            }
        }
    }
}

/// Field number `index` (0-based) of a line.
pub fn field(line: &str, sep: FieldSep, index: usize) -> Option<&str> {
    field_span(line, sep, index).map(|(a, b)| &line[a..b])
}

/// The line with field number `index` replaced by `new`, provided it currently reads
/// `expected`; the rest of the line keeps its bytes.
pub fn set_field(
    line: &str,
    sep: FieldSep,
    index: usize,
    expected: &str,
    new: &str,
) -> Option<String> {
    let (a, b) = field_span(line, sep, index)?;
    if &line[a..b] != expected {
        return None;
    }
    let mut rest = &line[b..];
    let mut pad = String::new();
    // Columns aligned with spaces stay aligned: the blanks after the field absorb the change
    // of length (at least one is kept).
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    if sep == FieldSep::Blank && spaces > 1 && !rest[spaces..].is_empty() {
        let want = (spaces + expected.len()).saturating_sub(new.len()).max(1);
        pad = " ".repeat(want);
        rest = &rest[spaces..];
    }
    Some(format!("{}{new}{pad}{rest}", &line[..a]))
}

/// The byte range of the value of `key` on a compose `environment` line: `KEY: value` (map,
/// the key or the value may be quoted, a comment may follow) or `- KEY=value` / `- "KEY=value"`
/// (list). Inside quotes when quoted. `None` for any other shape.
pub fn compose_value_span(line: &str, key: &str) -> Option<(usize, usize)> {
    let lead = line.len() - line.trim_start_matches([' ', '\t']).len();
    let mut at = lead;
    let list = match line[at..].strip_prefix('-') {
        Some(r) if r.starts_with([' ', '\t']) => {
            at += 1 + (r.len() - r.trim_start_matches([' ', '\t']).len());
            true
        }
        Some(_) => return None,
        None => false,
    };
    let quote = match line[at..].chars().next() {
        Some(c @ ('"' | '\'')) => {
            at += 1;
            Some(c)
        }
        _ => None,
    };
    let rest = line[at..].strip_prefix(key)?;
    at += key.len();
    if list {
        rest.strip_prefix('=')?;
        at += 1;
        let body = &line[at..];
        let end = match quote {
            Some(q) => {
                let i = body.find(q)?;
                let tail = body[i + 1..].trim_start_matches([' ', '\t']);
                if !(tail.is_empty() || tail.starts_with('#')) {
                    return None;
                }
                i
            }
            None => body.find(" #").unwrap_or(body.len()),
        };
        let value = body[..end].trim_end_matches([' ', '\t']);
        return Some((at, at + value.len()));
    }
    let mut rest = rest;
    if let Some(q) = quote {
        rest = rest.strip_prefix(q)?;
        at += 1;
    }
    let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    rest = rest[blanks..].strip_prefix(':')?;
    at += blanks + 1;
    let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if blanks == 0 && !rest.is_empty() {
        return None;
    }
    at += blanks;
    let body = &line[at..];
    match body.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let inner = &body[1..];
            let i = inner.find(q)?;
            let tail = inner[i + 1..].trim_start_matches([' ', '\t']);
            if !(tail.is_empty() || tail.starts_with('#')) || inner[..i].contains('\\') {
                return None;
            }
            Some((at + 1, at + 1 + i))
        }
        Some(c) if !matches!(c, '#' | '|' | '>' | '&' | '*' | '!' | '[' | '{') => {
            let end = body.find(" #").unwrap_or(body.len());
            let value = body[..end].trim_end_matches([' ', '\t']);
            Some((at, at + value.len()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_are_replaced_in_place() {
        assert_eq!(
            set_value("net.ipv4.ip_forward=1", ValueStyle::RestOfLine, "0").unwrap(),
            "net.ipv4.ip_forward=0"
        );
        assert_eq!(
            set_value(
                "  net.ipv4.conf.all.rp_filter = 0  ",
                ValueStyle::RestOfLine,
                "2"
            )
            .unwrap(),
            "  net.ipv4.conf.all.rp_filter = 2  "
        );
        assert_eq!(
            set_value(
                "listen_addresses = '*'\t\t# what IP address(es) to listen on;",
                ValueStyle::Postgres,
                "'localhost'"
            )
            .unwrap(),
            "listen_addresses = 'localhost'\t\t# what IP address(es) to listen on;"
        );
        assert_eq!(
            set_value(
                "listen_addresses '*, ::'",
                ValueStyle::Postgres,
                "'localhost'"
            )
            .unwrap(),
            "listen_addresses 'localhost'"
        );
        assert_eq!(
            set_value(
                "password_encryption=md5 # old",
                ValueStyle::Postgres,
                "'scram-sha-256'"
            )
            .unwrap(),
            "password_encryption='scram-sha-256' # old"
        );
        assert_eq!(
            set_value("x = 'it''s' # c", ValueStyle::Postgres, "'y'").unwrap(),
            "x = 'y' # c"
        );
        assert_eq!(
            set_value(
                "bind-address            = 0.0.0.0 # all",
                ValueStyle::Option,
                "127.0.0.1"
            )
            .unwrap(),
            "bind-address            = 127.0.0.1 # all"
        );
        assert_eq!(
            set_value("local-infile", ValueStyle::Option, "0"),
            None,
            "a flag without a value has nothing to replace"
        );
        assert_eq!(set_value("x = 'open", ValueStyle::Postgres, "'y'"), None);
    }

    #[test]
    fn fields_are_replaced_only_where_expected() {
        let b = FieldSep::Blank;
        let l = "host    all             all             0.0.0.0/0               md5";
        assert_eq!(
            set_field(l, b, 4, "md5", "scram-sha-256").unwrap(),
            "host    all             all             0.0.0.0/0               scram-sha-256"
        );
        assert_eq!(
            set_field(l, b, 3, "0.0.0.0/0", "127.0.0.1/32").unwrap(),
            "host    all             all             127.0.0.1/32            md5",
            "the next column stays where it was"
        );
        assert_eq!(
            set_field("a bb  c", b, 1, "bb", "bbbbbb").unwrap(),
            "a bbbbbb c"
        );
        assert_eq!(set_field(l, b, 4, "trust", "peer"), None);
        assert_eq!(field(l, b, 3), Some("0.0.0.0/0"));
        assert_eq!(
            set_field("local all postgres trust # admin", b, 3, "trust", "peer").unwrap(),
            "local all postgres peer # admin"
        );
        assert_eq!(set_field("local all", b, 3, "trust", "peer"), None);
        assert_eq!(field("  a b # c d", b, 2), None);
        let c = FieldSep::Colon;
        let p = "avmvp:x:996:996:AV:/opt/av:/bin/bash";
        assert_eq!(
            set_field(p, c, 6, "/bin/bash", "/usr/sbin/nologin").unwrap(),
            "avmvp:x:996:996:AV:/opt/av:/usr/sbin/nologin"
        );
        assert_eq!(
            set_field("kiosk::1001:1001::/home/kiosk:/bin/bash", c, 1, "", "!").unwrap(),
            "kiosk:!:1001:1001::/home/kiosk:/bin/bash"
        );
        assert_eq!(set_field("short:x", c, 6, "", "/bin/false"), None);
    }

    #[test]
    fn compose_values_are_found_in_maps_and_lists() {
        let span = |l: &str, k: &str| compose_value_span(l, k).map(|(a, b)| l[a..b].to_string());
        assert_eq!(
            span("      POSTGRES_PASSWORD: koprogo", "POSTGRES_PASSWORD").as_deref(),
            Some("koprogo")
        );
        assert_eq!(
            span("  POSTGRES_PASSWORD: \"ko #x\"  # c", "POSTGRES_PASSWORD").as_deref(),
            Some("ko #x")
        );
        assert_eq!(span("  'K': v # c", "K").as_deref(), Some("v"));
        assert_eq!(
            span(
                "      - GF_SECURITY_ADMIN_PASSWORD=admin",
                "GF_SECURITY_ADMIN_PASSWORD"
            )
            .as_deref(),
            Some("admin")
        );
        assert_eq!(span("  - \"K=a b\" # c", "K").as_deref(), Some("a b"));
        assert_eq!(span("  - K=", "K").as_deref(), Some(""));
        assert_eq!(span("  KEY: v", "K"), None);
        assert_eq!(span("  K:v", "K"), None);
        assert_eq!(span("  K: |", "K"), None);
        assert_eq!(span("  K: \"a\\\"b\"", "K"), None);
        assert_eq!(span("  -K=v", "K"), None);
        assert_eq!(span("  - \"K=v\" x", "K"), None);
    }

    proptest! {
        /// Any line: no panic, and a span found is inside the line on character boundaries;
        /// a map or list line written with a plain value gives exactly that value back.
        #[test]
        fn spans_are_the_values_written(junk in "\\PC{0,60}", key in "[A-Z_]{1,12}", value in "[A-Za-z0-9_.:/@-]{1,20}", indent in "[ ]{0,8}", comment in "( #[a-z ]{0,8})?") {
            if let Some((a, b)) = compose_value_span(&junk, &key) {
                prop_assert!(a <= b && b <= junk.len());
                prop_assert!(junk.is_char_boundary(a) && junk.is_char_boundary(b));
            }
            for line in [
                format!("{indent}{key}: {value}{comment}"),
                format!("{indent}- {key}={value}{comment}"),
                format!("{indent}{key}: \"{value}\"{comment}"),
                format!("{indent}- '{key}={value}'{comment}"),
            ] {
                let (a, b) = compose_value_span(&line, &key).expect("a plain line");
                prop_assert_eq!(&line[a..b], value.as_str());
            }
        }
    }

    proptest! {
        #[test]
        fn edits_never_panic_and_touch_only_the_value(
            line in "\\PC{0,80}",
            v in "[a-z0-9]{1,6}",
        ) {
            for style in [ValueStyle::RestOfLine, ValueStyle::Postgres, ValueStyle::Option] {
                if let Some(out) = set_value(&line, style, &v) {
                    let (a, b) = value_span(&line, style).unwrap();
                    prop_assert_eq!(&out[..a], &line[..a]);
                    prop_assert_eq!(&out[a + v.len()..], &line[b..]);
                    // Setting it again is a no-op (when the value was followed by a blank, a
                    // comment or nothing, as valid files have it).
                    let after = &line[b..];
                    if after.is_empty() || after.starts_with([' ', '\t', '#']) {
                        prop_assert_eq!(set_value(&out, style, &v), Some(out.clone()));
                    }
                }
            }
            for sep in [FieldSep::Blank, FieldSep::Colon] {
                if let Some(f) = field(&line, sep, 2).map(String::from) {
                    let out = set_field(&line, sep, 2, &f, &v).unwrap();
                    // The other fields are untouched.
                    for i in [0, 1, 3] {
                        prop_assert_eq!(field(&out, sep, i), field(&line, sep, i));
                    }
                    prop_assert_eq!(field(&out, sep, 2), Some(v.as_str()));
                }
            }
        }
    }
}
