use super::*;
use proptest::prelude::*;

/// Seed 001's monitoring stack, as such files are usually written.
pub const MONITORING: &str = r#"# KoproGo monitoring stack (Issue #41)
name: koprogo-monitoring

x-logging: &default-logging
  driver: json-file
  options:
    max-size: "10m"

services:
  prometheus:
    image: prom/prometheus:v2.54.1
    container_name: koprogo-prometheus
    command:
      - '--config.file=/etc/prometheus/prometheus.yml'
      - '--storage.tsdb.retention.time=30d'
      - '--web.enable-lifecycle'
    volumes:
      - ./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro
      - prometheus-data:/prometheus
    ports:
      - "9090:9090"
    logging: *default-logging

  grafana:
    image: grafana/grafana:latest
    environment:
      - GF_SECURITY_ADMIN_USER=admin
      - GF_SECURITY_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-admin}
      - GF_USERS_ALLOW_SIGN_UP=false
    ports:
      - "${GRAFANA_PORT:-3001}:3000"

  node-exporter:
    image: prom/node-exporter
    network_mode: host
    pid: host
    volumes:
      - type: bind
        source: /
        target: /host
        read_only: true

  cadvisor:
    image: gcr.io/cadvisor/cadvisor:v0.49.1
    privileged: true
    volumes:
      - /var/run:/var/run:ro
      - /sys:/sys:ro
    ports:
      - target: 8080
        published: 8082
        host_ip: 127.0.0.1

  minio:
    image: minio/minio@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    command: server /data --console-address ":9001"
    env_file: minio.env
    ports:
      - "[::1]:9000:9000"
      - "9001"

volumes:
  prometheus-data:
"#;

fn parse_with(text: &str, env: &[(&str, &str)], files: &[(&str, &str)]) -> ComposeFile {
    let lookup = |k: &str| {
        env.iter().find(|(n, _)| *n == k).map(|(n, v)| EnvEntry {
            key: n.to_string(),
            value: v.to_string(),
            path: "/home/koprogo/koprogo/monitoring/.env".into(),
            line: 1,
            text: format!("{n}={v}"),
        })
    };
    let read = |p: &str| {
        files
            .iter()
            .find(|(n, _)| *n == p)
            .map(|(_, t)| t.to_string())
    };
    parse(
        "/home/koprogo/koprogo/monitoring/docker-compose.yml",
        text,
        &lookup,
        &read,
    )
}

#[test]
fn seed_001_stack() {
    let f = parse_with(
        MONITORING,
        &[],
        &[(
            "/home/koprogo/koprogo/monitoring/minio.env",
            "MINIO_ROOT_USER=koprogo\nMINIO_ROOT_PASSWORD=Zr8Kq2Wv7Xn4Pb9Tm3Ld6Hs1\n",
        )],
    );
    assert_eq!(f.error, None);
    let names: Vec<&str> = f.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "prometheus",
            "grafana",
            "node-exporter",
            "cadvisor",
            "minio"
        ]
    );
    let prom = &f.services[0];
    assert_eq!(prom.image_name().as_deref(), Some("prom/prometheus"));
    assert_eq!(prom.ports[0].published.as_deref(), Some("9090"));
    assert!(prom.ports[0].all_interfaces());
    assert_eq!(prom.ports[0].line, 21);
    assert_eq!(prom.command[2].value, "--web.enable-lifecycle");
    assert_eq!(prom.command[2].line, 16);
    assert!(prom.volumes[0].read_only);
    assert_eq!(
        prom.volumes[0].source.as_deref(),
        Some("/home/koprogo/koprogo/monitoring/prometheus/prometheus.yml")
    );
    let g = &f.services[1];
    assert_eq!(g.image_base().as_deref(), Some("grafana"));
    let pw = g.env("GF_SECURITY_ADMIN_PASSWORD").unwrap();
    assert_eq!(pw.value.as_deref(), Some("admin"));
    assert!(pw.vars[0].defaulted);
    assert_eq!(pw.line, 28);
    assert_eq!(g.ports[0].published.as_deref(), Some("3001"));
    let ne = &f.services[2];
    assert_eq!(ne.network_mode.as_ref().unwrap().value, "host");
    assert_eq!(ne.volumes[0].source.as_deref(), Some("/"));
    assert!(ne.volumes[0].read_only);
    let ca = &f.services[3];
    assert_eq!(ca.image_name().as_deref(), Some("cadvisor/cadvisor"));
    assert_eq!(ca.privileged.as_ref().unwrap().value, "true");
    assert!(!ca.ports[0].all_interfaces());
    assert_eq!(ca.ports[0].published.as_deref(), Some("8082"));
    let m = &f.services[4];
    assert_eq!(m.image_name().as_deref(), Some("minio/minio"));
    assert_eq!(m.command, {
        let mut c = Vec::new();
        for w in ["server", "/data", "--console-address", ":9001"] {
            c.push(Scalar {
                value: w.into(),
                line: 56,
                vars: Vec::new(),
            });
        }
        c
    });
    assert_eq!(m.env("MINIO_ROOT_PASSWORD").unwrap().line, 2);
    assert_eq!(m.ports[0].host_ip.as_deref(), Some("::1"));
    assert!(!m.ports[0].all_interfaces());
    assert_eq!(m.ports[1].published, None);
    assert!(m.ports[1].all_interfaces());
}

