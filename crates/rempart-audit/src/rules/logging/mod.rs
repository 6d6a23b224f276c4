//! The logging family: the log files the host's applications and servers write ([`logs`]) are
//! rotated by logrotate ([`logrotate`] parses its configuration), and Django's logging stays at
//! production levels (seed 002 Phase 2 §4). journald's own retention and central log shipping
//! are not judged here.

pub mod logrotate;
pub mod logs;

pub mod django_level;
pub mod rotate_app;
