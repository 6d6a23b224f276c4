//! The running kernel's ruleset: `nft -j list ruleset`, run through the nftables crate (which
//! also provides the JSON schema), translated into the firewall [model](super::model). This is
//! the one place the audit spawns a process, because no file holds the kernel's ruleset; it only
//! happens on the live host, for FW-LIVE-RULESET.
//!
//! Each JSON object is decoded on its own, so an object the schema does not know (a newer nft)
//! is skipped rather than failing the whole ruleset; a rule skipped that way is kept as a note.

use super::model::{
    describe, Chain, Cond, FwRule, Ip, Loc, Ruleset, Scope, TableFamily, Verdict, VmapKey,
    VmapMatch, L4,
};
use super::net::{dest_is_multicast, port_range, source_is_restricted, PortSet};
use nftables::expr::{Expression, MetaKey, NamedExpression, Payload, SetItem};
use nftables::schema::{NfListObject, NfObject};
use nftables::stmt::{Operator, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};
use std::collections::HashMap;

/// In a root tree that simulates a running system (`Host::tree_with_live_facts`, used by
/// tests), the kernel ruleset is read from these files (`nft -j list ruleset` and
/// `nft list ruleset` output) instead of running nft.
pub const SIMULATED_JSON: &str = "/run/rempart-test/nft-list-ruleset.json";
pub const SIMULATED_LISTING: &str = "/run/rempart-test/nft-list-ruleset.nft";

