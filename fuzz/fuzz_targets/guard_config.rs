//! guard.toml: arbitrary text loads or fails with an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_guard::config::GuardConfig;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = GuardConfig::parse(&s, std::path::Path::new("fuzz.toml"));
});
