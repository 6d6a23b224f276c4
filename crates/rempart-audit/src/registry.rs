//! The catalogue: every rule, one line each, in documentation order. No hidden registration: a
//! rule exists when it is listed here. Ids are never reused; a renamed rule keeps a redirect in
//! [`REDIRECTS`].

use crate::rule::Rule;
#[allow(unused_imports)]
use crate::rules::*;

pub const RULES: &[Rule] = &[
    // ssh
    ssh::root_login::RULE,
    ssh::password_auth::RULE,
    ssh::kbd_interactive::RULE,
    ssh::empty_passwords::RULE,
    ssh::admin_key::RULE,
    ssh::max_auth_tries::RULE,
    ssh::login_grace_time::RULE,
    ssh::x11_forwarding::RULE,
    ssh::log_level::RULE,
    ssh::allow_users::RULE,
    ssh::match_weakens::RULE,
    ssh::crypto::CIPHERS,
    ssh::crypto::MACS,
    ssh::crypto::KEX,
    ssh::hostkey_algorithms::RULE,
    ssh::host_key_perms::RULE,
    // kernel
    kernel::network::SYNCOOKIES,
    kernel::network::IP_FORWARD,
    kernel::redirects::SOURCE_ROUTE,
    kernel::redirects::ACCEPT_REDIRECTS,
    kernel::redirects::SEND_REDIRECTS,
    kernel::network::LOG_MARTIANS,
    kernel::network::RP_FILTER,
    kernel::exposure::ASLR,
    kernel::exposure::KPTR_RESTRICT,
    kernel::exposure::DMESG_RESTRICT,
    kernel::exposure::SUID_DUMPABLE,
    kernel::core_dumps::RULE,
    kernel::drift::RULE,
    // accounts
    accounts::uid0::RULE,
    accounts::passwords::EMPTY,
    accounts::passwords::ROOT,
    accounts::service_shell::RULE,
    accounts::admins::RULE,
    accounts::sudo_nopasswd::RULE,
    // files
    files::world_writable::RULE,
    files::secrets::RULE,
    files::sensitive_etc::RULE,
    // updates
    updates::auto_upgrades::RULE,
    updates::pending_security::RULE,
    // firewall
    firewall::active::RULE,
    firewall::default_deny::RULE,
    firewall::open_ports::RULE,
    firewall::live_ruleset::RULE,
    firewall::live_exposed::RULE,
    firewall::docker::RULE,
    // intrusion
    intrusion::installed::RULE,
    intrusion::sshd_jail::RULE,
    intrusion::backend::RULE,
    intrusion::banaction::RULE,
    // services
    services::runs_as_root::RULE,
    services::account_shell::RULE,
    services::sandboxing::RULE,
    services::bind_all::RULE,
    services::dev_mode::RULE,
    // database
    database::pg_listen::RULE,
    database::pg_hba_rules::TRUST,
    database::pg_hba_rules::OPEN,
    database::pg_hba_rules::WEAK_AUTH,
    database::pg_ssl::RULE,
    database::pg_password_encryption::RULE,
    database::pg_datadir::RULE,
    database::pg_superuser::RULE,
    database::my_bind::RULE,
    database::my_options::LOCAL_INFILE,
    database::my_options::SYMLINKS,
    database::my_datadir::RULE,
    database::my_secure_install::RULE,
    database::my_privileges::RULE,
    // encryption
    encryption::data_volumes::RULE,
    encryption::keyfile_perms::RULE,
    // backup
    backup::scheduled::RULE,
    backup::encrypted::RULE,
    backup::offsite::RULE,
    backup::fresh::RULE,
    backup::retention::RULE,
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
    // integrity
    integrity::baseline_missing::RULE,
    integrity::baseline_stale::RULE,
    integrity::changes::RULE,
    services::listen_public::RULE,
    services::root_process::RULE,
    services::config_drift::RULE,
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
