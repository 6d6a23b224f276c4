//! Traefik YAML (static, dynamic and compose files) into the shared tree, and the compose
//! extraction on top of it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::web::traefik::{compose, tree};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(root) = tree::from_yaml(&text) {
        let _ = root.path("entrypoints.web.http.redirections.entrypoint.to");
        if let Some(services) = root.get("services") {
            for (_, svc) in services.entries() {
                let _ = compose::mounts(&root, svc, "/opt/app", "app");
                let _ = compose::flags(&compose::command_words(svc));
                let _ = compose::traefik_labels(svc);
            }
        }
    }
});
