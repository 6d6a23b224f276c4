//! CTR-WEAK-ADMIN-PASSWORD, and the compose half of APP-ENV-SECRETS: a weak admin password of a
//! compose service rotated where editing files is the whole change, with every client in the
//! same project that holds the old value.
//!
//! When a file edit is complete (seed 001 Security Checklist: strong passwords of 20+
//! characters; the images' own documentation for when each variable is read):
//! - PostgreSQL images read `POSTGRES_PASSWORD` only when they initialise an empty data
//!   directory. It is rotated only when the service's data directory is a bind mount, or a named
//!   volume whose host directory (`DATA-ROOT/volumes/PROJECT_NAME/_data`) resolves, that exists
//!   and holds no `PG_VERSION`: the cluster does not exist yet, so its first start takes the new
//!   password. Clients: `postgres(ql)://` URLs for the same user naming the service or its
//!   `container_name`, in the project's services' environment and env files and in its `.env`.
//! - MinIO reads `MINIO_ROOT_USER` / `MINIO_ROOT_PASSWORD` at every start (MinIO's root
//!   settings: environment variables defined before starting or restarting the server; the
//!   backend is no longer encrypted with them since RELEASE.2021-04-22). Clients: the project's
//!   S3/MinIO secret variables (`AWS_SECRET_ACCESS_KEY`, `S3_SECRET_KEY`, `MINIO_SECRET_KEY`
//!   ...) holding the old value.
//! - Grafana applies `GF_SECURITY_ADMIN_PASSWORD` only when it creates `grafana.db`: rotated
//!   when `/var/lib/grafana` (or `GF_PATHS_DATA`) is a bind mount or resolvable named volume
//!   whose directory exists without `grafana.db`, or has no volume at all: images from 5.1 on
//!   declare none, so grafana.db lives in the container's layer and the recreation `up -d`
//!   does after the change starts a new one (UNSAFE: what was made in the web interface goes
//!   with the old container). Before 5.1 the image's anonymous volume kept the old database.
//!
//! Everything else (an initialised cluster, an anonymous or unresolvable data location, a value
//! built from several variables or set in a unit) is declined with the reason: the live
//! password must change inside the service (`ALTER ROLE`, `grafana cli admin
//! reset-admin-password`), which needs the Docker engine rempart does not drive.
//!
//! Where the new password goes: the compose file is usually world-readable, so a literal there
//! becomes `${VAR}` and the value goes into the project's `.env` (read by compose for
//! interpolation), mode 0600, owner kept; a value already read from an env file is replaced in
//! that file. Every file that receives a secret is marked so plans never show it.
//!
//! The rotations are a fact, drawn once per plan: CTR-WEAK-ADMIN-PASSWORD (for the service) and
//! APP-ENV-SECRETS (for a client's `DATABASE_URL`) then ask for the very same intents, which the
//! plan folds once.

use super::super::app::secrets::{db_url, strong_random, value_span as env_value_span, ALNUM};
use super::super::web::{line_at, real_path};
use super::data_dir::{fresh_data, minio_too_old, Fresh};
use crate::change::{Fix, Intent, Safety};
use crate::edit::compose_value_span;
use rempart_audit::report::Finding;
use rempart_audit::rule::{Ctx, Fact};
use rempart_audit::rules::app::pyread::eval::dirname;
use rempart_audit::rules::app::strength::{judge, SecretKind};
use rempart_audit::rules::containers::compose::{
    yaml, ComposeFile, ComposeFiles, EnvItem, Service,
};
use rempart_audit::rules::containers::weak_password::{DEFAULTS, POSTGRES_IMAGES};
use rempart_audit::rules::services::unit::parse_env;

/// Length of generated passwords (letters and digits: safe in a URL, YAML and a `.env`).
const LENGTH: usize = 32;

/// The images whose admin password a file edit can rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Postgres,
    Minio,
    Grafana,
}

/// How a line holds the old password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// It is the whole value.
    Whole,
    /// It is the password of a `postgres://user:PASSWORD@host/...` URL.
    UrlPassword,
}

/// A line holding the old password: a compose file's `environment` entry (it gets `${VAR}`) or
/// an env file's `KEY=value` line (it gets the new value).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    path: String,
    line: u32,
    key: String,
    compose: bool,
    how: How,
    /// What the value reads today (checked against the line before it is edited).
    old: String,
}

