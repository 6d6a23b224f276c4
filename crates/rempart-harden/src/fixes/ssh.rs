//! Fixes of the ssh family. Every sshd setting goes into ONE drop-in, [`DROPIN`]
//! (`/etc/ssh/sshd_config.d/00-rempart.conf`), read before any other value of the keywords it
//! sets, because sshd keeps the first value it reads:
//!
//! - where sshd reads the drop-in comes from the audit's parsed configuration (its `Include`
//!   sites and the directives read before each included file). When no global `Include` reads
//!   it, an `Include` of that one file is inserted at the top of sshd_config, before any `Match`
//!   (only that file: files of sshd_config.d that sshd never read stay unread);
//! - a value read before the drop-in (a line above the `Include` in sshd_config, a drop-in that
//!   sorts before it) or a `Match` block that overrides it for the connection the rule judges is
//!   commented out in place with a note, keeping the file's layout; accumulating lists
//!   (`AllowUsers`) are commented out wherever they are, since the drop-in replaces them.
//!
//! `Match` blocks that do not apply to the judged connection are left alone (the fix says which;
//! SSH-MATCH-WEAKENS reports them). Host key files get chmod/chown. What cannot be decided for the
//! admin (installing a key, removing a Match exception, replacing a small host key) is manual.

use crate::change::{Fix, Intent, LineFormat, Safety};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::ssh::algorithms::{self, ALL_CIPHERS, ALL_KEX, ALL_KEYS, ALL_MACS};
use rempart_audit::rules::ssh::config::MAIN_CONFIG;
use rempart_audit::rules::ssh::keywords::{Combine, Kw};
use rempart_audit::rules::ssh::lexer::{self, Line};
use rempart_audit::rules::ssh::matching::{self, match_pattern, Conn};
use rempart_audit::rules::ssh::{
    admin_key, hostkey_algorithms, hostkeys, login_grace_time, max_auth_tries, Loaded, SshdConfig,
};
use std::collections::BTreeMap;

/// The drop-in every sshd setting goes into.
pub const DROPIN: &str = "/etc/ssh/sshd_config.d/00-rempart.conf";

/// The comment inserted above the `Include` of the drop-in.
const INCLUDE_NOTE: &str =
    "# Read first so that 00-rempart.conf wins (sshd keeps the first value): rempart harden";

/// One `Keyword value` line of the drop-in.
struct Setting {
    /// The keyword as written (`PasswordAuthentication`).
    key: &'static str,
    kw: Kw,
    value: String,
}

/// Run `f` on the loaded configuration, or say why the fix cannot judge it.
fn with_loaded<T>(ctx: &Ctx, f: impl FnOnce(&Loaded) -> Result<T, String>) -> Result<T, String> {
    let fact = rempart_audit::rules::ssh::judged(ctx)
        .map_err(|o| format!("the sshd configuration cannot be judged: {}", o.message))?;
    match &*fact {
        SshdConfig::Loaded(l) => f(l),
        _ => Err("no sshd configuration to fix".into()),
    }
}

/// Where sshd reads the drop-in.
struct Placement {
    /// How many directives sshd reads before it.
    boundary: usize,
    /// When no global `Include` reads it: the line of sshd_config before which the two lines
    /// (note and `Include`) are inserted.
    insert_at: Option<u32>,
}

impl Placement {
    fn of(l: &Loaded) -> Result<Placement, String> {
        let p = &l.parsed;
        // Read inside a Match block, the drop-in's settings would apply to some connections
        // only, and sshd refuses global keywords there.
        if let Some(s) = p
            .includes
            .iter()
            .find(|s| !p.always_applies(s.block) && glob_matches(&s.pattern, DROPIN))
        {
            return Err(format!(
                "{}:{} includes {} inside a Match block, where {DROPIN} would be read too: move that Include out of the Match block first",
                p.path(s.file),
                s.line,
                s.pattern
            ));
        }
        let site = p
            .includes
            .iter()
            .find(|s| p.always_applies(s.block) && glob_matches(&s.pattern, DROPIN));
        if let Some(site) = site {
            // Files of one Include are read in lexical order: the drop-in comes before the
            // first matched file that sorts after it (or is the drop-in itself).
            let boundary = site
                .files
                .iter()
                .find(|(path, _)| path.as_str() >= DROPIN)
                .map_or(site.end, |(_, before)| *before);
            return Ok(Placement {
                boundary,
                insert_at: None,
            });
        }
        let lines = p.files.first().map_or(&[][..], |f| f.lines.as_slice());
        let first = lines
            .iter()
            .position(|l| lexer::split(l) != Line::Skip)
            .unwrap_or(lines.len());
        Ok(Placement {
            boundary: 0,
            insert_at: Some(u32::try_from(first + 1).unwrap_or(u32::MAX)),
        })
    }

