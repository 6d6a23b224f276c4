//! OpenSSH (`sshd`, `sshd-session`, `sshd-auth`) authentication failures, in syslog files and in
//! the journal. Written from OpenSSH's message formats (auth.c, auth2.c, sshd.c, kex.c) up to 9.x.
//!
//! Modes: `normal` (failed passwords, invalid users, refused users, too many attempts,
//! `maximum authentication attempts exceeded`, PAM failures, failed keys of unknown users),
//! `ddos` (adds pre-authentication noise: no identification string, kex_exchange_identification,
//! bad protocol version, banner exchange errors, timeouts, connections closed before
//! authentication), `extra` (adds negotiation failures: no matching cipher, MAC, key exchange or
//! host key, no authentication methods), `aggressive` (all of them).
//!
//! Lines of one sshd process are followed together: a failure logged without the client (for
//! example `Disconnecting: Too many authentication failures`) is blamed on the address that
//! process logged before, or on the next one it logs. Failed public keys of a valid user are not
//! failures by themselves (users with several keys try them in turn); they count when the
//! connection then ends in failure, or when attempts name several users.

use super::scan::{self, host_after, host_at_end, host_at_end_raw, last_from};
use super::syslog::Envelope;
use super::tracker::Tracker;
use super::{Builtin, Failure, Filter, FilterError, FilterOptions, Input, Sample};
use crate::addr::Host;
use crate::time::Clock;
use memchr::memmem::Finder;
use scan::{Needle, Rev};
use std::sync::LazyLock;

static CLIENT_USER: Needle = LazyLock::new(|| Finder::new(b", client user \""));
const NOT_ALLOWED: Rev = Rev::new(b" not allowed because ", 13);
const FROM_REV: Rev = Rev::new(b" from ", 1);
static CHANGE_USER: Needle =
    LazyLock::new(|| Finder::new(b": Change of username or service not allowed"));
const PAM_AUTH_FAIL: &str = "(sshd:auth): authentication failure;";
const RHOST_REV: Rev = Rev::new(b" rhost=", 6);
static RUSER: Needle = LazyLock::new(|| Finder::new(b" ruser="));

/// The built-in `sshd` filter.
pub const BUILTIN: Builtin = Builtin {
    name: "sshd",
    about: "OpenSSH authentication failures (syslog files and the journal)",
    modes: &["normal", "ddos", "extra", "aggressive"],
    samples: SAMPLES,
    build,
};

fn build(opts: &FilterOptions) -> Result<Box<dyn Filter>, FilterError> {
    let mode = opts.mode.as_deref().unwrap_or("normal");
    let (ddos, extra) = match mode {
        "normal" => (false, false),
        "ddos" => (true, false),
        "extra" => (false, true),
        "aggressive" => (true, true),
        other => return Err(FilterError::mode("sshd", other, BUILTIN.modes)),
    };
    opts.reject_path_prefix("sshd")?;
    Ok(Box::new(Sshd::new(ddos, extra)))
}

/// The sshd detector.
#[derive(Debug)]
pub struct Sshd {
    ddos: bool,
    extra: bool,
    conns: Tracker<Conn>,
}

/// What one sshd process has shown so far.
#[derive(Debug, Default)]
struct Conn {
    host: Option<Host>,
    /// A failure was logged without the client's address; blame the next address seen.
    pending: bool,
    /// Non-failing attempts (failed keys of valid users, PAM failures) since the last failure.
    soft: u32,
    /// Hashes of the user names those attempts named (at most a few).
    users: Vec<u64>,
}

/// What a message means for its process.
enum Ev {
    /// An authentication failure; without a host, blame the process's known or next address.
    Fail { host: Option<Host>, forget: bool },
    /// Not a failure by itself; may name the host and a user, or end the connection.
    Soft {
        host: Option<Host>,
        user: Option<u64>,
        forget: bool,
    },
    /// A successful login.
    Gained { host: Option<Host>, user: u64 },
}

