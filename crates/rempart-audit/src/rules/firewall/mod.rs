//! The firewall family.
