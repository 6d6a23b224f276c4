//! The configuration sshd applies to one connection, computed the way sshd 9.2 does it:
//!
//! 1. at startup it reads every line outside `Match` blocks (and inside `Match all`), the first
//!    value of a keyword winning (lists such as `AllowUsers` accumulate);
//! 2. for a connection it reads the lines of the `Match` blocks that match it (first value
//!    winning among them) and these override the startup values of keywords allowed in `Match`;
//! 3. keywords never set take the compiled-in defaults ([`super::defaults`]); algorithm lists are
//!    assembled (`+`, `-`, `^`, wildcards) against what sshd supports.
//!
//! [`Effective::dump`] prints the result in the form of `sshd -T`, for the keywords rempart
//! models (see [`DUMP_ORDER`]).

use super::algorithms::{self, AlgoKind};
use super::config::ParsedConfig;
use super::defaults;
use super::keywords::{Combine, Kw};
use super::matching::{self, Conn, MissingField};
use super::values::Val;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// An effective value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Num(i64),
    Text(String),
    List(Vec<String>),
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: Value,
    /// Indexes of the directives that set it (several for accumulating lists); empty when it is
    /// sshd's default.
    pub from: Vec<usize>,
}

/// The configuration sshd applies to one connection.
#[derive(Debug, Clone)]
pub struct Effective {
    settings: BTreeMap<Kw, Setting>,
    /// Algorithm lists (ciphers ...) that could not be assembled: (keyword, reason, directive).
    pub assembly_errors: Vec<(Kw, String, Option<usize>)>,
}

/// Why the configuration cannot be evaluated for a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub path: String,
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.path, self.line, self.message)
    }
}

/// Keywords whose relative paths sshd makes absolute (from its working directory, `/` for the
/// daemon) and whose `none` it folds to lowercase.
const PATH_KEYWORDS: &[Kw] = &[
    Kw::PidFile,
    Kw::ModuliFile,
    Kw::XAuthLocation,
    Kw::Banner,
    Kw::TrustedUserCaKeys,
    Kw::RevokedKeys,
    Kw::HostKey,
    Kw::HostCertificate,
];

/// Keywords whose `none` (any case) sshd prints as `none`.
const NONE_KEYWORDS: &[Kw] = &[Kw::ChrootDirectory, Kw::ForceCommand];

fn add(map: &mut BTreeMap<Kw, Setting>, kw: Kw, val: &Val, idx: usize) {
    let as_items = |v: &Val| -> Vec<String> {
        match v {
            Val::Words(w) => w.clone(),
            Val::Text(t) => vec![t.clone()],
            Val::Num(n) => vec![n.to_string()],
            Val::Bool(b) => vec![if *b { "yes" } else { "no" }.to_string()],
        }
    };
    let single = |v: &Val| -> Value {
        match v {
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => Value::Num(*n),
            Val::Text(t) => Value::Text(t.clone()),
            Val::Words(w) => Value::List(w.clone()),
        }
    };
    match kw.combine() {
        Combine::First | Combine::FirstLine => {
            map.entry(kw).or_insert_with(|| Setting {
                value: single(val),
                from: vec![idx],
            });
        }
        Combine::Last => {
            map.insert(
                kw,
                Setting {
                    value: single(val),
                    from: vec![idx],
                },
            );
        }
        Combine::Accumulate => {
            let entry = map.entry(kw).or_insert_with(|| Setting {
                value: Value::List(Vec::new()),
                from: Vec::new(),
            });
            if let Value::List(items) = &mut entry.value {
                items.extend(as_items(val));
            }
            entry.from.push(idx);
        }
    }
}

