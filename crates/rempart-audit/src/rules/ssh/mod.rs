//! The ssh family: the OpenSSH server's effective configuration, judged like sshd computes it
//! (Include, first value wins, Match blocks, the defaults of the installed OpenSSH), and the
//! rules that judge it. It owns the sshd_config parser ([`config`], [`lexer`], [`values`],
//! [`matching`], [`algorithms`]), the per-connection evaluation ([`effective`]) and the
//! [`SshdConfig`] fact shared by the rules. It does not probe a running sshd: everything is read
//! through [`Host`], so a root tree is judged like the live machine.

pub mod algorithms;
pub mod config;
pub mod defaults;
pub mod effective;
pub mod hostkeys;
pub mod keywords;
pub mod lexer;
pub mod matching;
pub mod values;

pub mod admin_key;
pub mod allow_users;
pub mod crypto;
pub mod empty_passwords;
pub mod host_key_perms;
pub mod hostkey_algorithms;
pub mod kbd_interactive;
pub mod log_level;
pub mod login_grace_time;
pub mod match_weakens;
pub mod max_auth_tries;
pub mod password_auth;
pub mod root_login;
pub mod x11_forwarding;

use crate::facts::Packages;
use crate::host::{Host, HostError, Users};
use crate::model::Evidence;
use crate::rule::{Ctx, Fact, Outcome};
use config::{ConfigError, ParsedConfig, MAIN_CONFIG};
use effective::{Effective, EvalError};
use keywords::Kw;
use matching::Conn;
use std::collections::HashMap;
use values::ParseEnv;

/// The Debian package of the OpenSSH server.
pub const PACKAGE: &str = "openssh-server";
/// Where Debian installs the server.
pub const SSHD_BINARY: &str = "/usr/sbin/sshd";

/// Which OpenSSH the defaults were taken for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// `openssh-server` version from dpkg, when installed.
    pub package: Option<String>,
    /// Upstream version of the package (`9.2`).
    pub upstream: Option<String>,
}

impl VersionInfo {
    /// True when the defaults rempart holds are not those of the installed version.
    pub fn assumed(&self) -> bool {
        self.upstream.as_deref() != Some(defaults::DEFAULTS_VERSION)
    }

    /// A short note on the defaults used, for messages.
    pub fn describe(&self) -> String {
        match (&self.package, self.assumed()) {
            (Some(p), false) => format!(
                "OpenSSH {} defaults ({PACKAGE} {p})",
                defaults::DEFAULTS_VERSION
            ),
            (Some(p), true) => format!(
                "assumed OpenSSH {} defaults ({PACKAGE} {p} is installed; its defaults may differ)",
                defaults::DEFAULTS_VERSION
            ),
            (None, _) => format!(
                "assumed OpenSSH {} defaults (no {PACKAGE} in the dpkg database)",
                defaults::DEFAULTS_VERSION
            ),
        }
    }
}

/// A configuration that was read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub parsed: ParsedConfig,
    pub version: VersionInfo,
    pub users: Users,
    /// Root's home directory on the host (for `~` in paths).
    pub root_home: String,
    /// The configuration for the default connection (no user, host or address known: what
    /// `sshd -T` prints without `-C`).
    pub default: Result<Effective, EvalError>,
}

impl Loaded {
    /// The groups of a host user (primary and supplementary), `None` when there is no such user.
    pub fn groups_of(&self, user: &str) -> Option<Vec<String>> {
        let u = self.users.user(user)?;
        Some(
            self.users
                .groups_of(u)
                .into_iter()
                .map(String::from)
                .collect(),
        )
    }

    /// The configuration for a connection. `strict`: refuse a `Match LocalPort` the connection
    /// cannot answer, as `sshd -T` does.
    pub fn for_conn(&self, conn: &Conn, strict: bool) -> Result<Effective, EvalError> {
        Effective::compute(
            &self.parsed,
            conn,
            &|u| self.groups_of(u),
            strict,
            &self.root_home,
        )
    }

