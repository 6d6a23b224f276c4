//! Fixes of the encryption family: the key files /etc/crypttab names, root-only. Moving data
//! onto an encrypted volume is a migration, left to the admin (see `MANUAL`).

use crate::change::{Fix, Intent, Safety};
use rempart_audit::host::FileKind;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::encryption::tables::Volumes;

/// ENC-KEYFILE-PERMS: `chown root:root` and `chmod 0400` on every key file crypttab names that
/// is not already root-only (the same state FILE-SECRETS-PERMS' fix gives a crypttab key).
pub fn keyfile_perms(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let vols = ctx.fact::<Volumes>();
    let Some(entries) = &vols.crypttab else {
        return Ok(None);
    };
    let mut intents = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for key in entries.iter().filter_map(|e| e.local_keyfile()) {
        let Some(meta) = ctx.host.metadata(key).map_err(|e| e.to_string())? else {
            continue;
        };
        if meta.kind != FileKind::File {
            return Err(format!("{key} is a {}, not a key file", meta.kind.as_str()));
        }
        let path = ctx.host.canonical(key).map_err(|e| e.to_string())?;
        if keys.contains(&path) {
            continue;
        }
        if meta.uid != 0 {
            intents.push(Intent::Chown {
                path: path.clone(),
                uid: 0,
                gid: 0,
            });
        }
        if meta.group_or_other_access() {
            intents.push(Intent::Chmod {
                path: path.clone(),
                mode: 0o400,
            });
        }
        keys.push(path);
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("root-only key files: {}", keys.join(", ")),
        safety: Safety::Safe,
        intents,
    }))
}
