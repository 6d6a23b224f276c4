//! The encryption-at-rest family: volumes opened from `/etc/crypttab` (LUKS/dm-crypt), whether
//! the database data directories sit on one, and whether the key files that unlock them at
//! boot are root-only. It owns the crypttab, fstab and mountinfo parsers ([`tables`]). It does
//! not judge other secret files (the files family does) nor TLS (the web family does).

pub mod data_volumes;
pub mod keyfile_perms;
pub mod tables;

pub use tables::Volumes;
