//! Throwaway database servers for the live database rules: a PostgreSQL cluster (initdb +
//! pg_ctl as the `postgres` account) or a MariaDB server (mariadb-install-db + mariadbd as
//! root, `--skip-networking`), with their data directory and Unix socket INSIDE a fixture's
//! root tree, at the Debian paths the rules look at. Never the machine's own clusters.
//!
//! Initialisation runs once per test process into a template directory that each case copies
//! (`cp -a`); a server is stopped when its guard drops, also when a test fails.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `[server]` in a case.toml.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// `postgres` or `mariadb`.
    pub kind: String,
    /// SQL run as the superuser once the server is up (psql or mariadb syntax).
    #[serde(default)]
    pub sql: String,
}

/// A running throwaway server; stopped on drop.
pub struct Server {
    kind: String,
    data: PathBuf,
    child: Option<Child>,
    pg_bin: Option<PathBuf>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if self.kind == "postgres" {
            if let Some(bin) = &self.pg_bin {
                let _ = Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .arg(bin.join("pg_ctl"))
                    .args(["stop", "-m", "immediate", "-w", "-D"])
                    .arg(&self.data)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// A template data directory, initialised once and kept in Cargo's per-target temporary
/// directory (`target/tmp/db-templates/<key>`), so later runs reuse it and nothing is left in
/// /tmp. It is built in a scratch directory under /tmp (the `postgres` account must be able to
/// reach it) and moved into place atomically.
fn cached_template(key: &str, make: impl FnOnce(&Path)) -> PathBuf {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("db-templates")
        .join(key);
    if cache.is_dir() {
        return cache;
    }
    let scratch = tempfile::Builder::new()
        .prefix("rempart-dbtpl")
        .tempdir()
        .unwrap();
    fs::set_permissions(scratch.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let t = scratch.path().join("data");
    make(&t);
    fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let staging = cache.with_extension(format!("partial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    run_ok(
        Command::new("cp").arg("-a").arg(&t).arg(&staging),
        "caching the server template",
    );
    if fs::rename(&staging, &cache).is_err() {
        // Another test process won the race: use its template.
        let _ = fs::remove_dir_all(&staging);
    }
    cache
}

/// The newest installed PostgreSQL server's bin directory.
pub fn pg_bin() -> PathBuf {
    let mut v: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((n, bin))
        })
        .collect();
    v.sort();
    v.pop().map(|(_, b)| b).unwrap_or_else(|| {
        panic!("PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin/initdb): run scripts/test-deps (package postgresql)")
    })
}

fn require(bin: &str, package: &str) {
    assert!(
        Path::new(bin).is_file(),
        "{bin} is missing: run scripts/test-deps (package {package})"
    );
}

fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run_with_stdin(cmd: &mut Command, input: &str, what: &str) {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    run_ok(
        Command::new("cp").arg("-a").arg(from).arg(to),
        "copying the server template",
    );
}

fn chown_postgres(p: &Path) {
    run_ok(
        Command::new("chown").arg("postgres:postgres").arg(p),
        "chown postgres",
    );
}

fn pg_template() -> PathBuf {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        let bin = pg_bin();
        let version = bin
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        cached_template(&format!("postgresql-{version}"), |t| {
            fs::create_dir_all(t).unwrap();
            chown_postgres(t);
            run_ok(
                Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .arg(bin.join("initdb"))
                    .args(["-A", "peer", "--no-sync", "--no-instructions", "-D"])
                    .arg(t)
                    .current_dir("/"),
                "initdb",
            );
        })
    })
    .clone()
}

fn my_template() -> PathBuf {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        require("/usr/bin/mariadb-install-db", "mariadb-server");
        require("/usr/sbin/mariadbd", "mariadb-server");
        // Keyed by the server binary, so an upgrade rebuilds the template.
        let stamp = fs::metadata("/usr/sbin/mariadbd")
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        cached_template(&format!("mariadb-{stamp}"), |t| {
            run_ok(
                Command::new("mariadb-install-db")
                    .arg("--no-defaults")
                    .arg(format!("--datadir={}", t.display()))
                    .args(["--user=root", "--auth-root-authentication-method=socket"]),
                "mariadb-install-db",
            );
        })
    })
    .clone()
}