/// Run nft (`program` replaces `nft`, e.g. a wrapper entering a network namespace) and
/// translate the kernel's ruleset.
pub fn read(program: Option<&str>) -> Result<Ruleset, String> {
    read_with(&mut |json| {
        if json {
            nftables::helper::get_current_ruleset_raw(program, nftables::helper::DEFAULT_ARGS)
                .map_err(|e| match e {
                    nftables::helper::NftablesError::NftFailed { stderr, .. } => {
                        format!("nft -j list ruleset failed: {}", stderr.trim())
                    }
                    other => other.to_string(),
                })
        } else {
            let nft = program.unwrap_or("nft");
            let out = std::process::Command::new(nft)
                .args(["list", "ruleset"])
                .output()
                .map_err(|e| format!("unable to execute {nft}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "nft list ruleset failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            String::from_utf8(out.stdout).map_err(|e| format!("nft printed invalid UTF-8: {e}"))
        }
    })
}

/// Read the ruleset through `run(json)`, which returns nft's output: the JSON listing, or
/// (`json == false`) the text listing.
///
/// The JSON is the primary source. Rules loaded by iptables-nft (ufw, iptables-persistent on
/// Debian 12) contain xtables compat expressions that the JSON prints as opaque `xt` objects
/// (`{"xt": {"type": "match", "name": "conntrack"}}`), losing the ports and states; the text
/// listing translates most of them (`ct state new`, `fib daddr type local`, `udp dport
/// 60000-61000`). When the JSON holds any `xt` object, the text listing is read instead and
/// parsed with the nft configuration parser.
pub fn read_with(run: &mut dyn FnMut(bool) -> Result<String, String>) -> Result<Ruleset, String> {
    let json = run(true)?;
    let rs = from_json(&json)?;
    if !json.contains("\"xt\"") {
        return Ok(rs);
    }
    from_listing(&run(false)?)
}

/// Translate `nft list ruleset` text (what the kernel holds, printed as nft syntax).
pub fn from_listing(text: &str) -> Result<Ruleset, String> {
    let mut none = |spec: &str| -> Result<super::nft::Included, super::nft::IncludeFailure> {
        Err(super::nft::IncludeFailure::NotFound(spec.to_string()))
    };
    let mut rs = super::nft::parse("nft list ruleset", text, &mut none).map_err(|e| match e {
        super::nft::ParseFailure::Parse(p) => format!("cannot read the kernel ruleset: {p}"),
        super::nft::ParseFailure::Host(h) => h.to_string(),
    })?;
    rs.origin = None;
    for c in &mut rs.chains {
        let prefix = format!("{} {} {}", c.family.as_str(), c.table, c.name);
        c.loc = Loc::kernel(format!("{prefix}: {}", c.loc.text));
        if let Some((_, loc)) = &mut c.policy {
            *loc = Loc::kernel(format!("{prefix}: {}", loc.text));
        }
        for r in &mut c.rules {
            r.loc = Loc::kernel(format!("{prefix}: {}", r.loc.text));
        }
    }
    Ok(rs)
}

type SetKey = (TableFamily, String, String);

/// Translate the JSON of `nft -j list ruleset`.
pub fn from_json(text: &str) -> Result<Ruleset, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("nft printed invalid JSON: {e}"))?;
    let objects = v
        .get("nftables")
        .and_then(|o| o.as_array())
        .ok_or("nft's JSON has no `nftables` array")?;
    let mut decoded = Vec::with_capacity(objects.len());
    let mut rs = Ruleset::default();
    for o in objects {
        match serde_json::from_value::<NfObject>(o.clone()) {
            Ok(NfObject::ListObject(lo)) => decoded.push(lo),
            Ok(NfObject::CmdObject(_)) => {}
            Err(_) => {
                if let Some(r) = o.get("rule") {
                    let chain = r.get("chain").and_then(|c| c.as_str()).unwrap_or("?");
                    let handle = r.get("handle").and_then(|h| h.as_u64()).unwrap_or(0);
                    rs.skipped.push(Loc::kernel(format!(
                        "a rule of chain {chain} (handle {handle}) rempart cannot decode"
                    )));
                }
            }
        }
    }
    let mut sets: HashMap<SetKey, Vec<Expression>> = HashMap::new();
    for lo in &decoded {
        if let NfListObject::Set(s) = lo {
            let key = (family(s.family), s.table.to_string(), s.name.to_string());
            sets.insert(
                key,
                s.elem.as_deref().map(<[_]>::to_vec).unwrap_or_default(),
            );
        }
    }
    for lo in &decoded {
        if let NfListObject::Chain(c) = lo {
            let fam = family(c.family);
            let hook = match (c._type, c.hook) {
                (Some(NfChainType::Filter), Some(h)) => Some(hook_name(h).to_string()),
                _ => None,
            };
            let policy = c.policy.map(|p| match p {
                NfChainPolicy::Accept => Verdict::Accept,
                NfChainPolicy::Drop => Verdict::Drop,
            });
            let text = format!(
                "table {} {} chain {}{}{}",
                fam.as_str(),
                c.table,
                c.name,
                hook.as_deref()
                    .map(|h| format!(" hook {h}"))
                    .unwrap_or_default(),
                policy
                    .as_ref()
                    .map(|p| format!(" policy {p}"))
                    .unwrap_or_default()
            );
            let loc = Loc::kernel(text);
            rs.chains.push(Chain {
                family: fam,
                table: c.table.to_string(),
                name: c.name.to_string(),
                hook,
                policy: policy.map(|p| (p, loc.clone())),
                rules: Vec::new(),
                loc,
            });
        }
    }
    for lo in &decoded {
        if let NfListObject::Rule(r) = lo {
            let fam = family(r.family);
            let ctx = Ctx {
                family: fam,
                table: &r.table,
                sets: &sets,
            };
            let (conds, verdict) = ctx.translate(&r.expr);
            let text = format!(
                "{} {} {}: {} (handle {})",
                fam.as_str(),
                r.table,
                r.chain,
                describe(&conds, verdict.as_ref()),
                r.handle.unwrap_or(0)
            );
            if let Some(chain) = rs
                .chains
                .iter_mut()
                .find(|c| c.family == fam && c.table == r.table && c.name == r.chain)
            {
                chain.rules.push(FwRule {
                    conds,
                    verdict,
                    loc: Loc::kernel(text),
                });
            }
        }
    }
    Ok(rs)
}

fn family(f: NfFamily) -> TableFamily {
    match f {
        NfFamily::IP => TableFamily::Ip,
        NfFamily::IP6 => TableFamily::Ip6,
        NfFamily::INet => TableFamily::Inet,
        _ => TableFamily::Other,
    }
}

fn hook_name(h: NfHook) -> &'static str {
    match h {
        NfHook::Ingress => "ingress",
        NfHook::Prerouting => "prerouting",
        NfHook::Forward => "forward",
        NfHook::Input => "input",
        NfHook::Output => "output",
        NfHook::Postrouting => "postrouting",
        NfHook::Egress => "egress",
    }
}

struct Ctx<'a> {
    family: TableFamily,
    table: &'a str,
    sets: &'a HashMap<SetKey, Vec<Expression<'static>>>,
}

