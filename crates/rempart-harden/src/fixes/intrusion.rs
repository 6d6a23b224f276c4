//! Fixes of the intrusion family: fail2ban's sshd jail set in a drop-in of rempart's own,
//! `/etc/fail2ban/jail.d/90-rempart.local` (fail2ban reads `jail.d/*.local` last, sorted, so it
//! wins over jail.conf, jail.d/*.conf such as Debian's defaults-debian.conf, and jail.local), and
//! fail2ban.service enabled at boot. Each rule sets its own keys of the `[sshd]` section, so the
//! fixes compose line by line:
//!
//! - IPS-FAIL2BAN: enable fail2ban.service (`multi-user.target.wants`) and the jail;
//! - IPS-SSHD-JAIL: `enabled = true`;
//! - IPS-BACKEND: `backend = systemd` (Debian 12 keeps sshd's messages in the journal; needs
//!   python3-systemd);
//! - IPS-BANACTION: `banaction = nftables-multiport`, `banaction_allports = nftables-allports`.
//!
//! Every one of them also writes the jail's `ignoreip`: what it was, plus loopback and the
//! admin's address when it is known (`--admin-address`, or `SSH_CONNECTION` on the live host), so the admin
//! is never banned. They are unsafe for that reason: the access check refuses a plan whose jail
//! would not ignore a known admin address. Installing fail2ban is left to apt.

use crate::change::{Fix, Intent, LineFormat, Safety};
use crate::lockout::Client;
use rempart_audit::facts::Packages;
use rempart_audit::report::Finding;
use rempart_audit::rule::{Ctx, Fact};
use rempart_audit::rules::intrusion::fail2ban::DIR;
use rempart_audit::rules::intrusion::ips::{Ips, FAIL2BAN_UNIT};

/// The drop-in rempart writes, unless a `.local` sorted after it exists.
pub const DROPIN: &str = "/etc/fail2ban/jail.d/90-rempart.local";
/// Always ignored: the host itself.
const LOOPBACK: [&str; 2] = ["127.0.0.1/8", "::1"];

pub fn fail2ban(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let ips = installed(ctx)?;
    let mut intents = crate::fixes::firewall::enable_unit(ctx, FAIL2BAN_UNIT, "multi-user.target")?;
    let mut what = Vec::new();
    if !intents.is_empty() {
        what.push(format!("enable {FAIL2BAN_UNIT} at boot"));
    }
    if ips.config.as_ref().is_some_and(|c| c.is_ok()) {
        jail_keys(ctx, &mut intents, &[("enabled", "true")])?;
        what.push("turn on the sshd jail".into());
    }
    finish(f, intents, what.join("; "))
}

pub fn sshd_jail(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    installed(ctx)?;
    let mut intents = Vec::new();
    jail_keys(ctx, &mut intents, &[("enabled", "true")])?;
    finish(f, intents, "turn on fail2ban's sshd jail".into())
}

pub fn backend(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    installed(ctx)?;
    let pkgs = ctx.fact::<Packages>();
    if pkgs.known() && !pkgs.is_installed("python3-systemd") {
        return Err(
            "backend = systemd needs python3-systemd to read the journal: `apt install \
                    python3-systemd`, then plan again (on the live host or a Debian root, harden installs it first)"
                .into(),
        );
    }
    let mut intents = Vec::new();
    jail_keys(ctx, &mut intents, &[("backend", "systemd")])?;
    finish(
        f,
        intents,
        "the sshd jail reads sshd's messages from the systemd journal".into(),
    )
}

pub fn banaction(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    installed(ctx)?;
    let mut intents = Vec::new();
    jail_keys(
        ctx,
        &mut intents,
        &[
            ("banaction", "nftables-multiport"),
            ("banaction_allports", "nftables-allports"),
        ],
    )?;
    finish(f, intents, "the sshd jail bans with nftables sets".into())
}

