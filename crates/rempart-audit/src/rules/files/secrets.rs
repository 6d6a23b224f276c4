//! FILE-SECRETS-PERMS: files holding secrets are private to root or the service that uses them.

use super::crypttab::{self, CRYPTTAB};
use super::describe;
use super::scan::{FileScan, SecretKind};
use crate::host::{FileKind, HostError, Meta};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::accounts::AccountDb;

pub const RULE: Rule = Rule {
    id: "FILE-SECRETS-PERMS",
    name: "secrets-readable",
    family: Family::Files,
    severity: Severity::High,
    level: Level::Dev,
    title: "Secret files are readable only by root or their service",
    doc: RuleDoc {
        what: "Finds secret files: `.env` and `.env.*` files (not `.example`/`.sample`/...) and \
               `acme.json` under /etc and the application directories, private keys (`*.key`, \
               `*.pem` whose content holds a PRIVATE KEY block, vendored directories such as \
               node_modules excepted), key files named in /etc/crypttab, files in \
               /etc/ssl/private, Let's Encrypt `privkey*.pem` (live links followed, archive \
               copies too), and Traefik's acme.json in /etc/traefik and /opt/*. Each must grant \
               nothing to group or others (0600 or 0400) — group read for the `ssl-cert` group \
               in /etc/ssl/private is Debian's design and allowed — and be owned by root or a \
               service account (uid below UID_MIN, or the owner of the application directory); \
               crypttab keys must be owned by root.",
        why: "These files are the keys to everything else: database passwords, session signing \
              keys, the TLS identity of the site, the disk encryption key. Readable by any local \
              account, one compromised service or user reads them all; owned by a login user, \
              that user's mistakes expose them.",
        remediation: "chmod 600 FILE && chown SERVICE:SERVICE FILE (root:root for crypttab keys \
                      and /etc/letsencrypt), as seed 000 does for the backend's .env (600, \
                      avmvp:avmvp). Traefik refuses an acme.json that is not 600.",
        verify: "stat -c '%a %U:%G %n' FILE; find /opt/APP -name '.env*' -perm /077",
        references: &[
            "seed 000 §6 Gestion des secrets (.env mode 600, owner avmvp:avmvp)",
            "seed 001 §1 Encryption at Rest (key file /root/.koprogo-luks-key in /etc/crypttab)",
            "man crypttab(5); Traefik ACME storage documentation (acme.json must be 600)",
        ],
    },
    check,
};

const LETSENCRYPT: &[&str] = &[
    "/etc/letsencrypt/live/*/privkey.pem",
    "/etc/letsencrypt/archive/*/privkey*.pem",
];
const ACME: &[&str] = &[
    "/etc/traefik/acme.json",
    "/etc/traefik/*/acme.json",
    "/opt/*/acme.json",
    "/opt/*/*/acme.json",
];
const SSL_PRIVATE: &str = "/etc/ssl/private";
/// Debian's group for programs that read TLS keys in /etc/ssl/private.
const SSL_CERT_GROUP: &str = "ssl-cert";
const PEM_PRIVATE: &[u8] = b"PRIVATE KEY-----";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Env,
    Acme,
    TlsKey,
    CrypttabKey,
    AppKey,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Env => "environment file",
            Kind::Acme => "ACME store",
            Kind::TlsKey => "TLS private key",
            Kind::CrypttabKey => "disk encryption key",
            Kind::AppKey => "private key",
        }
    }
}

struct Candidate {
    path: String,
    kind: Kind,
    /// Where the file is named (its crypttab line).
    origin: Option<Evidence>,
}

