//! Apache httpd fixes. A server-wide directive goes into
//! `conf-available/rempart-hardening.conf`, enabled by its `conf-enabled` link (as a2enconf
//! does), when nothing sets it today; when something does, the line that wins (the last one
//! httpd reads) is edited in place, so the drop-in's place among conf-enabled files never
//! matters. A virtual host that sets a value of its own has that line edited. Modules are
//! disabled by removing their `mods-enabled` links (as a2dismod does). The checker is
//! `apache2ctl -t` (group apache2 in `validate`), the reload `systemctl reload apache2`.

use super::{edit_line, indent_of, safe};
use crate::change::{Fix, Intent, LineFormat};
use crate::fixes::header;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::web::apache::{module_key, Apache, ApacheConfig, Directive, MAIN_FILE};
use rempart_audit::rules::web::apache_modules::RISKY;
use rempart_audit::rules::web::headers;
use rempart_audit::rules::web::tls::{apache_protocols, OLD};

pub const DROPIN: &str = "/etc/apache2/conf-available/rempart-hardening.conf";
pub const LINK: &str = "/etc/apache2/conf-enabled/rempart-hardening.conf";
const LINK_TARGET: &str = "../conf-available/rempart-hardening.conf";
/// The request body bound written (the seed's 10 MB).
pub const BODY_LIMIT: &str = "10485760";
pub const PROTOCOLS: &str = "-all +TLSv1.2 +TLSv1.3";

fn config(ctx: &Ctx) -> Result<std::sync::Arc<Apache>, String> {
    let apache = ctx.fact::<Apache>();
    match &apache.config {
        None => Err("Apache httpd is not installed".into()),
        Some(c) if !c.problems.is_empty() => Err(format!(
            "the Apache configuration cannot be read as httpd would: {}",
            c.problems[0].message
        )),
        Some(_) => Ok(apache),
    }
}

/// Whether apache2.conf includes conf-enabled/ (Debian's layout), so the drop-in is read.
fn reads_conf_enabled(ctx: &Ctx, cfg: &ApacheConfig) -> bool {
    if cfg
        .files
        .iter()
        .any(|f| f.starts_with("/etc/apache2/conf-enabled/"))
    {
        return true;
    }
    let Ok(Some(main)) = ctx.host.read_text(MAIN_FILE) else {
        return false;
    };
    main.text.lines().any(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        w.len() == 2
            && (w[0].eq_ignore_ascii_case("IncludeOptional")
                || w[0].eq_ignore_ascii_case("Include"))
            && w[1].trim_matches('"').starts_with("conf-enabled/")
    })
}

/// `Directive value` in the drop-in, and the link that enables it.
fn dropin(
    ctx: &Ctx,
    cfg: &ApacheConfig,
    intents: &mut Vec<Intent>,
    key: &str,
    value: &str,
) -> Result<(), String> {
    if !reads_conf_enabled(ctx, cfg) {
        return Err(format!(
            "{MAIN_FILE} does not include conf-enabled/*.conf: add `{key} {value}` where the \
             server configuration is kept"
        ));
    }
    intents.push(Intent::SetLine {
        path: DROPIN.into(),
        format: LineFormat::Words,
        key: key.into(),
        value: value.into(),
        header: header(
            "#",
            "Apache hardening; enabled by the conf-enabled link, like a2enconf",
        ),
        mode: 0o644,
    });
    intents.push(Intent::Symlink {
        path: LINK.into(),
        target: LINK_TARGET.into(),
    });
    Ok(())
}

/// Replace the arguments of directive `d` on its own line, keeping indentation and the name as
/// written. Refused for a line continued with `\` (its text differs from the file's line).
fn set_args(ctx: &Ctx, d: &Directive, value: &str) -> Result<Intent, String> {
    let name = d.name.clone();
    edit_line(
        ctx,
        &d.file,
        d.line,
        "not a one-line directive: edit it by hand",
        |old| {
            let t = old.trim();
            let first = t.split_whitespace().next()?;
            (first.eq_ignore_ascii_case(&name) && !t.ends_with('\\'))
                .then(|| format!("{}{first} {value}", indent_of(old)))
        },
    )
}

