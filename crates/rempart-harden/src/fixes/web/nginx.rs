//! nginx fixes. A directive the `http` block does not set yet goes into
//! `/etc/nginx/conf.d/90-rempart.conf` (read inside `http` by Debian's nginx.conf); one it sets
//! already is edited where it is, since the same directive twice at one level is an `nginx -t`
//! error. The checker is `nginx -t`, the reload `systemctl reload nginx`.

use super::{edit_line, indent_of, safe};
use crate::change::{Fix, Intent, LineFormat};
use crate::fixes::header;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::web::nginx::{https_redirect, last, Directive, Nginx, NginxConfig};
use rempart_audit::rules::web::tls::{nginx_protocols, OLD};

pub const DROPIN: &str = "/etc/nginx/conf.d/90-rempart.conf";
pub const BODY_LIMIT: &str = "10m";
pub const PROTOCOLS: &str = "TLSv1.2 TLSv1.3";

fn config(ctx: &Ctx) -> Result<std::sync::Arc<Nginx>, String> {
    let nginx = ctx.fact::<Nginx>();
    match &nginx.config {
        None => Err("nginx is not installed".into()),
        Some(c) if !c.problems.is_empty() => Err(format!(
            "the nginx configuration cannot be read as nginx would: {}",
            c.problems[0].message
        )),
        Some(_) => Ok(nginx),
    }
}

/// `name value;` at http level through the drop-in, when the http block includes conf.d.
fn dropin(
    ctx: &Ctx,
    cfg: &NginxConfig,
    intents: &mut Vec<Intent>,
    name: &str,
    value: &str,
) -> Result<(), String> {
    cfg.http().ok_or("no http block")?;
    // The loader expands includes, so the main file's text says whether conf.d is read
    // (Debian: `include /etc/nginx/conf.d/*.conf;` inside http).
    let main = ctx
        .host
        .read_text(&cfg.main)
        .map_err(|e| e.to_string())?
        .ok_or("the main nginx file is gone")?;
    let included = main.text.lines().any(|l| {
        let t = l.trim();
        t.starts_with("include")
            && (t.contains("/etc/nginx/conf.d/*.conf") || t.contains(" conf.d/*.conf"))
    });
    if !included {
        return Err(format!(
            "{} does not include /etc/nginx/conf.d/*.conf: add `{name} {value};` to the http block by hand",
            cfg.main
        ));
    }
    intents.push(Intent::SetLine {
        path: DROPIN.into(),
        format: LineFormat::Words,
        key: name.into(),
        value: format!("{value};"),
        header: header("#", "nginx hardening, read in the http block"),
        mode: 0o644,
    });
    Ok(())
}

/// Replace the arguments of `d` on its line: `name value;` with the line's indentation and any
/// comment after the `;` kept. Refused when the line holds more than this one directive.
fn set_args(ctx: &Ctx, d: &Directive, value: &str) -> Result<Intent, String> {
    let name = d.name.clone();
    edit_line(
        ctx,
        &d.file,
        d.line,
        "not a one-line directive: edit it by hand",
        |old| {
            let t = old.trim_start();
            let (body, rest) = t.split_once(';')?;
            let first = body.split_whitespace().next()?;
            let after = rest.trim_start();
            let single = first == name
                && !body.contains(['{', '}', '"', '\''])
                && (after.is_empty() || after.starts_with('#'));
            single.then(|| format!("{}{first} {value};{rest}", indent_of(old)))
        },
    )
}

/// WEB-NGINX-TOKENS: `server_tokens off;` at http level (edited or in the drop-in), and every
/// other `server_tokens` turned off.
pub fn tokens(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let nginx = config(ctx)?;
    let cfg = nginx.config.as_ref().ok_or("no nginx configuration")?;
    let http = cfg.http().ok_or("no http block")?;
    let mut intents = Vec::new();
    if last(http.kids(), "server_tokens").is_none() {
        dropin(ctx, cfg, &mut intents, "server_tokens", "off")?;
    }
    for d in cfg.all("server_tokens") {
        if d.arg(0) != Some("off") {
            intents.push(set_args(ctx, d, "off")?);
        }
    }
    Ok(safe(f, "server_tokens off".into(), intents))
}