/// A weak admin password and where its rotation stands.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// `SERVICE (COMPOSE-FILE)`.
    pub service: String,
    /// Host names clients use for it (the service and its container_name).
    pub names: Vec<String>,
    /// Every `(real path, line)` holding the old password: the service's own variable (and the
    /// compose line that reads it) and its clients.
    pub covers: Vec<(String, u32)>,
    /// The intents, or why the rotation is left to the admin.
    pub plan: Result<Planned, String>,
}

/// A rotation's changes.
#[derive(Debug, Clone)]
pub struct Planned {
    pub intents: Vec<Intent>,
    pub what: String,
    /// What can break that the plan does not change (`None`: nothing).
    pub risk: Option<String>,
}

/// Every weak admin password of the host's compose services, with its rotation.
#[derive(Debug, Clone, Default)]
pub struct Rotations {
    pub list: Vec<Rotation>,
}

impl Rotations {
    /// The rotation covering line `line` of `path`.
    pub fn at(&self, ctx: &Ctx, path: &str, line: u32) -> Option<&Rotation> {
        let real = real_path(ctx, path).unwrap_or_else(|_| path.to_string());
        self.list
            .iter()
            .find(|r| r.covers.iter().any(|(p, l)| *p == real && *l == line))
    }
}

/// A variable appended to a project's `.env`.
struct Add {
    dotenv: String,
    var: String,
    password: String,
}

/// A rotation before the `.env` lines of its project are numbered.
struct Draft {
    file: usize,
    /// The project's `.env` (host path).
    dotenv: String,
    rotation: Rotation,
    /// The service's variable and its clients' lines.
    places: Vec<Place>,
    /// The variable appended to the `.env` (the service's value was a literal of the compose
    /// file, or a variable set nowhere).
    dotenv_var: Option<String>,
    /// The `${VAR}` compose lines are given: a variable of the `.env` holding the new value.
    var: Option<String>,
    password: String,
    what: String,
    risk: Option<String>,
}

impl Fact for Rotations {
    fn collect(ctx: &Ctx) -> Rotations {
        let c = ctx.fact::<ComposeFiles>();
        let mut drafts: Vec<Draft> = Vec::new();
        let mut out = Rotations::default();
        for (i, f) in c.files.iter().enumerate() {
            for s in &f.services {
                match draft(ctx, f, s) {
                    None => {}
                    Some(Ok(mut d)) => {
                        d.file = i;
                        drafts.push(d);
                    }
                    Some(Err(rotation)) => out.list.push(rotation),
                }
            }
        }
        // The `.env` lines each project gets, numbered in order so every rotation inserts at
        // its own place (and the same intent asked twice is folded once).
        let adds: Vec<Add> = drafts
            .iter()
            .filter_map(|d| {
                Some(Add {
                    dotenv: d.dotenv.clone(),
                    var: d.dotenv_var.clone()?,
                    password: d.password.clone(),
                })
            })
            .collect();
        for mut d in drafts {
            let plan = intents(ctx, &c.files[d.file], &adds, &d);
            d.rotation.plan = plan.map(|intents| Planned {
                intents,
                what: d.what.clone(),
                risk: d.risk.clone(),
            });
            out.list.push(d.rotation);
        }
        out
    }
}

/// The kind of image and the variable holding its admin password.
fn kind_of(s: &Service) -> Option<(Kind, &'static str)> {
    let image = s.image_name()?;
    if POSTGRES_IMAGES
        .iter()
        .any(|n| image == *n || image.ends_with(&format!("/{n}")))
    {
        return Some((Kind::Postgres, "POSTGRES_PASSWORD"));
    }
    DEFAULTS
        .iter()
        .find(|(images, _, _)| images.contains(&image.as_str()))
        .map(|(_, var, _)| match *var {
            "MINIO_ROOT_PASSWORD" => (Kind::Minio, *var),
            _ => (Kind::Grafana, *var),
        })
}

/// Whether an interpolated value was set in a systemd unit (left alone here).
fn in_unit(path: &str) -> bool {
    path.contains("/systemd/") || path.ends_with(".service") || path.ends_with(".conf")
}

