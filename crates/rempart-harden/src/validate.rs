//! The software's own checkers (`sshd -t`, `apache2ctl -t`, `nginx -t`, `nft -c`, `visudo -c`,
//! `postgres -C`, `mariadbd --help --verbose`, `fail2ban-client -d`) run on a change before it is
//! kept, and the reload that makes a live service read it.
//!
//! Under `--root`, the checker must read the tree's files at the paths it knows (`/etc/ssh`,
//! `/etc/apache2`): it runs in a private mount namespace (`unshare --mount`) where the tree's
//! directories are bind-mounted over the real ones, so the real host's files are never touched
//! nor read.

use rempart_audit::host::Host;
use std::path::Path;
use std::process::Command;

/// The group of files one checker and one reload cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Sshd,
    Apache,
    Nginx,
    Nftables,
    Sudoers,
    Sysctl,
    Systemd,
    Fail2ban,
    Postgres,
    Mariadb,
    Ufw,
    Other,
}

impl Group {
    pub fn of(path: &str) -> Group {
        let p = path;
        if p.starts_with("/etc/ssh/") {
            Group::Sshd
        } else if p.starts_with("/etc/apache2/") || p == "/etc/letsencrypt/options-ssl-apache.conf"
        {
            Group::Apache
        } else if p.starts_with("/etc/nginx/") || p == "/etc/letsencrypt/options-ssl-nginx.conf" {
            Group::Nginx
        } else if p == "/etc/nftables.conf" || p.starts_with("/etc/nftables.d/") {
            Group::Nftables
        } else if p == "/etc/sudoers" || p.starts_with("/etc/sudoers.d/") {
            Group::Sudoers
        } else if p.starts_with("/etc/sysctl.d/") || p == "/etc/sysctl.conf" {
            Group::Sysctl
        } else if p.starts_with("/etc/systemd/system/") {
            Group::Systemd
        } else if p.starts_with("/etc/fail2ban/") {
            Group::Fail2ban
        } else if p.starts_with("/etc/postgresql/")
            || (p.starts_with("/var/lib/postgresql/") && p.ends_with("/postgresql.auto.conf"))
        {
            Group::Postgres
        } else if p.starts_with("/etc/mysql/") || p == "/etc/my.cnf" {
            Group::Mariadb
        } else if p.starts_with("/etc/ufw/") || p == "/etc/default/ufw" {
            Group::Ufw
        } else {
            Group::Other
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Group::Sshd => "sshd",
            Group::Apache => "apache2",
            Group::Nginx => "nginx",
            Group::Nftables => "nftables",
            Group::Sudoers => "sudoers",
            Group::Sysctl => "sysctl",
            Group::Systemd => "systemd",
            Group::Fail2ban => "fail2ban",
            Group::Postgres => "postgresql",
            Group::Mariadb => "mariadb",
            Group::Ufw => "ufw",
            Group::Other => "files",
        }
    }

    /// The real directories (or files) the checker reads, to bind from the tree under `--root`.
    fn binds(self) -> &'static [&'static str] {
        match self {
            Group::Sshd => &["/etc/ssh"],
            Group::Apache => &["/etc/apache2", "/etc/letsencrypt", "/etc/ssl"],
            Group::Nginx => &["/etc/nginx", "/etc/letsencrypt", "/etc/ssl"],
            Group::Sudoers => &["/etc/sudoers", "/etc/sudoers.d"],
            Group::Mariadb => &["/etc/mysql"],
            _ => &[],
        }
    }
}

/// The outcome of running a checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Passed(String),
    Failed(String),
    /// No checker for this group, or the checker is not installed.
    NotChecked(String),
}

