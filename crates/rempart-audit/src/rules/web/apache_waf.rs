//! WEB-APACHE-WAF: a request filter (mod_security2 or mod_evasive) is loaded.

use super::apache::{Apache, MAIN_FILE};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "WEB-APACHE-WAF",
    name: "apache-no-request-filter",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "Apache filters abusive requests (mod_security2 or mod_evasive)",
    doc: RuleDoc {
        what: "The loaded configuration loads `security2_module` (ModSecurity, with \
               `SecRuleEngine On` when the directive is present) or `evasive20_module` \
               (mod_evasive).",
        why: "A web application firewall blocks common injection payloads and scanners before \
              they reach the application; mod_evasive slows down floods from one client.",
        remediation: "apt install libapache2-mod-security2 (set `SecRuleEngine On` in \
                      /etc/modsecurity/modsecurity.conf, add the OWASP CRS) or apt install \
                      libapache2-mod-evasive; apache2ctl configtest && systemctl restart \
                      apache2.",
        verify: "apache2ctl -M | grep -E 'security2|evasive'",
        references: &[
            "seed 002 Phase 2 §2 (« Envisager mod_security (WAF) et mod_evasive »)",
            "seed 000 §7 Protection contre les attaques",
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
    if let Some(m) = cfg.module("security2_module") {
        let off = cfg
            .tree
            .iter()
            .rev()
            .find(|d| d.is("SecRuleEngine"))
            .filter(|d| !d.arg(0).is_some_and(|v| v.eq_ignore_ascii_case("on")));
        if let Some(d) = off {
            if cfg.module("evasive20_module").is_none() {
                return Outcome::fail("ModSecurity is loaded but does not block").with(
                    d.evidence()
                        .key("SecRuleEngine")
                        .actual(d.arg(0).unwrap_or(""))
                        .expected("On"),
                );
            }
        }
        return Outcome::pass(format!("ModSecurity loaded ({}:{})", m.file, m.line));
    }
    if let Some(m) = cfg.module("evasive20_module") {
        return Outcome::pass(format!("mod_evasive loaded ({}:{})", m.file, m.line));
    }
    Outcome::fail("neither mod_security2 nor mod_evasive is loaded").with(
        Evidence::file(MAIN_FILE)
            .key("LoadModule")
            .actual("no security2_module, no evasive20_module")
            .expected("security2_module or evasive20_module"),
    )
}
