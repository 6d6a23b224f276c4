//! Live queries of the local database servers, for the checks `mysql_secure_installation` makes
//! and their PostgreSQL equivalent. Only on a live host, only when the server's Unix socket
//! exists (or the user configured a DSN / an option file in `rempart.toml`'s `[database]`).
//!
//! Design: rempart runs the server's own command-line client (`psql`, `mariadb`) rather than
//! linking a driver. The clients are installed with the servers, speak every authentication
//! method the server is configured for (peer, unix_socket, SCRAM, GSSAPI), and cost no build
//! time; one client run per server answers every query (about 15 ms measured). PostgreSQL's
//! `peer` authentication maps the OS user to the role, so `psql` runs with the uid and gid of the
//! socket's owner (the server's account, normally `postgres`), never as root. MariaDB's root
//! account authenticates root over the socket (`unix_socket`). A missing socket costs one
//! `stat`. Each client run is bounded by a connect timeout and a hard deadline after which it is
//! killed.
//!
//! The client binaries are those of the machine running rempart (`/usr/lib/postgresql/*/bin/psql`,
//! `/usr/bin/mariadb`); the socket path is a host path, resolved through [`Host`], so a root tree
//! with live facts (tests) is queried through the sockets inside it.

use super::servers::{DbKind, DbServer};
use super::Databases;
use crate::config::AuditConfig;
use crate::host::{FileKind, Host};
use crate::rule::{Ctx, Fact};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Seconds a client may take to connect.
pub const CONNECT_TIMEOUT_S: u32 = 3;
/// A client still running after this is killed.
pub const DEADLINE: Duration = Duration::from_secs(6);

/// A PostgreSQL role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgRole {
    pub name: String,
    pub superuser: bool,
    pub createrole: bool,
    pub createdb: bool,
    pub bypassrls: bool,
    pub replication: bool,
    pub can_login: bool,
    pub oid: u32,
}

/// What a PostgreSQL cluster answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PgLive {
    pub version: String,
    /// How rempart connected (`socket /var/run/postgresql as postgres`, `configured DSN`).
    pub via: String,
    pub roles: Vec<PgRole>,
    /// Databases accepting connections, templates left out.
    pub databases: Vec<String>,
}

/// A MariaDB/MySQL account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyUser {
    pub user: String,
    pub host: String,
    pub plugin: String,
    /// No password hash and a password plugin: anyone may log in as this account.
    pub empty_password: bool,
    pub locked: bool,
    pub is_role: bool,
}

impl MyUser {
    /// `'user'@'host'`.
    pub fn account(&self) -> String {
        format!("'{}'@'{}'", self.user, self.host)
    }
}

/// A privilege granted to an account, globally (`schema` None) or on a schema pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyPrivilege {
    pub user: String,
    pub host: String,
    pub schema: Option<String>,
    pub privilege: String,
    pub grantable: bool,
}

/// What a MariaDB/MySQL server answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MyLive {
    pub version: String,
    pub via: String,
    pub users: Vec<MyUser>,
    pub privileges: Vec<MyPrivilege>,
    pub databases: Vec<String>,
    /// `(schema pattern, user, host)` rows of `mysql.db` (schema-level grants).
    pub db_grants: Vec<(String, String, String)>,
}

/// The outcome of trying one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveServer {
    /// The host is a root tree: nothing was tried.
    NotLive,
    /// No socket and no configured access: the server is not running here.
    NotRunning(String),
    /// The server could not be queried (client missing, refused, timed out).
    Failed(String),
    Postgres(PgLive),
    MariaDb(MyLive),
}

/// The live state of every server of [`Databases`], in the same order.
#[derive(Debug, Clone, Default)]
pub struct LiveDatabases {
    pub servers: Vec<LiveServer>,
}

impl Fact for LiveDatabases {
    fn collect(ctx: &Ctx) -> LiveDatabases {
        let dbs = ctx.fact::<Databases>();
        LiveDatabases::query(ctx.host, ctx.config, &dbs)
    }
}

