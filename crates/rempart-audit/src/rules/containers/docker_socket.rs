//! CTR-DOCKER-SOCKET: no container gets the Docker socket.

use super::compose::{ComposeFile, Service, Volume};
use super::{at, compose_files, finish, services};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "CTR-DOCKER-SOCKET",
    name: "docker-socket-mounted",
    family: Family::Containers,
    severity: Severity::High,
    level: Level::Sme,
    title: "No container mounts the Docker socket",
    doc: RuleDoc {
        what: "No compose service bind-mounts the container engine's socket \
               (`/var/run/docker.sock`, `/run/docker.sock`, podman's and containerd's \
               sockets) or a directory that contains it (`/`, `/var`, `/run`, `/var/run`). \
               A read-only mount (`:ro`, `read_only: true`) fails too: read-only applies to \
               the socket file, not to the API spoken through it. Two cases pass. A \
               filtering socket proxy (tecnativa/docker-socket-proxy, or its fork \
               linuxserver/socket-proxy, which share the same variables and defaults: every \
               API section off but EVENTS, PING and VERSION, POST off) may hold the socket (the \
               file or its run directory, not the host's `/`) when it lets no write through (POST, DELETE, ALLOW_START, ALLOW_STOP and \
               ALLOW_RESTARTS unset or 0), publishes no port on the host and does not run on \
               the host network, so only containers of its compose networks reach it; a proxy \
               that allows a write method or publishes its port fails on that line. And a \
               non-recursive bind of `/` or `/var` (long syntax, `bind: { recursive: disabled \
               }`) does not bring the socket: it lives on /run, a tmpfs of its own on Debian, \
               and /var/run is a link to it. Other proxies (wollomatic/socket-proxy, \
               configured by regular expressions per method) are not recognised.",
        why: "Whoever can talk to the Docker API can start a privileged container with the \
              host's root filesystem mounted: the socket is root on the host. Traefik, \
              Promtail and cAdvisor ask for it; a flaw in any of them becomes a host \
              compromise. A proxy that only answers GET requests on the sections a tool \
              reads leaves that tool what it needs and nothing that creates or changes a \
              container.",
        remediation: "Remove the mount, or put a filtering proxy in front of the API \
                      (tecnativa/docker-socket-proxy with only the read endpoints the tool \
                      needs, e.g. CONTAINERS=1 for Traefik's Docker provider, POST left at 0, \
                      no published port) on a compose network it shares with its clients, and \
                      give them its address (`tcp://socket-proxy:2375`) instead. If the mount \
                      must stay, ignore this rule in rempart.toml with the reason.",
        verify: "docker inspect --format '{{.Name}} {{range .Mounts}}{{.Source}} {{end}}' $(docker ps -q) | grep -E 'docker.sock| /var/run | /run '; for a proxy: curl -s -o /dev/null -w '%{http_code}' -X POST http://socket-proxy:2375/containers/create from a client container must print 403",
        references: &[
            "CIS Docker Benchmark, Container Runtime: the Docker socket is not mounted inside any container",
            "seed 001 Best Practices (CIS Docker Benchmark)",
            "Tecnativa docker-socket-proxy README (environment variables and their defaults)",
            "compose specification, services.volumes long syntax: bind.recursive",
        ],
    },
    check,
};

/// Host paths that are, or contain, an engine's API socket.
const SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
];
const CONTAINING: &[&str] = &[
    "/",
    "/var",
    "/run",
    "/var/run",
    "/run/containerd",
    "/run/podman",
];
/// Directories that hold the socket only through a submount (/run is a tmpfs of its own, and
/// /var/run a link to it): a non-recursive bind of them does not bring it.
const ACROSS_MOUNTS: &[&str] = &["/", "/var"];

/// The images of the filtering proxies this rule recognises (same variables, same defaults).
pub const PROXY_IMAGES: &[&str] = &["tecnativa/docker-socket-proxy", "linuxserver/socket-proxy"];

/// The proxies' variables that let a write through: the POST method (DELETE in forks that
/// have it) and the start/stop/restart shortcuts, which pass POST on those endpoints even with
/// POST=0.
pub const WRITE_VARS: &[&str] = &[
    "POST",
    "DELETE",
    "ALLOW_START",
    "ALLOW_STOP",
    "ALLOW_RESTARTS",
];

/// The bind mounts of a service that hand it an engine socket.
pub fn socket_mounts(s: &Service) -> Vec<&Volume> {
    s.volumes
        .iter()
        .filter(|v| v.is_bind())
        .filter(|v| {
            let src = v.source.as_deref().unwrap_or("");
            let src = if src.len() > 1 {
                src.trim_end_matches('/')
            } else {
                src
            };
            let holds = SOCKETS.contains(&src)
                || CONTAINING.contains(&src)
                || src.ends_with("/docker.sock");
            holds && (v.recursive || !ACROSS_MOUNTS.contains(&src))
        })
        .collect()
}

/// The service runs a filtering socket proxy this rule knows, given the socket itself or the
/// run directory that holds it (not the host's `/` or `/var`, which would be more than a proxy
/// needs).
pub fn is_proxy(s: &Service) -> bool {
    s.image_name()
        .is_some_and(|n| PROXY_IMAGES.contains(&n.as_str()))
        && socket_mounts(s).iter().all(|v| {
            let src = v.source.as_deref().unwrap_or("");
            !ACROSS_MOUNTS.contains(&src.trim_end_matches('/')) && src != "/"
        })
}

/// A proxy variable that is on: anything but unset, empty or 0 (the proxy tests it as a
/// number: haproxy's `-m bool`).
fn on(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.trim().is_empty() && v.trim() != "0")
}

