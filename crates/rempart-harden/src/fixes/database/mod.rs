//! Fixes of the database family, from the audit's [`Databases`] fact (its parsers of
//! postgresql.conf, pg_hba.conf and the MariaDB option chain): settings go into a drop-in the
//! server reads last among its configuration directories (`conf.d/90-rempart.conf`,
//! `mariadb.conf.d/90-rempart.cnf`) when the drop-in wins, else the winning line is edited in
//! place (`postgresql.auto.conf` included); pg_hba.conf records are edited field by field.
//! Roles, grants and the data directory's owner are left to the admin (see `MANUAL`).

pub mod my;
pub mod pg;

use crate::change::Intent;
use rempart_audit::host::FileKind;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::database::DbServer;

/// `chmod` intents that take `mask` away from the data directory, its configuration files and,
/// with `subdirs_mask`, its direct subdirectories; an error when the directory belongs to
/// another account than `owner` (the fix would be a recursive chown with the server stopped).
pub fn datadir_modes(
    ctx: &Ctx,
    s: &DbServer,
    owner: &str,
    mask: u32,
    subdirs_mask: Option<u32>,
) -> Result<Vec<Intent>, String> {
    let dir = s
        .data_dir
        .as_deref()
        .ok_or_else(|| format!("{}: no data directory known", s.label()))?;
    let meta = ctx
        .host
        .metadata(dir)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{dir} does not exist"))?;
    let users = ctx.fact::<rempart_audit::host::Users>();
    if let Some(u) = users.user(owner) {
        if meta.uid != u.uid {
            return Err(format!(
                "{dir} does not belong to {owner}: stop the server, then chown -R {owner}:{owner} {dir}"
            ));
        }
    }
    let mut intents = Vec::new();
    let real_dir = ctx.host.canonical(dir).map_err(|e| e.to_string())?;
    if meta.mode & mask != 0 {
        intents.push(Intent::Chmod {
            path: real_dir.clone(),
            mode: meta.mode & !mask,
        });
    }
    let mut seen = Vec::new();
    for f in &s.config_files {
        let Ok(Some(m)) = ctx.host.metadata(f) else {
            continue;
        };
        let path = ctx.host.canonical(f).map_err(|e| e.to_string())?;
        if m.mode & 0o022 != 0 && !seen.contains(&path) {
            seen.push(path.clone());
            intents.push(Intent::Chmod {
                path,
                mode: m.mode & !0o022,
            });
        }
    }
    if let Some(sub) = subdirs_mask {
        for n in ctx
            .host
            .read_dir(dir)
            .map_err(|e| e.to_string())?
            .unwrap_or_default()
        {
            let p = format!("{real_dir}/{n}");
            if let Ok(Some(m)) = ctx.host.symlink_metadata(&p) {
                if m.kind == FileKind::Dir && m.mode & sub != 0 {
                    intents.push(Intent::Chmod {
                        path: p,
                        mode: m.mode & !sub,
                    });
                }
            }
        }
    }
    Ok(intents)
}

/// The file name of a path.
fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
