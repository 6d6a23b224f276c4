//! Fixes of the monitoring images' open doors, as line edits of the compose file (or the
//! `env_file` or mounted `grafana.ini` the audit read the value from), layout and comments kept:
//! Grafana's anonymous access and self sign-up set to false (CTR-GRAFANA-ANONYMOUS), and
//! Prometheus's admin and lifecycle API flags taken out of its command
//! (CTR-PROMETHEUS-ADMIN-API). Both follow seed 001 "Monitoring Stack" (Grafana behind a login,
//! admin / GRAFANA_ADMIN_PASSWORD) and its "Security Checklist"; both are unsafe, since a wall
//! screen or a snapshot script that relied on the open door stops working.

use super::super::web::edit_line;
use crate::change::{Fix, Intent, Safety};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;

/// `line` with the value of `key` replaced by `false`: `KEY: "true"` (compose map),
/// `- KEY=true` / `- "KEY=true"` (compose list, env file), `key = true` (grafana.ini). The
/// quoting, the separator's spacing and a trailing comment are kept. `None` when the line does
/// not set `key` that way, or its value holds a variable (`${X:-true}`): that is decided
/// elsewhere.
pub(crate) fn value_to_false(line: &str, key: &str) -> Option<String> {
    let body = line.trim_start();
    let body = match body.strip_prefix('-') {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => body,
    };
    let (q, body) = match body.chars().next()? {
        c @ ('"' | '\'') => (Some(c), &body[1..]),
        _ => (None, body),
    };
    let rest = body.strip_prefix(key)?;
    let after_key = rest.trim_start_matches([' ', '\t']);
    let sep = after_key.chars().next()?;
    if !matches!(sep, ':' | '=') || (q.is_some() && sep != '=') {
        return None;
    }
    let after_sep = &after_key[1..];
    let value_start = after_sep.trim_start_matches([' ', '\t']);
    // The value: up to the closing quote of the item, its own quotes, or a comment.
    let (vq, value) = match (q, value_start.chars().next()) {
        (Some(_), _) => (None, value_start),
        (None, Some(c @ ('"' | '\''))) => (Some(c), &value_start[1..]),
        _ => (None, value_start),
    };
    let end = match (q.or(vq), value.find([' ', '\t', '#', ';'])) {
        (Some(c), _) => value.find(c)?,
        (None, Some(i)) => i,
        (None, None) => value.len(),
    };
    let v = &value[..end];
    if v.is_empty() || v.contains('$') {
        return None;
    }
    let head_len = line.len() - value.len();
    let tail = &value[end..];
    Some(format!("{}false{tail}", &line[..head_len]))
}

/// CTR-GRAFANA-ANONYMOUS: each `GF_AUTH_ANONYMOUS_ENABLED` / `GF_USERS_ALLOW_SIGN_UP` the audit
/// found on (compose environment in map or list form, or its `env_file`), and each
/// `[auth.anonymous] enabled` / `[users] allow_sign_up` of a mounted grafana.ini, set to false
/// where it is written (seed 001 Monitoring Stack: "Login: admin / (your password)").
pub fn grafana_anonymous(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents: Vec<Intent> = Vec::new();
    let mut places = Vec::new();
    for e in &f.evidence {
        let (Some(path), Some(line), Some(key)) = (e.path.as_deref(), e.line, e.key.as_deref())
        else {
            continue;
        };
        let k = match key {
            "GF_AUTH_ANONYMOUS_ENABLED" | "GF_USERS_ALLOW_SIGN_UP" => key,
            "[auth.anonymous] enabled" => "enabled",
            "[users] allow_sign_up" => "allow_sign_up",
            _ => continue,
        };
        intents.push(edit_line(
            ctx,
            path,
            line,
            "the value is not a plain true rempart can set to false (a variable, or another \
             layout): set it to false by hand",
            |l| value_to_false(l, k),
        )?);
        places.push(format!("{key} in {path}:{line}"));
    }
    Ok((!intents.is_empty()).then(|| Fix {
        rule: f.id.clone(),
        summary: format!(
            "Grafana asks every visitor to log in: {} false; `docker compose up -d` recreates \
             the container",
            places.join(", ")
        ),
        safety: Safety::Unsafe(
            "dashboards shown without a login (a wall screen, a public status page, an \
             embedded panel) ask for one, and visitors can no longer create accounts"
                .into(),
        ),
        intents,
    }))
}

/// `line` without the flags in `flags` (whole words of a string `command:`), or, for a list
/// item that is one of them, a comment saying it was removed (a YAML comment keeps the list
/// valid and the line count, so other edits of the file still find their lines).
fn without_flags(line: &str, flags: &[String]) -> Option<String> {
    let is_flag = |w: &str| {
        let w = w.trim_matches(['"', '\'']);
        let name = w.split('=').next().unwrap_or(w);
        flags.iter().any(|f| f == name)
    };
    let t = line.trim_start();
    let indent = &line[..line.len() - t.len()];
    if let Some(item) = t.strip_prefix("- ") {
        let word = item.split(" #").next().unwrap_or(item).trim();
        if is_flag(word) && !word.contains(' ') {
            return Some(format!(
                "{indent}# {} removed by `rempart harden` (CTR-PROMETHEUS-ADMIN-API)",
                word.trim_matches(['"', '\''])
            ));
        }
        return None;
    }
    // A string command: drop the flag words, keep everything else byte for byte.
    let mut out = String::with_capacity(line.len());
    let mut removed = false;
    let mut rest = line;
    while !rest.is_empty() {
        let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let (space, after) = rest.split_at(blanks);
        let wlen = after.find([' ', '\t']).unwrap_or(after.len());
        let (word, next) = after.split_at(wlen);
        if !word.is_empty() && word.starts_with("--") && is_flag(word) {
            removed = true;
        } else {
            out.push_str(space);
            out.push_str(word);
        }
        rest = next;
    }
    removed.then_some(out)
}

