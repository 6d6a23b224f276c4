//! APP-ENV-SECRETS: weak secrets in an application's environment file, rotated where they are
//! used. Seed 000 §6 (« Gestion des secrets »: DATABASE_URL and SESSION_SECRET in a 600 `.env`)
//! and seed 001's checklist (random passwords of at least 20 characters).
//!
//! - A signing secret the application alone uses (a name with SESSION, JWT, COOKIE, CSRF or
//!   SIGNING, or `SECRET`/`SECRET_KEY`): a new random value in its line.
//! - The password of a database URL for a role of a PostgreSQL server running on this host
//!   (`localhost`, a loopback address or its socket): a new random password in the URL, and the
//!   role's password changed on the server as a live action, so the two never disagree.
//! - The password of a URL naming a compose service (its name or container_name): rotated with
//!   that service when a file edit is the whole change (its cluster does not exist yet), by the
//!   same intents CTR-WEAK-ADMIN-PASSWORD asks for ([`crate::fixes::containers::passwords`]).
//! - Anything else (an API provider's key, a remote database, a secret the code reads but no
//!   file sets) is declined: it must change where rempart cannot reach.
//!
//! New values are never shown: the plan marks the file as holding a secret.

use crate::change::{Fix, Intent, Safety};
use crate::fixes::web::edit_line;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::app::strength::SecretKind;
use rempart_audit::rules::database::servers::{Databases, DbKind};