/// Where an environment entry's value is written: the line to edit, and the variable a compose
/// line can name to read the new value (`${VAR}` set in the project's `.env`).
fn place_of(
    f: &ComposeFile,
    dotenv: &str,
    e: &EnvItem,
    how: How,
    old: &str,
) -> Result<(Place, Option<String>), String> {
    let place = |path: &str, line: u32, key: &str, compose: bool| Place {
        path: path.to_string(),
        line,
        key: key.to_string(),
        compose,
        how,
        old: old.to_string(),
    };
    match e.vars.as_slice() {
        [] if e.path == f.path => Ok((place(&f.path, e.line, &e.key, true), None)),
        [] => {
            let var = (e.path == dotenv).then(|| e.key.clone());
            Ok((place(&e.path, e.line, &e.key, false), var))
        }
        [v] => match &v.hit {
            Some(h) if Some(h.value.as_str()) == e.value.as_deref() && !in_unit(&h.path) => {
                let var = (h.path == dotenv).then(|| h.key.clone());
                Ok((place(&h.path, h.line, &h.key, false), var))
            }
            Some(h) => Err(format!(
                "{} reads ${} from {}:{} (a unit's environment, or through a fallback): \
                 change it there by hand",
                e.key, v.name, h.path, h.line
            )),
            None if e.path == f.path && how == How::Whole => {
                Ok((place(&f.path, e.line, &e.key, true), Some(v.name.clone())))
            }
            None => Err(format!(
                "{} uses ${}, which is set nowhere: set it by hand",
                e.key, v.name
            )),
        },
        _ => Err(format!(
            "{} ({}:{}) is built from several variables: change it by hand",
            e.key, e.path, e.line
        )),
    }
}

/// A variable holding an S3 / MinIO secret key (a client of MinIO's root password).
fn s3_secret(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["MINIO", "S3", "AWS"].iter().any(|w| k.contains(w))
        && ["SECRET", "PASSWORD", "PASS"].iter().any(|w| k.contains(w))
}

