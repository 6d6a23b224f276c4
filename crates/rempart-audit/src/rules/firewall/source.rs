//! Which firewall the host loads at boot, and its configuration parsed and analysed once per run
//! (the [`Firewall`] fact). Precedence follows what an admin sees: ufw when it is installed and
//! enabled, then nftables.service with `/etc/nftables.conf`, then iptables-persistent
//! (netfilter-persistent.service with `/etc/iptables/rules.v4` / `rules.v6`). firewalld is
//! recognised as a firewall but its configuration is not judged.

use super::eval::{analyse, Analysis};
use super::model::{Ip, Ruleset};
use super::nft::{self, NFTABLES_CONF};
use super::ufw::{self, Ufw, UFW_CONF};
use super::{iptables, ParseError};
use crate::facts::packages::DPKG_STATUS;
use crate::facts::{Packages, Units};
use crate::host::HostError;
use crate::model::Evidence;
use crate::rule::{Ctx, Fact, Outcome};

pub const RULES_V4: &str = "/etc/iptables/rules.v4";
pub const RULES_V6: &str = "/etc/iptables/rules.v6";

/// A firewall tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ufw,
    Nftables,
    Iptables,
    Firewalld,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ufw => "ufw",
            Kind::Nftables => "nftables",
            Kind::Iptables => "iptables-persistent",
            Kind::Firewalld => "firewalld",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Kind::Ufw => "ufw.service",
            Kind::Nftables => "nftables.service",
            Kind::Iptables => "netfilter-persistent.service",
            Kind::Firewalld => "firewalld.service",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Kind::Ufw => "ufw",
            Kind::Nftables => "nftables",
            Kind::Iptables => "iptables-persistent",
            Kind::Firewalld => "firewalld",
        }
    }
}

/// One firewall tool found on the host.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub kind: Kind,
    /// Its configuration is loaded when the host boots.
    pub at_boot: bool,
    /// What shows it is, or is not, loaded at boot.
    pub evidence: Vec<Evidence>,
}

/// Why the active firewall's configuration could not be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Host(HostError),
    Parse(ParseError),
    /// A tool whose configuration rempart does not read (firewalld).
    Unsupported(Kind),
}

impl ConfigError {
    pub fn outcome(&self) -> Outcome {
        match self {
            ConfigError::Host(e) => Outcome::from(e.clone()),
            ConfigError::Parse(e) => e.outcome(),
            ConfigError::Unsupported(k) => Outcome::skip(format!(
                "{} is the firewall; rempart does not judge its configuration",
                k.name()
            )),
        }
    }
}

/// The configuration the active firewall loads, with its analysis.
#[derive(Debug, Clone)]
pub struct Config {
    pub kind: Kind,
    pub ruleset: Ruleset,
    pub analysis: Analysis,
    pub ufw: Option<Ufw>,
}

/// The firewall fact.
#[derive(Debug, Clone, Default)]
pub struct Firewall {
    /// Installed firewall tools, in precedence order.
    pub candidates: Vec<Candidate>,
    /// The tool whose configuration the rules judge: the first loaded at boot.
    pub active: Option<Kind>,
    pub config: Option<Result<Config, ConfigError>>,
    /// Docker is installed: its published ports bypass the input chain.
    pub docker: bool,
    /// Reading the package database failed.
    pub error: Option<HostError>,
}

impl Firewall {
    /// Tools loaded at boot besides the active one.
    pub fn also_at_boot(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(move |c| c.at_boot && Some(c.kind) != self.active)
    }

    /// Evidence explaining that no firewall loads at boot.
    pub fn none_evidence(&self) -> Vec<Evidence> {
        if self.candidates.is_empty() {
            return vec![Evidence::file(DPKG_STATUS)
                .key("firewall")
                .actual("none of ufw, nftables, iptables-persistent installed")
                .expected("one of them, enabled")];
        }
        self.candidates
            .iter()
            .flat_map(|c| c.evidence.iter().cloned())
            .collect()
    }
}

