//! Access remains: before a plan with unsafe fixes is applied, show that the admin can still get
//! in once it is. The plan's changes are written over copies of the files that decide it in a
//! [`scratch`] tree (the host is only read), and the audit's own ssh family judges that tree:
//!
//! - (a) SSH-ADMIN-KEY passes: a non-root sudo-capable account with a login shell has a key line
//!   in an authorized keys file sshd reads for it (StrictModes included), public key logins are
//!   on, and AllowUsers/DenyUsers/AllowGroups/DenyGroups let it in; and for such an account the
//!   `AuthenticationMethods` in force can be satisfied;
//! - (b) the SSH port stays: the port of the admin's session (when known) is still one sshd
//!   listens on, and when the plan changes the firewall or the SSH ports, a firewall check
//!   ([`FIREWALL`], provided by the firewall family) shows the ports let in; without one, such a
//!   plan is refused (nothing shows the port stays open);
//! - (c) the admin's address is not shut out: when it is known (`SSH_CONNECTION` on a live host,
//!   or given), the account above is evaluated for a connection from it (`Match Address` blocks,
//!   `AllowUsers user@host`, `DenyUsers user@host`), the firewall check judges packets from it,
//!   and when the plan changes fail2ban, its sshd jail must list it in `ignoreip`.
//!
//! It decides nothing about safe fixes and never changes the host.

pub mod firewall;
pub mod scratch;

use crate::plan::Plan;
use crate::validate::Group;
use crate::HardenError;
use rempart_audit::host::{Host, User};
use rempart_audit::model::Status;
use rempart_audit::rule::{Ctx, Facts};
use rempart_audit::rules::ssh::effective::Effective;
use rempart_audit::rules::ssh::keywords::Kw;
use rempart_audit::rules::ssh::matching::{
    addr_match_list, match_pattern, match_pattern_list, AddrMatch, Conn,
};
use rempart_audit::rules::ssh::{admin_key, Loaded, SshdConfig};
use rempart_audit::AuditConfig;
use serde::Serialize;
use std::net::IpAddr;

/// Where the admin connects from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Client {
    pub addr: IpAddr,
    /// The server address and port of the admin's session (from `SSH_CONNECTION`).
    pub server_addr: Option<IpAddr>,
    pub server_port: Option<u16>,
}

impl Client {
    /// `SSH_CONNECTION`: `client_ip client_port server_ip server_port`.
    pub fn from_ssh_connection(value: &str) -> Option<Client> {
        let f: Vec<&str> = value.split_whitespace().collect();
        if f.len() != 4 {
            return None;
        }
        Some(Client {
            addr: f[0].parse().ok()?,
            server_addr: f[2].parse().ok(),
            server_port: f[3].parse().ok(),
        })
    }
}

/// A firewall check: on the host as it will be (`after`), does the firewall configured to load
/// at boot let TCP `ports` in (from `client`, when known)? `Ok` says how, `Err` what blocks.
pub type FirewallCheck =
    fn(after: &Ctx, ports: &[u16], client: Option<&Client>) -> Result<String, String>;

/// The firewall family's check ([`firewall::check`]: its `Firewall` fact and evaluator judge
/// ufw, nftables and iptables-persistent configurations). With `None`, a plan that changes the
/// firewall or the SSH ports is refused.
pub const FIREWALL: Option<FirewallCheck> = Some(firewall::check);

/// The verdict: `ok` when every check shows access remains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    pub ok: bool,
    /// The accounts that can still log in with a key, and where their keys are.
    pub admins: Vec<String>,
    /// What is missing for access to remain (empty when `ok`).
    pub missing: Vec<String>,
    /// What was checked and held.
    pub checked: Vec<String>,
    /// The admin's address the checks used, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
}

