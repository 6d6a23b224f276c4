//! A small host tree in a temporary directory, and helpers to record and check it.

#![allow(dead_code)]

use rempart_integrity::auth::{HmacKey, Signers, Verifier};
use rempart_integrity::compare::{Change, ChangeKind};
use rempart_integrity::hash::HashAlgo;
use rempart_integrity::policy::{CompiledPolicy, Policy, RuleSpec};
use rempart_integrity::report::CheckReport;
use rempart_integrity::run::{self, CheckInput};
use rempart_integrity::scan::ScanRoot;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::PathBuf;

pub fn key() -> HmacKey {
    HmacKey::from_bytes([7; 32])
}

pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    /// `/etc` with a few configuration files and a link, `/usr/bin` with two binaries.
    pub fn new() -> Tree {
        let t = Tree {
            dir: tempfile::tempdir().unwrap(),
        };
        t.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        t.write(
            "etc/ssh/sshd_config",
            "PermitRootLogin no\nPasswordAuthentication no\n",
        );
        t.write("etc/cron.d/e2scrub_all", "30 3 * * 0 root test -e /run/systemd/system || /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron\n");
        t.write("usr/bin/sudo", "\x7fELF sudo binary v1");
        t.write("usr/bin/ls", "\x7fELF ls binary");
        t.chmod("usr/bin/sudo", 0o755);
        t.chmod("usr/bin/ls", 0o755);
        symlink("../usr/bin/ls", t.path("etc/alternatives-ls")).unwrap();
        t
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    pub fn chmod(&self, rel: &str, mode: u32) {
        fs::set_permissions(self.path(rel), fs::Permissions::from_mode(mode)).unwrap();
    }

    pub fn root(&self) -> ScanRoot {
        ScanRoot::open(self.dir.path()).unwrap()
    }

    pub fn record(&self, policy: &CompiledPolicy) -> Vec<u8> {
        let signers = Signers {
            hmac: Some(key()),
            sign: None,
        };
        run::record(&self.root(), policy, &signers, run::now())
            .unwrap()
            .bytes
    }

    pub fn check(&self, bytes: &[u8]) -> CheckReport {
        self.check_with(bytes, &Verifier::Hmac(key()))
    }

    pub fn check_with(&self, bytes: &[u8], verifier: &Verifier) -> CheckReport {
        run::check(
            &self.root(),
            &CheckInput {
                baseline_path: "test baseline",
                bytes,
                verifier,
                current_policy: None,
                runtime_excludes: &[],
                now: run::now(),
            },
        )
    }
}

/// Content rules for `/etc` and `/usr/bin`.
pub fn policy(hash: HashAlgo) -> CompiledPolicy {
    Policy {
        hash,
        exclude: Vec::new(),
        rules: vec![
            RuleSpec::new("/etc", &["content"]),
            RuleSpec::new("/usr/bin", &["content"]),
        ],
    }
    .compile()
    .unwrap()
}

/// The change reported for a path; panics with the whole report when there is none.
pub fn change<'a>(r: &'a CheckReport, path: &str) -> &'a Change {
    r.comparison
        .changes
        .iter()
        .find(|c| c.path.as_ref() == path.as_bytes())
        .unwrap_or_else(|| panic!("no change reported for {path}: {:#?}", r.comparison.changes))
}

pub fn attr_names(c: &Change) -> Vec<&'static str> {
    c.attrs.iter().map(|a| a.attr.name()).collect()
}

pub fn only_change<'a>(r: &'a CheckReport, path: &str, kind: ChangeKind) -> &'a Change {
    assert_eq!(
        r.comparison.changes.len(),
        1,
        "expected one change, got {:#?}",
        r.comparison.changes
    );
    let c = change(r, path);
    assert_eq!(c.kind, kind);
    c
}
