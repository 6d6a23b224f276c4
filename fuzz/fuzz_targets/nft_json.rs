//! `nft -j list ruleset` output and the `nft list ruleset` text listing, as the live firewall
//! check reads them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::firewall::{eval, live};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(rs) = live::from_json(&text) {
        let _ = eval::analyse(&rs);
    }
    if let Ok(rs) = live::from_listing(&text) {
        let _ = eval::analyse(&rs);
    }
});
