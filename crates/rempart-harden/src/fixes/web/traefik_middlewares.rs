//! The Traefik middlewares seed 000 asks of the proxy in front of every application: security
//! headers (WEB-TRAEFIK-HEADERS) and a rate limit (WEB-TRAEFIK-RATE-LIMIT). Each fix writes its
//! middleware into a file of its own in the file provider's directory
//! (`rempart-headers.yml`, `rempart-ratelimit.yml`, which rollback removes) and attaches it to
//! the entry points the routers listen on, through `entryPoints.<name>.http.middlewares` in the
//! static YAML file: one attachment covers every router of the entry point, those of Docker
//! labels included, and an application added later. The lines inserted are the same for both
//! fixes up to the middleware's own item, so run together they share one `http.middlewares`
//! list. Traefik reads its entry points at start (restart it); the file provider's directory is
//! watched or read at start.
//!
//! Declined, with the reason: a static configuration in TOML or in flags, no file provider
//! directory, routers on several plain entry points (the insertions would shift each other),
//! an entry point whose `http.middlewares` is a flow list, and (headers) a headers
//! middleware already attached with a weak value, whose precedence against a second one
//! rempart would have to guess.

use super::traefik::{restart_note, shape, Shape};
use super::{indent_of, line_at};
use crate::change::{Fix, Intent, Safety};
use crate::fixes::header;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::web::headers;
use rempart_audit::rules::web::traefik::tree::Node;
use rempart_audit::rules::web::traefik::{Instance, Router, Traefik};
use rempart_audit::rules::web::traefik_headers::headers_of;

/// The headers middleware: seed 002 §2 "Hardening Apache" (X-Frame-Options DENY,
/// X-Content-Type-Options nosniff, Referrer-Policy no-referrer-when-downgrade,
/// Strict-Transport-Security max-age=63072000; includeSubDomains; preload), which seed 000 §1
/// ("Headers de sécurité" at the Traefik layer), §4 (HSTS) and §7 (XSS: headers via Traefik)
/// put in Traefik. X-XSS-Protection (`browserXssFilter`) is left out: browsers dropped the
/// filter and OWASP's Secure Headers Project advises against turning it on.
pub const HEADERS_MIDDLEWARE: &str = "rempart-headers";
const HEADERS_BODY: &str = "      headers:
        frameDeny: true
        contentTypeNosniff: true
        referrerPolicy: \"no-referrer-when-downgrade\"
        stsSeconds: 63072000
        stsIncludeSubdomains: true
        stsPreload: true
";

/// The rate limit: seed 000 §7 "DDoS" ("Traefik : Rate limiting possible ; configurer rate
/// limiting sur /ingest") and its PME recommendation ("Activer rate limiting"). The guide gives
/// no figure; these are the rule's own (an average of 50 requests a second per client address,
/// bursts of 100), generous enough for a browser loading a page's assets.
pub const RATELIMIT_MIDDLEWARE: &str = "rempart-ratelimit";
const RATELIMIT_BODY: &str = "      rateLimit:
        average: 50
        burst: 100
";

/// The middleware file a fix writes, as Traefik's file provider reads it.
fn middleware_file(rule: &str, name: &str, body: &str) -> String {
    format!(
        "{}http:\n  middlewares:\n    {name}:\n{body}",
        header("#", rule)
    )
}

/// Where the middleware file goes: the file provider's directory, as a host path.
fn provider_dir(inst: &Instance) -> Result<String, String> {
    let file = inst
        .static_root()
        .and_then(|r| r.path("providers.file"))
        .ok_or_else(|| {
            format!(
                "{}: no file provider, so no dynamic file for rempart to write the middleware \
                 in: define it by hand (a file provider, or Docker labels)",
                inst.origin
            )
        })?;
    let dir = file.get("directory").and_then(Node::str).ok_or_else(|| {
        format!(
            "{}: the file provider reads one file (providers.file.filename), which rempart \
                 does not rewrite: add the middleware to it by hand",
            inst.origin
        )
    })?;
    inst.host_path(dir)
        .map(|d| d.trim_end_matches('/').to_string())
        .ok_or_else(|| format!("{}: {dir} is not mounted from the host", inst.origin))
}

