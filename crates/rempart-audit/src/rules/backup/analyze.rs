//! What a backup command or script does, read from its words: which database dumps it runs
//! (and of which databases, into which directory), whether the dump passes through an
//! encryption tool, and whether anything is copied off the host. Tools are recognised by the
//! base name of any word of a command, so wrappers (`sudo -u postgres`, `docker exec db`,
//! `nice`, `flock`) need no special knowledge; words that are themselves command lines
//! (`su -c "..."`, `sh -c '...'`) are read recursively.

use super::shell::{assignments, basename, commands, expand, Cmd};
use crate::rules::database::DbKind;

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub path: String,
    pub line: u32,
    pub text: String,
}

/// Which databases a dump covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every database of the server (`pg_dumpall`, `--all-databases`, physical backups).
    All,
    /// The databases named.
    Named(Vec<String>),
    /// One database the command line does not name (libpq/option-file defaults).
    Unknown,
}

impl Scope {
    pub fn covers(&self, db: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Named(n) => n.iter().any(|x| x == db),
            Scope::Unknown => false,
        }
    }
}

/// One dump command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    pub kind: DbKind,
    pub tool: String,
    pub scope: Scope,
    /// The directory the dump is written to, when the command says (variables expanded).
    pub output_dir: Option<String>,
    /// The file (or directory) the dump is written to, as the command names it (variables
    /// expanded, command substitutions such as `$(date +%F)` left as written).
    pub file: Option<String>,
    /// The dump passes through an encryption tool in its own pipeline, or is written to a
    /// `.gpg`/`.age`/`.enc` file, or the tool encrypts itself (restic, borg).
    pub encrypted: bool,
    pub place: Place,
}

/// A copy to another host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offsite {
    pub tool: String,
    /// The remote as written (`s3://bucket`, `backup@host:/srv`, `sftp:host:/repo`).
    pub remote: String,
    /// Local paths the command names (what it copies).
    pub sources: Vec<String>,
    pub place: Place,
}

/// An encryption step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypt {
    pub tool: String,
    pub place: Place,
}

/// A command deleting old backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prune {
    pub tool: String,
    /// The directory it prunes; `None` for a backup repository (`restic forget`, `borg prune`).
    pub dir: Option<String>,
    pub place: Place,
}

/// Everything found in one command line or script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    pub dumps: Vec<Dump>,
    pub encrypts: Vec<Encrypt>,
    pub offsite: Vec<Offsite>,
    pub prunes: Vec<Prune>,
    /// Absolute paths of words that may be scripts to follow.
    pub scripts: Vec<String>,
}

impl Analysis {
    pub fn merge(&mut self, other: Analysis) {
        self.dumps.extend(other.dumps);
        self.encrypts.extend(other.encrypts);
        self.offsite.extend(other.offsite);
        self.prunes.extend(other.prunes);
        self.scripts.extend(other.scripts);
    }
}

const PG_DUMPERS: &[&str] = &[
    "pg_dump",
    "pg_dumpall",
    "pg_basebackup",
    "pgbackrest",
    "barman",
    "barman-cloud-backup",
    "wal-g",
    "pg_probackup",
    "autopostgresqlbackup",
];
const MY_DUMPERS: &[&str] = &[
    "mysqldump",
    "mariadb-dump",
    "mariabackup",
    "mariadb-backup",
    "xtrabackup",
    "mydumper",
    "mysqlpump",
    "automysqlbackup",
];

/// Default output directories of the Debian backup packages.
fn default_output(tool: &str) -> Option<&'static str> {
    match tool {
        "automysqlbackup" => Some("/var/lib/automysqlbackup"),
        "autopostgresqlbackup" => Some("/var/lib/autopostgresqlbackup"),
        _ => None,
    }
}

