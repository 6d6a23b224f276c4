//! Traefik fixes, as line edits of the static configuration the audit read (a YAML or TOML
//! file, or the `command:` flags of a compose service), comments and layout kept: the line the
//! audit's tree points at is edited, or new lines are inserted next to it with its
//! indentation. Traefik reads its static configuration at start only (a restart, or `docker
//! compose up -d`, said in the summary). What needs a design decision (dashboard
//! authentication, middlewares, the Docker socket) is in `MANUAL`.

use super::{indent_of, line_at, safe};
use crate::change::{Fix, Intent};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::web::traefik::tree::Node;
use rempart_audit::rules::web::traefik::{Doc, Instance, Traefik};

/// How the static configuration is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Yaml,
    Toml,
    /// `command:` items of a compose service, one flag per line.
    ComposeFlags,
    /// Flags on a unit's ExecStart line.
    UnitFlags,
}

pub(super) fn shape(inst: &Instance, doc: &Doc) -> Shape {
    if inst.compose.as_ref().is_some_and(|c| c.path == doc.path) {
        Shape::ComposeFlags
    } else if doc.path.ends_with(".toml") {
        Shape::Toml
    } else if doc.path.ends_with(".yml") || doc.path.ends_with(".yaml") {
        Shape::Yaml
    } else {
        Shape::UnitFlags
    }
}

pub(super) fn restart_note(inst: &Instance) -> String {
    match &inst.compose {
        Some(c) => format!(
            "Traefik reads it at start: `docker compose up -d` in the directory of {}",
            c.path
        ),
        None => "Traefik reads it at start: systemctl restart traefik".into(),
    }
}

/// Byte offset just past `key` followed by a `:`/`=` separator and `true` in `line`, with the
/// range of the `true` (case-insensitive, optional quotes around the value).
fn true_after(line: &str, key: &str) -> Option<(usize, usize)> {
    let lower = line.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(key) {
        let at = from + i + key.len();
        let rest = &lower[at..];
        let t = rest.trim_start_matches([' ', '\t']);
        if let Some(t2) = t.strip_prefix([':', '=']) {
            let t3 = t2.trim_start_matches([' ', '\t', '"', '\'']);
            if t3.starts_with("true") {
                let start = lower.len() - t3.len();
                let end = start + 4;
                let next = lower[end..].chars().next();
                if next.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_' && c != '.') {
                    return Some((start, end));
                }
            }
        }
        from = at;
    }
    None
}

/// WEB-TRAEFIK-API-INSECURE: `api.insecure` set to false where it is set (`insecure: true`,
/// `insecure = true`, `--api.insecure=true`, a bare `--api.insecure`).
pub fn api_insecure(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let traefik = ctx.fact::<Traefik>();
    let mut intents = Vec::new();
    let mut notes = Vec::new();
    for inst in &traefik.instances {
        let Some(api) = inst.api() else { continue };
        let Some(n) = api.get("insecure").filter(|n| n.truthy()) else {
            continue;
        };
        let doc = inst.static_doc.as_ref().ok_or("no static configuration")?;
        if n.line == 0 {
            return Err(format!("{}: api.insecure has no line to edit", doc.path));
        }
        let (real, old) = line_at(ctx, &doc.path, n.line)?;
        let key = match shape(inst, doc) {
            Shape::Yaml | Shape::Toml => "insecure",
            Shape::ComposeFlags | Shape::UnitFlags => "api.insecure",
        };
        let new = match true_after(&old, key) {
            Some((a, b)) => format!("{}false{}", &old[..a], &old[b..]),
            None => {
                // A bare flag: `--api.insecure` means true.
                let lower = old.to_ascii_lowercase();
                let flag = "--api.insecure";
                let i = lower.find(flag).ok_or_else(|| {
                    format!(
                        "{}:{} (`{}`): api.insecure is not written here",
                        doc.path,
                        n.line,
                        old.trim()
                    )
                })?;
                let end = i + flag.len();
                if lower[end..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '=' || c == '.')
                {
                    return Err(format!(
                        "{}:{} (`{}`): an api.insecure value rempart cannot rewrite",
                        doc.path,
                        n.line,
                        old.trim()
                    ));
                }
                format!("{}=false{}", &old[..end], &old[end..])
            }
        };
        intents.push(Intent::EditLine {
            path: real,
            line: n.line,
            old,
            new,
        });
        notes.push(restart_note(inst));
    }
    notes.dedup();
    Ok(safe(
        f,
        format!(
            "api.insecure false: the API and dashboard are no longer served on :8080 without \
             authentication (route the dashboard through a router with authentication if it is \
             used); {}",
            notes.join("; ")
        ),
        intents,
    ))
}

fn port_of(address: &str) -> Option<u16> {
    address.split('/').next()?.rsplit(':').next()?.parse().ok()
}

/// `name` as the document writes it (keys of the tree are lowercased).
fn written(text: &str, name: &str) -> String {
    let lower = text.to_ascii_lowercase();
    lower
        .find(&name.to_ascii_lowercase())
        .and_then(|i| text.get(i..i + name.len()))
        .map_or_else(|| name.to_string(), str::to_string)
}

