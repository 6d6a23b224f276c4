//! What psql and the mariadb client print (a hostile or broken server's answers): parsed or
//! rejected, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::database::live::{parse_my, parse_pg};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(pg) = parse_pg(&text) {
        assert!(!pg.version.is_empty());
    }
    if let Ok(my) = parse_my(&text) {
        assert!(!my.version.is_empty());
    }
});
