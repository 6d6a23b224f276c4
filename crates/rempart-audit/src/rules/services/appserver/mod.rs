//! What a unit's `ExecStart=` runs, read without running it: which Python app server (uvicorn,
//! gunicorn, Django's runserver, the FastAPI and Flask CLIs, hypercorn, daphne) or `docker
//! compose`, the addresses it binds (from arguments, environment, gunicorn's config file, and each
//! server's default), and development flags (`--reload`, `runserver`, `fastapi dev`).

use super::unit::split_command;
use crate::host::Host;

/// The kind of server a command starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Uvicorn,
    Gunicorn,
    Hypercorn,
    Daphne,
    DjangoRunserver,
    FastapiCli,
    FlaskCli,
    DockerCompose,
}

impl ServerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Uvicorn => "uvicorn",
            ServerKind::Gunicorn => "gunicorn",
            ServerKind::Hypercorn => "hypercorn",
            ServerKind::Daphne => "daphne",
            ServerKind::DjangoRunserver => "django runserver",
            ServerKind::FastapiCli => "fastapi",
            ServerKind::FlaskCli => "flask",
            ServerKind::DockerCompose => "docker compose",
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: String,
    pub line: Option<u32>,
    pub text: Option<String>,
    /// `argument`, `environment`, `config`, `default`.
    pub how: &'static str,
}

/// One listening address of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// As written: `0.0.0.0:8000`, `127.0.0.1`, `unix:/run/app.sock`, `[::]:8000`.
    pub addr: String,
    pub origin: Origin,
}

impl Bind {
    /// The host part of the address, without brackets or port; `None` for unix sockets.
    pub fn host(&self) -> Option<String> {
        bind_host(&self.addr)
    }

    /// Reachable from other machines: any address that is not loopback or a unix socket.
    pub fn is_exposed(&self) -> bool {
        match self.host() {
            None => false,
            Some(h) => !is_loopback(&h),
        }
    }
}

/// The host part of a bind address (`None` for unix sockets and file descriptors).
pub fn bind_host(addr: &str) -> Option<String> {
    let a = addr.trim();
    if a.starts_with("unix:") || a.starts_with("fd://") || a.starts_with('/') {
        return None;
    }
    let a = a.strip_prefix("tcp:").unwrap_or(a);
    if let Some(rest) = a.strip_prefix('[') {
        return Some(rest.split(']').next().unwrap_or("").to_string());
    }
    // `host:port`, `:port` (all interfaces), bare `host`, or a bare IPv6 address.
    if a.matches(':').count() > 1 {
        return Some(a.to_string());
    }
    match a.rsplit_once(':') {
        Some(("", _)) => Some("0.0.0.0".into()),
        Some((h, _)) => Some(h.to_string()),
        None if a.chars().all(|c| c.is_ascii_digit()) => Some("0.0.0.0".into()),
        None => Some(a.to_string()),
    }
}

pub fn is_loopback(host: &str) -> bool {
    let h = host.trim().to_ascii_lowercase();
    h == "localhost"
        || h == "::1"
        || h == "ip6-localhost"
        || h.starts_with("127.")
        || h == "0:0:0:0:0:0:0:1"
}

/// A development-only flag or mode seen in the command or environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevFlag {
    pub flag: String,
    pub origin: Origin,
}

/// What `ExecStart=` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppServer {
    pub kind: ServerKind,
    /// The app object or module (`app.main:app`, `proj.wsgi:application`), when given.
    pub target: Option<String>,
    pub binds: Vec<Bind>,
    pub dev_flags: Vec<DevFlag>,
    /// Compose files named by `-f` (absolute host paths, resolved against WorkingDirectory).
    pub compose_files: Vec<String>,
    /// Gunicorn's config file, if one is used.
    pub config_file: Option<String>,
}

/// The inputs of the analysis: a command and the environment it runs with.
#[derive(Debug, Clone)]
pub struct Command<'a> {
    pub line: &'a str,
    pub path: &'a str,
    pub line_no: u32,
    pub working_dir: Option<&'a str>,
    /// (key, value, origin) from Environment= and EnvironmentFile=.
    pub env: &'a [(String, String, Origin)],
}

fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_python(p: &str) -> bool {
    p == "python" || p.starts_with("python3") || p == "python2"
}

fn env_lookup<'a>(
    env: &'a [(String, String, Origin)],
    key: &str,
) -> Option<&'a (String, String, Origin)> {
    env.iter().rev().find(|(k, _, _)| k == key)
}

