//! The log files the host's applications and web/database servers write, found from their own
//! configuration: units' `StandardOutput=`/`StandardError=` files (`append:`, `file:`,
//! `truncate:`), gunicorn's `--access-logfile`/`--error-logfile`/`--log-file` and its config
//! file's `accesslog`/`errorlog`, Django's `LOGGING` file handlers (those that do not rotate
//! themselves), the files already in `/var/log/<app>/` directories named after the app's unit,
//! directory or account, and the `*.log` files of Apache, nginx, MariaDB/MySQL, PostgreSQL and
//! Traefik under `/var/log`.

use crate::model::Evidence;
use crate::rule::{Ctx, Fact};
use crate::rules::app::django::DjangoProjects;
use crate::rules::app::env::AppEnv;
use crate::rules::app::pyread::{self, Val};
use crate::rules::app::web::module_names;
use crate::rules::services::appserver::ServerKind;
use crate::rules::services::discovery::Discovery;
use crate::rules::services::unit::split_command;

/// Where a log file was found named.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFile {
    pub path: String,
    /// Who writes it, for messages (`observations.service StandardOutput`).
    pub writer: String,
    /// The configuration line naming it, when there is one.
    pub origin: Option<Evidence>,
}

/// Every log file found.
#[derive(Debug, Clone, Default)]
pub struct AppLogs {
    pub logs: Vec<LogFile>,
}

/// Web and database servers' log directories.
const DAEMON_DIRS: &[&str] = &[
    "/var/log/apache2",
    "/var/log/nginx",
    "/var/log/mysql",
    "/var/log/postgresql",
    "/var/log/traefik",
];

/// Python logging handlers that rotate their own files.
const SELF_ROTATING: &[&str] = &["RotatingFileHandler", "TimedRotatingFileHandler"];

/// A rotated copy (`app.log.1`, `app.log.2.gz`, `app.log-20250101`), not a live log.
pub fn is_rotated(name: &str) -> bool {
    let n = name
        .trim_end_matches(".gz")
        .trim_end_matches(".xz")
        .trim_end_matches(".bz2")
        .trim_end_matches(".zst");
    if n.len() != name.len() {
        return true;
    }
    let last = n.rsplit(['.', '-']).next().unwrap_or("");
    (!last.is_empty() && last.chars().all(|c| c.is_ascii_digit()) && n.len() > last.len())
        || n.ends_with(".old")
}

impl AppLogs {
    fn add(&mut self, path: &str, writer: String, origin: Option<Evidence>) {
        let path = path.trim();
        if !path.starts_with('/') || path.starts_with("/dev/") || path.starts_with("/proc/") {
            return;
        }
        if !self.logs.iter().any(|l| l.path == path) {
            self.logs.push(LogFile {
                path: path.to_string(),
                writer,
                origin,
            });
        }
    }

    /// Live files of a log directory.
    fn dir(&mut self, ctx: &Ctx, dir: &str, writer: &str, only_logs: bool) {
        let Ok(Some(names)) = ctx.host.read_dir(dir) else {
            return;
        };
        for n in names.iter().take(200) {
            if is_rotated(n) || (only_logs && !n.ends_with(".log")) {
                continue;
            }
            let p = format!("{dir}/{n}");
            if matches!(ctx.host.metadata(&p), Ok(Some(m)) if m.kind == crate::host::FileKind::File)
            {
                self.add(&p, writer.to_string(), None);
            }
        }
    }
}

