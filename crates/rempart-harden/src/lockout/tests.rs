//! The access checks on small root trees, with real plans and hand-made ones.

use super::*;
use crate::change::{FileChange, FileState};
use rempart_audit::engine::{AuditOptions, Selector};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICf9JVwVr2roC7nguTO0rkboMZOfvrDX9+MakT7eWHKD admin@laptop\n";

/// A host with a sudo admin `jmadmin` (with a key when `key`) and `sshd_config`.
fn tree(sshd_config: &str, key: bool) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let w = |p: &str, text: &str| {
        let path = t.path().join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    w(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\njmadmin:x:1000:1000:JM:/home/jmadmin:/bin/bash\n",
    );
    w(
        "etc/group",
        "root:x:0:\nsudo:x:27:jmadmin\njmadmin:x:1000:\n",
    );
    w("etc/ssh/sshd_config", sshd_config);
    fs::create_dir_all(t.path().join("home/jmadmin/.ssh")).unwrap();
    if key {
        w("home/jmadmin/.ssh/authorized_keys", KEY);
        fs::set_permissions(
            t.path().join("home/jmadmin/.ssh/authorized_keys"),
            fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    t
}

fn plan_for(root: &Path, rules: &[&str]) -> Plan {
    let host = Host::tree(root).unwrap();
    let opts = AuditOptions {
        only: rules
            .iter()
            .map(|r| Selector::Id((*r).to_string()))
            .collect(),
        ..AuditOptions::default()
    };
    crate::plan::plan(&host, &AuditConfig::default(), &opts)
        .unwrap()
        .0
}

fn access(root: &Path, plan: &Plan, client: Option<&Client>) -> Access {
    let host = Host::tree(root).unwrap();
    check(&host, &AuditConfig::default(), plan, client).unwrap()
}

fn from(addr: &str) -> Client {
    Client {
        addr: addr.parse().unwrap(),
        server_addr: None,
        server_port: None,
    }
}

fn listing(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

const STOCK: &str = "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\n";

#[test]
fn access_remains_when_a_sudo_admin_has_a_key_and_the_host_is_not_touched() {
    let t = tree(STOCK, true);
    let plan = plan_for(t.path(), &["SSH-PASSWORD-AUTH"]);
    assert_eq!(plan.unsafe_fixes().len(), 1, "{:?}", plan.skipped);
    let before = listing(t.path());
    let a = access(t.path(), &plan, None);
    assert!(a.ok, "{a:?}");
    assert_eq!(a.admins.len(), 1);
    assert!(a.admins[0].starts_with("jmadmin ("), "{:?}", a.admins);
    assert_eq!(listing(t.path()), before, "the check changed the host");
}

#[test]
fn without_a_key_access_is_not_shown_and_the_reason_names_the_admin() {
    let t = tree(STOCK, false);
    let plan = plan_for(t.path(), &["SSH-PASSWORD-AUTH"]);
    let a = access(t.path(), &plan, None);
    assert!(!a.ok);
    assert!(a.missing[0].contains("SSH-ADMIN-KEY"), "{:?}", a.missing);
    assert!(a.missing[0].contains("jmadmin"), "{:?}", a.missing);
}

#[test]
fn the_admins_address_must_be_let_in_by_allow_users_host_patterns() {
    let t = tree(
        "AllowUsers jmadmin@10.8.0.0/24\nPasswordAuthentication yes\n",
        true,
    );
    let plan = plan_for(t.path(), &["SSH-PASSWORD-AUTH"]);
    let a = access(t.path(), &plan, Some(&from("192.0.2.7")));
    assert!(!a.ok);
    assert!(
        a.missing
            .iter()
            .any(|m| m.contains("from 192.0.2.7") && m.contains("AllowUsers")),
        "{:?}",
        a.missing
    );
    assert!(access(t.path(), &plan, Some(&from("10.8.0.5"))).ok);
    // Unknown address: judged on the user part, like SSH-ADMIN-KEY.
    assert!(access(t.path(), &plan, None).ok);
}

#[test]
fn deny_users_with_a_host_part_is_judged_when_the_address_is_known() {
    let t = tree(
        "DenyUsers jmadmin@192.0.2.*\nPasswordAuthentication yes\n",
        true,
    );
    let plan = plan_for(t.path(), &["SSH-PASSWORD-AUTH"]);
    let a = access(t.path(), &plan, Some(&from("192.0.2.7")));
    assert!(!a.ok);
    assert!(
        a.missing.iter().any(|m| m.contains("DenyUsers")),
        "{:?}",
        a.missing
    );
    assert!(access(t.path(), &plan, Some(&from("198.51.100.1"))).ok);
    assert!(access(t.path(), &plan, None).ok);
}

#[test]
fn a_match_address_block_turning_keys_off_shuts_that_address_out() {
    let t = tree(
        "PasswordAuthentication yes\nMatch Address 192.0.2.0/24\n    PubkeyAuthentication no\n",
        true,
    );
    let plan = plan_for(t.path(), &["SSH-PASSWORD-AUTH"]);
    let a = access(t.path(), &plan, Some(&from("192.0.2.7")));
    assert!(!a.ok);
    assert!(
        a.missing.iter().any(|m| m.contains("PubkeyAuthentication")),
        "{:?}",
        a.missing
    );
    assert!(access(t.path(), &plan, Some(&from("203.0.113.9"))).ok);
}

#[test]
fn the_port_of_the_admins_session_must_stay() {
    let t = tree("Port 2222\nPasswordAuthentication yes\n", true);
    let plan = plan_for(t.path(), &["SSH-PASSWORD-AUTH"]);
    let session = |port| Client {
        addr: "192.0.2.7".parse().unwrap(),
        server_addr: Some("192.0.2.1".parse().unwrap()),
        server_port: Some(port),
    };
    let a = access(t.path(), &plan, Some(&session(22)));
    assert!(!a.ok);
    assert!(
        a.missing
            .iter()
            .any(|m| m.contains("no longer listens on port 22")),
        "{:?}",
        a.missing
    );
    assert!(access(t.path(), &plan, Some(&session(2222))).ok);
    assert_eq!(
        Client::from_ssh_connection("192.0.2.7 51234 192.0.2.1 2222"),
        Some(session(2222))
    );
    assert_eq!(Client::from_ssh_connection("garbage"), None);
}

fn file(text: &str) -> FileState {
    FileState::File {
        content: text.as_bytes().to_vec(),
        mode: 0o644,
        uid: 0,
        gid: 0,
    }
}

/// `tree(STOCK)` plus a dpkg database listing `packages`, the given files, and links
/// (`(link, target)`, for enabled units).
fn firewalled(
    packages: &[&str],
    files: &[(&str, &str)],
    links: &[(&str, &str)],
) -> tempfile::TempDir {
    let t = tree(STOCK, true);
    let mut status = String::new();
    for p in ["openssh-server"].iter().chain(packages) {
        status.push_str(&format!(
            "Package: {p}\nStatus: install ok installed\nVersion: 1.0\n\n"
        ));
    }
    let mut all = vec![("var/lib/dpkg/status", status.as_str())];
    all.extend_from_slice(files);
    for (p, text) in all {
        let path = t.path().join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    for (link, target) in links {
        let path = t.path().join(link);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }
    t
}

/// A plan that writes `files` (host path, content) and nothing else.
fn writes(root: &Path, files: &[(&str, &str)]) -> Plan {
    Plan {
        root: root.display().to_string(),
        live: false,
        fixes: Vec::new(),
        packages: Vec::new(),
        actions: Vec::new(),
        changes: files
            .iter()
            .map(|(p, text)| FileChange {
                secret: false,
                path: (*p).into(),
                before: FileState::Absent,
                after: file(text),
                rules: vec!["FW-DEFAULT-DENY".into()],
            })
            .collect(),
        skipped: Vec::new(),
        access: None,
    }
}

const NFT_UNIT: (&str, &str) = (
    "lib/systemd/system/nftables.service",
    "[Unit]\nDescription=nftables\n[Service]\nType=oneshot\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n[Install]\nWantedBy=sysinit.target\n",
);
const NFT_ENABLED: (&str, &str) = (
    "etc/systemd/system/sysinit.target.wants/nftables.service",
    "/lib/systemd/system/nftables.service",
);

fn nft_conf(input_rules: &str) -> String {
    format!(
        "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {{\n\tchain input {{\n\t\ttype filter hook input priority filter; policy drop;\n\t\tct state established,related accept\n\t\tiif \"lo\" accept\n{input_rules}\t}}\n}}\n"
    )
}

fn missing(a: &Access, needle: &str) -> bool {
    a.missing.iter().any(|m| m.contains(needle))
}

#[test]
fn nftables_keeping_the_ssh_port_open_is_access() {
    let t = firewalled(&["nftables"], &[NFT_UNIT], &[NFT_ENABLED]);
    let conf = nft_conf("\t\ttcp dport { 22, 80, 443 } accept\n");
    let plan = writes(t.path(), &[("/etc/nftables.conf", &conf)]);
    let a = access(t.path(), &plan, None);
    assert!(a.ok, "{a:?}");
    assert!(
        a.checked
            .iter()
            .any(|c| c.contains("tcp/22 (IPv4)") && c.contains("tcp/22 (IPv6)")),
        "{:?}",
        a.checked
    );
}

#[test]
fn nftables_dropping_the_ssh_port_by_default_is_refused() {
    // The unit is enabled on the host, not by the plan: the scratch tree must carry that link.
    let t = firewalled(&["nftables"], &[NFT_UNIT], &[NFT_ENABLED]);
    let conf = nft_conf("\t\ttcp dport { 80, 443 } accept\n");
    let plan = writes(t.path(), &[("/etc/nftables.conf", &conf)]);
    let a = access(t.path(), &plan, None);
    assert!(!a.ok);
    assert!(
        missing(&a, "nftables drops tcp/22 (IPv4)") && missing(&a, "input policy drops"),
        "{:?}",
        a.missing
    );
    // The same file with nftables.service not enabled loads nothing at boot: nothing closes 22.
    let t = firewalled(&["nftables"], &[NFT_UNIT], &[]);
    let plan = writes(t.path(), &[("/etc/nftables.conf", &conf)]);
    let a = access(t.path(), &plan, None);
    assert!(a.ok, "{a:?}");
    assert!(
        a.checked
            .iter()
            .any(|c| c.contains("no firewall loads at boot")),
        "{:?}",
        a.checked
    );
}

#[test]
fn a_saddr_rule_lets_the_admins_address_in_and_no_other() {
    let t = firewalled(&["nftables"], &[NFT_UNIT], &[NFT_ENABLED]);
    let conf = nft_conf(
        "\t\tip saddr { 10.0.0.0/8, 192.168.1.0/24 } tcp dport 22 accept\n\t\ttcp dport 443 accept\n",
    );
    let plan = writes(t.path(), &[("/etc/nftables.conf", &conf)]);
    let a = access(t.path(), &plan, Some(&from("10.1.2.3")));
    assert!(a.ok, "{a:?}");
    let a = access(t.path(), &plan, Some(&from("192.0.2.7")));
    assert!(!a.ok);
    assert!(
        missing(&a, "tcp/22 (IPv4) from 192.0.2.7"),
        "{:?}",
        a.missing
    );
    // Unknown address: a rule for some sources does not show the admin gets in.
    assert!(!access(t.path(), &plan, None).ok);
    // An IPv6 admin is judged on the IPv6 side, which only the policy covers.
    assert!(!access(t.path(), &plan, Some(&from("2001:db8::7"))).ok);
}

#[test]
fn without_any_firewall_the_ssh_port_stays_open_and_fail2ban_must_ignore_the_admin() {
    let t = firewalled(&[], &[], &[]);
    // A fail2ban drop-in counts as a firewall change; there is no firewall to close anything.
    let jail = "[sshd]\nenabled = true\nignoreip = 127.0.0.1/8 ::1 192.0.2.0/24\n";
    let plan = writes(t.path(), &[("/etc/fail2ban/jail.d/90-rempart.local", jail)]);
    let a = access(t.path(), &plan, Some(&from("192.0.2.7")));
    assert!(a.ok, "{a:?}");
    assert!(
        a.checked
            .iter()
            .any(|c| c.contains("no firewall loads at boot")),
        "{:?}",
        a.checked
    );
    assert!(
        a.checked.iter().any(|c| c.contains("ignores 192.0.2.7")),
        "{:?}",
        a.checked
    );
    // A jail that does not list the admin's address could ban it after a few typos.
    let jail = "[sshd]\nenabled = true\nignoreip = 127.0.0.1/8 ::1\n";
    let plan = writes(t.path(), &[("/etc/fail2ban/jail.d/90-rempart.local", jail)]);
    let a = access(t.path(), &plan, Some(&from("192.0.2.7")));
    assert!(!a.ok);
    assert!(missing(&a, "would ban 192.0.2.7"), "{:?}", a.missing);
    // With the address unknown there is nothing to compare.
    assert!(access(t.path(), &plan, None).ok);
}

const UFW_UNIT: (&str, &str) = (
    "lib/systemd/system/ufw.service",
    "[Unit]\nDescription=Uncomplicated firewall\n[Service]\nType=oneshot\nExecStart=/lib/ufw/ufw-init start quiet\n[Install]\nWantedBy=multi-user.target\n",
);

fn user_rules(chain: &str, src: &str, ports: &[u16]) -> String {
    let mut s = format!("*filter\n:{chain}-user-input - [0:0]\n### RULES ###\n");
    for p in ports {
        s.push_str(&format!(
            "\n### tuple ### allow tcp {p} {src} any {src} in\n-A {chain}-user-input -p tcp --dport {p} -j ACCEPT\n"
        ));
    }
    s.push_str("\n### END RULES ###\nCOMMIT\n");
    s
}

#[test]
fn enabling_ufw_without_an_ssh_rule_is_refused() {
    let t = firewalled(
        &["ufw"],
        &[
            UFW_UNIT,
            (
                "etc/ufw/ufw.conf",
                "# /etc/ufw/ufw.conf\nENABLED=no\nLOGLEVEL=low\n",
            ),
            (
                "etc/default/ufw",
                "IPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\n",
            ),
            (
                "etc/ufw/user.rules",
                &user_rules("ufw", "0.0.0.0/0", &[80, 443]),
            ),
            (
                "etc/ufw/user6.rules",
                &user_rules("ufw6", "::/0", &[80, 443]),
            ),
        ],
        &[(
            "etc/systemd/system/multi-user.target.wants/ufw.service",
            "/lib/systemd/system/ufw.service",
        )],
    );
    let enable = [("/etc/ufw/ufw.conf", "ENABLED=yes\nLOGLEVEL=low\n")];
    let a = access(t.path(), &writes(t.path(), &enable), None);
    assert!(!a.ok);
    assert!(missing(&a, "ufw drops tcp/22 (IPv4)"), "{:?}", a.missing);
    // With `ufw allow 22/tcp` in both families' files, enabling it keeps the way in.
    let v4 = user_rules("ufw", "0.0.0.0/0", &[22, 80, 443]);
    let v6 = user_rules("ufw6", "::/0", &[22, 80, 443]);
    let mut files = enable.to_vec();
    files.push(("/etc/ufw/user.rules", &v4));
    files.push(("/etc/ufw/user6.rules", &v6));
    let a = access(t.path(), &writes(t.path(), &files), None);
    assert!(a.ok, "{a:?}");
}

#[test]
fn iptables_persistent_rules_v4_are_judged_for_the_admins_address() {
    let rules = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n";
    let t = firewalled(
        &["iptables-persistent", "netfilter-persistent"],
        &[(
            "lib/systemd/system/netfilter-persistent.service",
            "[Service]\nExecStart=/usr/sbin/netfilter-persistent start\n",
        )],
        &[(
            "etc/systemd/system/multi-user.target.wants/netfilter-persistent.service",
            "/lib/systemd/system/netfilter-persistent.service",
        )],
    );
    let plan = writes(t.path(), &[("/etc/iptables/rules.v4", rules)]);
    assert!(access(t.path(), &plan, Some(&from("198.51.100.20"))).ok);
    let a = access(t.path(), &plan, Some(&from("203.0.113.5")));
    assert!(!a.ok);
    assert!(
        missing(&a, "iptables-persistent drops tcp/22"),
        "{:?}",
        a.missing
    );
}

#[test]
fn moving_sshd_to_a_port_the_firewall_drops_is_refused() {
    let t = firewalled(&["nftables"], &[NFT_UNIT], &[NFT_ENABLED]);
    fs::write(
        t.path().join("etc/nftables.conf"),
        nft_conf("\t\ttcp dport { 22, 80, 443 } accept\n"),
    )
    .unwrap();
    // A port change (written by hand here: no fix changes ports) needs the firewall to agree.
    let mut plan = plan_for(t.path(), &["SSH-PASSWORD-AUTH"]);
    plan.changes.push(FileChange {
        secret: false,
        path: "/etc/ssh/sshd_config.d/10-port.conf".into(),
        before: FileState::Absent,
        after: file("Port 2200\n"),
        rules: Vec::new(),
    });
    let a = access(t.path(), &plan, None);
    assert!(!a.ok);
    assert!(
        missing(&a, "22 -> 2200") && missing(&a, "tcp/2200"),
        "{:?}",
        a.missing
    );
}

#[test]
fn authentication_methods_that_need_a_password_left_off_are_not_access() {
    let t = tree(
        "Include /etc/ssh/sshd_config.d/*.conf\nAuthenticationMethods publickey,password\n",
        true,
    );
    let plan = Plan {
        root: t.path().display().to_string(),
        live: false,
        fixes: Vec::new(),
        packages: Vec::new(),
        actions: Vec::new(),
        changes: vec![FileChange {
            secret: false,
            path: "/etc/ssh/sshd_config.d/00-rempart.conf".into(),
            before: FileState::Absent,
            after: file("PasswordAuthentication no\n"),
            rules: vec!["SSH-PASSWORD-AUTH".into()],
        }],
        skipped: Vec::new(),
        access: None,
    };
    let a = access(t.path(), &plan, None);
    assert!(!a.ok);
    assert!(
        a.missing
            .iter()
            .any(|m| m.contains("AuthenticationMethods")),
        "{:?}",
        a.missing
    );
}

#[test]
fn an_allow_users_plan_naming_another_account_is_caught() {
    let t = tree(STOCK, true);
    let plan = Plan {
        root: t.path().display().to_string(),
        live: false,
        fixes: Vec::new(),
        packages: Vec::new(),
        actions: Vec::new(),
        changes: vec![FileChange {
            secret: false,
            path: "/etc/ssh/sshd_config.d/00-rempart.conf".into(),
            before: FileState::Absent,
            after: file("AllowUsers deploy\n"),
            rules: vec!["SSH-ALLOW-USERS".into()],
        }],
        skipped: Vec::new(),
        access: None,
    };
    let a = access(t.path(), &plan, None);
    assert!(!a.ok);
    assert!(
        a.missing.iter().any(|m| m.contains("AllowUsers")),
        "{:?}",
        a.missing
    );
}

use proptest::prelude::*;

proptest! {
    #[test]
    fn ssh_connection_parsing_never_panics(s in "\\PC{0,80}") {
        let _ = Client::from_ssh_connection(&s);
    }

    #[test]
    fn ssh_connection_round_trips(
        client in any::<std::net::IpAddr>(),
        server in any::<std::net::IpAddr>(),
        cport in any::<u16>(),
        sport in any::<u16>(),
    ) {
        let c = Client::from_ssh_connection(&format!("{client} {cport} {server} {sport}")).unwrap();
        prop_assert_eq!(c.addr, client);
        prop_assert_eq!(c.server_addr, Some(server));
        prop_assert_eq!(c.server_port, Some(sport));
    }
}