/// How one place is shown: a crontab line for a one-liner, the script's own lines otherwise.
#[derive(Debug, Clone, Copy)]
pub enum Where<'a> {
    /// The whole text is one line of `path` (a crontab line, an `ExecStart=`).
    Line {
        path: &'a str,
        line: u32,
        text: &'a str,
    },
    /// The text is the file `path` itself.
    File { path: &'a str },
}

/// Analyse shell text. `vars` are the assignments known before it (cron environment lines,
/// systemd `Environment=`).
pub fn analyze(text: &str, at: Where, vars: &[(String, String)]) -> Analysis {
    analyze_depth(text, at, vars, 0)
}

fn analyze_depth(text: &str, at: Where, vars: &[(String, String)], depth: u32) -> Analysis {
    let cmds = commands(text);
    let lines: Vec<&str> = text.lines().collect();
    let place = |c: &Cmd| match at {
        Where::Line { path, line, text } => Place {
            path: path.to_string(),
            line,
            text: text.to_string(),
        },
        Where::File { path } => Place {
            path: path.to_string(),
            line: c.line,
            text: lines
                .get((c.line as usize).saturating_sub(1))
                .map_or_else(String::new, |l| l.to_string()),
        },
    };
    let mut vars: Vec<(String, String)> = vars.to_vec();
    let mut a = Analysis::default();
    for (ci, cmd) in cmds.iter().enumerate() {
        let assigned = assignments(cmd);
        let only_assignments =
            assigned.len() == cmd.argv.len() || cmd.argv.first().is_some_and(|w| w == "export");
        for (k, v) in assigned {
            let v = expand(&v, &vars);
            vars.push((k, v));
        }
        if only_assignments {
            continue;
        }
        let argv: Vec<String> = cmd.argv.iter().map(|w| expand(w, &vars)).collect();
        for (i, w) in argv.iter().enumerate() {
            let tool = basename(w);
            let args = &argv[i + 1..];
            if let Some(kind) = dumper_kind(tool) {
                let (scope, out) = dump_args(kind, tool, args);
                let pipeline_out = cmds[ci..]
                    .iter()
                    .take_while(|c| c.pipeline == cmd.pipeline)
                    .flat_map(|c| c.redirects.iter())
                    .filter(|(op, t)| {
                        matches!(op.as_str(), ">" | ">>" | ">|" | "&>") && t != "/dev/null"
                    })
                    .map(|(_, t)| expand(t, &vars))
                    .last();
                let file = out.clone().or(pipeline_out);
                let encrypted_pipe = cmds
                    .iter()
                    .filter(|c| c.pipeline == cmd.pipeline)
                    .any(|c| c.argv.iter().any(|w| encrypts(basename(w), &c.argv)));
                let encrypted_file = file.as_deref().is_some_and(|f| {
                    [".gpg", ".age", ".enc", ".asc", ".pgp"]
                        .iter()
                        .any(|e| f.ends_with(e))
                });
                let output_dir = match (&file, tool) {
                    (
                        Some(f),
                        "pg_basebackup" | "mariabackup" | "mariadb-backup" | "xtrabackup"
                        | "mydumper",
                    ) => Some(f.clone()),
                    (Some(f), _) => parent(f),
                    (None, t) => default_output(t).map(str::to_string),
                }
                .filter(|d| d.starts_with('/') && !d.contains('$') && !d.contains('`'));
                a.dumps.push(Dump {
                    kind,
                    tool: tool.to_string(),
                    scope,
                    output_dir,
                    file: file.clone(),
                    encrypted: encrypted_pipe || encrypted_file,
                    place: place(cmd),
                });
            }
            if encrypts(tool, &argv[i..]) {
                a.encrypts.push(Encrypt {
                    tool: tool.to_string(),
                    place: place(cmd),
                });
            }
            if let Some(dir) = prune(tool, args) {
                a.prunes.push(Prune {
                    tool: tool.to_string(),
                    dir,
                    place: place(cmd),
                });
            }
            if let Some(o) = offsite(tool, args, &vars) {
                a.offsite.push(Offsite {
                    place: place(cmd),
                    ..o
                });
            }
            if depth < 2 && (w.contains(' ') || w.contains('|')) && w.len() < 4096 {
                let inner_at = match at {
                    Where::Line { .. } => at,
                    Where::File { .. } => Where::Line {
                        path: match at {
                            Where::File { path } | Where::Line { path, .. } => path,
                        },
                        line: cmd.line,
                        text: lines
                            .get((cmd.line as usize).saturating_sub(1))
                            .copied()
                            .unwrap_or(""),
                    },
                };
                a.merge(analyze_depth(w, inner_at, &vars, depth + 1));
            }
            if w.starts_with('/') && dumper_kind(tool).is_none() && !w.contains(' ') {
                a.scripts.push(w.clone());
            }
        }
    }
    // A script that encrypts anywhere (`gpg --encrypt "$FILE"` after the dump) encrypts its dumps.
    if matches!(at, Where::File { .. }) && !a.encrypts.is_empty() {
        for d in &mut a.dumps {
            d.encrypted = true;
        }
    }
    a
}