/// WEB-TRAEFIK-REDIRECT: `http.redirections.entryPoint` (to the port-443 entry point, scheme
/// https) added to each port-80 entry point that has no `http` section, next to its address.
pub fn redirect(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let traefik = ctx.fact::<Traefik>();
    let mut intents = Vec::new();
    let mut done = Vec::new();
    let mut notes = Vec::new();
    for ev in &f.evidence {
        let Some(path) = ev.path.as_deref() else {
            continue;
        };
        let Some(inst) = traefik
            .instances
            .iter()
            .find(|i| i.static_doc.as_ref().is_some_and(|d| d.path == path))
        else {
            return Err(format!(
                "{path}: not a Traefik static configuration rempart read"
            ));
        };
        let doc = inst.static_doc.as_ref().ok_or("no static configuration")?;
        let eps = inst.entrypoints();
        let secure: Vec<&String> = eps
            .iter()
            .filter(|(_, n)| n.get("address").and_then(Node::str).and_then(port_of) == Some(443))
            .map(|(k, _)| k)
            .collect();
        let [to] = secure.as_slice() else {
            return Err(format!(
                "{path}: {} entry points on port 443: which one to redirect to is the admin's call",
                secure.len()
            ));
        };
        let to = written(&doc.text, to);
        for (name, ep) in eps {
            let Some(addr) = ep.get("address") else {
                continue;
            };
            if addr.str().and_then(port_of) != Some(80) {
                continue;
            }
            let key = ev.key.as_deref().unwrap_or("");
            if key != format!("entrypoints.{name}.http.redirections") {
                continue;
            }
            if ep.get("http").is_some() {
                return Err(format!(
                    "{path}: entry point {name} already has an http section: add \
                     redirections.entryPoint (to: {to}, scheme: https) to it by hand"
                ));
            }
            let name_w = written(&doc.text, name);
            let (real, line) = line_at(ctx, path, addr.line)?;
            match shape(inst, doc) {
                Shape::Yaml => {
                    if !line
                        .trim_start()
                        .to_ascii_lowercase()
                        .starts_with("address:")
                    {
                        return Err(format!(
                            "{path}:{}: the address is not on a line of its own: add \
                             http.redirections.entryPoint to entry point {name_w} by hand",
                            addr.line
                        ));
                    }
                    let ind = indent_of(&line).to_string();
                    let lines = [
                        format!("{ind}http:"),
                        format!("{ind}  redirections:"),
                        format!("{ind}    entryPoint:"),
                        format!("{ind}      to: {to}"),
                        format!("{ind}      scheme: https"),
                    ];
                    for (i, text) in lines.into_iter().enumerate() {
                        intents.push(Intent::InsertLine {
                            path: real.clone(),
                            before: addr.line + 1 + i as u32,
                            text,
                        });
                    }
                }
                Shape::Toml => {
                    let lines = [
                        String::new(),
                        format!("[entryPoints.{name_w}.http.redirections.entryPoint]"),
                        format!("  to = \"{to}\""),
                        "  scheme = \"https\"".to_string(),
                    ];
                    for text in lines {
                        intents.push(Intent::InsertLine {
                            path: real.clone(),
                            before: u32::MAX,
                            text,
                        });
                    }
                }
                Shape::ComposeFlags => {
                    let t = line.trim_start();
                    let Some(item) = t.strip_prefix("- ") else {
                        return Err(format!(
                            "{path}:{}: the flags are not one per `- ` line: add \
                             --entrypoints.{name_w}.http.redirections.entrypoint.to={to} by hand",
                            addr.line
                        ));
                    };
                    let quote = if item.starts_with('"') { "\"" } else { "" };
                    let ind = indent_of(&line);
                    for (i, flag) in [
                        format!("--entrypoints.{name_w}.http.redirections.entrypoint.to={to}"),
                        format!("--entrypoints.{name_w}.http.redirections.entrypoint.scheme=https"),
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        intents.push(Intent::InsertLine {
                            path: real.clone(),
                            before: addr.line + 1 + i as u32,
                            text: format!("{ind}- {quote}{flag}{quote}"),
                        });
                    }
                }
                Shape::UnitFlags => {
                    return Err(format!(
                        "{path}: add --entrypoints.{name_w}.http.redirections.entrypoint.to={to} \
                         to ExecStart by hand"
                    ))
                }
            }
            done.push(format!("{name_w} -> {to}"));
            notes.push(restart_note(inst));
        }
    }
    if done.is_empty() {
        return Ok(None);
    }
    notes.dedup();
    Ok(safe(
        f,
        format!(
            "entry point redirection to https: {}; {}",
            done.join(", "),
            notes.join("; ")
        ),
        intents,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any line and key: no panic, and a span found is the word `true` on a char boundary.
        #[test]
        fn true_after_finds_only_the_word_true(line in "\\PC{0,60}", key in "[a-z.]{1,10}") {
            if let Some((start, end)) = true_after(&line, &key) {
                prop_assert!(line.is_char_boundary(start) && line.is_char_boundary(end));
                prop_assert!(line[start..end].eq_ignore_ascii_case("true"));
            }
        }
    }

    #[test]
    fn true_is_found_only_as_the_value_of_the_key() {
        let l = "  insecure: true # dev";
        let (a, b) = true_after(l, "insecure").unwrap();
        assert_eq!(&l[a..b], "true");
        assert!(true_after("insecure = \"true\"", "insecure").is_some());
        assert!(true_after("- --api.insecure=TRUE", "api.insecure").is_some());
        assert!(true_after("insecure: trueish", "insecure").is_none());
        assert!(true_after("insecureSkipVerify: true", "insecure").is_none());
        assert!(true_after(
            "command: --api.insecure=false --providers.docker=true",
            "api.insecure"
        )
        .is_none());
    }
}
