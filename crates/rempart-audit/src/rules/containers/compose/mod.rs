//! Docker compose files, read as compose reads them: the YAML ([`yaml`]) with variables
//! interpolated ([`interp`]) from the environment of the unit that runs the project and from the
//! project's `.env`, then each service's settings in both the short and the long syntax:
//! `ports` (`"127.0.0.1:9090:9090"`, `"9090"`, ranges, `/udp`, or `host_ip`/`published`/`target`),
//! `volumes` (`src:dst:ro` or `type`/`source`/`target`/`read_only`), `environment` (list or map)
//! merged over `env_file`, `command`/`entrypoint` (list or string), `image`, `privileged`,
//! `network_mode`, `pid`, `ipc`, `cap_add`, `security_opt`. Every value keeps its line.
//!
//! Which files: those discovery found (units running `docker compose`, application directories,
//! `app_paths`), those Docker itself recorded for its containers
//! (`com.docker.compose.project.config_files` in `/var/lib/docker/containers/*/config.v2.json`),
//! and a bounded search of `/opt`, `/srv` and home directories.

pub mod interp;
pub mod yaml;

use crate::rule::{Ctx, Fact};
use crate::rules::app::env::EnvEntry;
use crate::rules::app::pyread::eval::{dirname, join_path, normalise};
use crate::rules::services::discovery::Discovery;
use crate::rules::services::unit::{parse_env, split_command};
use interp::{interpolate, VarUse};
use yaml::{Node, Yaml};

/// A string value after interpolation, with its line and the variables it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub value: String,
    pub line: u32,
    pub vars: Vec<VarUse>,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The host address it binds (`None`: every interface).
    pub host_ip: Option<String>,
    /// The host port or range (`None`: an ephemeral port chosen by Docker).
    pub published: Option<String>,
    pub target: String,
    pub protocol: String,
    /// As written (short syntax) or rebuilt from the long syntax.
    pub raw: String,
    pub line: u32,
    pub vars: Vec<VarUse>,
}

impl Port {
    /// Reachable on every interface of the host.
    pub fn all_interfaces(&self) -> bool {
        match self.host_ip.as_deref().map(str::trim) {
            None | Some("") => true,
            Some(ip) => matches!(ip, "0.0.0.0" | "::" | "[::]" | "*"),
        }
    }

    /// The host ports it publishes, when they are known numbers.
    pub fn host_ports(&self) -> Option<Vec<u16>> {
        let p = self.published.as_deref()?;
        match p.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u16, u16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                (a <= b && b - a < 1024).then(|| (a..=b).collect())
            }
            None => p.trim().parse().ok().map(|n| vec![n]),
        }
    }
}

/// A mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// A host path (absolute, after resolving `./` against the project directory) or a named
    /// volume; `None` for an anonymous volume.
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    /// Submounts of the source come along (Docker's default, `mount --rbind`); false for the
    /// long syntax's `bind: { recursive: disabled }` (compose spec; Docker's
    /// `bind-recursive=disabled`), which mounts the source's own filesystem only.
    pub recursive: bool,
    pub raw: String,
    pub line: u32,
}

impl Volume {
    pub fn is_bind(&self) -> bool {
        self.source.as_deref().is_some_and(|s| s.starts_with('/'))
    }
}

/// An environment variable of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvItem {
    pub key: String,
    /// `None`: named without a value (taken from compose's own environment, else unset).
    pub value: Option<String>,
    /// The compose file, or the `env_file` it came from.
    pub path: String,
    pub line: u32,
    pub vars: Vec<VarUse>,
}

/// One service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Service {
    pub name: String,
    pub line: u32,
    pub image: Option<Scalar>,
    pub build: bool,
    pub ports: Vec<Port>,
    pub volumes: Vec<Volume>,
    pub privileged: Option<Scalar>,
    pub network_mode: Option<Scalar>,
    pub pid: Option<Scalar>,
    pub ipc: Option<Scalar>,
    pub cap_add: Vec<Scalar>,
    pub security_opt: Vec<Scalar>,
    /// env_file entries first, then `environment` (later wins).
    pub environment: Vec<EnvItem>,
    pub command: Vec<Scalar>,
    pub entrypoint: Vec<Scalar>,
}

