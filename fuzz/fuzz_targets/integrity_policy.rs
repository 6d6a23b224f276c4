//! The integrity configuration parser (TOML, then paths, globs and attribute names): no panic,
//! and an accepted configuration's policy survives its canonical text unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_integrity::policy::{IntegrityConfig, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = IntegrityConfig::parse("fuzz", text) {
        let p = cfg.policy(&["/opt/app".to_string()]);
        let back = Policy::from_toml("canonical", &p.to_toml()).expect("canonical text parses");
        assert_eq!(back, p);
        assert_eq!(back.digest(), p.digest());
        let _ = p.compile();
    }
    let _ = Policy::from_toml("fuzz", text).map(|p| p.compile());
});
