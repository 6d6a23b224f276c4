//! Fixes of Django's security settings: secure cookies (APP-DJANGO-COOKIES), the HTTPS
//! redirect (APP-DJANGO-SSL-REDIRECT) and ALLOWED_HOSTS (APP-DJANGO-ALLOWED-HOSTS), each only
//! where the web configuration shows how the site is served ([`super::fronts`]): over https,
//! under which names, behind which proxy. A setting is written where the audit's settings
//! reader will take it as the effective value: its own line when it is a plain one-line
//! assignment in the settings module Django loads, else a marked block appended at the end of
//! that module (a later module-level assignment wins in Python).

use super::fronts::{fronts, Front};
use crate::change::{Fix, Intent, Safety};
use crate::fixes::web::edit_line;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::app::django::{DjangoProjects, Project, Setting};
use rempart_audit::rules::app::pyread::Val;
use rempart_audit::rules::services::discovery::Discovery;

/// Whether `text` is the whole of a module-level `NAME = value` statement on one line.
pub fn one_line_assignment(text: &str, name: &str) -> bool {
    let Some(rest) = text.strip_prefix(name) else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    let Some(value) = rest.strip_prefix('=') else {
        return false;
    };
    if value.starts_with('=') || value.contains("\"\"\"") || value.contains("'''") {
        return false;
    }
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in value.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                '#' => break,
                _ => {}
            },
        }
    }
    let body = value.split('#').next().unwrap_or("").trim_end();
    depth == 0 && quote.is_none() && !body.ends_with('\\') && !body.trim().is_empty()
}

/// Settings one fix writes into one project.
pub struct Writer<'a> {
    ctx: &'a Ctx<'a>,
    rule: &'a str,
    intents: Vec<Intent>,
    /// Settings modules the block header was appended to.
    appended: Vec<String>,
    pub changed: Vec<String>,
}