/// The line of `key:` at `indent` inside the block that starts after line `from` (1-based) and
/// ends at the first line indented less than `indent`.
fn key_line(text: &str, from: u32, indent: usize, key: &str) -> Option<u32> {
    for (i, l) in text.lines().enumerate().skip(from as usize) {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let ind = l.len() - t.len();
        if ind < indent {
            return None;
        }
        if ind == indent
            && t.len() > key.len()
            && t[..key.len()].eq_ignore_ascii_case(key)
            && t[key.len()..].starts_with(':')
        {
            return u32::try_from(i + 1).ok();
        }
    }
    None
}

/// The first line (1-based) of the block holding line `n` at `indent`: going up while lines
/// are blank, comments or indented at least that much.
fn block_start(text: &str, n: u32, indent: usize) -> u32 {
    let lines: Vec<&str> = text.lines().collect();
    let mut first = n;
    while first > 1 {
        let l = lines.get(first as usize - 2).copied().unwrap_or("");
        let t = l.trim_start();
        if !t.is_empty() && !t.starts_with('#') && l.len() - t.len() < indent {
            break;
        }
        first -= 1;
    }
    first
}

/// The indentation of the first non-blank line after line `n` (1-based).
fn next_indent(text: &str, n: u32) -> Option<String> {
    text.lines()
        .skip(n as usize)
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| indent_of(l).to_string())
}

/// Intents attaching `reference` to entry point `name` of a YAML static file.
fn attach(
    ctx: &Ctx,
    inst: &Instance,
    name: &str,
    reference: &str,
    intents: &mut Vec<Intent>,
) -> Result<(), String> {
    let doc = inst.static_doc.as_ref().ok_or("no static configuration")?;
    if shape(inst, doc) != Shape::Yaml {
        return Err(format!(
            "{}: the static configuration is not a YAML file: add \
             entryPoints.{name}.http.middlewares = [{reference}] by hand",
            doc.path
        ));
    }
    let (_, ep) = inst
        .entrypoints()
        .iter()
        .find(|(k, _)| k == name)
        .ok_or_else(|| format!("{}: no entry point {name}", doc.path))?;
    let addr = ep
        .get("address")
        .filter(|a| a.line > 0)
        .ok_or_else(|| format!("{}: entry point {name} has no address line", doc.path))?;
    let (real, addr_text) = line_at(ctx, &doc.path, addr.line)?;
    if !addr_text
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("address:")
    {
        return Err(format!(
            "{}:{}: entry point {name} is not written one key per line: attach {reference} by \
             hand",
            doc.path, addr.line
        ));
    }
    let ind = indent_of(&addr_text).to_string();
    let insert = |intents: &mut Vec<Intent>, after: u32, lines: Vec<String>| {
        for (i, text) in lines.into_iter().enumerate() {
            intents.push(Intent::InsertLine {
                path: real.clone(),
                before: after + 1 + i as u32,
                text,
            });
        }
    };
    let Some(http) = ep.get("http") else {
        insert(
            intents,
            addr.line,
            vec![
                format!("{ind}http:"),
                format!("{ind}  middlewares:"),
                format!("{ind}    - {reference}"),
            ],
        );
        return Ok(());
    };
    // The `http:` key line: a sibling of the address in the entry point's block.
    let start = block_start(&doc.text, addr.line, ind.len()).saturating_sub(1);
    let http_line = key_line(&doc.text, start, ind.len(), "http").ok_or_else(|| {
        format!(
            "{}: the http section of entry point {name} is not a block rempart can extend: \
             attach {reference} by hand",
            doc.path
        )
    })?;
    let child = next_indent(&doc.text, http_line)
        .filter(|c| c.len() > ind.len())
        .ok_or_else(|| format!("{}:{http_line}: an empty http section", doc.path))?;
    match http.get("middlewares") {
        None => insert(
            intents,
            http_line,
            vec![
                format!("{child}middlewares:"),
                format!("{child}  - {reference}"),
            ],
        ),
        Some(_) => {
            let mw = key_line(&doc.text, http_line, child.len(), "middlewares")
                .ok_or_else(|| format!("{}: no middlewares line under http", doc.path))?;
            let (_, mw_text) = line_at(ctx, &doc.path, mw)?;
            let value = mw_text.split_once(':').map_or("", |(_, v)| v.trim());
            let item = next_indent(&doc.text, mw).unwrap_or_default();
            let first = doc.text.lines().nth(mw as usize).unwrap_or("").trim_start();
            if !(value.is_empty() || value.starts_with('#')) || !first.starts_with('-') {
                return Err(format!(
                    "{}:{mw}: entry point {name}'s middlewares are not a block list: add \
                     {reference} to it by hand",
                    doc.path
                ));
            }
            insert(intents, mw, vec![format!("{item}- {reference}")]);
        }
    }
    Ok(())
}

