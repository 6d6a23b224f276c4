//! Parsers for the procfs files the live facts read: socket tables (`/proc/net/tcp`, `tcp6`,
//! `udp`, `udp6`), a process's `stat`, `status` and `cgroup`, and the boot time in `/proc/stat`.
//! Pure functions of text: they never read the host and never panic on malformed input (a line
//! they cannot read gives `None`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TCP state number of a listening socket in `/proc/net/tcp` (`TCP_LISTEN`).
pub const TCP_LISTEN: u8 = 0x0A;
/// State of an unconnected UDP socket (`TCP_CLOSE`, reused by UDP for "not connected").
pub const UDP_UNCONNECTED: u8 = 0x07;

/// One row of a `/proc/net/{tcp,tcp6,udp,udp6}` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketRow {
    pub local: IpAddr,
    pub local_port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
    pub state: u8,
    pub uid: u32,
    pub inode: u64,
}

/// Parse one data row of a socket table (the header row gives `None`). `v6` selects the address
/// format: 8 hex digits for IPv4, 32 for IPv6, each 32-bit word in the kernel's byte order.
pub fn parse_socket_row(line: &str, v6: bool) -> Option<SocketRow> {
    let mut f = line.split_whitespace();
    let sl = f.next()?;
    if !sl.ends_with(':') {
        return None;
    }
    let (local, local_port) = parse_endpoint(f.next()?, v6)?;
    let (remote, remote_port) = parse_endpoint(f.next()?, v6)?;
    let state = u8::from_str_radix(f.next()?, 16).ok()?;
    let _queues = f.next()?;
    let _timer = f.next()?;
    let _retransmits = f.next()?;
    let uid = f.next()?.parse().ok()?;
    let _timeout = f.next()?;
    let inode = f.next()?.parse().ok()?;
    Some(SocketRow {
        local,
        local_port,
        remote,
        remote_port,
        state,
        uid,
        inode,
    })
}

fn parse_endpoint(s: &str, v6: bool) -> Option<(IpAddr, u16)> {
    let (addr, port) = s.split_once(':')?;
    if port.len() != 4 {
        return None;
    }
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = if v6 {
        if addr.len() != 32 || !addr.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, chunk) in bytes.chunks_mut(4).enumerate() {
            let word = u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).ok()?;
            // The kernel prints each 32-bit word of the network-order address as a native integer.
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        if addr.len() != 8 {
            return None;
        }
        let word = u32::from_str_radix(addr, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(word.to_ne_bytes()))
    };
    Some((ip, port))
}

/// True for addresses only this host can reach: 127.0.0.0/8, `::1`, and IPv4-mapped loopback.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// An address as people write it next to a port: `0.0.0.0`, `[::]`, `[::ffff:10.0.0.1]`.
pub fn show_addr(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// The fields of `/proc/PID/stat` the live rules use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    /// The command name (at most 15 bytes, may hold spaces and parentheses).
    pub comm: String,
    pub state: char,
    pub ppid: u32,
    /// Start time in clock ticks after boot (field 22).
    pub start_ticks: u64,
}

/// Parse `/proc/PID/stat`. The command name sits between the first `(` and the LAST `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let pid = text[..open].trim().parse().ok()?;
    let comm = text[open + 1..close].to_string();
    let mut rest = text[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    // Fields 5..21 then starttime (22): 17 fields to skip after ppid (field 4).
    let start_ticks = rest.nth(17)?.parse().ok()?;
    Some(Stat {
        pid,
        comm,
        state,
        ppid,
        start_ticks,
    })
}