fn user_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Sshd {
    /// A detector in the given mode flags.
    pub fn new(ddos: bool, extra: bool) -> Sshd {
        Sshd {
            ddos,
            extra,
            conns: Tracker::new(16_384),
        }
    }

    /// What `msg` means. `known`: this process has state, so messages that only end a
    /// connection matter (without state they change nothing and are skipped unparsed).
    fn classify(&self, msg: &str, known: bool) -> Option<(Ev, &'static str)> {
        let m = strip_decorations(msg);
        let b = m.as_bytes();
        match *b.first()? {
            b'F' => self.failed(m),
            b'A' => accepted(m),
            b'I' | b'i' if m.starts_with("Invalid user ") || m.starts_with("Illegal user ") => {
                let h = last_from(m)?;
                Some((fail(h.host), "invalid-user"))
            }
            b'U' => self.user_or_unable(m),
            b'R' => self.received_or_root(m, known),
            b'r' if m.starts_with("refused connect from ") => {
                let open = m.rfind('(')?;
                let inner = m[open + 1..].trim_end().strip_suffix(')')?;
                Some((fail(crate::addr::parse_host(inner)?), "refused-connect"))
            }
            b'P' | b'a' => pam_message(m),
            b'p' if m.starts_with("pam_") => pam_unix(m),
            b'm' if m.starts_with("maximum authentication attempts exceeded for ") => {
                let h = last_from(m)?;
                Some((fail(h.host), "max-attempts"))
            }
            b'D' => self.disconnect(m, known),
            b'C' => self.connection(m, known),
            b'S' if m.starts_with("SSH: Server;Ltype: ") => {
                let r = &m[m.find(";Remote: ")? + 9..];
                let r = &r[..r.find(';')?];
                let host = crate::addr::parse_host(&r[..r.rfind('-')?])?;
                Some((soft(Some(host), false), "ssh-audit"))
            }
            b'B' if m.starts_with("Bad protocol version identification ") => {
                let h = last_from(m)?;
                self.ddos.then_some((fail(h.host), "bad-protocol"))
            }
            b'b' if m.starts_with("banner exchange: Connection from ") => {
                let (h, _) = host_after(m, "banner exchange: Connection from ")?;
                self.ddos.then_some((fail(h), "banner-exchange"))
            }
            b's' if m.starts_with("ssh_dispatch_run_fatal: Connection from ") => {
                let (h, _) = host_after(m, "ssh_dispatch_run_fatal: Connection from ")?;
                let bad = m.contains("message authentication code incorrect")
                    || m.contains("Connection corrupted")
                    || m.contains("incomplete message");
                (self.ddos && bad).then_some((fail(h), "dispatch-fatal"))
            }
            b'k' if m.starts_with("kex_exchange_identification: ") => {
                let r = &m[29..];
                let r = r.strip_prefix("read: ").unwrap_or(r);
                let hit = scan::starts_with_ci(r, "client sent invalid protocol identifier")
                    || scan::starts_with_ci(r, "connection closed by remote host")
                    || scan::starts_with_ci(r, "connection reset by peer");
                (self.ddos && hit).then_some((
                    Ev::Fail {
                        host: None,
                        forget: false,
                    },
                    "kex-identification",
                ))
            }
            b'T' if m.starts_with("Timeout before authentication for ") => {
                let r = &m[34..];
                let r = r.strip_prefix("connection from ").unwrap_or(r);
                let (tok, _) = scan::token(r);
                let h = crate::addr::parse_host(tok)?;
                self.ddos.then_some((fail(h), "auth-timeout"))
            }
            b'n' if m.starts_with("no matching ") && m.contains(" found") => {
                self.extra.then_some((
                    Ev::Fail {
                        host: None,
                        forget: false,
                    },
                    "no-matching-algorithm",
                ))
            }
            _ => None,
        }
    }

    /// `Failed METHOD for [invalid user ]USER from HOST port N ssh2[: INFO]`.
    fn failed(&self, m: &str) -> Option<(Ev, &'static str)> {
        let r = m.strip_prefix("Failed ")?;
        let (method, r) = scan::token(r);
        let r = r.strip_prefix(" for ")?;
        // hostbased info quotes client-chosen names after the address: never search it. Only
        // hostbased lines carry it, so a user name spelling `, client user "` in a password
        // failure cannot cut the daemon's own `from HOST port N` off.
        let r = match CLIENT_USER
            .find(r.as_bytes())
            .filter(|_| method == "hostbased")
        {
            Some(i) => &r[..i],
            None => r,
        };
        let h = last_from(r)?;
        let user_part = &r[..h.at];
        let invalid = user_part.starts_with("invalid user ") || user_part == "<invalid username>";
        if method == "publickey" && !invalid {
            return Some((
                Ev::Soft {
                    host: Some(h.host),
                    user: Some(user_hash(user_part)),
                    forget: false,
                },
                "failed-publickey",
            ));
        }
        Some((fail(h.host), "failed-auth"))
    }

    fn user_or_unable(&self, m: &str) -> Option<(Ev, &'static str)> {
        if let Some(r) = m.strip_prefix("User ") {
            let at = NOT_ALLOWED.rfind(r.as_bytes())?;
            let reason = &r[at + 21..];
            let head = &r[..at];
            if reason.starts_with("account is locked") {
                return Some((
                    Ev::Fail {
                        host: None,
                        forget: false,
                    },
                    "account-locked",
                ));
            }
            let known = [
                "not listed in AllowUsers",
                "listed in DenyUsers",
                "not in any group",
                "a group is listed in DenyGroups",
                "none of user's groups are listed in AllowGroups",
            ];
            if !known.iter().any(|k| reason.starts_with(k)) {
                return None;
            }
            let from = FROM_REV.rfind(head.as_bytes())?;
            let host = crate::addr::parse_host(&head[from + 6..])?;
            return Some((fail(host), "user-not-allowed"));
        }
        let r = m.strip_prefix("Unable to negotiate ")?;
        if !self.extra {
            return None;
        }
        if let Some(r) = r.strip_prefix("with ") {
            let (tok, rest) = scan::token(r);
            let host = crate::addr::parse_host(tok.trim_end_matches(':'))?;
            let rest = scan::strip_port(rest).unwrap_or(rest);
            if rest.starts_with(": no matching ") {
                return Some((fail(host), "no-matching-algorithm"));
            }
            return None;
        }
        r.starts_with("a ").then_some((
            Ev::Fail {
                host: None,
                forget: false,
            },
            "no-matching-algorithm",
        ))
    }

    fn received_or_root(&self, m: &str, known: bool) -> Option<(Ev, &'static str)> {
        if let Some(r) = m.strip_prefix("ROOT LOGIN REFUSED FROM ") {
            let (tok, _) = scan::token(r);
            return Some((fail(crate::addr::parse_host(tok)?), "root-refused"));
        }
        if m.starts_with("Read from socket failed: Connection reset by peer") {
            return self.ddos.then_some((
                Ev::Fail {
                    host: None,
                    forget: true,
                },
                "socket-reset",
            ));
        }
        let r = m.strip_prefix("Received disconnect from ")?;
        if !known && !self.extra && !r.contains(": Auth fail") {
            // A disconnect of a connection with no state: nothing to end, nothing to blame.
            return None;
        }
        let (tok, rest) = scan::token(r);
        let host = crate::addr::parse_host(tok.trim_end_matches(':'))?;
        let rest = scan::strip_port(rest).unwrap_or(rest);
        let rest = rest.trim_start_matches([':', ' ']);
        let code_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let code = &rest[..code_len];
        let text = rest[code_len..].trim_start_matches([':', ' ']).trim_end();
        let text = text.strip_suffix("[preauth]").unwrap_or(text).trim_end();
        match code {
            "3" if text.ends_with(": Auth fail") || text == "Auth fail" => {
                Some((fail_forget(host), "disconnect-auth-fail"))
            }
            "14" if self.extra
                && (text.starts_with("No supported authentication methods available")
                    || text.starts_with("No authentication methods available")) =>
            {
                Some((fail_forget(host), "no-auth-methods"))
            }
            "" => None,
            _ => Some((soft(Some(host), true), "disconnect")),
        }
    }

    fn disconnect(&self, m: &str, known: bool) -> Option<(Ev, &'static str)> {
        if let Some(r) = m.strip_prefix("Did not receive identification string from ") {
            let (tok, _) = scan::token(r);
            let host = crate::addr::parse_host(tok)?;
            return self.ddos.then_some((fail(host), "no-identification"));
        }
        if let Some(r) = m.strip_prefix("Disconnecting: Too many authentication failures") {
            if !(r.is_empty() || r.starts_with(" for ") || r.starts_with(" [preauth]")) {
                return None;
            }
            return Some((
                Ev::Fail {
                    host: None,
                    forget: false,
                },
                "too-many-failures",
            ));
        }
        if let Some(r) = m.strip_prefix("Disconnecting ") {
            // `Disconnecting invalid user U HOST port N: Change of username or service not allowed`
            let at = CHANGE_USER.find(r.as_bytes())?;
            let (host, _, _) = host_at_end(&r[..at])?;
            return Some((fail_forget(host), "change-of-user"));
        }
        let r = m.strip_prefix("Disconnected from ")?;
        self.closed(r, true, known)
    }

    fn connection(&self, m: &str, known: bool) -> Option<(Ev, &'static str)> {
        if let Some(r) = m.strip_prefix("Connection closed by ") {
            return self.closed(r, false, known);
        }
        if let Some(r) = m.strip_prefix("Connection reset by ") {
            return self.closed(r, false, known);
        }
        let (h, _) = host_after(m, "Connection from ")?;
        Some((soft(Some(h), false), "connection"))
    }

    /// `[authenticating |invalid ]user U HOST[ port N][ [preauth]]` or `HOST ...`, after
    /// `Connection closed by` / `Connection reset by` / `Disconnected from`.
    fn closed(&self, r: &str, disconnected: bool, known: bool) -> Option<(Ev, &'static str)> {
        let (tok, preauth, user) = host_at_end_raw(r);
        let named = user.starts_with("authenticating user ")
            || user.starts_with("invalid user ")
            || user.starts_with("user ");
        if !(user.is_empty() || named) {
            return None;
        }
        let fails = preauth && (self.ddos || (self.extra && disconnected && named));
        if !fails && !known {
            // Ends a connection with no state: changes nothing.
            return None;
        }
        let host = crate::addr::parse_host(tok)?;
        if preauth && self.ddos {
            return Some((fail_forget(host), "closed-preauth"));
        }
        if preauth && self.extra && disconnected && named {
            return Some((fail_forget(host), "disconnected-preauth"));
        }
        Some((soft(Some(host), true), "closed"))
    }

    fn apply(&mut self, key: u64, ev: Ev) -> Option<Host> {
        match ev {
            Ev::Fail { host, forget } => {
                let c = self.conns.entry(key);
                if host.is_some() {
                    c.host = host;
                }
                let out = match &c.host {
                    Some(h) => {
                        c.pending = false;
                        c.soft = 0;
                        Some(h.clone())
                    }
                    None => {
                        c.pending = true;
                        None
                    }
                };
                if forget {
                    self.conns.remove(key);
                }
                out
            }
            Ev::Soft { host, user, forget } => {
                let c = self.conns.entry(key);
                if host.is_some() {
                    c.host = host;
                }
                let mut out = None;
                if c.pending && c.host.is_some() {
                    c.pending = false;
                    out = c.host.clone();
                } else if let Some(u) = user {
                    c.soft += 1;
                    if !c.users.contains(&u) && c.users.len() < 8 {
                        c.users.push(u);
                    }
                    if c.users.len() >= 2 {
                        c.soft = 0;
                        out = c.host.clone();
                    }
                }
                if forget {
                    self.conns.remove(key);
                }
                out
            }
            Ev::Gained { host, user } => {
                let out = self.conns.get(key).and_then(|c| {
                    let other = c.users.iter().any(|u| *u != user);
                    other.then(|| host.or_else(|| c.host.clone())).flatten()
                });
                self.conns.remove(key);
                out
            }
        }
    }
}