/// What makes a proxy service unsafe: a write method let through, a port published on the
/// host, the host network. Empty for a proxy that only its compose networks reach read-only.
pub fn proxy_problems(f: &ComposeFile, s: &Service) -> Vec<Evidence> {
    let mut out = Vec::new();
    for var in WRITE_VARS {
        let Some(e) = s.env(var).filter(|e| on(e.value.as_deref())) else {
            continue;
        };
        let value = e.value.as_deref().unwrap_or("");
        let mut ev = Evidence::file(&e.path)
            .key(*var)
            .actual(value)
            .expected("0 (the proxy answers GET and HEAD only)")
            .note(format!(
                "service {}: the socket proxy lets {} requests through",
                s.name,
                if *var == "DELETE" { "DELETE" } else { "POST" }
            ));
        if e.line > 0 {
            ev = ev.line(e.line);
            if e.path == f.path {
                ev = ev.snippet(f.line(e.line).trim());
            }
        }
        out.push(ev);
    }
    for p in &s.ports {
        if p.published.is_some() {
            out.push(
                at(f, s, p.line)
                    .key("ports")
                    .actual(p.raw.as_str())
                    .expected("no published port: clients reach the proxy over a compose network"),
            );
        }
    }
    if let Some(m) = s.network_mode.as_ref().filter(|m| m.value == "host") {
        out.push(
            at(f, s, m.line)
                .key("network_mode")
                .actual("host")
                .expected("a compose network shared with the proxy's clients"),
        );
    }
    out
}

fn check(ctx: &Ctx) -> Outcome {
    let c = match compose_files(ctx) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    let mut proxies = 0;
    for (f, s) in services(&c) {
        judged += 1;
        let mounts = socket_mounts(s);
        if mounts.is_empty() {
            continue;
        }
        if is_proxy(s) {
            let problems = proxy_problems(f, s);
            if problems.is_empty() {
                proxies += 1;
            }
            bad.extend(problems);
            continue;
        }
        for v in mounts {
            let mut ev = at(f, s, v.line)
                .key("volumes")
                .actual(v.raw.as_str())
                .expected("no engine socket in the container");
            if v.read_only {
                ev = ev.note(format!(
                    "service {}: read-only does not limit the API reached through the socket",
                    s.name
                ));
            }
            bad.push(ev);
        }
    }
    let n = bad.len();
    let pass = if proxies > 0 {
        format!(
            "{judged} service(s) without the engine's socket but {proxies} read-only socket proxy(ies)"
        )
    } else {
        format!("{judged} service(s) without the engine's socket")
    };
    finish(
        &c,
        bad,
        judged,
        format!("{n} mount(s) or proxy setting(s) hand the container engine's API to a container"),
        pass,
        "no compose service found",
    )
}

#[cfg(test)]
mod tests {
    use super::super::compose::parse;
    use super::*;
    use proptest::prelude::*;

    fn file(text: &str) -> ComposeFile {
        parse("/srv/x/compose.yaml", text, &|_| None, &|_| None)
    }

    #[test]
    fn only_recursive_binds_of_slash_and_var_bring_the_socket() {
        let f = file(
            "services:\n  c:\n    image: gcr.io/cadvisor/cadvisor:v0.49.1\n    volumes:\n      - type: bind\n        source: /\n        target: /rootfs\n        bind:\n          recursive: disabled\n      - type: bind\n        source: /var/run\n        target: /var/run\n        bind:\n          recursive: disabled\n      - /:/host:ro\n",
        );
        let s = &f.services[0];
        assert!(!s.volumes[0].recursive);
        let hits: Vec<u32> = socket_mounts(s).iter().map(|v| v.line).collect();
        // The non-recursive `/` is out; the non-recursive /var/run and the short `/` are in.
        assert_eq!(hits, vec![10, 15]);
    }

    #[test]
    fn proxies_are_known_by_image_and_judged_by_their_write_variables() {
        let f = file(
            "services:\n  p:\n    image: lscr.io/linuxserver/socket-proxy:1.26.2\n    environment:\n      - CONTAINERS=1\n      - POST=0\n      - ALLOW_STOP=\n    volumes:\n      - /run/docker.sock:/var/run/docker.sock:ro\n  q:\n    image: ghcr.io/tecnativa/docker-socket-proxy:v0.4.2\n    environment:\n      POST: \"true\"\n    ports:\n      - \"127.0.0.1:2375:2375\"\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n  w:\n    image: wollomatic/socket-proxy:1.10.0\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n  r:\n    image: tecnativa/docker-socket-proxy:v0.4.2\n    volumes:\n      - /:/host:ro\n",
        );
        let [p, q, w, r] = &f.services[..] else {
            panic!("four services")
        };
        // wollomatic's is configured otherwise; a tecnativa image given the host's `/` is not
        // just a proxy.
        assert!(is_proxy(p) && is_proxy(q) && !is_proxy(w) && !is_proxy(r));
        assert!(proxy_problems(&f, p).is_empty());
        let keys: Vec<(String, u32)> = proxy_problems(&f, q)
            .iter()
            .map(|e| (e.key.clone().unwrap(), e.line.unwrap()))
            .collect();
        // Any value but 0 counts as on; a port on loopback is still reachable from the host.
        assert_eq!(keys, vec![("POST".into(), 13), ("ports".into(), 15)]);
    }

    proptest! {
        /// Any value: only unset, empty or 0 keep a write variable off.
        #[test]
        fn a_variable_is_off_only_when_empty_or_zero(v in "\\PC{0,8}") {
            let off = v.trim().is_empty() || v.trim() == "0";
            prop_assert_eq!(on(Some(&v)), !off);
        }
    }
}