/// Show whether access remains once `plan` is applied to `host`.
pub fn check(
    host: &Host,
    config: &AuditConfig,
    plan: &Plan,
    client: Option<&Client>,
) -> Result<Access, HardenError> {
    let facts = Facts::default();
    let before = Ctx {
        host,
        config,
        facts: &facts,
    };
    let before_ssh = before.fact::<SshdConfig>();
    let before_loaded = match &*before_ssh {
        SshdConfig::Loaded(l) => Some(l.as_ref()),
        _ => None,
    };
    // Every file the sshd configuration includes, and every authorized keys file of an admin.
    let mut extra: Vec<String> = Vec::new();
    if let Some(l) = before_loaded {
        extra.extend(l.parsed.files.iter().map(|f| f.path.clone()));
        extra.extend(key_files(l));
    }
    let packages = before.fact::<rempart_audit::facts::Packages>();
    let mut tree = scratch::Scratch::of_plan(host, &packages, plan, &extra)?;
    let after_host = tree.host()?;
    // The plan may point sshd at other key files: copy those too, then judge.
    {
        let facts = Facts::default();
        let ctx = Ctx {
            host: &after_host,
            config,
            facts: &facts,
        };
        if let SshdConfig::Loaded(l) = &*ctx.fact::<SshdConfig>() {
            for f in key_files(l) {
                if !extra.contains(&f) {
                    tree.copy(host, &f)?;
                }
            }
        }
    }
    let facts = Facts::default();
    let after = Ctx {
        host: &after_host,
        config,
        facts: &facts,
    };
    let mut access = Access {
        ok: false,
        admins: Vec::new(),
        missing: Vec::new(),
        checked: Vec::new(),
        client: client.cloned(),
    };
    let before_ports = before_loaded
        .and_then(|l| l.default.as_ref().ok())
        .map(ports)
        .unwrap_or_default();
    let after_ssh = after.fact::<SshdConfig>();
    let mut after_ports = Vec::new();
    match &*after_ssh {
        SshdConfig::NotInstalled => access
            .checked
            .push("no OpenSSH server on this host: nothing to keep open over SSH".into()),
        SshdConfig::Loaded(l) => {
            after_ports = ssh_access(&after, l, client, &mut access);
        }
        _ => {
            let why = rempart_audit::rules::ssh::judged(&after)
                .err()
                .map_or_else(|| "cannot be read".to_string(), |o| o.message);
            access
                .missing
                .push(format!("after the plan, sshd's configuration {why}"));
        }
    }
    firewall(
        plan,
        &after,
        &before_ports,
        &after_ports,
        client,
        &mut access,
    );
    if let Some(c) = client {
        if plan
            .changes
            .iter()
            .any(|ch| Group::of(&ch.path) == Group::Fail2ban)
        {
            match firewall::fail2ban_ignores(&after, c) {
                Ok(how) => access.checked.push(how),
                Err(why) => access.missing.push(why),
            }
        }
    }
    access.ok = access.missing.is_empty();
    Ok(access)
}

