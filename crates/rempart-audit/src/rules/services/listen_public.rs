//! SVC-LISTEN-PUBLIC: on the live host, nothing listens on a non-loopback address except the
//! ports meant to be public.

use super::live::{Listener, Listeners, Processes};
use crate::host::Users;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use std::sync::Arc;

pub const RULE: Rule = Rule {
    id: "SVC-LISTEN-PUBLIC",
    name: "unexpected-public-listener",
    family: Family::Services,
    severity: Severity::High,
    level: Level::Sme,
    title: "Only the allowed ports listen on non-loopback addresses",
    doc: RuleDoc {
        what: "On the live host: every TCP socket in the LISTEN state and every unconnected UDP \
               socket of /proc/net/{tcp,tcp6,udp,udp6}, mapped to the processes holding it \
               (socket links in /proc/PID/fd), their user and their systemd unit (from \
               /proc/PID/cgroup). A socket bound to any address other than loopback (0.0.0.0, \
               [::], a public or private interface address) fails unless its port is in \
               `allowed_ports` of rempart.toml (22, 80 and 443 by default; the list applies to \
               UDP too). DHCP client ports (UDP 68 and 546) are not judged. Databases, Redis, \
               Prometheus, Grafana, Loki and app servers are named as such in the evidence. \
               Under --root the rule skips.",
        why: "Configuration files say what should listen; the kernel says what does. A database, \
              a cache, a metrics endpoint or an app backend bound to 0.0.0.0 is one firewall \
              mistake (or one Docker-published port) away from the Internet, and those services \
              rarely expect hostile clients: Redis and Prometheus have no authentication by \
              default, PostgreSQL answers with its version, a backend bypasses the reverse \
              proxy's TLS, headers, rate limits and logs.",
        remediation: "Bind the service to 127.0.0.1 (PostgreSQL `listen_addresses = \
                      'localhost'`, Redis `bind 127.0.0.1 -::1`, uvicorn `--host 127.0.0.1`, \
                      Grafana `http_addr = 127.0.0.1`, Prometheus `--web.listen-address=\
                      127.0.0.1:9090`) and restart it; stop services that are not needed. If \
                      the port is meant to be public, add it to `allowed_ports`.",
        verify: "ss -ltunp | grep -vE '127\\.0\\.0\\.1|\\[::1\\]'; from another machine: nmap -sT -p- HOST",
        references: &[
            "seed 000 §3 Isolation réseau (« Écoute UNIQUEMENT sur 127.0.0.1:8000 », « Port 5432 non exposé publiquement »)",
            "seed 000 Audit de sécurité (« Scan de ports (nmap) - tout fermé sauf 22, 80, 443 »)",
            "seed 002 Phase 2 §3 (MariaDB bind-address 127.0.0.1)",
            "man ss(8), proc(5) /proc/net/tcp",
        ],
    },
    check,
};

/// UDP ports clients bind on every address (DHCP, DHCPv6): not services.
pub(crate) const UDP_CLIENT_PORTS: &[u16] = &[68, 546];

/// The listening sockets of the live host, or the outcome to give when no table could be read.
pub(crate) fn live_listeners(ctx: &Ctx) -> Result<Arc<Listeners>, Outcome> {
    let listeners = ctx.fact::<Listeners>();
    if listeners.read_any {
        return Ok(listeners);
    }
    Err(match listeners.errors.first() {
        Some(e) => Outcome::error(format!("no socket table could be read: {e}"))
            .with(Evidence::file(e.path())),
        None => Outcome::skip("no socket table under /proc/net"),
    })
}

/// What a process or port usually is, for the evidence.
fn kind_of(comm: &str, port: u16) -> Option<&'static str> {
    let by_name = match comm {
        "postgres" | "postmaster" => Some("database (PostgreSQL)"),
        "mysqld" | "mariadbd" => Some("database (MySQL/MariaDB)"),
        "mongod" => Some("database (MongoDB)"),
        "redis-server" | "valkey-server" => Some("cache (Redis)"),
        "memcached" => Some("cache (memcached)"),
        "prometheus" => Some("monitoring (Prometheus)"),
        "grafana" | "grafana-server" => Some("monitoring (Grafana)"),
        "loki" => Some("logs (Loki)"),
        "node_exporter" | "prometheus-node" => Some("metrics exporter"),
        "alertmanager" => Some("monitoring (Alertmanager)"),
        "uvicorn" | "gunicorn" | "daphne" | "hypercorn" => Some("app server"),
        "docker-proxy" => Some("port published by Docker"),
        c if c.starts_with("python") || c == "node" || c == "java" => Some("app backend"),
        _ => None,
    };
    by_name.or(match port {
        5432 => Some("database port (PostgreSQL)"),
        3306 => Some("database port (MySQL/MariaDB)"),
        27017 => Some("database port (MongoDB)"),
        6379 => Some("cache port (Redis)"),
        11211 => Some("cache port (memcached)"),
        9090 => Some("monitoring port (Prometheus)"),
        3000 => Some("monitoring port (Grafana)"),
        3100 => Some("logs port (Loki)"),
        9100 => Some("metrics exporter port"),
        8000 | 8080 | 5000 => Some("app backend port"),
        _ => None,
    })
}

