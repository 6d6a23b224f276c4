//! Fixes of the files family: modes and owners only, never contents. A change that could take
//! away an application's access to its own files (a world-writable directory the app writes
//! through the `o+w` bit, a secret its service reads through its group) is only made when the
//! accounts the application runs as keep their access; otherwise the fix says what to do by hand.

use crate::change::{Fix, Intent, Safety};
use rempart_audit::host::{Meta, User, Users};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::accounts::AccountDb;
use rempart_audit::rules::files::scan::{within, FileScan};
use rempart_audit::rules::files::secrets;
use rempart_audit::rules::services::discovery::Discovery;

/// The accounts the application units owning `path` run as (`None`: root), if any unit is known.
/// A unit owns the path when it works in the same application directory (an `app_paths` entry
/// holding both, or the unit's working directory holding the path) or reads it as an
/// EnvironmentFile.
fn app_runners(ctx: &Ctx, path: &str) -> Vec<Option<String>> {
    let d = ctx.fact::<Discovery>();
    let scan = ctx.fact::<FileScan>();
    let scope = scan
        .root_of(path)
        .filter(|r| r.is_app)
        .map(|r| r.root.clone());
    let mut out = Vec::new();
    for u in &d.units {
        let wd = u.working_dir.as_deref();
        let concerned = wd.is_some_and(|w| within(path, w))
            || scope
                .as_deref()
                .is_some_and(|s| wd.is_some_and(|w| within(w, s)))
            || u.env_files.iter().any(|e| e == path)
            || d.apps
                .iter()
                .any(|a| within(path, &a.dir) && a.units.contains(&u.unit.name));
        if concerned {
            let who = if u.runs_as_root() {
                None
            } else {
                u.user.clone()
            };
            if !out.contains(&who) {
                out.push(who);
            }
        }
    }
    out
}

/// Whether `user` can still write an entry of mode `mode` without the `o+w` bit.
fn can_write_without_other(users: &Users, user: Option<&str>, meta: &Meta) -> bool {
    let Some(name) = user else {
        return true; // root
    };
    let Some(u) = users.user(name) else {
        return false;
    };
    if u.uid == 0 {
        return true;
    }
    (u.uid == meta.uid && meta.mode & 0o200 != 0)
        || (users
            .groups_of(u)
            .iter()
            .any(|g| users.group(g).is_some_and(|g| g.gid == meta.gid))
            && meta.mode & 0o020 != 0)
}

/// FILE-WORLD-WRITABLE: `chmod o-w` on every world-writable file and directory, when nothing
/// loses write access: under /etc always; under an application directory only when the
/// accounts its units run as are known and keep write access through the owner or group bits.
pub fn world_writable(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let scan = ctx.fact::<FileScan>();
    let users = ctx.fact::<Users>();
    let mut intents = Vec::new();
    let mut manual = Vec::new();
    for root in &scan.roots {
        for e in &root.world_writable {
            if root.is_app {
                let runners = app_runners(ctx, &e.path);
                if runners.is_empty() {
                    manual.push(format!(
                        "{}: no systemd unit of the application is known, so who writes it is unknown",
                        e.path
                    ));
                    continue;
                }
                if let Some(who) = runners
                    .iter()
                    .find(|r| !can_write_without_other(&users, r.as_deref(), &e.meta))
                {
                    manual.push(format!(
                        "{}: {} writes it only through o+w (chown it to that account, then chmod o-w)",
                        e.path,
                        who.as_deref().unwrap_or("root")
                    ));
                    continue;
                }
            }
            intents.push(Intent::Chmod {
                path: e.path.clone(),
                mode: e.meta.mode & !0o002,
            });
        }
    }
    if !manual.is_empty() {
        return Err(format!(
            "{} of them need a decision: {}",
            manual.len(),
            manual.join("; ")
        ));
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("chmod o-w on {} entries", intents.len()),
        safety: Safety::Safe,
        intents,
    }))
}

/// The account a secret file should belong to when its owner is wrong: the account the
/// application using it runs as, else the application directory's service-account owner, else
/// root.
fn secret_owner<'a>(ctx: &Ctx, users: &'a Users, uid_min: u32, path: &str) -> Option<&'a User> {
    let service = |u: &&User| u.uid != 0 && u.uid < uid_min && u.uid != 65534;
    let runners = app_runners(ctx, path);
    if let [Some(name)] = runners.as_slice() {
        return users.user(name).filter(service);
    }
    if runners.is_empty() {
        let scan = ctx.fact::<FileScan>();
        let root = scan.root_of(path).filter(|r| r.is_app)?;
        return root
            .owner_uid
            .and_then(|uid| users.user_by_uid(uid))
            .filter(service);
    }
    None
}

