//! The files family: world-writable files and directories under `/etc` and the application
//! directories, secrets (`.env`, crypttab key files, TLS private keys, `acme.json`) readable by
//! others or owned by the wrong account, and the modes of the account and sudo databases.
//!
//! The walk of `/etc` and the application directories happens once per run in [`scan`];
//! `/etc/crypttab` is parsed in [`crypttab`]. The list of application directories comes from
//! [`app_dirs`], the one place to plug in directories discovered from systemd units or
//! compose files. It does not judge file contents beyond telling a private key from a
//! certificate.

pub mod crypttab;
pub mod scan;
pub mod secrets;
pub mod sensitive_etc;
pub mod world_writable;

use crate::host::Meta;
use crate::rule::Ctx;
use crate::rules::accounts::AccountDb;

/// The application directories audited: `app_paths` of rempart.toml (absolute paths only,
/// trailing slashes dropped, duplicates removed). Directories discovered from the host's
/// services join here.
pub fn app_dirs(ctx: &Ctx) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in &ctx.config.app_paths {
        let p = p.trim();
        if !p.starts_with('/') {
            continue;
        }
        let p = match p.trim_end_matches('/') {
            "" => "/".to_string(),
            t => t.to_string(),
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// `0640 root:shadow`, with names from the host's own account databases.
pub fn describe(db: &AccountDb, meta: &Meta) -> String {
    let user = db
        .users
        .user_by_uid(meta.uid)
        .map_or_else(|| meta.uid.to_string(), |u| u.name.clone());
    let group = db
        .users
        .group_by_gid(meta.gid)
        .map_or_else(|| meta.gid.to_string(), |g| g.name.clone());
    format!("{} {user}:{group}", meta.mode_octal())
}
