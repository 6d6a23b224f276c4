//! The value of each keyword, parsed and checked the way sshd 9.2 does (`process_server_config_line`
//! in servconf.c): which words a flag accepts, integer and time syntax (`strtonum`, `convtime`),
//! log levels, ports, and the canonical form `sshd -T` prints (`prohibit-password` is printed
//! `without-password`, times in seconds, `DEBUG1` as `DEBUG` ...). A value sshd refuses is an
//! error here too, with sshd's wording where it helps.
//!
//! Algorithm lists are checked in [`super::algorithms`]; `Include` and `Match` in
//! [`super::config`] and [`super::matching`].

use super::algorithms::{self, AlgoKind};
use super::keywords::Kw;
use super::matching;
use std::collections::HashMap;

/// A parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Bool(bool),
    /// Integers, times in seconds.
    Num(i64),
    /// Canonical words (`without-password`, `INFO`), paths, commands, raw algorithm lists.
    Text(String),
    /// The items one line contributes to a list keyword.
    Words(Vec<String>),
}

/// What value parsing may consult besides the line itself.
#[derive(Debug, Clone, Default)]
pub struct ParseEnv {
    /// TCP service names of the host's `/etc/services` (`a2port` falls back to them).
    pub services: HashMap<String, u16>,
    /// Home directory of the user sshd runs as (root), for `~` in `AuthorizedKeysFile`.
    pub root_home: String,
}

/// The arguments of a line, consumed in order like sshd's `argv_next`.
#[derive(Debug)]
pub struct Args<'a> {
    items: &'a [String],
    pos: usize,
}

impl<'a> Args<'a> {
    pub fn new(items: &'a [String]) -> Args<'a> {
        Args { items, pos: 0 }
    }

    pub fn next_arg(&mut self) -> Option<&'a str> {
        let a = self.items.get(self.pos)?;
        self.pos += 1;
        Some(a.as_str())
    }

    pub fn peek(&self) -> Option<&'a str> {
        self.items.get(self.pos).map(String::as_str)
    }

    /// Mark everything consumed (`argv_consume`).
    pub fn consume(&mut self) {
        self.pos = self.items.len();
    }

    pub fn remaining(&self) -> usize {
        self.items.len() - self.pos
    }
}

const FLAG: &[(&str, &str)] = &[("yes", "yes"), ("no", "no")];
pub const PERMIT_ROOT_LOGIN: &[(&str, &str)] = &[
    ("without-password", "without-password"),
    ("prohibit-password", "without-password"),
    ("forced-commands-only", "forced-commands-only"),
    ("yes", "yes"),
    ("no", "no"),
];
const IGNORE_RHOSTS: &[(&str, &str)] =
    &[("yes", "yes"), ("no", "no"), ("shosts-only", "shosts-only")];
const ADDRESS_FAMILY: &[(&str, &str)] = &[("inet", "inet"), ("inet6", "inet6"), ("any", "any")];
const COMPRESSION: &[(&str, &str)] = &[("yes", "yes"), ("delayed", "yes"), ("no", "no")];
const GATEWAY_PORTS: &[(&str, &str)] = &[
    ("clientspecified", "clientspecified"),
    ("yes", "yes"),
    ("no", "no"),
];
const TCP_FORWARDING: &[(&str, &str)] = &[
    ("yes", "yes"),
    ("all", "yes"),
    ("no", "no"),
    ("remote", "remote"),
    ("local", "local"),
];

/// sshd's log levels in increasing verbosity, with the name `sshd -T` prints for each spelling.
pub const LOG_LEVELS: &[(&str, &str)] = &[
    ("SILENT", "SILENT"),
    ("QUIET", "SILENT"),
    ("FATAL", "FATAL"),
    ("ERROR", "ERROR"),
    ("INFO", "INFO"),
    ("VERBOSE", "VERBOSE"),
    ("DEBUG", "DEBUG"),
    ("DEBUG1", "DEBUG"),
    ("DEBUG2", "DEBUG2"),
    ("DEBUG3", "DEBUG3"),
];

const FACILITIES: &[&str] = &[
    "DAEMON", "USER", "AUTH", "AUTHPRIV", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4",
    "LOCAL5", "LOCAL6", "LOCAL7",
];