    /// The `Include` lines to insert (the same in every ssh fix, so a second one is a no-op).
    fn intents(&self) -> Vec<Intent> {
        let Some(at) = self.insert_at else {
            return Vec::new();
        };
        vec![
            Intent::InsertLine {
                path: MAIN_CONFIG.into(),
                before: at,
                text: INCLUDE_NOTE.into(),
            },
            Intent::InsertLine {
                path: MAIN_CONFIG.into(),
                before: at + 1,
                text: format!("Include {DROPIN}"),
            },
        ]
    }

    /// A line number of the audited file, once the `Include` lines are inserted.
    fn shifted(&self, path: &str, line: u32) -> u32 {
        match self.insert_at {
            Some(at) if path == MAIN_CONFIG && line >= at => line + 2,
            _ => line,
        }
    }
}

/// `glob(3)` matching one path (no `/` inside a wildcard).
fn glob_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    p.len() == s.len()
        && p.iter()
            .zip(&s)
            .all(|(p, s)| match_pattern(s, p) && (!s.starts_with('.') || p.starts_with('.')))
}

/// The directives of `kw` that would beat the drop-in's line for one of `conns`: global lines
/// read before it (every global line, for a list that accumulates), and lines of Match blocks
/// that apply to the connection (they override global values). Also the Match lines left alone.
fn overriding(l: &Loaded, kw: Kw, boundary: usize, conns: &[Conn]) -> (Vec<usize>, Vec<usize>) {
    let p = &l.parsed;
    let dropin = p.files.iter().position(|f| f.path == DROPIN);
    let groups = |u: &str| l.groups_of(u);
    let matched: Vec<Vec<bool>> = conns
        .iter()
        .map(|c| {
            p.blocks
                .iter()
                .map(|b| matching::matches(&b.criteria, c, &groups, false).unwrap_or(false))
                .collect()
        })
        .collect();
    let (mut beat, mut left) = (Vec::new(), Vec::new());
    for (idx, d) in p.directives.iter().enumerate() {
        if d.kw != kw || Some(d.file) == dropin {
            continue;
        }
        let startup = p.always_applies(d.block);
        let earlier = startup && (idx < boundary || kw.combine() == Combine::Accumulate);
        let chain = p.chain(d.block);
        let applies = kw.per_connection()
            && !chain.is_empty()
            && matched.iter().any(|m| chain.iter().all(|b| m[*b]));
        if earlier || applies {
            beat.push(idx);
        } else if !startup {
            left.push(idx);
        }
    }
    (beat, left)
}

/// A line commented out in place, with a note (sshd ignores the whole line).
fn commented(old: &str, rule: &str) -> String {
    let body = old.trim_start();
    let indent = &old[..old.len() - body.len()];
    format!("{indent}#{body} # rempart harden {rule}: superseded by {DROPIN}")
}

fn where_(l: &Loaded, idx: usize) -> String {
    l.parsed
        .directives
        .get(idx)
        .map(|d| format!("{}:{}", l.parsed.path(d.file), d.line))
        .unwrap_or_default()
}

