//! Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
//! `${VAR-default}` (unset), `${VAR:?message}` / `${VAR?message}` (required), `${VAR:+alt}` /
//! `${VAR+alt}`, and `$$` for a literal dollar. Defaults may themselves hold variables. Each
//! substitution records the variable, where it was set, and whether a default was used.

use crate::rules::app::env::EnvEntry;

/// One variable substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarUse {
    pub name: String,
    /// Where it was set (the unit's environment or the project's `.env`); `None` when unset.
    pub hit: Option<EnvEntry>,
    /// The default written in the file was used.
    pub defaulted: bool,
}

/// Nested defaults deeper than this are left as written.
const MAX_DEPTH: u32 = 8;

/// Substitute variables in `s` using `lookup`.
pub fn interpolate(s: &str, lookup: &dyn Fn(&str) -> Option<EnvEntry>) -> (String, Vec<VarUse>) {
    let mut uses = Vec::new();
    let out = expand(s, lookup, &mut uses, 0);
    (out, uses)
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn expand(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<EnvEntry>,
    uses: &mut Vec<VarUse>,
    depth: u32,
) -> String {
    if depth > MAX_DEPTH || !s.contains('$') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = matching_brace(inner) else {
                // Unterminated: compose refuses the file; keep the text.
                out.push('$');
                rest = after;
                continue;
            };
            let body = &inner[..end];
            rest = &inner[end + 1..];
            out.push_str(&braced(body, lookup, uses, depth));
            continue;
        }
        let len = after.find(|c: char| !is_name(c)).unwrap_or(after.len());
        if len == 0 {
            out.push('$');
            rest = after;
            continue;
        }
        let name = &after[..len];
        rest = &after[len..];
        let hit = lookup(name);
        out.push_str(hit.as_ref().map_or("", |h| h.value.as_str()));
        uses.push(VarUse {
            name: name.to_string(),
            hit,
            defaulted: false,
        });
    }
    out.push_str(rest);
    out
}

/// The index of the `}` closing a `${`, counting nested `${...}`.
fn matching_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0u32;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn braced(
    body: &str,
    lookup: &dyn Fn(&str) -> Option<EnvEntry>,
    uses: &mut Vec<VarUse>,
    depth: u32,
) -> String {
    let len = body.find(|c: char| !is_name(c)).unwrap_or(body.len());
    let name = &body[..len];
    let op_rest = &body[len..];
    let hit = lookup(name);
    let set = hit.is_some();
    let non_empty = hit.as_ref().is_some_and(|h| !h.value.is_empty());
    let value = hit.as_ref().map(|h| h.value.clone()).unwrap_or_default();
    let (op, arg) = ["-", ":-", "?", ":?", "+", ":+"]
        .iter()
        .rev()
        .find(|op| op_rest.starts_with(**op))
        .map_or(("", ""), |op| (*op, &op_rest[op.len()..]));
    let record = |defaulted: bool, uses: &mut Vec<VarUse>| {
        uses.push(VarUse {
            name: name.to_string(),
            hit: hit.clone(),
            defaulted,
        });
    };
    match op {
        ":-" if !non_empty => {
            record(true, uses);
            expand(arg, lookup, uses, depth + 1)
        }
        "-" if !set => {
            record(true, uses);
            expand(arg, lookup, uses, depth + 1)
        }
        ":+" => {
            record(false, uses);
            if non_empty {
                expand(arg, lookup, uses, depth + 1)
            } else {
                String::new()
            }
        }
        "+" => {
            record(false, uses);
            if set {
                expand(arg, lookup, uses, depth + 1)
            } else {
                String::new()
            }
        }
        _ => {
            record(false, uses);
            value
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<EnvEntry> + 'a {
        move |k| {
            vars.iter().find(|(n, _)| *n == k).map(|(n, v)| EnvEntry {
                key: n.to_string(),
                value: v.to_string(),
                path: "/srv/monitoring/.env".into(),
                line: 1,
                text: format!("{n}={v}"),
            })
        }
    }

    #[test]
    fn compose_forms() {
        let e = env(&[("PW", "s3cret"), ("EMPTY", ""), ("PORT", "3001")]);
        assert_eq!(interpolate("${PW}", &e).0, "s3cret");
        assert_eq!(interpolate("$PW-x", &e).0, "s3cret-x");
        assert_eq!(interpolate("${MISSING:-admin}", &e).0, "admin");
        assert_eq!(interpolate("${EMPTY:-admin}", &e).0, "admin");
        assert_eq!(interpolate("${EMPTY-admin}", &e).0, "");
        assert_eq!(interpolate("${MISSING:?set it}", &e).0, "");
        assert_eq!(interpolate("${PW:+yes}", &e).0, "yes");
        assert_eq!(interpolate("$$PW", &e).0, "$PW");
        assert_eq!(
            interpolate("${BIND:-127.0.0.1}:${PORT}:3000", &e).0,
            "127.0.0.1:3001:3000"
        );
        assert_eq!(interpolate("${A:-${PORT:-1}}", &e).0, "3001");
        let (v, uses) = interpolate("${GRAFANA_ADMIN_PASSWORD:-admin}", &e);
        assert_eq!(v, "admin");
        assert!(uses[0].defaulted && uses[0].hit.is_none());
        assert_eq!(interpolate("${unterminated", &e).0, "${unterminated");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let e = env(&[("A", "1")]);
            let _ = interpolate(&s, &e);
        }

        /// Text without `$` is left as it is.
        #[test]
        fn plain_text_unchanged(s in "[^$]{0,100}") {
            let e = env(&[]);
            let (out, uses) = interpolate(&s, &e);
            prop_assert_eq!(out, s);
            prop_assert!(uses.is_empty());
        }
    }
}
