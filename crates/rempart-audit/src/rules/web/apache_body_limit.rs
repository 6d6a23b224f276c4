//! WEB-APACHE-BODY-LIMIT: request bodies are bounded (`LimitRequestBody`).

use super::apache::{Apache, Directive};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-APACHE-BODY-LIMIT",
    name: "apache-request-body-unbounded",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "Apache bounds request bodies (LimitRequestBody)",
    doc: RuleDoc {
        what: "Every site that serves content (TLS vhosts, plain vhosts without an https \
               redirect) has an explicit non-zero `LimitRequestBody`: server-wide, in the vhost, \
               or in a `<Directory>`/`<Location>` inside it. `LimitRequestBody 0` (unlimited) \
               anywhere fails. Without it httpd accepts up to 1 GiB (2.4.54 and later) or \
               without limit (earlier).",
        why: "Unbounded uploads let one client fill the disk or tie up workers and the \
              application behind (slow POST), a cheap denial of service.",
        remediation: "Set `LimitRequestBody 10485760` (10 MB, or what the application needs) in \
                      the vhost or `<Directory>` of the application, then `apache2ctl \
                      configtest && systemctl reload apache2`.",
        verify: "apache2ctl -t -D DUMP_INCLUDES; grep -rn LimitRequestBody /etc/apache2/",
        references: &[
            "seed 002 Phase 2 §2 (« LimitRequestBody 10485760 (10 MB) au niveau du VirtualHost »)",
            "Apache httpd core documentation: LimitRequestBody",
        ],
    },
    check,
};

fn limit_in<'a>(ds: &'a [Directive], out: &mut Vec<&'a Directive>) {
    for d in ds {
        if d.is("LimitRequestBody") {
            out.push(d);
        }
        if d.section && !d.is("VirtualHost") {
            limit_in(&d.children, out);
        }
    }
}

fn check(ctx: &Ctx) -> Outcome {
    let apache = ctx.fact::<Apache>();
    let cfg = match apache.require("Apache configuration") {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut global = Vec::new();
    limit_in(&cfg.tree, &mut global);
    let mut bad = Vec::new();
    let sites = cfg.content_sites();
    for site in &sites {
        let mut found = global.clone();
        if let Some(v) = &site.vhost {
            limit_in(&v.section.children, &mut found);
        }
        for d in &found {
            if d.arg(0) == Some("0") {
                bad.push(
                    d.evidence()
                        .key("LimitRequestBody")
                        .actual("0 (unlimited)")
                        .expected("a limit in bytes, e.g. 10485760"),
                );
            }
        }
        if !found.iter().any(|d| {
            d.arg(0)
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|n| n > 0)
        }) {
            bad.push(
                site.evidence(cfg)
                    .key("LimitRequestBody")
                    .actual("unset")
                    .expected("a limit in bytes, e.g. 10485760")
                    .note(format!("site {}", site.name())),
            );
        }
    }
    bad.dedup();
    if bad.is_empty() {
        Outcome::pass(format!("{} site(s) bound request bodies", sites.len()))
    } else {
        Outcome::fail("request bodies are not bounded").with_all(bad)
    }
}
