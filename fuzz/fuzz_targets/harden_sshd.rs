//! The ssh fixes of `rempart harden` on hostile sshd configurations: a main file, a drop-in and
//! an extra file (the input split on NUL bytes) in a root tree. Planning must never panic, and
//! once the planned files are written, planning again must not panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::engine::{AuditOptions, Selector};
use rempart_audit::{AuditConfig, Family, Host};
use rempart_harden::change::FileState;

fn plan(root: &std::path::Path) -> Option<rempart_harden::Plan> {
    let host = Host::tree(root).ok()?;
    let opts = AuditOptions {
        only: vec![Selector::Family(Family::Ssh)],
        ..AuditOptions::default()
    };
    rempart_harden::plan(&host, &AuditConfig::default(), &opts)
        .ok()
        .map(|(p, _)| p)
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0);
    let Ok(dir) = tempfile::tempdir() else { return };
    if std::fs::create_dir_all(dir.path().join("etc/ssh/sshd_config.d")).is_err() {
        return;
    }
    for name in [
        "etc/ssh/sshd_config",
        "etc/ssh/sshd_config.d/10-a.conf",
        "etc/ssh/extra.conf",
    ] {
        let content = parts.next().unwrap_or_default();
        if std::fs::write(dir.path().join(name), content).is_err() {
            return;
        }
    }
    let Some(p) = plan(dir.path()) else { return };
    for c in &p.changes {
        if let FileState::File { content, .. } = &c.after {
            let _ = std::fs::write(dir.path().join(c.path.trim_start_matches('/')), content);
        }
    }
    let _ = plan(dir.path());
});
