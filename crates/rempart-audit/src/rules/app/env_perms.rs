//! APP-ENV-PERMS: applications' environment files are readable by their service only.

use super::env::AppEnvs;
use super::strength::secret_kind;
use crate::host::{User, Users};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::services::discovery::{App, Discovery};

pub const RULE: Rule = Rule {
    id: "APP-ENV-PERMS",
    name: "app-env-file-exposed",
    family: Family::App,
    severity: Severity::High,
    level: Level::Sme,
    title: "Applications' .env files are readable by their service account only",
    doc: RuleDoc {
        what: "Every environment file of a discovered application — `.env` and `.env.*` in \
               its directory (templates such as `.env.example` excepted), and the files its \
               units name with `EnvironmentFile=` when they hold a secret-looking variable — \
               has no permission for others and none for the group (mode 0600 or stricter), \
               and belongs to the service's account (`User=` of its unit) or to root. One \
               exception: mode 0640 owned by root with the service's own group, the usual way \
               to let a service read a file it cannot change. Without a known service account \
               only the mode is judged, as for the `.env` beside each docker compose file \
               (compose reads it for interpolation). Secrets files outside applications are \
               judged by the files family. Secret-looking variables set with `Environment=` \
               in a unit file or drop-in fail too: unit files are world-readable and \
               `systemctl show` prints them to any user.",
        why: "These files hold the database password and the session or signing secrets. \
              Readable by other accounts, any compromised service or local user gets them; \
              owned by another regular account, that account can change them and the \
              service runs with its values.",
        remediation: "chown APPUSER:APPUSER FILE && chmod 600 FILE (or chown root:APPGROUP \
                      FILE && chmod 640 FILE for a file only systemd or the service reads).",
        verify: "stat -c '%a %U:%G %n' APPDIR/.env",
        references: &[
            "seed 000 §6 Gestion des secrets (.env en 600, propriétaire avmvp:avmvp)",
            "seed 000 Checklist (Fichier .env avec permissions 600)",
        ],
    },
    check,
};

/// The account an application's services run as, when it is a fixed one: `None` for a
/// DynamicUser= service (its uid changes at every start) or a user the host does not know.
pub fn service_account<'a>(d: &Discovery, app: &App, users: &'a Users) -> Option<&'a User> {
    if dynamic_user(d, app) {
        return None;
    }
    app.user.as_deref().and_then(|u| users.user(u))
}

/// Whether one of the application's units runs with DynamicUser=.
pub fn dynamic_user(d: &Discovery, app: &App) -> bool {
    d.units
        .iter()
        .filter(|u| app.units.contains(&u.unit.name))
        .any(|u| u.dynamic_user())
}

fn check(ctx: &Ctx) -> Outcome {
    let d = ctx.fact::<Discovery>();
    let envs = ctx.fact::<AppEnvs>();
    let users = ctx.fact::<Users>();
    let mut bad = Vec::new();
    let mut seen = Vec::new();
    let mut errors = Vec::new();
    let mut judged = 0;
    for (i, env) in envs.apps.iter().enumerate() {
        let app = &d.apps[i];
        errors.extend(env.errors.iter().cloned());
        let dynamic = dynamic_user(&d, app);
        let account = service_account(&d, app, &users);
        for f in &env.files {
            let in_app = f.path.starts_with(&format!("{}/", app.dir));
            let has_secret = f.entries.iter().any(|e| {
                secret_kind(&e.key).is_some() || super::strength::url_password(&e.value).is_some()
            });
            if !in_app && !has_secret {
                continue;
            }
            let Some(meta) = f.meta else { continue };
            judged += 1;
            let mut problems = Vec::new();
            let group_ok = |gid: u32| account.is_some_and(|a| a.gid == gid);
            let mode_ok = meta.mode & 0o077 == 0
                || (meta.mode & 0o037 == 0 && meta.uid == 0 && group_ok(meta.gid));
            if !mode_ok {
                problems.push(
                    Evidence::file(&f.path)
                        .key("mode")
                        .actual(meta.mode_octal())
                        .expected("0600"),
                );
            }
            let owner_ok = meta.uid == 0 || (!dynamic && account.is_none_or(|a| a.uid == meta.uid));
            if !owner_ok {
                let who = users.user_by_uid(meta.uid).map_or_else(
                    || meta.uid.to_string(),
                    |u| format!("{} ({})", u.name, u.uid),
                );
                let want = match account {
                    Some(a) => format!("{} or root", a.name),
                    None => "root (DynamicUser: systemd reads it)".into(),
                };
                problems.push(
                    Evidence::file(&f.path)
                        .key("owner")
                        .actual(who)
                        .expected(want),
                );
            }
            if problems.is_empty() {
                seen.push(
                    Evidence::file(&f.path)
                        .key("mode")
                        .actual(meta.mode_octal()),
                );
            } else {
                bad.extend(problems);
            }
        }
    }
    // Secrets written in the units themselves: unit files are world-readable and
    // `Environment=` is shown to every user by `systemctl show`.
    for u in &d.units {
        let in_unit = |p: &str| p == u.unit.path || u.unit.dropins.iter().any(|d| d == p);
        for v in &u.env {
            if !in_unit(&v.origin.path) {
                continue;
            }
            let secret =
                secret_kind(&v.key).is_some() || super::strength::url_password(&v.value).is_some();
            if !secret {
                continue;
            }
            judged += 1;
            let mut ev = Evidence::file(&v.origin.path)
                .key(&v.key)
                .snippet(format!("Environment={}=<redacted>", v.key))
                .actual("set in the unit file (readable by every user)")
                .expected("EnvironmentFile= with mode 0600")
                .note(format!("unit {}", u.unit.name));
            if let Some(l) = v.origin.line {
                ev = ev.line(l);
            }
            bad.push(ev);
        }
    }
    // The `.env` of compose projects (seed 001's monitoring/.env holds the admin and SMTP
    // passwords): only the mode is judged, the project's account is not known.
    let compose = ctx.fact::<crate::rules::containers::compose::ComposeFiles>();
    let mut done: Vec<String> = envs
        .apps
        .iter()
        .flat_map(|e| e.files.iter().map(|f| f.path.clone()))
        .collect();
    for c in &compose.files {
        let dotenv = format!("{}/.env", crate::rules::app::pyread::eval::dirname(&c.path));
        if done.contains(&dotenv) {
            continue;
        }
        done.push(dotenv.clone());
        let Ok(Some(meta)) = ctx.host.metadata(&dotenv) else {
            continue;
        };
        judged += 1;
        if meta.mode & 0o077 != 0 {
            bad.push(
                Evidence::file(&dotenv)
                    .key("mode")
                    .actual(meta.mode_octal())
                    .expected("0600")
                    .note("the .env of a compose project"),
            );
        } else {
            seen.push(
                Evidence::file(&dotenv)
                    .key("mode")
                    .actual(meta.mode_octal()),
            );
        }
    }
    if !bad.is_empty() {
        let files: std::collections::BTreeSet<_> =
            bad.iter().filter_map(|e| e.path.clone()).collect();
        return Outcome::fail(format!(
            "{} application environment file(s) readable or owned beyond the service",
            files.len()
        ))
        .with_all(bad);
    }
    if let Some(e) = errors.first() {
        return Outcome::from(e.clone());
    }
    if judged == 0 {
        return Outcome::not_applicable("no application environment file found");
    }
    Outcome::pass(format!(
        "{judged} environment file(s) restricted to their service"
    ))
    .with_all(seen)
}
