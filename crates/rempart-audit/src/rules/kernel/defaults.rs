//! What the kernel uses when no sysctl file sets a key: the values the Linux code initialises
//! (checked on Debian 12's 6.1 kernel) and, for `kernel.dmesg_restrict`, the build option of the
//! host's installed kernel (`/boot/config-*`), which Debian sets to `y`.

use crate::facts::packages::compare_versions;
use crate::host::Host;

/// A kernel default and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelDefault {
    pub value: String,
    /// Shown with the evidence (`kernel default`, `CONFIG_SECURITY_DMESG_RESTRICT=y in ...`).
    pub note: String,
    /// The file the default was read from (`/boot/config-*`), if any.
    pub path: Option<String>,
}

/// Defaults set by the kernel code itself (slash keys). `net.ipv4.conf.default.accept_source_route`
/// really is 1 while `all` is 0.
const TABLE: &[(&str, &str)] = &[
    ("net/ipv4/tcp_syncookies", "1"),
    ("net/ipv4/ip_forward", "0"),
    ("net/ipv4/conf/all/forwarding", "0"),
    ("net/ipv4/conf/default/forwarding", "0"),
    ("net/ipv6/conf/all/forwarding", "0"),
    ("net/ipv6/conf/default/forwarding", "0"),
    ("net/ipv4/conf/all/accept_source_route", "0"),
    ("net/ipv4/conf/default/accept_source_route", "1"),
    ("net/ipv6/conf/all/accept_source_route", "0"),
    ("net/ipv6/conf/default/accept_source_route", "0"),
    ("net/ipv4/conf/all/accept_redirects", "1"),
    ("net/ipv4/conf/default/accept_redirects", "1"),
    ("net/ipv4/conf/all/secure_redirects", "1"),
    ("net/ipv4/conf/default/secure_redirects", "1"),
    ("net/ipv6/conf/all/accept_redirects", "1"),
    ("net/ipv6/conf/default/accept_redirects", "1"),
    ("net/ipv4/conf/all/send_redirects", "1"),
    ("net/ipv4/conf/default/send_redirects", "1"),
    ("net/ipv4/conf/all/log_martians", "0"),
    ("net/ipv4/conf/default/log_martians", "0"),
    ("net/ipv4/conf/all/rp_filter", "0"),
    ("net/ipv4/conf/default/rp_filter", "0"),
    ("net/ipv6/conf/all/disable_ipv6", "0"),
    ("net/ipv6/conf/default/disable_ipv6", "0"),
    ("kernel/randomize_va_space", "2"),
    ("kernel/kptr_restrict", "0"),
    ("fs/suid_dumpable", "0"),
    ("kernel/core_pattern", "core"),
];

const DMESG_KEY: &str = "kernel/dmesg_restrict";
const DMESG_OPTION: &str = "CONFIG_SECURITY_DMESG_RESTRICT";

/// The default of `key` (slash form) on this host, when known.
pub fn kernel_default(host: &Host, key: &str) -> Option<KernelDefault> {
    if key == DMESG_KEY {
        return Some(dmesg_default(host));
    }
    TABLE
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| KernelDefault {
            value: (*v).to_string(),
            note: "kernel default: no sysctl file sets it".into(),
            path: None,
        })
}

/// `kernel.dmesg_restrict` starts at the value of `CONFIG_SECURITY_DMESG_RESTRICT`: read it from
/// the newest `/boot/config-*`, else assume Debian's build (`y`).
fn dmesg_default(host: &Host) -> KernelDefault {
    let newest = host
        .read_dir("/boot")
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| n.strip_prefix("config-").map(str::to_string))
        .max_by(|a, b| compare_versions(a, b));
    if let Some(version) = newest {
        let path = format!("/boot/config-{version}");
        if let Ok(Some(f)) = host.read_text(&path) {
            let on = f
                .text
                .lines()
                .any(|l| l.trim() == format!("{DMESG_OPTION}=y"));
            return KernelDefault {
                value: if on { "1" } else { "0" }.into(),
                note: format!(
                    "kernel default: {DMESG_OPTION}={} in {path}",
                    if on { "y" } else { "n" }
                ),
                path: Some(path),
            };
        }
    }
    KernelDefault {
        value: "1".into(),
        note: format!("kernel default: Debian kernels are built with {DMESG_OPTION}=y"),
        path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn dmesg_default_follows_the_newest_installed_kernel_config() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("boot")).unwrap();
        fs::write(
            dir.path().join("boot/config-6.1.0-9-amd64"),
            "CONFIG_SECURITY_DMESG_RESTRICT=y\n",
        )
        .unwrap();
        fs::write(
            dir.path().join("boot/config-6.1.0-30-amd64"),
            "# CONFIG_SECURITY_DMESG_RESTRICT is not set\n",
        )
        .unwrap();
        let host = Host::tree(dir.path()).unwrap();
        let d = kernel_default(&host, DMESG_KEY).unwrap();
        assert_eq!(d.value, "0");
        assert!(d.note.contains("/boot/config-6.1.0-30-amd64"), "{}", d.note);
        fs::remove_dir_all(dir.path().join("boot")).unwrap();
        assert_eq!(kernel_default(&host, DMESG_KEY).unwrap().value, "1");
    }

    #[test]
    fn source_routing_defaults_differ_between_all_and_default() {
        let dir = tempfile::tempdir().unwrap();
        let host = Host::tree(dir.path()).unwrap();
        let v = |k| kernel_default(&host, k).unwrap().value;
        assert_eq!(v("net/ipv4/conf/all/accept_source_route"), "0");
        assert_eq!(v("net/ipv4/conf/default/accept_source_route"), "1");
        assert!(kernel_default(&host, "vm/swappiness").is_none());
    }
}
