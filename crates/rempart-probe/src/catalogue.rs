//! The probe's rules: documentation and identity only (ids, severities, levels, remediation),
//! listed like the audit's registry, one line each. `rempart rules --probe` lists them and
//! `rempart explain` finds them; `docs/probe-rules/` is generated from them.

use rempart_audit::Rule;

use crate::ports;

pub const RULES: &[Rule] = &[
    // firewall: the port scan
    ports::RULE,
];

/// The probe rule with this id or name (case-insensitive).
pub fn find(id_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id_or_name) || r.name.eq_ignore_ascii_case(id_or_name))
}