fn run(cmd: &mut Command) -> Result<(bool, String), String> {
    match cmd.output() {
        Ok(out) => {
            let mut msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !stdout.is_empty() {
                if !msg.is_empty() {
                    msg.push('\n');
                }
                msg.push_str(&stdout);
            }
            Ok((out.status.success(), msg))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn exists_on_path(prog: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(prog).exists())
}

/// Run the checker of `group` on the host's current files.
pub fn check(host: &Host, group: Group) -> Check {
    let (prog, args): (&str, Vec<String>) = match group {
        Group::Sshd => ("sshd", vec!["-t".into()]),
        Group::Apache => ("apache2ctl", vec!["-t".into()]),
        Group::Nginx => ("nginx", vec!["-t".into(), "-q".into()]),
        Group::Nftables => {
            let file = match host.resolve("/etc/nftables.conf") {
                Ok(p) => p.display().to_string(),
                Err(e) => return Check::Failed(e.to_string()),
            };
            ("nft", vec!["-c".into(), "-f".into(), file])
        }
        Group::Sudoers => {
            // Strict mode (no -f): syntax, and the owner and mode of every file, as sudo itself
            // checks them. Under --root the tree's files are bound over /etc/sudoers(.d).
            if !host.exists("/etc/sudoers") {
                return Check::NotChecked("no /etc/sudoers".into());
            }
            ("visudo", vec!["-c".into()])
        }
        Group::Postgres => return check_postgres(host),
        Group::Fail2ban => return check_fail2ban(host),
        Group::Mariadb => {
            // Unknown options make it exit non-zero; the help text itself is not wanted.
            let prog = if exists_on_path("mariadbd") {
                "mariadbd"
            } else {
                "mysqld"
            };
            (prog, vec!["--help".into(), "--verbose".into()])
        }
        other => return Check::NotChecked(format!("no checker for {}", other.name())),
    };
    if !exists_on_path(prog) {
        return Check::NotChecked(format!("{prog} is not installed here"));
    }
    let mut extra_key = None;
    let mut args = args;
    if group == Group::Sshd && !host.is_live() && !has_host_key(host) {
        // sshd -t refuses a config without host keys; the tree's keys are not ours to make.
        match throwaway_key() {
            Ok((dir, key)) => {
                args.push("-h".into());
                args.push(key);
                extra_key = Some(dir);
            }
            Err(e) => return Check::NotChecked(e),
        }
    }
    let mut argv = vec![prog.to_string()];
    argv.extend(args);
    let quiet_stdout = group == Group::Mariadb;
    let result = run_in_tree(host, group.binds(), &argv, None, quiet_stdout);
    drop(extra_key);
    verdict(prog, result)
}

fn verdict(prog: &str, result: Result<(bool, String), String>) -> Check {
    match result {
        Ok((true, msg)) => Check::Passed(msg),
        Ok((false, msg)) => Check::Failed(if msg.is_empty() {
            format!("{prog} refused the configuration")
        } else {
            msg
        }),
        Err(e) => Check::NotChecked(format!("could not run {prog}: {e}")),
    }
}

/// Run `argv` (as `user` when given) so that it reads the host's files at their usual paths:
/// directly on the live host; under `--root`, in a private mount namespace where the tree's
/// `binds` directories cover the real ones.
fn run_in_tree(
    host: &Host,
    binds: &[&str],
    argv: &[String],
    user: Option<&str>,
    quiet_stdout: bool,
) -> Result<(bool, String), String> {
    let mut argv: Vec<String> = argv.to_vec();
    if let Some(u) = user {
        let mut wrapped = vec!["runuser".to_string(), "-u".into(), u.into(), "--".into()];
        wrapped.extend(argv);
        argv = wrapped;
    }
    // (tree path, real path, whether the real path must first be made in the namespace).
    let binds: Vec<(String, &str, bool)> = if host.is_live() || host.root() == Path::new("/") {
        Vec::new()
    } else {
        binds
            .iter()
            .filter_map(|d| {
                let real = Path::new(d);
                let tree = host.resolve(d).ok()?;
                let same_kind =
                    (real.is_dir() && tree.is_dir()) || (real.is_file() && tree.is_file());
                // A directory the tree has and this machine lacks (/etc/letsencrypt on a
                // machine without certbot) is made in a scratch layer over /etc.
                let missing =
                    !real.exists() && tree.is_dir() && real.parent() == Some(Path::new("/etc"));
                (same_kind || missing).then(|| (tree.display().to_string(), *d, missing))
            })
            .collect()
    };
    if binds.is_empty() {
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        if quiet_stdout {
            cmd.stdout(std::process::Stdio::null());
        }
        return run(&mut cmd);
    }
    let mut script = String::from("set -e\n");
    if binds.iter().any(|(_, _, missing)| *missing) {
        // An overlay on /etc whose upper layer is a tmpfs of this namespace: mount points
        // made there never reach the real /etc.
        script.push_str(
            "mount -t tmpfs rempart-scratch /mnt\nmkdir /mnt/u /mnt/w\n\
             mount -t overlay rempart-etc -o lowerdir=/etc,upperdir=/mnt/u,workdir=/mnt/w /etc\n",
        );
        for (_, dst, missing) in &binds {
            if *missing {
                script.push_str(&format!("mkdir -p {dst}\n"));
            }
        }
    }
    for (i, (_, dst, _)) in binds.iter().enumerate() {
        script.push_str(&format!("mount --bind \"${}\" {dst}\n", i + 1));
    }
    if argv[0] == "sshd" {
        script.push_str("mkdir -p /run/sshd\n");
    }
    script.push_str("exec");
    for a in &argv {
        script.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
    }
    if quiet_stdout {
        script.push_str(" >/dev/null");
    }
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
        "sh",
    ]);
    for (src, _, _) in &binds {
        cmd.arg(src);
    }
    run(&mut cmd)
}

