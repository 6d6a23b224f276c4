//! One tree for every shape Traefik configuration takes: YAML and TOML files, command-line
//! flags (`--api.insecure=true`) and Docker labels (`traefik.http.routers.x.rule=...`). Keys are
//! lowercased (Traefik matches them case-insensitively); every node keeps the line it was
//! written on, for evidence. Parsing errors are values, never panics.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Nesting deeper than this is refused (Traefik's own schema is a few levels deep).
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Val {
    #[default]
    Null,
    Scalar(String),
    Seq(Vec<Node>),
    /// Entries in document order; keys lowercased.
    Map(Vec<(String, Node)>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    pub val: Val,
    /// 1-based line, 0 when unknown.
    pub line: u32,
}

impl Node {
    pub fn map(line: u32) -> Node {
        Node {
            val: Val::Map(Vec::new()),
            line,
        }
    }

    pub fn scalar(s: impl Into<String>, line: u32) -> Node {
        Node {
            val: Val::Scalar(s.into()),
            line,
        }
    }

    /// The child of a map under `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.val {
            Val::Map(m) => m
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A dotted path (`api.insecure`).
    pub fn path(&self, dotted: &str) -> Option<&Node> {
        dotted.split('.').try_fold(self, |n, k| n.get(k))
    }

    /// Map entries (empty for anything else).
    pub fn entries(&self) -> &[(String, Node)] {
        match &self.val {
            Val::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.val {
            Val::Seq(s) => s,
            _ => &[],
        }
    }

    pub fn str(&self) -> Option<&str> {
        match &self.val {
            Val::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// `true` as YAML, TOML, a flag or a label writes it; an empty map (`api: {}`) or a null
    /// (`api:`) also switches a section on.
    pub fn truthy(&self) -> bool {
        match &self.val {
            Val::Scalar(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    /// A list written as a sequence of scalars or as one comma-separated scalar (labels).
    pub fn list(&self) -> Vec<(String, u32)> {
        match &self.val {
            Val::Scalar(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_string(), self.line))
                .collect(),
            Val::Seq(items) => items
                .iter()
                .filter_map(|n| Some((n.str()?.trim().to_string(), n.line)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Set `path` (lowercased keys) to `value`, creating maps on the way. Numeric components
    /// index sequences (`servers.0.url`). A scalar in the way is replaced.
    pub fn insert(&mut self, path: &[&str], value: Node) {
        let Some((first, rest)) = path.split_first() else {
            *self = value;
            return;
        };
        if !matches!(self.val, Val::Map(_)) {
            self.val = Val::Map(Vec::new());
            if self.line == 0 {
                self.line = value.line;
            }
        }
        let line = value.line;
        let key = first.to_ascii_lowercase();
        let Val::Map(m) = &mut self.val else { return };
        let idx = match m.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                m.push((key, Node::map(line)));
                m.len() - 1
            }
        };
        m[idx].1.insert(rest, value);
    }
}

/// Build a tree from `key=value` pairs (flags without `--`, labels without the `traefik.`
/// prefix), each with its line.
pub fn from_dotted<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str, u32)>) -> Node {
    let mut root = Node::map(0);
    for (k, v, line) in pairs {
        let parts: Vec<&str> = k.split('.').filter(|p| !p.is_empty()).collect();
        if parts.is_empty() || parts.len() > MAX_DEPTH {
            continue;
        }
        root.insert(&parts, Node::scalar(v, line));
    }
    root
}

// ---- YAML ----

struct YVal(Val);
struct YKey(String);

impl<'de> Deserialize<'de> for YKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = YKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<YKey, E> {
                Ok(YKey(v.to_ascii_lowercase()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<YKey, E> {
                Ok(YKey(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<YKey, E> {
                Ok(YKey(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<YKey, E> {
                Ok(YKey(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<YKey, E> {
                Ok(YKey(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<YKey, E> {
                Ok(YKey(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for YVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = YVal;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<YVal, E> {
                Ok(YVal(Val::Scalar(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<YVal, E> {
                Ok(YVal(Val::Scalar(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<YVal, E> {
                Ok(YVal(Val::Scalar(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<YVal, E> {
                Ok(YVal(Val::Scalar(v.to_string())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<YVal, E> {
                Ok(YVal(Val::Scalar(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<YVal, E> {
                Ok(YVal(Val::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<YVal, E> {
                Ok(YVal(Val::Null))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<YVal, D2::Error> {
                YVal::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YVal, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<serde_saphyr::Spanned<YVal>>()? {
                    out.push(Node {
                        val: x.value.0,
                        line: line_u32(x.referenced.line()),
                    });
                }
                Ok(YVal(Val::Seq(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YVal, A::Error> {
                let mut out = Vec::new();
                // An entry's line is its key's: a nested map or list starts below it.
                while let Some(k) = map.next_key::<serde_saphyr::Spanned<YKey>>()? {
                    let v = map.next_value::<serde_saphyr::Spanned<YVal>>()?;
                    let key_line = line_u32(k.referenced.line());
                    let line = if key_line > 0 {
                        key_line
                    } else {
                        line_u32(v.referenced.line())
                    };
                    out.push((
                        k.value.0,
                        Node {
                            val: v.value.0,
                            line,
                        },
                    ));
                }
                Ok(YVal(Val::Map(out)))
            }
        }
        d.deserialize_any(V)
    }
}

fn line_u32(l: u64) -> u32 {
    u32::try_from(l).unwrap_or(u32::MAX)
}

/// A parse error with its line when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeError {
    pub line: Option<u32>,
    pub message: String,
}

/// Parse a YAML document. An empty document is an empty map.
pub fn from_yaml(text: &str) -> Result<Node, TreeError> {
    if text.trim().is_empty() {
        return Ok(Node::map(0));
    }
    match serde_saphyr::from_str::<serde_saphyr::Spanned<YVal>>(text) {
        Ok(s) => Ok(Node {
            val: s.value.0,
            line: line_u32(s.referenced.line()),
        }),
        Err(e) => Err(TreeError {
            line: e.location().map(|l| line_u32(l.line())).filter(|&l| l > 0),
            message: first_line(&e.to_string()),
        }),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

// ---- TOML ----

/// Parse a TOML document.
pub fn from_toml(text: &str) -> Result<Node, TreeError> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |off: usize| -> u32 {
        let i = match starts.binary_search(&off) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        u32::try_from(i + 1).unwrap_or(u32::MAX)
    };
    let table = toml::de::DeTable::parse(text).map_err(|e| TreeError {
        line: e.span().map(|s| line_of(s.start)),
        message: first_line(e.message()),
    })?;
    let line = line_of(table.span().start);
    let mut root = Node::map(line);
    toml_table(table.get_ref(), &line_of, 0, &mut root)?;
    Ok(root)
}

fn too_deep() -> TreeError {
    TreeError {
        line: None,
        message: format!("nested more than {MAX_DEPTH} levels deep"),
    }
}

fn toml_table(
    t: &toml::de::DeTable<'_>,
    line_of: &dyn Fn(usize) -> u32,
    depth: usize,
    out: &mut Node,
) -> Result<(), TreeError> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let mut entries = Vec::with_capacity(t.len());
    for (k, v) in t.iter() {
        let node = toml_value(v.get_ref(), line_of(k.span().start), line_of, depth + 1)?;
        entries.push((k.get_ref().to_ascii_lowercase(), node));
    }
    out.val = Val::Map(entries);
    Ok(())
}

fn toml_value(
    v: &toml::de::DeValue<'_>,
    line: u32,
    line_of: &dyn Fn(usize) -> u32,
    depth: usize,
) -> Result<Node, TreeError> {
    use toml::de::DeValue;
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let val = match v {
        DeValue::String(s) => Val::Scalar(s.to_string()),
        DeValue::Integer(i) => Val::Scalar(i.to_string()),
        DeValue::Float(f) => Val::Scalar(f.to_string()),
        DeValue::Boolean(b) => Val::Scalar(b.to_string()),
        DeValue::Datetime(d) => Val::Scalar(d.to_string()),
        DeValue::Array(a) => {
            let mut items = Vec::new();
            for item in a.iter() {
                let l = line_of(item.span().start);
                items.push(toml_value(item.get_ref(), l, line_of, depth + 1)?);
            }
            Val::Seq(items)
        }
        DeValue::Table(t) => {
            let mut n = Node::map(line);
            toml_table(t, line_of, depth + 1, &mut n)?;
            n.val
        }
    };
    Ok(Node { val, line })
}

/// Parse by file name: `.toml` as TOML, anything else as YAML.
pub fn parse_file(path: &str, text: &str) -> Result<Node, TreeError> {
    if path.ends_with(".toml") {
        from_toml(text)
    } else {
        from_yaml(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yaml_keeps_lines_and_lowercases_keys() {
        let n = from_yaml("api:\n  insecure: true\nentryPoints:\n  web:\n    address: \":80\"\n")
            .unwrap();
        let ins = n.path("api.insecure").unwrap();
        assert!(ins.truthy());
        assert_eq!(ins.line, 2);
        assert_eq!(
            n.path("entrypoints.web.address").unwrap().str(),
            Some(":80")
        );
        assert_eq!(n.path("entrypoints.web.address").unwrap().line, 5);
    }

    #[test]
    fn toml_keeps_lines() {
        let n = from_toml("[api]\ninsecure = true\n\n[entryPoints.web]\naddress = \":80\"\n[[tls.certificates]]\ncertFile = \"/c.pem\"\n").unwrap();
        assert_eq!(n.path("api.insecure").unwrap().line, 2);
        assert_eq!(n.path("entrypoints.web.address").unwrap().line, 5);
        let certs = n.path("tls.certificates").unwrap().items();
        assert_eq!(certs[0].get("certfile").unwrap().str(), Some("/c.pem"));
        assert_eq!(certs[0].get("certfile").unwrap().line, 7);
    }

    #[test]
    fn dotted_pairs_and_lists() {
        let n = from_dotted([
            ("http.routers.dash.service", "api@internal", 3),
            ("http.routers.dash.middlewares", "auth, secure", 4),
            (
                "http.services.s.loadbalancer.servers.0.url",
                "http://127.0.0.1:8000",
                5,
            ),
        ]);
        let mws = n.path("http.routers.dash.middlewares").unwrap().list();
        assert_eq!(mws, [("auth".to_string(), 4), ("secure".to_string(), 4)]);
        assert!(n
            .path("http.services.s.loadbalancer.servers.0.url")
            .is_some());
    }

    #[test]
    fn errors_carry_lines_and_bombs_are_refused() {
        let e = from_yaml("a: [1, 2\nb: c\n").unwrap_err();
        assert!(!e.message.is_empty());
        assert!(from_toml("a = \n").unwrap_err().line.is_some());
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(from_yaml(&deep).is_err());
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
        let _ = from_yaml(bomb);
    }

    proptest! {
        #[test]
        fn yaml_never_panics(s in "\\PC{0,300}") {
            let _ = from_yaml(&s);
        }

        #[test]
        fn toml_never_panics(s in "\\PC{0,300}") {
            let _ = from_toml(&s);
        }

        #[test]
        fn dotted_paths_round_trip(keys in proptest::collection::vec("[a-z]{1,6}(\\.[a-z]{1,6}){0,4}", 1..10)) {
            let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
            let n = from_dotted(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str(), 1)));
            // The last pair written always reads back (earlier ones may be shadowed by a
            // longer path through them).
            let (k, v) = pairs.last().unwrap();
            prop_assert_eq!(n.path(k).and_then(Node::str), Some(v.as_str()));
        }
    }
}