fn fail(host: Host) -> Ev {
    Ev::Fail {
        host: Some(host),
        forget: false,
    }
}

fn fail_forget(host: Host) -> Ev {
    Ev::Fail {
        host: Some(host),
        forget: true,
    }
}

fn soft(host: Option<Host>, forget: bool) -> Ev {
    Ev::Soft {
        host,
        user: None,
        forget,
    }
}

/// `Accepted METHOD for USER from HOST port N ssh2`.
fn accepted(m: &str) -> Option<(Ev, &'static str)> {
    let r = m.strip_prefix("Accepted ")?;
    let (_, r) = scan::token(r);
    let r = r.strip_prefix(" for ")?;
    let h = last_from(r)?;
    Some((
        Ev::Gained {
            host: Some(h.host),
            user: user_hash(&r[..h.at]),
        },
        "accepted",
    ))
}

/// `PAM: Authentication failure for U from HOST` and OpenSSH's other PAM wordings.
fn pam_message(m: &str) -> Option<(Ev, &'static str)> {
    let r = m.strip_prefix("PAM: ").unwrap_or(m);
    let auth = scan::starts_with_ci(r, "authentication failure for ")
        || scan::starts_with_ci(r, "authentication error for ")
        || scan::starts_with_ci(r, "authentication failed for ")
        || r.starts_with("User not known to the underlying authentication module for ");
    if !auth {
        return None;
    }
    let h = last_from(r)?;
    Some((fail(h.host), "pam-failure"))
}