/// Set a single-valued server directive: the winning line edited, else the drop-in; virtual
/// hosts that set it otherwise edited too.
fn server_value(
    ctx: &Ctx,
    cfg: &ApacheConfig,
    intents: &mut Vec<Intent>,
    name: &str,
    value: &str,
    ok: impl Fn(&Directive) -> bool,
) -> Result<(), String> {
    match cfg.server_last(name) {
        Some(d) if ok(d) => {}
        Some(d) => intents.push(set_args(ctx, d, value)?),
        None => dropin(ctx, cfg, intents, name, value)?,
    }
    for vh in cfg.vhosts() {
        if let Some(d) = vh.last(name).filter(|d| !ok(d)) {
            intents.push(set_args(ctx, d, value)?);
        }
    }
    Ok(())
}

fn arg_is(d: &Directive, values: &[&str]) -> bool {
    d.arg(0)
        .is_some_and(|v| values.iter().any(|w| v.eq_ignore_ascii_case(w)))
}

/// WEB-APACHE-TOKENS: `ServerTokens Prod` and `ServerSignature Off`.
pub fn tokens(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let apache = config(ctx)?;
    let cfg = apache.config.as_ref().ok_or("no Apache configuration")?;
    let mut intents = Vec::new();
    server_value(ctx, cfg, &mut intents, "ServerTokens", "Prod", |d| {
        arg_is(d, &["prod", "productonly"])
    })?;
    server_value(ctx, cfg, &mut intents, "ServerSignature", "Off", |d| {
        arg_is(d, &["off"])
    })?;
    Ok(safe(
        f,
        "ServerTokens Prod, ServerSignature Off".into(),
        intents,
    ))
}

/// WEB-APACHE-TRACE: `TraceEnable Off`.
pub fn trace(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let apache = config(ctx)?;
    let cfg = apache.config.as_ref().ok_or("no Apache configuration")?;
    let mut intents = Vec::new();
    server_value(ctx, cfg, &mut intents, "TraceEnable", "Off", |d| {
        arg_is(d, &["off"])
    })?;
    Ok(safe(f, "TraceEnable Off".into(), intents))
}

fn body_limits<'a>(ds: &'a [Directive], out: &mut Vec<&'a Directive>) {
    for d in ds {
        if d.is("LimitRequestBody") {
            out.push(d);
        }
        if d.section {
            body_limits(&d.children, out);
        }
    }
}

/// WEB-APACHE-BODY-LIMIT: `LimitRequestBody 10485760` server-wide (every site inherits it),
/// and every `LimitRequestBody 0` (unlimited) set to the same bound.
pub fn body_limit(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let apache = config(ctx)?;
    let cfg = apache.config.as_ref().ok_or("no Apache configuration")?;
    let mut intents = Vec::new();
    let mut all = Vec::new();
    body_limits(&cfg.tree, &mut all);
    for d in &all {
        if d.arg(0) == Some("0") {
            intents.push(set_args(ctx, d, BODY_LIMIT)?);
        }
    }
    let global_ok = cfg
        .tree
        .iter()
        .filter(|d| !d.section && d.is("LimitRequestBody"))
        .any(|d| {
            d.arg(0)
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|n| n > 0)
        });
    let server_zero = cfg
        .tree
        .iter()
        .any(|d| !d.section && d.is("LimitRequestBody") && d.arg(0) == Some("0"));
    if !global_ok && !server_zero {
        dropin(ctx, cfg, &mut intents, "LimitRequestBody", BODY_LIMIT)?;
    }
    Ok(safe(
        f,
        format!(
            "request bodies bounded to {BODY_LIMIT} bytes (10 MB, the seed's value; raise it \
             where the application takes larger uploads)"
        ),
        intents,
    ))
}

/// The value rempart sends for a missing header.
fn header_value(name: &str) -> Option<&'static str> {
    Some(match name {
        "X-Frame-Options" => "\"SAMEORIGIN\"",
        "X-Content-Type-Options" => "\"nosniff\"",
        "Referrer-Policy" => "\"strict-origin-when-cross-origin\"",
        "Strict-Transport-Security" => "\"max-age=63072000\"",
        _ => return None,
    })
}