impl Service {
    /// The effective value of an environment variable.
    pub fn env(&self, key: &str) -> Option<&EnvItem> {
        self.environment.iter().rev().find(|e| e.key == key)
    }

    /// The image's tag, without its digest: `11.2.0` for `grafana/grafana:11.2.0@sha256:...`,
    /// `None` when the reference names none (a registry's port is not a tag).
    pub fn image_tag(&self) -> Option<&str> {
        let image = self.image.as_ref()?.value.trim();
        let no_digest = image.split('@').next().unwrap_or(image);
        let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
        last.split_once(':').map(|(_, t)| t)
    }

    /// The image's repository without registry, tag or digest (`grafana/grafana`).
    pub fn image_name(&self) -> Option<String> {
        let image = &self.image.as_ref()?.value;
        let no_digest = image.split('@').next().unwrap_or(image);
        let (path, last) = match no_digest.rsplit_once('/') {
            Some((p, l)) => (Some(p), l),
            None => (None, no_digest),
        };
        let last = last.split(':').next().unwrap_or(last);
        let mut parts: Vec<&str> = path.map(|p| p.split('/').collect()).unwrap_or_default();
        // Drop a registry host (`quay.io`, `localhost:5000`).
        if parts
            .first()
            .is_some_and(|h| h.contains('.') || h.contains(':') || *h == "localhost")
        {
            parts.remove(0);
        }
        parts.push(last);
        Some(parts.join("/").to_ascii_lowercase())
    }

    /// The last component of the image name (`grafana` for `grafana/grafana-oss` is
    /// `grafana-oss`).
    pub fn image_base(&self) -> Option<String> {
        self.image_name()
            .map(|n| n.rsplit('/').next().unwrap_or(&n).to_string())
    }

    /// Arguments of `command` and `entrypoint`.
    pub fn args(&self) -> impl Iterator<Item = &Scalar> {
        self.entrypoint.iter().chain(self.command.iter())
    }
}

/// A compose file and its services.
#[derive(Debug, Clone, Default)]
pub struct ComposeFile {
    pub path: String,
    pub text: String,
    pub services: Vec<Service>,
    /// The file could not be read or is not a compose document.
    pub error: Option<String>,
}

impl ComposeFile {
    /// The text of line `n`.
    pub fn line(&self, n: u32) -> &str {
        self.text
            .lines()
            .nth((n as usize).saturating_sub(1))
            .unwrap_or("")
    }
}

