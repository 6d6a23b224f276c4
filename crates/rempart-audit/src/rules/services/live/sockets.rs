//! Listening sockets of the live host: TCP sockets in the LISTEN state and unconnected UDP
//! sockets from `/proc/net/{tcp,tcp6,udp,udp6}`, each mapped to the processes holding it (the
//! `socket:[INODE]` links in `/proc/PID/fd`). Like `ss -ltunp`, without netlink, so a fixture tree
//! can hold the same files.

use super::procfs::{
    is_loopback, parse_socket_row, show_addr, socket_inode, TCP_LISTEN, UDP_UNCONNECTED,
};
use super::Processes;
use crate::host::{Host, HostError};
use crate::rule::{Ctx, Fact};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The tables read, with their protocol and address family.
const TABLES: &[(&str, Proto, bool)] = &[
    ("/proc/net/tcp", Proto::Tcp, false),
    ("/proc/net/tcp6", Proto::Tcp, true),
    ("/proc/net/udp", Proto::Udp, false),
    ("/proc/net/udp6", Proto::Udp, true),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub proto: Proto,
    pub addr: IpAddr,
    pub port: u16,
    /// The socket's owner uid as the kernel records it.
    pub uid: u32,
    pub inode: u64,
    /// The table it was read from.
    pub table: &'static str,
    /// Processes holding the socket open (several after a fork: a master and its workers).
    pub pids: Vec<u32>,
}

impl Listener {
    /// Reachable from other machines (any address but loopback).
    pub fn is_public(&self) -> bool {
        !is_loopback(self.addr)
    }

    /// `tcp 0.0.0.0:5432`.
    pub fn label(&self) -> String {
        format!(
            "{} {}",
            self.proto.as_str(),
            show_addr(self.addr, self.port)
        )
    }
}

/// Every listening socket, empty unless the host is live.
#[derive(Debug, Clone, Default)]
pub struct Listeners {
    pub list: Vec<Listener>,
    /// Tables that exist but could not be read, and `/proc/PID/fd` directories that could not be
    /// listed (another user's process when not run as root).
    pub errors: Vec<HostError>,
    /// Processes whose file descriptors could not be read.
    pub unreadable_fds: usize,
    /// At least one socket table was read.
    pub read_any: bool,
}

impl Listeners {
    pub fn read(host: &Host, procs: &Processes) -> Listeners {
        let mut out = Listeners::default();
        if !host.is_live() {
            return out;
        }
        let mut seen = BTreeSet::new();
        for (path, proto, v6) in TABLES {
            let text = match host.read_text(path) {
                Ok(Some(f)) => f.text,
                Ok(None) => continue,
                Err(e) => {
                    out.errors.push(e);
                    continue;
                }
            };
            out.read_any = true;
            for line in text.lines().skip(1) {
                let Some(row) = parse_socket_row(line, *v6) else {
                    continue;
                };
                let listening = match proto {
                    Proto::Tcp => row.state == TCP_LISTEN,
                    Proto::Udp => {
                        row.state == UDP_UNCONNECTED
                            && row.remote_port == 0
                            && row.remote.is_unspecified()
                    }
                };
                if !listening || !seen.insert((*proto, row.local, row.local_port, row.inode)) {
                    continue;
                }
                out.list.push(Listener {
                    proto: *proto,
                    addr: row.local,
                    port: row.local_port,
                    uid: row.uid,
                    inode: row.inode,
                    table: path,
                    pids: Vec::new(),
                });
            }
        }
        let wanted: BTreeSet<u64> = out
            .list
            .iter()
            .map(|l| l.inode)
            .filter(|i| *i != 0)
            .collect();
        let owners = socket_owners(host, procs, &wanted, &mut out);
        for l in &mut out.list {
            if let Some(p) = owners.get(&l.inode) {
                l.pids = p.clone();
            }
        }
        out.list.sort_by_key(|l| (l.proto, l.port, l.addr));
        out
    }
}

/// Socket inode -> pids holding it, for the inodes wanted.
fn socket_owners(
    host: &Host,
    procs: &Processes,
    wanted: &BTreeSet<u64>,
    out: &mut Listeners,
) -> BTreeMap<u64, Vec<u32>> {
    let mut owners: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    if wanted.is_empty() {
        return owners;
    }
    for p in &procs.list {
        let dir = format!("/proc/{}/fd", p.pid);
        let names = match host.read_dir(&dir) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(_) => {
                out.unreadable_fds += 1;
                continue;
            }
        };
        for n in names {
            let Ok(Some(target)) = host.read_link(&format!("{dir}/{n}")) else {
                continue;
            };
            if let Some(inode) = socket_inode(&target).filter(|i| wanted.contains(i)) {
                let pids = owners.entry(inode).or_default();
                if !pids.contains(&p.pid) {
                    pids.push(p.pid);
                }
            }
        }
    }
    owners
}

impl Fact for Listeners {
    fn collect(ctx: &Ctx) -> Listeners {
        let procs = ctx.fact::<Processes>();
        Listeners::read(ctx.host, &procs)
    }
}