/// State of a unit in the host's systemd configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitState {
    Enabled,
    Disabled,
    Masked,
    Absent,
}

fn unit_state(units: &Units, name: &str) -> UnitState {
    if units.masked.contains(name) {
        UnitState::Masked
    } else if units.is_enabled(name) {
        UnitState::Enabled
    } else if units.files.contains_key(name) {
        UnitState::Disabled
    } else {
        UnitState::Absent
    }
}

fn unit_evidence(units: &Units, unit: &str, state: UnitState) -> Evidence {
    let path = units
        .path(unit)
        .map_or_else(|| format!("/etc/systemd/system/{unit}"), str::to_string);
    let actual = match state {
        UnitState::Enabled => "enabled",
        UnitState::Disabled => "disabled",
        UnitState::Masked => "masked",
        UnitState::Absent => "no unit file",
    };
    Evidence::file(path)
        .key(unit)
        .actual(actual)
        .expected("enabled")
}

impl Fact for Firewall {
    fn collect(ctx: &Ctx) -> Firewall {
        let host = ctx.host;
        let pkgs = ctx.fact::<Packages>();
        let units = ctx.fact::<Units>();
        let mut fw = Firewall {
            error: pkgs.error.clone(),
            docker: ["docker.io", "docker-ce", "moby-engine"]
                .iter()
                .any(|p| pkgs.is_installed(p)),
            ..Firewall::default()
        };
        let installed = |k: Kind, config: &str| {
            pkgs.is_installed(k.package()) || (!pkgs.known() && host.exists(config))
        };
        let mut ufw_settings: Option<Ufw> = None;

        // ufw: ENABLED=yes in ufw.conf, and ufw.service not disabled.
        if installed(Kind::Ufw, UFW_CONF) {
            let mut evidence = Vec::new();
            let mut at_boot = false;
            match ufw::load_settings(host) {
                Ok(Some(s)) => {
                    let state = unit_state(&units, Kind::Ufw.unit());
                    let unit_ok = matches!(state, UnitState::Enabled | UnitState::Absent);
                    match &s.enabled {
                        Some(a) => evidence.push(
                            a.loc
                                .evidence()
                                .key("ENABLED")
                                .actual(a.value.as_str())
                                .expected("yes"),
                        ),
                        None => evidence.push(
                            Evidence::file(UFW_CONF)
                                .key("ENABLED")
                                .actual("unset (no)")
                                .expected("yes"),
                        ),
                    }
                    if state != UnitState::Absent {
                        evidence.push(unit_evidence(&units, Kind::Ufw.unit(), state));
                    }
                    at_boot = s.is_enabled() && unit_ok;
                    ufw_settings = Some(s);
                }
                Ok(None) => evidence.push(
                    Evidence::file(UFW_CONF)
                        .key("ENABLED")
                        .actual("file missing")
                        .expected("yes"),
                ),
                Err(e) => fw.error = fw.error.take().or(Some(e)),
            }
            fw.candidates.push(Candidate {
                kind: Kind::Ufw,
                at_boot,
                evidence,
            });
        }

        // nftables: nftables.service enabled runs `nft -f /etc/nftables.conf`.
        if installed(Kind::Nftables, NFTABLES_CONF) {
            let state = unit_state(&units, Kind::Nftables.unit());
            let conf = host.exists(NFTABLES_CONF);
            let mut evidence = vec![unit_evidence(&units, Kind::Nftables.unit(), state)];
            if !conf {
                evidence.push(
                    Evidence::file(NFTABLES_CONF)
                        .actual("missing")
                        .expected("the ruleset loaded at boot"),
                );
            }
            fw.candidates.push(Candidate {
                kind: Kind::Nftables,
                at_boot: state == UnitState::Enabled && conf,
                evidence,
            });
        }

        // iptables-persistent: netfilter-persistent.service restores rules.v4 / rules.v6.
        if installed(Kind::Iptables, RULES_V4) || installed(Kind::Iptables, RULES_V6) {
            let state = unit_state(&units, Kind::Iptables.unit());
            let files = host.exists(RULES_V4) || host.exists(RULES_V6);
            let mut evidence = vec![unit_evidence(&units, Kind::Iptables.unit(), state)];
            if !files {
                evidence.push(
                    Evidence::file(RULES_V4)
                        .actual("missing")
                        .expected("the rules restored at boot"),
                );
            }
            fw.candidates.push(Candidate {
                kind: Kind::Iptables,
                at_boot: state == UnitState::Enabled && files,
                evidence,
            });
        }

        if pkgs.is_installed("firewalld") {
            let state = unit_state(&units, Kind::Firewalld.unit());
            fw.candidates.push(Candidate {
                kind: Kind::Firewalld,
                at_boot: state == UnitState::Enabled,
                evidence: vec![unit_evidence(&units, Kind::Firewalld.unit(), state)],
            });
        }

        fw.active = fw.candidates.iter().find(|c| c.at_boot).map(|c| c.kind);
        fw.config = fw.active.map(|kind| load(ctx, kind, ufw_settings.take()));
        fw
    }
}