/// `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=R rhost=H
/// [user=U]`: not a failure alone (another PAM module may still accept), it names the user.
fn pam_unix(m: &str) -> Option<(Ev, &'static str)> {
    // `MODULE(sshd:auth): authentication failure;` with a module name of word characters: the
    // first `(` opens the service.
    let at = scan::find_byte(m, b'(')?;
    if !m[at..].starts_with(PAM_AUTH_FAIL)
        || !m[..at]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_')
    {
        return None;
    }
    let b = m.as_bytes();
    // The last `rhost=` whose value ends the line or is followed only by `user=`.
    for pos in RHOST_REV.rfind_iter(b) {
        let after = &m[pos + 7..];
        let (tok, rest) = scan::token(after);
        let rest = rest.trim();
        let user_tail = rest.strip_prefix("user=");
        if !(rest.is_empty() || rest == "[preauth]" || user_tail.is_some_and(|u| !u.contains(' ')))
        {
            continue;
        }
        let host = crate::addr::parse_host(tok)?;
        let user = match user_tail {
            Some(u) => u,
            None => {
                let ru = RUSER.find(&b[..pos + 1]).map(|i| &m[i + 7..pos]);
                ru.unwrap_or("")
            }
        };
        return Some((
            Ev::Soft {
                host: Some(host),
                user: Some(user_hash(user)),
                forget: false,
            },
            "pam-unix",
        ));
    }
    None
}

