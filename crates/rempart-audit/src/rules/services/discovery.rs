//! Discovery: what runs on the host, found from the host itself (live or under `--root`). The
//! systemd units an admin installed (or any unit whose `ExecStart=` is a known app server), what
//! each runs and as whom, and from them the application directories, with their settings
//! modules, `.env` files, dependency files and compose files. Directories named in the
//! configuration (`app_paths`) are added. `rempart facts services` prints this.

use super::appserver::{self, AppServer, Origin};
use super::unit::{self, parse_env, Unit};
use crate::facts::apps::{AppRef, AppRefKind};
use crate::facts::Units;
use crate::host::{Host, HostError};
use crate::rule::{Ctx, Fact};

/// Directories an admin installs units into (vendor units live in /lib and /usr/lib).
const ADMIN_UNIT_DIRS: &[&str] = &["/etc/systemd/system/", "/usr/local/lib/systemd/system/"];

/// Subdirectories never searched for app files.
const SKIP_DIRS: &[&str] = &[
    "venv",
    ".venv",
    "env",
    "node_modules",
    ".git",
    "__pycache__",
    "static",
    "media",
    "site-packages",
];

/// One environment variable a unit runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub key: String,
    pub value: String,
    pub origin: Origin,
}

/// A unit that runs an application (or was installed by the admin).
#[derive(Debug, Clone)]
pub struct AppUnit {
    pub unit: Unit,
    pub enabled: bool,
    /// `User=`, when set.
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub env: Vec<EnvVar>,
    /// Environment files named by the unit (host paths).
    pub env_files: Vec<String>,
    /// What `ExecStart=` runs, when it is a known server.
    pub server: Option<AppServer>,
}

impl AppUnit {
    /// `DynamicUser=yes` gives the service a throwaway unprivileged user.
    pub fn dynamic_user(&self) -> bool {
        self.unit.bool("Service", "DynamicUser") == Some(true)
    }

    /// Runs as root: no `User=` (and no DynamicUser), or `User=root`/`0`.
    pub fn runs_as_root(&self) -> bool {
        if self.dynamic_user() {
            return false;
        }
        match self.user.as_deref() {
            None => true,
            Some(u) => u == "root" || u == "0",
        }
    }
}

/// What kind of application a directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    Django,
    FastApi,
    Flask,
    Python,
    Compose,
    Unknown,
}

impl AppKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::Django => "django",
            AppKind::FastApi => "fastapi",
            AppKind::Flask => "flask",
            AppKind::Python => "python",
            AppKind::Compose => "compose",
            AppKind::Unknown => "unknown",
        }
    }
}

/// An application directory and what it holds.
#[derive(Debug, Clone)]
pub struct App {
    pub dir: String,
    pub kind: AppKind,
    /// How it was found.
    pub found_by: Vec<AppRef>,
    /// Units that run it.
    pub units: Vec<String>,
    /// The account it runs as (from its unit), if known.
    pub user: Option<String>,
    /// Django settings files (host paths).
    pub settings_files: Vec<String>,
    pub env_files: Vec<String>,
    pub requirement_files: Vec<String>,
    pub compose_files: Vec<String>,
}

/// Everything discovered.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub units: Vec<AppUnit>,
    pub apps: Vec<App>,
    /// Compose files found (from units and app directories).
    pub compose_files: Vec<String>,
    pub errors: Vec<HostError>,
}

impl Discovery {
    pub fn app_dirs(&self) -> Vec<&str> {
        self.apps.iter().map(|a| a.dir.as_str()).collect()
    }

    /// The addresses the application servers of app `app` (an index into `apps`) listen on,
    /// from the units that run it.
    pub fn app_binds(&self, app: usize) -> Vec<&appserver::Bind> {
        let Some(app) = self.apps.get(app) else {
            return Vec::new();
        };
        self.units
            .iter()
            .filter(|u| app.units.contains(&u.unit.name))
            .filter_map(|u| u.server.as_ref())
            .flat_map(|s| s.binds.iter())
            .collect()
    }
}