impl LiveDatabases {
    /// Query every server of `dbs` (nothing on a root tree).
    pub fn query(host: &Host, config: &AuditConfig, dbs: &Databases) -> LiveDatabases {
        let pg_count = dbs.of_kind(DbKind::Postgres).count();
        let servers = dbs
            .servers
            .iter()
            .map(|s| {
                if !host.is_live() {
                    return LiveServer::NotLive;
                }
                match s.kind {
                    DbKind::Postgres => query_postgres(host, config, s, pg_count),
                    DbKind::MariaDb => query_mariadb(host, config, s),
                }
            })
            .collect();
        LiveDatabases { servers }
    }

    /// The application databases a running server reports (templates, `postgres` and the MariaDB
    /// system schemas left out); `None` when the server was not queried.
    pub fn database_names(&self, dbs: &Databases, server: &DbServer) -> Option<Vec<String>> {
        const SYSTEM: &[&str] = &[
            "postgres",
            "information_schema",
            "performance_schema",
            "mysql",
            "sys",
        ];
        let names = match self.of(dbs, server) {
            LiveServer::Postgres(pg) => &pg.databases,
            LiveServer::MariaDb(my) => &my.databases,
            _ => return None,
        };
        Some(
            names
                .iter()
                .filter(|n| !SYSTEM.contains(&n.as_str()))
                .cloned()
                .collect(),
        )
    }

    /// The live state of `server` (which must come from the same [`Databases`]).
    pub fn of<'a>(&'a self, dbs: &Databases, server: &DbServer) -> &'a LiveServer {
        static NOT_LIVE: LiveServer = LiveServer::NotLive;
        dbs.servers
            .iter()
            .position(|s| std::ptr::eq(s, server))
            .and_then(|i| self.servers.get(i))
            .unwrap_or(&NOT_LIVE)
    }
}

/// The real path of a socket named by a host path, if a socket is there.
fn live_socket(host: &Host, path: &str) -> Option<(PathBuf, u32, u32)> {
    let meta = host.metadata(path).ok().flatten()?;
    if meta.kind != FileKind::Socket {
        return None;
    }
    Some((host.resolve(path).ok()?, meta.uid, meta.gid))
}

/// Points a `psql` command at the server listening on the socket `sock` (a host path), run as
/// the socket's owner so `peer` authentication makes it the superuser (the server's account,
/// never root). Returns that uid, or `None` when no server listens there.
fn over_socket(host: &Host, cmd: &mut Command, sock: &str, port: u16) -> Option<u32> {
    let (real, uid, gid) = live_socket(host, sock)?;
    let dir = real.parent().unwrap_or(Path::new("/"));
    cmd.arg("-h")
        .arg(dir)
        .args(["-p", &port.to_string(), "-d", "postgres"]);
    for v in [
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGSERVICE",
        "PGPASSFILE",
    ] {
        cmd.env_remove(v);
    }
    if is_root() {
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(gid).current_dir("/");
    }
    Some(uid)
}

/// A `psql` command (no `.psqlrc`, unaligned, tuples only, stop at the first error, no
/// password prompt) connected as the superuser to the PostgreSQL server on socket `sock`, for
/// harden's live changes; `Err` when psql is missing or no server listens there.
pub fn superuser_psql(host: &Host, sock: &str, port: u16) -> Result<Command, String> {
    let psql = psql_binary().ok_or("psql is not installed on this machine")?;
    let mut cmd = Command::new(psql);
    cmd.args(["-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1"]);
    over_socket(host, &mut cmd, sock, port)
        .ok_or_else(|| format!("no PostgreSQL server listens on {sock}"))?;
    cmd.env("PGCONNECT_TIMEOUT", CONNECT_TIMEOUT_S.to_string());
    Ok(cmd)
}

fn psql_binary() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin/psql");
            p.is_file().then_some((v, p))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, p)| p)
        .or_else(|| Some(PathBuf::from("/usr/bin/psql")).filter(|p| p.is_file()))
}