/// The fix that writes `settings` into the drop-in and comments out what would beat them for
/// `conns`.
fn settings_fix(
    l: &Loaded,
    rule: &str,
    settings: &[Setting],
    conns: &[Conn],
    safety: Safety,
) -> Result<Fix, String> {
    let place = Placement::of(l)?;
    let mut intents = place.intents();
    let mut edits: BTreeMap<(String, u32), String> = BTreeMap::new();
    let mut left = Vec::new();
    for s in settings {
        intents.push(Intent::SetLine {
            path: DROPIN.into(),
            format: LineFormat::Sshd,
            key: s.key.into(),
            value: s.value.clone(),
            header: crate::fixes::header("#", "ssh"),
            mode: 0o644,
        });
        let (beat, not_applying) = overriding(l, s.kw, place.boundary, conns);
        for idx in beat {
            let d = &l.parsed.directives[idx];
            let path = l.parsed.path(d.file).to_string();
            let old = l.parsed.line_text(d.file, d.line).to_string();
            edits.insert((path, d.line), old);
        }
        left.extend(not_applying.into_iter().map(|i| where_(l, i)));
    }
    let mut edited = Vec::new();
    for ((path, line), old) in edits {
        edited.push(format!("{path}:{line}"));
        intents.push(Intent::EditLine {
            line: place.shifted(&path, line),
            new: commented(&old, rule),
            path,
            old,
        });
    }
    let mut summary = settings
        .iter()
        .map(|s| format!("{} {}", s.key, s.value))
        .collect::<Vec<_>>()
        .join(", ");
    summary.push_str(" in 00-rempart.conf");
    if place.insert_at.is_some() {
        summary.push_str("; Include of it added at the top of sshd_config");
    }
    if !edited.is_empty() {
        summary.push_str(&format!(
            "; comments out what would win over it: {}",
            edited.join(", ")
        ));
    }
    if !left.is_empty() {
        summary.push_str(&format!(
            "; Match blocks still set it for some connections ({}): see SSH-MATCH-WEAKENS",
            left.join(", ")
        ));
    }
    Ok(Fix {
        rule: rule.into(),
        summary,
        safety,
        intents,
    })
}

fn one(
    ctx: &Ctx,
    rule: &str,
    key: &'static str,
    kw: Kw,
    value: &str,
    safety: Safety,
) -> Result<Option<Fix>, String> {
    with_loaded(ctx, |l| {
        let s = Setting {
            key,
            kw,
            value: value.into(),
        };
        Ok(Some(settings_fix(
            l,
            rule,
            &[s],
            &[Conn::default()],
            safety,
        )?))
    })
}

/// SSH-ROOT-LOGIN: `PermitRootLogin no`, or `prohibit-password` when root already logs in with
/// a key (automation that uses it keeps working; passwords stop). Also for a connection as root,
/// so a `Match User root` that allows it is commented out.
pub fn root_login(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    with_loaded(ctx, |l| {
        let keys = root_key_file(ctx, l);
        let (value, safety) = match &keys {
            Some(file) => (
                "prohibit-password",
                format!("root can no longer log in over SSH with a password (its key in {file} still works)"),
            ),
            None => ("no", "root can no longer log in over SSH".to_string()),
        };
        let root = Conn {
            user: Some(root_name(l)),
            ..Conn::default()
        };
        let s = Setting {
            key: "PermitRootLogin",
            kw: Kw::PermitRootLogin,
            value: value.into(),
        };
        Ok(Some(settings_fix(
            l,
            "SSH-ROOT-LOGIN",
            &[s],
            &[Conn::default(), root],
            Safety::Unsafe(safety),
        )?))
    })
}

fn root_name(l: &Loaded) -> String {
    l.users
        .user_by_uid(0)
        .map_or_else(|| "root".to_string(), |u| u.name.clone())
}

/// The file holding root's authorized keys, when it has some (keys from an
/// `AuthorizedKeysCommand` count: they cannot be seen, so they are assumed).
fn root_key_file(ctx: &Ctx, l: &Loaded) -> Option<String> {
    let root = l.users.user_by_uid(0)?;
    let eff = l
        .for_conn(
            &Conn {
                user: Some(root.name.clone()),
                ..Conn::default()
            },
            false,
        )
        .ok()?;
    if eff
        .text(Kw::AuthorizedKeysCommand)
        .is_some_and(|c| !c.eq_ignore_ascii_case("none"))
    {
        return Some("AuthorizedKeysCommand".into());
    }
    eff.list(Kw::AuthorizedKeysFile)
        .iter()
        .filter(|p| !p.eq_ignore_ascii_case("none"))
        .map(|p| admin_key::expand(p, root))
        .find(|path| {
            ctx.host.read_text(path).ok().flatten().is_some_and(|f| {
                f.text
                    .lines()
                    .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            })
        })
}

