//! `rempart guard run` with real components: network namespaces joined by veth pairs, nftables
//! in the service namespace, a TCP service, an attacker and an allowed client in their own
//! namespaces. Also log rotation in each style, restart with saved offsets and saved bans.
//!
//! Needs root, `ip` (iproute2) and `nft` (nftables): scripts/test-deps installs them; without
//! them these tests fail with a message saying so. Namespaces are removed by a drop guard even
//! when a test fails.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rempart");
static SEQ: AtomicUsize = AtomicUsize::new(0);

fn require_root_tools() {
    let uid = Command::new("id").arg("-u").output().expect("id");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "guard daemon tests need root (network namespaces, nftables)"
    );
    for (tool, pkg) in [("ip", "iproute2"), ("nft", "nftables")] {
        let ok = Command::new(tool)
            .arg(if tool == "ip" { "-V" } else { "--version" })
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "`{tool}` is missing: install {pkg} (scripts/test-deps)");
    }
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Three namespaces: `svc` (the service and the daemon), `att` (attacker, 10.77.N.2 and
/// fd77:N::2) and `ok` (allowed client, 10.78.N.2). Removed on drop.
struct Net {
    svc: String,
    att: String,
    ok: String,
    n: usize,
}

impl Net {
    fn new() -> Net {
        require_root_tools();
        let n = SEQ.fetch_add(1, Ordering::SeqCst) + (std::process::id() as usize % 50) * 4;
        let net = Net {
            svc: format!("rg{n}-svc"),
            att: format!("rg{n}-att"),
            ok: format!("rg{n}-ok"),
            n,
        };
        for ns in [&net.svc, &net.att, &net.ok] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            sh(&["ip", "netns", "add", ns]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        let m = n % 250 + 1;
        for (peer, prefix) in [(&net.att, "10.77"), (&net.ok, "10.78")] {
            let a = format!("rg{n}{}a", &peer[peer.len() - 2..]);
            let b = format!("rg{n}{}b", &peer[peer.len() - 2..]);
            sh(&[
                "ip", "link", "add", &a, "netns", &net.svc, "type", "veth", "peer", "name", &b,
                "netns", peer,
            ]);
            sh(&[
                "ip",
                "-n",
                &net.svc,
                "addr",
                "add",
                &format!("{prefix}.{m}.1/24"),
                "dev",
                &a,
            ]);
            sh(&[
                "ip",
                "-n",
                peer,
                "addr",
                "add",
                &format!("{prefix}.{m}.2/24"),
                "dev",
                &b,
            ]);
            sh(&["ip", "-n", &net.svc, "link", "set", &a, "up"]);
            sh(&["ip", "-n", peer, "link", "set", &b, "up"]);
            if prefix == "10.77" {
                let v6 = format!("fd77:{m:x}::");
                sh(&[
                    "ip",
                    "-n",
                    &net.svc,
                    "addr",
                    "add",
                    &format!("{v6}1/64"),
                    "dev",
                    &a,
                    "nodad",
                ]);
                sh(&[
                    "ip",
                    "-n",
                    peer,
                    "addr",
                    "add",
                    &format!("{v6}2/64"),
                    "dev",
                    &b,
                    "nodad",
                ]);
            }
        }
        net
    }

    fn m(&self) -> usize {
        self.n % 250 + 1
    }
    fn att_v4(&self) -> String {
        format!("10.77.{}.2", self.m())
    }
    fn ok_v4(&self) -> String {
        format!("10.78.{}.2", self.m())
    }
    fn att_v6(&self) -> String {
        format!("fd77:{:x}::2", self.m())
    }
    fn svc_v4(&self) -> String {
        format!("10.77.{}.1", self.m())
    }
    fn svc_v4_ok(&self) -> String {
        format!("10.78.{}.1", self.m())
    }
    fn svc_v6(&self) -> String {
        format!("fd77:{:x}::1", self.m())
    }

    /// Whether `from` namespace reaches `addr:port` (a TCP handshake and a byte back).
    fn connects(&self, from: &str, addr: &str, port: u16) -> bool {
        let target = if addr.contains(':') {
            format!("[{addr}]:{port}")
        } else {
            format!("{addr}:{port}")
        };
        Command::new("ip")
            .args([
                "netns",
                "exec",
                from,
                std::env::current_exe().unwrap().to_str().unwrap(),
            ])
            .args([
                "--ignored",
                "--exact",
                "helper_connect",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("RG_CONNECT", target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A TCP service on port `port` (IPv4 and IPv6) in the service namespace.
    fn serve(&self, port: u16) -> Kill {
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.svc,
                std::env::current_exe().unwrap().to_str().unwrap(),
            ])
            .args([
                "--ignored",
                "--exact",
                "helper_listen",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("RG_LISTEN", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        Kill(Some(child))
    }

    fn nft_set(&self, set: &str) -> String {
        let out = Command::new("ip")
            .args([
                "netns", "exec", &self.svc, "nft", "list", "set", "inet", "rempart", set,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in [&self.svc, &self.att, &self.ok] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Kills a child process on drop.
struct Kill(Option<Child>);

impl Drop for Kill {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Kill {
    /// Stops the daemon as systemd would (SIGTERM), waiting for it to save its state.
    fn stop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
            panic!("the daemon did not stop on SIGTERM");
        }
    }
}

#[test]
#[ignore = "helper: run by the tests inside a namespace"]
fn helper_listen() {
    let Ok(port) = std::env::var("RG_LISTEN") else {
        return;
    };
    let port: u16 = port.parse().unwrap();
    let l4 = TcpListener::bind(("0.0.0.0", port)).unwrap();
    let l6 = TcpListener::bind(SocketAddr::new("::".parse().unwrap(), port)).ok();
    if let Some(l6) = l6 {
        std::thread::spawn(move || {
            for s in l6.incoming().flatten() {
                let _ = (&s).write_all(b"hi\n");
            }
        });
    }
    for s in l4.incoming().flatten() {
        let _ = (&s).write_all(b"hi\n");
    }
}

#[test]
#[ignore = "helper: run by the tests inside a namespace"]
fn helper_connect() {
    let Ok(target) = std::env::var("RG_CONNECT") else {
        return;
    };
    let addr: SocketAddr = target.parse().unwrap();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(800)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(800)))
        .unwrap();
    let mut buf = [0u8; 3];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi\n");
}

fn write_config(dir: &Path, extra_global: &str, jail: &str) -> PathBuf {
    let cfg = format!(
        "[global]\nstate_dir = \"{d}/state\"\nsocket = \"{d}/guard.sock\"\npoll_interval = \"200ms\"\n{extra_global}\n\n[jail.sshd]\nfilter = \"sshd\"\nlogpath = [\"{d}/auth.log\"]\n{jail}\n",
        d = dir.display()
    );
    let p = dir.join("guard.toml");
    std::fs::write(&p, cfg).unwrap();
    std::fs::write(dir.join("auth.log"), "").unwrap();
    p
}

fn start_daemon(netns: Option<&str>, config: &Path) -> Kill {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, BIN]);
            c
        }
        None => Command::new(BIN),
    };
    let log = std::fs::File::create(config.with_file_name("daemon.log")).unwrap();
    let child = cmd
        .args([
            "guard",
            "run",
            "--config",
            config.to_str().unwrap(),
            "--log-format",
            "json",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let sock = config.with_file_name("guard.sock");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&sock).is_err() {
        assert!(
            Instant::now() < deadline,
            "the daemon did not start: {}",
            daemon_log(config)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Kill(Some(child))
}

fn daemon_log(config: &Path) -> String {
    std::fs::read_to_string(config.with_file_name("daemon.log")).unwrap_or_default()
}

fn fail(log: &Path, pid: u32, ip: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    let now = jiff::Zoned::now().strftime("%b %e %H:%M:%S").to_string();
    writeln!(
        f,
        "{now} svc sshd[{pid}]: Failed password for invalid user admin from {ip} port 4242 ssh2"
    )
    .unwrap();
}

fn status(config: &Path) -> Value {
    let out = Command::new(BIN)
        .args([
            "guard",
            "status",
            "--format",
            "json",
            "--config",
            config.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn bans_drop_the_attacker_spare_the_allowed_and_expire() {
    let net = Net::new();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!("allow = [\"{}\"]", net.ok_v4()),
        "maxretry = 3\nbantime = \"3s\"\nfindtime = \"10m\"\nports = [2222]",
    );
    let _svc = net.serve(2222);
    let mut daemon = start_daemon(Some(&net.svc), &cfg);
    assert!(
        net.connects(&net.att, &net.svc_v4(), 2222),
        "attacker reaches the service before"
    );
    let log = dir.path().join("auth.log");
    for i in 0..3 {
        fail(&log, 100 + i, &net.att_v4());
        fail(&log, 200 + i, &net.ok_v4());
    }
    wait_for("the attacker in ban4p", || {
        net.nft_set("ban4p").contains(&net.att_v4())
    });
    assert!(
        !net.connects(&net.att, &net.svc_v4(), 2222),
        "attacker dropped"
    );
    assert!(
        net.connects(&net.ok, &net.svc_v4_ok(), 2222),
        "allowed client still connects"
    );
    assert!(!net.nft_set("ban4p").contains(&net.ok_v4()));
    // The ban is for port 2222 only.
    let st = status(&cfg);
    assert_eq!(st["bans"].as_array().unwrap().len(), 1);
    // IPv6. The attacker's /64 also holds this host's own address (fd77:M::1), so only the
    // attacker's address is banned, never the whole prefix (unit tests cover /64 bans).
    for i in 0..3 {
        fail(&log, 300 + i, &net.att_v6());
    }
    let prefix = net.att_v6();
    wait_for("the IPv6 attacker in ban6p", || {
        net.nft_set("ban6p").contains(&prefix)
    });
    assert!(
        !net.nft_set("ban6pnet").contains("::/64"),
        "the host's own /64 is never banned"
    );
    assert!(
        !net.connects(&net.att, &net.svc_v6(), 2222),
        "IPv6 attacker dropped"
    );
    // Both bans expire after bantime.
    wait_for("the bans to expire", || {
        !net.nft_set("ban4p").contains(&net.att_v4()) && !net.nft_set("ban6p").contains(&prefix)
    });
    assert!(
        net.connects(&net.att, &net.svc_v4(), 2222),
        "attacker reaches the service after"
    );
    wait_for("the daemon to forget the bans", || {
        status(&cfg)["bans"].as_array().unwrap().is_empty()
    });
    daemon.stop();
}

#[test]
fn bans_survive_a_restart_and_manual_ban_unban_work() {
    let net = Net::new();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "", "maxretry = 2\nbantime = \"1h\"");
    let _svc = net.serve(2323);
    let mut daemon = start_daemon(Some(&net.svc), &cfg);
    let log = dir.path().join("auth.log");
    fail(&log, 1, &net.att_v4());
    fail(&log, 2, &net.att_v4());
    wait_for("the ban", || net.nft_set("ban4").contains(&net.att_v4()));
    daemon.stop();
    // Wipe the firewall as a reboot would; the daemon must restore the ban from its state.
    sh(&[
        "ip", "netns", "exec", &net.svc, "nft", "delete", "table", "inet", "rempart",
    ]);
    assert!(net.connects(&net.att, &net.svc_v4(), 2323));
    let mut daemon = start_daemon(Some(&net.svc), &cfg);
    assert!(
        net.nft_set("ban4").contains(&net.att_v4()),
        "restored at start"
    );
    assert!(!net.connects(&net.att, &net.svc_v4(), 2323));
    // Manual unban, then manual ban of the allowed client's network.
    let out = Command::new(BIN)
        .args([
            "guard",
            "unban",
            &net.att_v4(),
            "--config",
            cfg.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!net.nft_set("ban4").contains(&net.att_v4()));
    assert!(net.connects(&net.att, &net.svc_v4(), 2323));
    let out = Command::new(BIN)
        .args([
            "guard",
            "ban",
            &format!("10.78.{}.0/24", net.m()),
            "--config",
            cfg.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!net.connects(&net.ok, &net.svc_v4_ok(), 2323));
    // Other tables are never touched.
    sh(&[
        "ip", "netns", "exec", &net.svc, "nft", "add", "table", "inet", "mine",
    ]);
    daemon.stop();
    let tables = Command::new("ip")
        .args(["netns", "exec", &net.svc, "nft", "list", "tables"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&tables.stdout).contains("table inet mine"));
}

/// Rotates `log` in one style.
fn rotate(log: &Path, style: &str) {
    let old = log.with_extension("log.1");
    match style {
        "rename" => {
            std::fs::rename(log, &old).unwrap();
            std::fs::write(log, "").unwrap();
        }
        "copytruncate" => {
            std::fs::copy(log, &old).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(log)
                .unwrap()
                .set_len(0)
                .unwrap();
        }
        "delete" => {
            std::fs::remove_file(log).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            std::fs::write(log, "").unwrap();
        }
        _ => unreachable!(),
    }
}

fn jail_matches(cfg: &Path) -> u64 {
    status(cfg)["jails"][0]["matches"].as_u64().unwrap()
}

#[test]
fn rotation_in_each_style_loses_and_double_counts_nothing() {
    for style in ["rename", "copytruncate", "delete"] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_config(dir.path(), "backend = \"log\"", "maxretry = 100");
        let mut daemon = start_daemon(None, &cfg);
        let log = dir.path().join("auth.log");
        let mut written = 0;
        for round in 0..3u32 {
            for i in 0..5u32 {
                fail(&log, round * 10 + i, "203.0.113.9");
                written += 1;
            }
            let mut seen = 0;
            let desc = format!("{style}: round {round} ({written} lines written)");
            wait_for(&desc, || {
                seen = jail_matches(&cfg);
                seen >= written
            });
            assert_eq!(
                seen, written,
                "{style}: round {round}: no line counted twice"
            );
            rotate(&log, style);
        }
        fail(&log, 99, "203.0.113.9");
        written += 1;
        wait_for("the last line", || jail_matches(&cfg) >= written);
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(
            jail_matches(&cfg),
            written,
            "{style}: every line counted once"
        );
        daemon.stop();
    }
}

#[test]
fn a_restart_resumes_without_recounting_or_skipping() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "backend = \"log\"", "maxretry = 100");
    let log = dir.path().join("auth.log");
    let mut daemon = start_daemon(None, &cfg);
    for i in 0..4 {
        fail(&log, i, "203.0.113.10");
    }
    wait_for("4 lines", || jail_matches(&cfg) == 4);
    daemon.stop();
    for i in 0..3 {
        fail(&log, 10 + i, "203.0.113.10");
    }
    let mut daemon = start_daemon(None, &cfg);
    wait_for("the 3 new lines", || jail_matches(&cfg) >= 3);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        jail_matches(&cfg),
        3,
        "only the lines written while stopped"
    );
    daemon.stop();
    let _ = daemon_log(&cfg);
}

/// The journal source end to end, with a stand-in for `journalctl` that records its arguments
/// and streams JSON entries from a file (the JSON is what `journalctl -o json` prints).
#[test]
fn journal_entries_ban_and_the_cursor_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let entries = d.join("entries.json");
    std::fs::write(&entries, "").unwrap();
    let stub = d.join("journalctl");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\necho \"$@\" >> {args}\nexec tail -n +1 -f {entries}\n",
            args = d.join("args").display(),
            entries = entries.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = format!(
        "[global]\nbackend = \"log\"\nstate_dir = \"{d}/state\"\nsocket = \"{d}/guard.sock\"\npoll_interval = \"200ms\"\njournalctl = \"{stub}\"\n\n\
         [jail.sshd]\nfilter = \"sshd\"\njournal = {{ units = [\"ssh.service\"], identifiers = [\"sshd\"] }}\nmaxretry = 2\n",
        d = d.display(),
        stub = stub.display()
    );
    let cfg_path = d.join("guard.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let entry = |n: u32, unit: &str, ip: &str| {
        let now_us = jiff::Timestamp::now().as_microsecond();
        serde_json::json!({
            "__CURSOR": format!("s=test;i={n}"), "__REALTIME_TIMESTAMP": now_us.to_string(),
            "_SYSTEMD_UNIT": unit, "SYSLOG_IDENTIFIER": "sshd", "_PID": n.to_string(),
            "_HOSTNAME": "svc",
            "MESSAGE": format!("Failed password for invalid user x from {ip} port 1 ssh2"),
        })
        .to_string()
    };
    let push = |line: String| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&entries)
            .unwrap();
        writeln!(f, "{line}").unwrap();
    };
    let mut daemon = start_daemon(None, &cfg_path);
    push(entry(1, "ssh.service", "203.0.113.30"));
    push(entry(2, "ssh.service", "203.0.113.30"));
    wait_for("the journal ban", || {
        status(&cfg_path)["bans"].as_array().unwrap().len() == 1
    });
    daemon.stop();
    assert_eq!(
        std::fs::read_to_string(d.join("state/journal.cursor")).unwrap(),
        "s=test;i=2"
    );
    let mut daemon = start_daemon(None, &cfg_path);
    wait_for("journalctl restarted", || {
        std::fs::read_to_string(d.join("args"))
            .unwrap()
            .lines()
            .count()
            == 2
    });
    let args = std::fs::read_to_string(d.join("args")).unwrap();
    let first = args.lines().next().unwrap();
    let second = args.lines().nth(1).unwrap();
    assert!(
        first.contains("-o json -f") && first.contains("--since=now"),
        "{first}"
    );
    assert!(
        first.contains("SYSLOG_IDENTIFIER=sshd + _SYSTEMD_UNIT=ssh.service"),
        "{first}"
    );
    assert!(second.contains("--after-cursor=s=test;i=2"), "{second}");
    daemon.stop();
}
