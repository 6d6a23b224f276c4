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
    firewall::active::RULE,
    firewall::default_deny::RULE,
    firewall::open_ports::RULE,
    firewall::live_ruleset::RULE,
    // intrusion
    intrusion::installed::RULE,
    intrusion::sshd_jail::RULE,
    intrusion::backend::RULE,
    intrusion::banaction::RULE,
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