fn mariadb_binary() -> Option<PathBuf> {
    ["/usr/bin/mariadb", "/usr/bin/mysql"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The DSN's port (`port=5433` or `host:5433/`), if it names one.
fn dsn_port(dsn: &str) -> Option<u16> {
    if let Some(p) = dsn.split_whitespace().find_map(|w| w.strip_prefix("port=")) {
        return p.parse().ok();
    }
    let rest = dsn.split_once("://")?.1;
    let hostport = rest.split(['/', '?']).next()?;
    let hostport = hostport.rsplit_once('@').map_or(hostport, |(_, h)| h);
    hostport.rsplit_once(':')?.1.parse().ok()
}

const PG_QUERIES: &[&str] = &[
    "SELECT 'v', current_setting('server_version')",
    "SELECT 'r', rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, rolcanlogin, oid FROM pg_roles",
    "SELECT 'd', datname FROM pg_database WHERE datallowconn AND NOT datistemplate",
];

fn query_postgres(host: &Host, config: &AuditConfig, s: &DbServer, clusters: usize) -> LiveServer {
    let Some(psql) = psql_binary() else {
        return LiveServer::Failed("psql is not installed on this machine".into());
    };
    let mut cmd = Command::new(&psql);
    cmd.args(["-X", "-q", "-A", "-t", "-z", "-0", "-w"]);
    let dsn = config
        .database
        .postgres_dsn
        .as_deref()
        .filter(|d| clusters == 1 || dsn_port(d).is_none_or(|p| p == s.port));
    let via;
    if let Some(dsn) = dsn {
        cmd.args(["-d", dsn]);
        via = "the DSN configured in rempart.toml".to_string();
    } else {
        let Some(sock) = &s.socket else {
            return LiveServer::NotRunning("no Unix socket directory configured".into());
        };
        let Some(uid) = over_socket(host, &mut cmd, sock, s.port) else {
            return LiveServer::NotRunning(format!("no server socket at {sock}"));
        };
        via = format!("the socket {sock} as uid {uid}");
    }
    for q in PG_QUERIES {
        cmd.args(["-c", q]);
    }
    cmd.env("PGCONNECT_TIMEOUT", CONNECT_TIMEOUT_S.to_string());
    match run(cmd) {
        Ok(out) => match parse_pg(&out) {
            Ok(mut live) => {
                live.via = via;
                LiveServer::Postgres(live)
            }
            Err(e) => LiveServer::Failed(e),
        },
        Err(e) => LiveServer::Failed(e),
    }
}

fn flag(s: &str) -> bool {
    s == "t"
}

/// Parse psql's zero-separated output of [`PG_QUERIES`].
pub fn parse_pg(out: &str) -> Result<PgLive, String> {
    let mut live = PgLive::default();
    let mut fields = out.split(['\0', '\n']).filter(|f| !f.is_empty()).peekable();
    while let Some(tag) = fields.next() {
        let mut take = |n: usize| -> Result<Vec<&str>, String> {
            let v: Vec<&str> = fields.by_ref().take(n).collect();
            if v.len() == n {
                Ok(v)
            } else {
                Err(format!("truncated psql output after `{tag}`"))
            }
        };
        match tag {
            "v" => live.version = take(1)?[0].to_string(),
            "r" => {
                let f = take(8)?;
                live.roles.push(PgRole {
                    name: f[0].to_string(),
                    superuser: flag(f[1]),
                    createrole: flag(f[2]),
                    createdb: flag(f[3]),
                    bypassrls: flag(f[4]),
                    replication: flag(f[5]),
                    can_login: flag(f[6]),
                    oid: f[7].parse().map_err(|_| format!("bad role oid {}", f[7]))?,
                })
            }
            "d" => live.databases.push(take(1)?[0].to_string()),
            other => return Err(format!("unexpected psql output `{other}`")),
        }
    }
    if live.version.is_empty() {
        return Err("psql printed no server version".into());
    }
    Ok(live)
}

const MY_QUERIES: &str = "SELECT 'v', VERSION();
SELECT 'u', User, Host, IFNULL(JSON_VALUE(Priv, '$.plugin'), ''), IF(IFNULL(JSON_VALUE(Priv, '$.authentication_string'), '') = '', 'empty', 'set'), IF(IFNULL(JSON_VALUE(Priv, '$.account_locked'), '0') IN ('1', 'true'), 'Y', 'N'), IF(IFNULL(JSON_VALUE(Priv, '$.is_role'), '0') IN ('1', 'true'), 'Y', 'N') FROM mysql.global_priv;
SELECT 'u', User, Host, plugin, IF(authentication_string = '', 'empty', 'set'), account_locked, 'N' FROM mysql.user;
SELECT 'g', GRANTEE, '', PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES;
SELECT 'g', GRANTEE, TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES;
SELECT 'x', Db, User, Host FROM mysql.db;
SELECT 'd', SCHEMA_NAME FROM information_schema.SCHEMATA;";

fn query_mariadb(host: &Host, config: &AuditConfig, s: &DbServer) -> LiveServer {
    let Some(client) = mariadb_binary() else {
        return LiveServer::Failed("the mariadb client is not installed on this machine".into());
    };
    let mut cmd = Command::new(client);
    let via;
    if let Some(file) = &config.database.mysql_defaults_file {
        cmd.arg(format!("--defaults-file={file}"));
        via = format!("the option file {file} configured in rempart.toml");
    } else {
        let Some(sock) = &s.socket else {
            return LiveServer::NotRunning("no socket configured".into());
        };
        let Some((real, _, _)) = live_socket(host, sock) else {
            return LiveServer::NotRunning(format!("no server socket at {sock}"));
        };
        cmd.arg("--no-defaults")
            .arg("--protocol=socket")
            .arg("-S")
            .arg(real)
            .args(["-u", "root"]);
        via = format!("the socket {sock} as root");
    }
    cmd.args([
        "--batch",
        "--skip-column-names",
        "--force",
        &format!("--connect-timeout={CONNECT_TIMEOUT_S}"),
    ]);
    cmd.env_remove("MYSQL_PWD").env_remove("MYSQL_HOST");
    // On standard input, not `-e`: with `-e` the client stops at the first failing statement
    // even with --force, and one statement of each flavour (MariaDB, MySQL) always fails.
    match run_allowing_errors(cmd, MY_QUERIES) {
        Ok(out) => match parse_my(&out) {
            Ok(mut live) => {
                live.via = via;
                LiveServer::MariaDb(live)
            }
            Err(e) => LiveServer::Failed(e),
        },
        Err(e) => LiveServer::Failed(e),
    }
}

/// Undo the `--batch` escapes (`\t`, `\n`, `\\`, `\0`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// Split `'user'@'host'` (quotes doubled inside).
fn split_grantee(g: &str) -> Option<(String, String)> {
    let g = g.strip_prefix('\'')?.strip_suffix('\'')?;
    let (u, h) = g.rsplit_once("'@'")?;
    Some((u.replace("''", "'"), h.replace("''", "'")))
}

/// Parse the tab-separated output of [`MY_QUERIES`].
pub fn parse_my(out: &str) -> Result<MyLive, String> {
    let mut live = MyLive::default();
    for line in out.lines().filter(|l| !l.is_empty()) {
        let f: Vec<String> = line.split('\t').map(unescape).collect();
        match (f[0].as_str(), f.len()) {
            ("v", 2) => live.version = f[1].clone(),
            ("u", 7) => {
                let u = MyUser {
                    user: f[1].clone(),
                    host: f[2].clone(),
                    plugin: f[3].clone(),
                    empty_password: f[4] == "empty",
                    locked: f[5] == "Y",
                    is_role: f[6] == "Y",
                };
                if !live
                    .users
                    .iter()
                    .any(|x| x.user == u.user && x.host == u.host)
                {
                    live.users.push(u);
                }
            }
            ("g", 5) => {
                let (user, host) =
                    split_grantee(&f[1]).ok_or_else(|| format!("bad grantee {}", f[1]))?;
                live.privileges.push(MyPrivilege {
                    user,
                    host,
                    schema: (!f[2].is_empty()).then(|| f[2].clone()),
                    privilege: f[3].to_ascii_uppercase(),
                    grantable: f[4] == "YES",
                });
            }
            ("x", 4) => live
                .db_grants
                .push((f[1].clone(), f[2].clone(), f[3].clone())),
            ("d", 2) => live.databases.push(f[1].clone()),
            _ => return Err(format!("unexpected client output line `{line}`")),
        }
    }
    if live.version.is_empty() {
        return Err("the client printed no server version".into());
    }
    Ok(live)
}

/// True when a client's error says the server refused the login (as opposed to a broken
/// server or client): the rules then skip and ask for credentials instead of erroring.
pub fn is_auth_failure(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "access denied",
        "authentication failed",
        "no pg_hba.conf entry",
        "does not exist",
        "password authentication",
        "peer authentication",
        "fe_sendauth",
    ]
    .iter()
    .any(|p| m.contains(p))
}

fn is_root() -> bool {
    // The owner of /proc/self is the effective uid of this process.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Run a client; its output on success, the first line of its error otherwise.
fn run(cmd: Command) -> Result<String, String> {
    let (ok, out, err) = spawn_bounded(cmd, None)?;
    if ok {
        Ok(out)
    } else {
        Err(first_line(&err))
    }
}

/// Run a client with `--force`: statements may fail (a table of another server flavour); the
/// run counts when it printed something.
fn run_allowing_errors(cmd: Command, input: &str) -> Result<String, String> {
    let (ok, out, err) = spawn_bounded(cmd, Some(input))?;
    if ok || out.lines().any(|l| l.starts_with("v\t")) {
        Ok(out)
    } else {
        Err(first_line(&err))
    }
}

fn first_line(s: &str) -> String {
    let l = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if l.is_empty() {
        "the client failed without a message".into()
    } else {
        l.chars().take(300).collect()
    }
}

/// Spawn with `input` (or nothing) on stdin, read stdout and stderr on threads, kill after
/// [`DEADLINE`].
fn spawn_bounded(mut cmd: Command, input: Option<&str>) -> Result<(bool, String, String), String> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        // The queries are a few hundred bytes: they fit the pipe, so this cannot block.
        use std::io::Write;
        let _ = stdin.write_all(text.as_bytes());
    }
    let reader = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                // Bounded: a misbehaving client cannot fill memory.
                let _ = r.by_ref().take(8 * 1024 * 1024).read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if start.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} did not answer within {} s; killed",
                    DEADLINE.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("waiting for {program}: {e}")),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    Ok((status.success(), out, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_output_parses() {
        let out = [
            "v",
            "15.18 (Debian)",
            "r",
            "postgres",
            "t",
            "t",
            "t",
            "t",
            "t",
            "t",
            "10",
            "r",
            "app",
            "f",
            "f",
            "t",
            "f",
            "f",
            "t",
            "16384",
            "d",
            "app",
            "",
        ]
        .join("\0");
        let live = parse_pg(&out).unwrap();
        assert_eq!(live.version, "15.18 (Debian)");
        assert_eq!(live.roles.len(), 2);
        assert!(live.roles[1].createdb && !live.roles[1].superuser);
        assert_eq!(live.databases, ["app"]);
        assert!(parse_pg("v\0").is_err());
        assert!(parse_pg("r\0a\0t").is_err());
        assert!(parse_pg("").is_err());
    }

    #[test]
    fn mariadb_output_parses() {
        let out = "v\t10.11.14-MariaDB\nu\t\tlocalhost\t\tempty\tN\tN\nu\troot\tlocalhost\tmysql_native_password\tset\tN\tN\n\
                   g\t'django'@'localhost'\tshop\tSELECT\tNO\ng\t'it''s'@'%'\t\tSUPER\tYES\nx\ttest\\\\_%\tPUBLIC\t\nd\ttest\n";
        let live = parse_my(out).unwrap();
        assert_eq!(live.users[0].user, "");
        assert!(live.users[0].empty_password);
        assert_eq!(live.privileges[1].user, "it's");
        assert_eq!(live.privileges[1].schema, None);
        assert!(live.privileges[1].grantable);
        assert_eq!(live.db_grants[0].0, "test\\_%");
        assert!(parse_my("u\tx\n").is_err());
    }

    #[test]
    fn refused_logins_are_told_apart() {
        assert!(is_auth_failure(
            "ERROR 1698 (28000): Access denied for user 'root'@'localhost'"
        ));
        assert!(is_auth_failure(
            "psql: error: connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  role \"root\" does not exist"
        ));
        assert!(!is_auth_failure("psql did not answer within 6 s; killed"));
    }

    #[test]
    fn dsn_ports() {
        assert_eq!(
            dsn_port("host=/run/postgresql port=5433 user=x"),
            Some(5433)
        );
        assert_eq!(dsn_port("postgresql://u:p@localhost:5434/db"), Some(5434));
        assert_eq!(dsn_port("postgresql://localhost/db"), None);
    }
}