/// Parse a compose file's text. `vars` answers interpolation; `read` reads `env_file`s (host
/// paths) and returns `(text)` or `None`.
pub fn parse(
    path: &str,
    text: &str,
    vars: &dyn Fn(&str) -> Option<EnvEntry>,
    read: &dyn Fn(&str) -> Option<String>,
) -> ComposeFile {
    let mut f = ComposeFile {
        path: path.to_string(),
        text: text.to_string(),
        ..ComposeFile::default()
    };
    let root = match yaml::parse(text) {
        Ok(r) => r,
        Err(e) => {
            f.error = Some(format!("not valid YAML: {e}"));
            return f;
        }
    };
    let project_dir = dirname(path);
    let Some(services) = root.get("services") else {
        if !matches!(root.value, Yaml::Map(_)) {
            f.error = Some("not a compose file (no mapping at the top)".into());
        }
        return f;
    };
    let scalar = |n: &Node| -> Option<Scalar> {
        let raw = n.scalar()?;
        let (value, vars) = interpolate(&raw, vars);
        Some(Scalar {
            value,
            line: n.line,
            vars,
        })
    };
    for (k, s) in services.map() {
        let Some(name) = k.scalar() else { continue };
        let mut svc = Service {
            name,
            line: k.line,
            ..Service::default()
        };
        svc.image = s.get("image").and_then(scalar);
        svc.build = s.get("build").is_some();
        svc.privileged = s.get("privileged").and_then(scalar);
        svc.network_mode = s.get("network_mode").and_then(scalar);
        svc.pid = s.get("pid").and_then(scalar);
        svc.ipc = s.get("ipc").and_then(scalar);
        svc.cap_add = s
            .get("cap_add")
            .map_or_else(Vec::new, |n| n.seq().iter().filter_map(scalar).collect());
        svc.security_opt = s
            .get("security_opt")
            .map_or_else(Vec::new, |n| n.seq().iter().filter_map(scalar).collect());
        for key in ["command", "entrypoint"] {
            let Some(n) = s.get(key) else { continue };
            let args: Vec<Scalar> = match &n.value {
                Yaml::Seq(items) => items.iter().filter_map(scalar).collect(),
                _ => match scalar(n) {
                    Some(sc) => split_command(&sc.value)
                        .into_iter()
                        .map(|w| Scalar {
                            value: w,
                            line: sc.line,
                            vars: sc.vars.clone(),
                        })
                        .collect(),
                    None => Vec::new(),
                },
            };
            if key == "command" {
                svc.command = args;
            } else {
                svc.entrypoint = args;
            }
        }
        if let Some(ports) = s.get("ports") {
            for p in ports.seq() {
                svc.ports.extend(port(p, &scalar));
            }
        }
        if let Some(vols) = s.get("volumes") {
            for v in vols.seq() {
                svc.volumes.extend(volume(v, &scalar, &project_dir));
            }
        }
        // env_file first: `environment` overrides it.
        if let Some(ef) = s.get("env_file") {
            let files: Vec<(String, bool)> = match &ef.value {
                Yaml::Seq(items) => items
                    .iter()
                    .filter_map(|i| match i.get("path") {
                        Some(p) => Some((
                            scalar(p)?.value,
                            i.get("required").and_then(Node::scalar).as_deref() != Some("false"),
                        )),
                        None => scalar(i).map(|s| (s.value, true)),
                    })
                    .collect(),
                _ => scalar(ef)
                    .map(|s| vec![(s.value, true)])
                    .unwrap_or_default(),
            };
            for (file, _required) in files {
                let fpath = normalise(&join_path(&project_dir, &file));
                if let Some(t) = read(&fpath) {
                    for (k, v, line) in parse_env(&t) {
                        let (value, vars) = interpolate(&v, vars);
                        svc.environment.push(EnvItem {
                            key: k,
                            value: Some(value),
                            path: fpath.clone(),
                            line,
                            vars,
                        });
                    }
                }
            }
        }
        if let Some(env) = s.get("environment") {
            match &env.value {
                Yaml::Map(pairs) => {
                    for (k, v) in pairs {
                        let Some(key) = k.scalar() else { continue };
                        let sc = scalar(v);
                        svc.environment.push(EnvItem {
                            key,
                            value: sc.as_ref().map(|s| s.value.clone()),
                            path: path.to_string(),
                            line: k.line,
                            vars: sc.map(|s| s.vars).unwrap_or_default(),
                        });
                    }
                }
                Yaml::Seq(items) => {
                    for i in items {
                        let Some(sc) = scalar(i) else { continue };
                        let (key, value) = match sc.value.split_once('=') {
                            Some((k, v)) => (k.to_string(), Some(v.to_string())),
                            None => (sc.value.clone(), None),
                        };
                        svc.environment.push(EnvItem {
                            key,
                            value,
                            path: path.to_string(),
                            line: sc.line,
                            vars: sc.vars,
                        });
                    }
                }
                _ => {}
            }
        }
        f.services.push(svc);
    }
    f
}