fn installed(ctx: &Ctx) -> Result<std::sync::Arc<Ips>, String> {
    let ips = ctx.fact::<Ips>();
    if let Some(e) = &ips.packages_error {
        return Err(format!("cannot read the package database: {e}"));
    }
    if !ips.fail2ban_installed {
        return Err(
            "fail2ban is not installed: `apt install fail2ban` (or enable rempart guard), \
                    then plan again (on the live host or a Debian root, harden installs it first)"
                .into(),
        );
    }
    if let Some(Err(e)) = &ips.config {
        return Err(format!(
            "fail2ban's configuration cannot be read ({e}): fix it first"
        ));
    }
    Ok(ips)
}

fn finish(f: &Finding, intents: Vec<Intent>, summary: String) -> Result<Option<Fix>, String> {
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary,
        safety: Safety::Unsafe(
            "fail2ban bans addresses after failed logins, the admin's included: the jail's \
             ignoreip keeps loopback and the admin's address when known (--admin-address or \
             SSH_CONNECTION)"
                .into(),
        ),
        intents,
    }))
}

/// The drop-in's path: 90-rempart.local, or one sorted after any `.local` that would follow it.
fn dropin(ctx: &Ctx) -> String {
    let later = ctx
        .host
        .read_dir(&format!("{DIR}/jail.d"))
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .any(|n| n.ends_with(".local") && !n.starts_with('.') && n.as_str() > "90-rempart.local");
    if later {
        format!("{DIR}/jail.d/zzz-rempart.local")
    } else {
        DROPIN.to_string()
    }
}

/// Set `keys` in the drop-in's `[sshd]` section, with the jail's `ignoreip`.
fn jail_keys(ctx: &Ctx, intents: &mut Vec<Intent>, keys: &[(&str, &str)]) -> Result<(), String> {
    let path = dropin(ctx);
    let header = crate::fixes::header(
        "#",
        "IPS-FAIL2BAN, IPS-SSHD-JAIL, IPS-BACKEND, IPS-BANACTION",
    );
    let set = |key: &str, value: &str| Intent::SetLine {
        path: path.clone(),
        format: LineFormat::Ini,
        key: format!("sshd/{key}"),
        value: value.to_string(),
        header: header.clone(),
        mode: 0o644,
    };
    for (k, v) in keys {
        intents.push(set(k, v));
    }
    intents.push(set("ignoreip", &ignoreip(ctx, &path)?));
    Ok(())
}

/// The sshd jail's `ignoreip` as it is (leaving out what rempart's drop-in set), loopback, and
/// the admin's session address.
fn ignoreip(ctx: &Ctx, path: &str) -> Result<String, String> {
    let ips = ctx.fact::<Ips>();
    let mut out: Vec<String> = Vec::new();
    if let Some(Ok(cfg)) = &ips.config {
        if let Some(r) = cfg.get("sshd", "ignoreip").map_err(|e| e.to_string())? {
            if r.origin().path != path {
                out.extend(
                    r.value
                        .split([' ', ',', '\n', '\t'])
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                );
            } else if let Some(prev) = r.trail.first().map(|t| t.1.value.clone()) {
                // A value rempart wrote earlier: keep what the admin put in it since.
                out.extend(prev.split_whitespace().map(String::from));
            }
        }
    }
    for l in LOOPBACK {
        if !out.iter().any(|o| o == l) {
            out.push(l.to_string());
        }
    }
    if let Some(c) = session_client(ctx) {
        let a = c.addr.to_string();
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(out.join(" "))
}

/// Where the admin connects from, as the access check takes it: `--admin-address` (preset by
/// the plan), else the session on the live host (`SSH_CONNECTION`); under `--root` the session
/// has nothing to do with the tree.
#[derive(Debug, Clone)]
pub struct AdminClient(pub Option<Client>);

impl Fact for AdminClient {
    fn collect(ctx: &Ctx) -> AdminClient {
        if !ctx.host.is_live() || ctx.host.root() != std::path::Path::new("/") {
            return AdminClient(None);
        }
        AdminClient(
            std::env::var("SSH_CONNECTION")
                .ok()
                .and_then(|v| Client::from_ssh_connection(&v)),
        )
    }
}

/// The admin's address the jail must never ban.
pub fn session_client(ctx: &Ctx) -> Option<Client> {
    ctx.fact::<AdminClient>().0.clone()
}
