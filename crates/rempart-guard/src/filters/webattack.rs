//! Web attack probing in access logs (Apache, nginx, Traefik common or JSON format): SQL
//! injection, cross-site scripting, path traversal and command injection in the request target
//! (percent-decoded twice, case-insensitive), exploit strings in the user agent (Shellshock,
//! Log4Shell) and scanner user agents. What an IDS would flag on the HTTP layer, for the hosts
//! that send it.
//!
//! One multi-pattern automaton scans each decoded target once; the pattern tells which family
//! matched.

use super::access;
use super::apache::BAD_AGENTS;
use super::traefik;
use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::addr::Host;
use crate::time::Clock;
use aho_corasick::AhoCorasick;

/// The built-in `web-attacks` filter.
pub const BUILTIN: Builtin = Builtin {
    name: "web-attacks",
    about: "SQL injection, XSS, path traversal, command injection and scanners (access log)",
    modes: &[],
    samples: SAMPLES,
    build,
};

fn build(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    opts.only_modes(&BUILTIN)?;
    opts.reject_path_prefix(BUILTIN.name)?;
    let err = |e: aho_corasick::BuildError| FilterError::Option {
        filter: BUILTIN.name.to_string(),
        message: e.to_string(),
    };
    let target = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(TARGET_PATTERNS.iter().map(|(p, _)| p))
        .map_err(err)?;
    let agent = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(
            AGENT_PATTERNS
                .iter()
                .map(|(p, _)| *p)
                .chain(BAD_AGENTS.iter().copied()),
        )
        .map_err(err)?;
    Ok(Box::new(WebAttacks {
        target,
        agent,
        buf: Vec::new(),
        buf2: Vec::new(),
    }))
}

/// Fragments of attacks in a (decoded) request target, with their family.
const TARGET_PATTERNS: &[(&str, &str)] = &[
    ("union select", "sqli"),
    ("union all select", "sqli"),
    ("' or '1'='1", "sqli"),
    ("\" or \"1\"=\"1", "sqli"),
    ("' or 1=1", "sqli"),
    (" or 1=1--", "sqli"),
    ("'--", "sqli"),
    ("sleep(", "sqli"),
    ("benchmark(", "sqli"),
    ("pg_sleep(", "sqli"),
    ("waitfor delay", "sqli"),
    ("information_schema", "sqli"),
    ("load_file(", "sqli"),
    ("into outfile", "sqli"),
    ("xp_cmdshell", "sqli"),
    ("extractvalue(", "sqli"),
    ("updatexml(", "sqli"),
    ("concat(0x", "sqli"),
    ("@@version", "sqli"),
    ("<script", "xss"),
    ("</script", "xss"),
    ("javascript:", "xss"),
    ("onerror=", "xss"),
    ("onload=", "xss"),
    ("onmouseover=", "xss"),
    ("<svg", "xss"),
    ("<iframe", "xss"),
    ("document.cookie", "xss"),
    ("alert(", "xss"),
    ("prompt(", "xss"),
    ("../", "traversal"),
    ("..\\", "traversal"),
    ("..;/", "traversal"),
    ("/etc/passwd", "traversal"),
    ("/etc/shadow", "traversal"),
    ("/proc/self/", "traversal"),
    ("c:\\windows", "traversal"),
    ("win.ini", "traversal"),
    ("boot.ini", "traversal"),
    (";wget ", "cmd-injection"),
    ("|wget ", "cmd-injection"),
    (";curl ", "cmd-injection"),
    ("|curl ", "cmd-injection"),
    ("`", "cmd-injection"),
    ("$(", "cmd-injection"),
    ("${jndi:", "cmd-injection"),
    (";cat /", "cmd-injection"),
    ("|cat /", "cmd-injection"),
    (";id;", "cmd-injection"),
    ("&&id", "cmd-injection"),
    ("/bin/sh", "cmd-injection"),
    ("/bin/bash", "cmd-injection"),
    ("nc -e ", "cmd-injection"),
    ("cmd.exe", "cmd-injection"),
    ("powershell", "cmd-injection"),
    ("shell_exec(", "cmd-injection"),
    ("php://input", "cmd-injection"),
    ("php://filter", "traversal"),
    ("allow_url_include", "cmd-injection"),
];