/// `postgres -C` on every cluster of the host: it reads postgresql.conf with its includes and
/// postgresql.auto.conf, and refuses syntax errors, unknown parameters and invalid values. It
/// runs as the `postgres` account with the binary of the cluster's version.
fn check_postgres(host: &Host) -> Check {
    let confs = match host.glob("/etc/postgresql/*/*/postgresql.conf") {
        Ok(c) => c,
        Err(e) => return Check::Failed(e.to_string()),
    };
    if confs.is_empty() {
        return Check::NotChecked("no PostgreSQL cluster in /etc/postgresql".into());
    }
    if !has_account("postgres") {
        return Check::NotChecked("no postgres account here to run the checker as".into());
    }
    let mut passed = Vec::new();
    for conf in confs {
        let dir = conf.trim_end_matches("/postgresql.conf");
        let version = dir.split('/').nth(3).unwrap_or_default();
        let bin = format!("/usr/lib/postgresql/{version}/bin/postgres");
        if !Path::new(&bin).exists() {
            return Check::NotChecked(format!("PostgreSQL {version} is not installed here"));
        }
        let argv = vec![
            bin.clone(),
            "-D".into(),
            dir.to_string(),
            "-C".into(),
            "data_directory".into(),
        ];
        match verdict(
            "postgres -C",
            run_in_tree(
                host,
                &["/etc/postgresql", "/var/lib/postgresql"],
                &argv,
                Some("postgres"),
                false,
            ),
        ) {
            Check::Passed(_) => passed.push(dir.to_string()),
            other => return other,
        }
    }
    Check::Passed(format!("postgres -C read {}", passed.join(", ")))
}

