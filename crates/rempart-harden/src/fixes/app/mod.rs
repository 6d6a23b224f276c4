//! Fixes of the app family: environment files' modes and owners (readable by the service's
//! account only), and Django's `DEBUG = True` when it is a literal on a line of its own.
//! Everything else in application code or settings (secrets to rotate, dependency pins,
//! security settings that can break a site served over plain HTTP) is in `MANUAL`: editing
//! Python is done only where one exact, single-line edit is unambiguous.

mod deps;
mod django;
mod fronts;
pub(crate) mod secrets;

pub use deps::deps_pinned;
pub use django::{allowed_hosts, cookies, secret_key, ssl_redirect};
pub use secrets::env_secrets;

use super::web::{edit_line, real_path, safe};
use crate::change::{Fix, Intent};
use rempart_audit::host::Users;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::app::django::{DjangoProjects, Setting};
use rempart_audit::rules::app::env::AppEnvs;
use rempart_audit::rules::app::env_perms::service_account;
use rempart_audit::rules::services::discovery::Discovery;

/// APP-ENV-PERMS: each exposed environment file becomes `0600` owned by the service's account,
/// or `0640 root:<its group>` when root owns it (so the service still reads it, and systemd
/// too); `0600 root` for root services and DynamicUser units; the `.env` of a compose project
/// keeps its owner and becomes `0600`. Secrets written in unit files themselves cannot be
/// fixed by a mode: the fix declines and says so.
pub fn env_perms(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let d = ctx.fact::<Discovery>();
    let envs = ctx.fact::<AppEnvs>();
    let users = ctx.fact::<Users>();
    let mut intents = Vec::new();
    let mut done: Vec<String> = Vec::new();
    for e in &f.evidence {
        let Some(path) = e.path.as_deref() else {
            continue;
        };
        match e.key.as_deref() {
            Some("mode" | "owner") => {}
            _ => {
                return Err(format!(
                    "{path}: a secret is written in a unit file (readable by every user): move \
                     it to an EnvironmentFile= with mode 0600 by hand"
                ))
            }
        }
        if done.iter().any(|p| p == path) {
            continue;
        }
        done.push(path.to_string());
        let real = real_path(ctx, path)?;
        let meta = ctx
            .host
            .metadata(&real)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{path} is gone"))?;
        let app = envs
            .apps
            .iter()
            .position(|a| a.files.iter().any(|f| f.path == path));
        let (uid, gid, mode) = match app.and_then(|i| d.apps.get(i).map(|a| (i, a))) {
            None => (meta.uid, meta.gid, 0o600),
            Some((_, app)) => match service_account(&d, app, &users) {
                Some(a) if a.uid != 0 => {
                    if meta.uid == a.uid {
                        (a.uid, meta.gid, 0o600)
                    } else if meta.uid == 0 {
                        (0, a.gid, 0o640)
                    } else {
                        (a.uid, a.gid, 0o600)
                    }
                }
                _ => (0, if meta.uid == 0 { meta.gid } else { 0 }, 0o600),
            },
        };
        if (uid, gid) != (meta.uid, meta.gid) {
            intents.push(Intent::Chown {
                path: real.clone(),
                uid,
                gid,
            });
        }
        if meta.mode & 0o7777 != mode {
            intents.push(Intent::Chmod { path: real, mode });
        }
    }
    Ok(safe(
        f,
        format!(
            "environment files readable by their service only: {}",
            done.join(", ")
        ),
        intents,
    ))
}

/// `DEBUG = True` (spacing and a trailing comment allowed) with `True` replaced by `False`.
fn debug_false(line: &str) -> Option<String> {
    let t = line.trim_start();
    let rest = t.strip_prefix("DEBUG")?;
    let eq = rest.trim_start();
    let val = eq.strip_prefix('=')?.trim_start();
    let after = val.strip_prefix("True")?;
    let tail = after.trim_start();
    if !(tail.is_empty() || tail.starts_with('#')) {
        return None;
    }
    let at = line.len() - val.len();
    Some(format!("{}False{}", &line[..at], after))
}

/// APP-DJANGO-DEBUG: the effective `DEBUG = True`, when it is a literal on its own line,
/// becomes `DEBUG = False`. A value read from the environment (or computed) is left to the
/// admin, with where it comes from.
pub fn django_debug(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let projects = ctx.fact::<DjangoProjects>();
    let mut intents = Vec::new();
    let mut files = Vec::new();
    for p in &projects.projects {
        let Setting::Set(b) = p.get("DEBUG") else {
            continue;
        };
        if b.val.truthy() != Some(true) {
            continue;
        }
        if !b.literal() || !b.reads.is_empty() {
            return Err(format!(
                "{}:{}: DEBUG comes from the environment or a computation (`{}`): make its \
                 production value false where it is set",
                b.path, b.line, b.text
            ));
        }
        intents.push(edit_line(
            ctx,
            &b.path,
            b.line,
            "not a plain `DEBUG = True` line: set it to False by hand",
            debug_false,
        )?);
        files.push(format!("{}:{}", b.path, b.line));
    }
    Ok(safe(
        f,
        format!(
            "DEBUG = False in {} (restart the application)",
            files.join(", ")
        ),
        intents,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any line: no panic; a rewrite keeps everything but the `True` it turns into `False`.
        #[test]
        fn debug_false_changes_only_the_literal(pre in "[ \t]{0,4}", sp in "[ ]{0,3}", tail in "[ #a-z]{0,12}", junk in "\\PC{0,40}") {
            let _ = debug_false(&junk);
            let line = format!("{pre}DEBUG{sp}={sp}True{tail}");
            match debug_false(&line) {
                Some(out) => prop_assert_eq!(out, format!("{pre}DEBUG{sp}={sp}False{tail}")),
                // Refused only when something follows the literal that is not a comment.
                None => prop_assert!(!tail.trim_start().is_empty() && !tail.trim_start().starts_with('#')),
            }
        }
    }

    #[test]
    fn only_a_plain_true_literal_is_rewritten() {
        assert_eq!(debug_false("DEBUG = True").unwrap(), "DEBUG = False");
        assert_eq!(
            debug_false("DEBUG=True  # dev").unwrap(),
            "DEBUG=False  # dev"
        );
        assert_eq!(debug_false("DEBUG = True or x"), None);
        assert_eq!(debug_false("DEBUG = Truely"), None);
        assert_eq!(debug_false("DEBUG_TOOLBAR = True"), None);
        assert_eq!(debug_false("DEBUG = os.environ.get('D', True)"), None);
    }
}