impl Fact for Discovery {
    fn collect(ctx: &Ctx) -> Discovery {
        let units = ctx.fact::<Units>();
        let mut d = Discovery::default();
        for (name, path) in &units.files {
            if !name.ends_with(".service") || units.masked.contains(name) {
                continue;
            }
            let admin = ADMIN_UNIT_DIRS.iter().any(|dir| path.starts_with(dir))
                && !is_link_to_vendor(ctx.host, path);
            match load_app_unit(ctx.host, name, path, units.is_enabled(name)) {
                Ok(u) if admin || u.server.is_some() => d.units.push(u),
                Ok(_) => {}
                Err(e) => d.errors.push(e),
            }
        }
        let mut refs: Vec<(String, AppRef, Option<usize>)> = Vec::new();
        for (i, u) in d.units.iter().enumerate() {
            if let Some(wd) = &u.working_dir {
                refs.push((
                    wd.clone(),
                    AppRef {
                        kind: AppRefKind::WorkingDirectory,
                        value: wd.clone(),
                        source: u.unit.path.clone(),
                        line: u.unit.get("Service", "WorkingDirectory").map(|s| s.line),
                    },
                    Some(i),
                ));
            }
            for f in &u.env_files {
                if let Some(dir) = parent(f) {
                    if is_app_location(dir) {
                        refs.push((
                            dir.to_string(),
                            AppRef {
                                kind: AppRefKind::EnvironmentFile,
                                value: f.clone(),
                                source: u.unit.path.clone(),
                                line: u.unit.get("Service", "EnvironmentFile").map(|s| s.line),
                            },
                            Some(i),
                        ));
                    }
                }
            }
            if let Some(server) = &u.server {
                for c in &server.compose_files {
                    if !d.compose_files.contains(c) {
                        d.compose_files.push(c.clone());
                    }
                    if let Some(dir) = parent(c) {
                        refs.push((
                            dir.to_string(),
                            AppRef {
                                kind: AppRefKind::ComposeFile,
                                value: c.clone(),
                                source: u.unit.path.clone(),
                                line: u.unit.get("Service", "ExecStart").map(|s| s.line),
                            },
                            Some(i),
                        ));
                    }
                }
            }
        }
        // Applications the web servers run or serve (Apache mod_wsgi, nginx/Traefik backends).
        for r in ctx.fact::<crate::rules::web::WebServers>().app_refs() {
            let dir = match r.kind {
                AppRefKind::WsgiScript => parent(&r.value).map(str::to_string),
                AppRefKind::PythonPath => Some(r.value.trim_end_matches('/').to_string()),
                AppRefKind::DocumentRoot if has_app_marker(ctx.host, &r.value) => {
                    Some(r.value.trim_end_matches('/').to_string())
                }
                _ => None,
            };
            if let Some(dir) = dir.filter(|d| d.starts_with('/')) {
                refs.push((dir, r, None));
            }
        }
        for p in &ctx.config.app_paths {
            refs.push((
                p.trim_end_matches('/').to_string(),
                AppRef {
                    kind: AppRefKind::WorkingDirectory,
                    value: p.clone(),
                    source: crate::config::DEFAULT_PATH.into(),
                    line: None,
                },
                None,
            ));
        }
        for (dir, r, unit) in refs {
            if dir.is_empty() || dir == "/" || !ctx.host.exists(&dir) {
                continue;
            }
            let dir = app_root(ctx.host, &dir);
            let app = match d.apps.iter_mut().position(|a| a.dir == dir) {
                Some(i) => &mut d.apps[i],
                None => {
                    d.apps.push(inspect_dir(ctx.host, &dir));
                    let n = d.apps.len() - 1;
                    &mut d.apps[n]
                }
            };
            if !app.found_by.contains(&r) {
                app.found_by.push(r);
            }
            if let Some(i) = unit {
                let u = &d.units[i];
                if !app.units.contains(&u.unit.name) {
                    app.units.push(u.unit.name.clone());
                }
                if app.user.is_none() {
                    app.user = u.user.clone();
                }
                for f in &u.env_files {
                    if !app.env_files.contains(f) && f.starts_with(&app.dir) {
                        app.env_files.push(f.clone());
                    }
                }
            }
        }
        for app in &d.apps {
            for c in &app.compose_files {
                if !d.compose_files.contains(c) {
                    d.compose_files.push(c.clone());
                }
            }
        }
        d
    }
}

fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/')
        .map(|(p, _)| if p.is_empty() { "/" } else { p })
}

