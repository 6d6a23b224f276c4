//! PostgreSQL's `pg_hba.conf`: one record per line (`local DATABASE USER METHOD [OPTIONS]`,
//! `host|hostssl|hostnossl|hostgssenc|hostnogssenc DATABASE USER ADDRESS METHOD [OPTIONS]`), `#`
//! comments, double-quoted tokens (`""` is a quote; a quoted keyword is a plain name),
//! comma-separated lists (a token ending with `,` continues on the next one), a backslash at the
//! end of a line continuing the record, an address given as `IP/len` or as `IP MASK`, and the
//! PostgreSQL 16 `include`, `include_if_exists` and `include_dir` directives.

use super::pgconf::{absolute, parent_dir, MAX_DEPTH, MAX_FILES};
use super::ConfError;
use crate::host::Host;
use std::net::IpAddr;

/// The connection type of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnType {
    Local,
    Host,
    HostSsl,
    HostNoSsl,
    HostGssEnc,
    HostNoGssEnc,
}

impl ConnType {
    fn parse(s: &str) -> Option<ConnType> {
        Some(match s {
            "local" => ConnType::Local,
            "host" => ConnType::Host,
            "hostssl" => ConnType::HostSsl,
            "hostnossl" => ConnType::HostNoSsl,
            "hostgssenc" => ConnType::HostGssEnc,
            "hostnogssenc" => ConnType::HostNoGssEnc,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConnType::Local => "local",
            ConnType::Host => "host",
            ConnType::HostSsl => "hostssl",
            ConnType::HostNoSsl => "hostnossl",
            ConnType::HostGssEnc => "hostgssenc",
            ConnType::HostNoGssEnc => "hostnogssenc",
        }
    }
}

/// A token as written: its text and whether it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub quoted: bool,
}

impl Token {
    /// True for the unquoted keyword `kw`.
    pub fn is_keyword(&self, kw: &str) -> bool {
        !self.quoted && self.text == kw
    }
}

/// One record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HbaLine {
    pub path: String,
    /// First line of the record.
    pub line: u32,
    /// The record as written (continuation lines joined).
    pub text: String,
    pub conn: ConnType,
    pub databases: Vec<Token>,
    pub users: Vec<Token>,
    /// The address as written (`10.0.0.0/8`, `all`, `samenet`, `.example.com`, or `IP MASK`
    /// joined by a space); `None` for `local`.
    pub address: Option<String>,
    /// The authentication method, lowercased.
    pub method: String,
    pub options: Vec<String>,
}

impl HbaLine {
    /// True when the record admits clients from any address: `all`, `0.0.0.0/0`, `::/0` or a
    /// zero mask.
    pub fn from_anywhere(&self) -> bool {
        let Some(a) = &self.address else {
            return false;
        };
        if a == "all" {
            return true;
        }
        prefix_len(a) == Some(0)
    }

    /// True when the record only admits connections from the host itself (`local`, loopback
    /// addresses, `samehost`).
    pub fn local_only(&self) -> bool {
        let Some(a) = &self.address else {
            return true;
        };
        if a == "samehost" {
            return true;
        }
        let ip = a.split([' ', '/']).next().unwrap_or(a);
        super::is_loopback(ip) && prefix_len(a).is_none_or(|p| p >= 8)
    }
}

/// The prefix length of `IP/len` or `IP MASK`; `None` when the address is a name or keyword.
pub fn prefix_len(addr: &str) -> Option<u32> {
    if let Some((ip, len)) = addr.split_once('/') {
        ip.parse::<IpAddr>().ok()?;
        return len.parse().ok();
    }
    if let Some((ip, mask)) = addr.split_once(' ') {
        ip.parse::<IpAddr>().ok()?;
        return match mask.parse::<IpAddr>().ok()? {
            IpAddr::V4(m) => Some(u32::from(m).count_ones()),
            IpAddr::V6(m) => Some(u128::from(m).count_ones()),
        };
    }
    addr.parse::<IpAddr>().ok().map(|ip| match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    })
}

