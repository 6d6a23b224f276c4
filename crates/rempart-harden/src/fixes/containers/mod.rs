//! Fixes of the containers family: line edits of compose files, comments and layout kept: the
//! port binding (publish on loopback, here), the monitoring images' open doors
//! ([`monitoring`]: Grafana anonymous access, Prometheus admin API), `latest` images pinned to
//! the digest Docker's store holds ([`images`]), weak admin passwords rotated where a file edit
//! is the whole change ([`passwords`]: a data directory not initialised yet, MinIO's root
//! password read at every start), Traefik's Docker socket replaced by a filtering proxy
//! ([`socket`]), cAdvisor's privileged mode replaced by its one device ([`privileged`]). The
//! host network is in `MANUAL`; the socket for other API users, other privileged images and
//! passwords kept in a service's own data are declined with the reason. A compose change
//! takes effect when the containers are recreated (`docker compose up -d`).

mod data_dir;
pub mod images;
pub mod monitoring;
pub mod passwords;
pub mod privileged;
pub mod socket;

use super::web::{edit_line, safe};
use crate::change::Fix;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;

/// A short-syntax port (`8080:80`, `8000-8010:8000-8010/udp`, `0.0.0.0:9090:9090`) bound to
/// loopback; `None` for anything else (variables, IPv6, container-only ports, long syntax).
fn loopback(spec: &str) -> Option<String> {
    let spec = spec.strip_prefix("0.0.0.0:").unwrap_or(spec);
    let (ports, proto) = match spec.split_once('/') {
        Some((p, proto)) if ["tcp", "udp", "sctp"].contains(&proto) => (p, Some(proto)),
        Some(_) => return None,
        None => (spec, None),
    };
    let (host, target) = ports.split_once(':')?;
    let range = |s: &str| {
        let mut it = s.split('-');
        let ok = |p: Option<&str>| {
            p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        let a = it.next();
        let b = it.next();
        ok(a) && (b.is_none() || ok(b)) && it.next().is_none()
    };
    if !range(host) || !range(target) {
        return None;
    }
    Some(match proto {
        Some(p) => format!("127.0.0.1:{host}:{target}/{p}"),
        None => format!("127.0.0.1:{host}:{target}"),
    })
}

/// A `- "PORTS"` item line with its port bound to loopback.
fn port_line(line: &str) -> Option<String> {
    let t = line.trim_start();
    let item = t.strip_prefix('-')?.trim_start();
    let (body, comment) = match item.find(" #") {
        Some(i) => (&item[..i], &item[i..]),
        None => (item, ""),
    };
    let body = body.trim_end();
    let (q, inner) = match body.chars().next()? {
        c @ ('"' | '\'') => (c.to_string(), body.strip_prefix(c)?.strip_suffix(c)?),
        _ => (String::new(), body),
    };
    let new = loopback(inner)?;
    let prefix = &line[..line.len() - item.len()];
    Some(format!("{prefix}{q}{new}{q}{comment}"))
}

/// CTR-PORTS-ALL-INTERFACES: every port published on all interfaces (short syntax, one item
/// per line) gets the `127.0.0.1:` host address.
pub fn ports_all_interfaces(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut files: Vec<String> = Vec::new();
    for e in &f.evidence {
        let (Some(path), Some(line)) = (e.path.as_deref(), e.line) else {
            continue;
        };
        intents.push(edit_line(
            ctx,
            path,
            line,
            "not a short-syntax port item rempart can bind to 127.0.0.1 (a variable, IPv6, \
             a container-only port or the long syntax): add host_ip or the address by hand",
            port_line,
        )?);
        if !files.iter().any(|p| p == path) {
            files.push(path.to_string());
        }
    }
    Ok(safe(
        f,
        format!(
            "ports published on 127.0.0.1 only (reach them through the reverse proxy or an SSH \
             tunnel); `docker compose up -d` in the directory of {}",
            files.join(", ")
        ),
        intents,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any line: no panic; a rewrite only inserts `127.0.0.1:` (dropping a `0.0.0.0:`).
        #[test]
        fn port_line_only_adds_the_loopback_address(indent in "[ ]{0,8}", host in 1u16..65535, target in 1u16..65535, any in "0\\.0\\.0\\.0:|", q in "\"|'|", comment in "( #[a-z ]{0,10})?", junk in "\\PC{0,40}") {
            let _ = port_line(&junk);
            let line = format!("{indent}- {q}{any}{host}:{target}{q}{comment}");
            let out = port_line(&line).expect("a short-syntax item is rewritten");
            prop_assert_eq!(out, format!("{indent}- {q}127.0.0.1:{host}:{target}{q}{comment}"));
        }
    }

    #[test]
    fn short_ports_are_bound_to_loopback_and_nothing_else() {
        assert_eq!(
            port_line("      - \"8081:8080\"").unwrap(),
            "      - \"127.0.0.1:8081:8080\""
        );
        assert_eq!(
            port_line("  - 9000-9001:9000-9001/udp # minio").unwrap(),
            "  - 127.0.0.1:9000-9001:9000-9001/udp # minio"
        );
        assert_eq!(
            port_line("  - '0.0.0.0:5432:5432'").unwrap(),
            "  - '127.0.0.1:5432:5432'"
        );
        assert_eq!(port_line("  - \"3000\""), None);
        assert_eq!(port_line("  - \"${PORT}:80\""), None);
        assert_eq!(port_line("  - \"[::]:80:80\""), None);
        assert_eq!(port_line("    target: 80"), None);
        assert_eq!(port_line("  - \"127.0.0.1:80:80\""), None);
    }
}