/// Where applications live, as opposed to system directories (`/etc/default/...`).
fn is_app_location(dir: &str) -> bool {
    ["/opt/", "/srv/", "/home/", "/var/www/", "/usr/local/"]
        .iter()
        .any(|p| dir.starts_with(p))
}

/// A unit file in /etc that is only a link to the vendor's (an alias or a linked unit).
fn is_link_to_vendor(host: &Host, path: &str) -> bool {
    matches!(host.read_link(path), Ok(Some(t)) if t.starts_with("/lib/") || t.starts_with("/usr/lib/"))
}

fn load_app_unit(host: &Host, name: &str, path: &str, enabled: bool) -> Result<AppUnit, HostError> {
    let u = unit::load(host, name, path)?;
    let user = u.get("Service", "User").map(|s| s.value.clone());
    let working_dir = u
        .get("Service", "WorkingDirectory")
        .map(|s| s.value.trim_start_matches('-').trim().to_string())
        .filter(|w| w.starts_with('/'));
    let mut env: Vec<EnvVar> = Vec::new();
    for s in u.all("Service", "Environment") {
        for word in unit::split_command(&s.value) {
            if let Some((k, v)) = word.split_once('=') {
                env.push(EnvVar {
                    key: k.to_string(),
                    value: v.to_string(),
                    origin: Origin {
                        path: s.path.clone(),
                        line: Some(s.line),
                        text: Some(s.text.clone()),
                        how: "environment",
                    },
                });
            }
        }
    }
    let mut env_files = Vec::new();
    for s in u.all("Service", "EnvironmentFile") {
        let optional = s.value.starts_with('-');
        let file = s.value.trim_start_matches('-').trim().to_string();
        if !file.starts_with('/') {
            continue;
        }
        env_files.push(file.clone());
        match host.read_text(&file) {
            Ok(Some(f)) => {
                for (k, v, line) in parse_env(&f.text) {
                    env.push(EnvVar {
                        key: k,
                        value: v,
                        origin: Origin {
                            path: file.clone(),
                            line: Some(line),
                            text: f.line(line).map(String::from),
                            how: "environment",
                        },
                    });
                }
            }
            Ok(None) => {}
            Err(e) if optional => drop(e),
            Err(e) => return Err(e),
        }
    }
    let env_tuples: Vec<(String, String, Origin)> = env
        .iter()
        .map(|e| (e.key.clone(), e.value.clone(), e.origin.clone()))
        .collect();
    let server = u.all("Service", "ExecStart").last().and_then(|s| {
        appserver::analyse(
            host,
            &appserver::Command {
                line: &s.value,
                path: &s.path,
                line_no: s.line,
                working_dir: working_dir.as_deref(),
                env: &env_tuples,
            },
        )
    });
    Ok(AppUnit {
        unit: u,
        enabled,
        user,
        working_dir,
        env,
        env_files,
        server,
    })
}

/// A directory that holds a Python application, not only static files.
fn has_app_marker(host: &Host, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    [
        "manage.py",
        "requirements.txt",
        "pyproject.toml",
        "wsgi.py",
        "asgi.py",
    ]
    .iter()
    .any(|m| host.exists(&format!("{dir}/{m}")))
}

/// The application root for a referenced directory: the directory itself, unless it sits inside
/// a project whose marker (`manage.py`, `pyproject.toml`, `requirements.txt`, `.git`) is one
/// level up (`/opt/app/backend` referenced, `/opt/app/backend` kept: we only climb when the
/// reference is a package directory without markers of its own).
fn app_root(host: &Host, dir: &str) -> String {
    let dir = dir.trim_end_matches('/').to_string();
    let has_marker = |d: &str| {
        [
            "manage.py",
            "pyproject.toml",
            "requirements.txt",
            ".env",
            "docker-compose.yml",
            "compose.yaml",
            ".git",
        ]
        .iter()
        .any(|m| host.exists(&format!("{d}/{m}")))
    };
    if has_marker(&dir) {
        return dir;
    }
    match parent(&dir) {
        Some(p) if p != "/" && is_app_location(&format!("{p}/")) && has_marker(p) => p.to_string(),
        _ => dir,
    }
}

