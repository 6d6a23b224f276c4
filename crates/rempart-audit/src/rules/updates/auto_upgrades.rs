//! UPD-AUTO-UPGRADES: unattended-upgrades installed and enabled.

use super::apt_conf::AptConfig;
use crate::facts::{Packages, Units};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "UPD-AUTO-UPGRADES",
    name: "automatic-security-updates-off",
    family: Family::Updates,
    severity: Severity::High,
    level: Level::Sme,
    title: "Security updates are installed automatically",
    doc: RuleDoc {
        what: "On a Debian-family host: the `unattended-upgrades` package is installed, APT's \
               `APT::Periodic::Update-Package-Lists` and `APT::Periodic::Unattended-Upgrade` are \
               set to a non-zero interval (as `/etc/apt/apt.conf.d/20auto-upgrades` does; later \
               files override earlier ones, `/etc/apt/apt.conf` last), and the `apt-daily` \
               timers are not masked.",
        why: "Most compromises of self-hosted servers use a published vulnerability with a fix \
              already available. A host that waits for someone to run `apt upgrade` stays \
              exposed for weeks.",
        remediation: "apt install unattended-upgrades && dpkg-reconfigure --priority=low \
                      unattended-upgrades (writes /etc/apt/apt.conf.d/20auto-upgrades with both \
                      periodic settings at \"1\").",
        verify:
            "apt-config dump | grep -E 'APT::Periodic::(Update-Package-Lists|Unattended-Upgrade)'; \
                 systemctl list-timers 'apt-daily*'",
        references: &[
            "seed 000 §9 Mises à jour de sécurité (unattended-upgrades)",
            "seed 002 Phase 1 §1 Mise à jour du système",
            "seed 001 §8 Security Auditing (unattended-upgrades)",
            "CIS Debian Linux 12 Benchmark 1.2 (package updates)",
            "man apt.conf(5), /usr/share/doc/unattended-upgrades/README.md",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let pkgs = ctx.fact::<Packages>();
    if let Some(e) = &pkgs.error {
        return Outcome::from(e.clone());
    }
    if !pkgs.known() && !ctx.host.exists("/etc/debian_version") {
        return Outcome::not_applicable("not a Debian-family host (no dpkg database)");
    }
    if !pkgs.is_installed("unattended-upgrades") {
        return Outcome::fail("the unattended-upgrades package is not installed").with(
            Evidence::file(crate::facts::packages::DPKG_STATUS)
                .key("unattended-upgrades")
                .actual("not installed")
                .expected("installed"),
        );
    }
    let apt = AptConfig::load(ctx.host);
    if let Some(e) = apt.errors.first() {
        return Outcome::from(e.clone());
    }
    let mut bad = Vec::new();
    for key in [
        "APT::Periodic::Update-Package-Lists",
        "APT::Periodic::Unattended-Upgrade",
    ] {
        match apt.get(key) {
            Some(v) if v.value != "0" && !v.value.is_empty() => {}
            Some(v) => bad.push(
                Evidence::file(&v.path)
                    .line(v.line)
                    .snippet(&v.text)
                    .key(key)
                    .actual(v.value.as_str())
                    .expected("1"),
            ),
            None => bad.push(
                Evidence::file("/etc/apt/apt.conf.d/20auto-upgrades")
                    .key(key)
                    .actual("unset (0)")
                    .expected("1"),
            ),
        }
    }
    let units = ctx.fact::<Units>();
    for timer in ["apt-daily.timer", "apt-daily-upgrade.timer"] {
        if units.masked.contains(timer) {
            bad.push(
                Evidence::file(format!("/etc/systemd/system/{timer}"))
                    .key(timer)
                    .actual("masked")
                    .expected("enabled"),
            );
        }
    }
    if bad.is_empty() {
        Outcome::pass("unattended-upgrades is installed and enabled")
    } else {
        Outcome::fail("unattended-upgrades is installed but does not run").with_all(bad)
    }
}
