//! Fixes of the firewall family. FW-ACTIVE, FW-DEFAULT-DENY and FW-OPEN-PORTS share one fix: the
//! firewall state the guides describe (seed 000 §3, seed 002 Phase 1 §6), loaded at boot, with
//! incoming traffic dropped by default and only the intended TCP ports (rempart.toml
//! `allowed_ports`, 22/80/443 by default) let in, the SSH ports first. Each rule's fix returns
//! the same intents, so they compose and a second plan is empty.
//!
//! - ufw (when it is installed: the admin chose it): `ENABLED=yes` in ufw.conf, ufw.service
//!   enabled, `DEFAULT_INPUT_POLICY="DROP"`, `ufw allow PORT/tcp` tuples added to user.rules and
//!   user6.rules and the tuples opening other ports removed ([`ufw`]);
//! - nftables (Debian's default): a `policy drop` input chain in `/etc/nftables.conf` (the whole
//!   file when it is absent or Debian's empty stock one, else a table of its own appended, which
//!   closes what the existing chains leave open without touching them) and nftables.service
//!   enabled ([`nft`]).
//!
//! Fixes are unsafe (a default deny can cut remote access): the access check evaluates the
//! result for the SSH ports. iptables-persistent and firewalld configurations, and hosts without
//! a firewall package, are left to the admin with the reason. FW-LIVE-RULESET and
//! FW-DOCKER-BYPASS judge the running kernel and are in [`super::MANUAL`].

mod nft;
mod ufw;

use crate::change::{Fix, Intent, Safety};
use rempart_audit::facts::{Packages, Units};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::firewall::source::{Firewall, Kind};
use rempart_audit::rules::ssh::SshdConfig;

/// FW-ACTIVE, FW-DEFAULT-DENY, FW-OPEN-PORTS.
pub fn firewall(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let fw = ctx.fact::<Firewall>();
    if let Some(e) = &fw.error {
        return Err(format!("cannot tell which firewall is installed: {e}"));
    }
    let installed = |k: Kind| fw.candidates.iter().any(|c| c.kind == k);
    let kind = match fw.active {
        Some(k) => k,
        None if installed(Kind::Ufw) => Kind::Ufw,
        None if installed(Kind::Nftables) => Kind::Nftables,
        None if installed(Kind::Iptables) => Kind::Iptables,
        None => {
            return Err(
                "no firewall package is installed (ufw, nftables) and this tree has no apt of \
                        its own: `apt install nftables` (Debian's default) or ufw, then plan \
                        again (on the live host or a Debian root, harden installs nftables first)"
                    .into(),
            )
        }
    };
    let ports = Ports::of(ctx)?;
    let (intents, what) = match kind {
        Kind::Ufw => ufw::intents(ctx, &fw, &ports)?,
        Kind::Nftables => nft::intents(ctx, &fw, &ports)?,
        Kind::Iptables => {
            return Err(
                "iptables-persistent loads the firewall: set `:INPUT DROP` and the \
                        ACCEPT rules in /etc/iptables/rules.v4 and rules.v6 by hand (or move to \
                        nftables); rempart does not rewrite iptables-save files"
                    .into(),
            )
        }
        Kind::Firewalld => {
            return Err(
                "firewalld manages the firewall: `firewall-cmd --permanent` with the \
                        zone's services; rempart does not write firewalld's configuration"
                    .into(),
            )
        }
    };
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: what,
        safety: Safety::Unsafe(if ports.ssh.is_empty() {
            "a default deny firewall cuts every connection it does not allow (no SSH server \
             here)"
                .to_string()
        } else {
            format!(
                "a default deny firewall cuts every connection it does not allow; SSH port(s) {} \
                 are allowed first, and the access check evaluates the result",
                list(&ports.ssh)
            )
        }),
        intents,
    }))
}

/// The ports the fix lets in.
#[derive(Debug, Clone)]
pub struct Ports {
    /// TCP ports to allow: `allowed_ports` and sshd's ports, sorted.
    pub tcp: Vec<u16>,
    /// sshd's ports (also in `tcp`).
    pub ssh: Vec<u16>,
    /// rempart.toml's `allowed_ports` (TCP or UDP).
    pub allowed: Vec<u16>,
}

impl Ports {
    fn of(ctx: &Ctx) -> Result<Ports, String> {
        let ssh = match &*ctx.fact::<SshdConfig>() {
            SshdConfig::NotInstalled => Vec::new(),
            SshdConfig::Loaded(l) => match l.default.as_ref() {
                Ok(eff) => crate::lockout::ports(eff),
                Err(e) => {
                    return Err(format!(
                        "sshd's configuration cannot be evaluated ({e}): cannot tell which port \
                         to keep open"
                    ))
                }
            },
            _ => {
                return Err(
                    "sshd's configuration cannot be read: cannot tell which port to keep open"
                        .into(),
                )
            }
        };
        let allowed = ctx.config.allowed_ports.clone();
        if let Some(p) = ssh.iter().find(|p| !allowed.contains(p)) {
            return Err(format!(
                "sshd listens on port {p}, which `allowed_ports` in rempart.toml does not list: \
                 add it there (a firewall without it would lock you out)"
            ));
        }
        let mut tcp: Vec<u16> = allowed.iter().chain(&ssh).copied().collect();
        tcp.sort_unstable();
        tcp.dedup();
        Ok(Ports { tcp, ssh, allowed })
    }
}

/// Intents enabling `unit` at boot with the link `systemctl enable` makes in
/// `/etc/systemd/system/TARGET.wants/`, or nothing when it is enabled.
pub fn enable_unit(ctx: &Ctx, unit: &str, target: &str) -> Result<Vec<Intent>, String> {
    let units = ctx.fact::<Units>();
    if units.masked.contains(unit) {
        return Err(format!(
            "{unit} is masked: `systemctl unmask {unit}` by hand if it should run"
        ));
    }
    if units.is_enabled(unit) {
        return Ok(Vec::new());
    }
    let path = match units.path(unit) {
        Some(p) => p.to_string(),
        // The plan installs the package first: its unit lands where Debian packages put them.
        None if crate::packages::unit_planned(&ctx.fact::<Packages>(), unit) => {
            format!("/lib/systemd/system/{unit}")
        }
        None => return Err(format!("{unit} has no unit file: is the package complete?")),
    };
    Ok(vec![Intent::Symlink {
        path: format!("/etc/systemd/system/{target}.wants/{unit}"),
        target: path,
    }])
}

pub fn list(ports: &[u16]) -> String {
    if ports.is_empty() {
        return "none".into();
    }
    ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
