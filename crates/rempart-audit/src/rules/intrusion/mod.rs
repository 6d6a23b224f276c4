//! The intrusion prevention family: fail2ban (or rempart guard) runs, its sshd jail is enabled,
//! reads a log that exists on Debian 12, and bans with the host's firewall (nftables).
//!
//! [`ini`] reads one fail2ban file as Python's configparser does; [`fail2ban`] merges the files
//! in fail2ban's order with its interpolation; [`guard`] is the hook for rempart's own banning
//! daemon; [`ips`] decides what the host runs. fail2ban's filters and actions themselves are not
//! judged.

pub mod fail2ban;
pub mod guard;
pub mod ini;
pub mod ips;

pub mod backend;
pub mod banaction;
pub mod installed;
pub mod sshd_jail;
