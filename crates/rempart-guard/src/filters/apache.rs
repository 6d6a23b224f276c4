//! Apache httpd: authentication and authorization failures in the error log (`apache-auth`, from
//! mod_auth_basic, mod_auth_digest, mod_authz_core/owner/host, mod_access_compat and mod_ssl's SNI
//! checks, in Apache 2.2 and 2.4 formats, written to a file or to syslog), and known abusive
//! robots in the access log (`apache-badbots`).
//!
//! The client is the `[client ADDR]` (or `[remote ADDR]`) field Apache puts before the message;
//! a `[client ...]` inside the message (a requested path) is never read.

use super::access;
use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::addr::{self, Host};
use crate::time::{self, Clock};
use aho_corasick::AhoCorasick;
use jiff::Timestamp;

/// The built-in `apache-auth` filter.
pub const AUTH: Builtin = Builtin {
    name: "apache-auth",
    about: "Apache authentication and authorization failures (error log)",
    modes: &["normal", "aggressive"],
    samples: AUTH_SAMPLES,
    build: build_auth,
};

/// The built-in `apache-badbots` filter.
pub const BADBOTS: Builtin = Builtin {
    name: "apache-badbots",
    about: "Requests from e-mail harvesters, spam robots and attack tools (access log)",
    modes: &[],
    samples: BADBOTS_SAMPLES,
    build: build_badbots,
};

fn build_auth(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&AUTH)?;
    opts.reject_path_prefix(AUTH.name)?;
    Ok(Box::new(ApacheAuth {
        aggressive: opts.mode.as_deref() == Some("aggressive"),
    }))
}

fn build_badbots(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&BADBOTS)?;
    opts.reject_path_prefix(BADBOTS.name)?;
    Ok(Box::new(BadBots::new()))
}

/// One Apache error-log line, split.
struct ErrorLine<'a> {
    time: Option<Timestamp>,
    module: &'a str,
    client: Host,
    msg: &'a str,
}

/// Splits `[TIME] [MODULE:LEVEL] [pid P:tid T] [client ADDR:PORT] MSG`; the time bracket is
/// absent when Apache logs to syslog (the envelope carries the time).
fn split_error_line<'a>(input: &Input<'a>, clock: &Clock) -> Option<ErrorLine<'a>> {
    let line = input.text;
    let (mut rest, mut time) = if let Some(r) = line.strip_prefix('[') {
        let close = r.find(']')?;
        let t = time::apache(clock, &r[..close]).map(|(t, _)| t);
        (&r[close + 1..], t)
    } else {
        let env = input.envelope()?;
        (env.msg, env.timestamp(clock))
    };
    if input.time.is_some() {
        time = input.time;
    }
    let mut module = "";
    for _ in 0..4 {
        rest = rest.trim_start_matches(' ');
        let inner = rest.strip_prefix('[')?;
        // `[client [2001:db8::1]:51548]` nests brackets: take up to the matching one.
        let close = if inner.starts_with("client [") || inner.starts_with("remote [") {
            inner
                .find("]:")
                .map(|i| i + 1 + inner[i + 1..].find(']').unwrap_or(0))?
        } else {
            inner.find(']')?
        };
        let field = &inner[..close];
        rest = &inner[close + 1..];
        if let Some(c) = field
            .strip_prefix("client ")
            .or_else(|| field.strip_prefix("remote "))
        {
            let client = addr::parse_host_port(c)?;
            return Some(ErrorLine {
                time,
                module,
                client,
                msg: rest.trim_start_matches(' '),
            });
        }
        if module.is_empty() && !field.starts_with("pid ") {
            module = field.split_once(':').map_or("", |(m, _)| m);
        }
    }
    None
}

/// The apache-auth detector.
#[derive(Debug)]
pub struct ApacheAuth {
    aggressive: bool,
}

impl ApacheAuth {
    fn classify(&self, module: &str, msg: &str) -> Option<&'static str> {
        let m = strip_ah_code(msg);
        let m = m.strip_prefix("Digest: ").unwrap_or(m);
        let rule = if let Some(body) = m.strip_prefix("user ") {
            if body.contains(": authentication failure for ")
                || body.contains(": authorization failure for ")
                || body.contains(": password mismatch")
            {
                "auth-failure"
            } else if body.ends_with(" not found") || body.contains(" not found: ") {
                "unknown-user"
            } else {
                return None;
            }
        } else if m.starts_with("client denied by server configuration") {
            if module.starts_with("evasive") && !self.aggressive {
                return None;
            }
            "denied"
        } else if m.starts_with("client used wrong authentication scheme") {
            "wrong-scheme"
        } else if m.starts_with("Authorization of user ") && m.contains(" failed") {
            "authz-failure"
        } else if m.starts_with("invalid qop `")
            || m.starts_with("realm mismatch - got `")
            || m.starts_with("unknown algorithm `")
        {
            "digest-invalid"
        } else if m.starts_with("invalid nonce ") {
            let ok = m.contains(" received - length is not ")
                || m.contains(" received - user attempted time travel");
            if !ok {
                return None;
            }
            "digest-invalid"
        } else if (m.starts_with("Hostname ") && m.contains(" provided via SNI"))
            || m.starts_with("No hostname was provided via SNI")
        {
            "sni-mismatch"
        } else {
            return None;
        };
        Some(rule)
    }
}

/// Drops `AH01618: `.
fn strip_ah_code(m: &str) -> &str {
    let b = m.as_bytes();
    if b.len() > 9 && b.starts_with(b"AH") && b[2..7].iter().all(u8::is_ascii_digit) {
        if let Some(r) = m[7..].strip_prefix(": ") {
            return r;
        }
    }
    m
}

