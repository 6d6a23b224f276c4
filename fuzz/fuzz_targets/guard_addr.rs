//! Differential: guard's own address parser against the standard library's on arbitrary text
//! (exact tokens, brackets, IPv4-mapped forms), and a syslog split carried as spans gives back
//! the same envelope as splitting the line again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_guard::addr::{canonical, parse_ip};
use rempart_guard::filters::syslog;
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ours = parse_ip(&text);
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(&text);
    match bare.parse::<IpAddr>() {
        // Anything std reads (up to the longest address text) is read the same, IPv4-mapped
        // IPv6 coming back as IPv4; anything it refuses is refused.
        Ok(std) if bare.len() <= 45 => assert_eq!(ours, Some(canonical(std)), "{bare}"),
        _ => assert!(ours.is_none(), "{bare}"),
    }
    for opt in [false, true] {
        let direct = syslog::parse(&text, opt);
        let via = syslog::spans(&text, opt).and_then(|s| s.envelope(&text));
        assert_eq!(direct, via);
    }
});
