//! The Docker socket handed to Traefik, replaced by a filtering proxy in the same compose file
//! (CTR-DOCKER-SOCKET, WEB-TRAEFIK-DOCKER-SOCKET): a `socket-proxy` service
//! (tecnativa/docker-socket-proxy, pinned) holding the socket read-only with CONTAINERS=1 and
//! POST left at its default 0, publishing no port, on an internal network only Traefik joins;
//! Traefik's socket mount commented out and its Docker provider pointed at
//! `tcp://socket-proxy:2375`. Line edits and inserted blocks, comments and layout kept.
//!
//! Traefik's Docker provider (standalone, not Swarm) lists and inspects containers and follows
//! events: CONTAINERS plus the proxy's defaults (EVENTS, PING, VERSION). Swarm would also need
//! SERVICES, TASKS and NETWORKS: a Swarm provider is not handled here.
//!
//! A proxy per compose file: compose's networks belong to one project, and a network shared
//! between projects must be made with `docker network create` before either project starts,
//! which a file edit cannot do; a second proxy with CONTAINERS=1 gives nothing more away.
//!
//! Declined, with the reason: cAdvisor (its `/:/rootfs` mount holds the socket and is what it
//! reads containers' network counters and layers through, so a proxy alone removes nothing),
//! other API users (Portainer, Watchtower, Promtail: what they need is theirs to say), a proxy
//! already there that lets writes through, and layouts the edits cannot follow (long-syntax
//! mounts, Traefik on several networks).

use super::super::web::{indent_of, line_at};
use crate::change::{Fix, Intent, Safety};
use rempart_audit::facts::packages::compare_versions;
use rempart_audit::facts::Packages;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::containers::compose::{ComposeFile, ComposeFiles, Service, Volume};
use rempart_audit::rules::containers::docker_socket::{is_proxy, proxy_problems, socket_mounts};
use rempart_audit::rules::web::traefik::tree::Node;
use rempart_audit::rules::web::traefik::Traefik;

/// The proxy's image, pinned to a release (never latest).
pub const PROXY_IMAGE: &str = "tecnativa/docker-socket-proxy:v0.4.2";
/// The proxy's service and network name.
pub const PROXY: &str = "socket-proxy";
/// Where Traefik finds the API.
pub const ENDPOINT: &str = "tcp://socket-proxy:2375";

/// Why cAdvisor is left to the admin.
pub const CADVISOR_WHY: &str = "cAdvisor reads Docker's containers through /rootfs, its bind \
    of the host's `/` (each container's layer id under /rootfs/var/lib/docker, its network \
    counters in /rootfs/proc/PID/net/dev; without it no container is monitored), and that \
    recursive bind holds /run/docker.sock, so pointing `--docker` at a proxy \
    (tcp://socket-proxy:2375 with CONTAINERS=1 and INFO=1) removes nothing; a non-recursive \
    bind of `/` (`bind: { recursive: disabled }`, which the audit accepts) keeps the socket out \
    but also hides /proc and every other filesystem: choose between those metrics and the \
    socket, or run cAdvisor on the host";

/// The host's Docker engine package and version, when it is older than Engine 25 (the first
/// with non-recursive bind mounts), compared as dpkg does: Debian's `docker.io` (`20.10.24+dfsg1-1`)
/// and Docker's `docker-ce` (whose versions carry the epoch 5: `5:25.0.3-1~debian.12~bookworm`).
fn engine_too_old(ctx: &Ctx) -> Option<(&'static str, String)> {
    let packages = ctx.fact::<Packages>();
    [("docker-ce", "5:25~"), ("docker.io", "25~")]
        .into_iter()
        .find_map(|(p, first)| {
            let v = packages.version(p)?;
            compare_versions(v, first)
                .is_lt()
                .then(|| (p, v.to_string()))
        })
}

