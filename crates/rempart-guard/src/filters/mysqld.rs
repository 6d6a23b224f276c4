//! MySQL and MariaDB: `Access denied for user 'U'@'HOST'` in the error log (file, syslog or
//! journal), in the formats of MySQL 5.x to 8.x and MariaDB 10.x. The message must end the line:
//! text after it means the line is something else quoting it.

use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::addr;
use crate::time::{self, Clock};
use memchr::memmem::Finder;

/// The built-in `mysqld-auth` filter.
pub const BUILTIN: Builtin = Builtin {
    name: "mysqld-auth",
    about: "MySQL / MariaDB access denied (error log, syslog or journal)",
    modes: &[],
    samples: SAMPLES,
    build,
};

fn build(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&BUILTIN)?;
    opts.reject_path_prefix(BUILTIN.name)?;
    Ok(Box::new(Mysqld {
        needle: Finder::new(b"Access denied for user '").into_owned(),
    }))
}

/// The mysqld-auth detector.
#[derive(Debug)]
pub struct Mysqld {
    needle: Finder<'static>,
}

impl Filter for Mysqld {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        let line = input.text.trim_end();
        let at = self.needle.find(line.as_bytes())?;
        let head = &line[..at];
        if !(head.ends_with("] ") || head.ends_with(": ")) {
            return None;
        }
        let tail = &line[at + 24..];
        let tail = tail
            .strip_suffix(" (using password: YES)")
            .or_else(|| tail.strip_suffix(" (using password: NO)"))
            .unwrap_or(tail);
        let tail = tail.strip_suffix('\'')?;
        // The host is the last quoted field: `'user'@'host'`, user names may hold quotes.
        let sep = tail.rfind("'@'")?;
        let host = addr::parse_host(&tail[sep + 3..])?;
        let time = input
            .time
            .or_else(|| time::leading(clock, line).map(|(t, _)| t));
        Some(Failure {
            host,
            time,
            rule: "access-denied",
        })
    }
}

const SAMPLES: &[Sample] = &[
    Sample::hit(
        "2025-06-14T09:15:02.123456Z 113 [Note] [MY-010926] [Server] Access denied for user 'root'@'203.0.113.70' (using password: YES)",
        "203.0.113.70",
        "2025-06-14T09:15:02.123456Z",
    ),
    Sample::hit(
        "2025-06-14  9:15:03 4644 [Warning] Access denied for user 'app'@'2001:db8::71' (using password: NO)",
        "2001:db8::71",
        "2025-06-14T09:15:03Z",
    )
    .about("MariaDB pads the hour with a space"),
    Sample::hit(
        "Jun 14 09:15:04 db1 mariadbd[812]: 2025-06-14  9:15:04 31 [Warning] Access denied for user 'x'@'y'@'203.0.113.72' (using password: YES)",
        "203.0.113.72",
        "2025-06-14T09:15:04Z",
    )
    .about("a quote typed into the user name does not move the host"),
    Sample::miss(
        "2025-06-14T09:15:05.1 6 [Note] Access denied for user 'root'@'192.0.2.73' (using password: YES) and then something else",
    ),
];
