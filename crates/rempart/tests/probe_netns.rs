//! Live facts and the port scan against real sockets, in network namespaces only: listeners on
//! 0.0.0.0, 127.0.0.1 and [::] seen by `rempart audit` from inside their namespace (checked
//! against `ss`), and `rempart probe --ports` run from a second namespace through a veth pair
//! and an nftables ruleset that drops all but the allowed ports (checked against nmap); and
//! FW-LIVE-EXPOSED, the join of both, against the kernel's real verdicts (nmap again).

mod world;

use std::collections::BTreeSet;
use world::*;

fn rempart() -> &'static str {
    env!("CARGO_BIN_EXE_rempart")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn finding<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/schemas/audit-report.schema.json"),
    )
    .expect("../shared/schemas beside the repository");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    v.iter_errors(report).map(|e| e.to_string()).collect()
}

#[test]
fn listening_sockets_are_seen_like_ss_sees_them() {
    require_root();
    require("ip", "iproute2");
    require("ss", "iproute2");
    let ns = Netns::new("rpl");
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "lo"]);
    let listeners = ns.spawn_ready(
        PYTHON,
        &[
            "-c",
            LISTENERS_PY,
            "tcp,0.0.0.0,18080",
            "tcp,127.0.0.1,18081",
            "tcp,::,18082",
            "tcp,::1,18083",
            "udp,0.0.0.0,18084",
            "tcp,10.77.0.1,18085",
            "tcp,0.0.0.0,443",
        ],
    );
    let pid = listeners.ready.clone();
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cfg.path(), "allowed_ports = [22, 80, 443]\n").unwrap();

    let out = ns
        .cmd(rempart())
        .args([
            "audit",
            "--only",
            "SVC-LISTEN-PUBLIC",
            "--format",
            "json",
            "--config",
        ])
        .arg(cfg.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert!(
        schema_errors(&report).is_empty(),
        "{:?}",
        schema_errors(&report)
    );
    let f = finding(&report, "SVC-LISTEN-PUBLIC");
    assert_eq!(f["status"], "fail", "{f}");
    let seen: BTreeSet<String> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "socket")
        .map(|e| {
            let actual = e["actual"].as_str().unwrap();
            assert!(
                actual.contains(&format!("python3 pid {pid}")),
                "the owner is named: {e}"
            );
            e["key"].as_str().unwrap().to_string()
        })
        .collect();
    let want: BTreeSet<String> = [
        "tcp 0.0.0.0:18080",
        "tcp [::]:18082",
        "udp 0.0.0.0:18084",
        "tcp 10.77.0.1:18085",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        seen, want,
        "loopback and allowed (443) sockets are not reported"
    );

    // The oracle: ss, in the same namespace, sees the same non-loopback sockets (443 aside).
    let ss = ns.cmd("ss").args(["-ltunpH"]).output().unwrap();
    let text = String::from_utf8_lossy(&ss.stdout);
    let mut by_ss = BTreeSet::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (proto, local) = (w[0], w[4]);
        let local = local.replace('*', "[::]");
        let loopback = local.starts_with("127.") || local.starts_with("[::1]");
        if !loopback && !local.ends_with(":443") {
            by_ss.insert(format!("{proto} {local}"));
        }
    }
    assert_eq!(by_ss, want, "ss -ltunp says:\n{text}");
    drop(listeners);
}

/// `nmap -sT` open ports, from its XML.
fn nmap_open(xml: &str) -> BTreeSet<u16> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(xml, opts).expect("nmap XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("port"))
        .filter(|n| {
            n.children()
                .any(|c| c.has_tag_name("state") && c.attribute("state") == Some("open"))
        })
        .map(|n| n.attribute("portid").unwrap().parse().unwrap())
        .collect()
}

