use super::*;
use crate::attrs::Attr;
use crate::entry::Kind;
use proptest::prelude::*;

#[test]
fn default_policy_compiles_and_round_trips() {
    let p = default_policy(&["/opt/av-monitoring-mvp".to_string()]);
    let c = p.compile().unwrap();
    assert!(c.rules().iter().any(|r| r.path == b"/etc"));
    assert!(c
        .rules()
        .iter()
        .any(|r| r.path == b"/opt/av-monitoring-mvp"));
    let back = Policy::from_toml("x", &p.to_toml()).unwrap();
    assert_eq!(back, p);
    assert_eq!(back.digest(), p.digest());
    // An excluded directory is pruned: nothing beneath it is visited.
    assert!(c.excluded(b"/var/log"));
    assert!(!c.excluded(b"/etc/passwd"));
    assert!(c.excluded(b"/etc/.sshd_config.swp"));
}

#[test]
fn glob_rule_paths_and_relative_rule_globs() {
    let p = default_policy(&[]);
    let c = p.compile().unwrap();
    let ssh = c
        .rules()
        .iter()
        .find(|r| r.path == b"/home/*/.ssh")
        .unwrap();
    assert!(ssh.has_glob());
    assert!(ssh.components[1].matches(b"alice"));
    assert!(!ssh.components[2].matches(b"ssh"));
    let opt = c.rules().iter().find(|r| r.path == b"/opt").unwrap();
    assert!(opt.excludes(b"app/logs"));
    assert!(opt.excludes(b"logs"));
    assert!(opt.excludes(b"app/x/server.log"));
    assert!(!opt.excludes(b"app/bin/server"));
    let etc = c.rules().iter().find(|r| r.path == b"/etc").unwrap();
    assert!(etc.excludes(b"mtab") && !etc.excludes(b"ssh/mtab"));
}

#[test]
fn attrs_by_kind() {
    let c = default_policy(&[]).compile().unwrap();
    let etc = c.rules().iter().find(|r| r.path == b"/etc").unwrap();
    assert!(etc.attrs_for(Kind::File).contains(Attr::Hash));
    assert!(!etc.attrs_for(Kind::Symlink).contains(Attr::Hash));
    assert!(etc.attrs_for(Kind::Symlink).contains(Attr::Target));
    assert!(!etc.attrs_for(Kind::Dir).contains(Attr::Mtime));
    let key = c
        .rules()
        .iter()
        .find(|r| r.path == b"/etc/rempart/integrity.key")
        .unwrap();
    assert!(!key.attrs_for(Kind::File).contains(Attr::Hash));
}

#[test]
fn config_extends_or_replaces_the_defaults() {
    let cfg = IntegrityConfig::parse(
        "integrity.toml",
        r#"
hash = "sha256"
app_dirs = ["/srv/app"]
exclude = ["/etc/cups/subscriptions.conf*"]
max_baseline_age_days = 14

[[rule]]
path = "/etc"
attrs = ["content", "-mtime"]
exclude = ["mtab"]

[[rule]]
path = "/var/lib/app/uploads"
attrs = ["perms"]
recurse = false
"#,
    )
    .unwrap();
    let p = cfg.policy(&["/opt/discovered".to_string()]);
    assert_eq!(p.hash, crate::hash::HashAlgo::Sha256);
    let c = p.compile().unwrap();
    let etc: Vec<_> = c.rules().iter().filter(|r| r.path == b"/etc").collect();
    assert_eq!(
        etc.len(),
        1,
        "the later /etc rule replaces the built-in one"
    );
    assert!(!etc[0].attrs.files.contains(Attr::Mtime));
    assert!(c.rules().iter().any(|r| r.path == b"/opt/discovered"));
    assert!(c.rules().iter().any(|r| r.path == b"/srv/app"));
    assert!(c.excluded(b"/etc/cups/subscriptions.conf.O"));
    assert_eq!(cfg.max_baseline_age_days(), 14);
    assert_eq!(cfg.max_check_age_days(), DEFAULT_MAX_CHECK_AGE_DAYS);

    let only =
        IntegrityConfig::parse("x", "defaults = false\n[[rule]]\npath = \"/srv/www\"\n").unwrap();
    let c = only.policy(&[]).compile().unwrap();
    assert_eq!(c.rules().len(), 1);
    assert_eq!(c.rules()[0].attrs.files, crate::attrs::AttrSet::ALL);
}

#[test]
fn bad_configurations_are_reported_with_their_place() {
    let e =
        IntegrityConfig::parse("/etc/rempart/integrity.toml", "hashh = \"sha256\"\n").unwrap_err();
    assert!(e.to_string().contains("hashh"), "{e}");
    let e = IntegrityConfig::parse("x", "hash = \"md5\"\n").unwrap_err();
    assert!(e.to_string().contains("md5"), "{e}");
    let e = IntegrityConfig::parse("x", "[[rule]]\npath = \"etc\"\n").unwrap_err();
    assert!(e.to_string().contains("absolute"), "{e}");
    let e = IntegrityConfig::parse("x", "[[rule]]\npath = \"/etc/../root\"\n").unwrap_err();
    assert!(e.to_string().contains(".."), "{e}");
    let e =
        IntegrityConfig::parse("x", "[[rule]]\npath = \"/etc\"\nattrs = [\"md5\"]\n").unwrap_err();
    assert!(e.to_string().contains("unknown attribute"), "{e}");
    let e =
        IntegrityConfig::parse("x", "[[rule]]\npath = \"/etc\"\nexclude = [\"[\"]\n").unwrap_err();
    assert!(e.to_string().contains("/etc"), "{e}");
    let e = IntegrityConfig::parse("x", "exclude = [\"var/log\"]\n").unwrap_err();
    assert!(e.to_string().contains("absolute"), "{e}");
    let e = IntegrityConfig::parse("x", "baseline = \"baseline\"\n").unwrap_err();
    assert!(e.to_string().contains("absolute"), "{e}");
}

fn arb_rule() -> impl Strategy<Value = RuleSpec> {
    (
        "(/[a-z*]{1,6}){1,3}",
        proptest::sample::subsequence(vec!["content", "perms", "mode", "-mtime", "hash"], 0..3),
        proptest::collection::vec("[a-z*]{1,5}", 0..2),
        any::<bool>(),
    )
        .prop_map(|(path, attrs, exclude, recurse)| RuleSpec {
            path,
            attrs: attrs.into_iter().map(String::from).collect(),
            include: Vec::new(),
            exclude,
            recurse,
        })
}

proptest! {
    #[test]
    fn config_parser_never_panics(s in "\\PC{0,400}") {
        let _ = IntegrityConfig::parse("fuzz", &s);
        let _ = Policy::from_toml("fuzz", &s);
    }

    #[test]
    fn policies_round_trip_through_their_canonical_text(
        rules in proptest::collection::vec(arb_rule(), 0..5),
        hash in proptest::sample::select(crate::hash::HashAlgo::ALL.to_vec()),
    ) {
        let p = Policy { hash, exclude: vec!["/var/log".into()], rules };
        let back = Policy::from_toml("x", &p.to_toml()).unwrap();
        prop_assert_eq!(back.digest(), p.digest());
        prop_assert_eq!(back, p);
    }
}