fn check(ctx: &Ctx) -> Outcome {
    let db = ctx.fact::<AccountDb>();
    let scan = ctx.fact::<FileScan>();
    let mut errors: Vec<HostError> = Vec::new();
    let candidates = candidates(ctx, &scan, &mut errors);

    let mut bad = Vec::new();
    let mut good = Vec::new();
    for c in &candidates {
        let meta = match ctx.host.metadata(&c.path) {
            Ok(Some(m)) if m.kind == FileKind::File => m,
            Ok(_) => continue,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut problems = Vec::new();
        if !access_ok(&db, c, &meta) {
            problems.push("readable or writable by group or others");
        }
        if !owner_ok(&db, &scan, c, &meta) {
            problems.push(if c.kind == Kind::CrypttabKey {
                "not owned by root"
            } else {
                "owned by a login user or an unknown uid"
            });
        }
        let ev = Evidence::file(c.path.as_str())
            .key(c.kind.label())
            .actual(describe(&db, &meta));
        if problems.is_empty() {
            good.push(ev);
        } else {
            bad.push(
                ev.expected(if c.kind == Kind::CrypttabKey {
                    "0600 or 0400, owner root"
                } else {
                    "0600 or 0400, owner root or the service account"
                })
                .note(problems.join("; ")),
            );
            bad.extend(c.origin.clone());
        }
    }
    if !bad.is_empty() {
        let n = bad.iter().filter(|e| e.expected.is_some()).count();
        return Outcome::fail(format!("{n} secret files are not private")).with_all(bad);
    }
    if let Some(e) = errors.into_iter().next() {
        return Outcome::from(e);
    }
    if good.is_empty() {
        return Outcome::pass(
            "no secret file found (.env, acme.json, private keys, crypttab keys)",
        );
    }
    Outcome::pass(format!("{} secret files are private", good.len())).with_all(good)
}

/// A secret file the rule finds exposed, as the fix needs it: which test it fails.
#[derive(Debug, Clone)]
pub struct Exposed {
    pub path: String,
    /// A key file named in /etc/crypttab (must be owned by root).
    pub crypttab_key: bool,
    /// Group or others have access.
    pub access: bool,
    /// Owned by a login user or an unknown uid.
    pub owner: bool,
    pub meta: Meta,
}

/// The secret files this rule fails, judged as [`RULE`] judges them, and the read errors.
pub fn exposed(ctx: &Ctx) -> (Vec<Exposed>, Vec<HostError>) {
    let db = ctx.fact::<AccountDb>();
    let scan = ctx.fact::<FileScan>();
    let mut errors: Vec<HostError> = Vec::new();
    let mut out = Vec::new();
    for c in candidates(ctx, &scan, &mut errors) {
        let meta = match ctx.host.metadata(&c.path) {
            Ok(Some(m)) if m.kind == FileKind::File => m,
            Ok(_) => continue,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let access = !access_ok(&db, &c, &meta);
        let owner = !owner_ok(&db, &scan, &c, &meta);
        if access || owner {
            out.push(Exposed {
                path: c.path,
                crypttab_key: c.kind == Kind::CrypttabKey,
                access,
                owner,
                meta,
            });
        }
    }
    (out, errors)
}

fn candidates(ctx: &Ctx, scan: &FileScan, errors: &mut Vec<HostError>) -> Vec<Candidate> {
    let host = ctx.host;
    let mut out: Vec<Candidate> = Vec::new();
    let push = |out: &mut Vec<Candidate>, path: String, kind: Kind, origin: Option<Evidence>| {
        if !out.iter().any(|c| c.path == path) {
            out.push(Candidate { path, kind, origin });
        }
    };
    match host.read_text(CRYPTTAB) {
        Ok(Some(f)) => {
            for v in crypttab::parse(&f.text).volumes {
                if let Some(key) = v.key_file() {
                    let origin = Evidence::file(CRYPTTAB)
                        .line(v.line)
                        .snippet(v.text.as_str())
                        .key(v.name.as_str())
                        .note("the key file of this volume");
                    push(&mut out, key.to_string(), Kind::CrypttabKey, Some(origin));
                }
            }
        }
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    match host.read_dir(SSL_PRIVATE) {
        Ok(Some(names)) => {
            for n in names {
                push(&mut out, format!("{SSL_PRIVATE}/{n}"), Kind::TlsKey, None);
            }
        }
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    for (patterns, kind) in [(LETSENCRYPT, Kind::TlsKey), (ACME, Kind::Acme)] {
        for pattern in patterns {
            match host.glob(pattern) {
                Ok(paths) => paths
                    .into_iter()
                    .for_each(|p| push(&mut out, p, kind, None)),
                Err(e) => errors.push(e),
            }
        }
    }
    for root in &scan.roots {
        for (entry, kind) in &root.secrets {
            let kind = match kind {
                SecretKind::EnvFile => Kind::Env,
                SecretKind::AcmeJson => Kind::Acme,
                SecretKind::KeyCandidate => match host.read(&entry.path) {
                    Ok(Some(bytes)) if memchr::memmem::find(&bytes, PEM_PRIVATE).is_some() => {
                        Kind::AppKey
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
            };
            push(&mut out, entry.path.clone(), kind, None);
        }
    }
    out
}

fn access_ok(db: &AccountDb, c: &Candidate, meta: &Meta) -> bool {
    if meta.mode & 0o077 == 0 {
        return true;
    }
    // Debian: /etc/ssl/private is 0710 root:ssl-cert and keys 0640 root:ssl-cert.
    c.path.starts_with("/etc/ssl/private/")
        && meta.mode & 0o037 == 0
        && db
            .users
            .group_by_gid(meta.gid)
            .is_some_and(|g| g.name == SSL_CERT_GROUP)
}

fn owner_ok(db: &AccountDb, scan: &FileScan, c: &Candidate, meta: &Meta) -> bool {
    if meta.uid == 0 {
        return true;
    }
    if c.kind == Kind::CrypttabKey {
        return false;
    }
    let service_account =
        meta.uid < db.uid_min && meta.uid != 65534 && db.users.user_by_uid(meta.uid).is_some();
    let app_owner = scan
        .root_of(&c.path)
        .is_some_and(|r| r.is_app && r.owner_uid == Some(meta.uid));
    service_account || app_owner
}
