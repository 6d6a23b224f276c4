//! Docker's chains as the kernel holds them, read from `nft -j list ruleset` (iptables-nft, the
//! Debian default) or from `iptables-legacy-save`: the ports Docker publishes (DNAT rules of the
//! nat table's DOCKER chain, with the host address they are bound to) and the rules of the
//! filter table's DOCKER-USER chain, the only place where an admin can filter them. Pure
//! functions of text; anything not understood is skipped, never a panic.

use std::net::IpAddr;

/// A port Docker publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// `tcp` or `udp`.
    pub proto: String,
    /// The host port.
    pub port: u16,
    /// The host address it is bound to, when restricted (`-p 127.0.0.1:6379:6379`).
    pub host_addr: Option<String>,
    /// `container address:port`, when the source shows it.
    pub dest: Option<String>,
    /// Where the rule was read (`nft ip nat DOCKER handle 14`, `iptables-legacy nat DOCKER`).
    pub origin: String,
}

impl Published {
    /// Reachable only from the host itself.
    pub fn local_only(&self) -> bool {
        self.host_addr
            .as_deref()
            .and_then(|a| a.split('/').next()?.parse::<IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback())
    }

    /// The container port, when the destination is known.
    pub fn container_port(&self) -> Option<u16> {
        self.dest.as_deref()?.rsplit(':').next()?.parse().ok()
    }
}

/// What a DOCKER-USER rule does with a packet it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Return,
    Accept,
    Drop,
    Reject,
    /// Jump or goto to another chain (not followed).
    Jump(String),
    Other(String),
}

/// One rule of DOCKER-USER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRule {
    pub verdict: Verdict,
    /// Destination ports it is limited to (`--dport`, `--dports`, `--ctorigdstport`); empty:
    /// any port.
    pub ports: Vec<u16>,
    /// Limited to some sources (`-s X` without `!`): it filters only part of the Internet.
    pub some_sources: bool,
    /// It has conditions nft's JSON does not show (an iptables-nft `xt` match): which packets
    /// it matches is unknown.
    pub opaque: bool,
    pub text: String,
}

/// Docker's chains in one ruleset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerChains {
    /// A nat DOCKER chain exists.
    pub present: bool,
    pub published: Vec<Published>,
    /// DOCKER-USER's rules; `None` when the chain does not exist.
    pub user: Option<Vec<UserRule>>,
}

impl DockerChains {
    pub fn merge(&mut self, other: DockerChains) {
        self.present |= other.present;
        self.published.extend(other.published);
        match (&mut self.user, other.user) {
            (Some(a), Some(b)) => a.extend(b),
            (None, Some(b)) => self.user = Some(b),
            _ => {}
        }
    }
}

fn ports_of(v: &serde_json::Value) -> Vec<u16> {
    match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .into_iter()
            .collect(),
        serde_json::Value::Object(o) => {
            if let Some(items) = o.get("set").and_then(|s| s.as_array()) {
                return items.iter().flat_map(ports_of).collect();
            }
            if let Some([a, b]) = o
                .get("range")
                .and_then(|r| r.as_array())
                .map(|r| r.as_slice())
            {
                let (a, b) = (ports_of(a), ports_of(b));
                if let (Some(a), Some(b)) = (a.first(), b.first()) {
                    if a <= b && b - a <= 1024 {
                        return (*a..=*b).collect();
                    }
                }
            }
            Vec::new()
        }
        serde_json::Value::Array(items) => items.iter().flat_map(ports_of).collect(),
        _ => Vec::new(),
    }
}