fn parent(f: &str) -> Option<String> {
    let (d, _) = f.rsplit_once('/')?;
    Some(if d.is_empty() {
        "/".into()
    } else {
        d.to_string()
    })
}

fn dumper_kind(tool: &str) -> Option<DbKind> {
    if PG_DUMPERS.contains(&tool) {
        Some(DbKind::Postgres)
    } else if MY_DUMPERS.contains(&tool) {
        Some(DbKind::MariaDb)
    } else {
        None
    }
}

/// Options of a dump tool that take a separate value: `(short letters, long names)`.
fn value_options(tool: &str) -> (&'static str, &'static [&'static str]) {
    match tool {
        "pg_dump" => (
            "fFjnNtTZEUhpSd",
            &[
                "file",
                "format",
                "jobs",
                "schema",
                "exclude-schema",
                "table",
                "exclude-table",
                "compress",
                "encoding",
                "username",
                "host",
                "port",
                "role",
                "superuser",
                "lock-wait-timeout",
                "section",
                "exclude-table-data",
                "dbname",
                "filter",
                "rows-per-insert",
                "extra-float-digits",
                "table-and-children",
                "exclude-table-and-children",
                "exclude-extension",
                "extension",
            ],
        ),
        "mysqldump" | "mariadb-dump" => (
            "uhPSrwTX",
            &[
                "user",
                "host",
                "port",
                "socket",
                "result-file",
                "where",
                "tab",
                "default-character-set",
                "ignore-table",
                "ignore-database",
                "protocol",
                "defaults-file",
                "defaults-extra-file",
                "login-path",
            ],
        ),
        _ => ("", &[]),
    }
}

/// `(scope, output file or directory named by an option)`.
fn dump_args(kind: DbKind, tool: &str, args: &[String]) -> (Scope, Option<String>) {
    let (short, long) = value_options(tool);
    let mut positional = Vec::new();
    let mut opts: Vec<(String, String)> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(l) = a.strip_prefix("--") {
            match l.split_once('=') {
                Some((k, v)) => opts.push((k.to_string(), v.to_string())),
                None if long.contains(&l) => {
                    opts.push((l.to_string(), it.next().cloned().unwrap_or_default()))
                }
                None => flags.push(l.to_string()),
            }
        } else if let Some(s) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in s.char_indices() {
                if short.contains(c) {
                    let rest = &s[i + c.len_utf8()..];
                    let v = if rest.is_empty() {
                        it.next().cloned().unwrap_or_default()
                    } else {
                        rest.to_string()
                    };
                    opts.push((c.to_string(), v));
                    break;
                }
                flags.push(c.to_string());
                if c == 'p' && kind == DbKind::MariaDb {
                    // -pPASSWORD: the rest is the password.
                    break;
                }
            }
        } else {
            positional.push(a.clone());
        }
    }
    let opt = |names: &[&str]| {
        opts.iter()
            .rev()
            .find(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.clone())
    };
    let has = |names: &[&str]| flags.iter().any(|f| names.contains(&f.as_str()));
    match tool {
        "pg_dump" => {
            let db = opt(&["d", "dbname"]).or_else(|| positional.first().cloned());
            let scope = match db.as_deref().map(conninfo_dbname) {
                Some(Some(n)) => Scope::Named(vec![n]),
                _ => Scope::Unknown,
            };
            (scope, opt(&["f", "file"]))
        }
        "mysqldump" | "mariadb-dump" => {
            let scope = if has(&["A", "all-databases"]) {
                Scope::All
            } else if has(&["B", "databases"]) {
                Scope::Named(positional.clone())
            } else {
                positional
                    .first()
                    .map_or(Scope::Unknown, |d| Scope::Named(vec![d.clone()]))
            };
            (scope, opt(&["r", "result-file"]))
        }
        "pg_basebackup" => (
            Scope::All,
            opt(&["D", "pgdata"]).or_else(|| {
                args.iter()
                    .position(|a| a == "-D")
                    .and_then(|p| args.get(p + 1).cloned())
                    .or_else(|| {
                        args.iter().find_map(|a| {
                            a.strip_prefix("-D")
                                .filter(|v| !v.is_empty())
                                .map(str::to_string)
                        })
                    })
            }),
        ),
        "mariabackup" | "mariadb-backup" | "xtrabackup" => (
            Scope::All,
            opts.iter()
                .find(|(k, _)| k == "target-dir")
                .map(|(_, v)| v.clone()),
        ),
        "mydumper" => {
            let db = args
                .iter()
                .position(|a| a == "-B" || a == "--database")
                .and_then(|p| args.get(p + 1).cloned())
                .or_else(|| {
                    opts.iter()
                        .find(|(k, _)| k == "database")
                        .map(|(_, v)| v.clone())
                });
            let out = args
                .iter()
                .position(|a| a == "-o" || a == "--outputdir")
                .and_then(|p| args.get(p + 1).cloned())
                .or_else(|| {
                    opts.iter()
                        .find(|(k, _)| k == "outputdir")
                        .map(|(_, v)| v.clone())
                });
            (db.map_or(Scope::All, |d| Scope::Named(vec![d])), out)
        }
        _ => (Scope::All, None),
    }
}

