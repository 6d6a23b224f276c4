//! API abuse: every request to a path prefix (`/ingest`) in an access log (Apache, nginx,
//! Traefik common or JSON format) counts as one event, so the jail's `maxretry` within
//! `findtime` becomes a request-rate ceiling per client (20 requests in a minute...).

use super::access;
use super::traefik;
use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::time::Clock;

/// The built-in `api-abuse` filter.
pub const BUILTIN: Builtin = Builtin {
    name: "api-abuse",
    about: "Requests per client on a path prefix (set path_prefix), rate-limited by the jail",
    modes: &[],
    samples: SAMPLES,
    build,
};

fn build(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&BUILTIN)?;
    let prefix = match opts.path_prefix.as_deref() {
        Some(p) if p.starts_with('/') => p.to_string(),
        Some(p) => {
            return Err(FilterError::Option {
                filter: BUILTIN.name.to_string(),
                message: format!("path_prefix `{p}` must start with `/`"),
            })
        }
        None => {
            return Err(FilterError::Option {
                filter: BUILTIN.name.to_string(),
                message: "needs `path_prefix` (for example \"/ingest\")".to_string(),
            })
        }
    };
    Ok(Box::new(ApiAbuse { prefix }))
}

/// The api-abuse detector.
#[derive(Debug)]
pub struct ApiAbuse {
    prefix: String,
}

impl ApiAbuse {
    fn hits(&self, target: &str) -> bool {
        let path = target.split('?').next().unwrap_or("");
        match path.strip_prefix(self.prefix.as_str()) {
            Some(rest) => {
                self.prefix.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '.'])
            }
            None => false,
        }
    }
}

impl Filter for ApiAbuse {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        if !input.text.contains(self.prefix.as_str()) {
            return None;
        }
        if input.text.starts_with('{') {
            let j = traefik::json_access(input.text)?;
            return self.hits(&j.path).then(|| Failure {
                host: j.host,
                time: input.time.or(j.time),
                rule: "api-request",
            });
        }
        let a = access::parse(input.text)?;
        if !self.hits(a.target) {
            return None;
        }
        Some(Failure {
            time: input.time.or_else(|| a.timestamp(clock)),
            host: a.host,
            rule: "api-request",
        })
    }
}

const SAMPLES: &[Sample] = &[
    Sample::hit(
        "203.0.113.100 - - [14/Jun/2025:09:15:02 +0000] \"POST /ingest HTTP/1.1\" 200 2 \"-\" \"agent/1.0\" 90 \"api@docker\" \"http://10.0.0.6:8000\" 3ms",
        "203.0.113.100",
        "2025-06-14T09:15:02Z",
    ),
    Sample::hit(
        "203.0.113.101 - - [14/Jun/2025:09:15:03 +0000] \"POST /ingest/batch?site=3 HTTP/1.1\" 200 2 \"-\" \"agent/1.0\"",
        "203.0.113.101",
        "2025-06-14T09:15:03Z",
    ),
    Sample::miss(
        "192.0.2.102 - - [14/Jun/2025:09:15:04 +0000] \"GET /ingestion-report HTTP/1.1\" 200 2 \"-\" \"Mozilla/5.0\"",
    )
    .about("the prefix matches whole path segments"),
    Sample::miss(
        "192.0.2.103 - - [14/Jun/2025:09:15:05 +0000] \"GET /ui/?next=/ingest HTTP/1.1\" 200 2 \"-\" \"Mozilla/5.0\"",
    ),
];