    /// Evidence naming where a keyword's effective value comes from: its line (with the Match
    /// block it sits in), or sshd's default.
    pub fn evidence(&self, eff: &Effective, kw: Kw) -> Evidence {
        let actual = eff.render(kw).join(" ");
        match eff.origin(kw).first() {
            Some(idx) => self.directive_evidence(*idx).actual(actual),
            None => Evidence::source("default")
                .key(kw.name())
                .actual(actual)
                .note(format!(
                    "not set in the configuration: {}",
                    self.version.describe()
                )),
        }
    }

    /// Evidence for one directive line.
    pub fn directive_evidence(&self, idx: usize) -> Evidence {
        let Some(d) = self.parsed.directives.get(idx) else {
            return Evidence::file(MAIN_CONFIG);
        };
        let mut e = Evidence::file(self.parsed.path(d.file))
            .line(d.line)
            .snippet(self.parsed.line_text(d.file, d.line))
            .key(d.written.clone());
        if let Some(b) = d.block.and_then(|b| self.parsed.blocks.get(b)) {
            e = e.note(format!(
                "inside `{}` ({} line {})",
                self.parsed.line_text(b.file, b.line).trim(),
                self.parsed.path(b.file),
                b.line
            ));
        }
        e
    }
}

/// The host's sshd configuration, read once per audit.
#[derive(Debug, Clone)]
pub enum SshdConfig {
    /// No `/etc/ssh/sshd_config` and no `openssh-server` package.
    NotInstalled,
    /// The configuration could not be read.
    Unreadable(HostError),
    /// The package is installed but its configuration file is missing (sshd will not start).
    Missing {
        package: String,
    },
    Loaded(Box<Loaded>),
}

impl Fact for SshdConfig {
    fn collect(ctx: &Ctx) -> SshdConfig {
        let pkgs = ctx.fact::<Packages>();
        let package = pkgs.version(PACKAGE).map(String::from);
        // A removed package leaves its configuration behind (dpkg state `config-files`): with
        // a dpkg database saying so and no sshd binary, there is no server to judge.
        if pkgs.known() && package.is_none() && !ctx.host.exists(SSHD_BINARY) {
            return SshdConfig::NotInstalled;
        }
        load(ctx.host, package)
    }
}

/// Read the sshd configuration of `host`; `package` is the installed `openssh-server` version.
pub fn load(host: &Host, package: Option<String>) -> SshdConfig {
    let users = Users::load(host);
    let root_home = users
        .user_by_uid(0)
        .map_or_else(|| "/root".to_string(), |u| u.home.clone());
    let env = ParseEnv {
        services: services(host),
        root_home: root_home.clone(),
    };
    let parsed = match ParsedConfig::load(host, MAIN_CONFIG, &env) {
        Err(e) => return SshdConfig::Unreadable(e),
        Ok(None) => {
            return match package {
                Some(p) => SshdConfig::Missing { package: p },
                None => SshdConfig::NotInstalled,
            }
        }
        Ok(Some(p)) => p,
    };
    let version = VersionInfo {
        upstream: package.as_deref().and_then(defaults::upstream_version),
        package,
    };
    let mut loaded = Loaded {
        parsed,
        version,
        users,
        root_home,
        default: Err(EvalError {
            path: MAIN_CONFIG.into(),
            line: 0,
            message: "not evaluated".into(),
        }),
    };
    loaded.default = loaded.for_conn(&Conn::default(), false);
    SshdConfig::Loaded(Box::new(loaded))
}

/// TCP service names of the host (`/etc/services`), with `ssh` always known.
fn services(host: &Host) -> HashMap<String, u16> {
    let mut out = HashMap::from([("ssh".to_string(), 22u16)]);
    if let Ok(Some(f)) = host.read_text("/etc/services") {
        for line in f.text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let (Some(name), Some(port)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Some((num, proto)) = port.split_once('/') else {
                continue;
            };
            if proto != "tcp" {
                continue;
            }
            if let Ok(n) = num.parse::<u16>() {
                out.entry(name.to_string()).or_insert(n);
                for alias in fields {
                    out.entry(alias.to_string()).or_insert(n);
                }
            }
        }
    }
    out
}