/// The database a pg_dump `-d` value names: a plain name, `dbname=x` in a conninfo string, or
/// the path of a `postgresql://` URI.
fn conninfo_dbname(v: &str) -> Option<String> {
    if let Some(rest) = v
        .strip_prefix("postgresql://")
        .or_else(|| v.strip_prefix("postgres://"))
    {
        let path = rest.split_once('/')?.1;
        let name = path.split('?').next()?;
        return (!name.is_empty()).then(|| name.to_string());
    }
    if v.contains('=') {
        return v
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("dbname="))
            .map(|n| n.trim_matches('\'').to_string());
    }
    (!v.is_empty()).then(|| v.to_string())
}

/// The directory of a path that may end in a glob (`/backups/avmvp_*.sql.gz` -> `/backups`).
fn glob_dir(p: &str) -> Option<String> {
    if !p.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/').filter(|c| !c.is_empty()) {
        if c.contains(['*', '?', '[']) {
            break;
        }
        parts.push(c);
    }
    Some(format!("/{}", parts.join("/")))
}

/// When `tool` deletes old backups: `Some(Some(dir))` for a directory, `Some(None)` for a
/// backup repository.
fn prune(tool: &str, args: &[String]) -> Option<Option<String>> {
    let any = |xs: &[&str]| args.iter().any(|a| xs.contains(&a.as_str()));
    match tool {
        "find" => {
            let deletes = any(&["-delete"])
                || args
                    .windows(2)
                    .any(|w| w[0] == "-exec" && matches!(basename(&w[1]), "rm" | "shred"));
            let aged = any(&["-mtime", "-mmin", "-ctime", "-cmin", "-atime", "-newermt"]);
            if !(deletes && aged) {
                return None;
            }
            let dir = args
                .iter()
                .take_while(|a| !a.starts_with('-') && !matches!(a.as_str(), "(" | "!"))
                .find_map(|a| glob_dir(a))?;
            Some(Some(dir))
        }
        "tmpreaper" | "tmpwatch" => args.iter().rev().find_map(|a| glob_dir(a)).map(Some),
        "restic" => any(&["forget", "prune"]).then_some(None),
        "borg" => any(&["prune"]).then_some(None),
        "automysqlbackup" | "autopostgresqlbackup" => {
            default_output(tool).map(|d| Some(d.to_string()))
        }
        _ => None,
    }
}