/// A meaningful record of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HbaItem {
    Rule(HbaLine),
    Include {
        kind: super::pgconf::IncludeKind,
        target: String,
        line: u32,
    },
}

/// Split one logical line into fields; each field is a list of tokens.
fn fields(s: &str) -> Result<Vec<Vec<Token>>, &'static str> {
    let mut out: Vec<Vec<Token>> = Vec::new();
    let mut chars = s.chars().peekable();
    let mut continuing = false;
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => break,
            _ => {}
        }
        let mut text = String::new();
        let mut quoted = false;
        let mut in_q = false;
        let mut trailing_comma = false;
        while let Some(&c) = chars.peek() {
            if in_q {
                chars.next();
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        text.push('"');
                    } else {
                        in_q = false;
                    }
                } else {
                    text.push(c);
                }
                continue;
            }
            if c.is_whitespace() || c == '#' {
                break;
            }
            chars.next();
            match c {
                '"' => {
                    in_q = true;
                    quoted = true;
                }
                ',' => {
                    trailing_comma = true;
                    break;
                }
                _ => text.push(c),
            }
        }
        if in_q {
            return Err("unterminated quoted string");
        }
        let tok = Token { text, quoted };
        if continuing {
            if let Some(last) = out.last_mut() {
                last.push(tok);
            }
        } else {
            out.push(vec![tok]);
        }
        continuing = trailing_comma;
    }
    Ok(out)
}

/// Parse one file's text into records and include directives. Records PostgreSQL would reject
/// are errors (PostgreSQL then refuses the whole file).
pub fn parse(path: &str, text: &str) -> (Vec<HbaItem>, Vec<ConfError>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut pending: Option<(u32, String, String)> = None; // first line, joined text, raw
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (start, mut joined, mut shown) =
            pending
                .take()
                .unwrap_or((line_no, String::new(), String::new()));
        if !shown.is_empty() {
            shown.push('\n');
        }
        shown.push_str(raw);
        let body = strip_comment(raw);
        if let Some(cont) = body.strip_suffix('\\') {
            joined.push_str(cont);
            joined.push(' ');
            if lines.peek().is_some() {
                pending = Some((start, joined, shown));
                continue;
            }
        } else {
            joined.push_str(body);
        }
        let err = |message: String| ConfError::Syntax {
            path: path.to_string(),
            line: start,
            message,
        };
        let f = match fields(&joined) {
            Ok(f) => f,
            Err(m) => {
                errors.push(err(m.to_string()));
                continue;
            }
        };
        if f.is_empty() {
            continue;
        }
        match record(&f) {
            Ok(Record::Include(kind, target)) => items.push(HbaItem::Include {
                kind,
                target,
                line: start,
            }),
            Ok(Record::Rule {
                conn,
                databases,
                users,
                address,
                method,
                options,
            }) => items.push(HbaItem::Rule(HbaLine {
                path: path.to_string(),
                line: start,
                text: shown,
                conn,
                databases,
                users,
                address,
                method,
                options,
            })),
            Err(m) => errors.push(err(m)),
        }
    }
    (items, errors)
}

/// The part of a line before a `#` that is outside quotes.
fn strip_comment(raw: &str) -> &str {
    let mut in_q = false;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => in_q = !in_q,
            '#' if !in_q => return raw[..i].trim_end(),
            _ => {}
        }
    }
    raw.trim_end()
}

enum Record {
    Include(super::pgconf::IncludeKind, String),
    Rule {
        conn: ConnType,
        databases: Vec<Token>,
        users: Vec<Token>,
        address: Option<String>,
        method: String,
        options: Vec<String>,
    },
}

fn single(f: &[Token]) -> Option<&Token> {
    match f {
        [t] => Some(t),
        _ => None,
    }
}

