//! nginx: HTTP basic/PAM authentication failures and TLS handshake garbage in the error log
//! (`nginx-http-auth`), and requests probing for admin tools, webmail and CGI scripts that do
//! not exist (`nginx-botsearch`, error log or access log). Error-log lines may come through the
//! journal with a `HOST nginx[PID]:` prefix.

use super::access;
use super::syslog;
use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::addr::{self, Host};
use crate::time::{self, Clock};
use jiff::Timestamp;
use memchr::memmem;

/// The built-in `nginx-http-auth` filter.
pub const HTTP_AUTH: Builtin = Builtin {
    name: "nginx-http-auth",
    about: "nginx basic and PAM authentication failures; TLS handshake garbage in fallback mode",
    modes: &["normal", "auth", "fallback", "aggressive"],
    samples: HTTP_AUTH_SAMPLES,
    build: build_http_auth,
};

/// The built-in `nginx-botsearch` filter.
pub const BOTSEARCH: Builtin = Builtin {
    name: "nginx-botsearch",
    about: "Requests for admin tools, webmail and CGI paths that do not exist here",
    modes: &[],
    samples: BOTSEARCH_SAMPLES,
    build: build_botsearch,
};

fn build_http_auth(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&HTTP_AUTH)?;
    opts.reject_path_prefix(HTTP_AUTH.name)?;
    let mode = opts.mode.as_deref().unwrap_or("normal");
    Ok(Box::new(HttpAuth {
        auth: mode != "fallback",
        fallback: mode == "fallback" || mode == "aggressive",
    }))
}

fn build_botsearch(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&BOTSEARCH)?;
    opts.reject_path_prefix(BOTSEARCH.name)?;
    Ok(Box::new(BotSearch))
}

/// One nginx error-log line, split.
pub struct ErrorLine<'a> {
    /// The line's time.
    pub time: Option<Timestamp>,
    /// `error`, `crit`...
    pub level: &'a str,
    /// The message after `PID#TID: *CONN `.
    pub msg: &'a str,
}

/// Splits `YYYY/MM/DD HH:MM:SS [LEVEL] PID#TID: [*CID ]MSG`, possibly behind a journal prefix
/// (`HOST nginx[PID]: [HOST nginx: ]`).
pub fn error_line<'a>(input: &Input<'a>, clock: &Clock) -> Option<ErrorLine<'a>> {
    let mut s = input.text;
    if !s.as_bytes().first()?.is_ascii_digit() {
        let env = syslog::parse(s, true)?;
        s = env.msg;
        // `host nginx: 2025/...` repeated inside the message.
        if !s.as_bytes().first()?.is_ascii_digit() {
            let (_, r) = s.split_once(' ')?;
            let (tag, r) = r.split_once(' ')?;
            tag.ends_with(':').then_some(())?;
            s = r;
        }
    }
    let (t, n) = time::slashed(clock, s)?;
    let r = s[n..].strip_prefix(" [")?;
    let close = r.find("] ")?;
    let level = &r[..close];
    let r = &r[close + 2..];
    let (_pidtid, r) = r.split_once(": ")?;
    let r = match r.strip_prefix('*') {
        Some(c) => c.split_once(' ').map_or("", |(_, m)| m),
        None => r,
    };
    Some(ErrorLine {
        time: input.time.or(Some(t)),
        level,
        msg: r,
    })
}

/// The client of an error-log message: the last `, client: ADDR, server: ` (nginx writes it
/// after the message, so one typed into a user name comes earlier and loses).
pub fn client(msg: &str) -> Option<Host> {
    for at in memmem::rfind_iter(msg.as_bytes(), b", client: ") {
        let r = &msg[at + 10..];
        let end = r.find(", ").unwrap_or(r.len());
        if let Some(h) = addr::parse_host(&r[..end]) {
            return Some(h);
        }
    }
    None
}

/// The nginx-http-auth detector.
#[derive(Debug)]
pub struct HttpAuth {
    auth: bool,
    fallback: bool,
}

impl Filter for HttpAuth {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        memmem::find(input.text.as_bytes(), b", client: ")?;
        let l = error_line(input, clock)?;
        let m = l.msg;
        let rule = if self.auth && l.level == "error" && m.starts_with("user \"") {
            let ok = m.contains("\" was not found in \"") || m.contains("\": password mismatch");
            ok.then_some("auth-failure")?
        } else if self.auth
            && l.level == "error"
            && m.starts_with("PAM: user '")
            && m.contains("' - not authenticated: ")
        {
            "pam-failure"
        } else if self.fallback
            && l.level == "crit"
            && (m.starts_with("SSL_do_handshake() failed (SSL: ")
                || m.starts_with("SSL_read() failed (SSL: "))
        {
            "tls-garbage"
        } else {
            return None;
        };
        Some(Failure {
            host: client(m)?,
            time: l.time,
            rule,
        })
    }
}