/// Look inside an app directory (and its immediate subdirectories) for what the app families
/// judge. Bounded: two levels, well-known names only.
fn inspect_dir(host: &Host, dir: &str) -> App {
    let mut app = App {
        dir: dir.to_string(),
        kind: AppKind::Unknown,
        found_by: Vec::new(),
        units: Vec::new(),
        user: None,
        settings_files: Vec::new(),
        env_files: Vec::new(),
        requirement_files: Vec::new(),
        compose_files: Vec::new(),
    };
    let mut dirs = vec![dir.to_string()];
    if let Ok(Some(names)) = host.read_dir(dir) {
        for n in names.iter().take(500) {
            if SKIP_DIRS.contains(&n.as_str()) || n.starts_with('.') {
                continue;
            }
            let p = format!("{dir}/{n}");
            if matches!(host.symlink_metadata(&p), Ok(Some(m)) if m.kind == crate::host::FileKind::Dir)
            {
                dirs.push(p);
            }
        }
    }
    let mut manage_py = None;
    for d in dirs.iter().take(64) {
        let Ok(Some(names)) = host.read_dir(d) else {
            continue;
        };
        for n in names.iter().take(2000) {
            let p = format!("{d}/{n}");
            let is_file =
                matches!(host.metadata(&p), Ok(Some(m)) if m.kind == crate::host::FileKind::File);
            if !is_file {
                continue;
            }
            if n == ".env" || n.starts_with(".env.") || n.ends_with(".env") {
                app.env_files.push(p);
            } else if (n.starts_with("requirements") && n.ends_with(".txt"))
                || n == "pyproject.toml"
                || n == "Pipfile"
            {
                app.requirement_files.push(p);
            } else if matches!(
                n.as_str(),
                "docker-compose.yml" | "docker-compose.yaml" | "compose.yml" | "compose.yaml"
            ) || (n.starts_with("docker-compose.")
                && (n.ends_with(".yml") || n.ends_with(".yaml")))
            {
                app.compose_files.push(p);
            } else if n == "manage.py" && manage_py.is_none() {
                manage_py = Some(p);
            } else if n == "settings.py" {
                app.settings_files.push(p);
            }
        }
    }
    // The settings module manage.py names, when it names one we have not seen.
    if let Some(mp) = &manage_py {
        if let Ok(Some(f)) = host.read_text(mp) {
            if let Some(module) = settings_module(&f.text) {
                let base = parent(mp).unwrap_or(dir);
                let rel = module.replace('.', "/");
                for cand in [
                    format!("{base}/{rel}.py"),
                    format!("{base}/{rel}/__init__.py"),
                ] {
                    if host.exists(&cand) && !app.settings_files.contains(&cand) {
                        app.settings_files.insert(0, cand);
                    }
                }
            }
        }
    }
    app.kind = if manage_py.is_some() || !app.settings_files.is_empty() {
        AppKind::Django
    } else if mentions(host, &app.requirement_files, "fastapi") {
        AppKind::FastApi
    } else if mentions(host, &app.requirement_files, "flask") {
        AppKind::Flask
    } else if !app.requirement_files.is_empty() {
        AppKind::Python
    } else if !app.compose_files.is_empty() {
        AppKind::Compose
    } else {
        AppKind::Unknown
    };
    app
}

/// `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")` in manage.py.
fn settings_module(text: &str) -> Option<String> {
    let i = text.find("DJANGO_SETTINGS_MODULE")?;
    let rest = &text[i + "DJANGO_SETTINGS_MODULE".len()..];
    let rest = rest.trim_start_matches(['"', '\'']).trim_start();
    let rest = rest.strip_prefix(',')?.trim_start();
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &rest[1..];
    let end = body.find(q)?;
    let m = &body[..end];
    (!m.is_empty()
        && m.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'))
    .then(|| m.to_string())
}

fn mentions(host: &Host, files: &[String], package: &str) -> bool {
    files.iter().any(|f| {
        host.read_text(f).ok().flatten().is_some_and(|t| {
            t.text.lines().any(|l| {
                let l = l.trim().trim_start_matches('"').to_ascii_lowercase();
                l.starts_with(package)
                    && l[package.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_module_from_manage_py() {
        let text = "import os\ndef main():\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'observations.settings')\n";
        assert_eq!(
            settings_module(text).as_deref(),
            Some("observations.settings")
        );
        assert_eq!(settings_module("nothing"), None);
    }
}