/// SSH-PASSWORD-AUTH: `PasswordAuthentication no`.
pub fn password_auth(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    one(
        ctx,
        "SSH-PASSWORD-AUTH",
        "PasswordAuthentication",
        Kw::PasswordAuthentication,
        "no",
        Safety::Unsafe("password logins over SSH stop: only keys are accepted".into()),
    )
}

/// SSH-KBD-INTERACTIVE: `KbdInteractiveAuthentication no`.
pub fn kbd_interactive(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    one(
        ctx,
        "SSH-KBD-INTERACTIVE",
        "KbdInteractiveAuthentication",
        Kw::KbdInteractiveAuthentication,
        "no",
        Safety::Unsafe("PAM keyboard-interactive (password prompt) logins stop".into()),
    )
}

/// SSH-EMPTY-PASSWORDS: `PermitEmptyPasswords no`.
pub fn empty_passwords(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    one(
        ctx,
        "SSH-EMPTY-PASSWORDS",
        "PermitEmptyPasswords",
        Kw::PermitEmptyPasswords,
        "no",
        Safety::Safe,
    )
}

/// SSH-MAX-AUTH-TRIES: `MaxAuthTries 3`.
pub fn max_auth_tries(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    one(
        ctx,
        "SSH-MAX-AUTH-TRIES",
        "MaxAuthTries",
        Kw::MaxAuthTries,
        &max_auth_tries::LIMIT.to_string(),
        Safety::Safe,
    )
}

/// SSH-LOGIN-GRACE-TIME: `LoginGraceTime 30`.
pub fn login_grace_time(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    one(
        ctx,
        "SSH-LOGIN-GRACE-TIME",
        "LoginGraceTime",
        Kw::LoginGraceTime,
        &login_grace_time::LIMIT.to_string(),
        Safety::Safe,
    )
}

/// SSH-X11-FORWARDING: `X11Forwarding no`.
pub fn x11_forwarding(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    one(
        ctx,
        "SSH-X11-FORWARDING",
        "X11Forwarding",
        Kw::X11Forwarding,
        "no",
        Safety::Safe,
    )
}

/// SSH-LOG-LEVEL: `LogLevel VERBOSE`.
pub fn log_level(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    one(
        ctx,
        "SSH-LOG-LEVEL",
        "LogLevel",
        Kw::LogLevel,
        "VERBOSE",
        Safety::Safe,
    )
}

/// The algorithm names rempart holds are OpenSSH 9.2's; older servers lack some of them (sshd
/// would refuse the list). A version rempart cannot read is assumed 9.2, like the audit does.
fn algorithms_known(l: &Loaded, keyword: &str, query: &str) -> Result<(), String> {
    let Some(v) = l.version.upstream.as_deref() else {
        return Ok(());
    };
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if version < (9, 2) {
        return Err(format!(
            "OpenSSH {v} is older than 9.2, whose algorithm names rempart knows: set {keyword} by hand from `ssh -Q {query}`"
        ));
    }
    Ok(())
}

