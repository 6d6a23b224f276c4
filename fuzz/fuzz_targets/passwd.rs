//! passwd, group, shadow and login.defs: never panic on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::host::{parse_group, parse_passwd, parse_shadow};
use rempart_audit::rules::accounts::login_defs_value;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for u in parse_passwd(&text) {
        let _ = u.has_login_shell();
    }
    let _ = parse_group(&text);
    for s in parse_shadow(&text) {
        let _ = s.password_usable();
    }
    let _ = login_defs_value(&text, "UID_MIN");
});
