//! The catalogue: every rule, one line each, in documentation order. No hidden registration: a
//! rule exists when it is listed here. Ids are never reused; a renamed rule keeps a redirect in
//! [`REDIRECTS`].

use crate::rule::Rule;
#[allow(unused_imports)]
use crate::rules::*;

pub const RULES: &[Rule] = &[
    // ssh

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
    firewall::docker::RULE,
    // intrusion

    // services
    services::runs_as_root::RULE,
    services::account_shell::RULE,
    services::sandboxing::RULE,
    services::bind_all::RULE,
    services::dev_mode::RULE,
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
