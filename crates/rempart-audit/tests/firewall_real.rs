//! The firewall family against the real nft and iptables tools, never touching the host's own
//! ruleset: every nftables fixture is checked with `nft -c` in a fresh network namespace (valid
//! fixtures must load, broken ones must be refused on the line rempart reports), and the live
//! ruleset reader runs against rulesets loaded into a throwaway named network namespace.

mod support;

use rempart_audit::rules::firewall::eval::analyse;
use rempart_audit::rules::firewall::live;
use rempart_audit::rules::firewall::model::{Ip, L4};
use rempart_audit::rules::firewall::nft;
use rempart_audit::Host;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::*;

fn need(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
        || Path::new("/usr/sbin").join(tool).is_file();
    assert!(
        found,
        "`{tool}` is missing: install the Debian package {package} (scripts/test-deps)"
    );
}

/// Every fixture tree holding an /etc/nftables.conf.
fn nft_fixtures() -> Vec<(PathBuf, String)> {
    all_cases()
        .into_iter()
        .filter(|d| d.join("root/etc/nftables.conf").is_file())
        .map(|d| {
            let name = d
                .strip_prefix(fixtures_dir())
                .unwrap()
                .display()
                .to_string();
            (d, name)
        })
        .collect()
}

/// `nft -c -f` in a new network namespace, includes pointed into the tree. Returns nft's
/// verdict and its error output.
fn nft_check(root: &Path) -> (bool, String) {
    let tmp = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root.join("etc/nftables.conf")).unwrap();
    let text = text.replace(
        "include \"/etc/",
        &format!("include \"{}/etc/", root.display()),
    );
    let file = tmp.path().join("nftables.conf");
    fs::write(&file, text).unwrap();
    let out = Command::new("unshare")
        .args(["-n", "nft", "-c", "-f"])
        .arg(&file)
        .output()
        .expect("unshare runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn nftables_fixtures_are_real_nft_syntax_and_errors_match_nft() {
    need("nft", "nftables");
    need("unshare", "util-linux");
    let fixtures = nft_fixtures();
    assert!(fixtures.len() >= 8, "expected nftables fixtures");
    let mut problems = Vec::new();
    for (dir, name) in &fixtures {
        let case = load_case(dir);
        let root = dir.join("root");
        let (ok, stderr) = nft_check(&root);
        let host = Host::tree(&root).unwrap();
        let ours = nft::load(&host, nft::NFTABLES_CONF);
        if case.expect == "error" {
            // nft refuses it, and rempart's error names the line nft names.
            let want_line = case.evidence.as_ref().and_then(|e| e.line).unwrap();
            if ok {
                problems.push(format!("{name}: nft accepted a fixture meant to be broken"));
            } else if !stderr.contains(&format!("nftables.conf:{want_line}:")) {
                problems.push(format!(
                    "{name}: nft reports another line than {want_line}: {stderr}"
                ));
            }
            match ours {
                Err(nft::LoadError::Parse(e)) if e.line == Some(want_line) => {}
                other => problems.push(format!("{name}: rempart gave {other:?}")),
            }
        } else {
            if !ok {
                problems.push(format!("{name}: nft -c refuses it: {stderr}"));
            }
            if let Err(e) = ours {
                problems.push(format!(
                    "{name}: rempart cannot parse what nft accepts: {e:?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A named network namespace, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("rempart-{tag}-{}", std::process::id());
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip runs");
        assert!(
            st.success(),
            "`ip netns add {name}` failed: the test needs root (CAP_SYS_ADMIN) and iproute2"
        );
        Netns { name }
    }

    fn exec(&self, args: &[&str], stdin: Option<&str>) {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().expect("ip netns exec runs");
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let st = child.wait().unwrap();
        assert!(st.success(), "`{}` failed in {}", args.join(" "), self.name);
    }

    /// A script that runs nft inside the namespace: the live reader's `nft`.
    fn nft_wrapper(&self, dir: &Path) -> PathBuf {
        let p = dir.join("nft-in-netns");
        fs::write(
            &p,
            format!("#!/bin/sh\nexec ip netns exec {} nft \"$@\"\n", self.name),
        )
        .unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        p
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}

#[test]
fn live_reader_sees_a_ruleset_loaded_in_a_network_namespace() {
    need("nft", "nftables");
    need("ip", "iproute2");
    let ns = Netns::new("nft");
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("ruleset.nft");
    fs::write(
        &conf,
        "table inet filter {\n chain input {\n  type filter hook input priority filter; policy drop;\n  ct state established,related accept\n  iif lo accept\n  tcp dport { 22, 443 } accept\n  ip saddr 10.0.0.0/8 tcp dport 5432 accept\n }\n}\n",
    )
    .unwrap();
    ns.exec(&["nft", "-f", conf.to_str().unwrap()], None);
    let wrapper = ns.nft_wrapper(tmp.path());
    let rs = live::read(Some(wrapper.to_str().unwrap())).expect("read the namespace's ruleset");
    let a = analyse(&rs).unwrap();
    for ip in Ip::BOTH {
        assert!(a.default_for(ip).unwrap().accepting().is_none(), "{ip:?}");
        assert_eq!(
            a.open_ports_of(ip, L4::Tcp).ranges(),
            &[(22, 22), (443, 443)]
        );
        assert!(a.open_ports_of(ip, L4::Udp).is_empty());
    }
    assert!(a.restricted.iter().any(|r| r.ports.contains(5432)));
    // The same reader on an empty namespace: nothing filters.
    ns.exec(&["nft", "flush", "ruleset"], None);
    let rs = live::read(Some(wrapper.to_str().unwrap())).unwrap();
    let a = analyse(&rs).unwrap();
    assert!(a.default_for(Ip::V4).unwrap().accepting().is_some());
}

#[test]
fn live_reader_reads_iptables_nft_rules_through_the_text_listing() {
    need("nft", "nftables");
    need("ip", "iproute2");
    need("iptables-restore", "iptables");
    let ns = Netns::new("ipt");
    let rules = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 22,80,443 -j ACCEPT\n-A INPUT -p tcp --dport 8000 -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n";
    ns.exec(&["iptables-restore"], Some(rules));
    let tmp = tempfile::tempdir().unwrap();
    let wrapper = ns.nft_wrapper(tmp.path());
    // The JSON alone shows the conntrack and multiport matches as opaque `xt` objects.
    let json = Command::new(&wrapper)
        .args(["-j", "list", "ruleset"])
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&json.stdout);
    assert!(
        json.contains("\"xt\""),
        "expected xt compat expressions: {json}"
    );
    let rs = live::read(Some(wrapper.to_str().unwrap())).unwrap();
    let a = analyse(&rs).unwrap();
    let tcp = a.open_ports_of(Ip::V4, L4::Tcp);
    assert_eq!(
        tcp.ranges(),
        &[(22, 22), (80, 80), (443, 443), (8000, 8000)]
    );
    assert!(a.default_for(Ip::V4).unwrap().accepting().is_none());
    let opener = a.open.iter().find(|o| o.ports.contains(8000)).unwrap();
    assert!(
        opener.by.sure,
        "ct state new is understood: {:?}",
        opener.by
    );
    assert!(
        opener.by.loc.text.contains("tcp dport 8000"),
        "{}",
        opener.by.loc.text
    );
}