/// The weak admin password of service `s` and its rotation (`Ok`: to be numbered; `Err`: a
/// rotation that is declined, with its reason); `None` when its password is not weak.
fn draft(ctx: &Ctx, f: &ComposeFile, s: &Service) -> Option<Result<Draft, Rotation>> {
    let (kind, var) = kind_of(s)?;
    let e = match kind {
        Kind::Minio => s.env(var).or_else(|| s.env("MINIO_SECRET_KEY")),
        _ => s.env(var),
    }?;
    let old = e.value.clone()?;
    judge(&old, SecretKind::Password)?;
    let dotenv = format!("{}/.env", dirname(&f.path));
    let real = |p: &str| real_path(ctx, p).unwrap_or_else(|_| p.to_string());
    let root = yaml::parse(&f.text).ok();
    let mut names = vec![s.name.clone()];
    if let Some(cn) = root.as_ref().and_then(|r| {
        r.get("services")?
            .get(&s.name)?
            .get("container_name")?
            .scalar()
    }) {
        names.push(cn);
    }
    let mut rotation = Rotation {
        service: format!("service {} ({})", s.name, f.path),
        names: names.clone(),
        covers: vec![(real(&e.path), e.line)],
        plan: Err(String::new()),
    };
    for h in e.vars.iter().filter_map(|v| v.hit.as_ref()) {
        rotation.covers.push((real(&h.path), h.line));
    }
    let user = s
        .env("POSTGRES_USER")
        .and_then(|u| u.value.clone())
        .unwrap_or_else(|| "postgres".to_string());
    // Clients in the project: its services' environment and env files, and its .env.
    let client_how = |key: &str, value: &str| -> Option<How> {
        match kind {
            Kind::Postgres => db_url(value)
                .filter(|u| {
                    names.iter().any(|n| n == u.host)
                        && u.user == user
                        && value.get(u.pass_at.0..u.pass_at.1) == Some(old.as_str())
                })
                .map(|_| How::UrlPassword),
            Kind::Minio => (s3_secret(key) && value == old).then_some(How::Whole),
            Kind::Grafana => None,
        }
    };
    // The service's own line, and the variable of the .env that will hold the new value.
    let seed = place_of(f, &dotenv, e, How::Whole, &old);
    let dotenv_var = match &seed {
        Ok((p, _)) if p.compose => Some(match e.vars.as_slice() {
            [v] => v.name.clone(),
            _ => e.key.clone(),
        }),
        _ => None,
    };
    let var = dotenv_var
        .clone()
        .or_else(|| seed.as_ref().ok().and_then(|(_, v)| v.clone()));
    let mut clients: Vec<Result<Place, String>> = Vec::new();
    for s2 in f.services.iter().filter(|s2| s2.name != s.name) {
        for c in &s2.environment {
            let Some(how) = c.value.as_deref().and_then(|v| client_how(&c.key, v)) else {
                continue;
            };
            rotation.covers.push((real(&c.path), c.line));
            for h in c.vars.iter().filter_map(|v| v.hit.as_ref()) {
                rotation.covers.push((real(&h.path), h.line));
            }
            // A client reading the variable that gets the new value follows it.
            if c.vars.iter().any(|v| Some(&v.name) == var.as_ref()) {
                continue;
            }
            clients.push(place_of(f, &dotenv, c, how, &old).map(|(p, _)| p));
        }
    }
    if let Ok(Some(t)) = ctx.host.read_text(&dotenv) {
        for (key, value, line) in parse_env(&t.text) {
            if let Some(how) = client_how(&key, &value) {
                rotation.covers.push((real(&dotenv), line));
                clients.push(Ok(Place {
                    path: dotenv.clone(),
                    line,
                    key,
                    compose: false,
                    how,
                    old: old.clone(),
                }));
            }
        }
    }
    let fail = |mut rotation: Rotation, why: String| {
        rotation.plan = Err(why);
        Some(Err(rotation))
    };
    let seed = match seed {
        Ok((p, _)) => p,
        Err(why) => return fail(rotation, why),
    };
    let mut places = vec![seed];
    for c in clients {
        match c {
            Ok(p) if p.compose && var.is_none() => {
                return fail(
                    rotation,
                    format!(
                        "{} in {}:{} holds the password in the compose file, and the new one \
                         would not be in the project's .env for it to read: change both by hand",
                        p.key, p.path, p.line
                    ),
                )
            }
            Ok(p) => {
                if !places
                    .iter()
                    .any(|q| real(&q.path) == real(&p.path) && q.line == p.line)
                {
                    places.push(p);
                }
            }
            Err(why) => return fail(rotation, why),
        }
    }
    // The data location decides whether the new value reaches the service.
    let mut layer_risk = None;
    let why_complete = match kind {
        Kind::Postgres | Kind::Grafana => match fresh_data(ctx, f, &dotenv, s, kind) {
            Ok(Fresh::Dir(dir)) => format!(
                "{dir} holds no {} yet, so the first start takes the new password",
                if kind == Kind::Postgres {
                    "cluster"
                } else {
                    "grafana.db"
                }
            ),
            Ok(Fresh::ContainerLayer) => {
                layer_risk = Some(format!(
                    "{} keeps grafana.db in the container itself (no volume for its data): \
                     the recreation starts it from an empty database, so dashboards, users, \
                     API keys and settings made in its web interface (not provisioned from \
                     files) are lost, as they already are at every image update; to keep \
                     them, mount a volume on /var/lib/grafana and copy grafana.db into it \
                     (`docker compose cp`) before applying",
                    rotation.service
                ));
                "no volume holds grafana.db, so `docker compose up -d` recreates Grafana \
                 with a new one that takes the new password"
                    .to_string()
            }
            Err(why) => return fail(rotation, why),
        },
        Kind::Minio if minio_too_old(s) => {
            return fail(
                rotation,
                "MinIO releases before 2022 encrypt their configuration with the root \
                 credentials: start it once with MINIO_ROOT_PASSWORD_OLD set, by hand"
                    .to_string(),
            )
        }
        Kind::Minio => "MinIO reads its root credentials at every start".to_string(),
    };
    let password = match strong_random(ALNUM, LENGTH, SecretKind::Password) {
        Ok(p) => p,
        Err(why) => return fail(rotation, why),
    };
    let clients_named: Vec<String> = places[1..]
        .iter()
        .map(|p| format!("{} ({}:{})", p.key, p.path, p.line))
        .collect();
    let what = format!(
        "{} of {}: a new {LENGTH}-character password{} ({why_complete})",
        e.key,
        rotation.service,
        if clients_named.is_empty() {
            String::new()
        } else {
            format!(", also in {}", clients_named.join(", "))
        }
    );
    let risk = layer_risk.or_else(|| {
        (kind == Kind::Minio).then(|| {
            "clients outside this compose project that use MinIO's root credentials (an `mc alias` \
         on a workstation, rclone or a backup job on another host) fail to log in until they get \
         the new password"
                .to_string()
        })
    });
    Some(Ok(Draft {
        file: 0,
        dotenv,
        rotation,
        places,
        dotenv_var,
        var,
        password,
        what,
        risk,
    }))
}