const IPQOS: &[&str] = &[
    "none",
    "af11",
    "af12",
    "af13",
    "af21",
    "af22",
    "af23",
    "af31",
    "af32",
    "af33",
    "af41",
    "af42",
    "af43",
    "cs0",
    "cs1",
    "cs2",
    "cs3",
    "cs4",
    "cs5",
    "cs6",
    "cs7",
    "ef",
    "le",
    "lowdelay",
    "throughput",
    "reliability",
];

const AUTH_METHODS: &[&str] = &[
    "none",
    "gssapi-with-mic",
    "publickey",
    "keyboard-interactive",
    "password",
    "hostbased",
];

/// Parse the value of `kw` from `args` (and, for the few keywords that take the rest of the line
/// verbatim, `rest`). Arguments left over are the caller's "extra arguments" error.
pub fn parse(kw: Kw, args: &mut Args, rest: &str, env: &ParseEnv) -> Result<Val, String> {
    use Kw::*;
    match kw {
        UsePam
        | HostbasedAuthentication
        | HostbasedUsesNameFromPacketOnly
        | PubkeyAuthentication
        | KerberosAuthentication
        | KerberosOrLocalPasswd
        | KerberosTicketCleanup
        | GssapiAuthentication
        | GssapiCleanupCredentials
        | GssapiStrictAcceptorCheck
        | GssapiKeyExchange
        | GssapiStoreCredentialsOnRekey
        | PasswordAuthentication
        | KbdInteractiveAuthentication
        | PrintMotd
        | PrintLastLog
        | IgnoreUserKnownHosts
        | X11Forwarding
        | X11UseLocalhost
        | StrictModes
        | PermitEmptyPasswords
        | TcpKeepAlive
        | AllowAgentForwarding
        | UseDns
        | PermitTty
        | PermitUserRc
        | StreamLocalBindUnlink
        | DisableForwarding
        | ExposeAuthInfo
        | DebianBanner => multistate(args, FLAG).map(|w| Val::Bool(w == "yes")),
        PermitRootLogin => multistate(args, PERMIT_ROOT_LOGIN).map(text),
        IgnoreRhosts => multistate(args, IGNORE_RHOSTS).map(text),
        AddressFamily => multistate(args, ADDRESS_FAMILY).map(text),
        Compression => multistate(args, COMPRESSION).map(text),
        GatewayPorts => multistate(args, GATEWAY_PORTS).map(text),
        AllowTcpForwarding | AllowStreamLocalForwarding => {
            multistate(args, TCP_FORWARDING).map(text)
        }
        X11DisplayOffset | MaxAuthTries | MaxSessions | ClientAliveCountMax | RequiredRsaSize => {
            let arg = args.next_arg();
            int_value(arg)
                .map(Val::Num)
                .map_err(|e| format!("{} integer value {e}.", kw.name()))
        }
        LoginGraceTime | ClientAliveInterval => time_arg(args).map(Val::Num),
        UnusedConnectionTimeout => {
            if args.peek().is_some_and(|a| a.eq_ignore_ascii_case("none")) {
                args.next_arg();
                return Ok(Val::Num(0));
            }
            time_arg(args).map(Val::Num)
        }
        LogLevel => {
            let arg = args.next_arg();
            log_level(arg.unwrap_or(""))
                .map(text)
                .ok_or_else(|| format!("unsupported log level '{}'", arg.unwrap_or("<NONE>")))
        }
        SyslogFacility => {
            let arg = args.next_arg();
            FACILITIES
                .iter()
                .find(|f| arg.is_some_and(|a| f.eq_ignore_ascii_case(a)))
                .map(|f| text(f))
                .ok_or_else(|| format!("unsupported log facility '{}'", arg.unwrap_or("<NONE>")))
        }
        PidFile | ModuliFile | XAuthLocation | Banner | TrustedUserCaKeys | RevokedKeys
        | HostKey | HostCertificate | HostKeyAgent | SecurityKeyProvider => {
            let arg = required(args, "missing file name.")?;
            Ok(text(arg))
        }
        AuthorizedPrincipalsFile
        | ChrootDirectory
        | AuthorizedKeysCommandUser
        | AuthorizedPrincipalsCommandUser => Ok(text(required(args, "missing argument.")?)),
        ForceCommand | VersionAddendum => {
            args.consume();
            let value = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            if kw == VersionAddendum && value.contains('\r') {
                return Err("Invalid versionaddendum argument".into());
            }
            Ok(text(value))
        }
        AuthorizedKeysCommand | AuthorizedPrincipalsCommand => {
            args.consume();
            let value = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            if !value.starts_with('/') && !value.eq_ignore_ascii_case("none") {
                return Err(format!("{} must be an absolute path", kw.name()));
            }
            Ok(text(value))
        }
        Ciphers => algo(args, AlgoKind::Cipher),
        Macs => algo(args, AlgoKind::Mac),
        KexAlgorithms => algo(args, AlgoKind::Kex),
        GssapiKexAlgorithms => algo(args, AlgoKind::GssKex),
        HostKeyAlgorithms
        | PubkeyAcceptedAlgorithms
        | HostbasedAcceptedAlgorithms
        | CaSignatureAlgorithms => algo(args, AlgoKind::Key),
        AllowUsers | DenyUsers => {
            let mut out = Vec::new();
            while let Some(a) = args.next_arg() {
                let bad = a.is_empty()
                    || a.split_once('@').is_some_and(|(_, host)| {
                        matching::addr_match_list(None, host) == matching::AddrMatch::Invalid
                    });
                if bad {
                    return Err(format!("invalid {} pattern: \"{a}\"", kw.name()));
                }
                out.push(a.to_string());
            }
            Ok(Val::Words(out))
        }
        AllowGroups | DenyGroups => words(args, |a| {
            (!a.is_empty())
                .then_some(())
                .ok_or_else(|| format!("empty {} pattern", kw.name()))
        }),
        AcceptEnv => words(args, |a| {
            (!a.is_empty() && !a.contains('='))
                .then_some(())
                .ok_or_else(|| "Invalid environment name.".to_string())
        }),
        SetEnv => words(args, |a| {
            (!a.is_empty() && a.contains('='))
                .then_some(())
                .ok_or_else(|| "Invalid environment.".to_string())
        }),
        AuthorizedKeysFile => {
            let v = words(args, |a| {
                (!a.is_empty())
                    .then_some(())
                    .ok_or_else(|| "empty argument".to_string())
            })?;
            match v {
                Val::Words(w) => Ok(Val::Words(
                    w.into_iter().map(|p| tilde_expand(&p, env)).collect(),
                )),
                other => Ok(other),
            }
        }
        LogVerbose => {
            let all: Vec<&str> = std::iter::from_fn(|| args.next_arg()).collect();
            for (i, a) in all.iter().enumerate() {
                if a.is_empty() {
                    return Err("empty argument".into());
                }
                if a.eq_ignore_ascii_case("none") && (i > 0 || all.len() > 1) {
                    return Err("\"none\" argument must appear alone.".into());
                }
            }
            Ok(Val::Words(all.iter().map(|s| s.to_string()).collect()))
        }
        AuthenticationMethods => {
            let all: Vec<&str> = std::iter::from_fn(|| args.next_arg()).collect();
            if all.is_empty() {
                return Err("no authenticationmethods specified".into());
            }
            let any = all.contains(&"any");
            if any && all.len() > 1 {
                return Err("\"any\" must appear alone in authenticationmethods".into());
            }
            for list in all.iter().filter(|a| **a != "any") {
                auth_methods_valid(list)?;
            }
            Ok(Val::Words(all.iter().map(|s| s.to_string()).collect()))
        }
        Port => {
            let arg = required(args, "missing port number.")?;
            match a2port(arg, env) {
                Some(p) if p > 0 => Ok(Val::Num(i64::from(p))),
                _ => Err("Badly formatted port number.".into()),
            }
        }
        ListenAddress => listen_address(args, env),
        Subsystem => {
            let name = required(args, "missing argument.")?;
            let cmd = required(args, "Missing subsystem command.")?;
            let mut line = vec![name.to_string(), cmd.to_string()];
            line.extend(std::iter::from_fn(|| args.next_arg()).map(String::from));
            Ok(Val::Words(line))
        }
        PermitUserEnvironment => {
            let arg = required(args, "missing argument.")?;
            Ok(text(arg))
        }
        PermitTunnel => {
            let arg = required(args, "missing argument.")?;
            if ["no", "point-to-point", "ethernet", "yes"].contains(&arg) {
                Ok(text(arg))
            } else {
                Err(format!("bad permittunnel argument {arg}"))
            }
        }
        PermitOpen | PermitListen => permit_open(kw, args, env),
        MaxStartups => {
            let arg = required(args, "missing argument.")?;
            let (n, v) = scan_ints(arg, 3);
            match (n, v.as_slice()) {
                (3, [b, r, m]) if b <= m && (1..=100).contains(r) => {
                    Ok(text(&format!("{b}:{r}:{m}")))
                }
                (1, [b, ..]) => Ok(text(&format!("{b}:30:{b}"))),
                _ => Err("Invalid maxstartups spec.".into()),
            }
        }
        PerSourceMaxStartups => {
            let arg = required(args, "missing argument.")?;
            if arg == "none" {
                return Ok(text("none"));
            }
            int_value(Some(arg))
                .map(Val::Num)
                .map_err(|e| format!("persourcemaxstartups integer value {e}."))
        }
        PerSourceNetBlockSize => {
            let arg = required(args, "missing argument.")?;
            let (n, v) = scan_ints(arg, 2);
            let ok = match (n, v.as_slice()) {
                (1, [a, ..]) => (0..=32).contains(a),
                (2, [a, b]) => (0..=32).contains(a) && (0..=128).contains(b),
                _ => false,
            };
            ok.then(|| text(arg))
                .ok_or_else(|| "Invalid persourcenetblocksize spec.".into())
        }
        StreamLocalBindMask => {
            let arg = required(args, "missing argument.")?;
            match strtol_prefix(arg, 8) {
                Some((v, used)) if used > 0 && (0..=0o777).contains(&v) => {
                    Ok(text(&format!("0{v:o}")))
                }
                _ => Err("Invalid streamlocalbindmask.".into()),
            }
        }
        FingerprintHash => {
            let arg = required(args, "missing argument.")?;
            ["md5", "sha1", "sha256", "sha384", "sha512"]
                .iter()
                .find(|h| h.eq_ignore_ascii_case(arg))
                .map(|h| text(&h.to_ascii_uppercase()))
                .ok_or_else(|| format!("Invalid fingerprinthash algorithm \"{arg}\"."))
        }
        IpQos => {
            let first = required(args, "missing argument.")?;
            let second = args.next_arg();
            for v in std::iter::once(first).chain(second) {
                if !ipqos_valid(v) {
                    return Err(format!("Bad ipqos value: {v}"));
                }
            }
            Ok(text(&format!("{first} {}", second.unwrap_or(first))))
        }
        RekeyLimit => {
            let arg = required(args, "missing argument.")?;
            if arg != "default" {
                match scan_scaled(arg) {
                    Some(v) if v == 0 || v >= 16 => {}
                    Some(_) => return Err("rekeylimit too small".into()),
                    None => return Err(format!("Bad rekeylimit number '{arg}'")),
                }
            }
            if let Some(interval) = args.next_arg() {
                if interval != "none" && convtime(interval).is_none() {
                    return Err("invalid time value.".into());
                }
            }
            Ok(text(arg))
        }
        PubkeyAuthOptions => {
            let all: Vec<&str> = std::iter::from_fn(|| args.next_arg()).collect();
            for a in &all {
                if !["none", "touch-required", "verify-required"]
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(a))
                {
                    return Err(format!("unsupported pubkeyauthoptions option {a}"));
                }
            }
            Ok(Val::Words(all.iter().map(|s| s.to_string()).collect()))
        }
        ChannelTimeout => {
            let all: Vec<&str> = std::iter::from_fn(|| args.next_arg()).collect();
            for (i, a) in all.iter().enumerate() {
                if a.eq_ignore_ascii_case("none") && (i > 0 || all.len() > 1) {
                    return Err("\"none\" argument must appear alone.".into());
                }
                let ok = a.eq_ignore_ascii_case("none")
                    || a.split_once('=')
                        .is_some_and(|(t, v)| !t.is_empty() && convtime(v).is_some());
                if !ok {
                    return Err(format!("invalid channel timeout {a}"));
                }
            }
            Ok(Val::Words(all.iter().map(|s| s.to_string()).collect()))
        }
        RDomain => Err("setting RDomain not supported on this platform.".into()),
    }
}

