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

    // accounts

    // files

    // updates
    updates::auto_upgrades::RULE,
    updates::pending_security::RULE,
    // firewall

    // intrusion
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
