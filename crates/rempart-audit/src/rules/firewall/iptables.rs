//! iptables-save / iptables-restore files: `/etc/iptables/rules.v4` and `rules.v6` of
//! iptables-persistent, and ufw's `before.rules`, `user.rules`, `after.rules`. Only the `filter`
//! table matters here; other tables are read for syntax and dropped.
//!
//! What a line means is translated into the firewall [`model`](super::model): `-p`, `-s`, `-d`,
//! `-i`, `--dport`, multiport `--dports`, conntrack/state, addrtype, ipset `--match-set`, `-j`
//! and `-g`. Options rempart does not interpret become [`Cond::Unknown`]. A line iptables-restore
//! itself would reject (rules outside a table, a rule for an undeclared chain, an unterminated
//! quote) is a [`ParseError`] naming the file and line.

use super::model::{Chain, Cond, FwRule, Ip, Loc, Ruleset, Scope, TableFamily, Verdict, L4};
use super::net::{dest_is_multicast, port_range, source_is_restricted, PortSet};
use super::ParseError;

/// Parse an iptables-save file of one family into a ruleset (its `filter` table).
pub fn parse(path: &str, text: &str, ip: Ip) -> Result<Ruleset, ParseError> {
    let mut rs = Ruleset {
        origin: Some(path.to_string()),
        ..Ruleset::default()
    };
    parse_into(path, text, ip, &mut rs)?;
    Ok(rs)
}

/// Parse a file into an existing ruleset (ufw loads several files into one).
pub fn parse_into(path: &str, text: &str, ip: Ip, rs: &mut Ruleset) -> Result<(), ParseError> {
    parse_with(path, text, ip, rs, &mut |_, _| None)
}

/// Like [`parse_into`], with `relabel(line, chain)` choosing the location recorded for each rule
/// (ufw points rules at their `### tuple ###` comment).
pub fn parse_with(
    path: &str,
    text: &str,
    ip: Ip,
    rs: &mut Ruleset,
    relabel: &mut dyn FnMut(u32, &str) -> Option<Loc>,
) -> Result<(), ParseError> {
    let family = match ip {
        Ip::V4 => TableFamily::Ip,
        Ip::V6 => TableFamily::Ip6,
    };
    let err = |line: u32, message: String| ParseError::at(path, line, message);
    let mut table: Option<String> = None;
    for (i, raw) in super::split_lines(text).enumerate() {
        let n = i as u32 + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('*') {
            if table.is_some() {
                return Err(err(n, format!("table *{name} opened before COMMIT")));
            }
            let name = name.trim();
            if name.is_empty() {
                return Err(err(n, "empty table name".into()));
            }
            table = Some(name.to_string());
            continue;
        }
        if line == "COMMIT" {
            if table.take().is_none() {
                return Err(err(n, "COMMIT outside a table".into()));
            }
            continue;
        }
        let Some(tname) = table.as_deref() else {
            return Err(err(
                n,
                format!("`{line}` outside a table (`*filter` ... COMMIT)"),
            ));
        };
        let is_filter = tname == "filter";
        if let Some(decl) = line.strip_prefix(':') {
            // `:INPUT DROP [0:0]` or `:ufw-user-input - [0:0]`
            let mut parts = decl.split_whitespace();
            let (Some(name), Some(policy)) = (parts.next(), parts.next()) else {
                return Err(err(n, format!("bad chain declaration `{line}`")));
            };
            if !is_filter {
                continue;
            }
            let hook = match name {
                "INPUT" => Some("input"),
                "FORWARD" => Some("forward"),
                "OUTPUT" => Some("output"),
                _ => None,
            };
            let loc = Loc::file(path, n, raw);
            let policy = match (hook, policy) {
                (_, "-") => None,
                (Some(_), "ACCEPT") => Some((Verdict::Accept, loc.clone())),
                (Some(_), "DROP") => Some((Verdict::Drop, loc.clone())),
                _ => return Err(err(n, format!("bad policy `{policy}` for chain {name}"))),
            };
            match rs
                .chains
                .iter_mut()
                .find(|c| c.family == family && c.table == "filter" && c.name == name)
            {
                // A chain declared again (ufw files each declare theirs): keep the rules, take
                // the policy if one is given.
                Some(c) => {
                    if policy.is_some() {
                        c.policy = policy;
                    }
                }
                None => rs.chains.push(Chain {
                    family,
                    table: "filter".into(),
                    name: name.to_string(),
                    hook: hook.map(str::to_string),
                    policy,
                    rules: Vec::new(),
                    loc,
                }),
            }
            continue;
        }
        // Rules, possibly prefixed by counters `[pkts:bytes]`.
        let mut rest = line;
        if rest.starts_with('[') {
            rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
        }
        let words = shell_words(rest).map_err(|m| err(n, m))?;
        let Some((cmd, args)) = words.split_first() else {
            continue;
        };
        let (chain_name, args, insert) = match cmd.as_str() {
            "-A" | "--append" | "-I" | "--insert" => {
                let Some((c, a)) = args.split_first() else {
                    return Err(err(n, format!("`{cmd}` without a chain")));
                };
                (c.clone(), a, cmd.starts_with("-I") || cmd == "--insert")
            }
            "-N" | "--new-chain" => {
                if is_filter {
                    if let Some(name) = args.first() {
                        if !rs
                            .chains
                            .iter()
                            .any(|c| c.family == family && c.name == *name)
                        {
                            rs.chains.push(Chain {
                                family,
                                table: "filter".into(),
                                name: name.clone(),
                                hook: None,
                                policy: None,
                                rules: Vec::new(),
                                loc: Loc::file(path, n, raw),
                            });
                        }
                    }
                }
                continue;
            }
            "-P" | "--policy" | "-F" | "--flush" | "-X" | "--delete-chain" | "-Z" => {
                return Err(err(
                    n,
                    format!("`{cmd}` is not supported in a rules file rempart judges"),
                ));
            }
            other => return Err(err(n, format!("unknown command `{other}`"))),
        };
        if !is_filter {
            continue;
        }
        // `-I CHAIN 2 ...`: an optional position.
        let (position, args) = match (insert, args.first().and_then(|a| a.parse::<usize>().ok())) {
            (true, Some(p)) => (Some(p.saturating_sub(1)), &args[1..]),
            (true, None) => (Some(0), args),
            (false, _) => (None, args),
        };
        let (conds, verdict) = rule_from_args(args, ip).map_err(|m| err(n, m))?;
        let loc = relabel(n, &chain_name).unwrap_or_else(|| Loc::file(path, n, raw));
        let Some(chain) = rs
            .chains
            .iter_mut()
            .find(|c| c.family == family && c.table == "filter" && c.name == chain_name)
        else {
            return Err(err(n, format!("chain `{chain_name}` is not declared")));
        };
        let rule = FwRule {
            conds,
            verdict,
            loc,
        };
        match position {
            Some(p) => chain.rules.insert(p.min(chain.rules.len()), rule),
            None => chain.rules.push(rule),
        }
    }
    if table.is_some() {
        return Err(ParseError::at(
            path,
            super::split_lines(text).count() as u32,
            "table not closed by COMMIT".into(),
        ));
    }
    Ok(())
}

