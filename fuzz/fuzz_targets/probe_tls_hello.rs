//! The raw TLS ServerHello/alert reader: never panics, never reads past the record it parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_probe::tls::hello::{client_hello, parse_reply, HelloReply, TLS12};

fuzz_target!(|data: &[u8]| {
    match parse_reply(data) {
        None => {}
        Some(HelloReply::ServerHello { .. }) | Some(HelloReply::Alert { .. }) => {
            assert!(data.len() >= 7);
        }
        Some(HelloReply::Other(_)) => {}
    }
    // A hello built from arbitrary suites is always well formed.
    let suites: Vec<u16> = data
        .chunks(2)
        .take(500)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
        .collect();
    if !suites.is_empty() {
        let h = client_hello(TLS12, &suites, Some("rempart.test"), [0; 32]);
        assert_eq!(h.len(), 5 + usize::from(u16::from_be_bytes([h[3], h[4]])));
    }
});
