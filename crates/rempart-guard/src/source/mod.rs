//! Where lines come from: log files followed across rotation ([`file`]) and the systemd journal
//! ([`journal`]), both resuming where they stopped. [`lines`] splits bytes into bounded lines.
//!
//! Sources only yield lines; they do not match or count anything.

pub mod file;
pub mod journal;
pub mod lines;