fn record(f: &[Vec<Token>]) -> Result<Record, String> {
    use super::pgconf::IncludeKind;
    let first = single(&f[0]).ok_or("a list is not allowed as the connection type")?;
    let include = match first.text.as_str() {
        "include" if !first.quoted => Some(IncludeKind::File),
        "include_if_exists" if !first.quoted => Some(IncludeKind::IfExists),
        "include_dir" if !first.quoted => Some(IncludeKind::Dir),
        _ => None,
    };
    if let Some(kind) = include {
        let [_, target] = f else {
            return Err(format!("{} takes exactly one path", first.text));
        };
        let t = single(target).ok_or("an include takes one path")?;
        return Ok(Record::Include(kind, t.text.clone()));
    }
    let conn = ConnType::parse(&first.text)
        .filter(|_| !first.quoted)
        .ok_or_else(|| format!("invalid connection type \"{}\"", first.text))?;
    let databases = f.get(1).cloned().ok_or("end-of-line before database")?;
    let users = f.get(2).cloned().ok_or("end-of-line before role")?;
    let mut next = 3;
    let address = if conn == ConnType::Local {
        None
    } else {
        let a = single(f.get(3).ok_or("end-of-line before IP address")?)
            .ok_or("multiple values in IP address field")?;
        next = 4;
        let mut addr = a.text.clone();
        if !addr.contains('/') && addr.parse::<IpAddr>().is_ok() {
            let m = f
                .get(4)
                .and_then(|m| single(m))
                .ok_or("end-of-line before netmask")?;
            if m.text.parse::<IpAddr>().is_err() {
                return Err(format!("invalid IP mask \"{}\"", m.text));
            }
            addr = format!("{} {}", a.text, m.text);
            next = 5;
        } else if let Some((ip, len)) = addr.split_once('/') {
            let max = match ip.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => 32,
                Ok(IpAddr::V6(_)) => 128,
                Err(_) => return Err(format!("invalid IP address \"{ip}\"")),
            };
            if len.parse::<u32>().ok().is_none_or(|l| l > max) {
                return Err(format!("invalid CIDR mask in address \"{addr}\""));
            }
        }
        Some(addr)
    };
    let method_f = f
        .get(next)
        .ok_or("end-of-line before authentication method")?;
    let method = single(method_f)
        .ok_or("multiple values specified for authentication type")?
        .text
        .to_ascii_lowercase();
    const METHODS: &[&str] = &[
        "trust",
        "reject",
        "scram-sha-256",
        "md5",
        "password",
        "gss",
        "sspi",
        "ident",
        "peer",
        "ldap",
        "radius",
        "cert",
        "pam",
        "bsd",
    ];
    if !METHODS.contains(&method.as_str()) {
        return Err(format!("invalid authentication method \"{method}\""));
    }
    let options = f[next + 1..]
        .iter()
        .map(|toks| {
            toks.iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    Ok(Record::Rule {
        conn,
        databases,
        users,
        address,
        method,
        options,
    })
}

/// The records of a cluster's `pg_hba.conf` with its includes followed, in order.
#[derive(Debug, Clone, Default)]
pub struct Hba {
    pub lines: Vec<HbaLine>,
    pub files: Vec<String>,
    pub errors: Vec<ConfError>,
}

impl Hba {
    /// Read `path` and its includes. `Ok(None)` semantics: `files` is empty when it is missing.
    pub fn load(host: &Host, path: &str) -> Hba {
        let mut hba = Hba::default();
        hba.read(host, path, 0, true);
        hba
    }

    fn read(&mut self, host: &Host, path: &str, depth: usize, missing_ok: bool) {
        use super::pgconf::IncludeKind;
        if depth > MAX_DEPTH || self.files.len() >= MAX_FILES {
            self.errors.push(ConfError::Syntax {
                path: path.to_string(),
                line: 0,
                message: "includes nested too deep or too many".into(),
            });
            return;
        }
        let text = match host.read_text(path) {
            Ok(Some(f)) => f.text,
            Ok(None) => {
                if !missing_ok {
                    self.errors.push(ConfError::Syntax {
                        path: path.to_string(),
                        line: 0,
                        message: "included file does not exist".into(),
                    });
                }
                return;
            }
            Err(e) => {
                self.errors.push(e.into());
                return;
            }
        };
        self.files.push(path.to_string());
        let (items, errors) = parse(path, &text);
        self.errors.extend(errors);
        let dir = parent_dir(path);
        for item in items {
            match item {
                HbaItem::Rule(r) => self.lines.push(r),
                HbaItem::Include { kind, target, .. } => {
                    let target = absolute(&dir, &target);
                    match kind {
                        IncludeKind::File => self.read(host, &target, depth + 1, false),
                        IncludeKind::IfExists => self.read(host, &target, depth + 1, true),
                        IncludeKind::Dir => {
                            if let Ok(Some(names)) = host.read_dir(&target) {
                                for n in names {
                                    if n.ends_with(".conf") && !n.starts_with('.') {
                                        self.read(host, &format!("{target}/{n}"), depth + 1, true);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rules(text: &str) -> Vec<HbaLine> {
        let (items, errors) = parse("/etc/postgresql/15/main/pg_hba.conf", text);
        assert!(errors.is_empty(), "{errors:?}");
        items
            .into_iter()
            .filter_map(|i| match i {
                HbaItem::Rule(r) => Some(r),
                HbaItem::Include { .. } => None,
            })
            .collect()
    }

    #[test]
    fn debian_default_file() {
        let r = rules(
            "# Database administrative login by Unix domain socket\n\
             local   all             postgres                                peer\n\
             \n\
             # TYPE  DATABASE        USER            ADDRESS                 METHOD\n\
             local   all             all                                     peer\n\
             host    all             all             127.0.0.1/32            scram-sha-256\n\
             host    all             all             ::1/128                 scram-sha-256\n\
             local   replication     all                                     peer\n",
        );
        assert_eq!(r.len(), 5);
        assert_eq!(r[0].line, 2);
        assert_eq!(r[2].address.as_deref(), Some("127.0.0.1/32"));
        assert!(r.iter().all(|l| l.local_only() && !l.from_anywhere()));
    }

    #[test]
    fn masks_lists_quotes_and_continuations() {
        let r = rules(
            "host app,\"all\" u1, u2 0.0.0.0 0.0.0.0 md5\n\
             hostssl all all ::/0 scram-sha-256 clientcert=verify-full\n\
             host all all \\\n   all trust # everyone\n\
             host \"db \"\"x\"\"\" all 10.0.0.0/8 password\n",
        );
        assert_eq!(
            r[0].databases[1],
            Token {
                text: "all".into(),
                quoted: true
            }
        );
        assert_eq!(r[0].users.len(), 2);
        assert!(r[0].from_anywhere());
        assert!(r[1].from_anywhere());
        assert_eq!(r[1].options, ["clientcert=verify-full"]);
        assert_eq!((r[2].line, r[2].method.as_str()), (3, "trust"));
        assert!(r[2].from_anywhere());
        assert_eq!(r[3].databases[0].text, "db \"x\"");
        assert!(!r[3].local_only());
    }

    #[test]
    fn bad_records_are_errors() {
        for bad in [
            "host all all",
            "local all all fancy",
            "hots all all 1.2.3.4/32 md5",
            "host all all 10.0.0.0/33 md5",
            "host all all 10.0.0.1 md5",
            "host \"all all 10.0.0.0/8 md5",
            "include a b",
        ] {
            let (_, e) = parse("/x", bad);
            assert_eq!(e.len(), 1, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,400}") {
            let _ = parse("/x", &s);
        }

        #[test]
        fn hba_tokens_survive_quoting(db in "[a-z]{1,8}", user in "[a-z ]{1,8}") {
            let text = format!("host \"{db}\" \"{user}\" 192.168.0.0/16 scram-sha-256\n");
            let r = rules(&text);
            prop_assert_eq!(&r[0].databases[0].text, &db);
            prop_assert_eq!(&r[0].users[0].text, &user);
            prop_assert!(!r[0].from_anywhere());
        }

        #[test]
        fn records_and_errors_cover_every_record(lines in proptest::collection::vec("(local|host|#|x)( [a-z0-9./]{1,10}){0,5}", 0..15)) {
            let text = lines.join("\n");
            let (items, errors) = parse("/x", &text);
            let meaningful = lines.iter().filter(|l| !strip_comment(l).trim().is_empty()).count();
            prop_assert_eq!(items.len() + errors.len(), meaningful);
        }
    }
}