/// Split a rule line into words the way iptables-restore does: whitespace-separated, with
/// double-quoted words (`--comment "allow ssh"`) and backslash escapes inside quotes.
pub fn shell_words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' {
                    if let Some(next) = chars.next() {
                        cur.push(next);
                    }
                } else {
                    cur.push(c);
                }
            }
            None => {
                if c.is_whitespace() {
                    if in_word {
                        out.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                } else if c == '"' || c == '\'' {
                    quote = Some(c);
                    in_word = true;
                } else {
                    cur.push(c);
                    in_word = true;
                }
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// Translate the options of one rule into conditions and a verdict.
fn rule_from_args(args: &[String], ip: Ip) -> Result<(Vec<Cond>, Option<Verdict>), String> {
    let mut conds = Vec::new();
    let mut verdict = None;
    let mut proto: Option<L4> = None;
    let mut i = 0;
    let mut negate = false;
    let value = |i: usize| -> Result<&str, String> {
        args.get(i + 1)
            .map(String::as_str)
            .ok_or_else(|| format!("`{}` needs a value", args[i]))
    };
    while i < args.len() {
        let a = args[i].as_str();
        if a == "!" {
            negate = true;
            i += 1;
            continue;
        }
        // Old syntax: `-s ! 1.2.3.4`.
        let take_value = |i: &mut usize| -> Result<(String, bool), String> {
            let mut v = value(*i)?.to_string();
            let mut neg = false;
            if v == "!" {
                neg = true;
                *i += 1;
                v = value(*i)?.to_string();
            }
            *i += 2;
            Ok((v, neg))
        };
        match a {
            "-p" | "--protocol" => {
                let (v, neg) = take_value(&mut i)?;
                let neg = neg || negate;
                match v.to_ascii_lowercase().as_str() {
                    "all" | "0" => {}
                    "tcp" | "6" => {
                        proto = Some(L4::Tcp);
                        conds.push(Cond::Proto {
                            tcp: true,
                            udp: false,
                            negated: neg,
                        });
                    }
                    "udp" | "17" => {
                        proto = Some(L4::Udp);
                        conds.push(Cond::Proto {
                            tcp: false,
                            udp: true,
                            negated: neg,
                        });
                    }
                    _ => conds.push(Cond::Proto {
                        tcp: false,
                        udp: false,
                        negated: neg,
                    }),
                }
                negate = false;
                continue;
            }
            "-s" | "--source" | "--src" => {
                let (v, neg) = take_value(&mut i)?;
                let restricted = v.split(',').all(source_is_restricted);
                conds.push(Cond::Source {
                    family: Some(ip),
                    scope: if restricted {
                        Scope::Restricted
                    } else {
                        Scope::Any
                    },
                    text: v,
                    negated: neg || negate,
                });
                negate = false;
                continue;
            }
            "-d" | "--destination" | "--dst" => {
                let (v, neg) = take_value(&mut i)?;
                let multicast = v.split(',').all(dest_is_multicast);
                conds.push(Cond::DestLocal {
                    local: !multicast,
                    negated: neg || negate,
                });
                negate = false;
                continue;
            }
            "-i" | "--in-interface" => {
                let (v, neg) = take_value(&mut i)?;
                conds.push(Cond::Iif {
                    names: vec![v.replace('+', "*")],
                    negated: neg || negate,
                });
                negate = false;
                continue;
            }
            "--dport" | "--destination-port" | "--dports" | "--destination-ports" | "--ports" => {
                let (v, neg) = take_value(&mut i)?;
                let mut ports = PortSet::default();
                for item in v.split(',') {
                    let (lo, hi) = port_range(item, ':')
                        .ok_or_else(|| format!("bad port `{item}` in `{a} {v}`"))?;
                    ports.add(lo, hi);
                }
                conds.push(Cond::DPort {
                    proto,
                    ports,
                    negated: neg || negate,
                });
                negate = false;
                continue;
            }
            "--sport" | "--source-port" | "--sports" | "--source-ports" => {
                let (_, neg) = take_value(&mut i)?;
                if !(neg || negate) {
                    conds.push(Cond::SPort);
                }
                negate = false;
                continue;
            }
            "--state" | "--ctstate" => {
                let (v, neg) = take_value(&mut i)?;
                conds.push(Cond::CtState {
                    states: v.split(',').map(|s| s.to_ascii_lowercase()).collect(),
                    negated: neg || negate,
                });
                negate = false;
                continue;
            }
            "--dst-type" => {
                let (v, neg) = take_value(&mut i)?;
                let local = v.split(',').any(|t| t.eq_ignore_ascii_case("LOCAL"));
                conds.push(Cond::DestLocal {
                    local,
                    negated: neg || negate,
                });
                negate = false;
                continue;
            }
            "--match-set" => {
                // `--match-set NAME src[,dst]`
                let name = value(i)?.to_string();
                let flags = args.get(i + 2).cloned().unwrap_or_default();
                i += 3;
                if flags.split(',').next() == Some("src") {
                    conds.push(Cond::Source {
                        family: Some(ip),
                        scope: Scope::Restricted,
                        text: format!("@{name}"),
                        negated: negate,
                    });
                } else {
                    conds.push(Cond::Unknown(format!("--match-set {name} {flags}")));
                }
                negate = false;
                continue;
            }
            "--syn" => {
                // A connection attempt: the probe is one.
                conds.push(Cond::CtState {
                    states: vec!["new".into()],
                    negated: negate,
                });
                negate = false;
                i += 1;
                continue;
            }
            "-m" | "--match" => {
                i += 2;
                continue;
            }
            // Statements that do not change which packets a rule matches.
            "--comment" | "--icmp-type" | "--icmpv6-type" | "--limit" | "--limit-burst" => {
                let _ = take_value(&mut i)?;
                negate = false;
                continue;
            }
            "-c" | "--set-counters" => {
                i += 3;
                continue;
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let target = value(i)?.to_string();
                verdict = match target.as_str() {
                    "ACCEPT" => Some(Verdict::Accept),
                    "DROP" => Some(Verdict::Drop),
                    "REJECT" => Some(Verdict::Reject),
                    "RETURN" => Some(Verdict::Return),
                    // Targets that log or mark and let the packet go on.
                    "LOG" | "NFLOG" | "ULOG" | "MARK" | "CONNMARK" | "NOTRACK" | "CT" | "TRACE"
                    | "AUDIT" | "NFQUEUE" => None,
                    t if a.starts_with("-g") || a == "--goto" => Some(Verdict::Goto(t.into())),
                    t => Some(Verdict::Jump(t.into())),
                };
                // The target's own options follow; none of them changes the verdict.
                break;
            }
            other if other.starts_with('-') => {
                // An option rempart does not interpret, with its values.
                let mut text = other.to_string();
                i += 1;
                while i < args.len() && !args[i].starts_with('-') && args[i] != "!" {
                    text.push(' ');
                    text.push_str(&args[i]);
                    i += 1;
                }
                conds.push(Cond::Unknown(if negate {
                    format!("! {text}")
                } else {
                    text
                }));
                negate = false;
                continue;
            }
            other => return Err(format!("unexpected `{other}`")),
        }
    }
    // `-p tcp` given after `--dport`: bind ports to the protocol now known.
    if let Some(p) = proto {
        for c in &mut conds {
            if let Cond::DPort {
                proto: dp @ None, ..
            } = c
            {
                *dp = Some(p);
            }
        }
    }
    Ok((conds, verdict))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::firewall::eval::analyse;
    use proptest::prelude::*;

    const RULES_V4: &str = "\
# Generated by iptables-save v1.8.9 (nf_tables)
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m comment --comment \"admin ssh\" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 5432 -j ACCEPT
-A INPUT -p udp --sport 67 --dport 68 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-port-unreachable
COMMIT
";

    #[test]
    fn persistent_rules_open_only_the_listed_ports() {
        let rs = parse("/etc/iptables/rules.v4", RULES_V4, Ip::V4).unwrap();
        let a = analyse(&rs).unwrap();
        assert_eq!(
            a.open_ports_of(Ip::V4, L4::Tcp).ranges(),
            &[(22, 22), (80, 80), (443, 443)]
        );
        assert!(a.open_ports_of(Ip::V4, L4::Udp).is_empty());
        let d = a.default_for(Ip::V4).unwrap();
        assert_eq!(d.dropping().unwrap().loc.line, 13);
        // No ip6 rules in a v4 file: IPv6 is not filtered by this file.
        assert!(a.default_for(Ip::V6).unwrap().accepting().is_some());
        assert!(a
            .restricted
            .iter()
            .any(|r| r.ports.contains(5432) && r.what.contains("10.0.0.0/8")));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("/f", "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n", Ip::V4).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("not declared"), "{e}");
        let e = parse("/f", "-A INPUT -j ACCEPT\n", Ip::V4).unwrap_err();
        assert!(e.message.contains("outside a table"), "{e}");
        let e = parse("/f", "*filter\n:INPUT DROP [0:0]\n", Ip::V4).unwrap_err();
        assert!(e.message.contains("COMMIT"), "{e}");
        let e = parse(
            "/f",
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -m comment --comment \"x -j ACCEPT\nCOMMIT\n",
            Ip::V4,
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = parse(
            "/f",
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport bogus -j ACCEPT\nCOMMIT\n",
            Ip::V4,
        )
        .unwrap_err();
        assert!(e.message.contains("bogus"), "{e}");
    }

    #[test]
    fn negations_and_insert() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT ! -i lo -p tcp ! --dport 22 -j DROP\n-I INPUT 1 -p tcp --dport 23 -j DROP\nCOMMIT\n";
        let rs = parse("/f", text, Ip::V4).unwrap();
        assert_eq!(rs.chains[0].rules[0].loc.line, 4);
        let a = analyse(&rs).unwrap();
        assert_eq!(a.open_ports_of(Ip::V4, L4::Tcp).ranges(), &[(22, 22)]);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,400}") {
            let _ = parse("/f", &s, Ip::V4);
        }

        #[test]
        fn never_panics_on_rule_like_lines(lines in proptest::collection::vec(
            "(-A INPUT|:INPUT DROP|-I INPUT 3|\\*filter|COMMIT|! |-p tcp|--dport [0-9a-z:,]{0,8}|-j [A-Z]{0,6}|-s [0-9./]{0,12}|-m [a-z]{0,5}| ){1,6}",
            0..12)) {
            let text = lines.join("\n");
            if let Ok(rs) = parse("/f", &text, Ip::V6) {
                // Every rule loaded belongs to a declared filter chain of the family.
                for c in &rs.chains {
                    prop_assert_eq!(c.family, TableFamily::Ip6);
                }
                let _ = analyse(&rs);
            }
        }
    }
}