/// The socket mounts of a service, as `` `mount` (line N) ``.
fn mounts_of(s: &Service) -> String {
    socket_mounts(s)
        .iter()
        .map(|v| format!("`{}` (line {})", v.raw, v.line))
        .collect::<Vec<_>>()
        .join(", ")
}

/// CTR-DOCKER-SOCKET: every API user of a compose file is Traefik: a proxy for it.
pub fn docker_socket(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    proxy_fix(ctx, f, false)
}

/// WEB-TRAEFIK-DOCKER-SOCKET: the Traefik containers holding the socket get a proxy (other
/// API users of the same file are CTR-DOCKER-SOCKET's business).
pub fn traefik_docker_socket(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    if f.evidence
        .iter()
        .any(|e| e.key.as_deref() == Some("providers.docker.endpoint"))
    {
        return Err(
            "Traefik runs on the host with the Docker provider on the local socket: \
                    its user is in the docker group; run a socket proxy and point \
                    providers.docker.endpoint at it by hand"
                .into(),
        );
    }
    proxy_fix(ctx, f, true)
}

fn proxy_fix(ctx: &Ctx, f: &Finding, only_traefik: bool) -> Result<Option<Fix>, String> {
    let files = ctx.fact::<ComposeFiles>();
    let traefik = ctx.fact::<Traefik>();
    let mut intents = Vec::new();
    let mut done = Vec::new();
    for file in files.files.iter().filter(|c| c.error.is_none()) {
        let mut clients: Vec<&Service> = Vec::new();
        for s in &file.services {
            if socket_mounts(s).is_empty() {
                continue;
            }
            if is_proxy(s) {
                let problems = proxy_problems(file, s);
                if !problems.is_empty() && !only_traefik {
                    let what: Vec<String> = problems
                        .iter()
                        .map(|e| {
                            format!(
                                "{}={} (line {})",
                                e.key.as_deref().unwrap_or(""),
                                e.actual.as_ref().map(|a| a.to_string()).unwrap_or_default(),
                                e.line.unwrap_or(0)
                            )
                        })
                        .collect();
                    return Err(format!(
                        "{}: service {} is a socket proxy that lets writes through or is \
                         reachable from the host ({}): a client may need it (Portainer, \
                         Watchtower); set POST to 0 and drop the published port by hand once \
                         you know",
                        file.path,
                        s.name,
                        what.join(", ")
                    ));
                }
                continue;
            }
            match s.image_base().as_deref() {
                Some("traefik") => clients.push(s),
                _ if only_traefik => {}
                Some("cadvisor") => {
                    return Err(format!(
                        "{}: service {} gets the socket through {}: {CADVISOR_WHY}{}",
                        file.path,
                        s.name,
                        mounts_of(s),
                        engine_too_old(ctx)
                            .map(|(p, v)| format!(
                                "; this host's Docker ({p} {v}) predates non-recursive binds \
                                 (Docker Engine 25)"
                            ))
                            .unwrap_or_default()
                    ))
                }
                other => {
                    return Err(format!(
                        "{}: service {} ({}) gets the socket through {}: whether and how it \
                         uses the Docker API is not something rempart knows: give it a socket \
                         proxy with the endpoints it needs, or narrow or remove the mount",
                        file.path,
                        s.name,
                        other.unwrap_or("no image"),
                        mounts_of(s)
                    ))
                }
            }
        }
        if clients.is_empty() {
            continue;
        }
        intents.extend(file_intents(ctx, &traefik, file, &clients)?);
        done.push(file.path.clone());
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "Traefik reads the Docker API through `{PROXY}` ({PROXY_IMAGE}: CONTAINERS=1, \
             POST=0, no published port, on the internal network {PROXY}) at {ENDPOINT}, and \
             no longer mounts the socket; `docker compose up -d` in the directory of {}",
            done.join(", ")
        ),
        safety: Safety::Unsafe(
            "Traefik drops its Docker routes while the proxy is not running, and anything else \
             in the Traefik container that used the socket (a plugin, a healthcheck calling \
             `docker`) loses it; Traefik on Swarm would need SERVICES, TASKS and NETWORKS too"
                .into(),
        ),
        intents,
    }))
}

