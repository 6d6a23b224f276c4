//! One nft rule's tokens translated into [conditions](Cond) and a [verdict](Verdict): the
//! selectors that decide who reaches a port (`tcp dport`, `th dport`, `meta l4proto`,
//! `ip saddr`, `iifname`, `ct state`, `fib daddr type`, `icmp type` ...), verdict maps, and the
//! statements that do not change the verdict (`counter`, `log`, `limit rate`, `comment`).
//! Anything else becomes an unknown condition. Errors are reserved for values nft itself would
//! refuse, such as an unknown service name.

use super::lexer::{Tok, Token};
use crate::rules::firewall::model::{
    Cond, Ip, Scope, TableFamily, Verdict, VmapKey, VmapMatch, L4,
};
use crate::rules::firewall::net::{dest_is_multicast, port_range, source_is_restricted, PortSet};
use std::collections::HashMap;

/// Words that start a new expression or statement: an unknown expression stops at them.
const KEYWORDS: &[&str] = &[
    "tcp",
    "udp",
    "th",
    "sctp",
    "dccp",
    "udplite",
    "iif",
    "iifname",
    "oif",
    "oifname",
    "meta",
    "ct",
    "ip",
    "ip6",
    "icmp",
    "icmpv6",
    "fib",
    "counter",
    "log",
    "limit",
    "comment",
    "quota",
    "notrack",
    "accept",
    "drop",
    "reject",
    "return",
    "continue",
    "jump",
    "goto",
    "queue",
    "add",
    "update",
    "meter",
    "dnat",
    "snat",
    "masquerade",
    "redirect",
    "tproxy",
    "dup",
    "fwd",
    "synproxy",
    "mark",
    "pkttype",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

struct R<'a> {
    toks: &'a [Token],
    pos: usize,
    family: TableFamily,
    sets: &'a HashMap<String, Vec<Token>>,
}

/// Translate a rule's tokens (variables already substituted).
pub fn translate(
    toks: &[Token],
    family: TableFamily,
    sets: &HashMap<String, Vec<Token>>,
) -> Result<(Vec<Cond>, Option<Verdict>), String> {
    let mut r = R {
        toks,
        pos: 0,
        family,
        sets,
    };
    let mut conds = Vec::new();
    let mut verdict: Option<Verdict> = None;
    while let Some(t) = r.peek() {
        let Some(w) = t.text().map(str::to_string) else {
            r.pos += 1;
            conds.push(Cond::Unknown("{ ... }".into()));
            r.skip_braces();
            continue;
        };
        r.pos += 1;
        let v = match w.as_str() {
            "tcp" | "udp" | "th" | "sctp" | "dccp" | "udplite" => r.transport(&w, &mut conds)?,
            "iif" | "iifname" => r.iif(&mut conds)?,
            "meta" => r.meta(&mut conds)?,
            "ct" => r.ct(&mut conds)?,
            "ip" | "ip6" => r.ip(&w, &mut conds)?,
            "icmp" | "icmpv6" => {
                conds.push(Cond::Proto {
                    tcp: false,
                    udp: false,
                    negated: false,
                });
                if r.peek_word() == Some("type") || r.peek_word() == Some("code") {
                    r.pos += 1;
                    r.op();
                    r.values()?;
                }
                None
            }
            "fib" => {
                // `fib daddr type local`: the packet is for this host.
                let words = r.words_until_keyword();
                if words.len() == 3 && words[0] == "daddr" && words[1] == "type" {
                    conds.push(Cond::DestLocal {
                        local: words[2] == "local",
                        negated: false,
                    });
                } else {
                    conds.push(Cond::Unknown(format!("fib {}", words.join(" "))));
                }
                None
            }
            "counter" => {
                while matches!(r.peek_word(), Some("packets" | "bytes" | "name")) {
                    r.pos += 2;
                }
                None
            }
            "log" => {
                while matches!(
                    r.peek_word(),
                    Some("prefix" | "level" | "group" | "snaplen" | "queue-threshold" | "flags")
                ) {
                    r.pos += 1;
                    r.values()?;
                }
                None
            }
            "limit" => {
                let words = r.words_until_keyword();
                if words.iter().any(|w| w == "over") {
                    conds.push(Cond::Unknown(format!("limit {}", words.join(" "))));
                }
                None
            }
            "comment" => {
                r.pos += 1;
                None
            }
            "notrack" => None,
            "accept" => Some(Verdict::Accept),
            "drop" => Some(Verdict::Drop),
            "reject" => {
                if r.peek_word() == Some("with") {
                    r.words_until_keyword();
                }
                Some(Verdict::Reject)
            }
            "return" => Some(Verdict::Return),
            "continue" => Some(Verdict::Continue),
            "jump" | "goto" => {
                let target = r
                    .next_text()
                    .ok_or_else(|| format!("`{w}` needs a chain name"))?;
                Some(if w == "jump" {
                    Verdict::Jump(target)
                } else {
                    Verdict::Goto(target)
                })
            }
            "add" | "update" | "delete" | "meter" => {
                // Dynamic sets: `add @seen { ip saddr }` records, `update @x { ip saddr limit
                // rate over 10/second }` matches only over a rate.
                let start = r.pos;
                r.words_until_keyword();
                if r.peek().is_some_and(|t| t.tok == Tok::LBrace) {
                    r.skip_braces();
                }
                let inner: Vec<&str> = r.toks[start..r.pos]
                    .iter()
                    .filter_map(Token::text)
                    .collect();
                if inner.iter().any(|w| *w == "over" || *w == "count") || w == "meter" {
                    conds.push(Cond::Unknown(format!("{w} {}", inner.join(" "))));
                }
                None
            }
            "queue" | "dnat" | "snat" | "masquerade" | "redirect" | "tproxy" | "dup" | "fwd"
            | "synproxy" => {
                r.pos = r.toks.len();
                Some(Verdict::Unknown(w))
            }
            other => {
                let mut text = other.to_string();
                for extra in r.words_until_keyword() {
                    text.push(' ');
                    text.push_str(&extra);
                }
                if r.peek().is_some_and(|t| t.tok == Tok::LBrace) {
                    r.skip_braces();
                    text.push_str(" { ... }");
                }
                conds.push(Cond::Unknown(text));
                None
            }
        };
        if verdict.is_none() {
            verdict = v;
        }
    }
    Ok((conds, verdict))
}