/// Drops what syslog daemons and sshd put before the message proper: `error: `, `fatal: `,
/// Solaris' `[ID 800047 auth.info] `, the journal's `kernel:[  970.699396]: `.
fn strip_decorations(mut m: &str) -> &str {
    for _ in 0..4 {
        let before = m.len();
        for p in ["error: ", "fatal: "] {
            if let Some(r) = m.strip_prefix(p) {
                m = r;
            }
        }
        if let Some(r) = m.strip_prefix("[ID ") {
            if let Some(end) = r.find("] ") {
                m = &r[end + 2..];
            }
        }
        if let Some(r) = m.strip_prefix("kernel:") {
            let r = r.trim_start();
            if let Some(r) = r.strip_prefix('[') {
                if let Some(end) = r.find(']') {
                    let r = &r[end + 1..];
                    m = r.strip_prefix(':').unwrap_or(r).trim_start();
                }
            }
        }
        if m.len() == before {
            break;
        }
    }
    m
}

/// Whether the syslog tag is an OpenSSH server process.
fn is_sshd_tag(tag: &str) -> bool {
    matches!(tag, "sshd" | "sshd-session" | "sshd-auth")
}

impl Filter for Sshd {
    fn examine(&mut self, input: &Input<'_>, clock: &Clock) -> Option<Failure> {
        let env: Envelope<'_> = input.envelope()?;
        if !is_sshd_tag(env.tag) {
            return None;
        }
        let key = env.process_key();
        let known = self.conns.get(key).is_some();
        let (ev, rule) = self.classify(env.msg, known)?;
        let host = self.apply(key, ev)?;
        let time = input.time.or_else(|| env.timestamp(clock));
        Some(Failure { host, time, rule })
    }
}

