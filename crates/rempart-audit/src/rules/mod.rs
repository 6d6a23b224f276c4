//! The rule families. One folder per family, one file per rule or per small group of twins; the
//! parsing of a family's configuration format lives once, in its folder. Rules are listed in
//! [`crate::registry`].

pub mod accounts;
pub mod app;
pub mod backup;
pub mod containers;
pub mod database;
pub mod encryption;
pub mod files;
pub mod firewall;
pub mod integrity;
pub mod intrusion;
pub mod kernel;
pub mod logging;
pub mod services;
pub mod ssh;
pub mod updates;
pub mod web;