/// The entry points `routers` listen on that do not redirect (a redirecting entry point never
/// runs its routers' middlewares), in the static file's order.
fn entry_points_of(inst: &Instance, routers: &[Router<'_>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, ep) in inst.entrypoints() {
        if ep.path("http.redirections").is_some() {
            continue;
        }
        if routers
            .iter()
            .any(|r| inst.router_entrypoints(r).contains(name))
        {
            out.push(name.clone());
        }
    }
    out
}

/// Write the middleware file and attach it to `eps`, for one instance.
#[allow(clippy::too_many_arguments)]
fn install(
    ctx: &Ctx,
    inst: &Instance,
    rule: &str,
    name: &str,
    body: &str,
    eps: &[String],
    intents: &mut Vec<Intent>,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    let dir = provider_dir(inst)?;
    let path = format!("{dir}/{name}.yml");
    if let Some(m) = inst.middleware(name) {
        if m.doc.path != path {
            return Err(format!(
                "{}: a middleware named {name} already exists: attach it by hand",
                m.doc.path
            ));
        }
    }
    let reference = format!("{name}@file");
    // One entry point: insertions at two places of one file by two fixes (headers and rate
    // limit) would shift each other's lines.
    let [ep] = eps else {
        return Err(format!(
            "{}: the routers listen on entry points {}: attach {reference} to each by hand",
            inst.origin,
            eps.join(", ")
        ));
    };
    attach(ctx, inst, ep, &reference, intents)?;
    let (uid, gid, mode) = ctx
        .host
        .metadata(&dir)
        .ok()
        .flatten()
        .map_or((0, 0, 0o644), |m| (m.uid, m.gid, 0o644));
    intents.push(Intent::Write {
        path,
        content: middleware_file(rule, name, body).into_bytes(),
        mode,
        uid,
        gid,
    });
    notes.push(format!(
        "entry point(s) {} of {}",
        eps.join(", "),
        inst.origin
    ));
    notes.push(restart_note(inst));
    Ok(())
}

/// WEB-TRAEFIK-HEADERS: a `rempart-headers` headers middleware (the values of seed 002 §2)
/// attached to every entry point a TLS router without the headers listens on.
pub fn headers(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let traefik = ctx.fact::<Traefik>();
    let mut intents = Vec::new();
    let mut notes = Vec::new();
    for inst in &traefik.instances {
        let mut bare = Vec::new();
        for r in inst.routers() {
            let svc = r.node.get("service").and_then(Node::str).unwrap_or("");
            if svc.ends_with("@internal") || !inst.router_tls(&r) {
                continue;
            }
            let (mws, _) = inst.router_middlewares(&r);
            let hs: Vec<_> = mws.iter().flat_map(headers_of).collect();
            let problems = headers::judge(&hs, true);
            if problems.is_empty() {
                continue;
            }
            if let Some(p) = problems.iter().find(|p| p.at.is_some()) {
                return Err(format!(
                    "router {} already gets {} = {} from a headers middleware: raise it to {} \
                     there by hand (a second middleware's precedence would be a guess)",
                    r.name, p.header, p.actual, p.expected
                ));
            }
            bare.push(r);
        }
        if bare.is_empty() {
            continue;
        }
        let eps = entry_points_of(inst, &bare);
        if eps.is_empty() {
            return Err(format!(
                "{}: the routers without headers listen on no entry point rempart can \
                 extend: add {HEADERS_MIDDLEWARE} to them by hand",
                inst.origin
            ));
        }
        install(
            ctx,
            inst,
            &f.id,
            HEADERS_MIDDLEWARE,
            HEADERS_BODY,
            &eps,
            &mut intents,
            &mut notes,
        )?;
    }
    notes.dedup();
    Ok((!intents.is_empty()).then(|| Fix {
        rule: f.id.clone(),
        summary: format!(
            "security headers (frameDeny, nosniff, Referrer-Policy \
             no-referrer-when-downgrade, HSTS 2 years with includeSubDomains and preload) on {}",
            notes.join("; ")
        ),
        safety: Safety::Unsafe(
            "HSTS pins browsers to https for two years on every subdomain (a subdomain still on \
             plain http becomes unreachable), and frameDeny breaks a site that frames its own \
             pages"
                .into(),
        ),
        intents,
    }))
}