/// Load and analyse the configuration `kind` loads at boot (`ufw_settings` from
/// [`ufw::load_settings`] for ufw).
pub fn load(ctx: &Ctx, kind: Kind, ufw_settings: Option<Ufw>) -> Result<Config, ConfigError> {
    let host = ctx.host;
    let (ruleset, ufw) = match kind {
        Kind::Ufw => {
            let mut settings = match ufw_settings {
                Some(s) => s,
                None => {
                    return Err(ConfigError::Host(HostError::Io {
                        path: UFW_CONF.into(),
                        message: "not readable".into(),
                    }))
                }
            };
            let rs = ufw::load_ruleset(host, &mut settings).map_err(|e| match e {
                ufw::LoadError::Host(h) => ConfigError::Host(h),
                ufw::LoadError::Parse(p) => ConfigError::Parse(p),
            })?;
            (rs, Some(settings))
        }
        Kind::Nftables => {
            let rs = nft::load(host, NFTABLES_CONF)
                .map_err(|e| match e {
                    nft::LoadError::Host(h) => ConfigError::Host(h),
                    nft::LoadError::Parse(p) => ConfigError::Parse(p),
                })?
                .unwrap_or_default();
            (rs, None)
        }
        Kind::Iptables => {
            let mut rs = Ruleset {
                origin: Some(RULES_V4.to_string()),
                ..Ruleset::default()
            };
            for (path, ip) in [(RULES_V4, Ip::V4), (RULES_V6, Ip::V6)] {
                if let Some(f) = host.read_text(path).map_err(ConfigError::Host)? {
                    iptables::parse_into(path, &f.text, ip, &mut rs).map_err(ConfigError::Parse)?;
                }
            }
            (rs, None)
        }
        Kind::Firewalld => return Err(ConfigError::Unsupported(kind)),
    };
    let analysis = analyse(&ruleset).map_err(|e| {
        ConfigError::Parse(ParseError {
            path: ruleset.origin.clone().unwrap_or_default(),
            line: None,
            message: e.to_string(),
        })
    })?;
    Ok(Config {
        kind,
        ruleset,
        analysis,
        ufw,
    })
}

/// True when IPv6 is off in the running kernel (no IPv6 input to filter). Only known on the live
/// host; a root tree is assumed to run IPv6.
pub fn ipv6_disabled(ctx: &Ctx) -> bool {
    if !ctx.host.is_live() {
        return false;
    }
    match ctx.host.proc_sys("net/ipv6/conf/all/disable_ipv6") {
        Some(Ok(Some(v))) => v == "1",
        // No /proc/sys/net/ipv6 at all: the kernel runs without IPv6.
        Some(Ok(None)) => !ctx.host.exists("/proc/sys/net/ipv6"),
        _ => false,
    }
}
