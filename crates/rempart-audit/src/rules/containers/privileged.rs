//! CTR-PRIVILEGED: containers are not privileged and keep the default confinement.

use super::{at, compose_files, finish, services};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "CTR-PRIVILEGED",
    name: "container-privileged",
    family: Family::Containers,
    severity: Severity::High,
    level: Level::Sme,
    title: "Containers run unprivileged, with the default capabilities and confinement",
    doc: RuleDoc {
        what: "No compose service sets `privileged: true`, adds the capabilities that amount \
               to root on the host (`cap_add` of ALL, SYS_ADMIN, SYS_MODULE, SYS_PTRACE, \
               SYS_RAWIO, DAC_READ_SEARCH, NET_ADMIN, BPF), or turns off confinement with \
               `security_opt` (`apparmor:unconfined`, `seccomp:unconfined`, \
               `label:disable`, `systempaths=unconfined`).",
        why: "A privileged container sees every device and can mount the host's disks or load \
              kernel modules: escaping it is one command. The listed capabilities and \
              unconfined profiles give most of the same power to whoever compromises the \
              container.",
        remediation: "Remove `privileged: true`; give only the capability or device the \
                      container needs (cAdvisor runs with `devices: [/dev/kmsg]` and \
                      read-only mounts); keep the default seccomp and AppArmor profiles.",
        verify: "docker inspect --format '{{.Name}} {{.HostConfig.Privileged}} {{.HostConfig.CapAdd}} {{.HostConfig.SecurityOpt}}' $(docker ps -q)",
        references: &[
            "CIS Docker Benchmark, Container Runtime: no privileged containers, restricted capabilities, AppArmor and seccomp profiles kept",
            "seed 001 Best Practices (CIS Docker Benchmark)",
        ],
    },
    check,
};

const ROOT_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
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
        if let Some(p) = &s.privileged {
            if p.value == "true" {
                bad.push(
                    at(f, s, p.line)
                        .key("privileged")
                        .actual("true")
                        .expected("false"),
                );
            }
        }
        for cap in &s.cap_add {
            let name = cap.value.trim().to_ascii_uppercase();
            let name = name.strip_prefix("CAP_").unwrap_or(&name);
            if ROOT_CAPS.contains(&name) {
                bad.push(at(f, s, cap.line).key("cap_add").actual(cap.value.as_str()));
            }
        }
        for o in &s.security_opt {
            let v = o.value.replace('=', ":").to_ascii_lowercase();
            if matches!(
                v.as_str(),
                "apparmor:unconfined"
                    | "seccomp:unconfined"
                    | "label:disable"
                    | "systempaths:unconfined"
            ) {
                bad.push(
                    at(f, s, o.line)
                        .key("security_opt")
                        .actual(o.value.as_str()),
                );
            }
        }
    }
    let n = bad.len();
    finish(
        &c,
        bad,
        judged,
        format!("{n} privileged or unconfined container setting(s)"),
        format!("{judged} service(s) run unprivileged"),
        "no compose service found",
    )
}
