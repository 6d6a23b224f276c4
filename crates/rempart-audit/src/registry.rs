//! The catalogue: every rule, one line each, in documentation order. No hidden registration: a
//! rule exists when it is listed here. Ids are never reused; a renamed rule keeps a redirect in
//! [`REDIRECTS`].

use crate::rule::Rule;
#[allow(unused_imports)]
use crate::rules::*;

pub const RULES: &[Rule] = &[
    // ssh

    // kernel

    // accounts

    // files

    // updates
    updates::auto_upgrades::RULE,
    updates::pending_security::RULE,
    // firewall

    // intrusion

    // web
    web::http_redirect::RULE,
    web::apache_tls::RULE,
    web::apache_headers::RULE,
    web::apache_tokens::RULE,
    web::apache_trace::RULE,
    web::apache_modules::RULE,
    web::apache_body_limit::RULE,
    web::apache_waf::RULE,
    web::nginx_tls::RULE,
    web::nginx_headers::RULE,
    web::nginx_tokens::RULE,
    web::nginx_body_limit::RULE,
    web::traefik_api::RULE,
    web::traefik_dashboard::RULE,
    web::traefik_redirect::RULE,
    web::traefik_tls::RULE,
    web::traefik_headers::RULE,
    web::traefik_rate_limit::RULE,
    web::traefik_docker_socket::RULE,
    web::cert_expiry::RULE,
    web::cert_key_perms::RULE,
    web::cert_renewal::RULE,
];

/// Old ids that now live under another id: `(old, new)`.
pub const REDIRECTS: &[(&str, &str)] = &[];

/// The rule with this id (or name, or redirected old id).
pub fn find(id_or_name: &str) -> Option<&'static Rule> {
    let id = REDIRECTS
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(id_or_name))
        .map_or(id_or_name, |(_, new)| new);
    RULES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id) || r.name.eq_ignore_ascii_case(id))
}
