//! The kernel family: sysctl hardening (network stack, memory and log exposure) judged on the
//! configuration the host boots with and, on a live host, on the running kernel; drift between
//! the two; core dumps.
//!
//! The sysctl.d syntax is parsed in [`sysctl_d`], merged with systemd-sysctl's precedence in
//! [`sysctl`], completed by kernel defaults in [`defaults`], and judged the same way for every
//! key in [`judge`]. pam_limits and coredump.conf, needed for core dumps, are parsed in
//! [`limits`] and [`coredump_conf`]. It does not judge the firewall or the kernel's modules.

pub mod core_dumps;
pub mod coredump_conf;
pub mod defaults;
pub mod docker;
pub mod drift;
pub mod exposure;
pub mod judge;
pub mod limits;
pub mod network;
pub mod redirects;
pub mod sysctl;
pub mod sysctl_d;
