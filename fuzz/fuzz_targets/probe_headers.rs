//! Security header parsers (HSTS, CSP, Set-Cookie) and the port-scan target and port list
//! parsers: never panic; what they accept keeps its invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_probe::http::headers::{parse_csp, parse_hsts, parse_set_cookie, weak_script_sources};
use rempart_probe::ports::target::{check_single_host, PortSpec};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let h = parse_hsts(&s);
    if h.max_age.is_some() {
        assert!(s.to_ascii_lowercase().contains("max-age"));
    }
    let csp = parse_csp(&s);
    for (name, _) in &csp.directives {
        assert_eq!(name, &name.to_ascii_lowercase());
        assert!(!name.is_empty());
    }
    if let Some(src) = csp.script_sources() {
        let _ = weak_script_sources(src);
    }
    if let Some(c) = parse_set_cookie(&s) {
        assert!(!c.name.is_empty());
        assert!(s.contains(&c.name));
    }
    if let Ok(Some(ip)) = check_single_host(&s) {
        assert!(!ip.is_unspecified());
    }
    if let Ok(p) = PortSpec::parse(&s) {
        assert!(p.iter().all(|x| x != 0));
        assert_eq!(PortSpec::parse(&p.to_string()).unwrap(), p);
    }
});