/// The effective user id from `/proc/PID/status` (`Uid:` real, effective, saved, filesystem).
pub fn parse_status_euid(text: &str) -> Option<u32> {
    let line = text.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The systemd unit a process belongs to, from `/proc/PID/cgroup`: the innermost `.service` (or
/// `.scope`) component of the unified hierarchy (`0::/system.slice/nginx.service`) or, on a
/// cgroup v1 host, of the `name=systemd` hierarchy.
pub fn parse_cgroup_unit(text: &str) -> Option<String> {
    let mut path = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(ctrl), Some(p)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if (id == "0" && ctrl.is_empty()) || ctrl == "name=systemd" {
            path = Some(p);
            if id == "0" {
                break;
            }
        }
    }
    let comps: Vec<&str> = path?.split('/').filter(|c| !c.is_empty()).collect();
    comps
        .iter()
        .rev()
        .find(|c| c.ends_with(".service"))
        .or_else(|| comps.iter().rev().find(|c| c.ends_with(".scope")))
        .map(|c| c.to_string())
}

/// The boot time (seconds since the epoch) from `/proc/stat`'s `btime` line.
pub fn parse_btime(text: &str) -> Option<i64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// The socket inode of a `/proc/PID/fd/N` link target (`socket:[12345]`).
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// A NUL-separated `/proc/PID/cmdline`, as words (lossy UTF-8, trailing NUL dropped).
pub fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Rows captured from a Debian 12 host (`cat /proc/net/tcp`, `/proc/net/tcp6`, `/proc/net/udp`).
    const TCP_ROW: &str = "   1: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 31337 1 0000000000000000 100 0 0 10 0";
    const TCP6_ROW: &str = "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20410 1 0000000000000000 100 0 0 10 0";
    const UDP_ROW: &str = "  512: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 15862 2 0000000000000000 0";

    #[test]
    fn ipv4_listener_row() {
        let r = parse_socket_row(TCP_ROW, false).unwrap();
        assert_eq!(r.local, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(r.local_port, 5432);
        assert_eq!(r.state, TCP_LISTEN);
        assert_eq!(r.uid, 108);
        assert_eq!(r.inode, 31337);
        let lo = "   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0";
        let r = parse_socket_row(lo, false).unwrap();
        assert_eq!(show_addr(r.local, r.local_port), "127.0.0.1:8000");
        assert!(is_loopback(r.local));
    }

    #[test]
    fn ipv6_rows() {
        let r = parse_socket_row(TCP6_ROW, true).unwrap();
        assert_eq!(show_addr(r.local, r.local_port), "[::1]:22");
        assert!(is_loopback(r.local));
        let any = "   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20411 1 0000000000000000 100 0 0 10 0";
        let r = parse_socket_row(any, true).unwrap();
        assert_eq!(show_addr(r.local, r.local_port), "[::]:80");
        assert!(!is_loopback(r.local));
        // ::ffff:127.0.0.1, as a dual-stack socket bound to IPv4 loopback shows.
        let mapped = "   2: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20412 1 0000000000000000 100 0 0 10 0";
        let r = parse_socket_row(mapped, true).unwrap();
        assert!(is_loopback(r.local), "{}", r.local);
    }

    #[test]
    fn udp_and_header_rows() {
        let r = parse_socket_row(UDP_ROW, false).unwrap();
        assert_eq!(r.local_port, 68);
        assert_eq!(r.state, UDP_UNCONNECTED);
        assert!(parse_socket_row("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", false).is_none());
        assert!(
            parse_socket_row(TCP_ROW, true).is_none(),
            "an IPv4 row is not an IPv6 one"
        );
    }

    #[test]
    fn stat_with_spaces_and_parentheses_in_the_name() {
        let s = parse_stat("812 (postgres) S 1 812 812 0 -1 4194560 1744 0 0 0 2 3 0 0 20 0 1 0 2345 221523968 7080 18446744073709551615 1 1 0 0 0 0 0 4194304 0 0 0 0 17 0 0 0 0 0 0").unwrap();
        assert_eq!((s.pid, s.ppid, s.start_ticks), (812, 1, 2345));
        assert_eq!(s.comm, "postgres");
        let s =
            parse_stat("77 (a) b) c) R 5 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0").unwrap();
        assert_eq!(s.comm, "a) b) c");
        assert_eq!((s.ppid, s.start_ticks), (5, 99));
        assert!(parse_stat("12 (x) S 1 2 3").is_none());
    }

    #[test]
    fn status_cgroup_btime_fd() {
        assert_eq!(
            parse_status_euid(
                "Name:\tuvicorn\nUid:\t1001\t0\t0\t0\nGid:\t1001\t1001\t1001\t1001\n"
            ),
            Some(0)
        );
        assert_eq!(
            parse_cgroup_unit("0::/system.slice/avmvp-backend.service\n").as_deref(),
            Some("avmvp-backend.service")
        );
        assert_eq!(
            parse_cgroup_unit(
                "12:pids:/system.slice/x.service\n1:name=systemd:/system.slice/nginx.service\n"
            )
            .as_deref(),
            Some("nginx.service")
        );
        assert_eq!(
            parse_cgroup_unit("0::/system.slice/docker-0123abcd.scope\n").as_deref(),
            Some("docker-0123abcd.scope")
        );
        assert_eq!(parse_cgroup_unit("0::/\n"), None);
        assert_eq!(
            parse_btime("cpu  1 2 3\nbtime 1718000000\nprocesses 9\n"),
            Some(1718000000)
        );
        assert_eq!(socket_inode("socket:[31337]"), Some(31337));
        assert_eq!(socket_inode("pipe:[31337]"), None);
        assert_eq!(
            split_cmdline(b"/usr/bin/python3\0-m\0uvicorn\0"),
            ["/usr/bin/python3", "-m", "uvicorn"]
        );
    }

    proptest! {
        #[test]
        fn socket_rows_never_panic(s in "\\PC{0,200}", v6 in any::<bool>()) {
            let _ = parse_socket_row(&s, v6);
        }

        #[test]
        fn socket_rows_round_trip(a in any::<[u8; 4]>(), port in any::<u16>(), inode in any::<u64>(), uid in any::<u32>()) {
            let word = u32::from_ne_bytes(a);
            let line = format!("  0: {word:08X}:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 {uid} 0 {inode} 1 0 100 0 0 10 0");
            let r = parse_socket_row(&line, false).unwrap();
            prop_assert_eq!(r.local, IpAddr::V4(Ipv4Addr::from(a)));
            prop_assert_eq!(r.local_port, port);
            prop_assert_eq!(r.inode, inode);
            prop_assert_eq!(r.uid, uid);
        }

        #[test]
        fn ipv6_rows_round_trip(a in any::<[u8; 16]>(), port in any::<u16>()) {
            let hex: String = a.chunks(4).map(|c| format!("{:08X}", u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))).collect();
            let line = format!("  0: {hex}:{port:04X} {}:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1 0 100 0 0 10 0", "0".repeat(32));
            let r = parse_socket_row(&line, true).unwrap();
            prop_assert_eq!(r.local, IpAddr::V6(Ipv6Addr::from(a)));
            prop_assert_eq!(r.local_port, port);
        }

        #[test]
        fn stat_keeps_any_command_name(comm in "[^\\x00]{0,15}", ppid in any::<u32>(), start in any::<u64>()) {
            let text = format!("42 ({comm}) S {ppid} 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0");
            let s = parse_stat(&text).unwrap();
            prop_assert_eq!(s.comm, comm);
            prop_assert_eq!(s.ppid, ppid);
            prop_assert_eq!(s.start_ticks, start);
        }

        #[test]
        fn other_parsers_never_panic(s in "\\PC{0,300}") {
            let _ = parse_stat(&s);
            let _ = parse_status_euid(&s);
            let _ = parse_cgroup_unit(&s);
            let _ = parse_btime(&s);
            let _ = socket_inode(&s);
            let _ = split_cmdline(s.as_bytes());
        }
    }
}
