//! Traefik TOML files into the shared tree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::web::traefik::tree;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(root) = tree::from_toml(&text) {
        let _ = root.path("tls.options.default.minversion");
    }
});