/// `fail2ban-client -c DIR -d`: fail2ban reads the jail files in its order and builds every
/// enabled jail's filter and actions; a jail it cannot build (unknown filter, action or backend
/// option) or a file it cannot parse makes it exit non-zero. `-c` points it at the tree's
/// directory, so no namespace is needed. Its dump of the jail commands is not kept.
fn check_fail2ban(host: &Host) -> Check {
    if !host.exists("/etc/fail2ban/jail.conf") {
        return Check::NotChecked("no /etc/fail2ban/jail.conf".into());
    }
    if !host.exists("/etc/fail2ban/filter.d") || !host.exists("/etc/fail2ban/action.d") {
        // fail2ban-client builds each jail's filter and actions from these: without them (an
        // excerpt of the configuration in a test tree) it refuses every jail, good or not.
        return Check::NotChecked(
            "no /etc/fail2ban/filter.d or action.d: fail2ban-client cannot build the jails".into(),
        );
    }
    if !exists_on_path("fail2ban-client") {
        return Check::NotChecked("fail2ban-client is not installed here".into());
    }
    let dir = match host.resolve("/etc/fail2ban") {
        Ok(p) => p,
        Err(e) => return Check::Failed(e.to_string()),
    };
    let out = Command::new("fail2ban-client")
        .arg("-c")
        .arg(&dir)
        .arg("-d")
        .output();
    match out {
        Ok(o) => {
            let text = format!(
                "{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            let problems: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("config-error") || l.contains("ERROR"))
                .collect();
            if o.status.success() && !problems.iter().any(|l| l.contains("config-error")) {
                Check::Passed("fail2ban-client -d read the jails".into())
            } else if problems.is_empty() {
                Check::Failed("fail2ban-client -d refused the configuration".into())
            } else {
                Check::Failed(problems.join("\n"))
            }
        }
        Err(e) => Check::NotChecked(format!("could not run fail2ban-client: {e}")),
    }
}

/// Whether an account exists on the machine running the checker (not the audited tree).
fn has_account(name: &str) -> bool {
    std::fs::read_to_string("/etc/passwd")
        .is_ok_and(|t| t.lines().any(|l| l.split(':').next() == Some(name)))
}

fn has_host_key(host: &Host) -> bool {
    host.glob("/etc/ssh/ssh_host_*_key")
        .is_ok_and(|v| !v.is_empty())
}

fn throwaway_key() -> Result<(TempKeyDir, String), String> {
    let dir = std::env::temp_dir().join(format!("rempart-hostkey-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let key = dir.join("key");
    let _ = std::fs::remove_file(&key);
    let _ = std::fs::remove_file(dir.join("key.pub"));
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .map_err(|e| format!("ssh-keygen: {e}"))?;
    if !ok.success() {
        return Err("ssh-keygen failed".into());
    }
    Ok((TempKeyDir(dir), key.display().to_string()))
}

struct TempKeyDir(std::path::PathBuf);

impl Drop for TempKeyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The command that makes a live service read its changed files (never a restart, except where
/// no reload exists: said in the note).
pub fn reload_command(
    group: Group,
    paths: &[String],
) -> Option<(Vec<String>, Option<&'static str>)> {
    let cmd = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Some(match group {
        Group::Sshd => (cmd(&["systemctl", "reload", "ssh"]), None),
        Group::Apache => (cmd(&["systemctl", "reload", "apache2"]), None),
        Group::Nginx => (cmd(&["systemctl", "reload", "nginx"]), None),
        Group::Fail2ban => (cmd(&["systemctl", "reload", "fail2ban"]), None),
        Group::Postgres => (
            cmd(&["systemctl", "reload", "postgresql"]),
            Some("listen_addresses takes effect at the next PostgreSQL restart"),
        ),
        Group::Mariadb => {
            return Some((
                Vec::new(),
                Some("MariaDB reads these settings at its next restart"),
            ))
        }
        Group::Ufw => (cmd(&["ufw", "reload"]), None),
        Group::Nftables => (cmd(&["nft", "-f", "/etc/nftables.conf"]), None),
        Group::Systemd => (
            cmd(&["systemctl", "daemon-reload"]),
            Some("units with a new drop-in take it at their next restart (systemctl restart UNIT)"),
        ),
        Group::Sysctl => {
            let mut v = cmd(&["sysctl"]);
            for p in paths {
                v.push("-p".into());
                v.push(p.clone());
            }
            (v, None)
        }
        Group::Sudoers | Group::Other => return None,
    })
}

/// Run a reload on the live host; returns its message when it fails.
pub fn reload(argv: &[String]) -> Result<(), String> {
    let Some((prog, args)) = argv.split_first() else {
        return Ok(());
    };
    match run(Command::new(prog).args(args)) {
        Ok((true, _)) => Ok(()),
        Ok((false, msg)) => Err(format!("{}: {msg}", argv.join(" "))),
        Err(e) => Err(format!("{}: {e}", argv.join(" "))),
    }
}