fn text(s: &str) -> Val {
    Val::Text(s.to_string())
}

fn required<'a>(args: &mut Args<'a>, missing: &str) -> Result<&'a str, String> {
    match args.next_arg() {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(missing.to_string()),
    }
}

fn words(args: &mut Args, check: impl Fn(&str) -> Result<(), String>) -> Result<Val, String> {
    let mut out = Vec::new();
    while let Some(a) = args.next_arg() {
        check(a)?;
        out.push(a.to_string());
    }
    Ok(Val::Words(out))
}

fn multistate(args: &mut Args, table: &[(&str, &'static str)]) -> Result<&'static str, String> {
    let arg = required(args, "missing argument.")?;
    table
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(arg))
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("unsupported option \"{arg}\"."))
}

fn time_arg(args: &mut Args) -> Result<i64, String> {
    let arg = required(args, "missing time value.")?;
    convtime(arg).ok_or_else(|| "invalid time value.".to_string())
}

fn algo(args: &mut Args, kind: AlgoKind) -> Result<Val, String> {
    let arg = required(args, "missing argument.")?;
    algorithms::validate_spec(kind, arg)?;
    Ok(text(arg))
}

/// The canonical name of a log level (case-insensitive), as `sshd -T` prints it.
pub fn log_level(word: &str) -> Option<&'static str> {
    LOG_LEVELS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(word))
        .map(|(_, v)| *v)
}