/// Docker's chains in the JSON of `nft -j list ruleset`.
pub fn from_nft_json(text: &str) -> Result<DockerChains, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("nft printed invalid JSON: {e}"))?;
    let objects = v
        .get("nftables")
        .and_then(|o| o.as_array())
        .ok_or("nft's JSON has no `nftables` array")?;
    let mut out = DockerChains::default();
    for o in objects {
        if let Some(c) = o.get("chain") {
            let name = c.get("name").and_then(|n| n.as_str()).unwrap_or("");
            let table = c.get("table").and_then(|n| n.as_str()).unwrap_or("");
            if name == "DOCKER" && table == "nat" {
                out.present = true;
            }
            if name == "DOCKER-USER" && table == "filter" && out.user.is_none() {
                out.user = Some(Vec::new());
            }
            continue;
        }
        let Some(r) = o.get("rule") else { continue };
        let chain = r.get("chain").and_then(|c| c.as_str()).unwrap_or("");
        let table = r.get("table").and_then(|c| c.as_str()).unwrap_or("");
        let family = r.get("family").and_then(|c| c.as_str()).unwrap_or("");
        let handle = r.get("handle").and_then(|c| c.as_u64()).unwrap_or(0);
        let Some(exprs) = r.get("expr").and_then(|e| e.as_array()) else {
            continue;
        };
        let mut proto = None;
        let mut ports = Vec::new();
        let mut daddr = None;
        let mut some_sources = false;
        let mut verdict = None;
        let mut dnat = false;
        let mut dest = None;
        let mut opaque = false;
        for e in exprs {
            if let Some(m) = e.get("match") {
                let op = m.get("op").and_then(|o| o.as_str()).unwrap_or("==");
                let left = m.get("left").unwrap_or(&serde_json::Value::Null);
                let right = m.get("right").unwrap_or(&serde_json::Value::Null);
                if let Some(p) = left.get("payload") {
                    let field = p.get("field").and_then(|f| f.as_str()).unwrap_or("");
                    let prot = p.get("protocol").and_then(|f| f.as_str()).unwrap_or("");
                    match (prot, field) {
                        ("tcp" | "udp", "dport") if op == "==" => {
                            proto = Some(prot.to_string());
                            ports.extend(ports_of(right));
                        }
                        ("ip" | "ip6", "daddr") if op == "==" => {
                            daddr = right.as_str().map(str::to_string);
                        }
                        ("ip" | "ip6", "saddr") if op == "==" => some_sources = true,
                        _ => {}
                    }
                } else if let Some(ct) = left.get("ct") {
                    if ct.get("key").and_then(|k| k.as_str()) == Some("proto-dst") && op == "==" {
                        ports.extend(ports_of(right));
                    }
                }
                continue;
            }
            if e.get("return").is_some() {
                verdict = Some(Verdict::Return);
            } else if e.get("accept").is_some() {
                verdict = Some(Verdict::Accept);
            } else if e.get("drop").is_some() {
                verdict = Some(Verdict::Drop);
            } else if e.get("reject").is_some() {
                verdict = Some(Verdict::Reject);
            } else if let Some(j) = e.get("jump").or_else(|| e.get("goto")) {
                let t = j.get("target").and_then(|t| t.as_str()).unwrap_or("?");
                verdict = Some(Verdict::Jump(t.to_string()));
            } else if let Some(x) = e.get("xt") {
                let name = x.get("name").and_then(|n| n.as_str()).unwrap_or("");
                if x.get("type").and_then(|t| t.as_str()) == Some("match") {
                    opaque = true;
                }
                if x.get("type").and_then(|t| t.as_str()) == Some("target") {
                    match name {
                        "DNAT" => dnat = true,
                        "REJECT" => verdict = Some(Verdict::Reject),
                        other => verdict = Some(Verdict::Other(other.to_string())),
                    }
                }
            } else if let Some(d) = e.get("dnat") {
                dnat = true;
                let addr = d.get("addr").and_then(|a| a.as_str());
                let port = d.get("port").and_then(|p| p.as_u64());
                dest = match (addr, port) {
                    (Some(a), Some(p)) => Some(format!("{a}:{p}")),
                    (Some(a), None) => Some(a.to_string()),
                    _ => None,
                };
            }
        }
        if table == "nat" && chain == "DOCKER" && dnat {
            for port in &ports {
                out.published.push(Published {
                    proto: proto.clone().unwrap_or_else(|| "tcp".into()),
                    port: *port,
                    host_addr: daddr.clone(),
                    dest: dest.clone(),
                    origin: format!("nft {family} nat DOCKER handle {handle}"),
                });
            }
        }
        if table == "filter" && chain == "DOCKER-USER" {
            out.user.get_or_insert_with(Vec::new).push(UserRule {
                verdict: verdict.unwrap_or(Verdict::Other("continue".into())),
                ports,
                some_sources,
                opaque,
                text: format!("nft {family} filter DOCKER-USER handle {handle}"),
            });
        }
    }
    Ok(out)
}