fn port(n: &Node, scalar: &dyn Fn(&Node) -> Option<Scalar>) -> Option<Port> {
    if let Yaml::Map(_) = n.value {
        // Long syntax.
        let target = n.get("target").and_then(scalar)?.value;
        let published = n.get("published").and_then(scalar).map(|s| s.value);
        let host_ip = n.get("host_ip").and_then(scalar).map(|s| s.value);
        let protocol = n
            .get("protocol")
            .and_then(scalar)
            .map_or_else(|| "tcp".to_string(), |s| s.value);
        let raw = format!(
            "{}{}{target}/{protocol}",
            host_ip
                .as_deref()
                .map(|h| format!("{h}:"))
                .unwrap_or_default(),
            published
                .as_deref()
                .map(|p| format!("{p}:"))
                .unwrap_or_default(),
        );
        return Some(Port {
            host_ip,
            published,
            target,
            protocol,
            raw,
            line: n.line,
            vars: Vec::new(),
        });
    }
    let sc = scalar(n)?;
    let (spec, protocol) = match sc.value.rsplit_once('/') {
        Some((s, p)) => (s.to_string(), p.to_string()),
        None => (sc.value.clone(), "tcp".to_string()),
    };
    let (host_part, target) = match spec.rsplit_once(':') {
        Some((h, t)) => (Some(h.to_string()), t.to_string()),
        None => (None, spec.clone()),
    };
    let (host_ip, published) = match host_part {
        None => (None, None),
        Some(h) => {
            // `[::1]:8080`, `127.0.0.1:8080`, `::1:8080`? (bare IPv6 is ambiguous: compose
            // requires brackets), or just `8080`.
            if let Some(rest) = h.strip_prefix('[') {
                match rest.split_once("]:") {
                    Some((ip, p)) => (Some(ip.to_string()), Some(p.to_string())),
                    None => (Some(rest.trim_end_matches(']').to_string()), None),
                }
            } else {
                match h.rsplit_once(':') {
                    Some((ip, p)) => (Some(ip.to_string()), (!p.is_empty()).then(|| p.to_string())),
                    None => (None, (!h.is_empty()).then_some(h)),
                }
            }
        }
    };
    Some(Port {
        host_ip,
        published,
        target,
        protocol,
        raw: sc.value.clone(),
        line: sc.line,
        vars: sc.vars,
    })
}

fn volume(n: &Node, scalar: &dyn Fn(&Node) -> Option<Scalar>, project_dir: &str) -> Option<Volume> {
    let host_path = |s: &str| -> String {
        if s.starts_with('.') {
            normalise(&join_path(project_dir, s))
        } else {
            s.to_string()
        }
    };
    if let Yaml::Map(_) = n.value {
        let target = n.get("target").and_then(scalar)?.value;
        let source = n
            .get("source")
            .and_then(scalar)
            .map(|s| host_path(&s.value));
        let read_only = n.get("read_only").and_then(Node::scalar).as_deref() == Some("true");
        let recursive = n
            .get("bind")
            .and_then(|b| b.get("recursive"))
            .and_then(scalar)
            .is_none_or(|r| r.value != "disabled");
        let raw = format!(
            "{}:{target}{}{}",
            source.as_deref().unwrap_or(""),
            if read_only { ":ro" } else { "" },
            if recursive { "" } else { " (non-recursive)" }
        );
        return Some(Volume {
            source,
            target,
            read_only,
            recursive,
            raw,
            line: n.line,
        });
    }
    let sc = scalar(n)?;
    let parts: Vec<&str> = sc.value.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, t.to_string(), ""),
        [s, t] => (Some(host_path(s)), t.to_string(), ""),
        [s, t, m, ..] => (Some(host_path(s)), t.to_string(), *m),
        [] => return None,
    };
    Some(Volume {
        source,
        target,
        read_only: mode.split(',').any(|m| m == "ro"),
        recursive: true,
        raw: sc.value.clone(),
        line: sc.line,
    })
}

/// Every compose file found on the host, parsed.
#[derive(Debug, Clone, Default)]
pub struct ComposeFiles {
    pub files: Vec<ComposeFile>,
}

const COMPOSE_NAMES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

fn is_compose_name(n: &str) -> bool {
    COMPOSE_NAMES.contains(&n)
        || ((n.starts_with("docker-compose.") || n.starts_with("compose."))
            && (n.ends_with(".yml") || n.ends_with(".yaml")))
}