/// Verbosity rank of a canonical log level (SILENT, written QUIET too, = 0 ... DEBUG3 = 7).
pub fn log_level_rank(canonical: &str) -> usize {
    [
        "SILENT", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG", "DEBUG2", "DEBUG3",
    ]
    .iter()
    .position(|l| *l == canonical)
    .unwrap_or(3)
}

/// `strtol(s, &end, base)` on a prefix: leading white space, optional sign, digits. Returns the
/// value and the number of bytes used (0 when no digit was read). Saturates like strtol.
fn strtol_prefix(s: &str, base: u32) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: i64 = 0;
    while i < b.len() {
        let Some(d) = (b[i] as char).to_digit(base) else {
            break;
        };
        v = v
            .saturating_mul(i64::from(base))
            .saturating_add(i64::from(d));
        i += 1;
    }
    if i == start {
        return Some((0, 0));
    }
    Some((if neg { -v } else { v }, i))
}

/// `strtonum(s, 0, INT_MAX)` as `atoi_err` uses it: the whole string must be a decimal number.
pub fn int_value(s: Option<&str>) -> Result<i64, &'static str> {
    let s = match s {
        None | Some("") => return Err("missing"),
        Some(s) => s,
    };
    match strtol_prefix(s, 10) {
        Some((v, used)) if used == s.len() && used > 0 => {
            if v < 0 {
                Err("too small")
            } else if v > i64::from(i32::MAX) {
                Err("too large")
            } else {
                Ok(v)
            }
        }
        _ => Err("invalid"),
    }
}