/// WEB-APACHE-HEADERS: the missing security headers set server-wide (`Header always set`, so
/// error pages carry them too; HSTS only when a TLS site is judged), with mod_headers enabled
/// when it is not. A header set to a weak value on purpose is left to the admin.
pub fn headers(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let apache = config(ctx)?;
    let cfg = apache.config.as_ref().ok_or("no Apache configuration")?;
    let sites = cfg.content_sites();
    let tls: Vec<_> = sites.iter().filter(|s| s.tls).collect();
    let judged: Vec<_> = if tls.is_empty() {
        sites.iter().collect()
    } else {
        tls
    };
    let with_mod = cfg.module("headers_module").is_some();
    let mut missing: Vec<&'static str> = Vec::new();
    for site in &judged {
        let hs = if with_mod {
            cfg.headers(site.vhost.as_ref())
        } else {
            Vec::new()
        };
        for p in headers::judge(&hs, site.tls) {
            if let Some(at) = &p.at {
                return Err(format!(
                    "{} is set to `{}` at {}:{}: a deliberate value, change it by hand",
                    p.header,
                    p.actual,
                    at.path.as_deref().unwrap_or("?"),
                    at.line.unwrap_or(0)
                ));
            }
            if !missing.contains(&p.header) {
                missing.push(p.header);
            }
        }
    }
    // Something that unsets or resets the header elsewhere would win over the drop-in.
    let mut intents = Vec::new();
    for name in &missing {
        let value = header_value(name).ok_or_else(|| format!("no value known for {name}"))?;
        dropin(
            ctx,
            cfg,
            &mut intents,
            &format!("Header always set {name}"),
            value,
        )?;
    }
    if !with_mod && !intents.is_empty() {
        let avail = "/etc/apache2/mods-available/headers.load";
        if !ctx.host.exists(avail) {
            return Err(format!(
                "mod_headers is not enabled and {avail} is missing: install apache2 (it ships the module)"
            ));
        }
        intents.push(Intent::Symlink {
            path: "/etc/apache2/mods-enabled/headers.load".into(),
            target: "../mods-available/headers.load".into(),
        });
    }
    Ok(safe(
        f,
        format!(
            "server-wide {}{}",
            missing.join(", "),
            if with_mod { "" } else { " (a2enmod headers)" }
        ),
        intents,
    ))
}

/// WEB-APACHE-MODULES: the `mods-enabled` links of the risky modules removed (a2dismod).
pub fn modules(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let apache = config(ctx)?;
    let cfg = apache.config.as_ref().ok_or("no Apache configuration")?;
    let mut intents = Vec::new();
    let mut names = Vec::new();
    for m in &cfg.modules {
        let key = module_key(&m.id);
        if !RISKY.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let load = format!("/etc/apache2/mods-enabled/{key}.load");
        if m.file != load {
            return Err(format!(
                "{} is loaded by {}:{}, not by a mods-enabled link: remove that LoadModule by hand",
                m.id, m.file, m.line
            ));
        }
        for p in [load, format!("/etc/apache2/mods-enabled/{key}.conf")] {
            match ctx.host.symlink_metadata(&p).map_err(|e| e.to_string())? {
                None => {}
                Some(meta) if meta.kind == rempart_audit::host::FileKind::Symlink => {
                    intents.push(Intent::Remove { path: p })
                }
                Some(_) => {
                    return Err(format!(
                        "{p} is a real file, not a link to mods-available: a2dismod would not touch it either"
                    ))
                }
            }
        }
        names.push(key);
    }
    Ok(safe(
        f,
        format!(
            "a2dismod {} (restart apache2 to unload them)",
            names.join(" ")
        ),
        intents,
    ))
}