/// The lines of a service's block: from its key line to the last non-blank line before the
/// next key at its indentation or less. 1-based, inclusive.
fn block(lines: &[&str], key_line: u32) -> (u32, u32) {
    let start = key_line as usize;
    let key_indent = lines
        .get(start.saturating_sub(1))
        .map_or(0, |l| indent_of(l).len());
    let mut last = start;
    for (i, l) in lines.iter().enumerate().skip(start) {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if indent_of(l).len() <= key_indent {
            break;
        }
        last = i + 1;
    }
    (key_line, last as u32)
}

fn file_intents(
    ctx: &Ctx,
    traefik: &Traefik,
    file: &ComposeFile,
    clients: &[&Service],
) -> Result<Vec<Intent>, String> {
    let path = &file.path;
    let (real, _) = line_at(ctx, path, 1)?;
    let lines: Vec<&str> = file
        .text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    if file.services.iter().any(|s| s.name == PROXY) {
        return Err(format!(
            "{path}: a service is already named {PROXY}: add the proxy by hand"
        ));
    }
    if lines.iter().any(|l| l.starts_with("networks:")) {
        return Err(format!(
            "{path}: the file declares its own networks: add a {PROXY} service and an internal \
             network shared with Traefik by hand"
        ));
    }
    let [t] = clients else {
        return Err(format!(
            "{path}: {} Traefik services hold the socket: give them a proxy by hand",
            clients.len()
        ));
    };
    if t.network_mode.is_some() {
        return Err(format!(
            "{path}: service {} sets network_mode: give it a network shared with a socket proxy \
             by hand",
            t.name
        ));
    }
    let mut intents = Vec::new();
    let (start, end) = block(&lines, t.line);
    let service_indent = indent_of(lines[start as usize - 1]).to_string();
    let body: Vec<&str> = (start + 1..=end)
        .map(|n| lines[n as usize - 1])
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    let Some(first) = body.first() else {
        return Err(format!("{path}: service {} has no body", t.name));
    };
    let b = indent_of(first).to_string();
    if body
        .iter()
        .any(|l| indent_of(l) == b && l.trim_start().starts_with("networks:"))
    {
        return Err(format!(
            "{path}: service {} already lists its networks: add the {PROXY} network to it and \
             the proxy service by hand",
            t.name
        ));
    }
    // The socket mounts, commented out (the line count stays, so other edits of the file still
    // find their lines).
    let mounts = socket_mounts(t);
    for v in &mounts {
        intents.push(comment_mount(path, &real, &lines, t, v)?);
    }
    if mounts.len() == t.volumes.len() {
        // No volume left: `volumes:` with only comments under it would be null.
        let vline = mounts.first().map_or(0, |v| v.line);
        let key = (start + 1..vline)
            .rev()
            .find(|n| lines[*n as usize - 1].trim() == "volumes:")
            .ok_or_else(|| format!("{path}: service {}: no `volumes:` line", t.name))?;
        let old = lines[key as usize - 1].to_string();
        intents.push(Intent::EditLine {
            path: real.clone(),
            line: key,
            new: format!("{}volumes: []", indent_of(&old)),
            old,
        });
    }
    let mut endpoint_intents = endpoint(ctx, traefik, file, t, &lines, start, end)?;
    // Edits before insertions, so every line number is the audit's.
    endpoint_intents.sort_by_key(|i| matches!(i, Intent::InsertLine { .. }));
    intents.extend(endpoint_intents);
    // The network, at the end of the file; Traefik joins it (keeping the project's default
    // network) and the proxy follows Traefik's block: one insertion point, so a second fix
    // planning the same block finds it there.
    let network = [
        "networks:".to_string(),
        format!("{service_indent}{PROXY}:"),
        format!("{service_indent}{service_indent}internal: true"),
    ]
    .join("\n");
    intents.push(Intent::InsertLine {
        path: real.clone(),
        before: u32::MAX,
        text: format!("\n{network}"),
    });
    let block_text = [
        format!("{b}networks:"),
        format!("{b}  - default"),
        format!("{b}  - {PROXY}"),
        String::new(),
        format!("{service_indent}{PROXY}:"),
        format!(
            "{b}# Added by `rempart harden`: the Docker API for Traefik's provider, read-only \
             (GET on containers, events, version, ping); POST stays 0"
        ),
        format!("{b}image: {PROXY_IMAGE}"),
        format!("{b}restart: unless-stopped"),
        format!("{b}environment:"),
        format!("{b}  CONTAINERS: 1"),
        format!("{b}volumes:"),
        format!("{b}  - /var/run/docker.sock:/var/run/docker.sock:ro"),
        format!("{b}networks:"),
        format!("{b}  - {PROXY}"),
    ]
    .join("\n");
    intents.push(Intent::InsertLine {
        path: real,
        before: end + 1,
        text: block_text,
    });
    Ok(intents)
}

