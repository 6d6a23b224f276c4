//! SSH-HOST-KEY-PERMS: private host keys are owned by root and readable by nobody else.

use super::keywords::Kw;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-HOST-KEY-PERMS",
    name: "ssh-host-key-exposed",
    family: Family::Ssh,
    severity: Severity::High,
    level: Level::Sme,
    title: "Private SSH host keys are root-owned and private (0600 or 0400)",
    doc: RuleDoc {
        what: "Each private host key sshd loads (the effective `HostKey` lines, or \
               /etc/ssh/ssh_host_{rsa,ecdsa,ed25519}_key by default), followed through symbolic \
               links, is a regular file owned by uid 0 with no permission for group or others \
               (0600 or 0400). Public `.pub` files are not judged. Keys that do not exist are \
               skipped; when none exists the rule is skipped (sshd generates them on first \
               start).",
        why: "Anyone who reads a host private key can impersonate the server: a \
              man-in-the-middle then gets the passwords and sessions of users who trust the \
              host key.",
        remediation:
            "chown root:root /etc/ssh/ssh_host_*_key && chmod 600 /etc/ssh/ssh_host_*_key. \
                      If the key may have been copied, regenerate it (`rm /etc/ssh/ssh_host_*; \
                      dpkg-reconfigure openssh-server`) and tell users the new fingerprint.",
        verify: "stat -c '%a %U %n' /etc/ssh/ssh_host_*_key",
        references: &[
            "CIS Debian Linux 12 Benchmark, SSH server section (permissions on SSH private host key files)",
            "man sshd(8): FILES (host keys must not be accessible by others)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let mut bad = Vec::new();
        let mut good = Vec::new();
        for path in eff.list(Kw::HostKey) {
            if path == "none" {
                continue;
            }
            let meta = match ctx.host.metadata(path) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => return Outcome::from(e),
            };
            let exposed = meta.group_or_other_access()
                || meta.uid != 0
                || meta.kind != crate::host::FileKind::File;
            let ev = Evidence::file(path.clone())
                .key("mode")
                .actual(meta.mode_octal())
                .expected("0600");
            if exposed {
                bad.push(ev.note(format!("owner uid {}", meta.uid)));
            } else {
                good.push(ev);
            }
        }
        if bad.is_empty() && good.is_empty() {
            return Outcome::skip(format!(
                "no host key file exists yet ({} listed); sshd creates them on first start",
                eff.list(Kw::HostKey).len()
            ))
            .with(l.evidence(eff, Kw::HostKey));
        }
        if bad.is_empty() {
            Outcome::pass(format!("{} private host key(s) are root-only", good.len()))
                .with_all(good)
        } else {
            Outcome::fail(format!(
                "{} private host key(s) are readable by others or not owned by root",
                bad.len()
            ))
            .with_all(bad)
        }
    })
    .unwrap_or_else(|o| o)
}