#[test]
fn interpolation_from_the_project_env() {
    let f = parse_with(
        MONITORING,
        &[
            ("GRAFANA_ADMIN_PASSWORD", "x"),
            ("GRAFANA_PORT", "127.0.0.1:3001"),
        ],
        &[],
    );
    let g = &f.services[1];
    assert_eq!(
        g.env("GF_SECURITY_ADMIN_PASSWORD")
            .unwrap()
            .value
            .as_deref(),
        Some("x")
    );
    assert_eq!(g.ports[0].host_ip.as_deref(), Some("127.0.0.1"));
}

#[test]
fn port_short_forms() {
    let f = parse_with(
        "services:\n  a:\n    ports:\n      - 8080:80\n      - \"127.0.0.1::5432\"\n      - \"9000-9002:9000-9002/udp\"\n      - \"0.0.0.0:53:53/udp\"\n",
        &[],
        &[],
    );
    let p = &f.services[0].ports;
    assert_eq!(
        (p[0].published.as_deref(), p[0].target.as_str()),
        (Some("8080"), "80")
    );
    assert_eq!(p[1].host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(p[1].published, None);
    assert_eq!(p[2].host_ports().unwrap(), [9000, 9001, 9002]);
    assert_eq!(p[2].protocol, "udp");
    assert!(p[3].all_interfaces());
}

#[test]
fn broken_files_are_reported() {
    assert!(parse_with("services: [\n", &[], &[]).error.is_some());
    assert!(parse_with("- a\n- b\n", &[], &[]).error.is_some());
    let f = parse_with(
        "services:\n  web:\n    image: nginx\n    ports: 80\n",
        &[],
        &[],
    );
    assert!(f.error.is_none());
    assert!(f.services[0].ports.is_empty());
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,400}") {
        let _ = parse_with(&s, &[("A", "1")], &[]);
    }

    #[test]
    fn parse_never_panics_on_composeish_input(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("services:\n"), Just("  a:\n"), Just("    ports:\n"), Just("      - "),
                Just("\"127.0.0.1:80:80\""), Just("8080"), Just(":"), Just("[::1]:"), Just("/udp"),
                Just("    volumes:\n"), Just("/var/run/docker.sock:/x:ro"), Just("${A:-b}"),
                Just("    environment:\n"), Just("      K: v\n"), Just("\n"), Just("    image: x:latest\n"),
                Just("- target: 1\n"), Just("  published: 2\n"), Just("&a "), Just("*a"), Just("<<: "),
                Just("{"), Just("}"), Just("["), Just("]"), Just(","),
            ],
            0..40,
        )
    ) {
        let s: String = parts.concat();
        let _ = parse_with(&s, &[("A", "1")], &[]);
    }

    /// A published short-syntax port reads back with its parts and line.
    #[test]
    fn short_ports_round_trip(
        ip in prop_oneof![Just(None), Just(Some("127.0.0.1")), Just(Some("0.0.0.0")), Just(Some("10.0.0.5"))],
        host in 1u16..65535,
        target in 1u16..65535,
        udp in any::<bool>(),
        blank in 0usize..3,
    ) {
        let spec = format!(
            "{}{host}:{target}{}",
            ip.map(|i| format!("{i}:")).unwrap_or_default(),
            if udp { "/udp" } else { "" }
        );
        let text = format!("services:\n{}  web:\n    ports:\n      - \"{spec}\"\n", "\n".repeat(blank));
        let f = parse_with(&text, &[], &[]);
        let p = &f.services[0].ports[0];
        prop_assert_eq!(p.host_ip.as_deref(), ip);
        prop_assert_eq!(p.host_ports(), Some(vec![host]));
        prop_assert_eq!(p.target.clone(), target.to_string());
        prop_assert_eq!(p.protocol.as_str(), if udp { "udp" } else { "tcp" });
        prop_assert_eq!(p.line, blank as u32 + 4);
        prop_assert_eq!(p.all_interfaces(), matches!(ip, None | Some("0.0.0.0")));
    }
}

#[test]
fn image_tags_skip_the_registry_port_and_the_digest() {
    let tag = |image: &str| {
        let f = parse(
            "/c.yml",
            &format!("services:\n  s:\n    image: {image}\n"),
            &|_| None,
            &|_| None,
        );
        f.services[0].image_tag().map(String::from)
    };
    assert_eq!(tag("grafana/grafana:11.2.0").as_deref(), Some("11.2.0"));
    assert_eq!(tag("localhost:5000/grafana/grafana").as_deref(), None);
    assert_eq!(
        tag("registry.local:5000/minio/minio:RELEASE.2021-06-17T00-10-46Z").as_deref(),
        Some("RELEASE.2021-06-17T00-10-46Z")
    );
    assert_eq!(
        tag("postgres:16@sha256:5778c636a7fe55aaf71afde05cb6a33b5f9f05fdcad51bdabb4bbe74ffd1477d")
            .as_deref(),
        Some("16")
    );
    assert_eq!(
        tag("postgres@sha256:5778c636a7fe55aaf71afde05cb6a33b5f9f05fdcad51bdabb4bbe74ffd1477d"),
        None
    );
    assert_eq!(tag("traefik").as_deref(), None);
}
