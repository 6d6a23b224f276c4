//! The updates family: automatic security updates (unattended-upgrades) and, on a live host,
//! security updates waiting to be installed.

pub mod apt_conf;
pub mod auto_upgrades;
pub mod pending_security;
