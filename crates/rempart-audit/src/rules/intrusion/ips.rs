//! Which intrusion prevention the host runs (the [`Ips`] fact): fail2ban (package, unit,
//! merged jail configuration), rempart guard, or CrowdSec with a firewall bouncer (recognised,
//! not judged).

use super::fail2ban::{self, Fail2banConfig, Jail};
use super::guard::Guard;
use crate::facts::packages::DPKG_STATUS;
use crate::facts::{Packages, Units};
use crate::host::HostError;
use crate::model::Evidence;
use crate::rule::{Ctx, Fact, Outcome};

pub const FAIL2BAN_UNIT: &str = "fail2ban.service";

/// The intrusion prevention fact.
#[derive(Debug, Clone, Default)]
pub struct Ips {
    pub fail2ban_installed: bool,
    pub fail2ban_enabled: bool,
    /// Evidence of the fail2ban package and unit state.
    pub fail2ban_evidence: Vec<Evidence>,
    /// The merged jail configuration (`None` when there is none).
    pub config: Option<Result<Fail2banConfig, fail2ban::LoadError>>,
    pub guard: Guard,
    /// CrowdSec engine and a firewall bouncer, both enabled.
    pub crowdsec: bool,
    pub packages_error: Option<HostError>,
}

impl Fact for Ips {
    fn collect(ctx: &Ctx) -> Ips {
        let pkgs = ctx.fact::<Packages>();
        let units = ctx.fact::<Units>();
        let host = ctx.host;
        let fail2ban_installed = pkgs.is_installed("fail2ban")
            || (!pkgs.known() && host.exists("/etc/fail2ban/jail.conf"));
        let fail2ban_enabled = fail2ban_installed && units.is_enabled(FAIL2BAN_UNIT);
        let mut fail2ban_evidence = Vec::new();
        if fail2ban_installed {
            let path = units.path(FAIL2BAN_UNIT).map_or_else(
                || format!("/lib/systemd/system/{FAIL2BAN_UNIT}"),
                str::to_string,
            );
            let state = if units.masked.contains(FAIL2BAN_UNIT) {
                "masked"
            } else if fail2ban_enabled {
                "enabled"
            } else if units.files.contains_key(FAIL2BAN_UNIT) {
                "disabled"
            } else {
                "no unit file"
            };
            fail2ban_evidence.push(
                Evidence::file(path)
                    .key(FAIL2BAN_UNIT)
                    .actual(state)
                    .expected("enabled"),
            );
        } else {
            fail2ban_evidence.push(
                Evidence::file(DPKG_STATUS)
                    .key("fail2ban")
                    .actual("not installed")
                    .expected("installed"),
            );
        }
        let config = fail2ban::load(host).transpose();
        let crowdsec = units.is_enabled("crowdsec.service")
            && [
                "crowdsec-firewall-bouncer.service",
                "crowdsec-firewall-bouncer-nftables.service",
                "crowdsec-firewall-bouncer-iptables.service",
            ]
            .iter()
            .any(|u| units.is_enabled(u));
        Ips {
            fail2ban_installed,
            fail2ban_enabled,
            fail2ban_evidence,
            config,
            guard: Guard::load(host, &units),
            crowdsec,
            packages_error: pkgs.error.clone(),
        }
    }
}

/// What an sshd-jail rule judges.
pub enum Subject<'a> {
    /// rempart guard protects sshd.
    Guard(Evidence),
    /// fail2ban's sshd jail.
    Fail2ban(Jail, &'a Fail2banConfig),
}

/// The sshd jail to judge, or the outcome when there is nothing to judge.
pub fn sshd_subject<'a>(ctx: &Ctx, ips: &'a Ips) -> Result<Subject<'a>, Outcome> {
    if let Some(e) = &ips.packages_error {
        return Err(Outcome::from(e.clone()));
    }
    if !sshd_present(ctx) {
        return Err(Outcome::not_applicable("no SSH server is installed"));
    }
    if ips.guard.protects_sshd() {
        if let Some(Ok((_, ev))) = &ips.guard.sshd {
            return Ok(Subject::Guard(ev.clone()));
        }
    }
    match &ips.config {
        Some(Ok(cfg)) => match cfg.jail("sshd") {
            Ok(j) => Ok(Subject::Fail2ban(j, cfg)),
            Err(e) => Err(
                Outcome::error(format!("fail2ban cannot read its sshd jail: {e}"))
                    .with(e.setting.evidence("sshd")),
            ),
        },
        Some(Err(e)) => Err(Outcome::error(e.to_string()).with(e.evidence())),
        None if ips.fail2ban_installed => Err(Outcome::fail(
            "fail2ban is installed but has no jail configuration (/etc/fail2ban/jail.conf missing)",
        )
        .with(Evidence::file("/etc/fail2ban/jail.conf").actual("missing"))),
        None => match &ips.guard.sshd {
            Some(Err(e)) => {
                Err(Outcome::error(e.clone()).with(Evidence::file(super::guard::GUARD_CONF)))
            }
            _ if ips.guard.installed => {
                Err(Outcome::fail("rempart guard does not protect sshd")
                    .with_all(guard_evidence(ips)))
            }
            _ if ips.crowdsec => Err(Outcome::skip(
                "CrowdSec protects this host; rempart does not judge its scenarios",
            )),
            _ => Err(Outcome::not_applicable(
                "no intrusion prevention is installed (see IPS-FAIL2BAN)",
            )),
        },
    }
}

fn guard_evidence(ips: &Ips) -> Vec<Evidence> {
    let mut out = Vec::new();
    match &ips.guard.sshd {
        Some(Ok((_, ev))) => out.push(ev.clone()),
        _ => out.push(
            Evidence::file(super::guard::GUARD_CONF)
                .key("jails.sshd")
                .actual("missing"),
        ),
    }
    if !ips.guard.enabled {
        out.push(
            Evidence::file(format!("/etc/systemd/system/{}", super::guard::GUARD_UNIT))
                .key(super::guard::GUARD_UNIT)
                .actual("not enabled")
                .expected("enabled"),
        );
    }
    out
}

/// An SSH server is installed (openssh-server or dropbear), or the tree has sshd's config.
pub fn sshd_present(ctx: &Ctx) -> bool {
    let pkgs = ctx.fact::<Packages>();
    if pkgs.known() {
        return pkgs.is_installed("openssh-server") || pkgs.is_installed("dropbear");
    }
    ctx.host.exists("/etc/ssh/sshd_config") || ctx.host.exists("/usr/sbin/sshd")
}
