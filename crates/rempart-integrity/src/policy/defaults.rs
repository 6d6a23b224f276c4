//! The built-in policy: what matters on the hosts of the hardening guides (Debian servers,
//! Raspberry Pis) without writing any configuration.

use super::{Policy, RuleSpec};
use crate::hash::HashAlgo;

/// Never recorded by any rule: logs, caches, volatile and virtual trees, rempart's own state.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "/var/lib/rempart",
    "/var/log",
    "/var/cache",
    "/var/tmp",
    "/tmp",
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "**/*.swp",
];

/// Application directories watched on every host (when present): where the guides' hosts keep
/// their applications.
pub const DEFAULT_APP_DIRS: &[&str] = &["/opt", "/srv", "/var/www"];

/// What an application directory records: its code and configuration, not its logs, caches,
/// temporary files or version-control internals.
pub fn app_rule(path: &str) -> RuleSpec {
    RuleSpec::new(path, &["content"]).excluding(&[
        "**/log",
        "**/logs",
        "**/*.log",
        "**/cache",
        "**/.cache",
        "**/tmp",
        "**/__pycache__",
        "**/*.pyc",
        "**/.git",
        "**/node_modules/.cache",
    ])
}

/// The built-in policy, with application directories found elsewhere (the audit's discovery,
/// the configuration's `app_dirs`) added as [`app_rule`]s. BLAKE3 content hashes.
pub fn default_policy(extra_app_dirs: &[String]) -> Policy {
    let content = |p: &str| RuleSpec::new(p, &["content"]);
    let mut rules = vec![
        content("/boot"),
        // Rewritten by GRUB at boot (recordfail); only its ownership and mode matter.
        RuleSpec::new("/boot/grub/grubenv", &["perms"]),
        content("/etc").excluding(&[
            "mtab",
            "adjtime",
            "fake-hwclock.data",
            ".pwd.lock",
            ".updated",
        ]),
        // Rewritten by DHCP clients and resolvers; a changed owner, mode or link is still news.
        RuleSpec::new("/etc/resolv.conf", &["perms", "target"]),
        // The HMAC key: never hash it into the baseline; watch who may read it.
        RuleSpec::new("/etc/rempart/integrity.key", &["perms"]),
    ];
    // Binaries and libraries. On merged-/usr systems (Debian 12) /bin, /sbin, /lib* are
    // symbolic links into /usr: they are recorded as links (a re-pointed link is reported) and
    // their targets are watched under /usr.
    for p in [
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/usr/bin",
        "/usr/sbin",
        "/usr/lib",
        "/usr/lib32",
        "/usr/lib64",
        "/usr/libx32",
        "/usr/libexec",
        "/usr/local",
    ] {
        rules.push(content(p));
    }
    // Scheduled jobs (system crontabs live in /etc), users' keys and shells' start-up files.
    for p in [
        "/var/spool/cron",
        "/root/.ssh",
        "/root/.bashrc",
        "/root/.profile",
        "/root/.config/systemd",
        "/home/*/.ssh",
        "/home/*/.config/systemd",
    ] {
        rules.push(content(p));
    }
    let mut apps: Vec<String> = DEFAULT_APP_DIRS.iter().map(|s| s.to_string()).collect();
    for d in extra_app_dirs {
        let d = d.trim_end_matches('/');
        if !d.is_empty() && !apps.iter().any(|a| a == d) {
            apps.push(d.to_string());
        }
    }
    rules.extend(apps.iter().map(|a| app_rule(a)));
    Policy {
        hash: HashAlgo::Blake3,
        exclude: DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect(),
        rules,
    }
}