impl<'a> Writer<'a> {
    pub fn new(ctx: &'a Ctx<'a>, rule: &'a str) -> Writer<'a> {
        Writer {
            ctx,
            rule,
            intents: Vec::new(),
            appended: Vec::new(),
            changed: Vec::new(),
        }
    }

    /// `NAME = value` in project `p`: its line edited when it is a plain one-line literal
    /// assignment in the settings module itself (and nothing conditional follows), else
    /// appended at the end of that module.
    pub fn set(&mut self, p: &Project, name: &str, value: &str) -> Result<(), String> {
        let line = format!("{name} = {value}");
        if let Setting::Set(b) = p.get(name) {
            if b.path == p.settings
                && b.reads.is_empty()
                && p.conditional(name).is_empty()
                && one_line_assignment(&b.text, name)
            {
                self.intents.push(edit_line(
                    self.ctx,
                    &b.path,
                    b.line,
                    "the assignment changed since the audit",
                    |old| (old == b.text).then(|| line.clone()),
                )?);
                self.changed.push(format!("{}:{} {line}", b.path, b.line));
                return Ok(());
            }
        }
        let path = crate::fixes::web::real_path(self.ctx, &p.settings)?;
        if !self.appended.contains(&path) {
            self.appended.push(path.clone());
            self.intents.push(Intent::InsertLine {
                path: path.clone(),
                before: u32::MAX,
                text: crate::fixes::header("#", self.rule).trim_end().to_string(),
            });
        }
        self.intents.push(Intent::InsertLine {
            path,
            before: u32::MAX,
            text: line.clone(),
        });
        self.changed
            .push(format!("{} (appended) {line}", p.settings));
        Ok(())
    }

    /// The fix, or nothing when no setting changes.
    pub fn finish(self, f: &Finding, summary: &str, unsafe_because: String) -> Option<Fix> {
        (!self.intents.is_empty()).then(|| Fix {
            rule: f.id.clone(),
            summary: format!(
                "{summary}: {} (restart the application)",
                self.changed.join(", ")
            ),
            safety: Safety::Unsafe(unsafe_because),
            intents: self.intents,
        })
    }
}

fn sites(fs: &[Front]) -> String {
    fs.iter()
        .map(|f| f.site.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sites serving a project, required to include one served over https.
fn https_fronts(ctx: &Ctx, p: &Project, what: &str) -> Result<Vec<Front>, String> {
    let fs = fronts(ctx, p.app);
    if fs.is_empty() {
        return Err(format!(
            "{}: no Apache or nginx site rempart reads serves this app (Traefik and other \
             proxies are not followed), so whether it is served over https is unknown: {what} \
             by hand once it is",
            p.app_dir
        ));
    }
    if !fs.iter().any(|f| f.https && !f.redirect_only) {
        return Err(format!(
            "{}: the sites serving it ({}) do not speak TLS: get a certificate first (seed 002 \
             Phase 2 §1, certbot), then {what}",
            p.app_dir,
            sites(&fs)
        ));
    }
    Ok(fs)
}

/// The projects the audit could read.
fn projects(ctx: &Ctx) -> Vec<Project> {
    ctx.fact::<DjangoProjects>()
        .projects
        .iter()
        .filter(|p| p.error.is_none())
        .cloned()
        .collect()
}

/// Whether the setting's effective value is known to be false (unset counts as false).
fn known_false(p: &Project, name: &str) -> bool {
    match p.get(name) {
        Setting::Set(b) => b.val.truthy() == Some(false),
        Setting::Unset => true,
    }
}

/// APP-DJANGO-COOKIES: `SESSION_COOKIE_SECURE = True` and `CSRF_COOKIE_SECURE = True` (Django
/// deployment checklist, W012/W016; seed 000 §4 « HTTPS obligatoire »), for projects a site
/// serves over https. Unsafe: browsers stop sending the cookies over plain HTTP, so logging in
/// through a plain-HTTP site of the app stops working.
pub fn cookies(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut w = Writer::new(ctx, "APP-DJANGO-COOKIES");
    for p in projects(ctx) {
        let names: Vec<&str> = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]
            .into_iter()
            .filter(|n| known_false(&p, n))
            .collect();
        if names.is_empty() {
            continue;
        }
        https_fronts(
            ctx,
            &p,
            "set SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE = True",
        )?;
        for n in names {
            w.set(&p, n, "True")?;
        }
    }
    Ok(w.finish(
        f,
        "session and CSRF cookies sent over https only",
        "browsers stop sending the session and CSRF cookies over plain HTTP: logging in \
         through an http:// address of the site fails until it redirects to https"
            .into(),
    ))
}

/// APP-DJANGO-SSL-REDIRECT: `SECURE_SSL_REDIRECT = True` (Django deployment checklist W008;
/// seed 000 §4 « HTTPS obligatoire »), for projects reachable without the proxy (the rule's own
/// criterion) and served over https. Behind a TLS-terminating proxy that sets
/// `X-Forwarded-Proto` (nginx `proxy_set_header X-Forwarded-Proto $scheme`, Apache
/// `RequestHeader set X-Forwarded-Proto`), `SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO",
/// "https")` too; a proxy that does not send it would make every request loop, so the fix
/// declines. Unsafe: a wrong proxy header loops, and plain-HTTP clients are sent to https.
pub fn ssl_redirect(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let d = ctx.fact::<Discovery>();
    let mut w = Writer::new(ctx, "APP-DJANGO-SSL-REDIRECT");
    for p in projects(ctx) {
        if !known_false(&p, "SECURE_SSL_REDIRECT") {
            continue;
        }
        let binds = d.app_binds(p.app);
        if !binds.is_empty() && !binds.iter().any(|b| b.is_exposed()) {
            continue;
        }
        let fs = https_fronts(ctx, &p, "set SECURE_SSL_REDIRECT = True")?;
        let proxied: Vec<&Front> = fs.iter().filter(|f| f.https && f.proxied).collect();
        if let Some(bad) = proxied.iter().find(|f| !f.forwarded_proto) {
            return Err(format!(
                "{}: the proxy at {} does not send X-Forwarded-Proto, so Django cannot tell \
                 https requests apart and SECURE_SSL_REDIRECT would loop: add `proxy_set_header \
                 X-Forwarded-Proto $scheme;` (nginx) or `RequestHeader set X-Forwarded-Proto \
                 https` (Apache) first",
                p.app_dir, bad.site
            ));
        }
        if !proxied.is_empty() && matches!(p.get("SECURE_PROXY_SSL_HEADER"), Setting::Unset) {
            w.set(
                &p,
                "SECURE_PROXY_SSL_HEADER",
                "(\"HTTP_X_FORWARDED_PROTO\", \"https\")",
            )?;
        }
        w.set(&p, "SECURE_SSL_REDIRECT", "True")?;
    }
    Ok(w.finish(
        f,
        "plain-HTTP requests redirected to https by Django",
        "clients of the app's plain-HTTP addresses are redirected to https, and a proxy that \
         stops sending X-Forwarded-Proto makes every request redirect in a loop"
            .into(),
    ))
}

/// A Python list of strings.
fn py_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// APP-DJANGO-ALLOWED-HOSTS: `ALLOWED_HOSTS` set to the names the web server sites serving the
/// app answer to (Apache ServerName/ServerAlias, nginx server_name), as seed 002 Phase 1 §5
/// writes it (`ALLOWED_HOSTS = ['ton.domaine.tld']`). Declines when no named site serves the
/// app. Unsafe: requests with any other Host header (the bare IP address, a name missing from
/// the configuration) get 400.
pub fn allowed_hosts(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut w = Writer::new(ctx, "APP-DJANGO-ALLOWED-HOSTS");
    for p in projects(ctx) {
        let Setting::Set(b) = p.get("ALLOWED_HOSTS") else {
            continue;
        };
        let wildcard = match &b.val {
            Val::List(items) => items.iter().any(|i| i.as_str() == Some("*")),
            Val::Str(s) => s.contains('*'),
            _ => false,
        };
        if !wildcard {
            continue;
        }
        let fs = fronts(ctx, p.app);
        let mut names: Vec<String> = Vec::new();
        for n in fs
            .iter()
            .filter(|f| !f.redirect_only)
            .flat_map(|f| &f.names)
        {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        if names.is_empty() {
            return Err(format!(
                "{}: no named Apache or nginx site rempart reads serves this app{}: list the \
                 site's names in ALLOWED_HOSTS by hand",
                p.app_dir,
                if fs.is_empty() {
                    String::new()
                } else {
                    format!(" ({} have no ServerName/server_name)", sites(&fs))
                }
            ));
        }
        w.set(&p, "ALLOWED_HOSTS", &py_list(&names))?;
    }
    Ok(w.finish(
        f,
        "ALLOWED_HOSTS names the site",
        "requests with another Host header (the server's IP address, a name the web server \
         configuration does not list) get 400 Bad Request"
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_whole_one_line_assignments_are_edited() {
        assert!(one_line_assignment(
            "ALLOWED_HOSTS = ['*']",
            "ALLOWED_HOSTS"
        ));
        assert!(one_line_assignment("DEBUG=False  # prod", "DEBUG"));
        assert!(one_line_assignment("X = ('a', \"b)\")  # (", "X"));
        assert!(!one_line_assignment("ALLOWED_HOSTS = [", "ALLOWED_HOSTS"));
        assert!(!one_line_assignment(
            "ALLOWED_HOSTS += ['*']",
            "ALLOWED_HOSTS"
        ));
        assert!(!one_line_assignment(
            "ALLOWED_HOSTS.append('*')",
            "ALLOWED_HOSTS"
        ));
        assert!(!one_line_assignment("    X = 1", "X"));
        assert!(!one_line_assignment("X == 1", "X"));
        assert!(!one_line_assignment("X_Y = 1", "X"));
        assert!(!one_line_assignment("X = 1 + \\", "X"));
        assert!(!one_line_assignment("X = \"\"\"a", "X"));
    }

    proptest! {
        #[test]
        fn assignment_check_never_panics(s in "\\PC{0,80}") {
            let _ = one_line_assignment(&s, "X");
        }
    }
}

/// Django's `get_random_secret_key()` alphabet (50 characters: no quote, no backslash).
const KEY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";

/// A 50-character key from the OS's randomness, as `get_random_secret_key()` makes them.
fn new_key() -> Result<String, String> {
    super::secrets::strong_random(
        KEY_ALPHABET,
        50,
        rempart_audit::rules::app::strength::SecretKind::Key,
    )
}

/// The account that runs a project: its unit's `User=`, or mod_wsgi's daemon user.
fn runs_as(ctx: &Ctx, p: &Project) -> Result<(String, u32), String> {
    let d = ctx.fact::<Discovery>();
    let users = ctx.fact::<rempart_audit::host::Users>();
    let from_unit = d
        .apps
        .get(p.app)
        .and_then(|a| rempart_audit::rules::app::env_perms::service_account(&d, a, &users))
        .map(|u| (u.name.clone(), u.gid));
    if let Some(a) = from_unit {
        return Ok(a);
    }
    let wsgi: Vec<String> = fronts(ctx, p.app)
        .into_iter()
        .filter_map(|f| f.wsgi_user)
        .collect();
    match wsgi.as_slice() {
        [u, rest @ ..] if rest.iter().all(|r| r == u) => users
            .user(u)
            .map(|a| (a.name.clone(), a.gid))
            .ok_or_else(|| {
                format!(
                    "mod_wsgi runs {} as {u}, which /etc/passwd lacks",
                    p.app_dir
                )
            }),
        [] => Err(format!(
            "{}: which account runs the app is unknown (no unit User=, no mod_wsgi daemon): \
             move the key out by hand",
            p.app_dir
        )),
        _ => Err(format!(
            "{}: mod_wsgi runs it under several accounts ({}): move the key out by hand",
            p.app_dir,
            wsgi.join(", ")
        )),
    }
}

/// APP-DJANGO-SECRET-KEY: a hard-coded (or regenerated-at-start) key is replaced by a new
/// 50-character key from the OS's randomness, kept out of the code in
/// `/etc/PROJECT/django_secret_key` (mode 0640, root and the group of the account that runs the
/// app: its unit's User= or mod_wsgi's daemon user) and read at start with `SECRET_KEY =
/// open(PATH).read().strip()`: an EnvironmentFile would not reach an app mod_wsgi runs inside
/// httpd, a file does. Seed 002 Phase 1 §5 (the key out of the code). Unsafe: the new key logs
/// every user out and invalidates signed data (password-reset links, signed cookies); the old
/// key stays in the repository's history, which is why it is rotated rather than moved.
pub fn secret_key(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut w = Writer::new(ctx, "APP-DJANGO-SECRET-KEY");
    let mut files = Vec::new();
    for p in projects(ctx) {
        let Setting::Set(b) = p.get("SECRET_KEY") else {
            continue;
        };
        if !(b.literal() || b.val == Val::Random) {
            return Err(format!(
                "{}:{}: the key comes from the environment and is weak there: put a new key \
                 (get_random_secret_key()) where the variable is set",
                b.path, b.line
            ));
        }
        let (account, gid) = runs_as(ctx, &p)?;
        let name: String = p
            .app_dir
            .rsplit('/')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        let name = name.trim_start_matches('.');
        if name.is_empty() {
            return Err(format!(
                "{}: no name to give the key's directory",
                p.app_dir
            ));
        }
        let path = format!("/etc/{name}/django_secret_key");
        if ctx.host.exists(&path) {
            return Err(format!(
                "{path} already exists and the settings do not read it: check which key is the \
                 right one by hand"
            ));
        }
        w.intents.push(Intent::MarkSecret { path: path.clone() });
        w.intents.push(Intent::Write {
            path: path.clone(),
            content: format!("{}\n", new_key()?).into_bytes(),
            mode: 0o640,
            uid: 0,
            gid,
        });
        w.set(&p, "SECRET_KEY", &format!("open('{path}').read().strip()"))?;
        files.push(format!("{path} (0640 root:{account})"));
    }
    Ok(w.finish(
        f,
        &format!("a new key in {}", files.join(", ")),
        "a new SECRET_KEY logs every user out and invalidates password-reset links and signed \
         cookies; restart the application so every worker reads the same key"
            .to_string(),
    ))
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn keys_are_fifty_characters_of_djangos_alphabet_and_differ() {
        let a = new_key().unwrap();
        let b = new_key().unwrap();
        assert_eq!(a.len(), 50);
        assert!(a.bytes().all(|c| KEY_ALPHABET.contains(&c)));
        assert_ne!(a, b);
        assert!(a.bytes().collect::<std::collections::BTreeSet<_>>().len() >= 5);
    }
}
