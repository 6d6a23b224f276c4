//! Fixes of the updates family.

use crate::change::{Fix, Intent, Safety};
use rempart_audit::facts::Packages;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;

/// UPD-AUTO-UPGRADES: write APT's periodic settings in `20auto-upgrades` (what
/// `dpkg-reconfigure unattended-upgrades` writes); the plan installs the package first where apt
/// can run ([`crate::packages`]).
pub fn auto_upgrades(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    if !ctx.fact::<Packages>().is_installed("unattended-upgrades") {
        return Err(
            "unattended-upgrades is not installed and this tree has no apt of its own to install \
             it (on the live host or a Debian root, harden installs it first): apt install \
             unattended-upgrades"
                .into(),
        );
    }
    let path = "/etc/apt/apt.conf.d/20auto-upgrades".to_string();
    let later = ctx
        .host
        .read_dir("/etc/apt/apt.conf.d")
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.as_str() > "20auto-upgrades")
        .count();
    // A later file may set the options to 0 again: a drop-in sorted last wins.
    let path = if later > 0 {
        "/etc/apt/apt.conf.d/99-rempart-auto-upgrades".to_string()
    } else {
        path
    };
    Ok(Some(Fix {
        rule: "UPD-AUTO-UPGRADES".into(),
        summary: format!("enable daily package lists and unattended upgrades in {path}"),
        safety: Safety::Safe,
        intents: vec![Intent::Write {
            path,
            content: b"APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n".to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }],
    }))
}