impl Ctx<'_> {
    fn translate(&self, stmts: &[Statement]) -> (Vec<Cond>, Option<Verdict>) {
        let mut conds = Vec::new();
        let mut verdict = None;
        for s in stmts {
            let v = match s {
                Statement::Accept(_) => Some(Verdict::Accept),
                Statement::Drop(_) => Some(Verdict::Drop),
                Statement::Reject(_) => Some(Verdict::Reject),
                Statement::Return(_) => Some(Verdict::Return),
                Statement::Continue(_) => Some(Verdict::Continue),
                Statement::Jump(t) => Some(Verdict::Jump(t.target.to_string())),
                Statement::Goto(t) => Some(Verdict::Goto(t.target.to_string())),
                Statement::Match(m) => {
                    self.matches(&m.left, &m.right, m.op, &mut conds);
                    None
                }
                Statement::VerdictMap(vm) => Some(self.vmap(&vm.key, &vm.data)),
                Statement::Limit(l) => {
                    if l.inv == Some(true) {
                        conds.push(Cond::Unknown(format!("limit rate over {}", l.rate)));
                    }
                    None
                }
                Statement::Counter(_)
                | Statement::Log(_)
                | Statement::Set(_)
                | Statement::Notrack
                | Statement::Mangle(_) => None,
                Statement::XT(x) => {
                    // iptables-nft rules nft cannot translate: `xt match "multiport"`,
                    // `xt target "REJECT"`. Their options are not in the JSON.
                    let field = |k: &str| {
                        x.as_ref()
                            .and_then(|v| v.get(k))
                            .and_then(|n| n.as_str())
                            .unwrap_or("?")
                    };
                    match (field("type"), field("name")) {
                        ("target", "REJECT") => Some(Verdict::Reject),
                        ("target", "LOG" | "NFLOG" | "MARK" | "CONNMARK" | "CT") => None,
                        ("target", other) => Some(Verdict::Unknown(format!("xt target {other}"))),
                        (_, name) => {
                            conds.push(Cond::Unknown(format!("xt match {name}")));
                            None
                        }
                    }
                }
                other => Some(Verdict::Unknown(
                    format!("{other:?}").chars().take(40).collect(),
                )),
            };
            if verdict.is_none() {
                verdict = v;
            }
        }
        (conds, verdict)
    }

    /// The items of a right-hand side: strings, numbers, ranges `a-b`, prefixes `a/n`, sets
    /// (anonymous or named). `None` for a named set the ruleset does not list.
    fn items(&self, e: &Expression, out: &mut Vec<String>) -> bool {
        match e {
            Expression::String(s) => {
                if let Some(name) = s.strip_prefix('@') {
                    let key = (self.family, self.table.to_string(), name.to_string());
                    return match self.sets.get(&key) {
                        Some(elems) if !elems.is_empty() => {
                            elems.iter().all(|x| self.items(x, out))
                        }
                        _ => false,
                    };
                }
                out.push(s.to_string());
                true
            }
            Expression::Number(n) => {
                out.push(n.to_string());
                true
            }
            Expression::Boolean(b) => {
                out.push(b.to_string());
                true
            }
            Expression::List(l) => l.iter().all(|x| self.items(x, out)),
            Expression::Range(r) => {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let ok = self.items(&r.range[0], &mut a) && self.items(&r.range[1], &mut b);
                out.push(format!("{}-{}", a.join(""), b.join("")));
                ok
            }
            Expression::Named(NamedExpression::Set(items)) => items.iter().all(|i| match i {
                SetItem::Element(x) => self.items(x, out),
                _ => false,
            }),
            Expression::Named(NamedExpression::Prefix(p)) => {
                let mut a = Vec::new();
                let ok = self.items(&p.addr, &mut a);
                out.push(format!("{}/{}", a.join(""), p.len));
                ok
            }
            Expression::Named(NamedExpression::Elem(el)) => self.items(&el.val, out),
            _ => false,
        }
    }

    fn matches(&self, left: &Expression, right: &Expression, op: Operator, conds: &mut Vec<Cond>) {
        let negated = op == Operator::NEQ;
        let mut items = Vec::new();
        let known = self.items(right, &mut items);
        let unknown = |what: String| Cond::Unknown(what);
        match left {
            Expression::Named(NamedExpression::Payload(Payload::PayloadField(f))) => {
                let (proto, field) = (f.protocol.as_ref(), f.field.as_ref());
                match (proto, field) {
                    ("tcp" | "udp" | "th", "dport") => {
                        let l4 = match proto {
                            "tcp" => Some(L4::Tcp),
                            "udp" => Some(L4::Udp),
                            _ => None,
                        };
                        match ports(&items, op).filter(|_| known) {
                            Some(ports) => conds.push(Cond::DPort {
                                proto: l4,
                                ports,
                                negated,
                            }),
                            None => {
                                conds.push(unknown(format!("{proto} dport {}", items.join(","))))
                            }
                        }
                    }
                    ("tcp" | "udp" | "th", "sport") => {
                        if !negated {
                            conds.push(Cond::SPort);
                        }
                    }
                    ("ip" | "ip6", "saddr") => {
                        let ip = if proto == "ip" { Ip::V4 } else { Ip::V6 };
                        let restricted = !known || items.iter().all(|i| source_is_restricted(i));
                        conds.push(Cond::Source {
                            family: Some(ip),
                            scope: if restricted {
                                Scope::Restricted
                            } else {
                                Scope::Any
                            },
                            text: if known {
                                items.join(", ")
                            } else {
                                "a named set".into()
                            },
                            negated,
                        });
                    }
                    ("ip" | "ip6", "daddr") => {
                        let ip = if proto == "ip" { Ip::V4 } else { Ip::V6 };
                        conds.push(Cond::Family(ip));
                        let multicast = known
                            && !items.is_empty()
                            && items.iter().all(|i| dest_is_multicast(i));
                        conds.push(Cond::DestLocal {
                            local: !multicast,
                            negated,
                        });
                    }
                    ("ip", "protocol") | ("ip6", "nexthdr") => {
                        conds.push(Cond::Family(if proto == "ip" { Ip::V4 } else { Ip::V6 }));
                        conds.push(proto_cond(&items, negated));
                    }
                    ("icmp" | "icmpv6", _) => conds.push(Cond::Proto {
                        tcp: false,
                        udp: false,
                        negated: false,
                    }),
                    _ => conds.push(unknown(format!("{proto} {field}"))),
                }
            }
            Expression::Named(NamedExpression::Meta(m)) => match m.key {
                MetaKey::L4proto => conds.push(proto_cond(&items, negated)),
                MetaKey::Nfproto => match items.as_slice() {
                    [one] if one == "ipv4" && !negated => conds.push(Cond::Family(Ip::V4)),
                    [one] if one == "ipv6" && !negated => conds.push(Cond::Family(Ip::V6)),
                    _ => conds.push(unknown(format!("meta nfproto {}", items.join(",")))),
                },
                MetaKey::Iif | MetaKey::Iifname => conds.push(if known {
                    Cond::Iif {
                        names: items,
                        negated,
                    }
                } else {
                    unknown("iifname @set".into())
                }),
                other => conds.push(unknown(format!("meta {other:?}").to_ascii_lowercase())),
            },
            Expression::Named(NamedExpression::CT(ct)) if ct.key == "state" => {
                conds.push(Cond::CtState {
                    states: items.iter().map(|s| s.to_ascii_lowercase()).collect(),
                    negated,
                })
            }
            Expression::Named(NamedExpression::Fib(f))
                if matches!(f.result, nftables::expr::FibResult::Type)
                    && f.flags.contains(&nftables::expr::FibFlag::Daddr) =>
            {
                conds.push(Cond::DestLocal {
                    local: items.iter().any(|i| i == "local"),
                    negated,
                })
            }
            other => {
                let text = serde_json::to_string(other).unwrap_or_default();
                conds.push(unknown(text.chars().take(60).collect()));
            }
        }
    }

    fn vmap(&self, key: &Expression, data: &Expression) -> Verdict {
        let key = match key {
            Expression::Named(NamedExpression::CT(ct)) if ct.key == "state" => VmapKey::CtState,
            Expression::Named(NamedExpression::Meta(m)) if m.key == MetaKey::L4proto => {
                VmapKey::L4Proto
            }
            Expression::Named(NamedExpression::Meta(m))
                if matches!(m.key, MetaKey::Iif | MetaKey::Iifname) =>
            {
                VmapKey::Iif
            }
            Expression::Named(NamedExpression::Payload(Payload::PayloadField(f)))
                if f.field == "dport" && matches!(f.protocol.as_ref(), "tcp" | "udp" | "th") =>
            {
                VmapKey::DPort(match f.protocol.as_ref() {
                    "tcp" => Some(L4::Tcp),
                    "udp" => Some(L4::Udp),
                    _ => None,
                })
            }
            _ => return Verdict::Unknown("vmap".into()),
        };
        let Expression::Named(NamedExpression::Set(items)) = data else {
            return Verdict::Unknown("vmap @map".into());
        };
        let mut entries = Vec::new();
        for item in items {
            let (k, v) = match item {
                SetItem::Mapping(k, Expression::Verdict(v)) => (k, verdict_of(v)),
                SetItem::MappingStatement(k, s) => (k, stmt_verdict(s)),
                SetItem::Element(Expression::List(pair)) if pair.len() == 2 => match &pair[1] {
                    Expression::Verdict(v) => (&pair[0], verdict_of(v)),
                    _ => continue,
                },
                _ => continue,
            };
            let mut ks = Vec::new();
            if !self.items(k, &mut ks) {
                continue;
            }
            let m = match key {
                VmapKey::DPort(_) => match ports(&ks, Operator::EQ) {
                    Some(p) => VmapMatch::Ports(p),
                    None => continue,
                },
                _ => VmapMatch::Word(ks.join(",")),
            };
            entries.push((m, v));
        }
        Verdict::Vmap { key, entries }
    }
}

