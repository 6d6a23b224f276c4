//! /etc/crypttab, /etc/fstab and /proc/self/mountinfo: never panic; mount lookups stay sound.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::encryption::tables::{
    mount_of, parse_crypttab, parse_fstab, parse_mountinfo, unescape_octal,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (entries, _) = parse_crypttab(&text);
    for e in &entries {
        let _ = e.local_keyfile();
        assert!(!e.name.is_empty() && !e.device.is_empty());
    }
    let (mounts, _) = parse_fstab(&text);
    if let Some(m) = mount_of("/var/lib/postgresql/15/main", &mounts, |m| &m.mount_point) {
        let p = m.mount_point.trim_end_matches('/');
        assert!(p.is_empty() || "/var/lib/postgresql/15/main".starts_with(p));
    }
    let _ = parse_mountinfo(&text);
    let _ = unescape_octal(&text);
});