impl Effective {
    /// Evaluate `cfg` for `conn`. `groups_of` gives a host user's groups (for `Match Group`).
    /// `strict`: a `Match LocalPort` without `lport` in `conn` is an error, as in `sshd -T`
    /// (otherwise it does not match).
    pub fn compute(
        cfg: &ParsedConfig,
        conn: &Conn,
        groups_of: &dyn Fn(&str) -> Option<Vec<String>>,
        strict: bool,
        root_home: &str,
    ) -> Result<Effective, EvalError> {
        // Which blocks match this connection.
        let mut block_match = Vec::with_capacity(cfg.blocks.len());
        for b in &cfg.blocks {
            let m = matching::matches(&b.criteria, conn, groups_of, strict).map_err(
                |MissingField(field)| EvalError {
                    path: cfg.path(b.file).to_string(),
                    line: b.line,
                    message: format!(
                        "'Match {}' needs '{field}' in the connection specification",
                        b.criteria
                            .iter()
                            .map(|c| c.describe())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                },
            )?;
            block_match.push(m);
        }
        let mut startup: BTreeMap<Kw, Setting> = BTreeMap::new();
        let mut matched: BTreeMap<Kw, Setting> = BTreeMap::new();
        for (idx, d) in cfg.directives.iter().enumerate() {
            if cfg.always_applies(d.block) {
                add(&mut startup, d.kw, &d.val, idx);
            }
            let chain = cfg.chain(d.block);
            if !chain.is_empty() && chain.iter().all(|b| block_match[*b]) && d.kw.per_connection() {
                // sshd refuses `any` once a matching block already set the methods.
                if d.kw == Kw::AuthenticationMethods
                    && matched.contains_key(&d.kw)
                    && matches!(&d.val, Val::Words(w) if w.iter().any(|m| m == "any"))
                {
                    return Err(EvalError {
                        path: cfg.path(d.file).to_string(),
                        line: d.line,
                        message: "\"any\" must appear alone in AuthenticationMethods".into(),
                    });
                }
                add(&mut matched, d.kw, &d.val, idx);
            }
        }
        for (kw, s) in matched {
            startup.insert(kw, s);
        }
        let mut eff = Effective {
            settings: startup,
            assembly_errors: Vec::new(),
        };
        eff.finish(root_home);
        Ok(eff)
    }

    /// Defaults, normalisation and algorithm assembly (`fill_default_server_options`).
    fn finish(&mut self, root_home: &str) {
        for kw in Kw::ALL {
            if !self.settings.contains_key(kw) {
                if let Some(v) = defaults::default(*kw) {
                    self.settings.insert(
                        *kw,
                        Setting {
                            value: v,
                            from: Vec::new(),
                        },
                    );
                }
            }
        }
        for kw in PATH_KEYWORDS {
            if let Some(s) = self.settings.get_mut(kw) {
                let fix = |p: &str| derelativise(p, root_home);
                match &mut s.value {
                    Value::Text(t) => *t = fix(t),
                    Value::List(items) => items.iter_mut().for_each(|t| *t = fix(t)),
                    _ => {}
                }
            }
        }
        for kw in NONE_KEYWORDS {
            if let Some(Setting {
                value: Value::Text(t),
                ..
            }) = self.settings.get_mut(kw)
            {
                if t.eq_ignore_ascii_case("none") {
                    *t = "none".into();
                }
            }
        }
        for (kw, kind, ca) in [
            (Kw::Ciphers, AlgoKind::Cipher, false),
            (Kw::Macs, AlgoKind::Mac, false),
            (Kw::KexAlgorithms, AlgoKind::Kex, false),
            (Kw::GssapiKexAlgorithms, AlgoKind::GssKex, false),
            (Kw::HostKeyAlgorithms, AlgoKind::Key, false),
            (Kw::PubkeyAcceptedAlgorithms, AlgoKind::Key, false),
            (Kw::HostbasedAcceptedAlgorithms, AlgoKind::Key, false),
            (Kw::CaSignatureAlgorithms, AlgoKind::Key, true),
        ] {
            let (spec, from) = match self.settings.get(&kw) {
                Some(Setting {
                    value: Value::Text(t),
                    from,
                }) => (Some(t.clone()), from.clone()),
                _ => (None, Vec::new()),
            };
            match algorithms::assemble(kind, ca, spec.as_deref()) {
                Ok(list) => {
                    self.settings.insert(
                        kw,
                        Setting {
                            value: Value::List(list),
                            from,
                        },
                    );
                }
                Err(e) => {
                    self.assembly_errors.push((kw, e, from.first().copied()));
                    let (_, def) = algorithms::universe(kind, ca);
                    self.settings.insert(
                        kw,
                        Setting {
                            value: Value::List(def.iter().map(|s| s.to_string()).collect()),
                            from,
                        },
                    );
                }
            }
        }
    }

    pub fn get(&self, kw: Kw) -> Option<&Setting> {
        self.settings.get(&kw)
    }

    /// A yes/no setting.
    pub fn flag(&self, kw: Kw) -> bool {
        matches!(self.get(kw).map(|s| &s.value), Some(Value::Bool(true)))
    }

    pub fn num(&self, kw: Kw) -> Option<i64> {
        match self.get(kw)?.value {
            Value::Num(n) => Some(n),
            _ => None,
        }
    }

    pub fn text(&self, kw: Kw) -> Option<&str> {
        match &self.get(kw)?.value {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// A list setting (empty when unset).
    pub fn list(&self, kw: Kw) -> &[String] {
        match self.get(kw).map(|s| &s.value) {
            Some(Value::List(l)) => l,
            _ => &[],
        }
    }

    /// The directives that set a keyword (empty: sshd's default).
    pub fn origin(&self, kw: Kw) -> &[usize] {
        self.get(kw).map_or(&[], |s| s.from.as_slice())
    }

    /// The value as `sshd -T` prints it after the keyword.
    pub fn render(&self, kw: Kw) -> Vec<String> {
        let Some(s) = self.get(kw) else {
            return Vec::new();
        };
        match (&s.value, kw) {
            (Value::Bool(b), _) => vec![if *b { "yes" } else { "no" }.into()],
            (Value::Num(n), _) => vec![n.to_string()],
            (Value::Text(t), _) => vec![t.clone()],
            (
                Value::List(l),
                Kw::Ciphers
                | Kw::Macs
                | Kw::KexAlgorithms
                | Kw::GssapiKexAlgorithms
                | Kw::HostKeyAlgorithms
                | Kw::PubkeyAcceptedAlgorithms
                | Kw::HostbasedAcceptedAlgorithms
                | Kw::CaSignatureAlgorithms,
            ) => vec![l.join(",")],
            (Value::List(l), Kw::AuthorizedKeysFile | Kw::AuthenticationMethods) => {
                vec![l.join(" ")]
            }
            (Value::List(l), _) => l.clone(),
        }
    }

    /// The listen addresses as `sshd -T` prints them (`0.0.0.0:22`, `[::]:22`). Host names are
    /// printed as written (sshd resolves them; rempart does not use DNS).
    pub fn listen_addresses(&self) -> Vec<String> {
        let ports: Vec<String> = self.list(Kw::Port).to_vec();
        let family = self.text(Kw::AddressFamily).unwrap_or("any");
        let fmt = |host: &str, port: &str| -> String {
            match host
                .parse::<IpAddr>()
                .ok()
                .or_else(|| matching::parse_addr(host))
            {
                Some(IpAddr::V6(a)) => format!("[{a}]:{port}"),
                Some(IpAddr::V4(a)) => format!("{a}:{port}"),
                None => format!("{host}:{port}"),
            }
        };
        let configured = self.list(Kw::ListenAddress);
        let mut out = Vec::new();
        if configured.is_empty() {
            for p in &ports {
                if family != "inet" {
                    out.push(format!("[::]:{p}"));
                }
                if family != "inet6" {
                    out.push(format!("0.0.0.0:{p}"));
                }
            }
            return out;
        }
        for pair in configured.chunks(2) {
            let (host, port) = (&pair[0], pair.get(1).map_or("0", String::as_str));
            if port == "0" {
                for p in &ports {
                    out.push(fmt(host, p));
                }
            } else {
                out.push(fmt(host, port));
            }
        }
        out
    }

    /// Listen addresses of a family `AddressFamily` excludes (sshd refuses to start).
    pub fn listen_family_conflicts(&self) -> Vec<String> {
        let family = self.text(Kw::AddressFamily).unwrap_or("any");
        self.list(Kw::ListenAddress)
            .chunks(2)
            .filter_map(|pair| {
                let ip = matching::parse_addr(&pair[0])?;
                let bad = (family == "inet" && ip.is_ipv6()) || (family == "inet6" && ip.is_ipv4());
                bad.then(|| pair[0].clone())
            })
            .collect()
    }

    /// The configuration as `sshd -T` prints it (lowercase keyword, space, value), in sshd's
    /// order, for the keywords of [`DUMP_ORDER`].
    pub fn dump(&self) -> Vec<(Kw, String)> {
        let mut out = Vec::new();
        for kw in DUMP_ORDER {
            if *kw == Kw::ListenAddress {
                out.extend(self.listen_addresses().into_iter().map(|v| (*kw, v)));
                continue;
            }
            for v in self.render(*kw) {
                out.push((*kw, v));
            }
        }
        out
    }
}

/// `derelativise_path` for the daemon (working directory `/`): `none` in any case becomes
/// `none`, `~/` is root's home, other relative paths are prefixed with `//`.
fn derelativise(p: &str, root_home: &str) -> String {
    if p.eq_ignore_ascii_case("none") {
        return "none".into();
    }
    let p = match p.strip_prefix("~/") {
        Some(rest) => format!("{}/{rest}", root_home.trim_end_matches('/')),
        None => p.to_string(),
    };
    if p.starts_with('/') {
        p
    } else {
        format!("//{p}")
    }
}

/// The keywords `rempart facts sshd` prints, in the order `sshd -T` prints them.
pub const DUMP_ORDER: &[Kw] = &[
    Kw::Port,
    Kw::AddressFamily,
    Kw::ListenAddress,
    Kw::UsePam,
    Kw::LoginGraceTime,
    Kw::X11DisplayOffset,
    Kw::MaxAuthTries,
    Kw::MaxSessions,
    Kw::ClientAliveInterval,
    Kw::ClientAliveCountMax,
    Kw::RequiredRsaSize,
    Kw::PermitRootLogin,
    Kw::IgnoreRhosts,
    Kw::IgnoreUserKnownHosts,
    Kw::HostbasedAuthentication,
    Kw::HostbasedUsesNameFromPacketOnly,
    Kw::PubkeyAuthentication,
    Kw::KerberosAuthentication,
    Kw::KerberosOrLocalPasswd,
    Kw::KerberosTicketCleanup,
    Kw::GssapiAuthentication,
    Kw::GssapiCleanupCredentials,
    Kw::GssapiKeyExchange,
    Kw::GssapiStrictAcceptorCheck,
    Kw::GssapiStoreCredentialsOnRekey,
    Kw::PasswordAuthentication,
    Kw::KbdInteractiveAuthentication,
    Kw::PrintMotd,
    Kw::PrintLastLog,
    Kw::X11Forwarding,
    Kw::X11UseLocalhost,
    Kw::PermitTty,
    Kw::PermitUserRc,
    Kw::StrictModes,
    Kw::TcpKeepAlive,
    Kw::PermitEmptyPasswords,
    Kw::Compression,
    Kw::GatewayPorts,
    Kw::UseDns,
    Kw::AllowTcpForwarding,
    Kw::AllowAgentForwarding,
    Kw::DisableForwarding,
    Kw::AllowStreamLocalForwarding,
    Kw::StreamLocalBindUnlink,
    Kw::ExposeAuthInfo,
    Kw::Ciphers,
    Kw::Macs,
    Kw::Banner,
    Kw::ForceCommand,
    Kw::ChrootDirectory,
    Kw::TrustedUserCaKeys,
    Kw::RevokedKeys,
    Kw::AuthorizedPrincipalsFile,
    Kw::AuthorizedKeysCommand,
    Kw::AuthorizedKeysCommandUser,
    Kw::AuthorizedPrincipalsCommand,
    Kw::AuthorizedPrincipalsCommandUser,
    Kw::KexAlgorithms,
    Kw::CaSignatureAlgorithms,
    Kw::HostbasedAcceptedAlgorithms,
    Kw::HostKeyAlgorithms,
    Kw::PubkeyAcceptedAlgorithms,
    Kw::LogLevel,
    Kw::SyslogFacility,
    Kw::AuthorizedKeysFile,
    Kw::HostKey,
    Kw::AllowUsers,
    Kw::DenyUsers,
    Kw::AllowGroups,
    Kw::DenyGroups,
    Kw::AcceptEnv,
    Kw::AuthenticationMethods,
    Kw::MaxStartups,
    Kw::PermitTunnel,
    Kw::PermitUserEnvironment,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ssh::values::ParseEnv;

    fn eff(text: &str, conn: &str) -> Effective {
        let cfg = ParsedConfig::parse_str("/etc/ssh/sshd_config", text, &ParseEnv::default());
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let groups = |u: &str| (u == "ann").then(|| vec!["ann".into(), "sudo".into()]);
        Effective::compute(&cfg, &Conn::parse(conn).unwrap(), &groups, true, "/root").unwrap()
    }

    #[test]
    fn first_value_wins_and_match_overrides() {
        let text = "PasswordAuthentication no\nPasswordAuthentication yes\nMatch User ann\n PasswordAuthentication yes\n";
        assert!(!eff(text, "").flag(Kw::PasswordAuthentication));
        assert!(eff(text, "user=ann").flag(Kw::PasswordAuthentication));
        assert!(!eff(text, "user=bob").flag(Kw::PasswordAuthentication));
        let e = eff(text, "");
        assert_eq!(e.origin(Kw::PasswordAuthentication), [0]);
    }

    #[test]
    fn match_all_applies_to_everyone_and_overrides() {
        let text = "PasswordAuthentication no\nMatch all\nPasswordAuthentication yes\n";
        assert!(eff(text, "").flag(Kw::PasswordAuthentication));
    }

    #[test]
    fn lists_accumulate_and_match_replaces_them() {
        let text = "AllowUsers a b\nAllowUsers c\nMatch Group sudo\nAllowUsers d\n";
        assert_eq!(eff(text, "").list(Kw::AllowUsers), ["a", "b", "c"]);
        assert_eq!(eff(text, "user=ann").list(Kw::AllowUsers), ["d"]);
    }

    #[test]
    fn defaults_and_sshd_t_forms() {
        let e = eff("PermitRootLogin prohibit-password\nLoginGraceTime 1m\n", "");
        let dump: Vec<String> = e
            .dump()
            .iter()
            .map(|(k, v)| format!("{} {v}", k.name()))
            .collect();
        assert!(dump.contains(&"permitrootlogin without-password".to_string()));
        assert!(dump.contains(&"logingracetime 60".to_string()));
        assert!(dump.contains(&"kbdinteractiveauthentication yes".to_string()));
        assert!(dump.contains(&"listenaddress [::]:22".to_string()));
        assert!(dump.contains(
            &"authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2".to_string()
        ));
        assert!(dump.contains(&"hostkey /etc/ssh/ssh_host_ed25519_key".to_string()));
        assert_eq!(dump[0], "port 22");
    }

    #[test]
    fn global_keywords_in_match_all_do_not_override_per_connection() {
        let e = eff("Match all\nCiphers aes256-ctr\n", "user=ann");
        assert_eq!(e.list(Kw::Ciphers), ["aes256-ctr"]);
    }

    #[test]
    fn listen_addresses_like_sshd() {
        let e = eff(
            "Port 2222\nListenAddress 127.0.0.1\nListenAddress [::1]:2200\nListenAddress 10.1\n",
            "",
        );
        assert_eq!(
            e.listen_addresses(),
            ["127.0.0.1:2222", "[::1]:2200", "10.0.0.1:2222"]
        );
    }

    #[test]
    fn local_port_needs_a_port_when_strict() {
        let cfg = ParsedConfig::parse_str(
            "/x",
            "Match LocalPort 2222\nPasswordAuthentication no\n",
            &ParseEnv::default(),
        );
        let none = |_: &str| None;
        assert!(Effective::compute(&cfg, &Conn::default(), &none, true, "/root").is_err());
        assert!(Effective::compute(&cfg, &Conn::default(), &none, false, "/root").is_ok());
    }

    use proptest::prelude::*;

    fn flag_line(v: bool) -> String {
        format!("PasswordAuthentication {}\n", if v { "yes" } else { "no" })
    }

    proptest! {
        #[test]
        fn first_global_value_wins(values in proptest::collection::vec(any::<bool>(), 1..8)) {
            let text: String = values.iter().map(|v| flag_line(*v)).collect();
            prop_assert_eq!(eff(&text, "").flag(Kw::PasswordAuthentication), values[0]);
        }

        #[test]
        fn without_match_every_connection_sees_the_same(values in proptest::collection::vec(any::<bool>(), 0..5), user in "[a-z]{1,8}") {
            let text: String = values.iter().map(|v| flag_line(*v)).collect();
            let a = eff(&text, "").dump();
            let b = eff(&text, &format!("user={user},host=h,addr=10.0.0.1")).dump();
            prop_assert_eq!(a, b);
        }

        #[test]
        fn a_matching_block_overrides_and_others_do_not(global in any::<bool>(), inside in any::<bool>(), user in "[a-z]{1,8}") {
            let text = format!("{}Match User {user}\n{}", flag_line(global), flag_line(inside));
            let conn = |u: &str| format!("user={u},host=h,addr=10.0.0.1");
            prop_assert_eq!(eff(&text, &conn(&user)).flag(Kw::PasswordAuthentication), inside);
            prop_assert_eq!(eff(&text, &conn(&format!("{user}x"))).flag(Kw::PasswordAuthentication), global);
            prop_assert_eq!(eff(&text, "").flag(Kw::PasswordAuthentication), global);
        }
    }
}
