//! sysctl.d parsing and systemd-sysctl merging: never panics; every key is in slash form; a
//! key read back from the merged configuration carries a value the file set.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::kernel::sysctl::{Applier, Configured, SysctlConfig};
use rempart_audit::rules::kernel::sysctl_d::{self, display, glob_matches, normalize, Entry};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Two files: the input, then its second half again (later assignments override).
    let half = &text[text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(0, |(i, _)| i)..];
    let cfg = SysctlConfig::from_texts(
        Applier::Systemd,
        &[
            ("/etc/sysctl.d/a.conf", &text),
            ("/etc/sysctl.d/b.conf", half),
        ],
    );
    for e in sysctl_d::parse(&text) {
        if let Entry::Assign(a) = e {
            assert!(!a.key.is_empty() && !a.key.starts_with('/') && !a.key.contains("//"));
            let _ = display(&a.key);
            let _ = normalize(&a.key);
            let _ = glob_matches(&a.key, "net/ipv4/conf/all/rp_filter");
            if let Configured::Set(p) = cfg.configured(&a.key) {
                assert!(p.value.is_some());
            }
        }
    }
    for (k, p) in cfg.explicit() {
        assert!(!k.is_empty());
        assert!(p.file < cfg.files.len());
    }
});
