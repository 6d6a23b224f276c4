//! The [`Databases`] fact: the database servers configured on the host, read from their
//! configuration files (no connection is made here; [`super::live`] does that).
//!
//! - PostgreSQL: every Debian cluster `/etc/postgresql/<version>/<cluster>/postgresql.conf`, with
//!   its includes, then `postgresql.auto.conf` in the data directory; its `pg_hba.conf`
//!   (`hba_file`, default `<data_directory>/pg_hba.conf`).
//! - MariaDB/MySQL: when a server package (`mariadb-server*`, `mysql-server*`,
//!   `percona-server-server*`) is installed or `/usr/sbin/mariadbd`/`mysqld` exists, the option
//!   chain of [`MyConfig::load`] read with the server's groups.

use super::mycnf::{server_groups, MyConfig};
use super::pgconf::PgConfig;
use super::pghba::Hba;
use super::ConfError;
use crate::facts::Packages;
use crate::host::Host;
use crate::rule::{Ctx, Fact};

/// Which server software.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DbKind {
    Postgres,
    /// MariaDB or MySQL (same configuration files, same client protocol).
    MariaDb,
}

impl DbKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DbKind::Postgres => "postgresql",
            DbKind::MariaDb => "mariadb",
        }
    }
}

/// Where a value came from: a file line, or the server's built-in default when `path` is None.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub path: Option<String>,
    pub line: Option<u32>,
    pub text: Option<String>,
}

impl Origin {
    pub fn file(path: &str, line: u32, text: &str) -> Origin {
        Origin {
            path: Some(path.to_string()),
            line: Some(line),
            text: Some(text.to_string()),
        }
    }

    /// Evidence pointing at the line, or at `fallback` (the main configuration file) with the
    /// `default` source when the value is the built-in default.
    pub fn evidence(&self, fallback: &str) -> crate::model::Evidence {
        use crate::model::Evidence;
        match (&self.path, self.line, &self.text) {
            (Some(p), Some(l), Some(t)) => Evidence::file(p.clone()).line(l).snippet(t.clone()),
            (Some(p), _, _) => Evidence::file(p.clone()),
            _ => Evidence::file(fallback).with_source("default"),
        }
    }
}

/// One database server (a PostgreSQL cluster, or the MariaDB/MySQL server).
#[derive(Debug, Clone)]
pub struct DbServer {
    pub kind: DbKind,
    /// `15/main` for a PostgreSQL cluster, `mariadb` for MariaDB/MySQL.
    pub name: String,
    /// Major version (`15`, `10.11`) when known from the layout or the package.
    pub version: Option<String>,
    /// The main configuration file (host path).
    pub main_config: String,
    /// Every configuration file read, in order.
    pub config_files: Vec<String>,
    /// The data directory (host path).
    pub data_dir: Option<String>,
    /// Effective TCP listen addresses as configured; `*` means every interface; empty means no
    /// TCP at all (Unix socket only).
    pub listen: Vec<String>,
    /// Where `listen` was decided.
    pub listen_origin: Origin,
    pub port: u16,
    /// The Unix socket path (host path).
    pub socket: Option<String>,
    /// Database names discoverable without connecting (MariaDB: the data directory's
    /// sub-directories, system schemas left out). Empty for PostgreSQL (its directories are
    /// numbered); the live fact has them.
    pub databases: Vec<String>,
    /// False when the cluster is configured not to start (`start.conf` says `disabled`).
    pub enabled: bool,
    pub detail: ServerDetail,
    /// Configuration problems (unreadable files, syntax errors).
    pub errors: Vec<ConfError>,
}

impl DbServer {
    /// A label for messages: `PostgreSQL 15/main`, `MariaDB`.
    pub fn label(&self) -> String {
        match self.kind {
            DbKind::Postgres => format!("PostgreSQL {}", self.name),
            DbKind::MariaDb => "MariaDB/MySQL".to_string(),
        }
    }

    /// True when the server accepts TCP connections on a non-loopback address.
    pub fn listens_beyond_loopback(&self) -> bool {
        self.listen.iter().any(|a| !super::is_loopback(a))
    }

    pub fn postgres(&self) -> Option<&PgCluster> {
        match &self.detail {
            ServerDetail::Postgres(p) => Some(p),
            ServerDetail::MariaDb(_) => None,
        }
    }

    pub fn mariadb(&self) -> Option<&MyServer> {
        match &self.detail {
            ServerDetail::MariaDb(m) => Some(m),
            ServerDetail::Postgres(_) => None,
        }
    }
}

/// What only one kind of server has.
#[derive(Debug, Clone)]
pub enum ServerDetail {
    Postgres(PgCluster),
    MariaDb(MyServer),
}

/// A PostgreSQL cluster's parsed configuration.
#[derive(Debug, Clone)]
pub struct PgCluster {
    /// `/etc/postgresql/15/main`.
    pub conf_dir: String,
    pub conf: PgConfig,
    pub hba_path: String,
    pub hba: Hba,
}