/// The evidence for one socket: who holds it, as `ss -p` would say.
pub(crate) fn socket_evidence(l: &Listener, procs: &Processes, users: &Users) -> Evidence {
    let user = |uid: u32| {
        users
            .user_by_uid(uid)
            .map_or_else(|| format!("uid {uid}"), |u| u.name.clone())
    };
    let owners: Vec<String> = l
        .pids
        .iter()
        .filter_map(|pid| procs.get(*pid))
        // A master and its forked workers share the socket: name the master only.
        .filter(|p| !l.pids.contains(&p.ppid))
        .map(|p| {
            let mut s = format!("{} pid {}", p.comm, p.pid);
            if let Some(uid) = p.euid {
                s.push_str(&format!(", user {}", user(uid)));
            }
            if let Some(u) = &p.unit {
                s.push_str(&format!(", unit {u}"));
            }
            s
        })
        .collect();
    let actual = if owners.is_empty() {
        format!(
            "socket inode {} of {} (process not found)",
            l.inode,
            user(l.uid)
        )
    } else {
        owners.join("; ")
    };
    let first = l.pids.first().and_then(|p| procs.get(*p));
    let mut note = Vec::new();
    if let Some(k) = first
        .and_then(|p| kind_of(&p.comm, l.port))
        .or_else(|| kind_of("", l.port))
    {
        note.push(k.to_string());
    }
    if let Some(p) = first.filter(|p| !p.cmdline.is_empty()) {
        let mut cmd = p.command();
        if cmd.len() > 160 {
            let mut end = 160;
            while !cmd.is_char_boundary(end) {
                end -= 1;
            }
            cmd.truncate(end);
            cmd.push('…');
        }
        note.push(format!("command: {cmd}"));
    }
    let ev = Evidence::source("socket").key(l.label()).actual(actual);
    if note.is_empty() {
        ev
    } else {
        ev.note(note.join("; "))
    }
}

fn check(ctx: &Ctx) -> Outcome {
    if let Err(skip) = ctx.require_live("listening sockets in /proc/net") {
        return skip;
    }
    let listeners = match live_listeners(ctx) {
        Ok(l) => l,
        Err(outcome) => return outcome,
    };
    let procs = ctx.fact::<Processes>();
    let users = ctx.fact::<Users>();
    let allowed = &ctx.config.allowed_ports;
    let expected = format!(
        "loopback only, or a port in allowed_ports ({})",
        allowed
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut bad = Vec::new();
    let mut public_allowed = 0usize;
    for l in listeners.list.iter().filter(|l| l.is_public()) {
        if l.proto == super::live::sockets::Proto::Udp && UDP_CLIENT_PORTS.contains(&l.port) {
            continue;
        }
        if allowed.contains(&l.port) {
            public_allowed += 1;
            continue;
        }
        bad.push(socket_evidence(l, &procs, &users).expected(expected.as_str()));
    }
    let mut notes = Vec::new();
    if listeners.unreadable_fds > 0 {
        notes.push(Evidence::source("proc").note(format!(
            "the file descriptors of {} processes could not be read (run as root to name every \
             socket's owner)",
            listeners.unreadable_fds
        )));
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{} listening sockets, {public_allowed} on non-loopback addresses, all on allowed ports",
            listeners.list.len()
        ))
        .with_all(notes)
    } else {
        let names: Vec<String> = bad.iter().filter_map(|e| e.key.clone()).collect();
        Outcome::fail(format!(
            "{} sockets listen on non-loopback addresses outside allowed_ports: {}",
            bad.len(),
            names.join(", ")
        ))
        .with_all(bad)
        .with_all(notes)
    }
}
