//! Fixes of the services family: systemd drop-ins (`UNIT.d/90-rempart.conf`, and
//! `90-rempart-exec.conf` for a new command), never the unit file; lines of the files the app
//! server reads (EnvironmentFile, gunicorn.conf.py) edited in place; the service account's shell
//! in /etc/passwd. A unit runs under the service account that owns its working directory; when
//! root owns it, under a new system account made as `adduser --system --group` makes one (the
//! guide's `avmvp`: seed 000 §2).

mod command;

use super::accounts::{login_signs, nologin_edit};
use crate::change::{Fix, Intent, LineFormat, Safety};
use rempart_audit::facts::{Packages, Units};
use rempart_audit::host::{User, Users};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::accounts::AccountDb;
use rempart_audit::rules::services::discovery::{AppUnit, Discovery};
use rempart_audit::rules::services::{app_units, sandboxing};

/// The drop-in of a unit the fixes own.
fn dropin(unit: &str) -> String {
    format!("/etc/systemd/system/{unit}.d/90-rempart.conf")
}

/// The application units the services rules judge.
fn units(ctx: &Ctx) -> Vec<AppUnit> {
    match app_units(ctx) {
        Ok((d, idx)) => idx.into_iter().map(|i| d.units[i].clone()).collect(),
        Err(_) => Vec::new(),
    }
}

/// SVC-SANDBOXING: add the missing directives in a drop-in per unit. ReadWritePaths is left to the
/// admin when it is too broad (narrowing it can break the app): that gap is reported, not fixed.
pub fn sandboxing(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    let d = ctx.fact::<Discovery>();
    let mut intents = Vec::new();
    for u in &d.units {
        let gaps = sandboxing::gaps(u);
        if gaps.is_empty() {
            continue;
        }
        let path = dropin(&u.unit.name);
        for g in &gaps {
            let Some(key) = g.key.as_deref() else {
                continue;
            };
            let value = match key {
                "NoNewPrivileges" | "PrivateTmp" | "ProtectHome" => "yes",
                "ProtectSystem" => "strict",
                "CapabilityBoundingSet" => "",
                _ => continue,
            };
            intents.push(Intent::SetLine {
                path: path.clone(),
                format: LineFormat::Systemd,
                key: format!("Service/{key}"),
                value: value.to_string(),
                header: crate::fixes::header("#", "SVC-SANDBOXING"),
                mode: 0o644,
            });
        }
        // ProtectSystem=strict makes / read-only: keep the working directory writable if the
        // unit names none.
        if u.unit.all("Service", "ReadWritePaths").is_empty() {
            if let Some(wd) = &u.working_dir {
                intents.push(Intent::SetLine {
                    path: path.clone(),
                    format: LineFormat::Systemd,
                    key: "Service/ReadWritePaths".into(),
                    value: wd.clone(),
                    header: crate::fixes::header("#", "SVC-SANDBOXING"),
                    mode: 0o644,
                });
            }
        }
    }
    if intents.is_empty() {
        return Err("the remaining gap is a broad ReadWritePaths: narrow it to the directories the app writes".into());
    }
    Ok(Some(Fix {
        rule: "SVC-SANDBOXING".into(),
        summary: "add systemd sandboxing directives in drop-ins".into(),
        safety: Safety::Safe,
        intents,
    }))
}

/// Whether a reverse proxy is installed (the app is then reached through it).
fn reverse_proxy(ctx: &Ctx) -> Option<&'static str> {
    let pkgs = ctx.fact::<Packages>();
    let units = ctx.fact::<Units>();
    ["nginx", "apache2", "caddy", "haproxy", "traefik"]
        .into_iter()
        .find(|p| {
            pkgs.is_installed(p)
                || units.exists(&format!("{p}.service"))
                || ctx.host.exists(&format!("/usr/sbin/{p}"))
                || ctx.host.exists(&format!("/usr/bin/{p}"))
                || ctx.host.exists(&format!("/usr/local/bin/{p}"))
        })
}

/// SVC-BIND-ALL: every app server on loopback (the unit's command in a drop-in, or the line of
/// the EnvironmentFile or gunicorn config that sets the address). The same rewrite drops
/// `--reload`/`--debug` (SVC-DEV-MODE's fix) when the command has them.
pub fn bind_all(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut changes = Vec::new();
    let mut manual = Vec::new();
    for u in units(ctx) {
        let exposed = u
            .server
            .as_ref()
            .is_some_and(|s| s.binds.iter().any(|b| b.is_exposed()));
        if !exposed {
            continue;
        }
        let r = command::rewrite(ctx, &u);
        manual.extend(r.manual_binds);
        intents.extend(r.intents);
        changes.extend(r.changes);
    }
    if !manual.is_empty() {
        return Err(manual.join("; "));
    }
    if intents.is_empty() {
        return Ok(None);
    }
    let safety = match reverse_proxy(ctx) {
        Some(_) => Safety::Safe,
        None => Safety::Unsafe(
            "no reverse proxy is installed: clients that reach the app directly lose it".into(),
        ),
    };
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("{} (restart the units)", changes.join(", ")),
        safety,
        intents,
    }))
}