/// The MariaDB/MySQL option chain and the groups the server reads.
#[derive(Debug, Clone)]
pub struct MyServer {
    pub conf: MyConfig,
    pub groups: Vec<String>,
}

/// The database servers of the host.
#[derive(Debug, Clone, Default)]
pub struct Databases {
    pub servers: Vec<DbServer>,
    /// Problems finding servers at all (an unreadable `/etc/postgresql`).
    pub errors: Vec<ConfError>,
}

impl Databases {
    pub fn of_kind(&self, kind: DbKind) -> impl Iterator<Item = &DbServer> {
        self.servers.iter().filter(move |s| s.kind == kind)
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// Collect from a host (what [`Fact::collect`] does, usable without a rule context).
    pub fn discover(host: &Host, packages: &Packages) -> Databases {
        let mut dbs = Databases::default();
        discover_postgres(host, &mut dbs);
        discover_mariadb(host, packages, &mut dbs);
        dbs
    }
}

impl Fact for Databases {
    fn collect(ctx: &Ctx) -> Databases {
        Databases::discover(ctx.host, &ctx.fact::<Packages>())
    }
}

const PG_ETC: &str = "/etc/postgresql";

fn discover_postgres(host: &Host, dbs: &mut Databases) {
    let versions = match host.read_dir(PG_ETC) {
        Ok(Some(v)) => v,
        Ok(None) => return,
        Err(e) => {
            dbs.errors.push(e.into());
            return;
        }
    };
    for version in versions {
        if !version.chars().all(|c| c.is_ascii_digit() || c == '.') || version.is_empty() {
            continue;
        }
        let vdir = format!("{PG_ETC}/{version}");
        let Ok(Some(clusters)) = host.read_dir(&vdir) else {
            continue;
        };
        for cluster in clusters {
            let conf_dir = format!("{vdir}/{cluster}");
            let main = format!("{conf_dir}/postgresql.conf");
            if !host.exists(&main) {
                continue;
            }
            dbs.servers
                .push(pg_cluster(host, &version, &cluster, conf_dir, main));
        }
    }
}

fn pg_cluster(
    host: &Host,
    version: &str,
    cluster: &str,
    conf_dir: String,
    main: String,
) -> DbServer {
    let mut conf = PgConfig::load(host, &main);
    let data_dir = conf.get("data_directory").map_or_else(
        || format!("/var/lib/postgresql/{version}/{cluster}"),
        |s| s.value.clone(),
    );
    conf.overlay(host, &format!("{data_dir}/postgresql.auto.conf"));
    let hba_path = conf
        .get("hba_file")
        .map_or_else(|| format!("{data_dir}/pg_hba.conf"), |s| s.value.clone());
    let hba = Hba::load(host, &hba_path);
    let mut errors = conf.errors.clone();
    if hba.files.is_empty() && hba.errors.is_empty() {
        errors.push(ConfError::Syntax {
            path: hba_path.clone(),
            line: 0,
            message: "pg_hba.conf does not exist; PostgreSQL will not start".into(),
        });
    }
    errors.extend(hba.errors.iter().cloned());
    let (listen, listen_origin) = match conf.get("listen_addresses") {
        Some(s) => (split_list(&s.value), Origin::file(&s.path, s.line, &s.text)),
        None => (vec!["localhost".to_string()], Origin::default()),
    };
    let port = conf
        .get("port")
        .and_then(|s| s.value.trim().parse().ok())
        .unwrap_or(5432);
    let socket_dir = conf.get("unix_socket_directories").map_or_else(
        || "/var/run/postgresql".to_string(),
        |s| split_list(&s.value).into_iter().next().unwrap_or_default(),
    );
    let socket = (socket_dir.starts_with('/'))
        .then(|| format!("{}/.s.PGSQL.{port}", socket_dir.trim_end_matches('/')));
    let enabled = host
        .read_text(&format!("{conf_dir}/start.conf"))
        .ok()
        .flatten()
        .is_none_or(|f| {
            f.text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .find(|l| !l.is_empty())
                != Some("disabled")
        });
    let mut config_files = conf.files.clone();
    config_files.extend(hba.files.iter().cloned());
    DbServer {
        kind: DbKind::Postgres,
        name: format!("{version}/{cluster}"),
        version: Some(version.to_string()),
        main_config: main,
        config_files,
        data_dir: Some(data_dir),
        listen,
        listen_origin,
        port,
        socket,
        databases: Vec::new(),
        enabled,
        detail: ServerDetail::Postgres(PgCluster {
            conf_dir,
            conf,
            hba_path,
            hba,
        }),
        errors,
    }
}

/// Split a comma-separated list, trimming blanks.
pub fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Server packages whose presence means a MariaDB/MySQL server is installed.
const MY_PACKAGES: &[&str] = &["mariadb-server", "mysql-server", "percona-server-server"];
const MY_BINARIES: &[&str] = &["/usr/sbin/mariadbd", "/usr/sbin/mysqld"];
const MY_SYSTEM_SCHEMAS: &[&str] = &["mysql", "performance_schema", "sys", "lost+found"];

fn discover_mariadb(host: &Host, packages: &Packages, dbs: &mut Databases) {
    let pkg_version = packages.installed.as_ref().and_then(|all| {
        let mut found: Vec<(&String, &String)> = all
            .iter()
            .filter(|(n, _)| MY_PACKAGES.iter().any(|p| n.starts_with(p)))
            .collect();
        found.sort();
        found.first().map(|(_, v)| major_minor(v))
    });
    let binary = MY_BINARIES.iter().any(|b| host.exists(b));
    if pkg_version.is_none() && !binary {
        return;
    }
    let version = pkg_version.flatten();
    let conf = MyConfig::load(host);
    let groups = server_groups(version.as_deref());
    let value = |name: &str| {
        conf.effective(name, &groups)
            .and_then(|e| e.value.clone().map(|v| (v, e.set_by.clone())))
    };
    let data_dir = value("datadir")
        .map(|(v, _)| v.trim_end_matches('/').to_string())
        .filter(|v| v.starts_with('/'))
        .unwrap_or_else(|| "/var/lib/mysql".to_string());
    let socket = value("socket")
        .map(|(v, _)| v)
        .filter(|v| v.starts_with('/'))
        .unwrap_or_else(|| "/run/mysqld/mysqld.sock".to_string());
    let port = value("port")
        .and_then(|(v, _)| v.trim().parse().ok())
        .unwrap_or(3306);
    let skip_networking = conf.flag("skip-networking", &groups);
    let (listen, listen_origin) = match (&skip_networking, conf.effective("bind-address", &groups))
    {
        (Some((Ok(true), o)), _) => (Vec::new(), Origin::file(&o.path, o.line, &o.text)),
        (_, Some(e)) => (
            split_list(e.value.as_deref().unwrap_or("")),
            Origin::file(&e.set_by.path, e.set_by.line, &e.set_by.text),
        ),
        (_, None) => (vec!["*".to_string()], Origin::default()),
    };
    let listen = if listen.is_empty() && skip_networking.is_none() {
        vec!["*".to_string()]
    } else {
        listen
    };
    let databases = mariadb_databases(host, &data_dir);
    let main_config = conf
        .files
        .first()
        .cloned()
        .unwrap_or_else(|| "/etc/mysql/my.cnf".to_string());
    dbs.servers.push(DbServer {
        kind: DbKind::MariaDb,
        name: "mariadb".into(),
        version,
        main_config,
        config_files: conf.files.clone(),
        data_dir: Some(data_dir),
        listen,
        listen_origin,
        port,
        socket: Some(socket),
        databases,
        enabled: true,
        errors: conf.errors.clone(),
        detail: ServerDetail::MariaDb(MyServer { conf, groups }),
    });
}

/// `1:10.11.6-0+deb12u1` -> `10.11`.
fn major_minor(version: &str) -> Option<String> {
    let v = version.split_once(':').map_or(version, |(_, v)| v);
    let mut parts = v.split(['.', '-', '+', '~']);
    let major = parts.next()?;
    let minor = parts.next()?;
    (major.chars().all(|c| c.is_ascii_digit()) && minor.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("{major}.{minor}"))
}

/// The databases of a MariaDB data directory: its sub-directories, system schemas and
/// `#`-prefixed internal directories left out, `@XXXX` name encoding decoded.
fn mariadb_databases(host: &Host, data_dir: &str) -> Vec<String> {
    let Ok(Some(names)) = host.read_dir(data_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for n in names {
        if n.starts_with('#') || n.starts_with('.') || MY_SYSTEM_SCHEMAS.contains(&n.as_str()) {
            continue;
        }
        let is_dir = matches!(
            host.symlink_metadata(&format!("{data_dir}/{n}")),
            Ok(Some(m)) if m.kind == crate::host::FileKind::Dir
        );
        if is_dir {
            out.push(decode_filename(&n));
        }
    }
    out
}

/// MariaDB's file-name encoding: `@XXXX` is the hexadecimal code of a character (`my@002ddb` is
/// `my-db`).
pub fn decode_filename(n: &str) -> String {
    let mut out = String::new();
    let mut rest = n;
    while let Some(p) = rest.find('@') {
        out.push_str(&rest[..p]);
        let hex = rest.get(p + 1..p + 5);
        match hex
            .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
        {
            Some(c) => {
                out.push(c);
                rest = &rest[p + 5..];
            }
            None => {
                out.push('@');
                rest = &rest[p + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_names() {
        assert_eq!(major_minor("1:10.11.6-0+deb12u1").as_deref(), Some("10.11"));
        assert_eq!(major_minor("8.0.36-2").as_deref(), Some("8.0"));
        assert_eq!(major_minor("garbage"), None);
        assert_eq!(decode_filename("my@002ddb"), "my-db");
        assert_eq!(decode_filename("a@zz"), "a@zz");
        assert_eq!(decode_filename("@"), "@");
    }
}