/// The intents of a draft: every line rewritten, the `.env` line added, the files that receive
/// the secret marked and made owner-only.
fn intents(ctx: &Ctx, f: &ComposeFile, adds: &[Add], d: &Draft) -> Result<Vec<Intent>, String> {
    let mut out = Vec::new();
    let mut secret_files: Vec<String> = Vec::new();
    for p in &d.places {
        let (real, text) = line_at(ctx, &p.path, p.line)?;
        let bad = || {
            format!(
                "{}:{}: {} is not written as a plain value rempart can replace: change it by hand",
                p.path, p.line, p.key
            )
        };
        let span = if p.compose {
            compose_value_span(&text, &p.key)
        } else {
            env_value_span(&text, &p.key)
        }
        .ok_or_else(bad)?;
        let span = match p.how {
            How::Whole => {
                if !p.compose && text.get(span.0..span.1) != Some(p.old.as_str()) {
                    return Err(bad());
                }
                span
            }
            How::UrlPassword => {
                let value = &text[span.0..span.1];
                let u = db_url(value).ok_or_else(bad)?;
                if value.get(u.pass_at.0..u.pass_at.1) != Some(p.old.as_str()) {
                    return Err(bad());
                }
                (span.0 + u.pass_at.0, span.0 + u.pass_at.1)
            }
        };
        let new_value = if p.compose {
            format!("${{{}}}", d.var.as_deref().ok_or_else(bad)?)
        } else {
            d.password.clone()
        };
        let new = format!("{}{new_value}{}", &text[..span.0], &text[span.1..]);
        out.push(Intent::EditLine {
            path: real.clone(),
            line: p.line,
            old: text,
            new,
        });
        if !p.compose {
            secret_files.push(real);
        }
    }
    if let Some(var) = &d.dotenv_var {
        let mine: Vec<&Add> = adds.iter().filter(|a| a.dotenv == d.dotenv).collect();
        if mine.iter().filter(|a| a.var == *var).count() > 1 {
            return Err(format!(
                "two services of {} would take ${var} from {}: give each its own variable by hand",
                f.path, d.dotenv
            ));
        }
        let k = mine.iter().position(|a| a.var == *var).unwrap_or(0);
        let dir = real_path(ctx, &dirname(&d.dotenv))?;
        let path = format!("{}/.env", dir.trim_end_matches('/'));
        match ctx.host.read_text(&path).map_err(|e| e.to_string())? {
            Some(t) => {
                if parse_env(&t.text).iter().any(|(k, _, _)| k == var) {
                    return Err(format!(
                        "{path} already sets {var} for another use: choose the variable by hand"
                    ));
                }
                let n = t.text.lines().count() as u32;
                out.push(Intent::InsertLine {
                    path: path.clone(),
                    before: n + 1 + k as u32,
                    text: format!("{var}={}", d.password),
                });
            }
            None => {
                let meta = ctx
                    .host
                    .metadata(&f.path)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("{} is gone", f.path))?;
                let mut content = crate::fixes::header("#", "CTR-WEAK-ADMIN-PASSWORD");
                for a in &mine {
                    content.push_str(&format!("{}={}\n", a.var, a.password));
                }
                out.push(Intent::Write {
                    path: path.clone(),
                    content: content.into_bytes(),
                    mode: 0o600,
                    uid: meta.uid,
                    gid: meta.gid,
                });
            }
        }
        secret_files.push(path);
    }
    secret_files.sort();
    secret_files.dedup();
    for path in secret_files {
        out.push(Intent::MarkSecret { path: path.clone() });
        if let Ok(Some(m)) = ctx.host.metadata(&path) {
            if m.mode & 0o077 != 0 {
                out.push(Intent::Chmod { path, mode: 0o600 });
            }
        }
    }
    Ok(out)
}

