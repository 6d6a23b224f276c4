//! logrotate configuration: the parser and glob coverage never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::logging::logrotate;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let p = logrotate::parse("/etc/logrotate.d/fuzz", &text);
    for s in &p.stanzas {
        for pat in &s.patterns {
            let _ = logrotate::matches(pat, "/var/log/app/app.log");
        }
    }
});