/// CTR-PROMETHEUS-ADMIN-API: `--web.enable-admin-api` and `--web.enable-lifecycle` taken out of
/// the Prometheus service's command (seed 001 Monitoring Stack; reload with
/// `docker compose kill -s HUP prometheus` instead of `POST /-/reload`).
pub fn prometheus_admin_api(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    // Evidence lines, each with the flags found on it (a string command holds several).
    let mut lines: Vec<(String, u32, Vec<String>)> = Vec::new();
    for e in &f.evidence {
        let (Some(path), Some(line)) = (e.path.as_deref(), e.line) else {
            continue;
        };
        let Some(flag) = e
            .actual
            .as_ref()
            .map(|a| a.to_string().trim_matches('"').to_string())
        else {
            continue;
        };
        match lines.iter_mut().find(|(p, l, _)| p == path && *l == line) {
            Some((_, _, flags)) => flags.push(flag),
            None => lines.push((path.to_string(), line, vec![flag])),
        }
    }
    let mut intents = Vec::new();
    let mut removed = Vec::new();
    for (path, line, flags) in &lines {
        intents.push(edit_line(
            ctx,
            path,
            *line,
            "the flag is not a list item or a word of a string command rempart can remove: \
             remove it by hand",
            |l| without_flags(l, flags),
        )?);
        removed.extend(flags.iter().cloned());
    }
    removed.dedup();
    Ok((!intents.is_empty()).then(|| Fix {
        rule: f.id.clone(),
        summary: format!(
            "Prometheus runs without {}; `docker compose up -d` recreates it (reload its \
             configuration with `docker compose kill -s HUP prometheus`)",
            removed.join(" and ")
        ),
        safety: Safety::Unsafe(
            "tools that snapshot, delete series, reload or stop Prometheus over HTTP \
             (backup scripts, `curl -X POST /-/reload` after a deploy) get 404 or 403"
                .into(),
        ),
        intents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn grafana_values_become_false_in_every_layout() {
        let k = "GF_AUTH_ANONYMOUS_ENABLED";
        assert_eq!(
            value_to_false("      GF_AUTH_ANONYMOUS_ENABLED: \"true\"", k).unwrap(),
            "      GF_AUTH_ANONYMOUS_ENABLED: \"false\""
        );
        assert_eq!(
            value_to_false("  GF_AUTH_ANONYMOUS_ENABLED: true # wall screen", k).unwrap(),
            "  GF_AUTH_ANONYMOUS_ENABLED: false # wall screen"
        );
        assert_eq!(
            value_to_false("      - GF_AUTH_ANONYMOUS_ENABLED=true", k).unwrap(),
            "      - GF_AUTH_ANONYMOUS_ENABLED=false"
        );
        assert_eq!(
            value_to_false("      - \"GF_AUTH_ANONYMOUS_ENABLED=1\"", k).unwrap(),
            "      - \"GF_AUTH_ANONYMOUS_ENABLED=false\""
        );
        assert_eq!(
            value_to_false("GF_AUTH_ANONYMOUS_ENABLED=yes", k).unwrap(),
            "GF_AUTH_ANONYMOUS_ENABLED=false"
        );
        assert_eq!(
            value_to_false("allow_sign_up = true ; open", "allow_sign_up").unwrap(),
            "allow_sign_up = false ; open"
        );
        assert_eq!(
            value_to_false("  GF_AUTH_ANONYMOUS_ENABLED: ${ANON:-true}", k),
            None
        );
        assert_eq!(
            value_to_false("  GF_AUTH_ANONYMOUS_ENABLED_X: true", k),
            None
        );
        assert_eq!(value_to_false("  OTHER: true", k), None);
    }

    #[test]
    fn prometheus_flags_leave_the_command() {
        let flags = vec![
            "--web.enable-admin-api".to_string(),
            "--web.enable-lifecycle".to_string(),
        ];
        assert_eq!(
            without_flags("      - '--web.enable-admin-api'", &flags).unwrap(),
            "      # --web.enable-admin-api removed by `rempart harden` (CTR-PROMETHEUS-ADMIN-API)"
        );
        assert_eq!(
            without_flags(
                "    command: --config.file=/etc/p.yml --web.enable-lifecycle --web.enable-admin-api=true --x",
                &flags
            )
            .unwrap(),
            "    command: --config.file=/etc/p.yml --x"
        );
        assert_eq!(
            without_flags("      - --web.listen-address=:9090", &flags),
            None
        );
        assert_eq!(
            without_flags("    command: --web.enable-lifecycles", &flags),
            None
        );
    }

    proptest! {
        /// Any line: no panic; a rewrite keeps everything before the value.
        #[test]
        fn value_to_false_only_touches_the_value(line in "\\PC{0,60}", key in "[A-Za-z_]{1,12}") {
            if let Some(out) = value_to_false(&line, &key) {
                prop_assert!(out.contains("false"));
                let cut = line.find(&key).unwrap();
                prop_assert_eq!(&out[..cut], &line[..cut]);
            }
        }

        /// Any line: no panic; removing flags never adds text to a string command.
        #[test]
        fn without_flags_never_grows_a_string_command(line in "\\PC{0,60}") {
            let flags = vec!["--web.enable-admin-api".to_string()];
            if let Some(out) = without_flags(&line, &flags).filter(|_| !line.trim_start().starts_with("- ")) {
                prop_assert!(out.len() < line.len());
            }
        }
    }
}
