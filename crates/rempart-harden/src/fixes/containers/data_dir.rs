//! Where a compose service keeps the data its image initialises once (PostgreSQL's cluster,
//! Grafana's grafana.db), read from the host: a bind mount, or a named volume under Docker's
//! data root (`DATA-ROOT/volumes/PROJECT_VOLUME/_data`, the project named as compose names
//! it), and whether that data exists yet. Used by [`super::passwords`]: a password variable
//! such an image reads only when it creates its data is a complete fix only while the data does
//! not exist.

use super::passwords::Kind;
use rempart_audit::host::FileKind;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::app::pyread::eval::dirname;
use rempart_audit::rules::containers::compose::{yaml, ComposeFile, Service};
use rempart_audit::rules::services::unit::parse_env;

/// The project name compose gives a file: `COMPOSE_PROJECT_NAME` from its `.env`, else the
/// top-level `name:`, else its directory's name; lowercased, keeping `a-z0-9_-`, leading `_`
/// and `-` dropped, as compose normalises it (`-p` on a command line cannot be seen).
fn project_name(
    ctx: &Ctx,
    f: &ComposeFile,
    root: &yaml::Node,
    dotenv: &str,
) -> Result<String, String> {
    let from_env = ctx.host.read_text(dotenv).ok().flatten().and_then(|t| {
        parse_env(&t.text)
            .into_iter()
            .find(|(k, _, _)| k == "COMPOSE_PROJECT_NAME")
            .map(|(_, v, _)| v)
    });
    let dir = dirname(&f.path);
    let raw = from_env
        .or_else(|| root.get("name").and_then(yaml::Node::scalar))
        .unwrap_or_else(|| dir.rsplit('/').next().unwrap_or("").to_string());
    if raw.contains('$') {
        return Err(format!(
            "the project name of {} comes from a variable",
            f.path
        ));
    }
    normalise_project(&raw).ok_or_else(|| format!("{} has no project name compose accepts", f.path))
}

/// A project name as compose normalises it: lowercased, only `a-z0-9_-` kept, leading `_`
/// and `-` dropped; `None` when nothing is left.
fn normalise_project(raw: &str) -> Option<String> {
    let name: String = raw
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
        .collect();
    let name = name.trim_start_matches(['_', '-']);
    (!name.is_empty()).then(|| name.to_string())
}

/// The host directory of named volume `name`: `DATA-ROOT/volumes/VOLUME/_data`.
fn named_volume_dir(
    ctx: &Ctx,
    f: &ComposeFile,
    dotenv: &str,
    name: &str,
) -> Result<String, String> {
    let root = yaml::parse(&f.text).map_err(|e| format!("{}: {e}", f.path))?;
    let decl = root
        .get("volumes")
        .and_then(|v| {
            v.map()
                .iter()
                .find(|(k, _)| k.scalar().as_deref() == Some(name))
        })
        .map(|(_, v)| v)
        .ok_or_else(|| {
            format!(
                "volume {name} is not declared at the top level of {}",
                f.path
            )
        })?;
    if decl.get("driver").is_some() || decl.get("driver_opts").is_some() {
        return Err(format!(
            "volume {name} has a driver or driver_opts: its data may live outside Docker's \
             volumes directory"
        ));
    }
    let external = decl.get("external").and_then(yaml::Node::scalar).as_deref() == Some("true");
    let volume = match decl.get("name").and_then(yaml::Node::scalar) {
        Some(n) if n.contains('$') => {
            return Err(format!("volume {name}'s name comes from a variable"));
        }
        Some(n) => n,
        None if external => name.to_string(),
        None => format!("{}_{name}", project_name(ctx, f, &root, dotenv)?),
    };
    Ok(format!(
        "{}/volumes/{volume}/_data",
        super::images::data_root(ctx).trim_end_matches('/')
    ))
}

/// A file named `marker` in `dir` or below it (at most `depth` levels down).
fn find_marker(ctx: &Ctx, dir: &str, marker: &str, depth: u32) -> Result<Option<String>, String> {
    let mut todo = vec![(dir.trim_end_matches('/').to_string(), 0)];
    let mut seen = 0usize;
    while let Some((d, level)) = todo.pop() {
        let names = ctx
            .host
            .read_dir(&d)
            .map_err(|e| format!("cannot read {d}: {e}"))?
            .unwrap_or_default();
        seen += names.len();
        if seen > 10_000 {
            return Err(format!("{dir} holds too many files to be read through"));
        }
        for n in names {
            let p = format!("{d}/{n}");
            if n == marker {
                return Ok(Some(p));
            }
            if level < depth {
                if let Ok(Some(m)) = ctx.host.symlink_metadata(&p) {
                    if m.kind == FileKind::Dir {
                        todo.push((p, level + 1));
                    }
                }
            }
        }
    }
    Ok(None)
}

/// Where a service's data will take a new password at the next `docker compose up -d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fresh {
    /// A data directory on the host that exists and holds nothing initialised yet.
    Dir(String),
    /// No volume at all, and an image that declares none: the data lives in the container's
    /// own layer, which the recreation the changed environment causes starts anew.
    ContainerLayer,
}

/// Grafana images from 5.1 on declare no VOLUME (the image was rewritten then and its implicit
/// volumes removed; today's Dockerfile has none); those before declared /var/lib/grafana one.
/// A tag that is no version (`latest`, a digest) is a current image.
fn grafana_declares_volume(s: &Service) -> bool {
    let Some(tag) = s.image_tag() else {
        return false;
    };
    let mut parts = tag.split(['.', '-']);
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts
        .next()
        .and_then(|p| p.parse::<u32>().ok())
        .unwrap_or(0);
    major.is_some_and(|m| (m, minor) < (5, 1))
}

