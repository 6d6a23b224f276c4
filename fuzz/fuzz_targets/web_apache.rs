//! Apache configuration lexer, argument splitting and the protocol/header judgments fed by it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::web::{apache, tls};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(tree) = apache::lexer::parse("/etc/apache2/apache2.conf", &text) {
        for d in &tree {
            let _ = tls::apache_protocols(&d.args);
            let _ = apache::module_key(&d.name);
        }
        let _ = apache::https_redirect(&tree);
    }
});
