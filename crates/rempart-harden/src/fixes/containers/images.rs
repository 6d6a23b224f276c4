//! CTR-IMAGE-LATEST: an image on `latest` (or with no tag) pinned to the digest of the image the
//! host pulled under that name, read from Docker's own store (`repositories.json` under the data
//! root: `repo:tag` -> image id, `repo@sha256:...` -> image id). Nothing is looked up on the
//! network: an image the store does not know is declined. Seed 002 Phase 2 §5 ("versions
//! exactes") applied to images, as the rule cites it; the CIS Docker Benchmark asks for
//! versioned images.
//!
//! Safe: the digest is the image that runs today, so `docker compose up -d` starts the same
//! bytes; what the pin changes is that `docker compose pull` no longer moves the service to a
//! newer image (the summary says so). It cannot cut access or break a client.

use super::super::web::edit_line;
use crate::change::{Fix, Intent, Safety};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use serde_json::Value;

/// Docker's image references as the store writes them: repository -> reference -> image id.
type Store = Vec<(String, String, String)>;

/// Where Docker keeps its data: `data-root` of daemon.json, else `/var/lib/docker`.
pub(super) fn data_root(ctx: &Ctx) -> String {
    ctx.host
        .read("/etc/docker/daemon.json")
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("data-root")?.as_str().map(str::to_string))
        .filter(|p| p.starts_with('/'))
        .unwrap_or_else(|| "/var/lib/docker".to_string())
}

/// Every `(repository, reference, image id)` of the image stores (one per storage driver).
fn store(ctx: &Ctx) -> Result<Store, String> {
    let root = data_root(ctx);
    let pattern = format!("{}/image/*/repositories.json", root.trim_end_matches('/'));
    let files = ctx.host.glob(&pattern).map_err(|e| e.to_string())?;
    let mut out = Store::new();
    for path in files {
        let Some(bytes) = ctx.host.read(&path).map_err(|e| e.to_string())? else {
            continue;
        };
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{path}: not Docker's repositories.json: {e}"))?;
        let Some(repos) = v.get("Repositories").and_then(Value::as_object) else {
            return Err(format!("{path}: no Repositories object"));
        };
        for (repo, refs) in repos {
            for (reference, id) in refs.as_object().into_iter().flatten() {
                if let Some(id) = id.as_str() {
                    out.push((repo.clone(), reference.clone(), id.to_string()));
                }
            }
        }
    }
    Ok(out)
}

/// The repository of an image reference in Docker's short ("familiar") form, and whether it
/// asks for `latest` (explicitly or by naming no tag): `docker.io/library/postgres` ->
/// `postgres`; `None` for a digest or another tag.
fn latest_repo(image: &str) -> Option<String> {
    if image.contains('@') || image.contains('$') || image.trim().is_empty() {
        return None;
    }
    let (repo, tag) = match image.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (image, None),
    };
    if tag.is_some_and(|t| t != "latest") {
        return None;
    }
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    let repo = repo.strip_prefix("index.docker.io/").unwrap_or(repo);
    let repo = repo.strip_prefix("library/").unwrap_or(repo);
    Some(repo.to_string())
}

/// The repo digest of the image `repo:latest` names in the store.
fn digest_of(store: &Store, repo: &str) -> Option<String> {
    let id = store
        .iter()
        .find(|(r, reference, _)| r == repo && *reference == format!("{repo}:latest"))
        .map(|(_, _, id)| id)?;
    let mut digests: Vec<&str> = store
        .iter()
        .filter(|(r, reference, i)| r == repo && i == id && reference.contains("@sha256:"))
        .filter_map(|(_, reference, _)| reference.split_once('@').map(|(_, d)| d))
        .collect();
    digests.sort_unstable();
    digests.first().map(|d| d.to_string())
}

/// The `image:` line with its value replaced by `pinned` (quotes and a comment kept).
fn pin_line(line: &str, old: &str, pinned: &str) -> Option<String> {
    let (key, value) = line.split_once(':')?;
    if key.trim() != "image" {
        return None;
    }
    let v = value.trim_start();
    let v = v.strip_prefix(['"', '\'']).unwrap_or(v);
    if !v.starts_with(old) {
        return None;
    }
    let rest = &v[old.len()..];
    if rest
        .chars()
        .next()
        .is_some_and(|c| !matches!(c, '"' | '\'' | ' ' | '\t'))
    {
        return None;
    }
    let at = line.len() - v.len();
    Some(format!("{}{pinned}{rest}", &line[..at]))
}

