//! WEB-CERT-EXPIRY: the certificates the web servers serve are neither expired nor about to.

use super::cert::{self, Expiry, EXPIRY_WARN_DAYS};
use super::WebServers;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-CERT-EXPIRY",
    name: "web-certificate-expiring",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "Web certificates are valid for at least 14 more days",
    doc: RuleDoc {
        what: "Every certificate file named by the enabled configuration — Apache \
               `SSLCertificateFile`, nginx `ssl_certificate`, Traefik `tls.certificates[].certFile` \
               (mapped through the container's volumes) — is read (PEM or DER) and its first \
               certificate, the server's own, must not expire within 14 days of the audit. \
               Intermediates are not judged. A named file that is missing or unreadable is an \
               error. The certificates Traefik obtained are read from its ACME storage \
               (acme.json): one there within 14 days of expiry means Traefik's renewal (due at \
               30 days) is failing.",
        why: "An expired certificate breaks every client (and teaches users to click through \
              warnings); 14 days is the window in which a failing automatic renewal (certbot \
              renews at 30 days) must be noticed.",
        remediation: "certbot renew (check `systemctl list-timers certbot.timer` and \
                      /var/log/letsencrypt/letsencrypt.log for why it did not), or install the \
                      renewed certificate at the named path; then reload the server.",
        verify: "openssl x509 -noout -enddate -in /etc/letsencrypt/live/your.site/fullchain.pem",
        references: &[
            "seed 002 Phase 2 §1 HTTPS (certbot renew --dry-run, certbot certificates)",
            "seed 000 §4 (HTTPS obligatoire, Let's Encrypt)",
        ],
    },
    check,
};

/// Judge the certificates of a Traefik ACME storage file (absent until Traefik's first run).
fn acme(
    ctx: &Ctx,
    path: &str,
    now: i64,
    ok: &mut usize,
    bad: &mut Vec<Evidence>,
    errors: &mut Vec<Evidence>,
) {
    let bytes = match ctx.host.read(path) {
        Ok(Some(b)) => b,
        Ok(None) => return,
        Err(e) => {
            errors.push(
                Evidence::file(path)
                    .key("acme storage")
                    .actual(e.to_string()),
            );
            return;
        }
    };
    let leaves = match cert::acme_leaves(&bytes) {
        Ok(l) => l,
        Err(e) => {
            errors.push(Evidence::file(path).key("acme storage").actual(e));
            return;
        }
    };
    for (domain, leaf) in leaves {
        let leaf = match leaf {
            Ok(l) => l,
            Err(e) => {
                errors.push(Evidence::file(path).key(domain).actual(e));
                continue;
            }
        };
        let ev = Evidence::file(path)
            .key("notAfter")
            .actual(cert::rfc3339(leaf.not_after))
            .expected(format!("later than {EXPIRY_WARN_DAYS} days from now"));
        match cert::judge(leaf.not_after, now) {
            Expiry::Valid { .. } => *ok += 1,
            Expiry::Soon { days_left } => bad.push(ev.note(format!(
                "{domain} expires in {days_left} day(s): Traefik's ACME renewal is failing"
            ))),
            Expiry::Expired { days_ago } => bad.push(ev.note(format!(
                "{domain} expired {days_ago} day(s) ago: Traefik's ACME renewal is failing"
            ))),
        }
    }
}

fn check(ctx: &Ctx) -> Outcome {
    let web = ctx.fact::<WebServers>();
    if web.apache.config.is_none() && web.nginx.config.is_none() && web.traefik.instances.is_empty()
    {
        return Outcome::not_applicable("no web server installed (Apache, nginx, Traefik)");
    }
    let now = cert::now();
    let mut bad = Vec::new();
    let mut errors = Vec::new();
    let mut ok = 0;
    for nc in web.named_certs() {
        if nc.server == "traefik-acme" {
            if let Some(storage) = &nc.key {
                acme(ctx, storage, now, &mut ok, &mut bad, &mut errors);
            }
            continue;
        }
        let Some(path) = &nc.cert else { continue };
        let named = format!(
            "named by {}:{}",
            nc.named_at.path.clone().unwrap_or_default(),
            nc.named_at.line.unwrap_or(0)
        );
        let bytes = match ctx.host.read(path) {
            Ok(Some(b)) => b,
            Ok(None) => {
                errors.push(
                    Evidence::file(path)
                        .key("certificate")
                        .actual("missing")
                        .note(named),
                );
                continue;
            }
            Err(e) => {
                errors.push(
                    Evidence::file(path)
                        .key("certificate")
                        .actual(e.to_string())
                        .note(named),
                );
                continue;
            }
        };
        let leaf = match cert::read_leaf(&bytes) {
            Ok(l) => l,
            Err(e) => {
                errors.push(
                    Evidence::file(path)
                        .key("certificate")
                        .actual(e)
                        .note(named),
                );
                continue;
            }
        };
        let ev = Evidence::file(path)
            .key("notAfter")
            .actual(cert::rfc3339(leaf.not_after))
            .expected(format!("later than {EXPIRY_WARN_DAYS} days from now"));
        match cert::judge(leaf.not_after, now) {
            Expiry::Valid { .. } => ok += 1,
            Expiry::Soon { days_left } => bad.push(ev.note(format!(
                "{} expires in {days_left} day(s); {named}",
                leaf.subject
            ))),
            Expiry::Expired { days_ago } => bad.push(ev.note(format!(
                "{} expired {days_ago} day(s) ago; {named}",
                leaf.subject
            ))),
        }
    }
    if !bad.is_empty() {
        return Outcome::fail(format!("{} certificate(s) expired or expiring", bad.len()))
            .with_all(bad)
            .with_all(errors);
    }
    if !errors.is_empty() {
        return Outcome::error(format!(
            "{} named certificate(s) could not be read",
            errors.len()
        ))
        .with_all(errors);
    }
    Outcome::pass(match ok {
        0 => "no certificate file named by the web configuration".to_string(),
        n => format!("{n} certificate(s) valid for more than {EXPIRY_WARN_DAYS} days"),
    })
}