#[test]
fn port_scan_through_a_firewall_agrees_with_nmap() {
    require_root();
    require("ip", "iproute2");
    require("nft", "nftables");
    require("nmap", "nmap");
    let target = Netns::new("rpt");
    let scanner = Netns::new("rps");
    let n = std::process::id() % 200 + 20;
    let (a, b) = (format!("10.{n}.9.1"), format!("10.{n}.9.2"));
    veth(&scanner, &format!("{a}/30"), &target, &format!("{b}/30"));
    target.nft(
        "table inet filter {
            chain input {
                type filter hook input priority 0; policy drop;
                ct state established,related accept
                iif lo accept
                tcp dport { 22, 80, 443, 8080 } accept
            }
        }",
    );
    let _listeners = target.spawn_ready(
        PYTHON,
        &[
            "-c",
            LISTENERS_PY,
            "tcp,0.0.0.0,22",
            "tcp,0.0.0.0,80",
            "tcp,0.0.0.0,8080",
            "tcp,0.0.0.0,5432",
        ],
    );
    let range = "1-10000";

    let out = scanner
        .cmd(rempart())
        .args(["probe", "--ports", &b, "--range", range, "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("only scan hosts you own"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report = json(&out);
    assert!(
        schema_errors(&report).is_empty(),
        "{:?}",
        schema_errors(&report)
    );
    assert_eq!(report["target"]["kind"], "ports");
    let f = finding(&report, "FW-PROBE-PORTS");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["family"], "firewall");
    let ev = f["evidence"].as_array().unwrap();
    assert!(
        ev.iter()
            .any(|e| e["key"] == "tcp/8080" && e["actual"] == "open"),
        "{f}"
    );
    assert!(
        !ev.iter().any(|e| e["key"] == "tcp/5432"),
        "5432 is dropped by the firewall: {f}"
    );
    let ours: BTreeSet<u16> = ev
        .iter()
        .find(|e| e["key"] == "open ports")
        .and_then(|e| e["actual"].as_str())
        .unwrap()
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();

    let nmap = scanner
        .cmd("nmap")
        .args(["-sT", "-Pn", "-T4", "-n", "-p", range, "-oX", "-", &b])
        .output()
        .unwrap();
    assert!(
        nmap.status.success(),
        "{}",
        String::from_utf8_lossy(&nmap.stderr)
    );
    let theirs = nmap_open(&String::from_utf8_lossy(&nmap.stdout));
    assert_eq!(ours, theirs, "rempart and nmap disagree on the open ports");
    assert_eq!(ours, BTreeSet::from([22, 80, 8080]));

    // With 8080 allowed the same host passes.
    let out = scanner
        .cmd(rempart())
        .args([
            "probe",
            "--ports",
            &b,
            "--range",
            range,
            "--allow",
            "22,80,443,8080",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(finding(&json(&out), "FW-PROBE-PORTS")["status"], "pass");
}

#[test]
fn port_scan_refuses_more_than_one_host() {
    for bad in [
        "10.0.0.0/24",
        "10.0.0.1-20",
        "a.example,b.example",
        "https://example.org",
    ] {
        let out = std::process::Command::new(rempart())
            .args(["probe", "--ports", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("one host"), "{bad}: {err}");
        assert!(
            err.contains("only scan hosts you own"),
            "the notice comes first: {err}"
        );
    }
}

/// Docker's iptables rules (as `dockerd` writes them) for a container at 172.17.0.3 publishing
/// 8080 -> 80, 5432 -> 5432 and 127.0.0.1:6379 -> 6379; INPUT drops all but SSH, like ufw.
const DOCKER_RULES: &str = "*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.3:80
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 172.17.0.3:5432
-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 6379 -j DNAT --to-destination 172.17.0.3:6379
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.3/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER -d 172.17.0.3/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT
-A DOCKER -d 172.17.0.3/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 6379 -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT
";

fn load_rules(ns: &Netns, tool: &str, rules: &str) {
    use std::io::Write;
    let mut child = ns
        .cmd(tool)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(rules.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn audit_docker(ns: &Netns, allowed: &str) -> serde_json::Value {
    audit_live(ns, "FW-DOCKER-BYPASS", allowed)
}

/// `rempart audit --only RULE` of the live namespace, with `allowed_ports`; the rule's finding.
fn audit_live(ns: &Netns, rule: &str, allowed: &str) -> serde_json::Value {
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cfg.path(), format!("allowed_ports = [{allowed}]\n")).unwrap();
    let out = ns
        .cmd(rempart())
        .args(["audit", "--only", rule, "--format", "json", "--config"])
        .arg(cfg.path())
        .output()
        .unwrap();
    let report = json(&out);
    assert!(schema_errors(&report).is_empty());
    finding(&report, rule).clone()
}

fn open_ports(scanner: &Netns, addr: &str) -> BTreeSet<u16> {
    let out = scanner
        .cmd(rempart())
        .args([
            "probe", "--ports", addr, "--range", "1-10000", "--format", "json",
        ])
        .output()
        .unwrap();
    let report = json(&out);
    finding(&report, "FW-PROBE-PORTS")["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "open ports")
        .and_then(|e| e["actual"].as_str())
        .unwrap()
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// The classic trap, for real: INPUT drops 5432, yet Docker's DNAT and FORWARD rules let it
/// through to the container. The audit's FW-DOCKER-BYPASS (reading the kernel through nft)
/// says so, the port scan from outside and nmap see it open; a DROP in DOCKER-USER closes it
/// and the audit agrees. Then the same rules on the iptables-legacy backend.
#[test]
fn docker_published_ports_bypass_the_input_chain() {
    require_root();
    require("ip", "iproute2");
    require("nft", "nftables");
    require("nmap", "nmap");
    require("iptables-nft-restore", "iptables");
    require("iptables-legacy-restore", "iptables");
    let scanner = Netns::new("rds");
    let host = Netns::new("rdh");
    let ctr = Netns::new("rdc");
    let n = std::process::id() % 200 + 20;
    let (outside, inside) = (format!("10.{n}.8.1"), format!("10.{n}.8.2"));
    veth(
        &scanner,
        &format!("{outside}/30"),
        &host,
        &format!("{inside}/30"),
    );
    // The bridge side is called docker0 inside the host namespace, as Docker's rules expect.
    let t = tag();
    let (hb, cb) = (format!("hb{t}"), format!("cb{t}"));
    let ok = std::process::Command::new("ip")
        .args([
            "link", "add", &hb, "netns", &host.name, "type", "veth", "peer", "name", &cb, "netns",
            &ctr.name,
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    host.ip(&["link", "set", &hb, "name", "docker0"]);
    host.ip(&["addr", "add", "172.17.0.1/16", "dev", "docker0"]);
    host.ip(&["link", "set", "docker0", "up"]);
    ctr.ip(&["addr", "add", "172.17.0.3/16", "dev", &cb]);
    ctr.ip(&["link", "set", &cb, "up"]);
    ctr.ip(&["route", "add", "default", "via", "172.17.0.1"]);
    let fwd = host
        .cmd("sysctl")
        .args(["-qw", "net.ipv4.ip_forward=1"])
        .status()
        .unwrap();
    assert!(fwd.success());
    let _host_sshd = host.spawn_ready(PYTHON, &["-c", LISTENERS_PY, "tcp,0.0.0.0,22"]);
    let _container = ctr.spawn_ready(
        PYTHON,
        &[
            "-c",
            LISTENERS_PY,
            "tcp,0.0.0.0,80",
            "tcp,0.0.0.0,5432",
            "tcp,0.0.0.0,6379",
        ],
    );
    load_rules(&host, "iptables-nft-restore", DOCKER_RULES);

    let f = audit_docker(&host, "22, 80, 443");
    assert_eq!(f["status"], "fail", "{f}");
    let keys: BTreeSet<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["published tcp/5432", "published tcp/8080"]),
        "{f}"
    );

    let seen = open_ports(&scanner, &inside);
    assert_eq!(
        seen,
        BTreeSet::from([22, 5432, 8080]),
        "the INPUT chain drops 5432, yet it is open"
    );
    let nmap = scanner
        .cmd("nmap")
        .args([
            "-sT", "-Pn", "-T4", "-n", "-p", "1-10000", "-oX", "-", &inside,
        ])
        .output()
        .unwrap();
    assert_eq!(
        nmap_open(&String::from_utf8_lossy(&nmap.stdout)),
        seen,
        "nmap agrees"
    );

    // Filter in DOCKER-USER, as Docker's documentation says: 5432 closes, the audit agrees.
    let ins = host
        .cmd("iptables-nft")
        .args([
            "-I",
            "DOCKER-USER",
            "!",
            "-i",
            "docker0",
            "-p",
            "tcp",
            "-m",
            "conntrack",
            "--ctorigdstport",
            "5432",
            "-j",
            "DROP",
        ])
        .status()
        .unwrap();
    assert!(ins.success());
    assert_eq!(open_ports(&scanner, &inside), BTreeSet::from([22, 8080]));
    let f = audit_docker(&host, "22, 80, 443");
    assert_eq!(f["status"], "fail");
    assert!(
        f["message"].as_str().unwrap().contains("tcp/8080")
            && !f["message"].as_str().unwrap().contains("tcp/5432"),
        "{f}"
    );
    assert_eq!(audit_docker(&host, "22, 80, 443, 8080")["status"], "pass");

    // The same rules on the legacy backend: nft sees nothing, /proc/net/ip_tables_names does.
    let flush = host.cmd("nft").args(["flush", "ruleset"]).status().unwrap();
    assert!(flush.success());
    load_rules(&host, "iptables-legacy-restore", DOCKER_RULES);
    assert_eq!(
        open_ports(&scanner, &inside),
        BTreeSet::from([22, 5432, 8080])
    );
    let f = audit_docker(&host, "22, 80, 443");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("iptables-legacy-save"),
        "{f}"
    );
}

/// nmap's open ports among `ports` of `addr`, scanned from `scanner`.
fn nmap_ports(scanner: &Netns, addr: &str, ports: &str) -> BTreeSet<u16> {
    let out = scanner
        .cmd("nmap")
        .args([
            "-sT",
            "-Pn",
            "-n",
            "-T4",
            "--max-retries",
            "1",
            "-p",
            ports,
            "-oX",
            "-",
            addr,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    nmap_open(&String::from_utf8_lossy(&out.stdout))
}

/// FW-LIVE-EXPOSED against a real kernel: a "database" and a "cache" on 0.0.0.0 and an allowed
/// 443, inside a namespace. Without any ruleset both are reachable; with a drop policy they are
/// not; a rule typed by hand opens the database again. Each verdict is checked with nmap from a
/// second namespace over a veth pair.
#[test]
fn the_kernel_firewall_decides_which_listeners_are_exposed() {
    require_root();
    require("ip", "iproute2");
    require("nft", "nftables");
    require("nmap", "nmap");
    let host = Netns::new("rpx");
    let scanner = Netns::new("rpy");
    let n = std::process::id() % 200 + 20;
    let (a, b) = (format!("10.{n}.11.1"), format!("10.{n}.11.2"));
    veth(&scanner, &format!("{a}/30"), &host, &format!("{b}/30"));
    let _listeners = host.spawn_ready(
        PYTHON,
        &[
            "-c",
            LISTENERS_PY,
            "tcp,0.0.0.0,15432",
            "tcp,0.0.0.0,16379",
            "tcp,127.0.0.1,18000",
            "tcp,0.0.0.0,443",
        ],
    );
    let ports = "443,15432,16379,18000";
    let exposed = |f: &serde_json::Value| -> BTreeSet<u16> {
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["source"] == "socket")
            .map(|e| {
                let key = e["key"].as_str().unwrap();
                key.rsplit(':').next().unwrap().parse().unwrap()
            })
            .collect()
    };

    // No ruleset at all: nothing filters.
    let f = audit_live(&host, "FW-LIVE-EXPOSED", "22, 80, 443");
    assert_eq!(f["status"], "fail", "{f}");
    assert_eq!(exposed(&f), BTreeSet::from([15432, 16379]), "{f}");
    assert_eq!(
        nmap_ports(&scanner, &b, ports),
        BTreeSet::from([443, 15432, 16379])
    );

    // The guides' firewall: drop by default, 22/80/443 open.
    host.nft(
        "table inet filter {
            chain input {
                type filter hook input priority 0; policy drop;
                ct state established,related accept
                iif lo accept
                tcp dport { 22, 80, 443 } accept
            }
        }",
    );
    let f = audit_live(&host, "FW-LIVE-EXPOSED", "22, 80, 443");
    assert_eq!(f["status"], "pass", "{f}");
    assert_eq!(nmap_ports(&scanner, &b, ports), BTreeSet::from([443]));

    // A rule typed by hand opens the database to everyone.
    host.nft("add rule inet filter input tcp dport 15432 accept");
    let f = audit_live(&host, "FW-LIVE-EXPOSED", "22, 80, 443");
    assert_eq!(f["status"], "fail", "{f}");
    assert_eq!(exposed(&f), BTreeSet::from([15432]), "{f}");
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["snippet"]
                .as_str()
                .is_some_and(|s| s.contains("tcp dport 15432 accept"))),
        "the rule that lets it in is named: {f}"
    );
    assert_eq!(
        nmap_ports(&scanner, &b, ports),
        BTreeSet::from([443, 15432])
    );
}