fn verdict_of(v: &nftables::expr::Verdict) -> Verdict {
    use nftables::expr::Verdict as V;
    match v {
        V::Accept => Verdict::Accept,
        V::Drop => Verdict::Drop,
        V::Continue => Verdict::Continue,
        V::Return => Verdict::Return,
        V::Jump(t) => Verdict::Jump(t.target.to_string()),
        V::Goto(t) => Verdict::Goto(t.target.to_string()),
    }
}

fn stmt_verdict(s: &Statement) -> Verdict {
    match s {
        Statement::Accept(_) => Verdict::Accept,
        Statement::Drop(_) => Verdict::Drop,
        Statement::Reject(_) => Verdict::Reject,
        Statement::Return(_) => Verdict::Return,
        Statement::Continue(_) => Verdict::Continue,
        Statement::Jump(t) => Verdict::Jump(t.target.to_string()),
        Statement::Goto(t) => Verdict::Goto(t.target.to_string()),
        _ => Verdict::Unknown("statement".into()),
    }
}

fn proto_cond(items: &[String], negated: bool) -> Cond {
    let has = |n: &[&str]| items.iter().any(|i| n.contains(&i.as_str()));
    Cond::Proto {
        tcp: has(&["tcp", "6"]),
        udp: has(&["udp", "17"]),
        negated,
    }
}

