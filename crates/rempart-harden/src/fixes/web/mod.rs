//! Fixes of the web family: Apache ([`apache`]: a `conf-available` drop-in with its
//! `conf-enabled` link for server-wide directives, the winning line edited in place when one
//! exists, `mods-enabled` links removed like a2dismod), nginx ([`nginx`]: a `conf.d` drop-in at
//! http level, or the existing line edited, since a duplicate directive is an `nginx -t` error),
//! Traefik ([`traefik`]: single-line edits of its YAML, TOML or flags) and certificate keys.
//! Certificate expiry and renewal, WAF installation and the Traefik settings that need a design
//! decision (authentication, middlewares) are in `MANUAL`.
//!
//! It also holds the line helpers the app, containers and logging fixes share: every edit reads
//! the line the audit pointed at, through links, and refuses when it no longer reads as expected.

pub mod apache;
pub mod nginx;
pub mod traefik;
pub mod traefik_middlewares;

use crate::change::{Fix, Intent, Safety};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;

/// Where a host file really lives (links resolved inside the root), since fixes never edit
/// through a link.
pub(crate) fn real_path(ctx: &Ctx, path: &str) -> Result<String, String> {
    ctx.host.canonical(path).map_err(|e| e.to_string())
}

/// The text of line `n` (1-based, without its ending) of a host file, and the file's real path.
pub(crate) fn line_at(ctx: &Ctx, path: &str, n: u32) -> Result<(String, String), String> {
    let real = real_path(ctx, path)?;
    let text = ctx
        .host
        .read_text(&real)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{path} is gone"))?;
    let line = (n as usize)
        .checked_sub(1)
        .and_then(|i| text.text.lines().nth(i))
        .ok_or_else(|| format!("{path} has no line {n}"))?;
    Ok((real, line.trim_end_matches('\r').to_string()))
}

/// The leading blanks of a line.
pub(crate) fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// An [`Intent::EditLine`] of line `n` of `path`, its new text computed from the current one
/// by `edit` (`None`: the line does not have the expected shape, said in `why`).
pub(crate) fn edit_line(
    ctx: &Ctx,
    path: &str,
    n: u32,
    why: &str,
    edit: impl FnOnce(&str) -> Option<String>,
) -> Result<Intent, String> {
    let (real, old) = line_at(ctx, path, n)?;
    let new = edit(&old).ok_or_else(|| format!("{path}:{n} (`{}`): {why}", old.trim()))?;
    Ok(Intent::EditLine {
        path: real,
        line: n,
        old,
        new,
    })
}

/// A safe fix, or nothing when there are no intents.
pub(crate) fn safe(f: &Finding, summary: String, intents: Vec<Intent>) -> Option<Fix> {
    (!intents.is_empty()).then(|| Fix {
        rule: f.id.clone(),
        summary,
        safety: Safety::Safe,
        intents,
    })
}

/// WEB-CERT-KEY-PERMS: every private key the servers use that is readable beyond its owner
/// becomes owner-only (`0600`, or `0640` when its group is ssl-cert); the owner is kept.
pub fn cert_key_perms(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for e in &f.evidence {
        let Some(path) = e.path.as_deref() else {
            continue;
        };
        if e.key.as_deref() != Some("mode") {
            return Err(format!(
                "{path}: {} is not a mode: fix it by hand (`rempart explain {}`)",
                e.key.as_deref().unwrap_or("this problem"),
                f.id
            ));
        }
        let real = real_path(ctx, path)?;
        if keys.contains(&real) {
            continue;
        }
        let meta = ctx
            .host
            .metadata(&real)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{path} is gone"))?;
        // Group read stays only for the ssl-cert group (services in it read the key); anything
        // else becomes owner-only, as FILE-SECRETS-PERMS wants a key too.
        let acme = e
            .note
            .as_deref()
            .is_some_and(|n| n.starts_with("traefik-acme"));
        let ssl_cert = e
            .actual
            .as_ref()
            .is_some_and(|a| a.to_string().ends_with("(group ssl-cert)"));
        let keep = if !acme && ssl_cert { 0o640 } else { 0o600 };
        intents.push(Intent::Chmod {
            path: real.clone(),
            mode: (meta.mode & keep) | 0o400,
        });
        keys.push(real);
    }
    Ok(safe(
        f,
        format!(
            "private keys readable by their owner only: {}",
            keys.join(", ")
        ),
        intents,
    ))
}

/// WEB-HTTP-REDIRECT: each plain-HTTP Apache virtual host or nginx server whose name a TLS
/// site also serves gets a permanent redirect to it as its first line. A plain site with no
/// TLS twin is refused with the reason (there is nowhere to send it yet).
pub fn http_redirect(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut names = apache::redirect_intents(ctx, &mut intents)?;
    names.extend(nginx::redirect_intents(ctx, &mut intents)?);
    Ok(safe(
        f,
        format!("plain-HTTP sites redirect to https: {}", names.join(", ")),
        intents,
    ))
}
