//! CTR-HOST-NETWORK: containers keep their own network, PID and IPC namespaces.

use super::{at, compose_files, finish, services};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "CTR-HOST-NETWORK",
    name: "container-shares-host-namespaces",
    family: Family::Containers,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "Containers do not share the host's network, PID or IPC namespace",
    doc: RuleDoc {
        what: "No compose service sets `network_mode: host`, `pid: host` or `ipc: host`.",
        why: "With the host's network a container listens directly on the host's \
              interfaces (any port its process opens is exposed, outside compose's control) \
              and can reach every service bound to loopback, such as the databases seed 000 \
              keeps on 127.0.0.1. With the host's PID namespace it sees and can signal every \
              process; with its IPC namespace it reads shared memory.",
        remediation: "Remove `network_mode: host` and publish only the ports needed on \
                      127.0.0.1; remove `pid: host` / `ipc: host`. node-exporter works \
                      without host networking when given `/proc` and `/sys` read-only \
                      (`--path.procfs`, `--path.sysfs`).",
        verify: "docker inspect --format '{{.Name}} {{.HostConfig.NetworkMode}} {{.HostConfig.PidMode}} {{.HostConfig.IpcMode}}' $(docker ps -q)",
        references: &[
            "CIS Docker Benchmark, Container Runtime: the host's network, process and IPC namespaces are not shared",
            "seed 000 §3 Isolation réseau",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let c = match compose_files(ctx) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    for (f, s) in services(&c) {
        judged += 1;
        for (key, v) in [
            ("network_mode", &s.network_mode),
            ("pid", &s.pid),
            ("ipc", &s.ipc),
        ] {
            if let Some(v) = v {
                if v.value.trim() == "host" {
                    bad.push(
                        at(f, s, v.line)
                            .key(key)
                            .actual("host")
                            .expected("the container's own"),
                    );
                }
            }
        }
    }
    let n = bad.len();
    finish(
        &c,
        bad,
        judged,
        format!("{n} host namespace(s) shared with containers"),
        format!("{judged} service(s) keep their own namespaces"),
        "no compose service found",
    )
}
