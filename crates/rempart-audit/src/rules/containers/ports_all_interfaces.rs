//! CTR-PORTS-ALL-INTERFACES: containers publish ports on loopback, not on every interface.

use super::{at, compose_files, finish, services};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "CTR-PORTS-ALL-INTERFACES",
    name: "container-port-published-on-all-interfaces",
    family: Family::Containers,
    severity: Severity::High,
    level: Level::Sme,
    title: "Containers publish their ports on loopback only",
    doc: RuleDoc {
        what: "In every compose file found, each published port (`ports:` in the short syntax \
               `\"9090:9090\"`, `\"9090\"`, ranges and `/udp`, or the long syntax with \
               `host_ip`/`published`) names a host address other than all interfaces \
               (`127.0.0.1:9090:9090`, `host_ip: 127.0.0.1`), after interpolating `${VAR}` \
               from the project's `.env`. A container-only port (`\"3000\"`) is published on \
               an ephemeral port of every interface and fails too. Ports meant to be public \
               (`allowed_ports` in rempart.toml: 22, 80 and 443 unless set) may listen \
               everywhere.",
        why: "Docker publishes ports with its own NAT rules, evaluated before ufw's: a port \
              published on 0.0.0.0 is reachable from the Internet even when `ufw status` says \
              it is closed. Prometheus, Grafana, Loki, Alertmanager, the exporters and MinIO \
              (seed 001's stack) then answer anyone, most without authentication.",
        remediation: "Publish on loopback (`\"127.0.0.1:9090:9090\"`) and reach the service \
                      through the reverse proxy or an SSH tunnel, or do not publish it at all \
                      when only other containers use it; then `docker compose up -d`.",
        verify: "docker ps --format '{{.Names}} {{.Ports}}' | grep 0.0.0.0; ss -tlnp | grep docker-proxy",
        references: &[
            "seed 001 Monitoring Stack (Prometheus :9090, Grafana :3001, Loki :3100, Alertmanager :9093, exporters, MinIO :9000)",
            "seed 000 §3 Isolation réseau (tout fermé sauf 22, 80, 443)",
            "Docker docs: Packet filtering and firewalls (Docker and ufw)",
            "CIS Docker Benchmark, Container Runtime: incoming container traffic is bound to a specific host interface",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let c = match compose_files(ctx) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let allowed = &ctx.config.allowed_ports;
    let mut bad = Vec::new();
    let mut judged = 0;
    for (f, s) in services(&c) {
        for p in &s.ports {
            judged += 1;
            if !p.all_interfaces() {
                continue;
            }
            let public = p.protocol == "tcp"
                && p.host_ports()
                    .is_some_and(|ports| ports.iter().all(|n| allowed.contains(n)));
            if public {
                continue;
            }
            let published = p
                .published
                .clone()
                .unwrap_or_else(|| "an ephemeral port".into());
            bad.push(
                at(f, s, p.line)
                    .key("ports")
                    .actual(format!(
                        "{} (every interface, host port {published})",
                        p.raw
                    ))
                    .expected(format!(
                        "127.0.0.1:{}:{}",
                        p.published.as_deref().unwrap_or(&p.target),
                        p.target
                    )),
            );
        }
    }
    let n = bad.len();
    finish(
        &c,
        bad,
        judged,
        format!("{n} container port(s) published on every interface, past the firewall"),
        format!("{judged} published port(s) bound to chosen addresses"),
        "no compose service publishes a port",
    )
}