/// WEB-NGINX-BODY-LIMIT: every `client_max_body_size 0` set to 10m.
pub fn body_limit(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let nginx = config(ctx)?;
    let cfg = nginx.config.as_ref().ok_or("no nginx configuration")?;
    let mut intents = Vec::new();
    for d in cfg.all("client_max_body_size") {
        if d.arg(0)
            .is_some_and(|v| v.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']) == "0")
        {
            intents.push(set_args(ctx, d, BODY_LIMIT)?);
        }
    }
    Ok(safe(
        f,
        format!("client_max_body_size {BODY_LIMIT} where it was unlimited (raise it where the application takes larger uploads)"),
        intents,
    ))
}

/// WEB-NGINX-TLS-PROTOCOLS: every effective `ssl_protocols` of a TLS server that lists a
/// protocol older than TLS 1.2 set to `TLSv1.2 TLSv1.3`; none set (the package's default) gets
/// the drop-in's line.
pub fn tls_protocols(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let nginx = config(ctx)?;
    let cfg = nginx.config.as_ref().ok_or("no nginx configuration")?;
    let mut intents = Vec::new();
    let mut dropped = false;
    for s in cfg.servers().iter().filter(|s| s.has_tls()) {
        match s.inherited("ssl_protocols") {
            Some(d) if nginx_protocols(&d.args).iter().any(|p| OLD.contains(p)) => {
                intents.push(set_args(ctx, d, PROTOCOLS)?);
            }
            Some(_) => {}
            None if !dropped => {
                dropin(ctx, cfg, &mut intents, "ssl_protocols", PROTOCOLS)?;
                dropped = true;
            }
            None => {}
        }
    }
    Ok(safe(
        f,
        format!("ssl_protocols {PROTOCOLS} for every TLS server"),
        intents,
    ))
}

/// The nginx part of WEB-HTTP-REDIRECT: `return 301 https://$host$request_uri;` as the first
/// line of each plain-only server whose server_name a TLS server also serves.
pub fn redirect_intents(ctx: &Ctx, intents: &mut Vec<Intent>) -> Result<Vec<String>, String> {
    let nginx = ctx.fact::<Nginx>();
    let Some(cfg) = &nginx.config else {
        return Ok(Vec::new());
    };
    if let Some(p) = cfg.problems.first() {
        return Err(format!(
            "the nginx configuration cannot be read: {}",
            p.message
        ));
    }
    let servers = cfg.servers();
    let names = |s: &rempart_audit::rules::web::nginx::Server<'_>| -> Vec<String> {
        s.block
            .kids()
            .iter()
            .filter(|d| d.name == "server_name")
            .flat_map(|d| d.args.iter().map(|a| a.to_ascii_lowercase()))
            .collect()
    };
    let tls_names: Vec<String> = servers
        .iter()
        .filter(|s| s.has_tls())
        .flat_map(&names)
        .collect();
    let mut done = Vec::new();
    let mut inserts: Vec<(String, u32, String)> = Vec::new();
    for s in servers
        .iter()
        .filter(|s| s.has_plain() && https_redirect(s.block.kids()).is_none())
    {
        if s.has_tls() {
            return Err(format!(
                "server {} listens with and without TLS: a redirect there would loop; split it into a :80 server that redirects",
                s.name()
            ));
        }
        let mine = names(s);
        let Some(name) = mine
            .iter()
            .find(|n| n.as_str() != "_" && !n.is_empty() && tls_names.contains(n))
        else {
            return Err(format!(
                "no TLS server serves {}: get a certificate first (certbot --nginx), or remove the site",
                s.name()
            ));
        };
        let (real, open) = super::line_at(ctx, &s.block.file, s.block.line)?;
        if open.trim() != "server {" {
            return Err(format!(
                "{}:{} is not a `server {{` line: add the redirect by hand",
                s.block.file, s.block.line
            ));
        }
        let indent = format!("{}    ", indent_of(&open));
        inserts.push((
            real,
            s.block.line + 1,
            format!("{indent}return 301 https://$host$request_uri;"),
        ));
        done.push(name.clone());
    }
    inserts.sort_by(|a, b| (&a.0, b.1).cmp(&(&b.0, a.1)));
    intents.extend(
        inserts
            .into_iter()
            .map(|(path, before, text)| Intent::InsertLine { path, before, text }),
    );
    Ok(done)
}
