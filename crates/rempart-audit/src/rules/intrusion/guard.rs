//! The hook for rempart's own banning daemon, `rempart guard` (configuration
//! `/etc/rempart/guard.toml`, unit `rempart-guard.service`). Read loosely on purpose: only
//! whether the daemon is installed and enabled and whether its `[jails.sshd]` is on. The guard
//! reads the systemd journal and bans with nftables sets, so when its sshd jail is on, the
//! intrusion rules pass for it.

use crate::facts::Units;
use crate::host::Host;
use crate::model::Evidence;

pub const GUARD_CONF: &str = "/etc/rempart/guard.toml";
pub const GUARD_UNIT: &str = "rempart-guard.service";

/// rempart guard on the host.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// The unit file exists.
    pub installed: bool,
    pub enabled: bool,
    /// `[jails.sshd]` of guard.toml: on or off, and where; `Err` when the file is unreadable.
    pub sshd: Option<Result<(bool, Evidence), String>>,
}

impl Guard {
    pub fn load(host: &Host, units: &Units) -> Guard {
        let installed = units.exists(GUARD_UNIT);
        let enabled = units.is_enabled(GUARD_UNIT);
        let sshd = match host.read_text(GUARD_CONF) {
            Ok(None) => None,
            Err(e) => Some(Err(e.to_string())),
            Ok(Some(f)) => Some(sshd_jail(&f.text)),
        };
        Guard {
            installed,
            enabled,
            sshd,
        }
    }

    /// Installed, enabled, with the sshd jail on.
    pub fn protects_sshd(&self) -> bool {
        self.enabled && matches!(self.sshd, Some(Ok((true, _))))
    }
}

/// `[jails.sshd]` with `enabled` (default true when the table exists).
fn sshd_jail(text: &str) -> Result<(bool, Evidence), String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| format!("{GUARD_CONF}: {e}"))?;
    let jail = doc
        .get("jails")
        .and_then(|j| j.get("sshd"))
        .and_then(|s| s.as_table());
    let header = text
        .lines()
        .position(|l| l.trim().trim_start_matches('[').starts_with("jails.sshd"))
        .map_or(0, |i| i as u32 + 1);
    let ev = |actual: &str| {
        let e = Evidence::file(GUARD_CONF)
            .key("jails.sshd.enabled")
            .actual(actual);
        if header > 0 {
            e.line(header)
        } else {
            e
        }
    };
    Ok(match jail {
        None => (false, ev("no [jails.sshd]")),
        Some(t) => match t.get("enabled") {
            None => (true, ev("true (default)")),
            Some(toml::Value::Boolean(b)) => (*b, ev(&b.to_string())),
            Some(other) => {
                return Err(format!(
                    "{GUARD_CONF}: jails.sshd.enabled = {other} is not a boolean"
                ))
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sshd_jail_on_off_and_default() {
        assert!(sshd_jail("[jails.sshd]\nmaxretry = 3\n").unwrap().0);
        let (on, ev) = sshd_jail("[jails.sshd]\nenabled = false\n").unwrap();
        assert!(!on);
        assert_eq!(ev.line, Some(1));
        assert!(
            !sshd_jail("[jails.traefik-auth]\nenabled = true\n")
                .unwrap()
                .0
        );
        assert!(sshd_jail("[jails.sshd]\nenabled = \"yes\"\n").is_err());
        assert!(sshd_jail("[[[").is_err());
    }
}