/// Every authorized keys file an admin may have: each `AuthorizedKeysFile` value of the
/// configuration (any line, any Match block) and sshd's default, expanded for each admin.
fn key_files(l: &Loaded) -> Vec<String> {
    let mut patterns: Vec<String> = rempart_audit::rules::ssh::defaults::DEFAULT_AUTHORIZED_KEYS
        .iter()
        .map(|s| s.to_string())
        .collect();
    for d in &l.parsed.directives {
        if d.kw == Kw::AuthorizedKeysFile {
            if let rempart_audit::rules::ssh::values::Val::Words(w) = &d.val {
                patterns.extend(w.iter().cloned());
            }
        }
    }
    let mut out = Vec::new();
    for u in l.users.admins() {
        for p in &patterns {
            if p.eq_ignore_ascii_case("none") {
                continue;
            }
            let path = admin_key::expand(p, u);
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
    out
}

/// The TCP ports sshd listens on.
pub(crate) fn ports(eff: &Effective) -> Vec<u16> {
    let mut out: Vec<u16> = eff
        .list(Kw::Port)
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    for a in eff.listen_addresses() {
        if let Some(p) = a.rsplit_once(':').and_then(|(_, p)| p.parse().ok()) {
            out.push(p);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Checks (a), (c) and the sshd side of (b) on the configuration after the plan. Returns the
/// ports sshd will listen on.
fn ssh_access(after: &Ctx, l: &Loaded, client: Option<&Client>, access: &mut Access) -> Vec<u16> {
    let rule = (admin_key::RULE.check)(after);
    if rule.status == Status::Pass {
        access
            .checked
            .push(format!("SSH-ADMIN-KEY after the plan: {}", rule.message));
    } else {
        let mut why = format!("SSH-ADMIN-KEY after the plan: {}", rule.message);
        let notes: Vec<String> = rule
            .evidence
            .iter()
            .filter_map(|e| {
                let place = e.path.clone().unwrap_or_default();
                e.note
                    .as_ref()
                    .map(|n| format!("{place}: {n}"))
                    .or_else(|| e.actual.as_ref().map(|a| format!("{place}: {a}")))
            })
            .collect();
        if !notes.is_empty() {
            why.push_str(&format!(" ({})", notes.join("; ")));
        }
        access.missing.push(why);
    }
    let mut refusals = Vec::new();
    for u in l.users.admins() {
        if u.uid == 0 || !u.has_login_shell() {
            continue;
        }
        match key_login(after.host, l, u, client) {
            Ok(how) => access.admins.push(format!("{} ({how})", u.name)),
            Err(why) => refusals.push(format!("{}: {why}", u.name)),
        }
    }
    let from = client
        .map(|c| format!(" from {}", c.addr))
        .unwrap_or_default();
    if access.admins.is_empty() {
        if rule.status == Status::Pass || client.is_some() {
            access.missing.push(format!(
                "no sudo-capable account could log in with a key{from}: {}",
                if refusals.is_empty() {
                    "there is none".to_string()
                } else {
                    refusals.join("; ")
                }
            ));
        }
    } else {
        access.checked.push(format!(
            "key login{from} after the plan: {}",
            access.admins.join(", ")
        ));
    }
    let eff = match l.default.as_ref() {
        Ok(e) => e,
        Err(e) => {
            access.missing.push(format!("after the plan: {e}"));
            return Vec::new();
        }
    };
    let after_ports = ports(eff);
    if let Some(port) = client.and_then(|c| c.server_port) {
        let server = client.and_then(|c| c.server_addr);
        let listens = eff.listen_addresses().iter().any(|a| {
            let Some((h, p)) = a.rsplit_once(':') else {
                return false;
            };
            let h = h.trim_start_matches('[').trim_end_matches(']');
            p.parse() == Ok(port)
                && (h == "0.0.0.0"
                    || h == "::"
                    || server.is_none_or(|s| h.parse::<IpAddr>() == Ok(s)))
        });
        if listens {
            access.checked.push(format!(
                "sshd still listens on port {port}, which this session uses"
            ));
        } else {
            access.missing.push(format!(
                "after the plan sshd no longer listens on port {port}{}, which this session uses",
                server.map(|s| format!(" of {s}")).unwrap_or_default()
            ));
        }
    }
    after_ports
}

/// Can `u` log in with a key once the plan is applied (from `client`, when known)? `Ok` names
/// the key file.
fn key_login(host: &Host, l: &Loaded, u: &User, client: Option<&Client>) -> Result<String, String> {
    let conn = Conn {
        user: Some(u.name.clone()),
        addr: client.map(|c| c.addr.to_string()),
        laddr: client.and_then(|c| c.server_addr).map(|a| a.to_string()),
        lport: client.and_then(|c| c.server_port),
        ..Conn::default()
    };
    let eff = l.for_conn(&conn, false).map_err(|e| e.to_string())?;
    let groups = l.groups_of(&u.name).unwrap_or_default();
    let addr = conn.addr.as_deref();
    allowed(&eff, &u.name, &groups, addr)?;
    if !eff.flag(Kw::PubkeyAuthentication) {
        return Err("PubkeyAuthentication is off".into());
    }
    methods_allow_key(&eff)?;
    if eff
        .text(Kw::AuthorizedKeysCommand)
        .is_some_and(|c| !c.eq_ignore_ascii_case("none"))
    {
        return Err(
            "its keys would come from AuthorizedKeysCommand, which rempart does not run".into(),
        );
    }
    let strict = eff.flag(Kw::StrictModes);
    let mut last = "no AuthorizedKeysFile".to_string();
    for pattern in eff.list(Kw::AuthorizedKeysFile) {
        if pattern.eq_ignore_ascii_case("none") {
            continue;
        }
        let path = admin_key::expand(pattern, u);
        let keys = match host.read_text(&path) {
            Ok(Some(f)) => f
                .text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .count(),
            Ok(None) => {
                last = format!("{path} is missing");
                continue;
            }
            Err(e) => {
                last = e.to_string();
                continue;
            }
        };
        if keys == 0 {
            last = format!("{path} holds no key");
            continue;
        }
        if strict {
            if let Some(bad) = admin_key::unsafe_path(host, &path, u) {
                last = format!("StrictModes: sshd ignores {path} because {bad}");
                continue;
            }
        }
        return Ok(format!("{keys} key(s) in {path}"));
    }
    Err(last)
}

/// sshd's `allowed_user` access lists. With the address known, `user@host` entries are judged
/// on it (sshd with `UseDNS no` matches host patterns against the address); without it, an
/// Allow entry counts by its user part and a Deny entry with a host part is not judged.
fn allowed(
    eff: &Effective,
    user: &str,
    groups: &[String],
    addr: Option<&str>,
) -> Result<(), String> {
    let entry_matches = |entry: &str, unknown: bool| -> bool {
        match entry.split_once('@') {
            None => match_pattern(user, entry),
            Some((u, h)) => {
                match_pattern(user, u)
                    && match addr {
                        None => unknown,
                        Some(a) => host_matches(a, h),
                    }
            }
        }
    };
    if let Some(e) = eff
        .list(Kw::DenyUsers)
        .iter()
        .find(|e| entry_matches(e, false))
    {
        return Err(format!("DenyUsers {e} refuses it"));
    }
    let allow = eff.list(Kw::AllowUsers);
    if !allow.is_empty() && !allow.iter().any(|e| entry_matches(e, true)) {
        return Err(match addr {
            Some(a) => format!("AllowUsers {} does not let it in from {a}", allow.join(" ")),
            None => format!("AllowUsers {} does not name it", allow.join(" ")),
        });
    }
    let in_list = |list: &[String]| {
        groups
            .iter()
            .any(|g| list.iter().any(|p| match_pattern(g, p)))
    };
    if in_list(eff.list(Kw::DenyGroups)) {
        return Err("DenyGroups refuses one of its groups".into());
    }
    let allow_g = eff.list(Kw::AllowGroups);
    if !allow_g.is_empty() && !in_list(allow_g) {
        return Err(format!(
            "it is in none of AllowGroups {}",
            allow_g.join(" ")
        ));
    }
    Ok(())
}

/// `match_host_and_ip` with the address standing for the host name.
fn host_matches(addr: &str, patterns: &str) -> bool {
    match addr_match_list(Some(addr), patterns) {
        AddrMatch::Match => true,
        AddrMatch::Negated | AddrMatch::Invalid => false,
        AddrMatch::NoMatch => match_pattern_list(&addr.to_ascii_lowercase(), patterns, true) == 1,
    }
}

/// Some `AuthenticationMethods` list can be completed with a key (and methods still enabled).
fn methods_allow_key(eff: &Effective) -> Result<(), String> {
    let lists = eff.list(Kw::AuthenticationMethods);
    if lists.is_empty() || lists.iter().any(|l| l == "any") {
        return Ok(());
    }
    let enabled = |m: &str| match m.split(':').next().unwrap_or(m) {
        "publickey" => true,
        "password" => eff.flag(Kw::PasswordAuthentication),
        "keyboard-interactive" => eff.flag(Kw::KbdInteractiveAuthentication),
        _ => false,
    };
    let ok = lists.iter().any(|l| {
        let methods: Vec<&str> = l.split(',').collect();
        methods.contains(&"publickey") && methods.iter().all(|m| enabled(m))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "AuthenticationMethods {} cannot be completed with a key and the methods left on",
            lists.join(" ")
        ))
    }
}

/// Paths whose change can close the SSH port or ban the admin: firewall and fail2ban.
fn touches_firewall(path: &str) -> bool {
    matches!(
        Group::of(path),
        Group::Nftables | Group::Ufw | Group::Fail2ban
    ) || path.starts_with("/etc/iptables/")
}

/// Check (b) on the firewall side.
fn firewall(
    plan: &Plan,
    after: &Ctx,
    before_ports: &[u16],
    after_ports: &[u16],
    client: Option<&Client>,
    access: &mut Access,
) {
    let changed: Vec<&str> = plan
        .changes
        .iter()
        .map(|c| c.path.as_str())
        .filter(|p| touches_firewall(p))
        .collect();
    let new_ports = after_ports != before_ports;
    if changed.is_empty() && !new_ports {
        access
            .checked
            .push("the plan changes neither the firewall nor the SSH ports".into());
        return;
    }
    let what = if changed.is_empty() {
        format!(
            "the SSH ports change ({} -> {})",
            list(before_ports),
            list(after_ports)
        )
    } else {
        format!("the plan changes {}", changed.join(", "))
    };
    match FIREWALL {
        Some(check) => match check(after, after_ports, client) {
            Ok(how) => access.checked.push(format!("{what}; firewall: {how}")),
            Err(why) => access.missing.push(format!("{what}; firewall: {why}")),
        },
        None => access.missing.push(format!(
            "{what}, and this build cannot evaluate the firewall to show port(s) {} stay open: make that change by hand",
            list(after_ports)
        )),
    }
}

fn list(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests;
