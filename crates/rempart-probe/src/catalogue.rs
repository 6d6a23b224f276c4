//! The probe's rules: documentation and identity only (ids, severities, levels, remediation),
//! listed like the audit's registry, one line each. `rempart rules --probe` lists them and
//! `rempart explain` finds them; `docs/probe-rules/` is generated from them.

use rempart_audit::Rule;

use crate::{ports, tls, web};

pub const RULES: &[Rule] = &[
    // web: plain HTTP and headers
    web::redirect::RULE,
    web::headers::HSTS,
    web::headers::HSTS_SUBDOMAINS,
    web::headers::CSP,
    web::headers::FRAMING,
    web::headers::NOSNIFF,
    web::headers::REFERRER,
    web::headers::PERMISSIONS,
    web::cookies::RULE,
    web::banner::RULE,
    // web: what should not answer
    web::debug::RULE,
    web::exposed::API_DOCS,
    web::exposed::ADMIN,
    web::exposed::TRAEFIK,
    web::exposed::METRICS,
    web::exposed::SERVER_STATUS,
    web::exposed::DIR_LISTING,
    web::exposed::SECRET_FILES,
    // web: TLS
    tls::rules::PROTOCOLS,
    tls::rules::CERT,
    tls::rules::EXPIRY,
    tls::rules::KEY,
    tls::rules::OCSP,
    tls::rules::CIPHERS,
    // firewall: the port scan
    ports::RULE,
];

/// The probe rule with this id or name (case-insensitive).
pub fn find(id_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id_or_name) || r.name.eq_ignore_ascii_case(id_or_name))
}