/// The outcome for a configuration sshd would refuse: `error`, naming every bad line.
pub fn config_errors_outcome(errors: &[ConfigError]) -> Outcome {
    let first = &errors[0];
    let mut o = Outcome::error(format!(
        "sshd would refuse this configuration: {first}{}",
        if errors.len() > 1 {
            format!(" (and {} more)", errors.len() - 1)
        } else {
            String::new()
        }
    ));
    for e in errors.iter().take(10) {
        let mut ev = Evidence::file(e.path.clone()).note(e.message.clone());
        if let Some(l) = e.line {
            ev = ev.line(l);
        }
        o = o.with(ev);
    }
    o
}

/// The loaded configuration and its default-connection evaluation, or the outcome a rule returns
/// when there is none: not applicable without sshd, error when unreadable or invalid.
pub fn judged(ctx: &Ctx) -> Result<std::sync::Arc<SshdConfig>, Outcome> {
    let fact = ctx.fact::<SshdConfig>();
    match &*fact {
        SshdConfig::NotInstalled => Err(Outcome::not_applicable(
            "no OpenSSH server: openssh-server is not installed (and no /usr/sbin/sshd)",
        )),
        SshdConfig::Unreadable(e) => Err(Outcome::from(e.clone())),
        SshdConfig::Missing { package } => Err(Outcome::error(format!(
            "{PACKAGE} {package} is installed but {MAIN_CONFIG} is missing: sshd cannot start"
        ))
        .with(Evidence::file(MAIN_CONFIG).actual("missing"))),
        SshdConfig::Loaded(l) => {
            if !l.parsed.errors.is_empty() {
                return Err(config_errors_outcome(&l.parsed.errors));
            }
            if let Err(e) = &l.default {
                return Err(
                    Outcome::error(e.to_string()).with(Evidence::file(e.path.clone()).line(e.line))
                );
            }
            Ok(fact.clone())
        }
    }
}

/// Shorthand for rules: the loaded configuration and its default-connection evaluation.
pub fn with_default<T>(ctx: &Ctx, f: impl FnOnce(&Loaded, &Effective) -> T) -> Result<T, Outcome> {
    let fact = judged(ctx)?;
    let SshdConfig::Loaded(l) = &*fact else {
        return Err(Outcome::error("sshd configuration not loaded"));
    };
    let eff = l
        .default
        .as_ref()
        .map_err(|e| Outcome::error(e.to_string()))?;
    let conflicts = eff.listen_family_conflicts();
    if !conflicts.is_empty() {
        return Err(Outcome::error(format!(
            "sshd would refuse ListenAddress {}: AddressFamily is {}",
            conflicts.join(", "),
            eff.text(Kw::AddressFamily).unwrap_or("any")
        ))
        .with(l.evidence(eff, Kw::AddressFamily)));
    }
    if let Some((kw, why, idx)) = eff.assembly_errors.first() {
        let ev = idx.map_or_else(
            || Evidence::source("default").key(kw.name()),
            |i| l.directive_evidence(i),
        );
        return Err(Outcome::error(format!("sshd would refuse {}: {why}", kw.name())).with(ev));
    }
    Ok(f(l, eff))
}

/// When `AuthenticationMethods` makes every login that uses `method` also present a public key
/// (or never allows `method`), the methods as written; `None` when `method` alone can log in.
pub fn method_needs_key(eff: &Effective, method: &str) -> Option<String> {
    let lists = eff.list(Kw::AuthenticationMethods);
    if lists.is_empty() || lists.iter().any(|l| l == "any") {
        return None;
    }
    let uses = |m: &str| m == method || m.strip_prefix(method).is_some_and(|r| r.starts_with(':'));
    let ok = lists.iter().all(|list| {
        let methods: Vec<&str> = list.split(',').collect();
        !methods.iter().any(|m| uses(m)) || methods.contains(&"publickey")
    });
    ok.then(|| lists.join(" "))
}
