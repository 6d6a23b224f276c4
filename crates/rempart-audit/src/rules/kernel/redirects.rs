//! Source routing and ICMP redirects, IPv4 and IPv6: packets that let a remote party choose the
//! host's routes.

use super::judge::{judge, live_value, parse_int, Param};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

const SEED_KERNEL: &str =
    "seed 001 §7 Kernel Hardening (sysctl), /etc/sysctl.d/99-koprogo-hardening.conf";
const MAN: &str = "https://docs.kernel.org/networking/ip-sysctl.html";

fn off(v: i64) -> bool {
    v == 0
}

pub const SOURCE_ROUTE: Rule = Rule {
    id: "KRN-SOURCE-ROUTE",
    name: "source-routing-accepted",
    family: Family::Kernel,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Source-routed packets are refused",
    doc: RuleDoc {
        what: "`accept_source_route` is 0 for `net.ipv4.conf.all`, `net.ipv4.conf.default`, \
               `net.ipv6.conf.all` and `net.ipv6.conf.default`, at boot and, on a live host, in \
               /proc/sys. The kernel default of `net.ipv4.conf.default.accept_source_route` is \
               1, so an explicit setting is needed. IPv6 keys are not judged when IPv6 is \
               disabled.",
        why: "A source-routed packet carries the route its replies must take: an attacker can \
              make the host answer through a path of their choosing, past filters that trust \
              the apparent source.",
        remediation: "printf 'net.ipv4.conf.all.accept_source_route = 0\\nnet.ipv4.conf.default.accept_source_route = 0\\nnet.ipv6.conf.all.accept_source_route = 0\\nnet.ipv6.conf.default.accept_source_route = 0\\n' \
                      > /etc/sysctl.d/60-rempart-sourceroute.conf && sysctl --system",
        verify: "sysctl -a 2>/dev/null | grep -E 'conf\\.(all|default)\\.accept_source_route'",
        references: &[SEED_KERNEL, "CIS Debian Linux 12 Benchmark 3.3.x (source routed packets)", MAN],
    },
    check: check_source_route,
};

fn check_source_route(ctx: &Ctx) -> Outcome {
    judge(
        ctx,
        &[
            Param::new("net.ipv4.conf.all.accept_source_route", "0", off),
            Param::new("net.ipv4.conf.default.accept_source_route", "0", off),
            Param::new("net.ipv6.conf.all.accept_source_route", "0", off),
            Param::new("net.ipv6.conf.default.accept_source_route", "0", off),
        ],
        "source-routed packets are accepted",
    )
}

pub const ACCEPT_REDIRECTS: Rule = Rule {
    id: "KRN-ACCEPT-REDIRECTS",
    name: "icmp-redirects-accepted",
    family: Family::Kernel,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "ICMP redirects are ignored",
    doc: RuleDoc {
        what: "`accept_redirects` (IPv4 and IPv6) and `secure_redirects` (IPv4) are 0 for `all` \
               and `default`, at boot and, on a live host, in /proc/sys. On a live host that \
               does not forward, every interface's `accept_redirects` is judged too: the kernel \
               accepts redirects on an interface when either `all` or the interface says so, \
               and an interface that existed before the setting keeps its old value.",
        why: "An ICMP redirect rewrites the host's routing table on the word of any machine on \
              the link: a neighbour can divert the host's traffic through itself and read or \
              alter it.",
        remediation: "printf 'net.ipv4.conf.all.accept_redirects = 0\\nnet.ipv4.conf.default.accept_redirects = 0\\nnet.ipv4.conf.all.secure_redirects = 0\\nnet.ipv4.conf.default.secure_redirects = 0\\nnet.ipv6.conf.all.accept_redirects = 0\\nnet.ipv6.conf.default.accept_redirects = 0\\n' \
                      > /etc/sysctl.d/60-rempart-redirects.conf && sysctl --system (interfaces \
                      already up: sysctl -w net.ipv4.conf.IFACE.accept_redirects=0, or reboot).",
        verify: "sysctl -a 2>/dev/null | grep -E '\\.(accept|secure)_redirects'",
        references: &[SEED_KERNEL, "CIS Debian Linux 12 Benchmark 3.3.2-3.3.3 (ICMP redirects)", MAN],
    },
    check: check_accept_redirects,
};

fn check_accept_redirects(ctx: &Ctx) -> Outcome {
    // A forwarding host needs both `all` and the interface to accept: `all` is enough there.
    let forwarding = matches!(
        live_value(ctx.host, "net/ipv4/ip_forward"),
        Some(Ok(Some(v))) if parse_int(&v) == Some(1)
    );
    let v4 = Param::new("net.ipv4.conf.all.accept_redirects", "0", off);
    judge(
        ctx,
        &[
            if forwarding { v4 } else { v4.each_interface() },
            Param::new("net.ipv4.conf.default.accept_redirects", "0", off),
            Param::new("net.ipv4.conf.all.secure_redirects", "0", off),
            Param::new("net.ipv4.conf.default.secure_redirects", "0", off),
            Param::new("net.ipv6.conf.all.accept_redirects", "0", off).each_interface(),
            Param::new("net.ipv6.conf.default.accept_redirects", "0", off),
        ],
        "ICMP redirects are accepted",
    )
}

pub const SEND_REDIRECTS: Rule = Rule {
    id: "KRN-SEND-REDIRECTS",
    name: "icmp-redirects-sent",
    family: Family::Kernel,
    severity: Severity::Low,
    level: Level::Sme,
    title: "The host does not send ICMP redirects",
    doc: RuleDoc {
        what: "`net.ipv4.conf.all.send_redirects` and `net.ipv4.conf.default.send_redirects` \
               are 0 at boot and, on a live host, in /proc/sys, as is every interface's value \
               on a live host (the kernel sends redirects when `all` or the interface says so).",
        why: "Only a router sends redirects. A host that does can be used to advertise routes \
              to its neighbours, and it leaks its routing table.",
        remediation: "printf 'net.ipv4.conf.all.send_redirects = 0\\nnet.ipv4.conf.default.send_redirects = 0\\n' \
                      > /etc/sysctl.d/60-rempart-redirects.conf && sysctl --system",
        verify: "sysctl -a 2>/dev/null | grep '\\.send_redirects'",
        references: &[SEED_KERNEL, "CIS Debian Linux 12 Benchmark 3.3.2 (packet redirect sending)", MAN],
    },
    check: check_send_redirects,
};

fn check_send_redirects(ctx: &Ctx) -> Outcome {
    judge(
        ctx,
        &[
            Param::new("net.ipv4.conf.all.send_redirects", "0", off).each_interface(),
            Param::new("net.ipv4.conf.default.send_redirects", "0", off),
        ],
        "ICMP redirects are sent",
    )
}
