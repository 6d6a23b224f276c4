//! One sshd_config text: parse it, evaluate it for a few connections, print it like `sshd -T`.
//! Nothing may panic, and every directive must point at a line of the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::ssh::config::ParsedConfig;
use rempart_audit::rules::ssh::effective::Effective;
use rempart_audit::rules::ssh::matching::Conn;
use rempart_audit::rules::ssh::values::ParseEnv;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let cfg = ParsedConfig::parse_str("/etc/ssh/sshd_config", &text, &ParseEnv::default());
    let lines = text.split('\n').count();
    for d in &cfg.directives {
        assert!(d.line >= 1 && d.line as usize <= lines);
    }
    let groups = |u: &str| (u == "root").then(|| vec!["root".to_string()]);
    for spec in [
        "",
        "user=root,host=h.example,addr=10.0.0.1,lport=22",
        "user=x,addr=::1",
    ] {
        let conn = Conn::parse(spec).unwrap_or_default();
        for strict in [false, true] {
            if let Ok(eff) = Effective::compute(&cfg, &conn, &groups, strict, "/root") {
                for (kw, value) in eff.dump() {
                    assert!(!kw.name().is_empty());
                    assert!(
                        !value.contains('\n')
                            || kw.name() == "forcecommand"
                            || kw.name() == "banner"
                    );
                }
            }
        }
    }
});
