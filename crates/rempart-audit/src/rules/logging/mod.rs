//! The logging family: the log files the host's applications and servers write ([`logs`]) are
//! rotated by logrotate ([`logrotate`] parses its configuration), Django's logging stays at
//! production levels (seed 002 Phase 2 §4), and logs are shipped off the host (seed 000 §8).
//! journald's own retention is not judged here.

pub mod logrotate;
pub mod logs;

pub mod central;
pub mod django_level;
pub mod rotate_app;
