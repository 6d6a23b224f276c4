//! The nft configuration parser (`/etc/nftables.conf`), with includes answered from the input
//! itself, and the evaluator on whatever parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::firewall::{eval, nft};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (main, included) = text.split_once("\n%%\n").unwrap_or((&text, ""));
    let mut include = |spec: &str| -> Result<nft::Included, nft::IncludeFailure> {
        if spec.contains('*') {
            Ok(vec![("/etc/nftables.d/x.nft".to_string(), included.to_string())])
        } else {
            Err(nft::IncludeFailure::NotFound(spec.to_string()))
        }
    };
    if let Ok(rs) = nft::parse("/etc/nftables.conf", main, &mut include) {
        let _ = eval::analyse(&rs);
    }
});
