//! CTR-DOCKER-SOCKET: no container gets the Docker socket.

use super::{at, compose_files, finish, services};
use crate::model::{Family, Level, Severity};
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
               the socket file, not to the API spoken through it.",
        why: "Whoever can talk to the Docker API can start a privileged container with the \
              host's root filesystem mounted: the socket is root on the host. Traefik, \
              Promtail and cAdvisor ask for it; a flaw in any of them becomes a host \
              compromise.",
        remediation: "Remove the mount, or put a filtering proxy in front of the API \
                      (tecnativa/docker-socket-proxy with only the read endpoints the tool \
                      needs) and give the container that proxy's address instead. If the \
                      mount must stay, ignore this rule in rempart.toml with the reason.",
        verify: "docker inspect --format '{{.Name}} {{range .Mounts}}{{.Source}} {{end}}' $(docker ps -q) | grep -E 'docker.sock| /var/run | /run '",
        references: &[
            "CIS Docker Benchmark, Container Runtime: the Docker socket is not mounted inside any container",
            "seed 001 Best Practices (CIS Docker Benchmark)",
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

fn check(ctx: &Ctx) -> Outcome {
    let c = match compose_files(ctx) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    for (f, s) in services(&c) {
        judged += 1;
        for v in s.volumes.iter().filter(|v| v.is_bind()) {
            let src = v.source.as_deref().unwrap_or("");
            let src = if src.len() > 1 {
                src.trim_end_matches('/')
            } else {
                src
            };
            let hit = SOCKETS.contains(&src)
                || CONTAINING.contains(&src)
                || src.ends_with("/docker.sock");
            if !hit {
                continue;
            }
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
    finish(
        &c,
        bad,
        judged,
        format!("{n} mount(s) hand the container engine's socket to a container"),
        format!("{judged} service(s) without the engine's socket"),
        "no compose service found",
    )
}