/// CTR-WEAK-ADMIN-PASSWORD: each weak admin password whose rotation is complete as a file
/// edit (see the module documentation) gets a new random value, in its service and in its
/// clients; the others are named in the summary (or the fix declines, when none is left to do).
pub fn weak_admin_password(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let rotations = ctx.fact::<Rotations>();
    let mut chosen: Vec<&Planned> = Vec::new();
    let mut left: Vec<String> = Vec::new();
    for e in &f.evidence {
        let (Some(path), Some(line)) = (e.path.as_deref(), e.line) else {
            continue;
        };
        // Items without a judgement point at where an interpolated value was set.
        if e.actual.is_none() {
            continue;
        }
        let key = e.key.as_deref().unwrap_or("the password");
        match rotations.at(ctx, path, line).map(|r| (r, &r.plan)) {
            Some((_, Ok(p))) => {
                if !chosen.iter().any(|c| std::ptr::eq(*c, p)) {
                    chosen.push(p);
                }
            }
            Some((r, Err(why))) => left.push(format!("{key} of {}: {why}", r.service)),
            None => left.push(format!("{path}:{line}: {}", not_rotated(key, e))),
        }
    }
    if chosen.is_empty() {
        return if left.is_empty() {
            Ok(None)
        } else {
            Err(left.join("; "))
        };
    }
    let mut summary = format!(
        "{}; `docker compose up -d` in the project's directory",
        chosen
            .iter()
            .map(|p| p.what.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    if !left.is_empty() {
        summary.push_str(&format!("; left to the admin: {}", left.join("; ")));
    }
    let risks: Vec<&str> = chosen.iter().filter_map(|p| p.risk.as_deref()).collect();
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary,
        safety: if risks.is_empty() {
            Safety::Safe
        } else {
            Safety::Unsafe(risks.join("; "))
        },
        intents: chosen.iter().flat_map(|p| p.intents.clone()).collect(),
    }))
}

/// Why a weak credential that no rotation covers is left to the admin.
fn not_rotated(key: &str, e: &rempart_audit::model::Evidence) -> String {
    let unset = e
        .actual
        .as_ref()
        .is_some_and(|a| a.to_string().contains("unset"));
    if key == "POSTGRES_HOST_AUTH_METHOD" {
        "trust lets anyone in without a password: set POSTGRES_PASSWORD from the .env and switch \
         the cluster's own pg_hba.conf (written once, in its data directory) to scram-sha-256 by \
         hand"
            .into()
    } else if key.contains("ALLOW_EMPTY") {
        "the root account has no password: set one inside the container (ALTER USER), then \
         MYSQL_ROOT_PASSWORD / MARIADB_ROOT_PASSWORD from the .env, by hand"
            .into()
    } else if unset {
        format!(
            "{key} is not set, so the image's default applies: set it (and the user) from the \
             project's .env by hand, and inside the service if it already ran"
        )
    } else {
        format!(
            "{key} is not an admin password rempart rotates (PostgreSQL's POSTGRES_PASSWORD, \
             MinIO's MINIO_ROOT_PASSWORD, Grafana's GF_SECURITY_ADMIN_PASSWORD): change it in \
             the service and its clients by hand"
        )
    }
}

/// The rotation of a client's line (a `DATABASE_URL` naming a compose service), for
/// APP-ENV-SECRETS: `None` when no compose service's password is held there.
pub(crate) fn for_client(
    ctx: &Ctx,
    path: &str,
    line: u32,
) -> Option<(String, Result<Planned, String>)> {
    let rotations = ctx.fact::<Rotations>();
    let r = rotations.at(ctx, path, line)?;
    Some((r.service.clone(), r.plan.clone()))
}

/// Whether `host` is the name (or container_name) of a compose service whose password is weak,
/// for APP-ENV-SECRETS's refusal message.
pub(crate) fn names_service(ctx: &Ctx, host: &str) -> Option<String> {
    let rotations = ctx.fact::<Rotations>();
    rotations
        .list
        .iter()
        .find(|r| r.names.iter().any(|n| n == host))
        .map(|r| r.service.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minio_releases_before_2022_are_too_old() {
        let svc = |image: &str| Service {
            image: Some(rempart_audit::rules::containers::compose::Scalar {
                value: image.into(),
                line: 1,
                vars: Vec::new(),
            }),
            ..Service::default()
        };
        assert!(minio_too_old(&svc(
            "minio/minio:RELEASE.2021-03-01T04-20-55Z"
        )));
        assert!(!minio_too_old(&svc(
            "minio/minio:RELEASE.2024-10-02T17-50-41Z"
        )));
        assert!(!minio_too_old(&svc("minio/minio")));
        assert!(!minio_too_old(&svc("localhost:5000/minio/minio")));
        assert!(s3_secret("AWS_SECRET_ACCESS_KEY") && s3_secret("S3_SECRET_KEY"));
        assert!(s3_secret("MINIO_ROOT_PASSWORD") && !s3_secret("MINIO_ROOT_USER"));
        assert!(!s3_secret("DATABASE_PASSWORD"));
    }
}