/// Substitute `$VAR` and `${VAR}` from the unit's environment (as systemd does in ExecStart).
fn expand(word: &str, env: &[(String, String, Origin)]) -> String {
    if !word.contains('$') {
        return word.to_string();
    }
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        match env_lookup(env, name) {
            Some((_, v, _)) => out.push_str(v),
            None => {
                out.push('$');
                out.push_str(&after[..consumed]);
            }
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

/// Recognise the server a command starts. `None` when it is not one we know.
pub fn analyse(host: &Host, cmd: &Command) -> Option<AppServer> {
    let mut words = split_command(cmd.line);
    // `/usr/bin/env VAR=x prog ...` and `sh -c "..."` wrappers.
    loop {
        let first = words.first().map(|w| program(w).to_string())?;
        if first == "env" {
            words.remove(0);
            while words
                .first()
                .is_some_and(|w| w.contains('=') && !w.starts_with('-'))
            {
                words.remove(0);
            }
            continue;
        }
        if matches!(first.as_str(), "sh" | "bash" | "dash")
            && words.get(1).is_some_and(|w| w == "-c")
        {
            let inner = words.get(2)?.clone();
            let inner = inner
                .split("&&")
                .last()
                .unwrap_or(&inner)
                .trim()
                .to_string();
            let inner = inner.strip_prefix("exec ").unwrap_or(&inner).to_string();
            words = split_command(&inner);
            continue;
        }
        break;
    }
    let words: Vec<String> = words.iter().map(|w| expand(w, cmd.env)).collect();
    let arg_origin = Origin {
        path: cmd.path.to_string(),
        line: Some(cmd.line_no),
        text: Some(cmd.line.to_string()),
        how: "argument",
    };
    let prog = program(words.first()?).to_string();
    let (kind, args): (ServerKind, &[String]) = if is_python(&prog) {
        let mut i = 1;
        while words
            .get(i)
            .is_some_and(|w| w.starts_with('-') && w != "-m")
        {
            i += 1;
        }
        match words.get(i).map(String::as_str) {
            Some("-m") => {
                let module = words.get(i + 1)?;
                (kind_of(module)?, &words[i + 2..])
            }
            Some(script) if program(script) == "manage.py" => {
                let runserver = words.get(i + 1).map(String::as_str) == Some("runserver");
                if !runserver {
                    return None;
                }
                (ServerKind::DjangoRunserver, &words[i + 2..])
            }
            Some(script) => (kind_of(program(script))?, &words[i + 1..]),
            None => return None,
        }
    } else if prog == "manage.py" {
        if words.get(1).map(String::as_str) == Some("runserver") {
            (ServerKind::DjangoRunserver, &words[2..])
        } else {
            return None;
        }
    } else if prog == "docker" || prog == "podman" {
        if words.get(1).map(String::as_str) == Some("compose") {
            (ServerKind::DockerCompose, &words[2..])
        } else {
            return None;
        }
    } else {
        (kind_of(&prog)?, &words[1..])
    };

    let mut server = AppServer {
        kind,
        target: None,
        binds: Vec::new(),
        dev_flags: Vec::new(),
        compose_files: Vec::new(),
        config_file: None,
    };
    let dev = |flag: &str| DevFlag {
        flag: flag.to_string(),
        origin: arg_origin.clone(),
    };
    let resolve = |p: &str| -> String {
        if p.starts_with('/') {
            p.to_string()
        } else {
            format!(
                "{}/{}",
                cmd.working_dir.unwrap_or("").trim_end_matches('/'),
                p
            )
        }
    };

    // Parse flags: `--name value`, `--name=value`, short `-b value` / `-bvalue`.
    let mut host_arg: Option<String> = None;
    let mut port_arg: Option<String> = None;
    let mut positional: Vec<String> = Vec::new();
    let mut i = 0;
    let mut subcommand: Option<String> = None;
    while i < args.len() {
        let a = &args[i];
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if a.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let take = |i: &mut usize| -> Option<String> {
            if inline.is_some() {
                return inline.clone();
            }
            *i += 1;
            args.get(*i).cloned()
        };
        match (kind, name.as_str()) {
            (_, "--reload") | (_, "--debug") => server.dev_flags.push(dev(&name)),
            (
                ServerKind::Uvicorn | ServerKind::FastapiCli | ServerKind::FlaskCli,
                "--host" | "-h",
            ) => host_arg = take(&mut i),
            (
                ServerKind::Uvicorn | ServerKind::FastapiCli | ServerKind::FlaskCli,
                "--port" | "-p",
            ) => port_arg = take(&mut i),
            (ServerKind::Uvicorn, "--uds") => {
                if let Some(p) = take(&mut i) {
                    server.binds.push(Bind {
                        addr: format!("unix:{p}"),
                        origin: arg_origin.clone(),
                    });
                }
            }
            (
                ServerKind::Gunicorn | ServerKind::Hypercorn | ServerKind::Daphne,
                "-b" | "--bind",
            ) => {
                if let Some(v) = take(&mut i) {
                    server.binds.push(Bind {
                        addr: v,
                        origin: arg_origin.clone(),
                    });
                }
            }
            (ServerKind::Gunicorn, "-c" | "--config") => {
                server.config_file = take(&mut i).map(|p| resolve(p.trim_start_matches("python:")));
            }
            (ServerKind::Daphne, "-p" | "--port") => port_arg = take(&mut i),
            (ServerKind::DockerCompose, "-f" | "--file") => {
                if let Some(p) = take(&mut i) {
                    server.compose_files.push(resolve(&p));
                }
            }
            (ServerKind::DockerCompose, "-p" | "--project-name" | "--env-file" | "--profile") => {
                let _ = take(&mut i);
            }
            (ServerKind::Gunicorn, n) if n.starts_with("-b") && n.len() > 2 && inline.is_none() => {
                server.binds.push(Bind {
                    addr: n[2..].to_string(),
                    origin: arg_origin.clone(),
                });
            }
            (
                ServerKind::Gunicorn | ServerKind::Uvicorn | ServerKind::Hypercorn,
                "-w"
                | "--workers"
                | "-k"
                | "--worker-class"
                | "--log-level"
                | "--timeout"
                | "--access-logfile"
                | "--error-logfile"
                | "--root-path"
                | "--forwarded-allow-ips"
                | "--env-file"
                | "--app-dir"
                | "--chdir"
                | "--user"
                | "--group"
                | "--pid"
                | "--threads"
                | "--name"
                | "-n"
                | "--log-config",
            ) => {
                let _ = take(&mut i);
            }
            (_, n) if n.starts_with('-') => {}
            _ => {
                if subcommand.is_none()
                    && matches!(
                        kind,
                        ServerKind::FastapiCli | ServerKind::FlaskCli | ServerKind::DockerCompose
                    )
                {
                    subcommand = Some(a.clone());
                } else {
                    positional.push(a.clone());
                }
            }
        }
        i += 1;
    }

    match kind {
        ServerKind::Uvicorn | ServerKind::FastapiCli | ServerKind::FlaskCli => {
            server.target = positional.first().cloned();
            if kind == ServerKind::FastapiCli && subcommand.as_deref() == Some("dev") {
                server.dev_flags.push(dev("fastapi dev"));
            }
            if kind == ServerKind::FlaskCli && subcommand.as_deref() == Some("run") {
                server.dev_flags.push(dev("flask run (development server)"));
            }
            if !server.binds.iter().any(|b| b.addr.starts_with("unix:")) {
                let env_key = match kind {
                    ServerKind::Uvicorn => "UVICORN_HOST",
                    ServerKind::FlaskCli => "FLASK_RUN_HOST",
                    _ => "",
                };
                let (host, origin) = match (&host_arg, env_lookup(cmd.env, env_key)) {
                    (Some(h), _) => (h.clone(), arg_origin.clone()),
                    (None, Some((_, v, o))) => (v.clone(), o.clone()),
                    (None, None) => {
                        // `fastapi run` listens on every interface by default; `fastapi dev`,
                        // uvicorn and flask on loopback.
                        let all =
                            kind == ServerKind::FastapiCli && subcommand.as_deref() != Some("dev");
                        (
                            if all { "0.0.0.0" } else { "127.0.0.1" }.to_string(),
                            Origin {
                                how: "default",
                                ..arg_origin.clone()
                            },
                        )
                    }
                };
                let port = port_arg.clone().unwrap_or_else(|| {
                    if kind == ServerKind::FlaskCli {
                        "5000"
                    } else {
                        "8000"
                    }
                    .to_string()
                });
                server.binds.push(Bind {
                    addr: join_host_port(&host, &port),
                    origin,
                });
            }
        }
        ServerKind::Gunicorn | ServerKind::Hypercorn => {
            server.target = positional.first().cloned();
            if kind == ServerKind::Gunicorn {
                gunicorn_extra(host, cmd, &mut server);
            }
            if server.binds.is_empty() {
                // gunicorn binds 0.0.0.0:$PORT when PORT is set, else 127.0.0.1:8000.
                match env_lookup(cmd.env, "PORT").filter(|_| kind == ServerKind::Gunicorn) {
                    Some((_, port, o)) => server.binds.push(Bind {
                        addr: format!("0.0.0.0:{port}"),
                        origin: o.clone(),
                    }),
                    None => server.binds.push(Bind {
                        addr: "127.0.0.1:8000".into(),
                        origin: Origin {
                            how: "default",
                            ..arg_origin.clone()
                        },
                    }),
                }
            }
        }
        ServerKind::Daphne => {
            server.target = positional.first().cloned();
            if server.binds.is_empty() {
                server.binds.push(Bind {
                    addr: join_host_port("127.0.0.1", port_arg.as_deref().unwrap_or("8000")),
                    origin: Origin {
                        how: "default",
                        ..arg_origin.clone()
                    },
                });
            }
        }
        ServerKind::DjangoRunserver => {
            server
                .dev_flags
                .push(dev("manage.py runserver (development server)"));
            let addr = positional.first().cloned();
            server.binds.push(match addr {
                Some(a) => Bind {
                    addr: if a.chars().all(|c| c.is_ascii_digit()) {
                        format!("127.0.0.1:{a}")
                    } else {
                        a
                    },
                    origin: arg_origin.clone(),
                },
                None => Bind {
                    addr: "127.0.0.1:8000".into(),
                    origin: Origin {
                        how: "default",
                        ..arg_origin.clone()
                    },
                },
            });
        }
        ServerKind::DockerCompose => {
            if server.compose_files.is_empty() {
                if let Some(dir) = cmd.working_dir {
                    for name in [
                        "compose.yaml",
                        "compose.yml",
                        "docker-compose.yml",
                        "docker-compose.yaml",
                    ] {
                        let p = format!("{}/{name}", dir.trim_end_matches('/'));
                        if host.exists(&p) {
                            server.compose_files.push(p);
                            break;
                        }
                    }
                }
            }
        }
    }
    Some(server)
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn kind_of(prog: &str) -> Option<ServerKind> {
    Some(match prog {
        "uvicorn" => ServerKind::Uvicorn,
        "gunicorn" | "gunicorn3" => ServerKind::Gunicorn,
        "hypercorn" => ServerKind::Hypercorn,
        "daphne" => ServerKind::Daphne,
        "fastapi" => ServerKind::FastapiCli,
        "flask" => ServerKind::FlaskCli,
        "docker-compose" | "podman-compose" => ServerKind::DockerCompose,
        _ => return None,
    })
}

/// Gunicorn's other sources of binds and flags: its config file (`bind = ...`, `reload = True`)
/// and `GUNICORN_CMD_ARGS`.
fn gunicorn_extra(host: &Host, cmd: &Command, server: &mut AppServer) {
    if let Some((_, args, origin)) = env_lookup(cmd.env, "GUNICORN_CMD_ARGS") {
        let words = split_command(args);
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            if w == "-b" || w == "--bind" {
                if let Some(v) = words.get(i + 1) {
                    server.binds.push(Bind {
                        addr: v.clone(),
                        origin: origin.clone(),
                    });
                }
                i += 1;
            } else if let Some(v) = w.strip_prefix("--bind=") {
                server.binds.push(Bind {
                    addr: v.to_string(),
                    origin: origin.clone(),
                });
            } else if w == "--reload" {
                server.dev_flags.push(DevFlag {
                    flag: w.clone(),
                    origin: origin.clone(),
                });
            }
            i += 1;
        }
    }
    let config = server.config_file.clone().or_else(|| {
        let dir = cmd.working_dir?;
        let p = format!("{}/gunicorn.conf.py", dir.trim_end_matches('/'));
        host.exists(&p).then_some(p)
    });
    let Some(path) = config else { return };
    let Ok(Some(file)) = host.read_text(&path) else {
        return;
    };
    for (n, raw) in file.text.lines().enumerate() {
        let line = raw.trim();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let origin = Origin {
            path: path.clone(),
            line: Some(n as u32 + 1),
            text: Some(raw.to_string()),
            how: "config",
        };
        match key.trim() {
            "bind" => {
                for addr in python_strings(value) {
                    if !server.binds.iter().any(|b| b.origin.how == "argument") {
                        server.binds.push(Bind {
                            addr,
                            origin: origin.clone(),
                        });
                    }
                }
            }
            "reload" if value.trim().starts_with("True") => {
                server.dev_flags.push(DevFlag {
                    flag: "reload = True".into(),
                    origin,
                });
            }
            _ => {}
        }
    }
}

/// The string literals of a Python expression (`"0.0.0.0:8000"` or `["a", 'b']`).
fn python_strings(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        if c == '#' {
            break;
        }
        if c == '"' || c == '\'' {
            let s: String = chars.by_ref().take_while(|&x| x != c).collect();
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests;
