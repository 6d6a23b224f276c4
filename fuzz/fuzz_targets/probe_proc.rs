//! procfs parsers of the live facts (socket tables, stat, status, cgroup, btime): never panic; a
//! socket row that parses prints back to the same address and port.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::services::live::procfs::*;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        for v6 in [false, true] {
            if let Some(r) = parse_socket_row(line, v6) {
                assert_eq!(r.local.is_ipv6(), v6);
                let shown = show_addr(r.local, r.local_port);
                assert!(shown.ends_with(&format!(":{}", r.local_port)));
                let _ = is_loopback(r.local);
            }
        }
    }
    if let Some(s) = parse_stat(&text) {
        assert!(text.contains(&s.comm));
    }
    let _ = parse_status_euid(&text);
    if let Some(u) = parse_cgroup_unit(&text) {
        assert!(u.ends_with(".service") || u.ends_with(".scope"));
        assert!(!u.contains('/'));
    }
    let _ = parse_btime(&text);
    let _ = socket_inode(&text);
    let words = split_cmdline(data);
    assert!(words.iter().all(|w| !w.is_empty() && !w.contains('\0')));
});
