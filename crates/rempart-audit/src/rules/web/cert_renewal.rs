//! WEB-CERT-RENEWAL: certificates issued by certbot are renewed automatically.

use crate::facts::Units;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

const RENEWAL_DIR: &str = "/etc/letsencrypt/renewal";
/// Timers that run `certbot renew`: Debian's package, and the snap.
const TIMERS: &[&str] = &["certbot.timer", "snap.certbot.renew.timer"];
const CRON: &str = "/etc/cron.d/certbot";

pub const RULE: Rule = Rule {
    id: "WEB-CERT-RENEWAL",
    name: "certbot-renewal-not-scheduled",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "certbot certificates are renewed automatically",
    doc: RuleDoc {
        what: "When certbot manages certificates (`/etc/letsencrypt/renewal/*.conf` exists), \
               `certbot.timer` (or the snap's `snap.certbot.renew.timer`) is enabled and not \
               masked, or `/etc/cron.d/certbot` runs `certbot renew`.",
        why: "Let's Encrypt certificates last 90 days: without the scheduled renewal the site \
              breaks within three months, usually on a weekend.",
        remediation: "systemctl enable --now certbot.timer (or restore /etc/cron.d/certbot from \
                      the certbot package); check with `certbot renew --dry-run`.",
        verify: "systemctl list-timers certbot.timer; certbot renew --dry-run",
        references: &[
            "seed 002 Phase 2 §1 HTTPS (« sudo certbot renew --dry-run »)",
            "seed 000 §4 (Let's Encrypt)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let confs: Vec<String> = match ctx.host.read_dir(RENEWAL_DIR) {
        Ok(Some(names)) => names.into_iter().filter(|n| n.ends_with(".conf")).collect(),
        Ok(None) => Vec::new(),
        Err(e) => return Outcome::from(e),
    };
    if confs.is_empty() {
        return Outcome::not_applicable(
            "certbot manages no certificate (no /etc/letsencrypt/renewal/*.conf)",
        );
    }
    let units = ctx.fact::<Units>();
    if let Some(t) = TIMERS.iter().find(|t| units.is_enabled(t)) {
        return Outcome::pass(format!("{t} renews {} certificate(s)", confs.len()));
    }
    match ctx.host.read_text(CRON) {
        Ok(Some(f))
            if f.text.lines().any(|l| {
                !l.trim_start().starts_with('#') && l.contains("certbot") && l.contains("renew")
            }) =>
        {
            return Outcome::pass(format!("{CRON} renews {} certificate(s)", confs.len()));
        }
        Ok(_) => {}
        Err(e) => return Outcome::from(e),
    }
    let mut ev = vec![Evidence::file(format!("{RENEWAL_DIR}/{}", confs[0]))
        .key("renewal")
        .actual("not scheduled")
        .expected("certbot.timer enabled or /etc/cron.d/certbot")];
    for t in TIMERS {
        if units.masked.contains(*t) {
            ev.push(
                Evidence::file(format!("/etc/systemd/system/{t}"))
                    .key(*t)
                    .actual("masked")
                    .expected("enabled"),
            );
        }
    }
    Outcome::fail(format!(
        "{} certbot certificate(s) and no scheduled renewal",
        confs.len()
    ))
    .with_all(ev)
}
