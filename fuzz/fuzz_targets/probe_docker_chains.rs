//! Docker's chains from nft JSON and iptables-save text: never panic; every published port
//! found can be judged against DOCKER-USER.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::firewall::docker::chains::{filtering, from_iptables_save, from_nft_json};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for d in [from_iptables_save(&text, "fuzz"), from_nft_json(&text).unwrap_or_default()] {
        for p in &d.published {
            assert!(p.port > 0 || text.contains('0'));
            let _ = p.local_only();
            let _ = p.container_port();
            let _ = filtering(d.user.as_deref(), p);
        }
    }
});
