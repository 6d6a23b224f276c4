//! Docker compose files: YAML, interpolation and the service model never panic; nor do the
//! socket rule's judgments (socket mounts, proxies) on whatever they parse to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::app::env::EnvEntry;
use rempart_audit::rules::containers::{compose, docker_socket};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lookup = |k: &str| {
        (k.len() % 3 == 0).then(|| EnvEntry {
            key: k.to_string(),
            value: format!("${{{k}}}:{k}"),
            path: "/srv/stack/.env".into(),
            line: 1,
            text: String::new(),
        })
    };
    let read = |_: &str| Some(text.to_string());
    let f = compose::parse("/srv/stack/docker-compose.yml", &text, &lookup, &read);
    for s in &f.services {
        let _ = s.image_name();
        for v in docker_socket::socket_mounts(s) {
            assert!(v.is_bind());
        }
        if docker_socket::is_proxy(s) {
            for e in docker_socket::proxy_problems(&f, s) {
                assert!(e.key.is_some());
            }
        }
        for p in &s.ports {
            let _ = p.all_interfaces();
            let _ = p.host_ports();
        }
    }
});
