//! Traefik's access log, in its common format (CLF plus request count, router, URL and duration)
//! or its JSON format: failed HTTP authentication (`traefik-auth`: 401 answers; in `normal` mode
//! only those where the client sent a user name, in `ddos` mode only anonymous ones, in
//! `aggressive` mode both plus 403 answers) and known bad robots (`traefik-badbots`).

use super::access;
use super::apache::BadBots;
use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::addr::{self, Host};
use crate::time::Clock;
use jiff::Timestamp;
use serde::Deserialize;

/// The built-in `traefik-auth` filter.
pub const AUTH: Builtin = Builtin {
    name: "traefik-auth",
    about: "HTTP authentication failures in Traefik's access log (common or JSON format)",
    modes: &["normal", "ddos", "aggressive"],
    samples: AUTH_SAMPLES,
    build: build_auth,
};

/// The built-in `traefik-badbots` filter.
pub const BADBOTS: Builtin = Builtin {
    name: "traefik-badbots",
    about: "Requests from harvesters, spam robots and attack tools in Traefik's access log",
    modes: &[],
    samples: BADBOTS_SAMPLES,
    build: build_badbots,
};

fn build_auth(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&AUTH)?;
    opts.reject_path_prefix(AUTH.name)?;
    let mode = opts.mode.as_deref().unwrap_or("normal");
    Ok(Box::new(TraefikAuth {
        named: mode != "ddos",
        anonymous: mode != "normal",
        forbidden: mode == "aggressive",
    }))
}

fn build_badbots(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&BADBOTS)?;
    opts.reject_path_prefix(BADBOTS.name)?;
    Ok(Box::new(BadBots::new()))
}

/// The fields of a JSON access-log line the guard reads.
#[derive(Debug, Deserialize)]
struct JsonLine<'a> {
    #[serde(rename = "ClientHost", borrow, default)]
    client_host: Option<&'a str>,
    #[serde(rename = "ClientAddr", borrow, default)]
    client_addr: Option<&'a str>,
    #[serde(rename = "ClientUsername", borrow, default)]
    username: Option<&'a str>,
    #[serde(rename = "DownstreamStatus", default)]
    status: Option<u16>,
    #[serde(rename = "RequestPath", borrow, default)]
    path: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "RequestMethod", borrow, default)]
    method: Option<&'a str>,
    #[serde(rename = "StartUTC", borrow, default)]
    start: Option<&'a str>,
    #[serde(rename = "request_User-Agent", borrow, default)]
    agent: Option<std::borrow::Cow<'a, str>>,
}

/// A Traefik JSON access-log line, reduced to what filters read.
#[derive(Debug)]
pub struct JsonAccess<'a> {
    /// The client.
    pub host: Host,
    /// The user name the client sent (`-` or absent when none).
    pub user: Option<&'a str>,
    /// The status sent to the client.
    pub status: u16,
    /// The request path.
    pub path: String,
    /// The method.
    pub method: &'a str,
    /// The user agent (only when Traefik keeps that header).
    pub agent: Option<std::borrow::Cow<'a, str>>,
    /// The start of the request.
    pub time: Option<Timestamp>,
}

/// Reads a Traefik JSON access-log line.
pub fn json_access(line: &str) -> Option<JsonAccess<'_>> {
    let j: JsonLine<'_> = serde_json::from_str(line.trim_end()).ok()?;
    let host = match (j.client_host, j.client_addr) {
        (Some(h), _) => addr::parse_host(h)?,
        (None, Some(a)) => addr::parse_host_port(a)?,
        (None, None) => return None,
    };
    Some(JsonAccess {
        host,
        user: j.username,
        status: j.status?,
        path: j.path.map(|p| p.into_owned()).unwrap_or_default(),
        method: j.method.unwrap_or(""),
        agent: j.agent,
        time: j.start.and_then(|s| s.parse().ok()),
    })
}

/// The traefik-auth detector.
#[derive(Debug)]
pub struct TraefikAuth {
    named: bool,
    anonymous: bool,
    forbidden: bool,
}

