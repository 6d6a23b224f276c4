//! WEB-APACHE-TOKENS: httpd announces neither its version nor its modules (`ServerTokens Prod`,
//! `ServerSignature Off`).

use super::apache::{Apache, MAIN_FILE};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-APACHE-TOKENS",
    name: "apache-version-disclosed",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Apache hides its version (ServerTokens Prod, ServerSignature Off)",
    doc: RuleDoc {
        what: "In the configuration httpd loads (apache2.conf and everything it includes, so only \
               enabled sites, modules and conf-enabled files), the server-wide `ServerTokens` is \
               `Prod` (or `ProductOnly`) and `ServerSignature` is `Off`, and no virtual host \
               turns the signature back on. Unset values are httpd's defaults (`Full`, `On`), \
               and Debian's conf-enabled/security.conf sets `ServerTokens OS`.",
        why: "The Server header and error-page footer tell every scanner the exact httpd and OS \
              version, which lets attackers pick exploits for known vulnerabilities without \
              probing.",
        remediation: "In /etc/apache2/conf-available/security.conf set `ServerTokens Prod` and \
                      `ServerSignature Off`, then `apache2ctl configtest && systemctl reload \
                      apache2`.",
        verify: "curl -sI https://your.site/ | grep -i '^server:'  # expect `Server: Apache`",
        references: &[
            "seed 002 Phase 2 §2 Hardening Apache (ServerSignature Off, ServerTokens Prod)",
            "Apache httpd core documentation: ServerTokens, ServerSignature",
            "CIS Apache HTTP Server 2.4 Benchmark 8.1, 8.2",
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
    let mut bad = Vec::new();
    match cfg.server_last("ServerTokens") {
        Some(d)
            if d.arg(0).is_some_and(|v| {
                v.eq_ignore_ascii_case("prod") || v.eq_ignore_ascii_case("productonly")
            }) => {}
        Some(d) => bad.push(
            d.evidence()
                .key("ServerTokens")
                .actual(d.arg(0).unwrap_or(""))
                .expected("Prod"),
        ),
        None => bad.push(
            Evidence::file(MAIN_FILE)
                .key("ServerTokens")
                .actual("unset (Full)")
                .expected("Prod"),
        ),
    }
    bad.extend(cfg.not_off("ServerSignature"));
    if bad.is_empty() {
        Outcome::pass("ServerTokens Prod and ServerSignature Off")
    } else {
        Outcome::fail("Apache discloses its version").with_all(bad)
    }
}
