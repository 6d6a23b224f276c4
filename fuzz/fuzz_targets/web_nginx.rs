//! nginx configuration lexer and the queries rules run on its tree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::web::nginx;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(tree) = nginx::lexer::parse("/etc/nginx/nginx.conf", &text) {
        let _ = nginx::https_redirect(&tree);
        let _ = nginx::add_headers(&tree);
        let mut out = Vec::new();
        nginx::overriding_blocks(&tree, &mut out);
    }
});
