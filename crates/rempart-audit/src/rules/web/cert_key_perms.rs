//! WEB-CERT-KEY-PERMS: private keys named by the web servers are readable by their owner (and
//! the ssl-cert group) only.

use super::cert;
use super::WebServers;
use crate::host::Users;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-CERT-KEY-PERMS",
    name: "web-private-key-exposed",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Private keys named by web servers are not readable by others",
    doc: RuleDoc {
        what: "Every private key file named by the enabled configuration — Apache \
               `SSLCertificateKeyFile` (or the certificate file when it holds the key), nginx \
               `ssl_certificate_key`, Traefik `keyFile` and the ACME storage (acme.json, which \
               holds the keys Traefik obtained) — has no permission bit for others and no \
               write bit for the group; group read is allowed only for root or Debian's \
               `ssl-cert` group, and not at all for acme.json (Traefik itself insists on \
               0600). A missing key file is an error, except a not-yet-created acme.json. \
               Keys elsewhere (/etc/ssl/private as a whole) are the files family's concern.",
        why: "Whoever reads the key can impersonate the site and, without forward secrecy, \
              decrypt recorded traffic; a local account or a compromised application user is \
              enough.",
        remediation: "chmod 600 KEY (or 640 with chgrp ssl-cert); chown root KEY; for \
                      acme.json: chmod 600 acme.json.",
        verify: "stat -c '%a %U:%G %n' /etc/ssl/private/*.key /etc/letsencrypt/live/*/privkey.pem",
        references: &[
            "seed 000 §6 Gestion des secrets (permissions 600)",
            "seed 002 Notes (« principe du moindre privilège »)",
            "Traefik documentation: ACME storage (acme.json must be 600)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let web = ctx.fact::<WebServers>();
    if web.apache.config.is_none() && web.nginx.config.is_none() && web.traefik.instances.is_empty()
    {
        return Outcome::not_applicable("no web server installed (Apache, nginx, Traefik)");
    }
    let users = Users::load(ctx.host);
    let mut bad = Vec::new();
    let mut errors = Vec::new();
    let mut judged = 0;
    for nc in web.named_certs() {
        let acme = nc.server == "traefik-acme";
        let key = match (&nc.key, &nc.cert) {
            (Some(k), _) => k.clone(),
            (None, Some(c)) => match ctx.host.read(c) {
                Ok(Some(b)) if cert::holds_private_key(&b) => c.clone(),
                _ => continue,
            },
            (None, None) => continue,
        };
        let meta = match ctx.host.metadata(&key) {
            Ok(Some(m)) => m,
            Ok(None) if acme => continue,
            Ok(None) => {
                errors.push(Evidence::file(&key).key("key").actual("missing"));
                continue;
            }
            Err(e) => {
                errors.push(Evidence::file(&key).key("key").actual(e.to_string()));
                continue;
            }
        };
        judged += 1;
        let group = users
            .group_by_gid(meta.gid)
            .map_or_else(|| meta.gid.to_string(), |g| g.name.clone());
        let group_ok = !acme && (meta.gid == 0 || group == "ssl-cert");
        let exposed = meta.mode & 0o007 != 0
            || meta.mode & 0o020 != 0
            || (meta.mode & 0o040 != 0 && !group_ok);
        if exposed {
            bad.push(
                Evidence::file(&key)
                    .key("mode")
                    .actual(format!("{} (group {group})", meta.mode_octal()))
                    .expected(if acme {
                        "0600"
                    } else {
                        "0600, or 0640 with group ssl-cert"
                    })
                    .note(format!(
                        "{} key named by {}:{}",
                        nc.server,
                        nc.named_at.path.clone().unwrap_or_default(),
                        nc.named_at.line.unwrap_or(0)
                    )),
            );
        }
    }
    if !bad.is_empty() {
        return Outcome::fail(format!(
            "{} private key(s) readable beyond their owner",
            bad.len()
        ))
        .with_all(bad)
        .with_all(errors);
    }
    if !errors.is_empty() {
        return Outcome::error(format!(
            "{} named key(s) could not be checked",
            errors.len()
        ))
        .with_all(errors);
    }
    Outcome::pass(match judged {
        0 => "no private key named by the web configuration".to_string(),
        n => format!("{n} private key(s), none exposed"),
    })
}
