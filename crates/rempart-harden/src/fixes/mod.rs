//! The fixes: one function per fixable rule, in a table (greppable, one line per rule, like the
//! rule registry). A fix reads the same facts as its rule and returns the intents that make the
//! rule pass, preferring drop-ins the software reads over editing its main file.

mod services;
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
];

/// The fix of a rule, if it has one.
pub fn find(rule: &str) -> Option<FixFn> {
    FIXES.iter().find(|(id, _)| *id == rule).map(|(_, f)| *f)
}

/// The header of every drop-in rempart writes.
pub fn header(comment: &str, rules: &str) -> String {
    format!(
        "{comment} Written by `rempart harden` ({rules}). `rempart harden rollback` removes it.\n"
    )
}
