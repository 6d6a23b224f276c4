//! Live facts of the running system, read through host paths under `/proc` so that a fixture tree
//! with `live = true` can stand for a running machine: the process table ([`Processes`]) and the
//! listening sockets with their owners ([`Listeners`]). Nothing here is collected under `--root`
//! (the running kernel is not the tree's); nothing here spawns a process.
//!
//! It does not judge: the services rules (`SVC-LISTEN-PUBLIC`, `SVC-ROOT-PROCESS`,
//! `SVC-CONFIG-DRIFT`) do.

pub mod processes;
pub mod procfs;
pub mod sockets;

pub use processes::{Process, Processes};
pub use sockets::{Listener, Listeners};
