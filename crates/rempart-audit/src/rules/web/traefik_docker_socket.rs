//! WEB-TRAEFIK-DOCKER-SOCKET: the Traefik container does not get the Docker socket.

use super::traefik::{tree::Node, Traefik};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-TRAEFIK-DOCKER-SOCKET",
    name: "traefik-docker-socket-mounted",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Sme,
    title: "Traefik does not hold the Docker socket",
    doc: RuleDoc {
        what: "No compose service running the traefik image mounts /var/run/docker.sock or \
               /run/docker.sock. A read-write mount fails; a `:ro` mount fails too, because \
               read-only applies to the socket file, not to the Docker API behind it: every API \
               call, container creation included, still works. Reading labels through a socket \
               proxy (`providers.docker.endpoint: tcp://socket-proxy:2375` with only \
               CONTAINERS=1) passes. A Traefik running on the host with the docker provider on \
               a unix socket endpoint (the default, unix:///var/run/docker.sock) fails the \
               same way: its user must be in the docker group, which is root.",
        why: "The Docker API is root on the host. Traefik faces the Internet; one bug in it, or \
              in a plugin, and whoever exploits it can start a privileged container and own \
              the machine.",
        remediation: "Run a socket proxy (e.g. tecnativa/docker-socket-proxy with CONTAINERS=1, \
                      everything else 0) on an internal network, point \
                      `providers.docker.endpoint` at it, and remove the socket volume from the \
                      Traefik service.",
        verify: "docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' traefik | grep docker.sock  # must print nothing",
        references: &[
            "seed 001 (Traefik in docker compose, fail2ban traefik jails) and CIS Docker Benchmark 5.31",
            "Traefik documentation: Docker provider (« Docker API Access »)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let traefik = ctx.fact::<Traefik>();
    let instances = match traefik.require("Traefik configuration") {
        Ok(i) => i,
        Err(o) => return o,
    };
    let mut bad: Vec<Evidence> = Vec::new();
    let mut containers = 0;
    for inst in instances {
        let Some(doc) = &inst.compose else {
            if let Some(docker) = inst.static_root().and_then(|r| r.path("providers.docker")) {
                let endpoint = docker
                    .get("endpoint")
                    .and_then(Node::str)
                    .unwrap_or("unix:///var/run/docker.sock");
                if endpoint.starts_with("unix://") {
                    bad.push(
                        inst.static_evidence(Some(docker.get("endpoint").unwrap_or(docker)))
                            .key("providers.docker.endpoint")
                            .actual(endpoint)
                            .expected("tcp://socket-proxy:2375 (a read-only socket proxy)")
                            .note(format!(
                                "{}: the Traefik user needs the docker group, which is root",
                                inst.origin
                            )),
                    );
                }
            }
            continue;
        };
        containers += 1;
        for m in &inst.mounts {
            if m.source != "/var/run/docker.sock" && m.source != "/run/docker.sock" {
                continue;
            }
            let mut ev = Evidence::file(&doc.path)
                .key("volumes")
                .actual(format!(
                    "{}:{}{}",
                    m.source,
                    m.target,
                    if m.read_only { ":ro" } else { "" }
                ))
                .expected("no Docker socket (use a socket proxy)")
                .note(if m.read_only {
                    format!(
                        "{}: `:ro` does not make the Docker API read-only",
                        inst.origin
                    )
                } else {
                    format!("{}: mounted read-write", inst.origin)
                });
            if m.line > 0 {
                ev = ev.line(m.line);
                if let Some(t) = doc.text.lines().nth(m.line as usize - 1) {
                    ev = ev.snippet(t.trim());
                }
            }
            bad.push(ev);
        }
    }
    if bad.is_empty() && containers == 0 {
        return Outcome::pass(
            "Traefik neither runs from a compose file nor uses a local Docker socket",
        );
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{containers} Traefik container(s), none mounts the Docker socket"
        ))
    } else {
        Outcome::fail("the Traefik container has the Docker socket (root on the host)")
            .with_all(bad)
    }
}