impl Filter for ApacheAuth {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        if !input.text.contains("[client ") && !input.text.contains("[remote ") {
            return None;
        }
        let l = split_error_line(input, clock)?;
        let rule = self.classify(l.module, l.msg)?;
        Some(Failure {
            host: l.client,
            time: l.time,
            rule,
        })
    }
}

/// User-agent fragments of e-mail harvesters, comment spammers and attack tools. Matched
/// case-insensitively anywhere in the agent.
pub const BAD_AGENTS: &[&str] = &[
    // harvesters and spam robots
    "TrackBack/",
    "EmailCollector",
    "EmailSiphon",
    "EmailWolf",
    "ExtractorPro",
    "WebEMailExtrac",
    "Atomic_Email_Hunter",
    "CherryPicker",
    "Email Extractor",
    "EmailHarvest",
    "Franklin Locator",
    "Missigua Locator",
    "Microsoft URL Control",
    "Mail.RU_Bot/Fast",
    "psycheclone",
    "LinkWalker",
    "WebBandit",
    "Indy Library",
    "autoemailspider",
    "ContactBot",
    "DTS Agent",
    "Zeus ",
    // vulnerability scanners and attack tools
    "sqlmap",
    "Nikto",
    "Nmap Scripting Engine",
    "masscan",
    "zgrab",
    "Nuclei",
    "WPScan",
    "DirBuster",
    "gobuster",
    "Fuzz Faster U Fool",
    "Acunetix",
    "Netsparker",
    "w3af.org",
    "Havij",
    "OpenVAS",
    "Nessus",
    "fimap",
    "jaeles",
    "ZmEu",
    "Morfeus",
    "WhatWeb",
    "Hydra",
];

/// The bad-robot detector (`apache-badbots`, `traefik-badbots`).
#[derive(Debug)]
pub struct BadBots {
    agents: Option<AhoCorasick>,
}

impl BadBots {
    /// A detector with [`BAD_AGENTS`].
    pub fn new() -> BadBots {
        let agents = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(BAD_AGENTS)
            .ok();
        BadBots { agents }
    }

    /// Whether `agent` is a known bad robot.
    pub fn is_bad(&self, agent: &str) -> bool {
        self.agents.as_ref().is_some_and(|ac| ac.is_match(agent))
    }
}

impl Default for BadBots {
    fn default() -> BadBots {
        BadBots::new()
    }
}

impl Filter for BadBots {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        if input.text.starts_with('{') {
            let j = super::traefik::json_access(input.text)?;
            return self.is_bad(j.agent.as_deref()?).then(|| Failure {
                host: j.host,
                time: input.time.or(j.time),
                rule: "bad-agent",
            });
        }
        let a = access::parse(input.text)?;
        if !self.is_bad(a.agent?) {
            return None;
        }
        Some(Failure {
            time: input.time.or_else(|| a.timestamp(clock)),
            host: a.host,
            rule: "bad-agent",
        })
    }
}

const AUTH_SAMPLES: &[Sample] = &[
    Sample::hit(
        "[Sat Jun 14 09:15:02.123456 2025] [auth_basic:error] [pid 812:tid 140123] [client 203.0.113.5:51386] AH01618: user admin not found: /private",
        "203.0.113.5",
        "2025-06-14T09:15:02.123456Z",
    ),
    Sample::hit(
        "[Sat Jun 14 09:15:03.000001 2025] [auth_basic:error] [pid 812:tid 140123] [client [2001:db8::7]:51390] AH01617: user bob: authentication failure for \"/private\": Password Mismatch",
        "2001:db8::7",
        "2025-06-14T09:15:03.000001Z",
    ),
    Sample::hit(
        "[Sat Jun 14 09:15:04 2025] [error] [client 198.51.100.4] user root not found: /",
        "198.51.100.4",
        "2025-06-14T09:15:04Z",
    )
    .about("Apache 2.2 format"),
    Sample::miss(
        "[Sat Jun 14 09:15:05 2025] [error] [client 192.0.2.33] File does not exist: /srv/www/[client 203.0.113.66] user root not found",
    )
    .about("a `[client ...]` inside a requested path is not the client"),
    Sample::miss(
        "[Sat Jun 14 09:15:06.5 2025] [evasive20:error] [pid 1] [client 192.0.2.34:5] client denied by server configuration: /x",
    )
    .about("mod_evasive's own denials count only in aggressive mode"),
    Sample::hit(
        "Jun 14 09:15:07 web1 apache2[812]: [authz_core:error] [pid 812] [client 203.0.113.8:4242] AH01630: client denied by server configuration: /srv/admin",
        "203.0.113.8",
        "2025-06-14T09:15:07Z",
    )
    .about("ErrorLog syslog"),
];

const BADBOTS_SAMPLES: &[Sample] = &[
    Sample::hit(
        "203.0.113.20 - - [14/Jun/2025:09:15:02 +0200] \"GET /contact HTTP/1.1\" 200 5120 \"-\" \"EmailCollector/1.0\"",
        "203.0.113.20",
        "2025-06-14T07:15:02Z",
    ),
    Sample::hit(
        "203.0.113.21 - - [14/Jun/2025:09:15:03 +0000] \"GET /?id=1 HTTP/1.1\" 200 20 \"-\" \"sqlmap/1.8.4#stable (https://sqlmap.org)\"",
        "203.0.113.21",
        "2025-06-14T09:15:03Z",
    ),
    Sample::miss(
        "192.0.2.40 - - [14/Jun/2025:09:15:04 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"",
    ),
    Sample::miss(
        "192.0.2.41 - - [14/Jun/2025:09:15:05 +0000] \"GET /sqlmap HTTP/1.1\" 404 0 \"EmailCollector\" \"curl/8.5\"",
    )
    .about("only the agent is read, not the path or the referer"),
];