/// `policy` in its order, keeping the names the server supports.
fn supported(policy: &[&str], all: &[&str]) -> String {
    policy
        .iter()
        .filter(|a| all.contains(a))
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

fn algorithm_fix(
    ctx: &Ctx,
    rule: &str,
    key: &'static str,
    kw: Kw,
    query: &str,
    value: String,
) -> Result<Option<Fix>, String> {
    with_loaded(ctx, |l| {
        algorithms_known(l, key, query)?;
        let s = Setting { key, kw, value };
        Ok(Some(settings_fix(
            l,
            rule,
            &[s],
            &[Conn::default()],
            Safety::Safe,
        )?))
    })
}

/// SSH-CIPHERS: the policy's ciphers.
pub fn ciphers(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    let v = supported(algorithms::POLICY_CIPHERS, ALL_CIPHERS);
    algorithm_fix(ctx, "SSH-CIPHERS", "Ciphers", Kw::Ciphers, "cipher", v)
}

/// SSH-MACS: the policy's MACs.
pub fn macs(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    let v = supported(algorithms::POLICY_MACS, ALL_MACS);
    algorithm_fix(ctx, "SSH-MACS", "MACs", Kw::Macs, "mac", v)
}

/// SSH-KEX: the policy's key exchanges.
pub fn kex(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    let v = supported(algorithms::POLICY_KEX, ALL_KEX);
    algorithm_fix(ctx, "SSH-KEX", "KexAlgorithms", Kw::KexAlgorithms, "kex", v)
}

/// SSH-HOSTKEY-ALGORITHMS: `HostKeyAlgorithms` limited to the policy (in OpenSSH's default
/// order), so an ECDSA key stays on disk but is no longer offered. Refused when no loaded host
/// key would be left to offer (clients could not connect at all), and when an RSA key is too
/// small (a new key is the admin's to make and announce).
pub fn hostkey_algorithms(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    with_loaded(ctx, |l| {
        algorithms_known(l, "HostKeyAlgorithms", "HostKeyAlgorithms")?;
        let eff = l.default.as_ref().map_err(|e| e.to_string())?;
        let mut keys = Vec::new();
        for path in eff.list(Kw::HostKey) {
            if let Ok(Some(info)) = hostkeys::inspect(ctx.host, path) {
                keys.push((path.clone(), info));
            }
        }
        if keys.is_empty() {
            return Err("no host key of sshd could be read: rempart cannot check that one would still be offered".into());
        }
        if let Some((path, k)) = keys.iter().find(|(_, k)| {
            k.rsa_bits
                .is_some_and(|b| b < hostkey_algorithms::MIN_RSA_BITS)
        }) {
            return Err(format!(
                "{path} is a {}-bit RSA key: generate a 4096-bit one (ssh-keygen -t rsa -b 4096 -N '' -f {path}), then tell users its fingerprint",
                k.rsa_bits.unwrap_or(0)
            ));
        }
        let list: Vec<&str> = algorithms::DEFAULT_KEYS
            .iter()
            .filter(|a| algorithms::POLICY_HOST_KEYS.contains(a) && ALL_KEYS.contains(a))
            .copied()
            .collect();
        if !keys
            .iter()
            .any(|(_, k)| k.algorithms().iter().any(|a| list.contains(a)))
        {
            return Err(format!(
                "every host key sshd loads ({}) is outside the policy: generate an Ed25519 one first (ssh-keygen -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key)",
                keys.iter().map(|(_, k)| k.key_type.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        let s = Setting {
            key: "HostKeyAlgorithms",
            kw: Kw::HostKeyAlgorithms,
            value: list.join(","),
        };
        let mut fix = settings_fix(
            l,
            "SSH-HOSTKEY-ALGORITHMS",
            &[s],
            &[Conn::default()],
            Safety::Safe,
        )?;
        fix.summary.push_str(
            "; clients that pinned only the ECDSA host key are asked to accept the Ed25519 or RSA one",
        );
        Ok(Some(fix))
    })
}

/// SSH-ALLOW-USERS: `AllowUsers` naming the admins: rempart.toml's `admin_users`, else the
/// non-root sudo users who can log in with a key. Entries already restricting one of them to
/// an address (`alice@10.8.0.0/24`) are kept. Refused when the list would name no admin who can
/// log in with a key.
pub fn allow_users(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    with_loaded(ctx, |l| {
        let eff = l.default.as_ref().map_err(|e| e.to_string())?;
        let with_keys: Vec<String> = admin_key::key_admins(ctx.host, l, false)
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        let configured = &ctx.config.admin_users;
        let wanted: Vec<String> = if configured.is_empty() {
            if with_keys.is_empty() {
                return Err("no non-root sudo user can log in with a key yet (SSH-ADMIN-KEY): an AllowUsers list would leave no admin a way in; install a key, or name the admins in rempart.toml's admin_users".into());
            }
            with_keys.clone()
        } else {
            if !with_keys.iter().any(|u| configured.contains(u)) {
                return Err(format!(
                    "admin_users ({}) names none of the sudo users who can log in with a key ({}): AllowUsers would shut every admin out",
                    configured.join(", "),
                    if with_keys.is_empty() { "none".to_string() } else { with_keys.join(", ") }
                ));
            }
            configured.clone()
        };
        let user_part = |e: &str| e.split_once('@').map_or(e, |(u, _)| u).to_string();
        let mut entries: Vec<String> = Vec::new();
        for e in eff.list(Kw::AllowUsers) {
            if wanted.contains(&user_part(e)) && !entries.contains(e) {
                entries.push(e.clone());
            }
        }
        for w in &wanted {
            if !entries.iter().any(|e| user_part(e) == *w) {
                entries.push(w.clone());
            }
        }
        let value = entries.join(" ");
        let s = Setting {
            key: "AllowUsers",
            kw: Kw::AllowUsers,
            value: value.clone(),
        };
        Ok(Some(settings_fix(
            l,
            "SSH-ALLOW-USERS",
            &[s],
            &[Conn::default()],
            Safety::Unsafe(format!(
                "only {value} may log in over SSH; every other account is refused"
            )),
        )?))
    })
}

/// SSH-HOST-KEY-PERMS: each private host key sshd loads (its link target, for a link) becomes
/// mode 0600 and root:root.
pub fn host_key_perms(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    with_loaded(ctx, |l| {
        let eff = l.default.as_ref().map_err(|e| e.to_string())?;
        let mut intents = Vec::new();
        let mut fixed = Vec::new();
        for path in eff.list(Kw::HostKey) {
            if path == "none" {
                continue;
            }
            let meta = match ctx.host.metadata(path) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => return Err(e.to_string()),
            };
            if meta.kind != rempart_audit::host::FileKind::File {
                return Err(format!(
                    "{path} is a {}, not a key file: replace it by hand",
                    meta.kind.as_str()
                ));
            }
            if !meta.group_or_other_access() && meta.uid == 0 {
                continue;
            }
            let target = ctx.host.canonical(path).map_err(|e| e.to_string())?;
            if meta.group_or_other_access() {
                intents.push(Intent::Chmod {
                    path: target.clone(),
                    mode: 0o600,
                });
                fixed.push(format!("chmod 0600 {target}"));
            }
            if meta.uid != 0 {
                intents.push(Intent::Chown {
                    path: target.clone(),
                    uid: 0,
                    gid: 0,
                });
                fixed.push(format!("chown root:root {target}"));
            }
        }
        if intents.is_empty() {
            return Ok(None);
        }
        Ok(Some(Fix {
            rule: "SSH-HOST-KEY-PERMS".into(),
            summary: fixed.join(", "),
            safety: Safety::Safe,
            intents,
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching_is_per_component() {
        assert!(glob_matches("/etc/ssh/sshd_config.d/*.conf", DROPIN));
        assert!(glob_matches("/etc/ssh/sshd_config.d/*", DROPIN));
        assert!(glob_matches(DROPIN, DROPIN));
        assert!(!glob_matches("/etc/ssh/*.conf", DROPIN));
        assert!(!glob_matches("/etc/ssh/sshd_config.d/*.cfg", DROPIN));
        assert!(!glob_matches(
            "/etc/ssh/sshd_config.d/*",
            "/etc/ssh/sshd_config.d/.hidden"
        ));
    }

    #[test]
    fn commented_lines_keep_their_indentation() {
        assert_eq!(
            commented("    PermitRootLogin yes", "SSH-ROOT-LOGIN"),
            format!(
                "    #PermitRootLogin yes # rempart harden SSH-ROOT-LOGIN: superseded by {DROPIN}"
            )
        );
        assert_eq!(
            lexer::split(&commented("\tX11Forwarding yes", "R")),
            Line::Skip
        );
    }

    use crate::change::FileState;
    use proptest::prelude::*;
    use rempart_audit::engine::{AuditOptions, Selector};
    use rempart_audit::host::Host;
    use rempart_audit::{AuditConfig, Status};

    /// The rules whose fix only writes settings (AllowUsers needs accounts, host keys files).
    const SETTING_RULES: &[&str] = &[
        "SSH-ROOT-LOGIN",
        "SSH-PASSWORD-AUTH",
        "SSH-KBD-INTERACTIVE",
        "SSH-EMPTY-PASSWORDS",
        "SSH-MAX-AUTH-TRIES",
        "SSH-LOGIN-GRACE-TIME",
        "SSH-X11-FORWARDING",
        "SSH-LOG-LEVEL",
        "SSH-CIPHERS",
        "SSH-MACS",
        "SSH-KEX",
    ];

    fn line() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "PermitRootLogin yes",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication yes",
            "PasswordAuthentication no",
            "ChallengeResponseAuthentication yes",
            "KbdInteractiveAuthentication yes",
            "UsePAM yes",
            "PermitEmptyPasswords yes",
            "MaxAuthTries 6",
            "maxauthtries=2",
            "LoginGraceTime 0",
            "LoginGraceTime 1m",
            "X11Forwarding yes",
            "LogLevel INFO",
            "LogLevel DEBUG3",
            "Ciphers +aes256-cbc",
            "MACs -*sha1*",
            "KexAlgorithms +diffie-hellman-group14-sha1",
            "# a comment",
            "",
            "Match User root",
            "Match all",
            "Match Address 10.0.0.0/8",
            "    PermitRootLogin yes",
            "    X11Forwarding yes",
            "    PasswordAuthentication yes",
        ])
        .prop_map(String::from)
    }

    fn plan_on(root: &std::path::Path) -> crate::plan::Plan {
        let host = Host::tree(root).unwrap();
        let opts = AuditOptions {
            only: SETTING_RULES
                .iter()
                .map(|r| Selector::Id((*r).to_string()))
                .collect(),
            ..AuditOptions::default()
        };
        crate::plan::plan(&host, &AuditConfig::default(), &opts)
            .unwrap()
            .0
    }

    /// Regression (found by the property below): with `sshd_config.d/*.conf` included inside a
    /// Match block, the drop-in would be read there too and sshd refuses global keywords there.
    #[test]
    fn a_glob_include_inside_match_is_declined_not_broken() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("etc/ssh/sshd_config.d")).unwrap();
        std::fs::write(
            t.path().join("etc/ssh/sshd_config"),
            "Match User root\nInclude /etc/ssh/sshd_config.d/*.conf\n",
        )
        .unwrap();
        let plan = plan_on(t.path());
        assert!(plan.changes.is_empty(), "{:?}", plan.fixes);
        let grace = plan
            .skipped
            .iter()
            .find(|s| s.rule == "SSH-LOGIN-GRACE-TIME")
            .unwrap();
        assert!(
            grace.reason.contains("/etc/ssh/sshd_config:2")
                && grace.reason.contains("inside a Match block"),
            "{}",
            grace.reason
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// Whatever the layout (Include or not, where, drop-ins sorting before or after
        /// 00-rempart.conf, values above the Include, Match blocks), every fix planned makes its
        /// rule pass once written, and planning again changes nothing.
        #[test]
        fn setting_fixes_converge_on_random_layouts(
            main in proptest::collection::vec(line(), 0..8),
            dropin in proptest::collection::vec(line(), 0..4),
            include_at in proptest::option::of(0usize..8),
            name in prop::sample::select(vec!["00-aaa.conf", "10-local.conf", "50-cloud-init.conf", "99-z.conf"]),
        ) {
            let t = tempfile::tempdir().unwrap();
            let ssh = t.path().join("etc/ssh/sshd_config.d");
            std::fs::create_dir_all(&ssh).unwrap();
            let mut lines = main.clone();
            if let Some(at) = include_at {
                lines.insert(at.min(lines.len()), "Include /etc/ssh/sshd_config.d/*.conf".into());
            }
            std::fs::write(t.path().join("etc/ssh/sshd_config"), lines.join("\n") + "\n").unwrap();
            std::fs::write(ssh.join(name), dropin.join("\n") + "\n").unwrap();
            let plan = plan_on(t.path());
            for c in &plan.changes {
                let real = t.path().join(c.path.trim_start_matches('/'));
                match &c.after {
                    FileState::File { content, .. } => std::fs::write(&real, content).unwrap(),
                    other => panic!("{}: unexpected {other:?}", c.path),
                }
            }
            let host = Host::tree(t.path()).unwrap();
            let opts = AuditOptions {
                only: plan.fixes.iter().map(|f| Selector::Id(f.rule.clone())).collect(),
                ..AuditOptions::default()
            };
            if !plan.fixes.is_empty() {
                let report = rempart_audit::engine::run(&host, &AuditConfig::default(), &opts);
                for f in &report.findings {
                    prop_assert_eq!(
                        f.status, Status::Pass,
                        "{} after its fix: {}\n{}", f.id, f.message,
                        std::fs::read_to_string(t.path().join("etc/ssh/sshd_config")).unwrap()
                    );
                }
            }
            let again = plan_on(t.path());
            prop_assert!(again.changes.is_empty(), "planning again: {:?}", again.fixes);
        }
    }
}