/// CTR-IMAGE-LATEST: each unpinned image the store knows becomes `REPO@sha256:DIGEST`.
pub fn image_latest(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let store = store(ctx)?;
    let mut intents: Vec<Intent> = Vec::new();
    let mut pinned = Vec::new();
    for e in &f.evidence {
        let (Some(path), Some(line)) = (e.path.as_deref(), e.line) else {
            continue;
        };
        let (_, text) = super::super::web::line_at(ctx, path, line)?;
        let written = text
            .split_once(':')
            .map(|(_, v)| v.split(" #").next().unwrap_or(v).trim())
            .unwrap_or("")
            .trim_matches(['"', '\''])
            .to_string();
        let Some(repo) = latest_repo(&written) else {
            return Err(format!(
                "{path}:{line} (`{}`): the image is named through a variable or a form rempart \
                 does not rewrite: pin it by hand",
                text.trim()
            ));
        };
        let Some(digest) = digest_of(&store, &repo) else {
            return Err(format!(
                "{path}:{line}: Docker's image store on this host does not know {repo}:latest \
                 (never pulled here, or another data root): pin it by hand with the digest of \
                 the version you run (`docker image inspect --format '{{{{.RepoDigests}}}}'`)"
            ));
        };
        let new = format!("{repo}@{digest}");
        intents.push(edit_line(
            ctx,
            path,
            line,
            "not an `image:` line rempart can rewrite",
            |l| pin_line(l, &written, &new),
        )?);
        pinned.push(new);
    }
    Ok((!intents.is_empty()).then(|| Fix {
        rule: f.id.clone(),
        summary: format!(
            "images pinned to the digest the host runs today: {}; `docker compose pull` no \
             longer updates them: bump the digest (or a version tag) on purpose",
            pinned.join(", ")
        ),
        safety: Safety::Safe,
        intents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn latest_names_in_docker_short_form() {
        assert_eq!(latest_repo("postgres").as_deref(), Some("postgres"));
        assert_eq!(
            latest_repo("docker.io/library/traefik:latest").as_deref(),
            Some("traefik")
        );
        assert_eq!(
            latest_repo("localhost:5000/app").as_deref(),
            Some("localhost:5000/app")
        );
        assert_eq!(
            latest_repo("ghcr.io/gilmry/koprogo-backend:latest").as_deref(),
            Some("ghcr.io/gilmry/koprogo-backend")
        );
        assert_eq!(latest_repo("grafana/grafana:11.2.0"), None);
        assert_eq!(latest_repo("grafana/grafana@sha256:ab"), None);
        assert_eq!(latest_repo("grafana/grafana:${TAG:-latest}"), None);
    }

    #[test]
    fn the_digest_is_the_one_of_the_image_latest_names() {
        let s: Store = vec![
            (
                "traefik".into(),
                "traefik:latest".into(),
                "sha256:new".into(),
            ),
            (
                "traefik".into(),
                "traefik:v2.11".into(),
                "sha256:old".into(),
            ),
            (
                "traefik".into(),
                "traefik@sha256:d-old".into(),
                "sha256:old".into(),
            ),
            (
                "traefik".into(),
                "traefik@sha256:d-new".into(),
                "sha256:new".into(),
            ),
        ];
        assert_eq!(digest_of(&s, "traefik").as_deref(), Some("sha256:d-new"));
        assert_eq!(digest_of(&s, "postgres"), None);
    }

    #[test]
    fn image_lines_keep_their_quotes_and_comments() {
        assert_eq!(
            pin_line(
                "    image: \"traefik:latest\" # edge",
                "traefik:latest",
                "traefik@sha256:x"
            )
            .unwrap(),
            "    image: \"traefik@sha256:x\" # edge"
        );
        assert_eq!(
            pin_line("    image: postgres", "postgres", "postgres@sha256:x").unwrap(),
            "    image: postgres@sha256:x"
        );
        assert_eq!(
            pin_line("    image: postgresql", "postgres", "p@sha256:x"),
            None
        );
        assert_eq!(
            pin_line("    build: postgres", "postgres", "p@sha256:x"),
            None
        );
    }

    proptest! {
        #[test]
        fn no_panic_on_any_line(line in "\\PC{0,60}", old in "\\PC{0,10}") {
            let _ = latest_repo(&line);
            if let Some(out) = pin_line(&line, &old, "r@sha256:0") {
                prop_assert!(out.contains("r@sha256:0"));
            }
        }
    }
}
