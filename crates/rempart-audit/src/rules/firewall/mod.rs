//! The firewall family.

pub mod docker;