/// `convtime`: `90`, `30s`, `1m30s`, `2h`, `1w` ... into seconds; `None` when sshd refuses it.
pub fn convtime(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let max = i64::from(i32::MAX);
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let (secs, used) = strtol_prefix(rest, 10)?;
        if used == 0 || secs < 0 {
            return None;
        }
        let mut chars = rest[used..].chars();
        let mult = match chars.next() {
            None => 1,
            Some('s' | 'S') => 1,
            Some('m' | 'M') => 60,
            Some('h' | 'H') => 3600,
            Some('d' | 'D') => 86400,
            Some('w' | 'W') => 604_800,
            Some(_) => return None,
        };
        if secs > max / mult {
            return None;
        }
        let secs = secs * mult;
        if total > max - secs {
            return None;
        }
        total += secs;
        rest = chars.as_str();
    }
    Some(total)
}

/// `a2port`: a decimal port 0-65535, or a TCP service name of the host's `/etc/services`.
pub fn a2port(s: &str, env: &ParseEnv) -> Option<u16> {
    if let Ok(v) = int_value(Some(s)) {
        return u16::try_from(v).ok();
    }
    env.services.get(s).copied()
}

/// `sscanf(s, "%d:%d:%d")`-style: how many integers were read (up to `max`) and their values.
fn scan_ints(s: &str, max: usize) -> (usize, Vec<i64>) {
    let mut out = Vec::new();
    let mut rest = s;
    while out.len() < max {
        match strtol_prefix(rest, 10) {
            Some((v, used)) if used > 0 => {
                out.push(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)));
                rest = &rest[used..];
            }
            _ => break,
        }
        if out.len() < max {
            match rest.strip_prefix(':') {
                Some(r) => rest = r,
                None => break,
            }
        }
    }
    (out.len(), out)
}