impl TraefikAuth {
    fn judge(&self, status: u16, user: Option<&str>) -> Option<&'static str> {
        let anonymous = matches!(user, None | Some("-" | ""));
        match status {
            401 if anonymous && self.anonymous => Some("anonymous-401"),
            401 if !anonymous && self.named => Some("auth-failure"),
            403 if self.forbidden => Some("forbidden"),
            _ => None,
        }
    }
}

impl Filter for TraefikAuth {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        let text = input.text;
        if text.starts_with('{') {
            let j = json_access(text)?;
            let rule = self.judge(j.status, j.user)?;
            return Some(Failure {
                host: j.host,
                time: input.time.or(j.time),
                rule,
            });
        }
        if !text.contains("\" 40") {
            return None;
        }
        let a = access::parse(text)?;
        let rule = self.judge(a.status, Some(a.user))?;
        Some(Failure {
            time: input.time.or_else(|| a.timestamp(clock)),
            host: a.host,
            rule,
        })
    }
}

const AUTH_SAMPLES: &[Sample] = &[
    Sample::hit(
        "203.0.113.50 - admin [14/Jun/2025:09:15:02 +0000] \"GET /dashboard/ HTTP/2.0\" 401 17 \"-\" \"Mozilla/5.0\" 72 \"dashboard@docker\" \"http://10.0.0.5:8080\" 0ms",
        "203.0.113.50",
        "2025-06-14T09:15:02Z",
    ),
    Sample::miss(
        "203.0.113.51 - - [14/Jun/2025:09:15:03 +0000] \"GET /dashboard/ HTTP/2.0\" 401 17 \"-\" \"Mozilla/5.0\" 73 \"dashboard@docker\" \"http://10.0.0.5:8080\" 0ms",
    )
    .about("a browser's first, anonymous request is answered 401: not a failure in normal mode"),
    Sample::hit(
        "203.0.113.51 - - [14/Jun/2025:09:15:03 +0000] \"GET /dashboard/ HTTP/2.0\" 401 17 \"-\" \"Mozilla/5.0\" 73 \"dashboard@docker\" \"http://10.0.0.5:8080\" 0ms",
        "203.0.113.51",
        "2025-06-14T09:15:03Z",
    )
    .mode("ddos"),
    Sample::hit(
        "{\"ClientAddr\":\"[2001:db8::52]:41234\",\"ClientHost\":\"2001:db8::52\",\"ClientUsername\":\"admin\",\"DownstreamStatus\":401,\"RequestMethod\":\"GET\",\"RequestPath\":\"/api\",\"StartUTC\":\"2025-06-14T09:15:04.123456789Z\"}",
        "2001:db8::52",
        "2025-06-14T09:15:04.123456789Z",
    )
    .about("Traefik's JSON access log"),
    Sample::miss(
        "192.0.2.53 - admin [14/Jun/2025:09:15:05 +0000] \"GET /dashboard/ HTTP/2.0\" 200 716 \"-\" \"Mozilla/5.0\" 118 \"dashboard@docker\" \"http://10.0.0.5:8080\" 4ms",
    ),
];

const BADBOTS_SAMPLES: &[Sample] = &[
    Sample::hit(
        "203.0.113.60 - - [14/Jun/2025:09:15:02 +0000] \"GET /.env HTTP/1.1\" 404 19 \"-\" \"Mozilla/5.0 zgrab/0.x\" 80 \"web@docker\" \"http://10.0.0.5:80\" 1ms",
        "203.0.113.60",
        "2025-06-14T09:15:02Z",
    ),
    Sample::hit(
        "{\"ClientHost\":\"203.0.113.61\",\"DownstreamStatus\":200,\"RequestMethod\":\"GET\",\"RequestPath\":\"/\",\"StartUTC\":\"2025-06-14T09:15:03Z\",\"request_User-Agent\":\"Nuclei - Open-source project (github.com/projectdiscovery/nuclei)\"}",
        "203.0.113.61",
        "2025-06-14T09:15:03Z",
    ),
    Sample::miss(
        "192.0.2.62 - - [14/Jun/2025:09:15:04 +0000] \"GET / HTTP/1.1\" 200 19 \"-\" \"Mozilla/5.0 (Macintosh)\" 81 \"web@docker\" \"http://10.0.0.5:80\" 1ms",
    ),
];