/// Exploit strings sent in the user agent.
const AGENT_PATTERNS: &[(&str, &str)] = &[
    ("() {", "cmd-injection"),
    ("${jndi:", "cmd-injection"),
    ("<script", "xss"),
    ("union select", "sqli"),
];

/// The web-attacks detector.
#[derive(Debug)]
pub struct WebAttacks {
    target: AhoCorasick,
    agent: AhoCorasick,
    buf: Vec<u8>,
    buf2: Vec<u8>,
}

/// Percent-decodes `s` into `out` (`+` becomes a space); invalid escapes are kept as they are.
pub fn percent_decode(s: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl WebAttacks {
    fn judge(&mut self, target: &str, agent: Option<&str>) -> Option<&'static str> {
        if let Some(a) = agent {
            if let Some(m) = self.agent.find(a) {
                let i = m.pattern().as_usize();
                return Some(AGENT_PATTERNS.get(i).map_or("scanner", |(_, f)| *f));
            }
        }
        let t = target.as_bytes();
        let m = if t.contains(&b'%') || t.contains(&b'+') {
            percent_decode(t, &mut self.buf);
            if self.buf.contains(&b'%') {
                percent_decode(&self.buf, &mut self.buf2);
                self.target.find(&self.buf2[..])
            } else {
                self.target.find(&self.buf[..])
            }
        } else {
            self.target.find(t)
        };
        m.map(|m| TARGET_PATTERNS[m.pattern().as_usize()].1)
    }
}

impl Filter for WebAttacks {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        let (host, time, rule): (Host, _, _) = if input.text.starts_with('{') {
            let j = traefik::json_access(input.text)?;
            let rule = self.judge(&j.path, j.agent.as_deref())?;
            (j.host, input.time.or(j.time), rule)
        } else {
            let a = access::parse(input.text)?;
            let rule = self.judge(a.target, a.agent)?;
            (
                a.host.clone(),
                input.time.or_else(|| a.timestamp(clock)),
                rule,
            )
        };
        Some(Failure { host, time, rule })
    }
}

const SAMPLES: &[Sample] = &[
    Sample::hit(
        "203.0.113.110 - - [14/Jun/2025:09:15:02 +0000] \"GET /item.php?id=1%20UNION%20SELECT%20password%20FROM%20users HTTP/1.1\" 200 20 \"-\" \"Mozilla/5.0\"",
        "203.0.113.110",
        "2025-06-14T09:15:02Z",
    ),
    Sample::hit(
        "203.0.113.111 - - [14/Jun/2025:09:15:03 +0000] \"GET /search?q=%253Cscript%253Ealert(1)%253C/script%253E HTTP/1.1\" 200 20 \"-\" \"Mozilla/5.0\"",
        "203.0.113.111",
        "2025-06-14T09:15:03Z",
    )
    .about("double percent-encoding is seen through"),
    Sample::hit(
        "203.0.113.112 - - [14/Jun/2025:09:15:04 +0000] \"GET /static/..%2f..%2f..%2fetc/passwd HTTP/1.1\" 400 0 \"-\" \"curl/8.5\"",
        "203.0.113.112",
        "2025-06-14T09:15:04Z",
    ),
    Sample::hit(
        "203.0.113.113 - - [14/Jun/2025:09:15:05 +0000] \"GET /cgi-bin/status HTTP/1.1\" 404 0 \"-\" \"() { :; }; /bin/bash -c 'id'\"",
        "203.0.113.113",
        "2025-06-14T09:15:05Z",
    ),
    Sample::hit(
        "203.0.113.114 - - [14/Jun/2025:09:15:06 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)\"",
        "203.0.113.114",
        "2025-06-14T09:15:06Z",
    ),
    Sample::miss(
        "192.0.2.115 - - [14/Jun/2025:09:15:07 +0000] \"GET /blog/2025/06/union-station-selection.html?ref=home HTTP/1.1\" 200 9000 \"-\" \"Mozilla/5.0\"",
    ),
    Sample::miss(
        "192.0.2.116 - - [14/Jun/2025:09:15:08 +0000] \"GET /search?q=select+a+union+card HTTP/1.1\" 200 9000 \"-\" \"Mozilla/5.0\"",
    ),
];
