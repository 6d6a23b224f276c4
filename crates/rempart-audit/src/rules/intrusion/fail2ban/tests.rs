//! Tests of the merged fail2ban configuration on small trees shaped like Debian 12's.

use super::*;
use proptest::prelude::*;
use std::fs;

/// The parts of Debian 12's fail2ban 1.0.2-2 defaults the rules depend on, in the same layout
/// (jail.conf includes paths-debian.conf, which includes paths-common.conf).
pub const JAIL_CONF: &str = "\
[INCLUDES]
before = paths-debian.conf

[DEFAULT]
bantime  = 10m
maxretry = 5
backend = auto
enabled = false
port = 0:65535
protocol = tcp
chain = <known/chain>
banaction = iptables-multiport
banaction_allports = iptables-allports
action_ = %(banaction)s[port=\"%(port)s\", protocol=\"%(protocol)s\", chain=\"%(chain)s\"]
action_mw = %(action_)s
            %(mta)s-whois[sender=\"%(sender)s\", dest=\"%(destemail)s\", protocol=\"%(protocol)s\", chain=\"%(chain)s\"]
mta = sendmail
sender = root@<fq-hostname>
destemail = root@localhost
action = %(action_)s

[sshd]
port    = ssh
logpath = %(sshd_log)s
backend = %(sshd_backend)s
";

pub const PATHS_COMMON: &str = "\
[INCLUDES]
after  = paths-overrides.local

[DEFAULT]
default_backend = %(default/backend)s
syslog_authpriv = /var/log/auth.log
sshd_log = %(syslog_authpriv)s
sshd_backend = %(default_backend)s
";

pub const PATHS_DEBIAN: &str = "\
[INCLUDES]
before = paths-common.conf
after  = paths-overrides.local

[DEFAULT]
syslog_mail = /var/log/mail.log
";

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let p = t.path().join(p.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    t
}

fn debian(extra: &[(&str, &str)]) -> Fail2banConfig {
    let mut files = vec![
        ("/etc/fail2ban/jail.conf", JAIL_CONF),
        ("/etc/fail2ban/paths-common.conf", PATHS_COMMON),
        ("/etc/fail2ban/paths-debian.conf", PATHS_DEBIAN),
        (
            "/etc/fail2ban/jail.d/defaults-debian.conf",
            "[sshd]\nenabled = true\n",
        ),
    ];
    files.extend_from_slice(extra);
    let t = tree(&files);
    load(&Host::tree(t.path()).unwrap()).unwrap().unwrap()
}

#[test]
fn debian_12_defaults() {
    let cfg = debian(&[]);
    assert_eq!(
        cfg.files,
        [
            "/etc/fail2ban/paths-common.conf",
            "/etc/fail2ban/paths-debian.conf",
            "/etc/fail2ban/jail.conf",
            "/etc/fail2ban/jail.d/defaults-debian.conf",
        ]
    );
    let j = cfg.jail("sshd").unwrap();
    assert!(j.is_enabled());
    assert_eq!(
        j.enabled.as_ref().unwrap().origin().path,
        "/etc/fail2ban/jail.d/defaults-debian.conf"
    );
    assert_eq!(j.backend_name(), "auto");
    // sshd's backend = %(sshd_backend)s -> %(default_backend)s -> %(default/backend)s -> auto
    let b = j.backend.as_ref().unwrap();
    assert_eq!(b.origin().line, 25);
    assert_eq!(b.trail.last().unwrap().1.value, "auto");
    assert_eq!(j.logpaths(), ["/var/log/auth.log"]);
    assert_eq!(j.action_names(), ["iptables-multiport"]);
}

#[test]
fn later_files_override_in_fail2bans_order() {
    let cfg = debian(&[
        (
            "/etc/fail2ban/jail.local",
            "[DEFAULT]\nbackend = systemd\nbanaction = nftables-multiport\n",
        ),
        (
            "/etc/fail2ban/jail.d/zz-late.conf",
            "[sshd]\nenabled = false\n",
        ),
        (
            "/etc/fail2ban/jail.d/aa-early.local",
            "[sshd]\nenabled = yes\n",
        ),
        (
            "/etc/fail2ban/jail.d/.hidden.local",
            "[sshd]\nenabled = false\n",
        ),
    ]);
    let j = cfg.jail("sshd").unwrap();
    // .conf files first (zz-late disables), then jail.local, then .local drop-ins (re-enable).
    assert!(j.is_enabled());
    assert_eq!(
        j.enabled.as_ref().unwrap().origin().path,
        "/etc/fail2ban/jail.d/aa-early.local"
    );
    // A [DEFAULT] backend in jail.local reaches sshd through the %(default/backend)s chain.
    assert_eq!(j.backend_name(), "systemd");
    assert_eq!(j.action_names(), ["nftables-multiport"]);
}

#[test]
fn seed_002_jail_local_conf() {
    let cfg = debian(&[(
        "/etc/fail2ban/jail.d/local.conf",
        "[sshd]\nenabled = true\nport    = ssh\nfilter  = sshd\nlogpath = /var/log/auth.log\nmaxretry = 5\n",
    )]);
    let j = cfg.jail("sshd").unwrap();
    assert_eq!(j.backend_name(), "auto");
    assert_eq!(
        j.logpath.as_ref().unwrap().origin().path,
        "/etc/fail2ban/jail.d/local.conf"
    );
}

#[test]
fn known_and_section_references() {
    let cfg = debian(&[(
        "/etc/fail2ban/jail.local",
        "[sshd]\nlogpath = %(known/logpath)s\n          /var/log/sshd-extra.log tail\naction = %(action_mw)s\n",
    )]);
    let j = cfg.jail("sshd").unwrap();
    assert_eq!(
        j.logpaths(),
        ["/var/log/auth.log", "/var/log/sshd-extra.log"]
    );
    assert_eq!(j.action_names(), ["iptables-multiport", "sendmail-whois"]);
}

#[test]
fn inline_hash_is_not_a_comment_so_the_jail_is_off() {
    let cfg = debian(&[(
        "/etc/fail2ban/jail.local",
        "[sshd]\nenabled = true # protect ssh\n",
    )]);
    let j = cfg.jail("sshd").unwrap();
    assert!(!j.is_enabled());
}

#[test]
fn interpolation_errors_name_the_setting() {
    let cfg = debian(&[(
        "/etc/fail2ban/jail.local",
        "[sshd]\nbackend = %(nope)s\naction = 100%\n",
    )]);
    let e = cfg.jail("sshd").unwrap_err();
    assert_eq!(
        (e.setting.path.as_str(), e.setting.line),
        ("/etc/fail2ban/jail.local", 2)
    );
    assert!(e.message.contains("nope"), "{e}");
    let cfg = debian(&[(
        "/etc/fail2ban/jail.local",
        "[sshd]\nbackend = %(a)s\na = %(b)s\nb = %(a)s\n",
    )]);
    assert!(cfg.jail("sshd").unwrap_err().message.contains("levels"));
}

#[test]
fn doubling_references_stop_at_a_size_limit() {
    let mut text =
        String::from("[DEFAULT]\nv0 = 0123456789abcdef0123456789abcdef0123456789abcdef\n");
    for i in 1..10 {
        text.push_str(&format!(
            "v{i} = %(v{})s%(v{})s%(v{})s%(v{})s\n",
            i - 1,
            i - 1,
            i - 1,
            i - 1
        ));
    }
    text.push_str("[sshd]\nbackend = %(v9)s\n");
    let t = tree(&[("/etc/fail2ban/jail.conf", text.as_str())]);
    let cfg = load(&Host::tree(t.path()).unwrap()).unwrap().unwrap();
    let e = cfg.get("sshd", "backend").unwrap_err();
    assert!(e.message.contains("grows past"), "{e}");
}

#[test]
fn unreadable_configurations_are_errors() {
    let t = tree(&[(
        "/etc/fail2ban/jail.local",
        "[sshd]\nenabled = true\nenabled = false\n",
    )]);
    let e = load(&Host::tree(t.path()).unwrap()).unwrap_err();
    assert!(matches!(e, LoadError::Ini(ref i) if i.line == 3), "{e}");
    let t = tempfile::tempdir().unwrap();
    fs::create_dir_all(t.path().join("etc/fail2ban")).unwrap();
    fs::write(
        t.path().join("etc/fail2ban/jail.local"),
        b"[sshd]\nenabled = \xff\n",
    )
    .unwrap();
    let e = load(&Host::tree(t.path()).unwrap()).unwrap_err();
    assert!(matches!(e, LoadError::NotUtf8(_)), "{e}");
    let t = tree(&[(
        "/etc/fail2ban/jail.conf",
        "[INCLUDES]\nbefore = jail.conf\n[sshd]\nenabled = true\n",
    )]);
    assert!(load(&Host::tree(t.path()).unwrap())
        .unwrap()
        .unwrap()
        .jail("sshd")
        .unwrap()
        .is_enabled());
}

#[test]
fn action_lists_split_into_names() {
    assert_eq!(
        split_actions(
            "nftables[type=multiport, port=\"ssh,sftp\"]\n  sendmail-whois[dest=\"a]b\"] route"
        ),
        ["nftables", "sendmail-whois", "route"]
    );
    assert!(split_actions("").is_empty());
}

proptest! {
    #[test]
    fn interpolation_never_panics(value in "[%()a-z/_ s]{0,40}") {
        let text = format!("[DEFAULT]\na = x\nb = %(a)s\n[sshd]\nv = {value}\n");
        let t = tree(&[("/etc/fail2ban/jail.conf", text.as_str())]);
        if let Ok(Some(cfg)) = load(&Host::tree(t.path()).unwrap()) {
            let _ = cfg.get("sshd", "v");
        }
    }

    #[test]
    fn split_actions_never_panics(s in "\\PC{0,80}") {
        let _ = split_actions(&s);
    }
}