/// WEB-APACHE-TLS-PROTOCOLS: every effective `SSLProtocol` of a TLS site that enables a
/// protocol older than TLS 1.2 set to `-all +TLSv1.2 +TLSv1.3`; httpd's default (none set)
/// replaced by the same line in the drop-in.
pub fn tls_protocols(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let apache = config(ctx)?;
    let cfg = apache.config.as_ref().ok_or("no Apache configuration")?;
    let mut intents = Vec::new();
    let mut dropped = false;
    for site in cfg.sites().iter().filter(|s| s.tls) {
        let d = match &site.vhost {
            Some(v) => cfg.effective(v, "SSLProtocol"),
            None => cfg.server_last("SSLProtocol"),
        };
        let args: Vec<String> =
            d.map_or_else(|| vec!["all".into(), "-SSLv3".into()], |d| d.args.clone());
        if !apache_protocols(&args).iter().any(|p| OLD.contains(p)) {
            continue;
        }
        match d {
            Some(d) => intents.push(set_args(ctx, d, PROTOCOLS)?),
            None if !dropped => {
                dropin(ctx, cfg, &mut intents, "SSLProtocol", PROTOCOLS)?;
                dropped = true;
            }
            None => {}
        }
    }
    Ok(safe(
        f,
        format!("SSLProtocol {PROTOCOLS} for every TLS site"),
        intents,
    ))
}

/// The ServerName and ServerAlias names of a virtual host.
fn names(section: &Directive) -> Vec<String> {
    section
        .children
        .iter()
        .filter(|d| d.is("ServerName") || d.is("ServerAlias"))
        .flat_map(|d| d.args.iter().map(|a| a.to_ascii_lowercase()))
        .collect()
}

/// The Apache part of WEB-HTTP-REDIRECT: `Redirect permanent / https://NAME/` as the first line
/// of each plain vhost whose ServerName a TLS vhost also serves. A plain site with no TLS twin
/// cannot be redirected anywhere yet (certbot --apache first).
pub fn redirect_intents(ctx: &Ctx, intents: &mut Vec<Intent>) -> Result<Vec<String>, String> {
    let apache = ctx.fact::<Apache>();
    let Some(cfg) = &apache.config else {
        return Ok(Vec::new());
    };
    if let Some(p) = cfg.problems.first() {
        return Err(format!(
            "the Apache configuration cannot be read: {}",
            p.message
        ));
    }
    let sites = cfg.sites();
    let tls_names: Vec<String> = sites
        .iter()
        .filter(|s| s.tls)
        .filter_map(|s| s.vhost.as_ref())
        .flat_map(|v| names(v.section))
        .collect();
    let mut done = Vec::new();
    let mut inserts: Vec<(String, u32, String)> = Vec::new();
    for site in sites.iter().filter(|s| !s.tls && s.redirect.is_none()) {
        let Some(vh) = &site.vhost else {
            return Err("the main server (no virtual host) serves plain HTTP: add a :80 virtual host that redirects".into());
        };
        let Some(name) = vh.last("ServerName").and_then(|d| d.arg(0)) else {
            return Err(format!(
                "virtual host {} has no ServerName to redirect to: a2dissite it if unused, or add a redirect by hand",
                vh.name()
            ));
        };
        if !tls_names.contains(&name.to_ascii_lowercase()) {
            return Err(format!(
                "no TLS virtual host serves {name}: get a certificate first (certbot --apache -d {name})"
            ));
        }
        if cfg.module("alias_module").is_none() {
            return Err("mod_alias is not enabled (a2enmod alias), Redirect needs it".into());
        }
        let s = vh.section;
        let child_indent = match s.children.first() {
            Some(c) if *c.file == *s.file => super::line_at(ctx, &c.file, c.line)
                .map(|(_, l)| indent_of(&l).to_string())
                .unwrap_or_else(|_| "    ".into()),
            _ => "    ".into(),
        };
        let (real, open) = super::line_at(ctx, &s.file, s.line)?;
        if !open
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("<virtualhost")
        {
            return Err(format!(
                "{}:{} is not the <VirtualHost> line",
                s.file, s.line
            ));
        }
        inserts.push((
            real,
            s.line + 1,
            format!("{child_indent}Redirect permanent / https://{name}/"),
        ));
        done.push(name.to_string());
    }
    // Bottom up, so an insertion never moves the line the next one is anchored to.
    inserts.sort_by(|a, b| (&a.0, b.1).cmp(&(&b.0, a.1)));
    intents.extend(
        inserts
            .into_iter()
            .map(|(path, before, text)| Intent::InsertLine { path, before, text }),
    );
    Ok(done)
}