fn ports(items: &[String], op: Operator) -> Option<PortSet> {
    let mut set = PortSet::default();
    for i in items {
        let (lo, hi) = port_range(i, '-')?;
        match op {
            Operator::LT => {
                if lo > 0 {
                    set.add(0, lo - 1)
                }
            }
            Operator::GT => {
                if hi < u16::MAX {
                    set.add(hi + 1, u16::MAX)
                }
            }
            Operator::LEQ => set.add(0, lo),
            Operator::GEQ => set.add(hi, u16::MAX),
            _ => set.add(lo, hi),
        }
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::firewall::eval::analyse;

    /// Captured from `nft -j list ruleset` (nftables 1.0.6) after loading a ruleset with a
    /// port set, a single port and a ct state verdict map.
    const JSON: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "t", "handle": 1}}, {"chain": {"family": "inet", "table": "t", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"rule": {"family": "inet", "table": "t", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [22, 80, 443]}}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "t", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "t", "chain": "input", "handle": 6, "expr": [{"vmap": {"key": {"ct": {"key": "state"}}, "data": {"set": [["invalid", {"drop": null}], ["established", {"accept": null}], ["related", {"accept": null}]]}}}]}}]}"#;

    #[test]
    fn kernel_json_becomes_the_model() {
        let rs = from_json(JSON).unwrap();
        assert_eq!(rs.chains.len(), 1);
        let input = &rs.chains[0];
        assert_eq!(input.hook.as_deref(), Some("input"));
        assert_eq!(input.rules.len(), 3);
        assert!(matches!(input.rules[2].verdict, Some(Verdict::Vmap { .. })));
        let a = analyse(&rs).unwrap();
        assert_eq!(
            a.open_ports(L4::Tcp).ranges(),
            &[(22, 22), (80, 80), (443, 443)]
        );
        assert!(a.default_for(Ip::V6).unwrap().accepting().is_none());
        assert!(
            input.rules[0].loc.text.contains("handle 3"),
            "{}",
            input.rules[0].loc.text
        );
    }

    #[test]
    fn garbage_is_an_error_and_unknown_objects_are_skipped() {
        assert!(from_json("not json").is_err());
        assert!(from_json("{}").is_err());
        let rs = from_json(r#"{"nftables": [{"frobnicate": {}}, {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 9, "expr": [{"nonsense": 1}]}}]}"#).unwrap();
        assert!(rs.chains.is_empty());
        assert_eq!(rs.skipped.len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = from_json(&s);
        }
    }
}