fn wait_for(path: &Path, what: &str, child: &mut Option<Child>) {
    let start = Instant::now();
    while !path.exists() {
        if let Some(c) = child {
            if let Ok(Some(st)) = c.try_wait() {
                panic!("{what} exited before its socket appeared: {st}");
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: no socket at {} after 60 s",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Start a server inside `root` (a materialised fixture tree) and run the spec's SQL.
pub fn start(root: &Path, spec: &ServerSpec) -> Server {
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
    match spec.kind.as_str() {
        "postgres" => start_pg(root, spec),
        "mariadb" => start_my(root, spec),
        other => panic!("unknown server kind {other}"),
    }
}

/// Where `path` (a host path) is inside `root`, following the tree's own symlinks inside it: a
/// Debian root's `/var/run` is a link to `/run`, which must not lead out to the machine's.
pub fn in_tree(root: &Path, path: &str) -> PathBuf {
    resolve(root, path, 0)
}

fn resolve(root: &Path, path: &str, links: u32) -> PathBuf {
    assert!(
        links < 40,
        "{path}: too many links inside {}",
        root.display()
    );
    let mut at = root.to_path_buf();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let next = at.join(part);
        match fs::read_link(&next) {
            Ok(t) if t.is_absolute() => at = resolve(root, &t.to_string_lossy(), links + 1),
            Ok(t) => {
                let rel = at.strip_prefix(root).unwrap().join(t);
                at = resolve(root, &format!("/{}", rel.display()), links + 1);
            }
            Err(_) => at = next,
        }
    }
    at
}

/// The tree's account `name` (and its group) gets the uid and gid the server runs as on this
/// machine, so the tree's files owned by it are the server's.
fn align_account(root: &Path, name: &str) {
    let field = |file: &str, at: usize| -> Option<String> {
        fs::read_to_string(file).ok()?.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name)).then(|| f.get(at).map(|s| s.to_string()))?
        })
    };
    let (Some(uid), Some(gid)) = (field("/etc/passwd", 2), field("/etc/group", 2)) else {
        return;
    };
    for (file, ids) in [
        ("etc/passwd", vec![(2, &uid), (3, &gid)]),
        ("etc/group", vec![(2, &gid)]),
    ] {
        let path = in_tree(root, &format!("/{file}"));
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let out: String = text
            .lines()
            .map(|l| {
                let mut f: Vec<String> = l.split(':').map(String::from).collect();
                if f.first().map(String::as_str) == Some(name) {
                    for (at, v) in &ids {
                        if let Some(x) = f.get_mut(*at) {
                            x.clone_from(v);
                        }
                    }
                }
                f.join(":") + "\n"
            })
            .collect();
        fs::write(&path, out).unwrap();
    }
}

/// The directory of the PostgreSQL socket a tree's cluster listens on (`/var/run/postgresql`).
pub fn pg_socket_dir(root: &Path) -> PathBuf {
    in_tree(root, "/var/run/postgresql")
}

fn start_pg(root: &Path, spec: &ServerSpec) -> Server {
    let bin = pg_bin();
    let data = root.join("var/lib/postgresql/15/main");
    let sock = pg_socket_dir(root);
    align_account(root, "postgres");
    // A tree's placeholder data directory (a seed host's PG_VERSION) gives way to a real one.
    if data.exists() {
        fs::remove_dir_all(&data).unwrap();
    }
    copy_tree(&pg_template(), &data);
    fs::create_dir_all(&sock).unwrap();
    chown_postgres(&sock);
    let mut server = Server {
        kind: "postgres".into(),
        data: data.clone(),
        child: None,
        pg_bin: Some(bin.clone()),
    };
    run_ok(
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(format!(
                "-k {} -c listen_addresses='' -p 5432",
                sock.display()
            ))
            .arg("-l")
            .arg(data.join("server.log"))
            .args(["-w", "start"])
            .current_dir("/"),
        "pg_ctl start",
    );
    wait_for(&sock.join(".s.PGSQL.5432"), "postgres", &mut server.child);
    if !spec.sql.trim().is_empty() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"])
            .arg(bin.join("psql"))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&sock)
            .args(["-d", "postgres", "-f", "-"])
            .current_dir("/");
        run_with_stdin(&mut c, &spec.sql, "psql setup");
    }
    server
}

fn start_my(root: &Path, spec: &ServerSpec) -> Server {
    require("/usr/sbin/mariadbd", "mariadb-server");
    let data = root.join("var/lib/mysql");
    let run = root.join("run/mysqld");
    copy_tree(&my_template(), &data);
    fs::create_dir_all(&run).unwrap();
    let sock = run.join("mysqld.sock");
    let child = Command::new("/usr/sbin/mariadbd")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", sock.display()))
        .arg(format!("--pid-file={}", run.join("mysqld.pid").display()))
        .arg(format!("--log-error={}", data.join("error.log").display()))
        .args(["--skip-networking", "--user=root", "--skip-log-bin"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mariadbd");
    let mut server = Server {
        kind: "mariadb".into(),
        data,
        child: Some(child),
        pg_bin: None,
    };
    wait_for(&sock, "mariadbd", &mut server.child);
    if !spec.sql.trim().is_empty() {
        run_with_stdin(
            Command::new("/usr/bin/mariadb")
                .args(["--no-defaults", "-u", "root", "-S"])
                .arg(&sock),
            &spec.sql,
            "mariadb setup",
        );
    }
    server
}