/// `scan_scaled`: a number with an optional K/M/G/T/P/E suffix (powers of 1024).
fn scan_scaled(s: &str) -> Option<i64> {
    let (num, suffix) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let base: i64 = num.parse().ok()?;
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        "P" => 50,
        "E" => 60,
        _ => return None,
    };
    base.checked_mul(1i64.checked_shl(shift)?)
}

fn ipqos_valid(v: &str) -> bool {
    if IPQOS.iter().any(|n| n.eq_ignore_ascii_case(v)) {
        return true;
    }
    let (radix, digits) = if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        (16, h)
    } else if v.len() > 1 && v.starts_with('0') {
        (8, &v[1..])
    } else {
        (10, v)
    };
    !digits.is_empty() && i64::from_str_radix(digits, radix).is_ok_and(|n| (0..=255).contains(&n))
}

fn auth_methods_valid(list: &str) -> Result<(), String> {
    for method in list.split(',') {
        let name = method.split_once(':').map_or(method, |(m, _)| m);
        if !AUTH_METHODS.contains(&name) {
            return Err(format!(
                "Unknown authentication method \"{method}\" in list: invalid authenticationmethods method list."
            ));
        }
    }
    Ok(())
}

/// `~/x` and `~user/x` as sshd's `tilde_expand_filename` expands them for the root user.
fn tilde_expand(p: &str, env: &ParseEnv) -> String {
    match p.strip_prefix("~/") {
        Some(rest) => format!("{}/{rest}", env.root_home.trim_end_matches('/')),
        None => p.to_string(),
    }
}

fn listen_address(args: &mut Args, env: &ParseEnv) -> Result<Val, String> {
    let arg = required(args, "missing address")?;
    let (host, port) = if !arg.contains('[') && arg.matches(':').count() >= 2 {
        (arg.to_string(), 0u16)
    } else {
        let (h, p) = hpdelim(arg).ok_or("bad address:port usage")?;
        let h = clean_hostname(&h);
        let port = match p {
            None => 0,
            Some(p) => match a2port(&p, env) {
                Some(v) if v > 0 => v,
                _ => return Err("bad port number".into()),
            },
        };
        (h, port)
    };
    if let Some(a) = args.next_arg() {
        if a != "rdomain" || args.next_arg().is_none() {
            return Err("bad ListenAddress syntax".into());
        }
        return Err("bad routing domain".into());
    }
    Ok(Val::Words(vec![host, port.to_string()]))
}

/// `hpdelim`: split `host:port` (`[v6]:port`); `None` on a `/` delimiter or a bad bracket.
fn hpdelim(s: &str) -> Option<(String, Option<String>)> {
    let split = if s.starts_with('[') {
        let close = s.find(']')? + 1;
        match s.as_bytes().get(close) {
            None => None,
            Some(b':') => Some(close),
            Some(_) => return None,
        }
    } else {
        match s.find([':', '/']) {
            None => None,
            Some(i) if s.as_bytes()[i] == b'/' => return None,
            Some(i) => Some(i),
        }
    };
    Some(match split {
        None => (s.to_string(), None),
        Some(i) => (s[..i].to_string(), Some(s[i + 1..].to_string())),
    })
}

fn clean_hostname(h: &str) -> String {
    match h.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        Some(inner) => inner.to_string(),
        None => h.to_string(),
    }
}

