//! The firewall side of the access check ([`super::FIREWALL`]): on the host as the plan leaves it,
//! does every firewall loaded at boot let a new TCP connection to the SSH ports in, from the
//! admin's address when it is known? It reuses the firewall family of the audit: the
//! [`Firewall`] fact decides what loads at boot, [`source::load`] parses ufw, nftables or
//! iptables-persistent files into one model, and [`eval::judge`] walks the input chains for one
//! packet.
//!
//! It errs towards "blocked": a verdict that depends on a condition rempart cannot read, or a
//! configuration it cannot parse, is not shown to let the admin in. It does not judge firewalld.

use super::Client;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::firewall::eval::{self, By, Decision, Probe};
use rempart_audit::rules::firewall::model::{Ip, L4};
use rempart_audit::rules::firewall::source::{self, ipv6_disabled, Config, ConfigError, Firewall};
use rempart_audit::rules::firewall::ufw;
use std::net::IpAddr;

/// See [`super::FirewallCheck`].
pub fn check(after: &Ctx, ports: &[u16], client: Option<&Client>) -> Result<String, String> {
    let fw = after.fact::<Firewall>();
    if let Some(e) = &fw.error {
        return Err(format!("cannot tell which firewall loads at boot: {e}"));
    }
    if ports.is_empty() {
        return Ok("no SSH port to keep open".into());
    }
    let at_boot: Vec<_> = fw.candidates.iter().filter(|c| c.at_boot).collect();
    if at_boot.is_empty() {
        return Ok(format!(
            "no firewall loads at boot: nothing filters port(s) {}",
            list(ports)
        ));
    }
    let mut how = Vec::new();
    for cand in at_boot {
        let loaded;
        let config = if Some(cand.kind) == fw.active {
            match &fw.config {
                Some(c) => c,
                None => return Err(format!("{} could not be read", cand.kind.name())),
            }
        } else {
            let settings = ufw::load_settings(after.host).ok().flatten();
            loaded = source::load(after, cand.kind, settings);
            &loaded
        };
        let config = config
            .as_ref()
            .map_err(|e| config_error(cand.kind.name(), e))?;
        how.push(judge_config(after, config, ports, client)?);
    }
    Ok(how.join("; "))
}

fn config_error(tool: &str, e: &ConfigError) -> String {
    match e {
        ConfigError::Host(h) => format!("{tool}'s configuration cannot be read: {h}"),
        ConfigError::Parse(p) => format!("{tool}'s configuration cannot be parsed: {p}"),
        ConfigError::Unsupported(k) => format!(
            "{} loads at boot and rempart does not evaluate its configuration",
            k.name()
        ),
    }
}

/// Every port, for the client's family (or both when the client is unknown), must be accepted
/// surely, with no drop that may come first.
fn judge_config(
    after: &Ctx,
    config: &Config,
    ports: &[u16],
    client: Option<&Client>,
) -> Result<String, String> {
    let tool = config.kind.name();
    let families: Vec<Ip> = match client.map(|c| c.addr) {
        Some(IpAddr::V4(_)) => vec![Ip::V4],
        Some(IpAddr::V6(a)) if a.to_ipv4_mapped().is_some() => vec![Ip::V4],
        Some(IpAddr::V6(_)) => vec![Ip::V6],
        None => Ip::BOTH.to_vec(),
    };
    let src = client.map(|c| match c.addr {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(c.addr, IpAddr::V4),
        v4 => v4,
    });
    let from = src.map(|a| format!(" from {a}")).unwrap_or_default();
    let mut held = Vec::new();
    for ip in families {
        if ip == Ip::V6 && client.is_none() {
            if ipv6_disabled(after) {
                continue;
            }
            // With the address unknown, a family the firewall lets nothing into (ufw's IPV6=no)
            // is one the admin cannot be using now either.
            let a = &config.analysis;
            let closed = a.open_ports_of(Ip::V6, L4::Tcp).is_empty()
                && a.open_ports_of(Ip::V6, L4::Udp).is_empty()
                && !a.restricted.iter().any(|r| r.ip == Ip::V6);
            if closed {
                held.push(format!("{tool} accepts no new IPv6 connection at all"));
                continue;
            }
        }
        for &port in ports {
            let j = eval::judge(
                &config.ruleset,
                Probe {
                    ip,
                    l4: L4::Tcp,
                    port,
                    src,
                },
            );
            let what = format!("tcp/{port} ({}){from}", ip.as_str());
            match (j.accept, j.drop) {
                (Some(a), None) if a.sure => held.push(format!("{what} {}", accepted(&a))),
                (Some(_), Some(d)) | (None, Some(d)) if !d.sure => {
                    return Err(format!(
                        "{tool} may drop {what} at {} (`{}`): rempart cannot read all of that \
                         rule's conditions, so it cannot show the port stays open",
                        d.loc.short(),
                        d.loc.text
                    ))
                }
                (_, Some(d)) => {
                    return Err(format!(
                        "{tool} drops {what} {}",
                        dropped(&d)
                    ))
                }
                (Some(a), None) => {
                    return Err(format!(
                        "{tool} accepts {what} only through a rule rempart cannot read in full ({} `{}`)",
                        a.loc.short(),
                        a.loc.text
                    ))
                }
                (None, None) => return Err(format!("no rule of {tool} accepts {what}")),
            }
        }
    }
    Ok(format!("{tool} lets in {}", held.join(", ")))
}

fn accepted(d: &Decision) -> String {
    match d.by {
        By::Rule => format!("(accepted at {})", d.loc.short()),
        By::Policy => format!("(the input policy accepts it, {})", d.loc.short()),
        By::NoFilter => "(no input chain filters this family)".into(),
    }
}

fn dropped(d: &Decision) -> String {
    match d.by {
        By::Policy => format!(
            "(no rule accepts it and the input policy drops, {})",
            d.loc.short()
        ),
        _ => format!("at {} (`{}`)", d.loc.short(), d.loc.text),
    }
}

fn list(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Check (c) for fail2ban: when the admin's address is known and the plan changes fail2ban's
/// configuration, the sshd jail it leaves enabled must list that address in `ignoreip` (an
/// address, a CIDR range or a range rempart can read; host names do not count).
pub fn fail2ban_ignores(after: &Ctx, client: &Client) -> Result<String, String> {
    use rempart_audit::rules::intrusion::ips::Ips;
    let ips = after.fact::<Ips>();
    let cfg = match &ips.config {
        None => return Ok("no fail2ban jail configuration".into()),
        Some(Err(e)) => return Err(format!("fail2ban's configuration cannot be read: {e}")),
        Some(Ok(c)) => c,
    };
    let jail = cfg.jail("sshd").map_err(|e| e.to_string())?;
    if !jail.is_enabled() {
        return Ok("fail2ban's sshd jail is off".into());
    }
    let ignore = cfg
        .get("sshd", "ignoreip")
        .map_err(|e| e.to_string())?
        .map(|r| r.value)
        .unwrap_or_default();
    let items = ignore.split_whitespace().collect::<Vec<_>>().join(",");
    match eval::source_contains(&items, client.addr) {
        Some(true) => Ok(format!(
            "fail2ban's sshd jail ignores {} (ignoreip = {ignore})",
            client.addr
        )),
        _ => {
            Err(format!(
            "fail2ban's sshd jail would ban {} after failed logins: its ignoreip ({}) does not \
             list it; add it to the [sshd] ignoreip of {} by hand",
            client.addr,
            if ignore.is_empty() { "unset" } else { ignore.as_str() },
            crate::fixes::intrusion_dropin()
        ))
        }
    }
}
