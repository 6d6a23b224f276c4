//! fail2ban's INI files: each part of the input is one file (configparser rules), merged in
//! order, then every option of the sshd jail interpolated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::intrusion::{fail2ban, ini};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut files = Vec::new();
    for (i, part) in text.split("\n%%\n").enumerate() {
        if let Ok(f) = ini::parse(&format!("/etc/fail2ban/jail.d/{i}.conf"), part) {
            files.push(f);
        }
    }
    let cfg = fail2ban::Fail2banConfig::from_files(&files);
    for jail in cfg.jails().map(str::to_string).collect::<Vec<_>>() {
        if let Ok(j) = cfg.jail(&jail) {
            let _ = (j.is_enabled(), j.backend_name(), j.logpaths(), j.action_names());
        }
    }
});
