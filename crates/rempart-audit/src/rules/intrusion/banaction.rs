//! IPS-BANACTION: the sshd jail bans at the firewall the host runs (nftables on Debian 12).

use super::ips::{sshd_subject, Ips, Subject};
use crate::facts::packages::DPKG_STATUS;
use crate::facts::Packages;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::firewall::source::{Firewall, Kind};

pub const RULE: Rule = Rule {
    id: "IPS-BANACTION",
    name: "sshd-bans-not-nftables",
    family: Family::Intrusion,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "The sshd jail bans with nftables (or the host's own firewall tool)",
    doc: RuleDoc {
        what: "For an enabled fail2ban sshd jail, the ban actions of its `action` (after \
               interpolation of banaction, action_ ...) include a firewall ban. nftables actions \
               (`nftables`, `nftables-multiport`, `nftables-allports`) pass. iptables actions \
               pass only on a host whose firewall is iptables-based (ufw, iptables-persistent) \
               and has the iptables package; `ufw` passes on a ufw host, firewallcmd-* on a \
               firewalld host. Notification-only actions (sendmail-*, abuseipdb ...) and \
               hostsdeny do not ban at the firewall. Debian 12's jail.conf sets `banaction = \
               iptables-multiport`, and a minimal Debian 12 has no iptables command. rempart \
               guard bans with nftables sets.",
        why: "A ban action that cannot run fails at every ban (\"iptables: not found\") and \
              fail2ban keeps logging bans that never happen. On an nftables host, iptables-nft \
              rules and nftables rules sit in different tables that are easy to flush or order \
              wrongly; nftables sets also scale to thousands of bans in one rule.",
        remediation: "In /etc/fail2ban/jail.d/sshd.local (or jail.local [DEFAULT]): `banaction = \
                      nftables-multiport` and `banaction_allports = nftables-allports`, then \
                      systemctl restart fail2ban.",
        verify: "fail2ban-client -d | grep addaction; nft list table inet f2b-table",
        references: &[
            "seed 002 Phase 1 §7 (fail2ban on a host whose firewall is ufw)",
            "seed 001 §3 fail2ban custom jails",
            "man jail.conf(5) (banaction), /etc/fail2ban/action.d/nftables.conf",
        ],
    },
    check,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Nftables,
    Iptables,
    Ufw,
    Firewalld,
    /// Bans outside the firewall (hosts.deny, routes, shorewall, BSD firewalls).
    OtherBan,
    /// Notifies or reports only.
    NoBan,
}

fn classify(name: &str) -> Class {
    let n = name.to_ascii_lowercase();
    if n.starts_with("nftables") {
        Class::Nftables
    } else if n.starts_with("iptables") {
        Class::Iptables
    } else if n == "ufw" {
        Class::Ufw
    } else if n.starts_with("firewallcmd") {
        Class::Firewalld
    } else if [
        "hostsdeny",
        "route",
        "shorewall",
        "pf",
        "ipfw",
        "bsd-ipfw",
        "apf",
        "csf",
    ]
    .iter()
    .any(|p| n.starts_with(p))
    {
        Class::OtherBan
    } else {
        Class::NoBan
    }
}

fn check(ctx: &Ctx) -> Outcome {
    let ips = ctx.fact::<Ips>();
    let jail = match sshd_subject(ctx, &ips) {
        Ok(Subject::Guard(ev)) => {
            return Outcome::pass("rempart guard bans with nftables sets").with(ev)
        }
        Ok(Subject::Fail2ban(j, _)) => j,
        Err(o) => return o,
    };
    if !jail.is_enabled() {
        return Outcome::skip("the sshd jail is not enabled (see IPS-SSHD-JAIL)");
    }
    let names = jail.action_names();
    let mut evidence: Vec<Evidence> = Vec::new();
    match (&jail.banaction, &jail.action) {
        (Some(b), _)
            if jail
                .action
                .as_ref()
                .is_some_and(|a| a.value.contains(&b.value)) =>
        {
            evidence.extend(b.evidence("banaction"))
        }
        (_, Some(a)) => evidence.extend(a.evidence("action")),
        _ => {}
    }
    let classes: Vec<(String, Class)> = names.iter().map(|n| (n.clone(), classify(n))).collect();
    let fw = ctx.fact::<Firewall>();
    let pkgs = ctx.fact::<Packages>();
    let list = names.join(", ");
    if classes.iter().any(|(_, c)| *c == Class::Nftables) {
        return Outcome::pass(format!("the sshd jail bans with nftables ({list})"))
            .with_all(evidence);
    }
    let bans: Vec<&(String, Class)> = classes.iter().filter(|(_, c)| *c != Class::NoBan).collect();
    if bans.is_empty() {
        return Outcome::fail(format!(
            "the sshd jail has no ban action ({}): fail2ban only notifies",
            if list.is_empty() {
                "no action".into()
            } else {
                list
            }
        ))
        .with_all(evidence);
    }
    let fw_kind = fw.active;
    let fw_name = fw_kind.map_or("no firewall", Kind::name);
    for (name, class) in &bans {
        match class {
            Class::Iptables => {
                if pkgs.known() && !pkgs.is_installed("iptables") {
                    evidence.push(
                        Evidence::file(DPKG_STATUS)
                            .key("iptables")
                            .actual("not installed")
                            .expected("installed, or an nftables ban action"),
                    );
                    return Outcome::fail(format!(
                        "the sshd jail bans with {name}, but the iptables command is not \
                         installed: every ban fails; use banaction = nftables-multiport"
                    ))
                    .with_all(evidence);
                }
                if matches!(fw_kind, Some(Kind::Ufw | Kind::Iptables)) {
                    return Outcome::pass(format!(
                        "the sshd jail bans with {name}, on a host whose firewall ({fw_name}) is \
                         iptables-based"
                    ))
                    .with_all(evidence);
                }
            }
            Class::Ufw if fw_kind == Some(Kind::Ufw) => {
                return Outcome::pass("the sshd jail bans through ufw, the host's firewall")
                    .with_all(evidence)
            }
            Class::Firewalld if fw_kind == Some(Kind::Firewalld) => {
                return Outcome::pass("the sshd jail bans through firewalld, the host's firewall")
                    .with_all(evidence)
            }
            _ => {}
        }
    }
    Outcome::fail(format!(
        "the sshd jail bans with {} while the host's firewall is {fw_name}: use banaction = \
         nftables-multiport",
        bans.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .with_all(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_classes() {
        assert_eq!(classify("nftables-multiport"), Class::Nftables);
        assert_eq!(classify("iptables-allports"), Class::Iptables);
        assert_eq!(classify("sendmail-whois"), Class::NoBan);
        assert_eq!(classify("hostsdeny"), Class::OtherBan);
        assert_eq!(classify("ufw"), Class::Ufw);
    }
}