impl R<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_word(&self) -> Option<&str> {
        self.peek().and_then(|t| match &t.tok {
            Tok::Word(w) => Some(w.as_str()),
            _ => None,
        })
    }

    fn next_text(&mut self) -> Option<String> {
        let t = self.peek()?.text()?.to_string();
        self.pos += 1;
        Some(t)
    }

    /// Words up to the next keyword, brace or end.
    fn words_until_keyword(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(t) = self.peek() {
            match &t.tok {
                Tok::Word(w) if !KEYWORDS.contains(&w.as_str()) => out.push(w.clone()),
                Tok::Str(s) => out.push(format!("\"{s}\"")),
                Tok::Comma => out.push(",".into()),
                _ => break,
            }
            self.pos += 1;
        }
        out
    }

    fn skip_braces(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            match t.tok {
                Tok::LBrace => depth += 1,
                Tok::RBrace => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                _ if depth == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn op(&mut self) -> Op {
        let op = match self.peek_word() {
            Some("!=" | "ne") => Op::Ne,
            Some("==" | "eq") => Op::Eq,
            Some("<" | "lt") => Op::Lt,
            Some(">" | "gt") => Op::Gt,
            Some("<=" | "le") => Op::Le,
            Some(">=" | "ge") => Op::Ge,
            _ => return Op::Eq,
        };
        self.pos += 1;
        op
    }

    /// A value: a word or string, a comma list of words, `{ set }`, or `@named_set`. Returns
    /// the items, or `None` for a set whose elements are not in the configuration.
    fn values(&mut self) -> Result<Option<Vec<String>>, String> {
        let Some(t) = self.peek().cloned() else {
            return Err("expected a value at the end of the rule".into());
        };
        match &t.tok {
            Tok::LBrace => {
                let (items, _) = set_items(&self.toks[self.pos..]);
                self.skip_braces();
                Ok(Some(items))
            }
            Tok::Word(w) if w.starts_with('@') => {
                self.pos += 1;
                Ok(self.sets.get(&w[1..]).and_then(|elems| {
                    let (items, _) = set_items(elems);
                    (!items.is_empty()).then_some(items)
                }))
            }
            Tok::Word(w) | Tok::Str(w) => {
                self.pos += 1;
                let mut items = vec![w.clone()];
                // `established,related`
                while self.peek().is_some_and(|t| t.tok == Tok::Comma) {
                    self.pos += 1;
                    if let Some(next) = self.next_text() {
                        items.push(next);
                    }
                }
                Ok(Some(items))
            }
            _ => Err("expected a value".into()),
        }
    }

    /// `vmap { key : verdict, ... }` after a selector.
    fn vmap(&mut self, key: VmapKey) -> Result<Option<Verdict>, String> {
        self.pos += 1; // `vmap`
        if self.peek().is_none_or(|t| t.tok != Tok::LBrace) {
            let name = self.next_text().unwrap_or_default();
            return Ok(Some(Verdict::Unknown(format!("vmap {name}"))));
        }
        let (_, raw_items) = set_items(&self.toks[self.pos..]);
        self.skip_braces();
        let mut entries = Vec::new();
        for item in raw_items {
            let (k, v) =
                split_entry(&item).ok_or_else(|| format!("bad vmap entry `{}`", item.join(" ")))?;
            let m = match key {
                VmapKey::DPort(_) => VmapMatch::Ports(ports_of(&[k], Op::Eq)?),
                _ => VmapMatch::Word(k.trim_matches('"').to_string()),
            };
            entries.push((m, v));
        }
        Ok(Some(Verdict::Vmap { key, entries }))
    }

    fn transport(&mut self, proto: &str, conds: &mut Vec<Cond>) -> Result<Option<Verdict>, String> {
        let l4 = match proto {
            "tcp" => Some(L4::Tcp),
            "udp" => Some(L4::Udp),
            _ => None,
        };
        if matches!(proto, "sctp" | "dccp" | "udplite") {
            conds.push(Cond::Proto {
                tcp: false,
                udp: false,
                negated: false,
            });
        }
        match self.peek_word() {
            Some("dport") => {
                self.pos += 1;
                if self.peek_word() == Some("vmap") {
                    if l4.is_some() || proto == "th" {
                        return self.vmap(VmapKey::DPort(l4));
                    }
                    // sctp/dccp ports: never a TCP or UDP probe.
                    self.vmap(VmapKey::DPort(None))?;
                    return Ok(None);
                }
                let op = self.op();
                let items = self.values()?;
                if matches!(proto, "sctp" | "dccp" | "udplite") {
                    return Ok(None);
                }
                match items {
                    Some(items) => conds.push(Cond::DPort {
                        proto: l4,
                        ports: ports_of(&items, op)?,
                        negated: op == Op::Ne,
                    }),
                    None => {
                        if let Some(l) = l4 {
                            conds.push(Cond::Proto {
                                tcp: l == L4::Tcp,
                                udp: l == L4::Udp,
                                negated: false,
                            });
                        }
                        conds.push(Cond::Unknown(format!(
                            "{proto} dport (a set without elements)"
                        )));
                    }
                }
            }
            Some("sport") => {
                self.pos += 1;
                let op = self.op();
                self.values()?;
                if op != Op::Ne {
                    conds.push(Cond::SPort);
                }
            }
            _ => {
                if let Some(l) = l4 {
                    conds.push(Cond::Proto {
                        tcp: l == L4::Tcp,
                        udp: l == L4::Udp,
                        negated: false,
                    });
                }
                let words = self.words_until_keyword();
                if !words.is_empty() {
                    conds.push(Cond::Unknown(format!("{proto} {}", words.join(" "))));
                }
            }
        }
        Ok(None)
    }

    fn iif(&mut self, conds: &mut Vec<Cond>) -> Result<Option<Verdict>, String> {
        if self.peek_word() == Some("vmap") {
            return self.vmap(VmapKey::Iif);
        }
        let op = self.op();
        match self.values()? {
            Some(names) => conds.push(Cond::Iif {
                names: names
                    .into_iter()
                    .map(|n| n.trim_matches('"').to_string())
                    .collect(),
                negated: op == Op::Ne,
            }),
            None => conds.push(Cond::Unknown("iifname @set".into())),
        }
        Ok(None)
    }

    fn meta(&mut self, conds: &mut Vec<Cond>) -> Result<Option<Verdict>, String> {
        let key = self.next_text().unwrap_or_default();
        if self.peek_word() == Some("set") {
            // `meta mark set 1`: a statement.
            self.pos += 1;
            self.values()?;
            return Ok(None);
        }
        match key.as_str() {
            "iif" | "iifname" => self.iif(conds),
            "l4proto" => {
                if self.peek_word() == Some("vmap") {
                    return self.vmap(VmapKey::L4Proto);
                }
                let op = self.op();
                let items = self.values()?.unwrap_or_default();
                conds.push(proto_cond(&items, op == Op::Ne));
                Ok(None)
            }
            "nfproto" => {
                let op = self.op();
                let items = self.values()?.unwrap_or_default();
                match (items.as_slice(), op) {
                    ([one], Op::Eq) if one == "ipv4" => conds.push(Cond::Family(Ip::V4)),
                    ([one], Op::Eq) if one == "ipv6" => conds.push(Cond::Family(Ip::V6)),
                    _ => conds.push(Cond::Unknown(format!("meta nfproto {}", items.join(",")))),
                }
                Ok(None)
            }
            other => {
                let words = self.words_until_keyword();
                if self.peek().is_some_and(|t| t.tok == Tok::LBrace) {
                    self.skip_braces();
                }
                conds.push(Cond::Unknown(format!("meta {other} {}", words.join(" "))));
                Ok(None)
            }
        }
    }

    fn ct(&mut self, conds: &mut Vec<Cond>) -> Result<Option<Verdict>, String> {
        let key = self.next_text().unwrap_or_default();
        if self.peek_word() == Some("set") {
            self.pos += 1;
            self.values()?;
            return Ok(None);
        }
        if key == "state" {
            if self.peek_word() == Some("vmap") {
                return self.vmap(VmapKey::CtState);
            }
            let op = self.op();
            let states = self.values()?.unwrap_or_default();
            conds.push(Cond::CtState {
                states: states.into_iter().map(|s| s.to_ascii_lowercase()).collect(),
                negated: op == Op::Ne,
            });
            return Ok(None);
        }
        let words = self.words_until_keyword();
        if self.peek().is_some_and(|t| t.tok == Tok::LBrace) {
            self.skip_braces();
        }
        conds.push(Cond::Unknown(format!("ct {key} {}", words.join(" "))));
        Ok(None)
    }

    fn ip(&mut self, which: &str, conds: &mut Vec<Cond>) -> Result<Option<Verdict>, String> {
        let ip = if which == "ip" { Ip::V4 } else { Ip::V6 };
        let field = self.next_text().unwrap_or_default();
        // `ip saddr . tcp dport { ... }`: a concatenation rempart does not model.
        if self.peek_word() == Some(".") {
            let mut text = format!("{which} {field}");
            while self.peek().is_some_and(|t| t.tok != Tok::LBrace)
                && self.peek_word() != Some("accept")
                && self.peek_word() != Some("drop")
            {
                if let Some(x) = self.next_text() {
                    text.push(' ');
                    text.push_str(&x);
                } else {
                    break;
                }
            }
            self.skip_braces();
            conds.push(Cond::Unknown(text));
            return Ok(None);
        }
        match field.as_str() {
            "saddr" => {
                let op = self.op();
                let cond = match self.values()? {
                    Some(items) => Cond::Source {
                        family: Some(ip),
                        scope: if items.iter().all(|i| source_is_restricted(i)) {
                            Scope::Restricted
                        } else {
                            Scope::Any
                        },
                        text: items.join(", "),
                        negated: op == Op::Ne,
                    },
                    None => Cond::Source {
                        family: Some(ip),
                        scope: Scope::Restricted,
                        text: "a named set".into(),
                        negated: op == Op::Ne,
                    },
                };
                conds.push(cond);
            }
            "daddr" => {
                let op = self.op();
                let items = self.values()?.unwrap_or_default();
                conds.push(Cond::Family(ip));
                let multicast = !items.is_empty() && items.iter().all(|i| dest_is_multicast(i));
                conds.push(Cond::DestLocal {
                    local: !multicast,
                    negated: op == Op::Ne,
                });
            }
            "protocol" | "nexthdr" => {
                if self.peek_word() == Some("vmap") {
                    conds.push(Cond::Family(ip));
                    return self.vmap(VmapKey::L4Proto);
                }
                let op = self.op();
                let items = self.values()?.unwrap_or_default();
                conds.push(Cond::Family(ip));
                conds.push(proto_cond(&items, op == Op::Ne));
            }
            "version" => {
                self.op();
                self.values()?;
                conds.push(Cond::Family(ip));
            }
            other => {
                let words = self.words_until_keyword();
                if self.peek().is_some_and(|t| t.tok == Tok::LBrace) {
                    self.skip_braces();
                }
                conds.push(Cond::Family(ip));
                conds.push(Cond::Unknown(format!(
                    "{which} {other} {}",
                    words.join(" ")
                )));
            }
        }
        if self.family == TableFamily::Ip6 && ip == Ip::V4
            || self.family == TableFamily::Ip && ip == Ip::V6
        {
            return Err(format!("`{which}` expression in a table of another family"));
        }
        Ok(None)
    }
}

fn proto_cond(items: &[String], negated: bool) -> Cond {
    let has = |names: &[&str]| {
        items
            .iter()
            .any(|i| names.contains(&i.to_ascii_lowercase().as_str()))
    };
    Cond::Proto {
        tcp: has(&["tcp", "6"]),
        udp: has(&["udp", "17"]),
        negated,
    }
}

/// Ports named by value items, with a comparison operator (`< 1024`).
fn ports_of(items: &[String], op: Op) -> Result<PortSet, String> {
    let mut set = PortSet::default();
    for item in items {
        let item = item.trim_matches('"');
        let (lo, hi) =
            port_range(item, '-').ok_or_else(|| format!("unknown port or service `{item}`"))?;
        match op {
            Op::Eq | Op::Ne => set.add(lo, hi),
            Op::Lt => {
                if lo > 0 {
                    set.add(0, lo - 1);
                }
            }
            Op::Le => set.add(0, lo),
            Op::Gt => {
                if hi < u16::MAX {
                    set.add(hi + 1, u16::MAX);
                }
            }
            Op::Ge => set.add(hi, u16::MAX),
        }
    }
    Ok(set)
}

/// The items of a `{ ... }` set starting at `toks[0]`: each item's text (tokens joined by a
/// space) and its raw words (for verdict maps).
fn set_items(toks: &[Token]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut items = Vec::new();
    let mut raw = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for t in toks {
        match &t.tok {
            Tok::LBrace => {
                depth += 1;
                if depth > 1 {
                    cur.push("{".into());
                }
            }
            Tok::RBrace => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
                cur.push("}".into());
            }
            Tok::Comma if depth == 1 => {
                if !cur.is_empty() {
                    items.push(cur.join(" "));
                    raw.push(std::mem::take(&mut cur));
                }
            }
            Tok::Word(w) | Tok::Str(w) => cur.push(w.clone()),
            Tok::Comma => cur.push(",".into()),
            Tok::Semi | Tok::Newline => {}
        }
    }
    if !cur.is_empty() {
        items.push(cur.join(" "));
        raw.push(cur);
    }
    (items, raw)
}

/// `key : verdict` (or `key:verdict`) of a verdict map.
fn split_entry(words: &[String]) -> Option<(String, Verdict)> {
    let (key, rest): (String, Vec<String>) = match words.iter().position(|w| w == ":") {
        Some(i) => (words[..i].join(" "), words[i + 1..].to_vec()),
        None => {
            let (k, v) = words.first()?.rsplit_once(':')?;
            let mut rest = vec![v.to_string()];
            rest.extend(words[1..].iter().cloned());
            (k.to_string(), rest)
        }
    };
    let verdict = match rest.first().map(String::as_str)? {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "reject" => Verdict::Reject,
        "return" => Verdict::Return,
        "continue" => Verdict::Continue,
        "jump" => Verdict::Jump(rest.get(1)?.clone()),
        "goto" => Verdict::Goto(rest.get(1)?.clone()),
        other => Verdict::Unknown(other.to_string()),
    };
    (!key.is_empty()).then_some((key, verdict))
}