/// The service's data on the host, when it holds nothing initialised yet (the image will read
/// the new value when it creates its data), or in the container's own layer (Grafana with no
/// volume: recreated empty); else why the new value would not reach the service.
pub(super) fn fresh_data(
    ctx: &Ctx,
    f: &ComposeFile,
    dotenv: &str,
    s: &Service,
    kind: Kind,
) -> Result<Fresh, String> {
    let (var, default, marker, depth, what, by_hand) = match kind {
        Kind::Postgres => (
            "PGDATA",
            "/var/lib/postgresql/data",
            "PG_VERSION",
            3,
            "the cluster",
            format!(
                "rotate it inside the container (`docker compose exec {} psql -U USER -c \
                 '\\password USER'`), then in the compose file or its .env and in every client",
                s.name
            ),
        ),
        _ => (
            "GF_PATHS_DATA",
            "/var/lib/grafana",
            "grafana.db",
            2,
            "grafana.db",
            format!(
                "reset it inside the container (`docker compose exec {} grafana cli admin \
                 reset-admin-password NEW`), then in the compose file or its .env",
                s.name
            ),
        ),
    };
    let want = s
        .env(var)
        .and_then(|e| e.value.clone())
        .unwrap_or_else(|| default.to_string());
    let want = want.trim_end_matches('/');
    let mount = s
        .volumes
        .iter()
        .filter(|v| {
            let t = v.target.trim_end_matches('/');
            !t.is_empty() && (want == t || want.starts_with(&format!("{t}/")))
        })
        .max_by_key(|v| v.target.len());
    let Some(mount) = mount else {
        if kind == Kind::Grafana && !grafana_declares_volume(s) {
            return Ok(Fresh::ContainerLayer);
        }
        return Err(format!(
            "{want} has no volume in the compose file: the image declares it a VOLUME, so an \
             anonymous volume keeps {what} across `docker compose up -d` and the variable only \
             seeded it; {by_hand}"
        ));
    };
    let dir = match mount.source.as_deref() {
        None => {
            return Err(format!(
                "{want} is an anonymous volume: {what} in it outlives the compose file's value; \
                 {by_hand}"
            ))
        }
        Some(src) if mount.is_bind() => src.to_string(),
        Some(name) => named_volume_dir(ctx, f, dotenv, name)
            .map_err(|e| format!("where {what} lives is unknown ({e}); {by_hand}"))?,
    };
    match ctx.host.metadata(&dir) {
        Ok(Some(m)) if m.kind == FileKind::Dir => {}
        _ => {
            return Err(format!(
                "{dir} (mounted on {}) is not a directory here, so whether {what} exists is \
                 unknown; {by_hand}",
                mount.target
            ))
        }
    }
    match find_marker(ctx, &dir, marker, depth) {
        Ok(None) => Ok(Fresh::Dir(dir)),
        Ok(Some(found)) => Err(format!(
            "{what} exists ({found}): the image read the variable once, when it created it; \
             {by_hand}"
        )),
        Err(e) => Err(format!("{e}; {by_hand}")),
    }
}

/// A MinIO release from before 2022 (`RELEASE.2021-...`) encrypts its configuration with the
/// root credentials: changing them needs `MINIO_ROOT_PASSWORD_OLD` for one start.
pub(super) fn minio_too_old(s: &Service) -> bool {
    s.image_tag()
        .and_then(|t| t.strip_prefix("RELEASE."))
        .and_then(|t| t.get(..4))
        .and_then(|y| y.parse::<u32>().ok())
        .is_some_and(|y| y < 2022)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_grafana_images_before_5_1_declare_a_volume() {
        let judge = |image: &str| {
            let text = format!("services:\n  grafana:\n    image: {image}\n");
            let f = rempart_audit::rules::containers::compose::parse(
                "/c.yml",
                &text,
                &|_| None,
                &|_| None,
            );
            grafana_declares_volume(&f.services[0])
        };
        assert!(judge("grafana/grafana:5.0.4"));
        assert!(judge("grafana/grafana:4.6.3"));
        assert!(!judge("grafana/grafana:5.1.0"));
        assert!(!judge("grafana/grafana:11.2.0-ubuntu"));
        assert!(!judge("grafana/grafana"));
        assert!(!judge("grafana/grafana:latest"));
        assert!(!judge("grafana/grafana@sha256:cde52402715d30e24fe5adb7660e552ac89ed90792c93a6016a39d9530052266"));
        assert!(!judge("registry.local:5000/grafana/grafana"));
    }

    #[test]
    fn project_names_are_normalised_as_compose_does() {
        assert_eq!(normalise_project("My.Shop").as_deref(), Some("myshop"));
        assert_eq!(normalise_project("koprogo").as_deref(), Some("koprogo"));
        assert_eq!(
            normalise_project("_-Shop_Prod-2").as_deref(),
            Some("shop_prod-2")
        );
        assert_eq!(normalise_project("été"), Some("t".to_string()));
        assert_eq!(normalise_project("..."), None);
    }

    proptest! {
        #[test]
        fn normalised_names_use_compose_characters_only(raw in "\\PC{0,30}") {
            if let Some(n) = normalise_project(&raw) {
                prop_assert!(n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'));
                prop_assert!(!n.starts_with(['_', '-']));
                prop_assert_eq!(normalise_project(&n), Some(n.clone()));
            }
        }
    }
}
