//! YAML documents as a tree of nodes that remember their line, read with serde-saphyr (YAML 1.2
//! core schema, anchors, aliases and `<<` merge keys expanded, duplicate keys refused as compose
//! itself refuses them). serde-saphyr's budget bounds depth, node count and alias expansion, so a
//! hostile document (an alias bomb, deep nesting) is an error, not a hang.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A value and the line (1-based) it is written on. Values brought in by an alias or a merge
/// key carry the line of the alias or merge key.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub value: Yaml,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<Yaml>::deserialize(d)?;
        Ok(Node {
            line: u32::try_from(s.referenced.line()).unwrap_or(u32::MAX),
            value: s.value,
        })
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Yaml, E> {
        Ok(i64::try_from(v).map_or_else(|_| Yaml::Str(v.to_string()), Yaml::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Yaml, E> {
        Ok(Yaml::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Yaml, A::Error> {
        let mut v = Vec::new();
        while let Some(n) = a.next_element::<Node>()? {
            v.push(n);
        }
        Ok(Yaml::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Yaml, A::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = a.next_entry::<Node, Node>()? {
            v.push((k, x));
        }
        Ok(Yaml::Map(v))
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
}

/// Parse one YAML document. The error is one line: where and why.
pub fn parse(text: &str) -> Result<Node, String> {
    let mut opts = serde_saphyr::Options::default();
    // `yes`/`no`/`on`/`off` stay strings, as in compose (YAML 1.2).
    opts.strict_booleans = true;
    serde_saphyr::from_str_with_options::<Node>(text, opts).map_err(|e| {
        e.to_string()
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .trim_start_matches("error: ")
            .to_string()
    })
}

impl Node {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Yaml::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.scalar().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A scalar as text (`true`, `8080`, `1.5`); `None` for null and collections.
    pub fn scalar(&self) -> Option<String> {
        match &self.value {
            Yaml::Str(s) => Some(s.clone()),
            Yaml::Bool(b) => Some(b.to_string()),
            Yaml::Int(n) => Some(n.to_string()),
            Yaml::Float(f) => Some(f.to_string()),
            Yaml::Null | Yaml::Seq(_) | Yaml::Map(_) => None,
        }
    }

    pub fn seq(&self) -> &[Node] {
        match &self.value {
            Yaml::Seq(v) => v,
            _ => &[],
        }
    }

    pub fn map(&self) -> &[(Node, Node)] {
        match &self.value {
            Yaml::Map(v) => v,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_anchors_and_merges() {
        let n = parse(
            "x-common: &common\n  restart: unless-stopped\nservices:\n  grafana:\n    <<: *common\n    image: grafana/grafana:11.2.0\n    ports:\n      - \"3001:3000\"\n      - 9100\n    environment:\n      ENABLED: yes\n",
        )
        .unwrap();
        let g = n.get("services").unwrap().get("grafana").unwrap();
        assert_eq!(g.get("image").unwrap().line, 6);
        assert_eq!(
            g.get("restart").unwrap().scalar().as_deref(),
            Some("unless-stopped")
        );
        assert_eq!(g.get("restart").unwrap().line, 5);
        let ports = g.get("ports").unwrap().seq();
        assert_eq!(ports[0].scalar().as_deref(), Some("3001:3000"));
        assert_eq!(ports[1].value, Yaml::Int(9100));
        assert_eq!(ports[1].line, 9);
        let env = g.get("environment").unwrap();
        assert_eq!(env.get("ENABLED").unwrap().scalar().as_deref(), Some("yes"));
    }

    #[test]
    fn hostile_documents_are_errors() {
        assert!(parse("a: [").is_err());
        assert!(parse("a: 1\na: 2\n").is_err());
        assert!(parse("a: *missing\n").is_err());
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&deep).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(parse(&bomb).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s);
        }
    }
}