/// WEB-TRAEFIK-RATE-LIMIT: a `rempart-ratelimit` rateLimit middleware attached to the entry
/// points the routers listen on.
pub fn rate_limit(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let traefik = ctx.fact::<Traefik>();
    let mut intents = Vec::new();
    let mut notes = Vec::new();
    for inst in &traefik.instances {
        let routers: Vec<Router<'_>> = inst
            .routers()
            .into_iter()
            .filter(|r| {
                !r.node
                    .get("service")
                    .and_then(Node::str)
                    .unwrap_or("")
                    .ends_with("@internal")
            })
            .collect();
        if routers.is_empty() {
            continue;
        }
        let eps = entry_points_of(inst, &routers);
        if eps.is_empty() {
            continue;
        }
        install(
            ctx,
            inst,
            &f.id,
            RATELIMIT_MIDDLEWARE,
            RATELIMIT_BODY,
            &eps,
            &mut intents,
            &mut notes,
        )?;
    }
    notes.dedup();
    Ok((!intents.is_empty()).then(|| Fix {
        rule: f.id.clone(),
        summary: format!(
            "rate limit of 50 requests a second per client (bursts of 100) on {}",
            notes.join("; ")
        ),
        safety: Safety::Unsafe(
            "clients above 50 requests a second get 429: behind a CDN or another proxy every \
             visitor shares its address (set rateLimit.sourceCriterion.ipStrategy), and agents \
             that post in bursts may get 429 too"
                .into(),
        ),
        intents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rempart_audit::rules::web::traefik::tree;

    #[test]
    fn middleware_files_parse_as_traefik_reads_them() {
        for (name, body, kind) in [
            (HEADERS_MIDDLEWARE, HEADERS_BODY, "headers"),
            (RATELIMIT_MIDDLEWARE, RATELIMIT_BODY, "ratelimit"),
        ] {
            let text = middleware_file("RULE", name, body);
            let root = tree::from_yaml(&text).unwrap();
            let m = root.path(&format!("http.middlewares.{name}")).unwrap();
            assert_eq!(m.entries()[0].0, kind);
        }
        let text = middleware_file("R", HEADERS_MIDDLEWARE, HEADERS_BODY);
        let root = tree::from_yaml(&text).unwrap();
        let h = root
            .path("http.middlewares.rempart-headers.headers")
            .unwrap();
        assert_eq!(h.get("stsseconds").and_then(Node::str), Some("63072000"));
        assert_eq!(
            h.get("referrerpolicy").and_then(Node::str),
            Some("no-referrer-when-downgrade")
        );
    }

    #[test]
    fn key_lines_are_found_inside_their_block_only() {
        let t = "entryPoints:\n  web:\n    address: \":80\"\n  websecure:\n    address: \":443\"\n    http:\n      tls: {}\napi:\n  http: x\n";
        // From the websecure block (which starts at line 5), not web's (line 3).
        assert_eq!(key_line(t, 4, 4, "http"), Some(6));
        assert_eq!(key_line(t, 2, 4, "http"), None);
        assert_eq!(block_start(t, 5, 4), 5);
        assert_eq!(block_start(t, 7, 6), 7);
        assert_eq!(block_start(t, 6, 4), 5);
        assert_eq!(key_line(t, 6, 4, "http"), None);
        assert_eq!(next_indent(t, 6).as_deref(), Some("      "));
    }
}
