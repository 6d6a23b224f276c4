//! Throwaway worlds for tests that need real networking: network namespaces joined by veth
//! pairs, an nftables ruleset inside one, and processes started inside them. Everything is
//! removed on drop, also when the test fails. Never touches the host's own namespace.

#![allow(dead_code)]

pub mod web;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Fail with a clear message when a tool the test needs is missing.
pub fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
        || ["/usr/sbin", "/sbin", "/usr/bin"]
            .iter()
            .any(|d| std::path::Path::new(d).join(tool).is_file());
    assert!(
        found,
        "this test needs `{tool}` (Debian package {package}); run scripts/test-deps"
    );
}

pub fn require_root() {
    assert!(
        rustix_like_euid_is_root(),
        "this test needs root (network namespaces); run the suite as root"
    );
}

fn rustix_like_euid_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A unique short tag for names (interface names are limited to 15 bytes).
pub fn tag() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(prefix: &str) -> Netns {
        let name = format!("{prefix}{}", tag());
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NS ARGS`.
    pub fn ip(&self, args: &[&str]) {
        run(Command::new("ip").arg("-n").arg(&self.name).args(args));
    }

    /// A command run inside the namespace.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Load an nftables ruleset inside the namespace.
    pub fn nft(&self, ruleset: &str) {
        let mut child = self
            .cmd("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nft");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ruleset.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "nft -f failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Start a process inside the namespace; it is killed on drop. Waits for its first line of
    /// standard output (the process prints one when it is ready).
    pub fn spawn_ready(&self, program: &str, args: &[&str]) -> Proc {
        let mut child = self
            .cmd(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(
            !line.is_empty(),
            "{program} {args:?} exited before it was ready"
        );
        Proc {
            child,
            ready: line.trim().to_string(),
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Join two namespaces with a veth pair: `a` gets `addr_a`, `b` gets `addr_b` (CIDR form).
pub fn veth(a: &Netns, addr_a: &str, b: &Netns, addr_b: &str) {
    let t = tag();
    let (ia, ib) = (format!("va{t}"), format!("vb{t}"));
    run(Command::new("ip").args([
        "link", "add", &ia, "netns", &a.name, "type", "veth", "peer", "name", &ib, "netns", &b.name,
    ]));
    a.ip(&["addr", "add", addr_a, "dev", &ia]);
    b.ip(&["addr", "add", addr_b, "dev", &ib]);
    a.ip(&["link", "set", &ia, "up"]);
    b.ip(&["link", "set", &ib, "up"]);
}

/// A process started by a test, killed (by its own pid) and reaped on drop.
pub struct Proc {
    pub child: Child,
    /// The first line it printed.
    pub ready: String,
}

impl Drop for Proc {
    /// SIGTERM first (nginx and Apache masters stop their workers on it), SIGKILL after 5 s.
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stderr(Stdio::null())
            .status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Netns {
    /// Start a long-running server inside the namespace (output to `log`), killed on drop.
    pub fn spawn(&self, log: &std::path::Path, program: &str, args: &[&str]) -> Proc {
        let out = std::fs::File::create(log).unwrap();
        let err = out.try_clone().unwrap();
        let child = self
            .cmd(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        Proc {
            child,
            ready: String::new(),
        }
    }

    /// Wait until every port accepts TCP connections on 127.0.0.1 inside the namespace.
    pub fn wait_ports(&self, ports: &[u16], logs: &[&std::path::Path]) {
        let list = ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let script = format!(
            "import socket, time, sys\nend = time.time() + 30\nfor p in [{list}]:\n    while True:\n        try:\n            socket.create_connection(('127.0.0.1', p), 1).close(); break\n        except OSError:\n            if time.time() > end: sys.exit('port %d never opened' % p)\n            time.sleep(0.1)\n"
        );
        let out = self.cmd(PYTHON).args(["-c", &script]).output().unwrap();
        if !out.status.success() {
            let mut msg = String::from_utf8_lossy(&out.stderr).into_owned();
            for l in logs {
                msg.push_str(&format!(
                    "\n--- {}:\n{}",
                    l.display(),
                    std::fs::read_to_string(l).unwrap_or_default()
                ));
            }
            panic!("servers did not start: {msg}");
        }
    }
}

/// A Python listener script: binds every `proto host port` given as arguments, prints its pid,
/// then sleeps. `[::]` sockets are IPv6-only so they show as their own rows.
pub const LISTENERS_PY: &str = r#"
import os, socket, sys, time
socks = []
for spec in sys.argv[1:]:
    proto, host, port = spec.split(",")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, int(port)))
    if proto == "tcp":
        s.listen(1024)
    socks.append(s)
print(os.getpid(), flush=True)
while True:
    time.sleep(3600)
"#;

/// The Debian interpreter (not a pyenv shim), for scripts run inside namespaces.
pub const PYTHON: &str = "/usr/bin/python3";
