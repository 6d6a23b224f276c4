//! MariaDB option files: never panic; lookups on the parsed options never panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::database::mycnf::{parse, server_groups, MyConfig, MyItem, MyOption};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (lines, _errors) = parse("/etc/mysql/my.cnf", &text);
    let mut cfg = MyConfig::default();
    let mut group = String::new();
    for l in lines {
        match l.item {
            MyItem::Group(g) => group = g,
            MyItem::Option { name, value } => {
                assert!(!name.contains('_'));
                cfg.options.push(MyOption {
                    group: group.clone(),
                    name,
                    value,
                    path: "/f".into(),
                    line: l.line,
                    text: l.text,
                });
            }
            _ => {}
        }
    }
    let g = server_groups(Some("10.11"));
    for opt in ["bind-address", "local-infile", "symbolic-links", "skip-networking"] {
        let _ = cfg.effective(opt, &g);
        let _ = cfg.flag(opt, &g);
    }
});
