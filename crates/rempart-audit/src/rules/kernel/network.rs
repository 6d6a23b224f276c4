//! Network-stack sysctls that are not about redirects: SYN cookies, IP forwarding, reverse-path
//! filtering and martian logging.

use super::docker::docker;
use super::judge::{judge, Param};
use crate::model::{Family, Level, Severity, Status};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

const SEED_KERNEL: &str =
    "seed 001 §7 Kernel Hardening (sysctl), /etc/sysctl.d/99-koprogo-hardening.conf";
const MAN: &str = "https://docs.kernel.org/networking/ip-sysctl.html";

pub const SYNCOOKIES: Rule = Rule {
    id: "KRN-SYNCOOKIES",
    name: "syn-cookies-off",
    family: Family::Kernel,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "TCP SYN cookies are on",
    doc: RuleDoc {
        what: "`net.ipv4.tcp_syncookies` is 1 (cookies when the SYN queue overflows) or 2 \
               (always), in the sysctl configuration the host boots with (sysctl.d precedence, \
               kernel default 1 when nothing sets it) and, on a live host, in /proc/sys.",
        why: "Without SYN cookies a SYN flood from spoofed addresses fills the half-open \
              connection queue and the host stops accepting new TCP connections (SSH included).",
        remediation: "echo 'net.ipv4.tcp_syncookies = 1' > /etc/sysctl.d/60-rempart-net.conf && \
                      sysctl --system",
        verify: "sysctl net.ipv4.tcp_syncookies; systemd-analyze cat-config sysctl.d | grep \
                 tcp_syncookies",
        references: &[
            SEED_KERNEL,
            "CIS Debian Linux 12 Benchmark 3.3.x (TCP SYN cookies)",
            MAN,
        ],
    },
    check: check_syncookies,
};

fn check_syncookies(ctx: &Ctx) -> Outcome {
    judge(
        ctx,
        &[Param::new("net.ipv4.tcp_syncookies", "1", |v| {
            v == 1 || v == 2
        })],
        "SYN cookies are off",
    )
}

pub const IP_FORWARD: Rule = Rule {
    id: "KRN-IP-FORWARD",
    name: "ip-forwarding-on",
    family: Family::Kernel,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "The host does not route packets unless Docker needs it",
    doc: RuleDoc {
        what: "`net.ipv4.ip_forward` and `net.ipv6.conf.all.forwarding` are 0 at boot and, on a \
               live host, in /proc/sys. When Docker is installed (docker.io, docker-ce or \
               moby-engine package, a docker.service unit, or dockerd) forwarding is expected \
               on: Docker enables it for its bridge networks, and the rule passes whatever the \
               value, saying so. IPv6 keys are not judged when IPv6 is disabled.",
        why: "A server that forwards packets can be used as a router between networks it \
              touches (a VPN, a back-office LAN, container networks), bypassing the firewall \
              rules written for traffic to the host itself.",
        remediation: "printf 'net.ipv4.ip_forward = 0\\nnet.ipv6.conf.all.forwarding = 0\\n' > \
                      /etc/sysctl.d/60-rempart-forward.conf && sysctl --system (not on a \
                      Docker host: filter the FORWARD chain instead).",
        verify: "sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding",
        references: &[
            SEED_KERNEL,
            "CIS Debian Linux 12 Benchmark 3.3.1 (IP forwarding)",
            MAN,
        ],
    },
    check: check_ip_forward,
};

fn check_ip_forward(ctx: &Ctx) -> Outcome {
    let params = [
        Param::new("net.ipv4.ip_forward", "0", |v| v == 0),
        Param::new("net.ipv6.conf.all.forwarding", "0", |v| v == 0),
    ];
    let verdict = judge(ctx, &params, "the host forwards packets");
    match docker(ctx) {
        Some(why) if verdict.status == Status::Fail => {
            let mut o = Outcome::pass(
                "forwarding is on, as Docker needs for its bridge networks (filter the FORWARD \
                 chain: see the firewall rules)",
            )
            .with(why);
            o.evidence.extend(verdict.evidence);
            o
        }
        Some(why) if verdict.status == Status::Pass => {
            let mut o = Outcome::pass(
                "forwarding is off at boot; Docker turns it on when its daemon starts",
            )
            .with(why);
            o.evidence.extend(verdict.evidence);
            o
        }
        _ => verdict,
    }
}

pub const RP_FILTER: Rule = Rule {
    id: "KRN-RP-FILTER",
    name: "reverse-path-filter-off",
    family: Family::Kernel,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Reverse-path filtering drops spoofed source addresses",
    doc: RuleDoc {
        what: "`net.ipv4.conf.all.rp_filter` and `net.ipv4.conf.default.rp_filter` are 1 \
               (strict) or 2 (loose) at boot and, on a live host, in /proc/sys. The kernel uses \
               the larger of `all` and the interface's value, so `all` covers every interface.",
        why: "Without it the host accepts packets whose source address could not be reached \
              through the interface they arrived on: the basis of IP spoofing against services \
              that trust addresses (firewall allow-lists, fail2ban, database host rules).",
        remediation:
            "printf 'net.ipv4.conf.all.rp_filter = 1\\nnet.ipv4.conf.default.rp_filter = 1\\n' \
                      > /etc/sysctl.d/60-rempart-rpfilter.conf && sysctl --system (use 2 on \
                      multi-homed hosts with asymmetric routes).",
        verify: "sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter",
        references: &[
            SEED_KERNEL,
            "CIS Debian Linux 12 Benchmark 3.3.7 (reverse path filtering)",
            MAN,
        ],
    },
    check: check_rp_filter,
};

fn check_rp_filter(ctx: &Ctx) -> Outcome {
    let ok = |v: i64| v == 1 || v == 2;
    judge(
        ctx,
        &[
            Param::new("net.ipv4.conf.all.rp_filter", "1", ok),
            Param::new("net.ipv4.conf.default.rp_filter", "1", ok),
        ],
        "reverse-path filtering is off",
    )
}

pub const LOG_MARTIANS: Rule = Rule {
    id: "KRN-LOG-MARTIANS",
    name: "martians-not-logged",
    family: Family::Kernel,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "Packets with impossible addresses are logged",
    doc: RuleDoc {
        what: "`net.ipv4.conf.all.log_martians` and `net.ipv4.conf.default.log_martians` are 1 \
               at boot and, on a live host, in /proc/sys.",
        why: "Martian packets (source addresses that cannot be right on that interface) are a \
              sign of spoofing or of a routing mistake; logged, they leave a trace an intrusion \
              detector or an administrator can act on.",
        remediation: "printf 'net.ipv4.conf.all.log_martians = 1\\nnet.ipv4.conf.default.log_martians = 1\\n' \
                      > /etc/sysctl.d/60-rempart-martians.conf && sysctl --system",
        verify: "sysctl net.ipv4.conf.all.log_martians net.ipv4.conf.default.log_martians",
        references: &[SEED_KERNEL, "CIS Debian Linux 12 Benchmark 3.3.4 (suspicious packets are logged)", MAN],
    },
    check: check_log_martians,
};

fn check_log_martians(ctx: &Ctx) -> Outcome {
    judge(
        ctx,
        &[
            Param::new("net.ipv4.conf.all.log_martians", "1", |v| v == 1),
            Param::new("net.ipv4.conf.default.log_martians", "1", |v| v == 1),
        ],
        "martian packets are not logged",
    )
}