/// True when `tool` (with its arguments `argv`, the tool word first) encrypts.
pub fn encrypts(tool: &str, argv: &[String]) -> bool {
    let args = argv.get(1..).unwrap_or(&[]);
    let any = |xs: &[&str]| args.iter().any(|a| xs.contains(&a.as_str()));
    match tool {
        "gpg" | "gpg2" => {
            any(&["-e", "--encrypt", "-c", "--symmetric", "--encrypt-files"])
                || args.iter().any(|a| {
                    !a.starts_with("--")
                        && a.starts_with('-')
                        && (a.contains('e') || a.contains('c'))
                        && !a.contains('d')
                })
        }
        "age" | "rage" | "ccrypt" => !any(&["-d", "--decrypt"]),
        "openssl" => {
            (any(&["enc"]) && !any(&["-d"]))
                || (any(&["smime", "cms", "pkeyutl"]) && any(&["-encrypt"]))
        }
        "restic" | "borg" | "kopia" | "gpg-zip" => true,
        "duplicity" => !any(&["--no-encryption"]),
        "7z" | "7za" | "7zz" => args.iter().any(|a| a.starts_with("-p")),
        "zip" => args.iter().any(|a| a == "-e" || a.starts_with("-P")),
        _ => false,
    }
}

/// `host:path` or `user@host:path` (not a local path, not an option, not a URL).
fn is_remote_spec(a: &str) -> bool {
    if a.starts_with('-') || a.starts_with('/') || a.starts_with('.') {
        return false;
    }
    match a.split_once(':') {
        Some((host, _)) => {
            !host.is_empty()
                && !host.contains('/')
                && host.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '[' | ']')
                })
        }
        None => false,
    }
}

fn local_sources(args: &[String]) -> Vec<String> {
    args.iter()
        .filter(|a| a.starts_with('/'))
        .map(|a| a.trim_end_matches('/').to_string())
        .collect()
}

