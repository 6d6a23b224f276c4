//! A tree of three sshd_config files that include each other (the input is split on NUL bytes),
//! read through a root-tree `Host`: Include globbing, depth limits and Match-in-Include must
//! never panic or loop.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::ssh::{load, SshdConfig};
use rempart_audit::Host;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0);
    let Ok(dir) = tempfile::tempdir() else { return };
    let ssh = dir.path().join("etc/ssh/sshd_config.d");
    if std::fs::create_dir_all(&ssh).is_err() {
        return;
    }
    let names = [
        "etc/ssh/sshd_config",
        "etc/ssh/sshd_config.d/10-a.conf",
        "etc/ssh/extra.conf",
    ];
    for name in names {
        let content = parts.next().unwrap_or_default();
        if std::fs::write(dir.path().join(name), content).is_err() {
            return;
        }
    }
    let Ok(host) = Host::tree(dir.path()) else {
        return;
    };
    if let SshdConfig::Loaded(l) = load(&host, None) {
        if let Ok(eff) = &l.default {
            let _ = eff.dump();
        }
    }
});
