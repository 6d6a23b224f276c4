//! WEB-APACHE-TLS-PROTOCOLS: TLS sites accept nothing older than TLS 1.2.

use super::apache::Apache;
use super::tls::{apache_protocols, OpensslPolicy, OLD};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-APACHE-TLS-PROTOCOLS",
    name: "apache-old-tls-accepted",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Apache TLS sites accept only TLS 1.2 and later",
    doc: RuleDoc {
        what: "For every TLS virtual host, the effective `SSLProtocol` (the vhost's, else the \
               server-wide one, else httpd's default `all -SSLv3`) is computed with mod_ssl's \
               +/- arithmetic. If it enables SSLv3, TLSv1 or TLSv1.1, the rule fails when the \
               host's OpenSSL would really accept them: libssl older than 3, `@SECLEVEL=0` in \
               `SSLCipherSuite` or /etc/ssl/openssl.cnf, or an unknown OpenSSL. OpenSSL 3 at \
               its default security level refuses TLS 1.0/1.1 (measured on Debian 12), so there \
               the rule passes and notes the stale setting.",
        why: "TLS 1.0 and 1.1 rely on SHA-1 and CBC constructions with known attacks (BEAST, \
              POODLE variants) and are deprecated by RFC 8996; clients that need them are long \
              gone.",
        remediation: "In /etc/apache2/mods-available/ssl.conf (and any vhost) set \
                      `SSLProtocol -all +TLSv1.2 +TLSv1.3`; apache2ctl configtest && systemctl \
                      reload apache2.",
        verify: "openssl s_client -connect your.site:443 -tls1_1 </dev/null  # must fail",
        references: &[
            "seed 000 §4 Chiffrement (« TLS 1.2+ uniquement »)",
            "RFC 8996 (deprecating TLS 1.0 and 1.1)",
            "mod_ssl documentation: SSLProtocol",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let apache = ctx.fact::<Apache>();
    let cfg = match apache.require("Apache configuration") {
        Ok(c) => c,
        Err(o) => return o,
    };
    let sites: Vec<_> = cfg.sites().into_iter().filter(|s| s.tls).collect();
    if sites.is_empty() {
        return Outcome::pass("no TLS site");
    }
    let policy = OpensslPolicy::load(ctx);
    let mut bad = Vec::new();
    let mut notes = Vec::new();
    for site in &sites {
        let directive = match &site.vhost {
            Some(v) => cfg.effective(v, "SSLProtocol"),
            None => cfg.server_last("SSLProtocol"),
        };
        let args: Vec<String> = match directive {
            Some(d) => d.args.clone(),
            None => vec!["all".into(), "-SSLv3".into()],
        };
        let old: Vec<&str> = apache_protocols(&args)
            .into_iter()
            .filter(|p| OLD.contains(p))
            .collect();
        if old.is_empty() {
            continue;
        }
        let ciphers = match &site.vhost {
            Some(v) => cfg.effective(v, "SSLCipherSuite"),
            None => cfg.server_last("SSLCipherSuite"),
        }
        .map(|d| d.args.join(" "));
        let ev = directive
            .map(|d| d.evidence())
            .unwrap_or_else(|| site.evidence(cfg))
            .key("SSLProtocol")
            .actual(args.join(" "))
            .expected("-all +TLSv1.2 +TLSv1.3");
        match policy.refuses_old(ciphers.as_deref()) {
            Ok(why) => {
                notes.push(ev.note(format!("{} enabled but refused: {why}", old.join(", "))))
            }
            Err(why) => bad.push(ev.note(format!(
                "site {} accepts {}: {why}",
                site.name(),
                old.join(", ")
            ))),
        }
    }
    if bad.is_empty() {
        let msg = if notes.is_empty() {
            "TLS sites accept only TLS 1.2+".to_string()
        } else {
            "old protocols are configured but the host's OpenSSL refuses them; remove them anyway"
                .to_string()
        };
        Outcome::pass(msg).with_all(notes)
    } else {
        Outcome::fail("TLS sites accept protocols older than TLS 1.2").with_all(bad)
    }
}