/// SVC-DEV-MODE: `--reload`/`--debug` removed and gunicorn's `reload = True` turned off, with the
/// same rewrite as SVC-BIND-ALL's. A development server (runserver, `flask run`, `fastapi dev`)
/// is replaced by hand.
pub fn dev_mode(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut changes = Vec::new();
    let mut manual = Vec::new();
    for u in units(ctx) {
        if u.server.as_ref().is_none_or(|s| s.dev_flags.is_empty()) {
            continue;
        }
        let r = command::rewrite(ctx, &u);
        manual.extend(r.manual_dev);
        intents.extend(r.intents);
        changes.extend(r.changes);
    }
    if !manual.is_empty() {
        return Err(manual.join("; "));
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("{} (restart the units)", changes.join(", ")),
        safety: Safety::Safe,
        intents,
    }))
}

/// The service account to run `u` as: the system account (uid below UID_MIN) that owns its
/// working directory.
fn service_account<'a>(
    ctx: &Ctx,
    users: &'a Users,
    uid_min: u32,
    u: &AppUnit,
) -> Result<&'a User, String> {
    let create = format!(
        "create an account first (adduser --system --group --no-create-home --shell \
         /usr/sbin/nologin APP), give it the app directory, then set User=APP in a drop-in of {}",
        u.unit.name
    );
    let wd = u
        .working_dir
        .as_deref()
        .ok_or_else(|| format!("{} has no WorkingDirectory: {create}", u.unit.name))?;
    let meta = ctx
        .host
        .metadata(wd)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{wd} does not exist: {create}"))?;
    match users.user_by_uid(meta.uid) {
        Some(a) if a.uid != 0 && a.uid < uid_min && a.uid != 65534 => Ok(a),
        Some(a) if a.uid == 0 => Err(format!("{wd} belongs to root: {create}")),
        Some(a) => Err(format!(
            "{wd} belongs to {}, a login account: {create}",
            a.name
        )),
        None => Err(format!(
            "{wd} belongs to uid {}, unknown: {create}",
            meta.uid
        )),
    }
}

/// A system account for `unit`, as `adduser --system --group --no-create-home --shell
/// /usr/sbin/nologin` makes it: named after the unit, uid and gid the first free from 100
/// (Debian's FIRST_SYSTEM_UID) below UID_MIN, password locked; one line appended to passwd,
/// group, shadow and gshadow each (journaled like every write: rollback removes it).
fn new_system_account(
    ctx: &Ctx,
    users: &Users,
    uid_min: u32,
    unit: &str,
    taken: &[(String, u32)],
) -> Result<(User, Vec<Intent>), String> {
    let stem = unit.strip_suffix(".service").unwrap_or(unit);
    let mut name: String = stem
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(32)
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert(0, 'u');
        name.truncate(32);
    }
    if users.user(&name).is_some() || users.groups.iter().any(|g| g.name == name) {
        return Err(format!(
            "an account or group named {name} exists but does not own the unit's directory: \
             give it the directory, or set User= by hand"
        ));
    }
    let used = |id: u32| {
        users.users.iter().any(|u| u.uid == id)
            || users.groups.iter().any(|g| g.gid == id)
            || taken.iter().any(|(_, t)| *t == id)
    };
    let id = (100..uid_min.min(1000))
        .find(|id| !used(*id))
        .ok_or("no free system uid below UID_MIN")?;
    let days = jiff::Timestamp::now().as_second() / 86_400;
    let mut intents = Vec::new();
    for (path, line) in [
        (
            "/etc/passwd",
            format!("{name}:x:{id}:{id}:{stem} (rempart harden):/nonexistent:/usr/sbin/nologin"),
        ),
        ("/etc/group", format!("{name}:x:{id}:")),
        ("/etc/shadow", format!("{name}:!:{days}::::::")),
        ("/etc/gshadow", format!("{name}:!::")),
    ] {
        // A tree may lack the shadow files (a fixture, a container image): nothing to add then.
        if matches!(path, "/etc/shadow" | "/etc/gshadow") && !ctx.host.exists(path) {
            continue;
        }
        intents.push(Intent::InsertLine {
            path: path.to_string(),
            before: u32::MAX,
            text: line,
        });
    }
    Ok((
        User {
            name,
            password: "x".into(),
            uid: id,
            gid: id,
            home: "/nonexistent".into(),
            shell: "/usr/sbin/nologin".into(),
            line: 0,
        },
        intents,
    ))
}

