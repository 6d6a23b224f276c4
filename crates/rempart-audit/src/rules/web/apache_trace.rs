//! WEB-APACHE-TRACE: the HTTP TRACE method is refused (`TraceEnable Off`).

use super::apache::Apache;
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-APACHE-TRACE",
    name: "apache-trace-enabled",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Apache refuses the TRACE method (TraceEnable Off)",
    doc: RuleDoc {
        what: "The server-wide `TraceEnable` of the loaded configuration is `Off`, and no \
               virtual host sets it back to `On` or `extended`. Unset means httpd's default, \
               `On`; Debian's conf-enabled/security.conf sets `TraceEnable Off`.",
        why: "TRACE echoes the request, cookies and authorization headers included; combined \
              with a cross-site scripting bug it lets a script read HttpOnly cookies \
              (cross-site tracing), and it helps fingerprint proxies.",
        remediation: "Set `TraceEnable Off` in /etc/apache2/conf-available/security.conf, then \
                      `apache2ctl configtest && systemctl reload apache2`.",
        verify: "curl -si -X TRACE https://your.site/ | head -1  # expect 405",
        references: &[
            "Apache httpd core documentation: TraceEnable",
            "CIS Apache HTTP Server 2.4 Benchmark 5.8",
            "seed 002 Phase 2 §2 Hardening Apache",
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
    let bad = cfg.not_off("TraceEnable");
    if bad.is_empty() {
        Outcome::pass("TraceEnable Off")
    } else {
        Outcome::fail("Apache answers TRACE requests").with_all(bad)
    }
}