/// Path segments scanners probe for (compared case-insensitively, version suffixes allowed
/// for phpMyAdmin).
const PROBE_DIRS: &[&str] = &[
    "pma",
    "phpmyadmin",
    "myadmin",
    "mysqladmin",
    "mysql-admin",
    "mysqlmanager",
    "sqladmin",
    "sqlmanager",
    "sqlweb",
    "websql",
    "webdb",
    "dbadmin",
    "db-admin",
    "phpadmin",
    "php-myadmin",
    "pmadb",
    "cgi-bin",
    "cgi",
    "roundcube",
    "roundcubemail",
    "webmail",
    "squirrelmail",
    "horde",
    "rainloop",
    "xampp",
    "typo3",
    "joomla",
    "phppgadmin",
    "pgadmin",
];

/// Whether a request target probes for software that is not installed here.
pub fn is_probe(target: &str) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or("");
    path.split('/').filter(|s| !s.is_empty()).any(|seg| {
        let seg = seg.to_ascii_lowercase();
        if PROBE_DIRS.contains(&seg.as_str()) {
            return true;
        }
        seg.strip_prefix("phpmyadmin").is_some_and(|v| {
            v.starts_with(['-', '_', '.']) || v.bytes().all(|c| c.is_ascii_digit())
        })
    })
}

/// The nginx-botsearch detector.
#[derive(Debug)]
pub struct BotSearch;

impl Filter for BotSearch {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        if let Some(a) = access::parse(input.text) {
            if a.status != 404 || !is_probe(a.target) {
                return None;
            }
            return Some(Failure {
                time: input.time.or_else(|| a.timestamp(clock)),
                host: a.host,
                rule: "probe-404",
            });
        }
        memmem::find(input.text.as_bytes(), b"(2: No such file or directory)")?;
        let l = error_line(input, clock)?;
        let req = &l.msg[memmem::rfind(l.msg.as_bytes(), b", request: \"")? + 12..];
        let (_method, r) = req.split_once(' ')?;
        let target = r.split(' ').next()?;
        if !is_probe(target) {
            return None;
        }
        Some(Failure {
            host: client(l.msg)?,
            time: l.time,
            rule: "probe-missing",
        })
    }
}

const HTTP_AUTH_SAMPLES: &[Sample] = &[
    Sample::hit(
        "2025/06/14 09:15:02 [error] 812#812: *4471 user \"admin\": password mismatch, client: 203.0.113.30, server: example.org, request: \"GET /admin HTTP/1.1\", host: \"example.org\"",
        "203.0.113.30",
        "2025-06-14T09:15:02Z",
    ),
    Sample::hit(
        "2025/06/14 09:15:03 [error] 812#812: *4472 user \"x, client: 192.0.2.9, server: y\" was not found in \"/etc/nginx/.htpasswd\", client: 2001:db8::30, server: example.org, request: \"GET / HTTP/2.0\", host: \"example.org\"",
        "2001:db8::30",
        "2025-06-14T09:15:03Z",
    )
    .about("a client clause typed into the user name is ignored"),
    Sample::miss(
        "2025/06/14 09:15:04 [error] 812#812: *4473 connect() failed (111: Connection refused) while connecting to upstream, client: 192.0.2.31, server: example.org, request: \"GET / HTTP/1.1\"",
    ),
    Sample::hit(
        "2025/06/14 09:15:05 [crit] 812#812: *4474 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: 203.0.113.32, server: 0.0.0.0:443",
        "203.0.113.32",
        "2025-06-14T09:15:05Z",
    )
    .mode("fallback"),
];

const BOTSEARCH_SAMPLES: &[Sample] = &[
    Sample::hit(
        "203.0.113.40 - - [14/Jun/2025:09:15:02 +0000] \"GET /phpMyAdmin-5.2.1/index.php HTTP/1.1\" 404 153 \"-\" \"Mozilla/5.0\"",
        "203.0.113.40",
        "2025-06-14T09:15:02Z",
    ),
    Sample::hit(
        "2025/06/14 09:15:03 [error] 812#812: *5 open() \"/srv/www/cgi-bin/php5\" failed (2: No such file or directory), client: 203.0.113.41, server: example.org, request: \"POST /cgi-bin/php5 HTTP/1.1\", host: \"example.org\"",
        "203.0.113.41",
        "2025-06-14T09:15:03Z",
    ),
    Sample::miss(
        "192.0.2.42 - - [14/Jun/2025:09:15:04 +0000] \"GET /webmail/ HTTP/1.1\" 200 4096 \"-\" \"Mozilla/5.0\"",
    )
    .about("a webmail that exists here answers 200: not a probe"),
    Sample::miss(
        "192.0.2.43 - - [14/Jun/2025:09:15:05 +0000] \"GET /missing.png HTTP/1.1\" 404 153 \"-\" \"Mozilla/5.0\"",
    ),
];
