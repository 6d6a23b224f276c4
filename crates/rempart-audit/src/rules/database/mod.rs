//! The database family: PostgreSQL clusters (Debian layout, `/etc/postgresql/<ver>/<cluster>/`)
//! and the MariaDB/MySQL server (`/etc/mysql/my.cnf` and its `!includedir` chain).
//!
//! It owns the parsers of `postgresql.conf` ([`pgconf`]), `pg_hba.conf` ([`pghba`]) and the
//! MariaDB option files ([`mycnf`]), the public [`Databases`] fact (the servers found, which the
//! backup and encryption families use), and the live queries of a local server through its
//! command-line client ([`live`]). It does not judge backups or disk encryption of the data
//! directory: the backup and encryption families do, from the same fact.

pub mod live;
pub mod my_bind;
pub mod my_datadir;
pub mod my_options;
pub mod my_privileges;
pub mod my_secure_install;
pub mod mycnf;
pub mod pg_datadir;
pub mod pg_hba_rules;
pub mod pg_listen;
pub mod pg_password_encryption;
pub mod pg_ssl;
pub mod pg_superuser;
pub mod pgconf;
pub mod pghba;
pub mod servers;

pub use servers::{Databases, DbKind, DbServer, ServerDetail};

use crate::host::HostError;
use crate::model::Evidence;
use crate::rule::Outcome;

/// A configuration that could not be read or parsed. Names the file (and line) concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: String,
        line: u32,
        message: String,
    },
}

impl From<ConfError> for Outcome {
    fn from(e: ConfError) -> Outcome {
        match e {
            ConfError::Host(h) => Outcome::from(h),
            ConfError::Syntax { ref path, line, .. } => {
                let ev = Evidence::file(path.clone()).line(line);
                Outcome::error(e.to_string()).with(ev)
            }
        }
    }
}

/// True for an address that only the host itself can reach: `localhost`, `127.0.0.0/8`, `::1`,
/// or a Unix socket directory. Brackets and a `/prefix` are ignored.
pub fn is_loopback(addr: &str) -> bool {
    let a = addr.trim().trim_matches(|c| c == '[' || c == ']');
    let a = a.split('/').next().unwrap_or(a);
    if a.eq_ignore_ascii_case("localhost") || a.eq_ignore_ascii_case("ip6-localhost") {
        return true;
    }
    match a.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}
