//! The nftables side of the firewall fix: `/etc/nftables.conf` with a `policy drop` input chain,
//! and nftables.service enabled (Debian's unit runs `nft -f /etc/nftables.conf` and is wanted by
//! sysinit.target).
//!
//! When the file is absent or is Debian's stock one (chains without a rule), rempart writes the
//! whole file. Otherwise the admin's tables stay as they are and a table of rempart's own is
//! appended: netfilter runs every base chain of the input hook and a packet passes only if each
//! accepts it, so its `policy drop` closes what the other chains leave open, without editing
//! them (their drops still apply). It starts with `table inet rempart` / `delete table inet
//! rempart` so that loading the file again (`nft -f`, `systemctl reload nftables`) replaces it
//! rather than adding its rules twice.

use super::{list, Ports};
use crate::change::Intent;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::firewall::eval::By;
use rempart_audit::rules::firewall::model::L4;
use rempart_audit::rules::firewall::net::PortSet;
use rempart_audit::rules::firewall::nft::NFTABLES_CONF;
use rempart_audit::rules::firewall::source::{self, Firewall, Kind};

/// The name of rempart's own table when it is appended to the admin's ruleset.
pub const TABLE: &str = "rempart";

/// The input chain rempart writes: conntrack, loopback, the ICMP and ICMPv6 types IPv4 and IPv6
/// need (path MTU discovery, neighbour discovery, router advertisements, echo), DHCPv6 replies,
/// then the allowed ports.
pub fn input_chain(tcp: &[u16], udp: &[u16]) -> String {
    let mut s = String::from(
        "\tchain input {\n\
         \t\ttype filter hook input priority filter; policy drop;\n\
         \t\tct state established,related accept\n\
         \t\tct state invalid drop\n\
         \t\tiif \"lo\" accept\n\
         \t\ticmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } accept\n\
         \t\ticmpv6 type { echo-request, destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept\n\
         \t\tip6 saddr fe80::/10 udp sport 547 udp dport 546 accept\n",
    );
    if !tcp.is_empty() {
        s.push_str(&format!("\t\ttcp dport {{ {} }} accept\n", list(tcp)));
    }
    if !udp.is_empty() {
        s.push_str(&format!("\t\tudp dport {{ {} }} accept\n", list(udp)));
    }
    s.push_str("\t}\n");
    s
}

/// The whole file, for a host without one (or with Debian's stock one).
fn whole_file(header: &str, tcp: &[u16], udp: &[u16]) -> String {
    format!(
        "#!/usr/sbin/nft -f\n{header}\nflush ruleset\n\ntable inet filter {{\n{}\
         \tchain forward {{\n\t\ttype filter hook forward priority filter;\n\t}}\n\
         \tchain output {{\n\t\ttype filter hook output priority filter;\n\t}}\n}}\n",
        input_chain(tcp, udp)
    )
}

/// The block appended to an admin's ruleset.
fn appended(header: &str, tcp: &[u16], udp: &[u16]) -> String {
    format!(
        "\n{header}# Its own table: a packet must be accepted by every input chain, so this one's \
         policy drop\n# closes what the tables above leave open. Loading the file again replaces \
         it.\ntable inet {TABLE}\ndelete table inet {TABLE}\ntable inet {TABLE} {{\n{}}}\n",
        input_chain(tcp, udp)
    )
}

pub fn intents(ctx: &Ctx, fw: &Firewall, ports: &Ports) -> Result<(Vec<Intent>, String), String> {
    let header = crate::fixes::header("#", "FW-ACTIVE, FW-DEFAULT-DENY, FW-OPEN-PORTS");
    // The configuration as it is, judged whether nftables.service loads it at boot or not.
    let current = if fw.active == Some(Kind::Nftables) {
        fw.config.clone()
    } else if ctx.host.exists(NFTABLES_CONF) {
        Some(source::load(ctx, Kind::Nftables, None))
    } else {
        None
    };
    let current = match current {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            return Err(format!(
                "{NFTABLES_CONF} cannot be judged ({}): fix it first",
                e.outcome().message
            ))
        }
    };
    // UDP ports the admin opened and allowed_ports lists stay open (WireGuard, DNS ...).
    let udp: Vec<u16> = current.as_ref().map_or_else(Vec::new, |c| {
        // Opened by a rule naming ports, not by a policy or a catch-all accept.
        let mut open = PortSet::default();
        for o in &c.analysis.open {
            if o.l4 == L4::Udp && o.by.by == By::Rule && o.ports.count() < 65536 {
                open.extend(&o.ports);
            }
        }
        ports
            .allowed
            .iter()
            .copied()
            .filter(|p| open.contains(*p))
            .collect()
    });
    let existing = ctx
        .host
        .read_text(NFTABLES_CONF)
        .map_err(|e| e.to_string())?;
    let stock = current
        .as_ref()
        .is_some_and(|c| c.ruleset.chains.iter().all(|ch| ch.rules.is_empty()));
    // Debian ships the file 0755 (it starts with #!/usr/sbin/nft -f); an existing file keeps its
    // mode and owner.
    let (mode, uid, gid) = ctx
        .host
        .metadata(NFTABLES_CONF)
        .map_err(|e| e.to_string())?
        .map_or((0o755, 0, 0), |m| (m.mode, m.uid, m.gid));
    let udp_text = if udp.is_empty() {
        String::new()
    } else {
        format!(", udp {}", list(&udp))
    };
    let (content, what) = match existing {
        Some(f) if !stock => {
            let mut text = f.text.clone();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&appended(&header, &ports.tcp, &udp));
            (
                text,
                format!(
                    "nftables: append table inet {TABLE} to {NFTABLES_CONF} (input policy drop; \
                     tcp {} open{udp_text})",
                    list(&ports.tcp)
                ),
            )
        }
        _ => (
            whole_file(&header, &ports.tcp, &udp),
            format!(
                "nftables: write {NFTABLES_CONF} (input policy drop; tcp {} open{udp_text})",
                list(&ports.tcp)
            ),
        ),
    };
    let mut intents = vec![Intent::Write {
        path: NFTABLES_CONF.into(),
        content: content.into_bytes(),
        mode,
        uid,
        gid,
    }];
    let enable = super::enable_unit(ctx, Kind::Nftables.unit(), "sysinit.target")?;
    let what = if enable.is_empty() {
        what
    } else {
        format!("{what}; enable nftables.service at boot")
    };
    intents.extend(enable);
    Ok((intents, what))
}