impl Fact for AppLogs {
    fn collect(ctx: &Ctx) -> AppLogs {
        let d = ctx.fact::<Discovery>();
        let mut out = AppLogs::default();
        for u in &d.units {
            for key in ["StandardOutput", "StandardError"] {
                let Some(s) = u.unit.get("Service", key) else {
                    continue;
                };
                for prefix in ["append:", "file:", "truncate:"] {
                    if let Some(p) = s.value.strip_prefix(prefix) {
                        out.add(
                            p,
                            format!("{} {key}", u.unit.name),
                            Some(
                                Evidence::file(&s.path)
                                    .line(s.line)
                                    .snippet(&s.text)
                                    .key(key),
                            ),
                        );
                    }
                }
            }
            let Some(server) = &u.server else { continue };
            if server.kind != ServerKind::Gunicorn {
                continue;
            }
            if let Some(exec) = u.unit.all("Service", "ExecStart").last() {
                let words = split_command(&exec.value);
                for (i, w) in words.iter().enumerate() {
                    let (flag, inline) = match w.split_once('=') {
                        Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                        _ => (w.as_str(), None),
                    };
                    if matches!(flag, "--access-logfile" | "--error-logfile" | "--log-file") {
                        if let Some(v) = inline.or_else(|| words.get(i + 1).cloned()) {
                            let path = if v.starts_with('/') {
                                v
                            } else {
                                format!("{}/{v}", u.working_dir.as_deref().unwrap_or(""))
                            };
                            out.add(
                                &path,
                                format!("{} gunicorn {flag}", u.unit.name),
                                Some(
                                    Evidence::file(&exec.path)
                                        .line(exec.line)
                                        .snippet(&exec.text)
                                        .key(flag),
                                ),
                            );
                        }
                    }
                }
            }
            let config = server.config_file.clone().or_else(|| {
                let p = format!(
                    "{}/gunicorn.conf.py",
                    u.working_dir.as_deref()?.trim_end_matches('/')
                );
                ctx.host.exists(&p).then_some(p)
            });
            if let Some(path) = config {
                if let Ok(Some(t)) = ctx.host.read_text(&path) {
                    if let Ok(m) = pyread::read(&t.text) {
                        let names = module_names(&m, &AppEnv::default(), &path);
                        for s in &m.stmts {
                            let pyread::StmtKind::Assign { targets, .. } = &s.kind else {
                                continue;
                            };
                            for key in ["accesslog", "errorlog"] {
                                if !targets.iter().any(|t| t.dotted().as_deref() == Some(key)) {
                                    continue;
                                }
                                if let Some((Val::Str(v), _)) = names.get(key) {
                                    out.add(
                                        v,
                                        format!("{} gunicorn {key}", u.unit.name),
                                        Some(
                                            Evidence::file(&path)
                                                .line(s.line)
                                                .snippet(t.line(s.line).unwrap_or(""))
                                                .key(key),
                                        ),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        // Django's LOGGING file handlers.
        let django = ctx.fact::<DjangoProjects>();
        for p in &django.projects {
            let Some(b) = p.values.get("LOGGING") else {
                continue;
            };
            let Some(Val::Dict(handlers)) = b.val.get("handlers") else {
                continue;
            };
            for (name, h) in handlers {
                let class = h.get("class").and_then(Val::as_str).unwrap_or("");
                if SELF_ROTATING.iter().any(|c| class.ends_with(c)) {
                    continue;
                }
                if let Some(f) = h.get("filename").and_then(Val::as_str) {
                    let line = line_in_block(ctx, &b.path, b.line, f).unwrap_or(b.line);
                    let text = ctx
                        .host
                        .read_text(&b.path)
                        .ok()
                        .flatten()
                        .and_then(|t| t.line(line).map(String::from))
                        .unwrap_or_default();
                    out.add(
                        f,
                        format!("Django LOGGING handler {}", name.as_str().unwrap_or("?")),
                        Some(
                            Evidence::file(&b.path)
                                .line(line)
                                .snippet(text)
                                .key("filename"),
                        ),
                    );
                }
            }
        }
        // /var/log/<name>/ for each app.
        let mut names: Vec<String> = Vec::new();
        for app in &d.apps {
            names.extend(
                app.units
                    .iter()
                    .map(|u| u.trim_end_matches(".service").to_string()),
            );
            names.extend(app.dir.rsplit('/').next().map(String::from));
            names.extend(app.user.clone());
        }
        let dirs: Vec<String> = out
            .logs
            .iter()
            .filter_map(|l| l.path.rsplit_once('/').map(|(d, _)| d.to_string()))
            .filter(|d| d.starts_with("/var/log/") && d.len() > "/var/log/".len())
            .collect();
        for n in names {
            if n.is_empty() || n.contains('/') {
                continue;
            }
            let dir = format!("/var/log/{n}");
            out.dir(ctx, &dir, &format!("application {n}"), false);
        }
        for dir in dirs {
            out.dir(ctx, &dir, "application log directory", false);
        }
        for dir in DAEMON_DIRS {
            let name = dir.rsplit('/').next().unwrap_or(dir);
            out.dir(ctx, dir, name, true);
        }
        out
    }
}

/// The line, at or after `start`, where `needle` appears in the file.
fn line_in_block(ctx: &Ctx, path: &str, start: u32, needle: &str) -> Option<u32> {
    let t = ctx.host.read_text(path).ok()??;
    t.text
        .lines()
        .enumerate()
        .skip(start.saturating_sub(1) as usize)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::is_rotated;

    #[test]
    fn rotated_copies() {
        for n in [
            "access.log.1",
            "access.log.2.gz",
            "django.log-20250101",
            "error.log.old",
            "x.log.zst",
        ] {
            assert!(is_rotated(n), "{n}");
        }
        for n in [
            "access.log",
            "django.log",
            "other_vhosts_access.log",
            "app2.log",
            "log",
        ] {
            assert!(!is_rotated(n), "{n}");
        }
    }
}
