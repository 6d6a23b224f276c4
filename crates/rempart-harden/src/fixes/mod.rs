//! The fixes: one function per fixable rule, in a table (greppable, one line per rule, like the
//! rule registry). A fix reads the same facts as its rule and returns the intents that make the
//! rule pass, preferring drop-ins the software reads over editing its main file. Rules that are
//! deliberately left to the admin are listed in [`MANUAL`] with the reason.

mod services;
pub mod ssh;
mod updates;

use crate::change::Fix;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;

/// A fix: `Ok(None)` when there is nothing to change, `Err(reason)` when it cannot be fixed
/// automatically on this host.
pub type FixFn = fn(&Ctx, &Finding) -> Result<Option<Fix>, String>;

/// Every fixable rule and its fix.
pub const FIXES: &[(&str, FixFn)] = &[
    // updates
    ("UPD-AUTO-UPGRADES", updates::auto_upgrades),
    // services
    ("SVC-SANDBOXING", services::sandboxing),
    // ssh
    ("SSH-ROOT-LOGIN", ssh::root_login),
    ("SSH-PASSWORD-AUTH", ssh::password_auth),
    ("SSH-KBD-INTERACTIVE", ssh::kbd_interactive),
    ("SSH-EMPTY-PASSWORDS", ssh::empty_passwords),
    ("SSH-MAX-AUTH-TRIES", ssh::max_auth_tries),
    ("SSH-LOGIN-GRACE-TIME", ssh::login_grace_time),
    ("SSH-X11-FORWARDING", ssh::x11_forwarding),
    ("SSH-LOG-LEVEL", ssh::log_level),
    ("SSH-CIPHERS", ssh::ciphers),
    ("SSH-MACS", ssh::macs),
    ("SSH-KEX", ssh::kex),
    ("SSH-HOSTKEY-ALGORITHMS", ssh::hostkey_algorithms),
    ("SSH-ALLOW-USERS", ssh::allow_users),
    ("SSH-HOST-KEY-PERMS", ssh::host_key_perms),
];

/// Rules with no automatic fix on purpose, and why (shown in the plan next to the rule).
pub const MANUAL: &[(&str, &str)] = &[
    // ssh
    ("SSH-ADMIN-KEY", "rempart does not invent keys: create the admin's key on their workstation, `ssh-copy-id` it to a sudo user, and log in with it from a second session"),
    ("SSH-MATCH-WEAKENS", "a Match block is usually a deliberate exception (a backup robot, a VPN range): narrow it or remove the loosened line by hand, or ignore the rule in rempart.toml with the reason"),
];

/// The fix of a rule, if it has one.
pub fn find(rule: &str) -> Option<FixFn> {
    FIXES.iter().find(|(id, _)| *id == rule).map(|(_, f)| *f)
}

/// Why a rule has no automatic fix, when that is deliberate.
pub fn manual(rule: &str) -> Option<&'static str> {
    MANUAL.iter().find(|(id, _)| *id == rule).map(|(_, r)| *r)
}

/// The header of every drop-in rempart writes.
pub fn header(comment: &str, rules: &str) -> String {
    format!(
        "{comment} Written by `rempart harden` ({rules}). `rempart harden rollback` removes it.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rempart_audit::registry::RULES;

    #[test]
    fn tables_name_real_rules_once() {
        let mut seen = std::collections::HashSet::new();
        for id in FIXES
            .iter()
            .map(|(id, _)| *id)
            .chain(MANUAL.iter().map(|(id, _)| *id))
        {
            assert!(RULES.iter().any(|r| r.id == id), "{id} is not a rule");
            assert!(seen.insert(id), "{id} is listed twice");
        }
    }
}
