//! iptables-save files (`/etc/iptables/rules.v4`, `rules.v6`) and the evaluator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::firewall::model::Ip;
use rempart_audit::rules::firewall::{eval, iptables};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for ip in Ip::BOTH {
        if let Ok(rs) = iptables::parse("/etc/iptables/rules.v4", &text, ip) {
            let _ = eval::analyse(&rs);
        }
    }
});
