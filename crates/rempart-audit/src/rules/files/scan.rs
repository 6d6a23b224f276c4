//! One bounded walk of `/etc` and of each application directory, shared by the rules of the
//! family: world-writable entries and secret-looking files are collected in the same pass, the
//! roots are walked in parallel, and symbolic links are never followed.

use super::app_dirs;
use crate::host::{FileKind, HostError, WalkEntry};
use crate::rule::{Ctx, Fact};
use rayon::prelude::*;

/// Entries walked at most under `/etc` (a Debian server has a few thousand).
pub const ETC_LIMIT: usize = 50_000;
/// Entries walked at most under each application directory.
pub const APP_LIMIT: usize = 200_000;

/// Template files that hold no secret.
const ENV_TEMPLATES: &[&str] = &[
    ".example",
    ".sample",
    ".template",
    ".dist",
    ".defaults",
    ".tpl",
    ".in",
];

/// Directories whose key-looking files are vendored test material, not the host's keys.
const VENDORED: &[&str] = &[
    "/node_modules/",
    "/.git/",
    "/site-packages/",
    "/dist-packages/",
    "/vendor/",
];

/// What a secret-looking file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// `.env`, `.env.production` ...
    EnvFile,
    /// Traefik's ACME store (certificates and their private keys).
    AcmeJson,
    /// A `*.key` or `*.pem` file: a private key if its content says so.
    KeyCandidate,
}

/// The walk of one root.
#[derive(Debug, Clone)]
pub struct ScannedRoot {
    pub root: String,
    /// An application directory (not `/etc`).
    pub is_app: bool,
    /// Owner of the root directory itself (the application's user, for an app directory).
    pub owner_uid: Option<u32>,
    pub exists: bool,
    pub world_writable: Vec<WalkEntry>,
    pub secrets: Vec<(WalkEntry, SecretKind)>,
    pub errors: Vec<HostError>,
    /// False when the walk stopped at its bound.
    pub complete: bool,
    pub entries: usize,
}

/// The walks of `/etc` and of the application directories.
#[derive(Debug, Clone, Default)]
pub struct FileScan {
    pub roots: Vec<ScannedRoot>,
}

impl FileScan {
    /// The scanned root a host path belongs to.
    pub fn root_of(&self, path: &str) -> Option<&ScannedRoot> {
        self.roots
            .iter()
            .filter(|r| within(path, &r.root))
            .max_by_key(|r| r.root.len())
    }
}

impl Fact for FileScan {
    fn collect(ctx: &Ctx) -> FileScan {
        let mut roots: Vec<(String, bool)> = vec![("/etc".to_string(), false)];
        for dir in app_dirs(ctx) {
            if !roots.iter().any(|(r, _)| within(&dir, r)) {
                roots.push((dir, true));
            }
        }
        let roots = roots
            .into_par_iter()
            .map(|(root, is_app)| {
                let limit = if is_app { APP_LIMIT } else { ETC_LIMIT };
                walk(ctx, root, is_app, limit)
            })
            .collect();
        FileScan { roots }
    }
}

fn walk(ctx: &Ctx, root: String, is_app: bool, limit: usize) -> ScannedRoot {
    let meta = ctx.host.metadata(&root);
    let mut out = ScannedRoot {
        exists: matches!(meta, Ok(Some(_))),
        owner_uid: meta.ok().flatten().map(|m| m.uid),
        root,
        is_app,
        world_writable: Vec::new(),
        secrets: Vec::new(),
        errors: Vec::new(),
        complete: true,
        entries: 0,
    };
    if !out.exists {
        return out;
    }
    let mut ww = Vec::new();
    let mut secrets = Vec::new();
    let mut errors = Vec::new();
    let mut entries = 0usize;
    let complete = ctx.host.walk(
        &out.root,
        limit,
        &mut |e| {
            entries += 1;
            if matches!(e.meta.kind, FileKind::File | FileKind::Dir) && e.meta.world_writable() {
                ww.push(e.clone());
            }
            if matches!(e.meta.kind, FileKind::File | FileKind::Symlink) {
                if let Some(kind) = secret_kind(&e.path, e.meta.kind) {
                    secrets.push((e.clone(), kind));
                }
            }
        },
        &mut |err| errors.push(err),
    );
    out.world_writable = ww;
    out.secrets = secrets;
    out.errors = errors;
    out.complete = complete;
    out.entries = entries;
    out
}

/// What a file name says about its content.
pub fn secret_kind(path: &str, kind: FileKind) -> Option<SecretKind> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == ".env"
        || (name.starts_with(".env.") && !ENV_TEMPLATES.iter().any(|t| name.ends_with(t)))
    {
        return Some(SecretKind::EnvFile);
    }
    if name == "acme.json" {
        return Some(SecretKind::AcmeJson);
    }
    let keyish = name.ends_with(".key") || name.ends_with(".pem");
    let vendored = VENDORED.iter().any(|v| path.contains(v));
    let public_store = path.starts_with("/etc/ssl/certs/") || path.starts_with("/etc/apt/");
    (keyish && kind == FileKind::File && !vendored && !public_store)
        .then_some(SecretKind::KeyCandidate)
}

/// `path` is `root` or below it.
pub fn within(path: &str, root: &str) -> bool {
    let root = root.trim_end_matches('/');
    root.is_empty() || path == root || path.starts_with(&format!("{root}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_look_secret() {
        let f = FileKind::File;
        assert_eq!(
            secret_kind("/opt/app/backend/.env", f),
            Some(SecretKind::EnvFile)
        );
        assert_eq!(
            secret_kind("/opt/app/.env.production", f),
            Some(SecretKind::EnvFile)
        );
        assert_eq!(secret_kind("/opt/app/.env.example", f), None);
        assert_eq!(
            secret_kind("/opt/traefik/letsencrypt/acme.json", f),
            Some(SecretKind::AcmeJson)
        );
        assert_eq!(
            secret_kind("/opt/app/certs/server.key", f),
            Some(SecretKind::KeyCandidate)
        );
        assert_eq!(secret_kind("/opt/app/node_modules/x/test/key.pem", f), None);
        assert_eq!(secret_kind("/etc/ssl/certs/ca.pem", f), None);
        assert_eq!(secret_kind("/opt/app/server.key", FileKind::Symlink), None);
    }

    #[test]
    fn within_respects_component_boundaries() {
        assert!(within("/etc/ssl", "/etc"));
        assert!(within("/etc", "/etc/"));
        assert!(!within("/etcetera", "/etc"));
        assert!(within("/anything", "/"));
    }
}