const SAMPLES: &[Sample] = &[
    Sample::hit(
        "Jun 14 09:15:02 web1 sshd[4242]: Failed password for root from 203.0.113.5 port 50273 ssh2",
        "203.0.113.5",
        "2025-06-14T09:15:02Z",
    ),
    Sample::hit(
        "Jun 14 09:15:03 web1 sshd-session[4243]: Failed password for invalid user oracle from 2001:db8::5 port 40022 ssh2",
        "2001:db8::5",
        "2025-06-14T09:15:03Z",
    ),
    Sample::hit(
        "Jun 14 09:15:04 web1 sshd[4244]: Invalid user admin from 198.51.100.7 port 44004",
        "198.51.100.7",
        "2025-06-14T09:15:04Z",
    ),
    Sample::hit(
        "Jun 14 09:15:05 web1 sshd[4245]: Failed password for invalid user x from 192.0.2.66 port 1 ssh2 from 203.0.113.9 port 5555 ssh2",
        "203.0.113.9",
        "2025-06-14T09:15:05Z",
    )
    .about("a user name carrying a fake `from` clause does not move the blame"),
    Sample::hit(
        "Jun 14 09:15:05 web1 sshd[4245]: Failed password for invalid user x from 192.0.2.66 port 1 , client user \"y from 203.0.113.9 port 5555 ssh2",
        "203.0.113.9",
        "2025-06-14T09:15:05Z",
    )
    .about("a user name spelling hostbased's `, client user` does not cut the daemon's address off"),
    Sample::hit(
        "Jun 14 09:15:06 web1 sshd[4246]: error: maximum authentication attempts exceeded for root from 203.0.113.10 port 49940 ssh2 [preauth]",
        "203.0.113.10",
        "2025-06-14T09:15:06Z",
    ),
    Sample::miss("Jun 14 09:16:00 web1 sshd[4250]: Connection from 203.0.113.11 port 51353 on 192.0.2.1 port 22 rdomain \"\""),
    Sample::hit(
        "Jun 14 09:16:02 web1 sshd[4250]: Disconnecting: Too many authentication failures [preauth]",
        "203.0.113.11",
        "2025-06-14T09:16:02Z",
    )
    .after("Jun 14 09:16:00 web1 sshd[4250]: Connection from 203.0.113.11 port 51353 on 192.0.2.1 port 22 rdomain \"\"")
    .about("the client comes from the same process' earlier line"),
    Sample::miss("Jun 14 09:17:00 web1 sshd[4251]: Accepted publickey for deploy from 192.0.2.20 port 40000 ssh2: ED25519 SHA256:abc"),
    Sample::miss("Jun 14 09:17:01 web1 sshd[4252]: Failed publickey for deploy from 192.0.2.21 port 40001 ssh2: RSA SHA256:abc")
        .about("a valid user trying several keys is not a failure yet"),
    Sample::miss("Jun 14 09:18:00 web1 sshd[4253]: Connection closed by 203.0.113.12 port 40002 [preauth]"),
    Sample::hit(
        "Jun 14 09:18:00 web1 sshd[4254]: Connection closed by 203.0.113.12 port 40002 [preauth]",
        "203.0.113.12",
        "2025-06-14T09:18:00Z",
    )
    .mode("aggressive"),
    Sample::hit(
        "Jun 14 09:18:01 web1 sshd[4255]: error: kex_exchange_identification: Connection closed by remote host",
        "203.0.113.13",
        "2025-06-14T09:18:01Z",
    )
    .mode("ddos")
    .after("Jun 14 09:18:01 web1 sshd[4255]: Connection from 203.0.113.13 port 33000 on 192.0.2.1 port 22"),
    Sample::hit(
        "Jun 14 09:18:02 web1 sshd[4256]: Unable to negotiate with 203.0.113.14 port 55419: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
        "203.0.113.14",
        "2025-06-14T09:18:02Z",
    )
    .mode("aggressive"),
    Sample::hit(
        "web1 sshd[4257]: Failed password for root from 203.0.113.15 port 22000 ssh2",
        "203.0.113.15",
        "2025-06-15T12:00:00Z",
    )
    .journal(),
];