/// An off-site copy made by `tool` with `args`, if it is one.
fn offsite(tool: &str, args: &[String], vars: &[(String, String)]) -> Option<Offsite> {
    let found = |remote: &str| {
        Some(Offsite {
            tool: tool.to_string(),
            remote: remote.to_string(),
            sources: local_sources(args),
            place: Place {
                path: String::new(),
                line: 0,
                text: String::new(),
            },
        })
    };
    let var = |n: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let url = |prefixes: &[&str]| {
        args.iter()
            .find(|a| prefixes.iter().any(|p| a.starts_with(p)))
            .cloned()
    };
    match tool {
        "rclone" => {
            let sub = args.iter().find(|a| !a.starts_with('-'))?;
            if !matches!(
                sub.as_str(),
                "copy" | "sync" | "move" | "copyto" | "moveto" | "rcat"
            ) {
                return None;
            }
            let remote = args.iter().skip(1).find(|a| is_remote_spec(a))?;
            found(remote)
        }
        "s3cmd" => found(&url(&["s3://"])?),
        "aws" => {
            if !args.iter().any(|a| a == "s3" || a == "s3api") {
                return None;
            }
            found(&url(&["s3://"]).unwrap_or_else(|| "s3".into()))
        }
        "gsutil" => found(&url(&["gs://"])?),
        "azcopy" => found(&url(&["https://"])?),
        "b2" => found(&url(&["b2://"]).unwrap_or_else(|| "b2".into())),
        "mc" => {
            let sub = args.iter().find(|a| !a.starts_with('-'))?;
            if !matches!(sub.as_str(), "cp" | "mirror" | "mv") {
                return None;
            }
            let remote = args
                .iter()
                .skip(1)
                .find(|a| !a.starts_with('-') && !a.starts_with('/') && a.contains('/'))?;
            found(remote)
        }
        "rsync" | "scp" | "sftp" => {
            let remote = args
                .iter()
                .find(|a| a.starts_with("rsync://") || is_remote_spec(a))?;
            found(remote)
        }
        "restic" => {
            let repo = args
                .iter()
                .position(|a| a == "-r" || a == "--repo")
                .and_then(|p| args.get(p + 1).cloned())
                .or_else(|| {
                    args.iter()
                        .find_map(|a| a.strip_prefix("--repo=").map(str::to_string))
                })
                .or_else(|| var("RESTIC_REPOSITORY").map(str::to_string))?;
            let remote = [
                "sftp:", "s3:", "rest:", "b2:", "azure:", "gs:", "swift:", "rclone:",
            ]
            .iter()
            .any(|p| repo.starts_with(p));
            if remote {
                found(&repo)
            } else {
                None
            }
        }
        "borg" => {
            let repo = args
                .iter()
                .find_map(|a| a.split_once("::").map(|(r, _)| r.to_string()))
                .filter(|r| !r.is_empty())
                .or_else(|| var("BORG_REPO").map(str::to_string))?;
            if repo.starts_with("ssh://") || is_remote_spec(&repo) {
                found(&repo)
            } else {
                None
            }
        }
        "duplicity" => {
            let remote = args
                .iter()
                .find(|a| a.contains("://") && !a.starts_with("file://"))?;
            found(remote)
        }
        "lftp" | "ncftpput" => found(args.iter().find(|a| !a.starts_with('-'))?),
        "curl" => {
            if !args
                .iter()
                .any(|a| a == "-T" || a.starts_with("--upload-file") || a.starts_with("-T"))
            {
                return None;
            }
            found(&url(&[
                "ftp://", "ftps://", "sftp://", "https://", "http://", "scp://",
            ])?)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(cmd: &str) -> Analysis {
        analyze(
            cmd,
            Where::Line {
                path: "/etc/crontab",
                line: 3,
                text: cmd,
            },
            &[],
        )
    }

    #[test]
    fn seed_000_cron_line() {
        let a = line("/usr/bin/pg_dump -U avmvp_user avmvp_db | gzip > /backups/avmvp_$(date +%Y%m%d).sql.gz");
        let d = &a.dumps[0];
        assert_eq!(d.kind, DbKind::Postgres);
        assert_eq!(d.scope, Scope::Named(vec!["avmvp_db".into()]));
        assert_eq!(d.output_dir.as_deref(), Some("/backups"));
        assert!(!d.encrypted);
        assert!(a.offsite.is_empty());
        assert_eq!(d.place.line, 3);
    }

    #[test]
    fn seed_002_script() {
        let script = "#!/bin/bash\nOUT=/root/backups\nmkdir -p $OUT\nmysqldump -u DB_USER -p'MDPP' DB_NAME > $OUT/db-$(date +%F).sql\ntar -czf $OUT/media-$(date +%F).tar.gz /path/to/media\n# Optionnel : chiffrer avec gpg et envoyer hors-site\n";
        let a = analyze(
            script,
            Where::File {
                path: "/root/backups/script_sauvegarde.sh",
            },
            &[],
        );
        let d = &a.dumps[0];
        assert_eq!(d.scope, Scope::Named(vec!["DB_NAME".into()]));
        assert_eq!(d.output_dir.as_deref(), Some("/root/backups"));
        assert_eq!((d.place.line, d.encrypted), (4, false));
        assert!(
            a.encrypts.is_empty(),
            "a comment naming gpg is not encryption"
        );
    }

    #[test]
    fn encrypted_and_offsite_pipelines() {
        let a = line("su - postgres -c 'pg_dumpall' | gzip -9 | gpg --batch -e -r backup@koprogo.local > /var/backups/all.sql.gz.gpg && s3cmd put /var/backups/all.sql.gz.gpg s3://koprogo-backups/");
        assert_eq!(a.dumps[0].scope, Scope::All);
        assert!(a.dumps[0].encrypted);
        assert_eq!(a.offsite[0].remote, "s3://koprogo-backups/");
        assert_eq!(a.offsite[0].sources, ["/var/backups/all.sql.gz.gpg"]);
        let r = line("mariadb-dump --all-databases --single-transaction | restic -r sftp:backup@nas:/srv/restic backup --stdin");
        assert!(r.dumps[0].encrypted);
        assert_eq!(r.offsite[0].tool, "restic");
        let local = line("pg_dump app | restic -r /srv/restic backup --stdin");
        assert!(local.offsite.is_empty());
        let b = analyze(
            "borg create ::db-{now} /var/backups/db",
            Where::Line {
                path: "/x",
                line: 1,
                text: "",
            },
            &[("BORG_REPO".into(), "backup@host:repo".into())],
        );
        assert_eq!(b.offsite[0].remote, "backup@host:repo");
        let rs = line("rsync -a /var/backups/ /mnt/usb/");
        assert!(rs.offsite.is_empty());
        let rs = line("rsync -az -e ssh /var/backups/ backup@10.0.0.9:/srv/backups/");
        assert_eq!(rs.offsite[0].sources, ["/var/backups"]);
    }

    #[test]
    fn dump_options() {
        let a =
            line("docker exec koprogo-postgres pg_dump -U koprogo -Fc -f /dumps/k.dump koprogo_db");
        assert_eq!(a.dumps[0].scope, Scope::Named(vec!["koprogo_db".into()]));
        assert_eq!(a.dumps[0].output_dir.as_deref(), Some("/dumps"));
        let a = line("pg_dump --dbname=postgresql://u@localhost:5432/shop -f /b/shop.sql");
        assert_eq!(a.dumps[0].scope, Scope::Named(vec!["shop".into()]));
        let a = line("mysqldump -uroot -psecret --databases a b -r /b/x.sql");
        assert_eq!(a.dumps[0].scope, Scope::Named(vec!["a".into(), "b".into()]));
        assert_eq!(a.dumps[0].output_dir.as_deref(), Some("/b"));
        let a = line("pg_dump > /b/x.sql");
        assert_eq!(a.dumps[0].scope, Scope::Unknown);
        let a = line("automysqlbackup");
        assert_eq!(
            a.dumps[0].output_dir.as_deref(),
            Some("/var/lib/automysqlbackup")
        );
        assert!(!line("gpg --decrypt x.gpg")
            .encrypts
            .iter()
            .any(|e| e.tool == "gpg"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = line(&s);
            let _ = analyze(&s, Where::File { path: "/s" }, &[]);
        }

        #[test]
        fn pg_dump_names_its_database(db in "[a-z_][a-z0-9_]{0,12}", user in "[a-z]{1,8}") {
            let a = line(&format!("pg_dump -U {user} -h localhost {db} | gzip > /backups/{db}.sql.gz"));
            prop_assert_eq!(&a.dumps[0].scope, &Scope::Named(vec![db.clone()]));
            prop_assert_eq!(a.dumps[0].output_dir.as_deref(), Some("/backups"));
        }
    }
}
