//! SSH-HOSTKEY-ALGORITHMS: the host key algorithms sshd actually offers (its HostKeyAlgorithms
//! list, narrowed to the host keys it loads) are all in the hardening policy, and RSA host keys
//! are large enough.

use super::algorithms::POLICY_HOST_KEYS;
use super::hostkeys::{self, KeyInfo};
use super::keywords::Kw;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

/// Smallest RSA host key accepted, in bits (NIST SP 800-57's 128-bit level; ssh-audit's hardened
/// policy asks for 4096, which the remediation uses).
pub const MIN_RSA_BITS: u32 = 3072;

pub const RULE: Rule = Rule {
    id: "SSH-HOSTKEY-ALGORITHMS",
    name: "weak-ssh-host-key-algorithms",
    family: Family::Ssh,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "sshd offers only Ed25519 and RSA-SHA2 host keys",
    doc: RuleDoc {
        what: "The host key algorithms sshd offers: the effective `HostKeyAlgorithms` \
               (assembled like sshd), narrowed to the types of the host keys it loads \
               (`HostKey` lines, or the three default keys; the type is read from each key's \
               `.pub` or its private key header). Every one must be in ssh-audit's hardened \
               Debian 12 policy (ssh-ed25519, rsa-sha2-512, rsa-sha2-256, their certificate \
               and security-key forms), and RSA host keys must have at least 3072 bits. \
               Debian generates an ECDSA host key, so a stock install fails until that key is \
               dropped or HostKeyAlgorithms is set. When no host key can be read, the whole \
               configured list is judged (certificate algorithms only with a \
               `HostCertificate`).",
        why: "ECDSA on NIST curves and DSA are discouraged (doubtful curve provenance, fragile \
              nonces); ssh-rsa signs with SHA-1. Clients that prefer them will keep using \
              them while the server offers them.",
        remediation: "Comment out `HostKey /etc/ssh/ssh_host_ecdsa_key` (and any DSA key), keep \
                      `HostKey /etc/ssh/ssh_host_ed25519_key` and a 4096-bit RSA key \
                      (`ssh-keygen -t rsa -b 4096 -f /etc/ssh/ssh_host_rsa_key -N ''`), or set \
                      `HostKeyAlgorithms ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-256`; \
                      then `sshd -t && systemctl reload ssh`. Clients will see a new host key \
                      type only if the old one is removed: warn them.",
        verify: "ssh-audit localhost; sshd -T | grep -Ei '^(hostkey|hostkeyalgorithms) '",
        references: &[
            "ssh-audit built-in policy \"Hardened Debian 12 (version 2)\" (github.com/jtesta/ssh-audit, builtin_policies.py)",
            "sshaudit.com hardening guide for Debian 12 (host keys)",
            "NIST SP 800-57 Part 1 (RSA 3072 bits for 128-bit security)",
            "man sshd_config(5): HostKey, HostKeyAlgorithms",
        ],
    },
    check,
};

/// The certificate form of a host key algorithm.
fn cert_form(alg: &str) -> String {
    match alg.strip_suffix("@openssh.com") {
        Some(base) => format!("{base}-cert-v01@openssh.com"),
        None => format!("{alg}-cert-v01@openssh.com"),
    }
}

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let mut keys: Vec<(String, KeyInfo)> = Vec::new();
        for path in eff.list(Kw::HostKey) {
            if let Ok(Some(info)) = hostkeys::inspect(ctx.host, path) {
                keys.push((path.clone(), info));
            }
        }
        let certs = !eff.list(Kw::HostCertificate).is_empty();
        let configured = eff.list(Kw::HostKeyAlgorithms);
        let offered: Vec<&String> = if keys.is_empty() {
            // Certificate algorithms are only offered with a HostCertificate.
            configured
                .iter()
                .filter(|a| certs || !a.contains("-cert-v01@"))
                .collect()
        } else {
            configured
                .iter()
                .filter(|a| {
                    keys.iter().any(|(_, k)| {
                        k.algorithms()
                            .iter()
                            .any(|b| b == a || (certs && cert_form(b) == **a))
                    })
                })
                .collect()
        };
        let weak: Vec<&str> = offered
            .iter()
            .filter(|a| !POLICY_HOST_KEYS.contains(&a.as_str()))
            .map(|a| a.as_str())
            .collect();
        let small: Vec<(&String, u32)> = keys
            .iter()
            .filter_map(|(p, k)| k.rsa_bits.filter(|b| *b < MIN_RSA_BITS).map(|b| (p, b)))
            .collect();
        let mut ev = vec![l.evidence(eff, Kw::HostKeyAlgorithms)];
        for (path, k) in &keys {
            if k.algorithms().iter().any(|a| weak.contains(a)) {
                ev.push(
                    Evidence::file(path.clone())
                        .key("key type")
                        .actual(k.key_type.clone())
                        .note("host key offering an algorithm outside the policy"),
                );
            }
        }
        for (path, bits) in &small {
            ev.push(
                Evidence::file((*path).clone())
                    .key("RSA modulus bits")
                    .actual(i64::from(*bits))
                    .expected(i64::from(MIN_RSA_BITS)),
            );
        }
        let scope = if keys.is_empty() {
            "no host key could be read; judged the configured list".to_string()
        } else {
            format!(
                "host keys: {}",
                keys.iter()
                    .map(|(_, k)| k.key_type.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        if weak.is_empty() && small.is_empty() {
            return Outcome::pass(format!(
                "every host key algorithm offered is in the policy ({scope})"
            ))
            .with_all(ev);
        }
        let mut why = Vec::new();
        if !weak.is_empty() {
            why.push(format!(
                "weak host key algorithms offered: {}",
                weak.join(", ")
            ));
        }
        if !small.is_empty() {
            why.push(format!(
                "RSA host key under {MIN_RSA_BITS} bits: {}",
                small
                    .iter()
                    .map(|(p, b)| format!("{p} ({b} bits)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Outcome::fail(format!("{} ({scope})", why.join("; "))).with_all(ev)
    })
    .unwrap_or_else(|o| o)
}
