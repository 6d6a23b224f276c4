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

    // services
    services::runs_as_root::RULE,
    services::account_shell::RULE,
    services::sandboxing::RULE,
    services::bind_all::RULE,
    services::dev_mode::RULE,
    // app
    app::django::debug::RULE,
    app::django::allowed_hosts::RULE,
    app::django::secret_key::RULE,
    app::django::cookies::RULE,
    app::django::hsts::RULE,
    app::django::ssl_redirect::RULE,
    app::web::fastapi_debug::RULE,
    app::web::fastapi_docs::RULE,
    app::web::session_secret::RULE,
    app::env_perms::RULE,
    app::env_secrets::RULE,
    app::deps_pinned::RULE,
    app::venv::RULE,
    // containers
    containers::ports_all_interfaces::RULE,
    containers::privileged::RULE,
    containers::docker_socket::RULE,
    containers::host_network::RULE,
    containers::image_latest::RULE,
    containers::weak_password::RULE,
    containers::grafana_anonymous::RULE,
    containers::prometheus_admin_api::RULE,
    // logging
    logging::rotate_app::RULE,
    logging::django_level::RULE,
    logging::central::RULE,
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
