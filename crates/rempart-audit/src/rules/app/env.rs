//! The environment each discovered application runs with, and its environment files: the
//! variables its units set (`Environment=`, `EnvironmentFile=`, later assignments winning, as
//! systemd applies them) and its `.env` files (read by python-dotenv, django-environ or
//! python-decouple, which never override a variable already set). Lookups answer "what value does
//! the service see, and which line set it", for the Python reader's environment reads.

use super::pyread::EnvHit;
use crate::facts::apps::AppRefKind;
use crate::host::{HostError, Meta};
use crate::rule::{Ctx, Fact};
use crate::rules::services::discovery::{App, Discovery};
use crate::rules::services::unit::parse_env;

/// One variable, where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub key: String,
    pub value: String,
    pub path: String,
    pub line: u32,
    pub text: String,
}

impl EnvEntry {
    pub fn hit(&self) -> EnvHit {
        EnvHit {
            value: self.value.clone(),
            path: self.path.clone(),
            line: self.line,
            text: self.text.clone(),
        }
    }
}

/// An environment file of an application.
#[derive(Debug, Clone)]
pub struct EnvFile {
    pub path: String,
    pub entries: Vec<EnvEntry>,
    /// Metadata of the file itself (following links).
    pub meta: Option<Meta>,
    /// Named by a unit's `EnvironmentFile=` (read by systemd as root), not only found in the
    /// app directory.
    pub from_unit: bool,
}

/// The environment of one application (same index as `Discovery::apps`).
#[derive(Debug, Clone, Default)]
pub struct AppEnv {
    /// In lookup order: the units' assignments (last first), then `.env` files.
    pub entries: Vec<EnvEntry>,
    pub files: Vec<EnvFile>,
    pub errors: Vec<HostError>,
    /// At least one unit runs the app: its environment is known, not guessed.
    pub has_unit: bool,
}

impl AppEnv {
    pub fn get(&self, key: &str) -> Option<&EnvEntry> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn hit(&self, key: &str) -> Option<EnvHit> {
        self.get(key).map(EnvEntry::hit)
    }
}

/// The environment of every discovered application.
#[derive(Debug, Clone, Default)]
pub struct AppEnvs {
    pub apps: Vec<AppEnv>,
}

/// Template files that document variables without holding the real values.
pub fn is_example(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    [
        "example",
        "sample",
        "template",
        ".dist",
        ".tpl",
        ".defaults",
        ".default",
        ".orig",
        ".bak",
        "~",
    ]
    .iter()
    .any(|s| name.contains(s))
}

impl Fact for AppEnvs {
    fn collect(ctx: &Ctx) -> AppEnvs {
        let d = ctx.fact::<Discovery>();
        AppEnvs {
            apps: d.apps.iter().map(|a| app_env(ctx, &d, a)).collect(),
        }
    }
}

fn read_entries(ctx: &Ctx, path: &str) -> Result<Option<Vec<EnvEntry>>, HostError> {
    let Some(f) = ctx.host.read_text(path)? else {
        return Ok(None);
    };
    Ok(Some(
        parse_env(&f.text)
            .into_iter()
            .map(|(key, value, line)| EnvEntry {
                key,
                value,
                path: path.to_string(),
                line,
                text: f.line(line).unwrap_or("").to_string(),
            })
            .collect(),
    ))
}

/// The environment Apache's processes (and so mod_wsgi daemons) start with: `export` lines of
/// `/etc/apache2/envvars`, then the `Environment=`/`EnvironmentFile=` of the apache2 unit and
/// its drop-ins (later wins, so they are pushed last-first like unit variables).
fn apache_env(ctx: &Ctx, env: &mut AppEnv) {
    let mut found: Vec<EnvEntry> = Vec::new();
    if let Ok(Some(entries)) = read_entries(ctx, "/etc/apache2/envvars") {
        found.extend(entries);
    }
    let units = ctx.fact::<crate::facts::Units>();
    if let Some(path) = units.path("apache2.service") {
        if let Ok(u) = crate::rules::services::unit::load(ctx.host, "apache2.service", path) {
            for s in u.all("Service", "Environment") {
                for word in crate::rules::services::unit::split_command(&s.value) {
                    if let Some((k, v)) = word.split_once('=') {
                        found.push(EnvEntry {
                            key: k.to_string(),
                            value: v.to_string(),
                            path: s.path.clone(),
                            line: s.line,
                            text: s.text.clone(),
                        });
                    }
                }
            }
            for s in u.all("Service", "EnvironmentFile") {
                let file = s.value.trim_start_matches('-').trim();
                match read_entries(ctx, file) {
                    Ok(Some(entries)) => found.extend(entries),
                    Ok(None) => {}
                    Err(e) => env.errors.push(e),
                }
            }
        }
    }
    env.entries.extend(found.into_iter().rev());
}

fn app_env(ctx: &Ctx, d: &Discovery, app: &App) -> AppEnv {
    let mut env = AppEnv::default();
    let units: Vec<_> = d
        .units
        .iter()
        .filter(|u| app.units.contains(&u.unit.name))
        .collect();
    env.has_unit = !units.is_empty();
    // An app Apache runs through mod_wsgi sees Apache's environment.
    if units.is_empty() {
        let served_by_apache = app.found_by.iter().any(|r| {
            matches!(r.kind, AppRefKind::WsgiScript | AppRefKind::PythonPath)
                && r.source.starts_with("/etc/apache2/")
        });
        if served_by_apache {
            env.has_unit = true;
            apache_env(ctx, &mut env);
        }
    }
    for u in &units {
        for v in u.env.iter().rev() {
            env.entries.push(EnvEntry {
                key: v.key.clone(),
                value: v.value.clone(),
                path: v.origin.path.clone(),
                line: v.origin.line.unwrap_or(0),
                text: v.origin.text.clone().unwrap_or_default(),
            });
        }
    }
    let mut paths: Vec<(String, bool)> = Vec::new();
    for u in &units {
        for f in &u.env_files {
            if !paths.iter().any(|(p, _)| p == f) {
                paths.push((f.clone(), true));
            }
        }
    }
    for f in &app.env_files {
        if !is_example(f) && !paths.iter().any(|(p, _)| p == f) {
            paths.push((f.clone(), false));
        }
    }
    for (path, from_unit) in paths {
        let entries = match read_entries(ctx, &path) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(e) => {
                env.errors.push(e);
                continue;
            }
        };
        let meta = ctx.host.metadata(&path).ok().flatten();
        // `.env` files are loaded by the app itself (dotenv, django-environ, decouple);
        // variables already set by the unit win.
        let name = path.rsplit('/').next().unwrap_or("");
        if !from_unit && name == ".env" {
            env.entries.extend(entries.iter().cloned());
        }
        env.files.push(EnvFile {
            path,
            entries,
            meta,
            from_unit,
        });
    }
    env
}