fn permit_open(kw: Kw, args: &mut Args, env: &ParseEnv) -> Result<Val, String> {
    let first = required(args, "missing argument.")?;
    if first == "any" || first == "none" {
        return Ok(Val::Words(vec![first.to_string()]));
    }
    let mut out = Vec::new();
    let mut cur = Some(first);
    while let Some(arg) = cur.filter(|a| !a.is_empty()) {
        let (item, port) = if kw == Kw::PermitListen && !arg.contains(':') {
            (format!("*:{arg}"), Some(arg.to_string()))
        } else {
            let (_, p) = hpdelim(arg).ok_or_else(|| format!("{} missing host", kw.name()))?;
            (arg.to_string(), p)
        };
        let ok = port.is_some_and(|p| p == "*" || a2port(&p, env).is_some_and(|v| v > 0));
        if !ok {
            return Err(format!("{} bad port number", kw.name()));
        }
        out.push(item);
        cur = args.next_arg();
    }
    Ok(Val::Words(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(kw: Kw, line: &[&str]) -> Result<Val, String> {
        let v: Vec<String> = line.iter().map(|s| s.to_string()).collect();
        let mut a = Args::new(&v);
        parse(kw, &mut a, &line.join(" "), &ParseEnv::default())
    }

    #[test]
    fn times_like_convtime() {
        assert_eq!(convtime("30"), Some(30));
        assert_eq!(convtime("30s"), Some(30));
        assert_eq!(convtime("2m"), Some(120));
        assert_eq!(convtime("1m30s"), Some(90));
        assert_eq!(convtime("1H"), Some(3600));
        assert_eq!(convtime(" 30"), Some(30));
        assert_eq!(convtime("+5"), Some(5));
        assert_eq!(convtime("-1"), None);
        assert_eq!(convtime("1x"), None);
        assert_eq!(convtime("m"), None);
        assert_eq!(convtime(""), None);
        assert_eq!(convtime("99999999999"), None);
        assert_eq!(convtime("3550w"), Some(3550 * 604_800));
        assert_eq!(convtime("3551w"), None);
    }

    #[test]
    fn integers_like_strtonum() {
        assert_eq!(int_value(Some("3")), Ok(3));
        assert_eq!(int_value(Some("+3")), Ok(3));
        assert_eq!(int_value(Some(" 3")), Ok(3));
        assert_eq!(int_value(Some("0x3")), Err("invalid"));
        assert_eq!(int_value(Some("-1")), Err("too small"));
        assert_eq!(int_value(Some("2147483648")), Err("too large"));
        assert_eq!(int_value(None), Err("missing"));
    }

    #[test]
    fn canonical_forms_match_sshd_t() {
        assert_eq!(
            one(Kw::PermitRootLogin, &["Prohibit-Password"]),
            Ok(Val::Text("without-password".into()))
        );
        assert_eq!(
            one(Kw::LogLevel, &["debug1"]),
            Ok(Val::Text("DEBUG".into()))
        );
        assert_eq!(
            one(Kw::AllowTcpForwarding, &["all"]),
            Ok(Val::Text("yes".into()))
        );
        assert_eq!(
            one(Kw::PasswordAuthentication, &["NO"]),
            Ok(Val::Bool(false))
        );
        assert!(one(Kw::PasswordAuthentication, &["nope"]).is_err());
        assert!(one(Kw::PasswordAuthentication, &[]).is_err());
        assert_eq!(
            one(Kw::MaxStartups, &["10"]),
            Ok(Val::Text("10:30:10".into()))
        );
        assert!(one(Kw::MaxStartups, &["10:0:20"]).is_err());
        assert!(one(Kw::AllowUsers, &["a@10.0.0.1/8"]).is_err());
        assert!(one(Kw::AllowUsers, &["a@10.0.0.0/8", "b"]).is_ok());
        assert!(one(Kw::AuthenticationMethods, &["publickey,password", "any"]).is_err());
        assert!(one(
            Kw::AuthenticationMethods,
            &["publickey,keyboard-interactive:pam"]
        )
        .is_ok());
        assert!(one(Kw::RDomain, &["x"]).is_err());
        assert_eq!(
            one(Kw::ListenAddress, &["[::1]:2222"]),
            Ok(Val::Words(vec!["::1".into(), "2222".into()]))
        );
        assert_eq!(
            one(Kw::ListenAddress, &["fe80::1"]),
            Ok(Val::Words(vec!["fe80::1".into(), "0".into()]))
        );
    }

    proptest! {
        #[test]
        fn no_keyword_panics_on_any_argument(idx in 0usize..Kw::ALL.len(), args in proptest::collection::vec("\\PC{0,20}", 0..4)) {
            let kw = Kw::ALL[idx];
            let mut a = Args::new(&args);
            let _ = parse(kw, &mut a, &args.join(" "), &ParseEnv::default());
        }

        #[test]
        fn convtime_matches_a_simple_sum(parts in proptest::collection::vec((0i64..1000, prop_oneof![Just(""), Just("s"), Just("m"), Just("h")]), 1..4)) {
            let text: String = parts.iter().map(|(n, u)| format!("{n}{u}")).collect();
            let want: i64 = parts.iter().map(|(n, u)| n * match *u { "m" => 60, "h" => 3600, _ => 1 }).sum();
            // A bare number is only a unit-less term at the very end (otherwise digits run on).
            let unitless_inside = parts[..parts.len() - 1].iter().any(|(_, u)| u.is_empty());
            if !unitless_inside {
                prop_assert_eq!(convtime(&text), Some(want));
            }
        }
    }
}