/// Docker's chains in `iptables-save` output (legacy backend).
pub fn from_iptables_save(text: &str, tool: &str) -> DockerChains {
    let mut out = DockerChains::default();
    let mut table = "";
    for line in text.lines() {
        let line = line.trim();
        if let Some(t) = line.strip_prefix('*') {
            table = match t {
                "nat" => "nat",
                "filter" => "filter",
                _ => "",
            };
            continue;
        }
        if let Some(decl) = line.strip_prefix(':') {
            let name = decl.split_whitespace().next().unwrap_or("");
            if table == "nat" && name == "DOCKER" {
                out.present = true;
            }
            if table == "filter" && name == "DOCKER-USER" && out.user.is_none() {
                out.user = Some(Vec::new());
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("-A ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let Some((&chain, args)) = words.split_first() else {
            continue;
        };
        let mut proto = None;
        let mut ports = Vec::new();
        let mut daddr = None;
        let mut some_sources = false;
        let mut target = None;
        let mut dest = None;
        let mut negate = false;
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            let val = args.get(i + 1).copied();
            match a {
                "!" => {
                    negate = true;
                    i += 1;
                    continue;
                }
                "-p" | "--protocol" => proto = val.map(str::to_string),
                "--dport" | "--destination-port" | "--ctorigdstport" if !negate => {
                    ports.extend(val.and_then(port_range).unwrap_or_default());
                }
                "--dports" | "--destination-ports" if !negate => {
                    for p in val.unwrap_or("").split(',') {
                        ports.extend(port_range(p).unwrap_or_default());
                    }
                }
                "-d" | "--destination" if !negate => daddr = val.map(str::to_string),
                "-s" | "--source" if !negate => some_sources = true,
                "-j" | "-g" | "--jump" | "--goto" => target = val,
                "--to-destination" => dest = val.map(str::to_string),
                _ => {}
            }
            negate = false;
            i += if a.starts_with('-')
                && val.is_some_and(|v| !v.starts_with('-') || v.parse::<i64>().is_ok())
            {
                2
            } else {
                1
            };
        }
        if table == "nat" && chain == "DOCKER" && target == Some("DNAT") {
            for port in &ports {
                out.published.push(Published {
                    proto: proto.clone().unwrap_or_else(|| "tcp".into()),
                    port: *port,
                    host_addr: daddr.clone(),
                    dest: dest.clone(),
                    origin: format!("{tool} nat DOCKER"),
                });
            }
        }
        if table == "filter" && chain == "DOCKER-USER" {
            let verdict = match target {
                Some("RETURN") => Verdict::Return,
                Some("ACCEPT") => Verdict::Accept,
                Some("DROP") => Verdict::Drop,
                Some("REJECT") => Verdict::Reject,
                Some(other) => Verdict::Jump(other.to_string()),
                None => Verdict::Other("continue".into()),
            };
            out.user.get_or_insert_with(Vec::new).push(UserRule {
                verdict,
                ports,
                some_sources,
                opaque: false,
                text: format!("{tool}: {line}"),
            });
        }
    }
    out
}

/// `80`, `8000:8080` (iptables ranges), at most 1025 ports.
fn port_range(s: &str) -> Option<Vec<u16>> {
    match s.split_once(':') {
        Some((a, b)) => {
            let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b && b - a <= 1024).then(|| (a..=b).collect())
        }
        None => Some(vec![s.parse().ok()?]),
    }
}

/// How DOCKER-USER treats traffic to a published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filtering {
    /// A drop or reject covers it (for every source, or every source but some).
    Blocked(String),
    /// A rule may cover it but rempart cannot tell (a jump to another chain, some sources only).
    Unsure(String),
    Open,
}

/// What DOCKER-USER does with new connections to `p`.
pub fn filtering(user: Option<&[UserRule]>, p: &Published) -> Filtering {
    let Some(rules) = user else {
        return Filtering::Open;
    };
    let container = p.container_port();
    let mut unsure = None;
    for r in rules {
        let covers = r.ports.is_empty()
            || r.ports.contains(&p.port)
            || container.is_some_and(|c| r.ports.contains(&c));
        if !covers {
            continue;
        }
        match &r.verdict {
            Verdict::Drop | Verdict::Reject if !r.some_sources && !r.opaque => {
                return Filtering::Blocked(r.text.clone())
            }
            Verdict::Drop | Verdict::Reject | Verdict::Jump(_) => {
                unsure.get_or_insert_with(|| r.text.clone());
            }
            // A RETURN or ACCEPT for every port ends the chain for this port.
            Verdict::Return | Verdict::Accept
                if r.ports.is_empty() && !r.some_sources && !r.opaque =>
            {
                break
            }
            _ => {}
        }
    }
    match unsure {
        Some(t) => Filtering::Unsure(t),
        None => Filtering::Open,
    }
}

#[cfg(test)]
mod tests;
