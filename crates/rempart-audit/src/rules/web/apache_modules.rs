//! WEB-APACHE-MODULES: no risky module is loaded (status, info, cgi, cgid, autoindex, userdir).

use super::apache::{module_key, Apache};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

/// Module keys judged risky on an Internet-facing server, with why.
pub const RISKY: &[(&str, &str)] = &[
    ("status", "/server-status shows every client IP and URL; behind a local reverse proxy `Require local` lets the world in"),
    ("info", "/server-info shows the whole configuration"),
    ("cgi", "runs scripts as CGI programs"),
    ("cgid", "runs scripts as CGI programs"),
    ("autoindex", "lists the content of directories without an index file"),
    ("userdir", "publishes ~/public_html of every user"),
];

pub const RULE: Rule = Rule {
    id: "WEB-APACHE-MODULES",
    name: "apache-risky-modules-enabled",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Apache loads no risky module (status, info, cgi, autoindex, userdir)",
    doc: RuleDoc {
        what: "No `LoadModule` that httpd executes (mods-enabled/*.load and anything else \
               included) loads mod_status, mod_info, mod_cgi, mod_cgid, mod_autoindex or \
               mod_userdir. Modules only present in mods-available do not count. Debian enables \
               status and autoindex by default.",
        why: "Each module exposes something an attacker can use: server-status leaks client \
              addresses and URLs (with tokens) and is reachable from anywhere when a local \
              reverse proxy forwards to httpd; cgi runs programs; autoindex and userdir publish \
              files nobody meant to publish; server-info shows the configuration.",
        remediation: "a2dismod status cgi (and -f autoindex, info, userdir as applicable), then \
                      `apache2ctl configtest && systemctl restart apache2`.",
        verify: "apache2ctl -M | grep -E 'status|info|cgi|autoindex|userdir'",
        references: &[
            "seed 002 Phase 2 §2 (« Désactiver modules inutiles : sudo a2dismod status cgi »)",
            "CIS Apache HTTP Server 2.4 Benchmark 2.3-2.9",
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
    let bad: Vec<Evidence> = cfg
        .modules
        .iter()
        .filter_map(|m| {
            let key = module_key(&m.id);
            let (_, why) = RISKY.iter().find(|(k, _)| *k == key)?;
            Some(
                Evidence::file(&m.file)
                    .line(m.line)
                    .snippet(&m.text)
                    .key(m.id.as_str())
                    .actual("loaded")
                    .expected("not loaded")
                    .note(*why),
            )
        })
        .collect();
    if bad.is_empty() {
        Outcome::pass(format!("{} modules loaded, none risky", cfg.modules.len()))
    } else {
        let names: Vec<String> = bad.iter().filter_map(|e| e.key.clone()).collect();
        Outcome::fail(format!("risky modules loaded: {}", names.join(", "))).with_all(bad)
    }
}