/// Compose files Docker recorded for the containers it runs or ran.
fn from_docker(ctx: &Ctx, out: &mut Vec<String>) {
    let Ok(Some(ids)) = ctx.host.read_dir("/var/lib/docker/containers") else {
        return;
    };
    for id in ids.iter().take(500) {
        let path = format!("/var/lib/docker/containers/{id}/config.v2.json");
        let Ok(Some(bytes)) = ctx.host.read(&path) else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let files = v
            .pointer("/Config/Labels/com.docker.compose.project.config_files")
            .and_then(|f| f.as_str())
            .unwrap_or("");
        for f in files
            .split(',')
            .map(str::trim)
            .filter(|f| f.starts_with('/'))
        {
            if !out.iter().any(|o| o == f) {
                out.push(f.to_string());
            }
        }
    }
}

/// A bounded search of the places projects live.
fn search(ctx: &Ctx, out: &mut Vec<String>) {
    const SKIP: &[&str] = &[
        "node_modules",
        "venv",
        ".venv",
        "site-packages",
        "__pycache__",
        ".git",
        ".cache",
    ];
    let mut dirs: Vec<(String, u32)> =
        vec![("/opt".into(), 0), ("/srv".into(), 0), ("/root".into(), 0)];
    if let Ok(Some(homes)) = ctx.host.read_dir("/home") {
        dirs.extend(homes.into_iter().map(|h| (format!("/home/{h}"), 0)));
    }
    // Bounded: at most 2,000 directories and 20,000 entries looked at.
    let mut visited = 0;
    let mut entries = 0usize;
    while let Some((dir, depth)) = dirs.pop() {
        visited += 1;
        if visited > 2000 || entries > 20_000 {
            break;
        }
        let Ok(Some(names)) = ctx.host.read_dir(&dir) else {
            continue;
        };
        entries += names.len();
        for n in names.iter().take(1000) {
            let p = format!("{dir}/{n}");
            let Ok(Some(m)) = ctx.host.symlink_metadata(&p) else {
                continue;
            };
            match m.kind {
                crate::host::FileKind::File if is_compose_name(n) && !out.contains(&p) => {
                    out.push(p);
                }
                crate::host::FileKind::Dir
                    if depth < 3 && !SKIP.contains(&n.as_str()) && !n.starts_with('.') =>
                {
                    dirs.push((p, depth + 1));
                }
                _ => {}
            }
        }
    }
}

impl Fact for ComposeFiles {
    fn collect(ctx: &Ctx) -> ComposeFiles {
        let d = ctx.fact::<Discovery>();
        let mut paths: Vec<String> = d.compose_files.clone();
        from_docker(ctx, &mut paths);
        search(ctx, &mut paths);
        let mut out = ComposeFiles::default();
        for path in paths {
            let text = match ctx.host.read_text(&path) {
                Ok(Some(t)) => t.text,
                Ok(None) => continue,
                Err(e) => {
                    out.files.push(ComposeFile {
                        path: path.clone(),
                        error: Some(e.to_string()),
                        ..ComposeFile::default()
                    });
                    continue;
                }
            };
            // Interpolation: the environment of a unit running this file, then the project's
            // .env (compose reads the shell environment first).
            let mut entries: Vec<EnvEntry> = Vec::new();
            for u in &d.units {
                if u.server
                    .as_ref()
                    .is_some_and(|s| s.compose_files.contains(&path))
                {
                    for v in u.env.iter().rev() {
                        entries.push(EnvEntry {
                            key: v.key.clone(),
                            value: v.value.clone(),
                            path: v.origin.path.clone(),
                            line: v.origin.line.unwrap_or(0),
                            text: v.origin.text.clone().unwrap_or_default(),
                        });
                    }
                }
            }
            let dotenv = format!("{}/.env", dirname(&path));
            if let Ok(Some(t)) = ctx.host.read_text(&dotenv) {
                for (key, value, line) in parse_env(&t.text) {
                    entries.push(EnvEntry {
                        key,
                        value,
                        path: dotenv.clone(),
                        line,
                        text: t.line(line).unwrap_or("").to_string(),
                    });
                }
            }
            let lookup = |k: &str| entries.iter().find(|e| e.key == k).cloned();
            let read = |p: &str| ctx.host.read_text(p).ok().flatten().map(|t| t.text);
            out.files.push(parse(&path, &text, &lookup, &read));
        }
        out
    }
}

#[cfg(test)]
mod tests;