/// A short-syntax socket mount line turned into a comment saying why.
fn comment_mount(
    path: &str,
    real: &str,
    lines: &[&str],
    t: &Service,
    v: &Volume,
) -> Result<Intent, String> {
    let old = lines
        .get((v.line as usize).saturating_sub(1))
        .copied()
        .unwrap_or("");
    let item = old.trim_start().strip_prefix("- ").map(str::trim);
    let src = v.source.as_deref().unwrap_or("");
    let file_mount = src.ends_with(".sock");
    match item {
        Some(i) if file_mount && !i.contains(": ") && !i.ends_with(':') && i.contains(src) => {
            Ok(Intent::EditLine {
                path: real.to_string(),
                line: v.line,
                old: old.to_string(),
                new: format!(
                    "{}# {} removed by `rempart harden`: the Docker API comes from {PROXY}",
                    indent_of(old),
                    i.trim_matches(['"', '\''])
                ),
            })
        }
        _ => Err(format!(
            "{path}:{} (service {}): `{}` is not a short-syntax mount of the socket file \
             rempart can comment out (a directory holding it, or the long syntax): replace it \
             with the proxy by hand",
            v.line,
            t.name,
            old.trim()
        )),
    }
}

/// Traefik's Docker provider pointed at the proxy: the `--providers.docker[=true]` flag of its
/// compose command becomes `--providers.docker.endpoint=...` (setting an option enables the
/// provider), an existing endpoint flag or static-file `endpoint` gets the new value, or the
/// static file gets an `endpoint` line under `docker:` (YAML) or `[providers.docker]` (TOML).
fn endpoint(
    ctx: &Ctx,
    traefik: &Traefik,
    file: &ComposeFile,
    t: &Service,
    lines: &[&str],
    start: u32,
    end: u32,
) -> Result<Vec<Intent>, String> {
    let path = &file.path;
    let inst = traefik
        .instances
        .iter()
        .find(|i| i.compose.as_ref().is_some_and(|c| c.path == *path))
        .ok_or_else(|| {
            format!(
                "{path}: service {}: rempart did not read its Traefik",
                t.name
            )
        })?;
    let doc = inst.static_doc.as_ref().ok_or_else(|| {
        format!(
            "{path}: service {}: Traefik's static configuration was not found",
            t.name
        )
    })?;
    if doc.path == *path {
        // Flags: one `- --flag` item per line of the service's command.
        for n in start..=end {
            let old = lines[n as usize - 1];
            let Some(item) = old.trim_start().strip_prefix("- ") else {
                continue;
            };
            let (q, flag) = match item.chars().next() {
                Some(c @ ('"' | '\'')) => (c.to_string(), item.trim_matches(c)),
                _ => (String::new(), item.trim_end()),
            };
            let lower = flag.to_ascii_lowercase();
            let hit = lower == "--providers.docker"
                || lower == "--providers.docker=true"
                || lower.starts_with("--providers.docker.endpoint=");
            if hit {
                let (real, _) = line_at(ctx, path, n)?;
                return Ok(vec![Intent::EditLine {
                    path: real,
                    line: n,
                    old: old.to_string(),
                    new: format!(
                        "{}- {q}--providers.docker.endpoint={ENDPOINT}{q}",
                        indent_of(old)
                    ),
                }]);
            }
        }
        return Err(format!(
            "{path}: service {}: no `- --providers.docker=true` or endpoint item in its \
             command: add --providers.docker.endpoint={ENDPOINT} by hand",
            t.name
        ));
    }
    let toml = doc.path.ends_with(".toml");
    if !(toml || doc.path.ends_with(".yml") || doc.path.ends_with(".yaml")) {
        return Err(format!(
            "{}: set providers.docker.endpoint to \"{ENDPOINT}\" by hand (rempart edits YAML \
             and TOML static files and command flags)",
            doc.path
        ));
    }
    let docker = doc
        .root
        .path("providers.docker")
        .filter(|d| d.line > 0)
        .ok_or_else(|| format!("{}: no providers.docker section to edit", doc.path))?;
    let (real, key) = line_at(ctx, &doc.path, docker.line)?;
    if let Some(e) = docker.get("endpoint").filter(|e| e.line > 0) {
        let (_, old) = line_at(ctx, &doc.path, e.line)?;
        let value = e.str().unwrap_or("");
        let t = old.trim_start();
        let own_line = t.starts_with("endpoint:") || (toml && t.starts_with("endpoint"));
        if !own_line || value.is_empty() || !old.contains(value) {
            return Err(format!(
                "{}:{}: the endpoint is not on a line of its own: set it to {ENDPOINT} by hand",
                doc.path, e.line
            ));
        }
        return Ok(vec![Intent::EditLine {
            path: real,
            line: e.line,
            new: old.replacen(value, ENDPOINT, 1),
            old,
        }]);
    }
    let block_key = if toml {
        let header = key.split('#').next().unwrap_or("").trim().replace(' ', "");
        header.eq_ignore_ascii_case("[providers.docker]")
    } else {
        let rest = key.trim_start().strip_prefix("docker:").map(str::trim);
        matches!(rest, Some(r) if r.is_empty() || r.starts_with('#'))
    };
    if !block_key {
        return Err(format!(
            "{}:{}: `{}` is not a block rempart can add a line to: set \
             providers.docker.endpoint by hand",
            doc.path,
            docker.line,
            key.trim()
        ));
    }
    let child = child_indent(ctx, &doc.path, docker, &key)?;
    let line = if toml {
        format!("{child}endpoint = \"{ENDPOINT}\"")
    } else {
        format!("{child}endpoint: \"{ENDPOINT}\"")
    };
    Ok(vec![Intent::InsertLine {
        path: real,
        before: docker.line + 1,
        text: line,
    }])
}

/// The indentation of the children of a YAML block key (its first child's, else two more).
fn child_indent(ctx: &Ctx, path: &str, node: &Node, key: &str) -> Result<String, String> {
    let first = node
        .entries()
        .iter()
        .map(|(_, n)| n.line)
        .filter(|l| *l > node.line)
        .min();
    match first {
        Some(l) => Ok(indent_of(&line_at(ctx, path, l)?.1).to_string()),
        None => Ok(format!("{}  ", indent_of(key))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_block_ends_at_its_last_line() {
        let text = "services:\n  traefik:\n    image: t\n    volumes:\n      - a:b\n\n  app:\n    image: x\n";
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(block(&lines, 2), (2, 5));
        assert_eq!(block(&lines, 7), (7, 8));
    }
}