/// SVC-RUNS-AS-ROOT: `User=`/`Group=` of the service account owning the unit's working
/// directory, in the unit's drop-in (or on the later drop-in line that puts root back), and that
/// account's shell set to nologin if it has one. When root owns the directory, a new system
/// account for the unit (seed 000 §2: the backend runs as its own user with no shell); unsafe
/// then, since the service can no longer write where only root may.
pub fn runs_as_root(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let db = ctx.fact::<AccountDb>();
    let users = &db.users;
    let mut intents = Vec::new();
    let mut changes = Vec::new();
    let mut used = Vec::new();
    let mut created: Vec<(String, u32)> = Vec::new();
    // Units whose directory root owns: what they write must be given to their account.
    let mut writes: Vec<String> = Vec::new();
    let ours = "90-rempart.conf";
    for u in units(ctx).iter().filter(|u| u.runs_as_root()) {
        let root_owned = u
            .working_dir
            .as_deref()
            .and_then(|wd| ctx.host.metadata(wd).ok().flatten())
            .is_some_and(|m| m.uid == 0);
        // The account made for the app (its home is the app's directory or above it, as the
        // guide's avmvp in /opt/av-monitoring-mvp), else a new one.
        let by_home = u.working_dir.as_deref().and_then(|wd| {
            users.users.iter().find(|a| {
                a.uid != 0
                    && a.uid < db.uid_min
                    && a.home.len() > 1
                    && (wd == a.home
                        || wd.starts_with(&format!("{}/", a.home.trim_end_matches('/'))))
            })
        });
        let account: User = match service_account(ctx, users, db.uid_min, u) {
            Ok(a) => a.clone(),
            Err(_) if root_owned && by_home.is_some() => {
                let a = by_home.expect("checked").clone();
                writes.push(format!(
                    "{} now runs as {} (home {}), which cannot write where only root may",
                    u.unit.name, a.name, a.home
                ));
                a
            }
            Err(_) if root_owned => {
                let (a, add) = new_system_account(ctx, users, db.uid_min, &u.unit.name, &created)?;
                created.push((a.name.clone(), a.uid));
                intents.extend(add);
                writes.push(format!(
                    "{} now runs as the new system account {}, which cannot write where only \
                     root may",
                    u.unit.name, a.name
                ));
                a
            }
            Err(e) => return Err(e),
        };
        // A new account's group is new too (same name).
        let group = users
            .group_by_gid(account.gid)
            .map_or_else(|| account.name.clone(), |g| g.name.clone());
        match u.unit.get("Service", "User") {
            // A drop-in read after ours puts root back: edit its line.
            Some(s)
                if s.path != u.unit.path && s.path.rsplit('/').next().is_some_and(|n| n > ours) =>
            {
                let new = format!("User={}", account.name);
                intents.push(Intent::EditLine {
                    path: ctx.host.canonical(&s.path).map_err(|e| e.to_string())?,
                    line: s.line,
                    old: s.text.clone(),
                    new,
                });
            }
            _ => {
                for (k, v) in [("Service/User", &account.name), ("Service/Group", &group)] {
                    intents.push(Intent::SetLine {
                        path: dropin(&u.unit.name),
                        format: LineFormat::Systemd,
                        key: k.into(),
                        value: v.clone(),
                        header: crate::fixes::header("#", "SVC-RUNS-AS-ROOT"),
                        mode: 0o644,
                    });
                }
            }
        }
        if account.has_login_shell() {
            intents.push(nologin_edit(&account));
            let signs = login_signs(ctx, users, &account);
            if !signs.is_empty() {
                used.push(format!("{} has {}", account.name, signs.join(", ")));
            }
        }
        changes.push(format!("{} runs as {}", u.unit.name, account.name));
    }
    if intents.is_empty() {
        return Ok(None);
    }
    let mut why = Vec::new();
    if !used.is_empty() {
        why.push(format!(
            "the service account gets the nologin shell and logins as it stop: {}",
            used.join("; ")
        ));
    }
    if !writes.is_empty() {
        why.push(format!(
            "{}: give the account what the service writes (chown, with ReadWritePaths= under \
             ProtectSystem), as the guide does for its backend directory (seed 000 §2)",
            writes.join("; ")
        ));
    }
    let safety = if why.is_empty() {
        Safety::Safe
    } else {
        Safety::Unsafe(why.join("; "))
    };
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "{} (shell nologin; restart the units; files the app writes outside its working \
             directory must belong to the account)",
            changes.join(", ")
        ),
        safety,
        intents,
    }))
}

/// SVC-ACCOUNT-SHELL: `/usr/sbin/nologin` for the accounts application units run as.
pub fn account_shell(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let users = ctx.fact::<Users>();
    let mut intents = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut used = Vec::new();
    for u in units(ctx) {
        let Some(name) = u.user.as_deref().filter(|n| *n != "root" && *n != "0") else {
            continue;
        };
        let Some(account) = users.user(name) else {
            continue;
        };
        if !account.has_login_shell() || names.iter().any(|n| n == name) {
            continue;
        }
        intents.push(nologin_edit(account));
        names.push(name.to_string());
        let signs = login_signs(ctx, &users, account);
        if !signs.is_empty() {
            used.push(format!("{name} has {}", signs.join(", ")));
        }
    }
    if intents.is_empty() {
        return Ok(None);
    }
    let safety = if used.is_empty() {
        Safety::Safe
    } else {
        Safety::Unsafe(format!(
            "logins as these accounts stop: {}",
            used.join("; ")
        ))
    };
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "shell /usr/sbin/nologin for {} (systemd does not need it)",
            names.join(", ")
        ),
        safety,
        intents,
    }))
}
