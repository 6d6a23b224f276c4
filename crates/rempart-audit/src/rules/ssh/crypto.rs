//! SSH-CIPHERS, SSH-MACS, SSH-KEX: the ciphers, MACs and key exchanges sshd offers are all in the
//! hardening policy for its OpenSSH version (ssh-audit's "Hardened Debian 12" policy). Three
//! twins that differ only in the list judged.

use super::algorithms::{POLICY_CIPHERS, POLICY_KEX, POLICY_MACS};
use super::keywords::Kw;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

const REFERENCES: &[&str] = &[
    "seed 001 §6 SSH Hardening (ChaCha20/AES-256-GCM, Curve25519/DH-GEX-SHA256, HMAC-SHA2-512/256)",
    "ssh-audit built-in policy \"Hardened Debian 12 (version 2)\" (github.com/jtesta/ssh-audit, builtin_policies.py)",
    "sshaudit.com hardening guide for Debian 12",
    "man sshd_config(5): Ciphers, MACs, KexAlgorithms",
];

pub const CIPHERS: Rule = Rule {
    id: "SSH-CIPHERS",
    name: "weak-ssh-ciphers",
    family: Family::Ssh,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "sshd offers only strong ciphers",
    doc: RuleDoc {
        what: "Every cipher of the effective `Ciphers` list (assembled like sshd: `+`, `-`, `^` \
               and wildcards against OpenSSH 9.2's list; default when unset) is in ssh-audit's \
               hardened Debian 12 policy: chacha20-poly1305@openssh.com, aes256-gcm@openssh.com, \
               aes256-ctr, aes192-ctr, aes128-gcm@openssh.com, aes128-ctr. The offending ciphers \
               are named. OpenSSH 9.2's default list passes.",
        why: "CBC-mode ciphers and 3DES have known weaknesses (plaintext recovery, Sweet32, the \
              Terrapin prefix attack on CBC with EtM); offering them lets a downgrading attacker \
              pick them.",
        remediation: "Remove the listed ciphers, or set `Ciphers \
                      chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-gcm@openssh.com,aes128-ctr`, \
                      then `sshd -t && systemctl reload ssh`.",
        verify: "sshd -T | grep -i '^ciphers'; ssh-audit localhost",
        references: REFERENCES,
    },
    check: check_ciphers,
};

pub const MACS: Rule = Rule {
    id: "SSH-MACS",
    name: "weak-ssh-macs",
    family: Family::Ssh,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "sshd offers only encrypt-then-MAC SHA-2 and UMAC-128 MACs",
    doc: RuleDoc {
        what: "Every MAC of the effective `MACs` list is in ssh-audit's hardened Debian 12 policy: \
               hmac-sha2-256-etm@openssh.com, hmac-sha2-512-etm@openssh.com, \
               umac-128-etm@openssh.com. OpenSSH 9.2's default also offers umac-64, SHA-1 and \
               non-ETM MACs, so it fails until MACs is set.",
        why: "MAC-then-encrypt modes and SHA-1 or 64-bit tags are weaker than encrypt-then-MAC \
              with SHA-2; ETM MACs with CBC ciphers were also part of the Terrapin attack \
              surface. The guide asks for HMAC-SHA2-512/256.",
        remediation: "Set `MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com` \
                      (before any Include that sets it), `sshd -t && systemctl reload ssh`.",
        verify: "sshd -T | grep -i '^macs'; ssh-audit localhost",
        references: REFERENCES,
    },
    check: check_macs,
};

pub const KEX: Rule = Rule {
    id: "SSH-KEX",
    name: "weak-ssh-key-exchange",
    family: Family::Ssh,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "sshd offers only Curve25519, sntrup761 and large DH key exchanges",
    doc: RuleDoc {
        what: "Every key exchange of the effective `KexAlgorithms` list is in ssh-audit's \
               hardened Debian 12 policy: sntrup761x25519-sha512@openssh.com (and its newer name \
               sntrup761x25519-sha512), curve25519-sha256, curve25519-sha256@libssh.org, \
               diffie-hellman-group16-sha512, diffie-hellman-group18-sha512, \
               diffie-hellman-group-exchange-sha256. OpenSSH 9.2's default also offers NIST \
               ECDH and the 2048-bit group14, so it fails until KexAlgorithms is set.",
        why: "NIST P-curves have doubtful provenance and 2048-bit DH is below today's margin; \
              SHA-1 key exchanges are broken. The guide asks for Curve25519 and DH-GEX-SHA256.",
        remediation: "Set `KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha256`, \
                      remove moduli under 3072 bits from /etc/ssh/moduli \
                      (`awk '$5 >= 3071' /etc/ssh/moduli`), `sshd -t && systemctl reload ssh`.",
        verify: "sshd -T | grep -i '^kexalgorithms'; ssh-audit localhost",
        references: REFERENCES,
    },
    check: check_kex,
};

fn check_ciphers(ctx: &Ctx) -> Outcome {
    judge(ctx, Kw::Ciphers, POLICY_CIPHERS, "cipher")
}

fn check_macs(ctx: &Ctx) -> Outcome {
    judge(ctx, Kw::Macs, POLICY_MACS, "MAC")
}

fn check_kex(ctx: &Ctx) -> Outcome {
    judge(ctx, Kw::KexAlgorithms, POLICY_KEX, "key exchange")
}

/// Fail naming every algorithm of `kw`'s effective list outside `policy`.
fn judge(ctx: &Ctx, kw: Kw, policy: &[&str], what: &str) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let weak: Vec<&str> = eff
            .list(kw)
            .iter()
            .filter(|a| !policy.contains(&a.as_str()))
            .map(String::as_str)
            .collect();
        let ev = l.evidence(eff, kw);
        if weak.is_empty() {
            return Outcome::pass(format!(
                "every {what} offered is in the hardening policy ({})",
                l.version.describe()
            ))
            .with(ev);
        }
        Outcome::fail(format!(
            "sshd offers {} weak {what}{}: {}",
            weak.len(),
            if weak.len() == 1 { "" } else { "s" },
            weak.join(", ")
        ))
        .with(ev.expected(policy.join(",")).note(format!(
            "outside the policy: {}; {}",
            weak.join(","),
            l.version.describe()
        )))
    })
    .unwrap_or_else(|o| o)
}