/// Characters of generated values: letters and digits, which need no quoting in a URL, a shell
/// `.env` or SQL.
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `n` characters drawn uniformly from `alphabet` (at most 256 ASCII characters) with the OS's
/// randomness: bytes at or above the largest multiple of its length are dropped, since they
/// would favour its first characters.
pub(crate) fn random_text(alphabet: &[u8], n: usize) -> Result<String, String> {
    if alphabet.is_empty() || alphabet.len() > 256 {
        return Err("no alphabet to draw from".into());
    }
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf).map_err(|e| format!("no randomness from the OS: {e}"))?;
        for b in buf.iter().filter(|b| usize::from(**b) < limit) {
            if out.len() < n {
                out.push(char::from(alphabet[usize::from(*b) % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

/// A random value the audit judges strong as a secret of `kind`: a draw that happens to spell a
/// placeholder (`todo`, `xxxx` ...) is drawn again, so the fix always makes its rule pass.
pub(crate) fn strong_random(
    alphabet: &[u8],
    n: usize,
    kind: rempart_audit::rules::app::strength::SecretKind,
) -> Result<String, String> {
    for _ in 0..16 {
        let v = random_text(alphabet, n)?;
        if rempart_audit::rules::app::strength::judge(&v, kind).is_none() {
            return Ok(v);
        }
    }
    Err("no strong random value in 16 draws: is the OS's randomness broken?".into())
}

/// A new value in place of the one at `span` of line `line` of `path` (which must still read
/// `text`), and the file marked as holding a secret.
fn replace_value(
    ctx: &Ctx,
    path: &str,
    line: u32,
    text: &str,
    span: (usize, usize),
    value: &str,
    intents: &mut Vec<Intent>,
) -> Result<(), String> {
    let new_line = format!("{}{value}{}", &text[..span.0], &text[span.1..]);
    intents.push(edit_line(
        ctx,
        path,
        line,
        "changed since the audit",
        |old| (old == text).then_some(new_line),
    )?);
    intents.push(Intent::MarkSecret {
        path: crate::fixes::web::real_path(ctx, path)?,
    });
    Ok(())
}

/// Whether only the application uses a secret of this name (it signs its own sessions or
/// tokens).
fn app_owned(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["SESSION", "JWT", "COOKIE", "CSRF", "SIGNING"]
        .iter()
        .any(|w| k.contains(w))
        || k == "SECRET"
        || k == "SECRET_KEY"
        || k == "APP_SECRET"
}

/// The parts of `scheme://user:pass@host[:port]/...`: user, password span in `value`, host,
/// port.
pub(crate) struct DbUrl<'a> {
    pub(crate) user: &'a str,
    pub(crate) pass_at: (usize, usize),
    pub(crate) host: &'a str,
    pub(crate) port: u16,
}

pub(crate) fn db_url(value: &str) -> Option<DbUrl<'_>> {
    let (scheme, rest) = value.split_once("://")?;
    if !matches!(scheme, "postgres" | "postgresql") && !scheme.starts_with("postgresql+") {
        return None;
    }
    let start = scheme.len() + 3;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, hostport) = authority.rsplit_once('@')?;
    let (user, pass) = userinfo.split_once(':')?;
    let pass_start = start + user.len() + 1;
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (h, p.parse().ok()?),
        _ => (hostport, 5432),
    };
    Some(DbUrl {
        user,
        pass_at: (pass_start, pass_start + pass.len()),
        host: host.trim_start_matches('[').trim_end_matches(']'),
        port,
    })
}

/// `KEY=VALUE` (optionally `export `, optionally quoted) on line `text`: the value's span.
pub(crate) fn value_span(text: &str, key: &str) -> Option<(usize, usize)> {
    let body = text.trim_start();
    let lead = text.len() - body.len();
    let (body, lead) = match body.strip_prefix("export ") {
        Some(b) => (b.trim_start(), text.len() - b.trim_start().len()),
        None => (body, lead),
    };
    let rest = body.strip_prefix(key)?.strip_prefix('=')?;
    let mut start = lead + key.len() + 1;
    let mut end = text.len();
    let trimmed = rest.trim_end();
    end -= rest.len() - trimmed.len();
    if trimmed.len() >= 2
        && (trimmed.starts_with('"') && trimmed.ends_with('"')
            || trimmed.starts_with('\'') && trimmed.ends_with('\''))
    {
        start += 1;
        end -= 1;
    }
    (start <= end).then_some((start, end))
}

/// APP-ENV-SECRETS: see the module documentation.
pub fn env_secrets(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let dbs = ctx.fact::<Databases>();
    let mut intents = Vec::new();
    let mut what = Vec::new();
    // What can break: the server-side and signing changes below, and the compose rotations'.
    let mut risks: Vec<String> = Vec::new();
    // What the restart costs: new signing secrets, a password changed on a running server.
    let (mut signing, mut on_server) = (false, false);
    let mut rotated: Vec<String> = Vec::new();
    for e in &f.evidence {
        let (Some(path), Some(line), Some(key)) = (e.path.as_deref(), e.line, e.key.as_deref())
        else {
            continue;
        };
        let (_, text) = crate::fixes::web::line_at(ctx, path, line)?;
        let Some((vs, ve)) = value_span(&text, key) else {
            return Err(format!(
                "{path}:{line}: {key} is not set on a `KEY=value` line of an environment file \
                 (read by the code but set nowhere, or set in a unit): set or rotate it by hand"
            ));
        };
        // A compose service's password (or a client's copy of it): rotated with the service
        // when a file edit is the whole change, by the intents CTR-WEAK-ADMIN-PASSWORD asks for.
        match crate::fixes::containers::passwords::for_client(ctx, path, line) {
            Some((service, Ok(_))) if rotated.contains(&service) => continue,
            Some((service, Ok(p))) => {
                rotated.push(service);
                intents.extend(p.intents);
                what.push(p.what);
                risks.extend(p.risk);
                continue;
            }
            Some((service, Err(why))) => {
                return Err(format!(
                    "{path}:{line}: {key} holds the password of {service}: {why}"
                ))
            }
            None => {}
        }
        let value = &text[vs..ve];
        if let Some(url) = db_url(value) {
            if !matches!(url.host, "localhost" | "127.0.0.1" | "::1" | "") {
                return Err(
                    match crate::fixes::containers::passwords::names_service(ctx, url.host) {
                        Some(service) => format!(
                            "{path}:{line}: {key} names {service} with another user or password \
                         than the service's own: change the role's password in that \
                         container and in the file by hand"
                        ),
                        None => format!(
                            "{path}:{line}: {key} names the database server {}: change the role's \
                         password there and in the file by hand",
                            url.host
                        ),
                    },
                );
            }
            let server = dbs
                .servers
                .iter()
                .find(|s| s.kind == DbKind::Postgres && s.port == url.port && s.enabled)
                .ok_or_else(|| {
                    format!(
                        "{path}:{line}: no PostgreSQL cluster on port {} on this host: rotate \
                         the password where the database runs",
                        url.port
                    )
                })?;
            let socket = server
                .socket
                .clone()
                .filter(|s| {
                    ctx.host
                        .metadata(s)
                        .ok()
                        .flatten()
                        .is_some_and(|m| m.kind == rempart_audit::host::FileKind::Socket)
                })
                .ok_or_else(|| {
                    format!(
                        "{path}:{line}: {} is not running (no socket), and the role {}'s \
                         password must change with the file: rotate both once it runs (on \
                         the live host harden does it)",
                        server.label(),
                        url.user
                    )
                })?;
            if url.user.is_empty() || url.user.contains(['%', '\'', '"']) {
                return Err(format!(
                    "{path}:{line}: the role name in {key} is encoded: rotate by hand"
                ));
            }
            on_server = true;
            let password = strong_random(ALNUM, 32, SecretKind::Password)?;
            let span = (vs + url.pass_at.0, vs + url.pass_at.1);
            replace_value(ctx, path, line, &text, span, &password, &mut intents)?;
            intents.push(Intent::PgPassword {
                socket,
                port: url.port,
                role: url.user.to_string(),
                password,
            });
            what.push(format!(
                "{key} in {path}: a new password, set for role {} on {}",
                url.user,
                server.label()
            ));
        } else if app_owned(key) {
            signing = true;
            let secret = strong_random(ALNUM, 64, SecretKind::Key)?;
            replace_value(ctx, path, line, &text, (vs, ve), &secret, &mut intents)?;
            what.push(format!("{key} in {path}: a new 64-character value"));
        } else {
            return Err(format!(
                "{path}:{line}: {key} is shared with another party (a provider, another \
                 service): change it there and in the file by hand"
            ));
        }
    }
    if intents.is_empty() {
        return Ok(None);
    }
    if on_server {
        risks.insert(
            0,
            "a database password changes on the server at once, so the application cannot \
             connect until it is restarted with the new file"
                .into(),
        );
    }
    if signing {
        risks.insert(0, "new signing secrets log every user out".into());
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("{} (restart the application)", what.join("; ")),
        safety: if risks.is_empty() {
            Safety::Safe
        } else {
            Safety::Unsafe(risks.join("; "))
        },
        intents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_lines_are_split_where_the_values_are() {
        let v = "postgresql://avmvp_user:mot_de_passe_fort@localhost/avmvp_db";
        let u = db_url(v).unwrap();
        assert_eq!((u.user, u.host, u.port), ("avmvp_user", "localhost", 5432));
        assert_eq!(&v[u.pass_at.0..u.pass_at.1], "mot_de_passe_fort");
        let u = db_url("postgres://a:b@127.0.0.1:5433/x").unwrap();
        assert_eq!((u.host, u.port), ("127.0.0.1", 5433));
        let u = db_url("postgresql+asyncpg://a:b@[::1]:5432/x").unwrap();
        assert_eq!((u.host, u.port), ("::1", 5432));
        assert!(db_url("mysql://a:b@localhost/x").is_none());
        let line = "export DATABASE_URL=\"postgres://a:b@localhost/x\"  ";
        let (s, e) = value_span(line, "DATABASE_URL").unwrap();
        assert_eq!(&line[s..e], "postgres://a:b@localhost/x");
        let line = "SESSION_SECRET=secret_genere_aleatoirement";
        let (s, e) = value_span(line, "SESSION_SECRET").unwrap();
        assert_eq!(&line[s..e], "secret_genere_aleatoirement");
        assert!(value_span("Environment=X=1", "X").is_none());
    }

    #[test]
    fn generated_values_are_random_letters_and_digits() {
        let a = random_text(ALNUM, 32).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, random_text(ALNUM, 32).unwrap());
        // Every character of a small alphabet comes out (no byte range is cut off wrongly).
        let d = random_text(b"abc", 600).unwrap();
        assert!(['a', 'b', 'c'].iter().all(|c| d.contains(*c)));
        assert!(random_text(b"", 4).is_err());
        for _ in 0..200 {
            let v = strong_random(ALNUM, 32, SecretKind::Password).unwrap();
            assert_eq!(
                rempart_audit::rules::app::strength::judge(&v, SecretKind::Password),
                None
            );
        }
        // An alphabet that can only spell a placeholder never yields a value.
        assert!(strong_random(b"x", 8, SecretKind::Key).is_err());
        assert!(app_owned("SESSION_SECRET") && app_owned("JWT_SECRET"));
        assert!(!app_owned("STRIPE_API_KEY"));
    }
}