/// FILE-SECRETS-PERMS: no group or other access to secret files (`chmod go-rwx`; crypttab keys
/// `0400`), and a service account or root as owner. A secret shared with the app's service
/// through its group is given to that service account instead, so it keeps reading it.
pub fn secrets_perms(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let (exposed, errors) = secrets::exposed(ctx);
    if let Some(e) = errors.first() {
        return Err(format!("cannot judge every secret file: {e}"));
    }
    let db = ctx.fact::<AccountDb>();
    let users = &db.users;
    let mut intents = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for x in &exposed {
        // A link (Let's Encrypt's live/) is fixed at its target.
        let path = ctx
            .host
            .canonical(&x.path)
            .map_err(|e| format!("{}: {e}", x.path))?;
        if seen.contains(&path) {
            continue;
        }
        seen.push(path.clone());
        let m = &x.meta;
        let mut owner: Option<(u32, u32)> = None;
        let mode = if x.crypttab_key {
            if x.owner {
                owner = Some((0, 0));
            }
            if x.access {
                0o400
            } else {
                m.mode
            }
        } else {
            if x.owner {
                owner = Some(
                    secret_owner(ctx, users, db.uid_min, &path).map_or((0, 0), |u| (u.uid, u.gid)),
                );
            }
            // Read through the group by the account the application runs as: give it the file.
            let group_reader = (m.mode & 0o040 != 0 && m.gid != 0)
                .then(|| app_runners(ctx, &path))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|n| users.user(&n))
                .find(|u| u.gid == m.gid && u.uid != m.uid && u.uid != 0);
            if let Some(u) = group_reader {
                if m.uid == 0 || x.owner {
                    owner = Some((u.uid, u.gid));
                    notes.push(format!("{path} now belongs to {}", u.name));
                } else {
                    return Err(format!(
                        "{path}: {} reads it through its group but another account owns it: \
                         decide who owns it",
                        u.name
                    ));
                }
            }
            m.mode & !0o077
        };
        if mode != m.mode {
            intents.push(Intent::Chmod {
                path: path.clone(),
                mode,
            });
        }
        if let Some((uid, gid)) = owner.filter(|o| *o != (m.uid, m.gid)) {
            intents.push(Intent::Chown { path, uid, gid });
        }
    }
    if intents.is_empty() {
        return Ok(None);
    }
    let mut summary = format!("make {} secret files private", seen.len());
    if !notes.is_empty() {
        summary.push_str(&format!(" ({})", notes.join(", ")));
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary,
        safety: Safety::Safe,
        intents,
    }))
}

/// The files FILE-SENSITIVE-ETC judges: path, reference mode, the group allowed besides root.
const SENSITIVE: &[(&str, u32, Option<&str>)] = &[
    ("/etc/passwd", 0o644, None),
    ("/etc/group", 0o644, None),
    ("/etc/shadow", 0o640, Some("shadow")),
    ("/etc/gshadow", 0o640, Some("shadow")),
    ("/etc/sudoers", 0o440, None),
];

/// FILE-SENSITIVE-ETC: Debian's modes and owners back on the account databases and sudoers
/// (mode bits beyond the reference removed, root as owner, root or `shadow` as group).
pub fn sensitive_etc(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let users = ctx.fact::<Users>();
    let mut targets: Vec<(String, u32, Option<&str>)> = SENSITIVE
        .iter()
        .map(|(p, m, g)| (p.to_string(), *m, *g))
        .collect();
    let names = ctx
        .host
        .read_dir("/etc/sudoers.d")
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    targets.extend(
        names
            .into_iter()
            .map(|n| (format!("/etc/sudoers.d/{n}"), 0o440, None)),
    );
    let mut intents = Vec::new();
    let mut fixed = Vec::new();
    for (path, reference, group) in targets {
        let meta = match ctx.host.metadata(&path) {
            Ok(Some(m)) if m.kind == rempart_audit::host::FileKind::File => m,
            Ok(_) => continue,
            Err(e) => return Err(e.to_string()),
        };
        let group_gid = group.and_then(|g| users.group(g)).map(|g| g.gid);
        let gid = if meta.gid == 0 || Some(meta.gid) == group_gid {
            meta.gid
        } else {
            group_gid.unwrap_or(0)
        };
        let mode = meta.mode & reference;
        let before = intents.len();
        if mode != meta.mode {
            intents.push(Intent::Chmod {
                path: path.clone(),
                mode,
            });
        }
        if (meta.uid, meta.gid) != (0, gid) {
            intents.push(Intent::Chown {
                path: path.clone(),
                uid: 0,
                gid,
            });
        }
        if intents.len() > before {
            fixed.push(path);
        }
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("strict modes and owners on {}", fixed.join(", ")),
        safety: Safety::Safe,
        intents,
    }))
}
