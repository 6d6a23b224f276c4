//! WEB-TRAEFIK-TLS-MIN: Traefik's TLS options accept nothing older than TLS 1.2 and no weak
//! cipher suite.

use super::traefik::{tree::Node, Traefik};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-TRAEFIK-TLS-MIN",
    name: "traefik-old-tls-accepted",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Traefik accepts only TLS 1.2+ with strong cipher suites",
    doc: RuleDoc {
        what: "No TLS option of the dynamic configuration (`tls.options.<name>`) sets \
               `minVersion` to VersionTLS10 or VersionTLS11, and none lists a cipher suite with \
               RC4, 3DES or CBC. Unset `minVersion` passes: Traefik's default is TLS 1.2 since \
               v2.9.",
        why: "TLS 1.0/1.1 and CBC or RC4 suites have practical attacks and are deprecated \
              (RFC 8996); a single option with them lets clients be downgraded.",
        remediation: "tls.options.default.minVersion: VersionTLS12 and drop the listed suites \
                      (keep the ECDHE AES-GCM and CHACHA20 ones).",
        verify: "openssl s_client -connect your.site:443 -tls1_1 </dev/null  # must fail",
        references: &[
            "seed 000 §4 Chiffrement (« TLS 1.2+ uniquement », « Ciphers sécurisés »)",
            "Traefik documentation: TLS options (minVersion, cipherSuites)",
            "RFC 8996",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let traefik = ctx.fact::<Traefik>();
    let instances = match traefik.require("Traefik configuration") {
        Ok(i) => i,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut options = 0;
    for inst in instances {
        for doc in &inst.dynamic {
            let Some(opts) = doc.root.path("tls.options") else {
                continue;
            };
            for (name, opt) in opts.entries() {
                options += 1;
                if let Some(v) = opt.get("minversion") {
                    let s = v.str().unwrap_or("").to_ascii_lowercase();
                    if s == "versiontls10" || s == "versiontls11" {
                        bad.push(
                            doc.evidence(v)
                                .key(format!("tls.options.{name}.minVersion"))
                                .actual(v.str().unwrap_or(""))
                                .expected("VersionTLS12"),
                        );
                    }
                }
                if let Some(cs) = opt.get("ciphersuites") {
                    for (suite, line) in cs.list() {
                        let u = suite.to_ascii_uppercase();
                        if u.contains("RC4") || u.contains("3DES") || u.contains("_CBC_") {
                            bad.push(
                                doc.evidence(&Node::scalar("", line))
                                    .key(format!("tls.options.{name}.cipherSuites"))
                                    .actual(suite.as_str())
                                    .expected("AEAD suites only (GCM, CHACHA20)"),
                            );
                        }
                    }
                }
            }
        }
    }
    if bad.is_empty() {
        Outcome::pass(match options {
            0 => "no TLS option set (Traefik's default minimum is TLS 1.2)".to_string(),
            n => format!("{n} TLS option(s), none below TLS 1.2 or with weak suites"),
        })
    } else {
        Outcome::fail("Traefik accepts old TLS versions or weak cipher suites").with_all(bad)
    }
}
