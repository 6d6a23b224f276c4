//! ufw's files: `/etc/default/ufw` assignments, `### tuple ###` comments, and the rules files
//! assembled into a ruleset and evaluated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::firewall::{eval, ufw};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Split the input into the settings file and two rules files.
    let mut parts = text.splitn(3, "\n%%\n");
    let defaults = parts.next().unwrap_or("");
    let user = parts.next().unwrap_or("");
    let before = parts.next().unwrap_or("");
    let a = ufw::parse_assignments("/etc/default/ufw", defaults);
    for (i, line) in user.lines().enumerate() {
        let _ = ufw::parse_tuple("/etc/ufw/user.rules", i as u32 + 1, line);
    }
    let get = |k: &str| a.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let mut settings = ufw::Ufw {
        enabled: None,
        input_policy: get("DEFAULT_INPUT_POLICY"),
        ipv6: get("IPV6"),
        tuples: Vec::new(),
    };
    let texts = vec![
        ("/etc/ufw/before.rules".to_string(), before.to_string()),
        ("/etc/ufw/user.rules".to_string(), user.to_string()),
        ("/etc/ufw/user6.rules".to_string(), user.to_string()),
    ];
    if let Ok(rs) = ufw::build_ruleset(&mut settings, &texts) {
        let _ = eval::analyse(&rs);
    }
});
