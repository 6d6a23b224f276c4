//! `rempart harden apply` with the software's own checkers, on fixture trees: a fix is kept only
//! when the checker accepts it (`visudo -c` in strict mode, `postgres -C`, `mariadbd --help
//! --verbose`, `nft -c -f`, `fail2ban-client -d`), and a change a checker refuses is undone. The same programs, run by the test in
//! a private mount namespace over the tree, are the oracle of what the server will read.
//!
//! Needs root (mount namespaces) and the Debian packages sudo, postgresql, mariadb-server,
//! nftables and fail2ban (`scripts/test-deps`); a missing one fails the test with its name.

#[path = "../../rempart-audit/tests/support/mod.rs"]
mod support;

use assert_cmd::Command;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin/postgres";

fn require(paths: &[&str]) {
    for p in paths {
        assert!(
            Path::new(p).exists(),
            "{p} is missing: run scripts/test-deps (sudo, postgresql, mariadb-server, nftables, fail2ban)"
        );
    }
}

fn case(rel: &str) -> support::Materialised {
    let dir = support::fixtures_dir().join(rel);
    let c = support::load_case(&dir);
    support::materialise(&dir, &c)
}

/// `rempart harden apply --unsafe --only RULES` with the checkers on; (exit code, stdout).
fn apply(root: &Path, only: &str) -> (i32, String) {
    let out = Command::cargo_bin("rempart")
        .unwrap()
        .env_remove("REMPART_HARDEN_NO_CHECK")
        .args(["harden", "apply", "--unsafe", "--only", only, "--root"])
        .arg(root)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn status(root: &Path, rule: &str) -> String {
    let out = Command::cargo_bin("rempart")
        .unwrap()
        .args(["audit", "--format", "json", "--only", rule, "--root"])
        .arg(root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"][0]["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Run `cmd` (a shell command) in a private mount namespace where `binds` (tree path, real
/// path) cover the real files; (success, stdout + stderr).
fn in_tree(root: &Path, binds: &[&str], cmd: &str) -> (bool, String) {
    let mut script = String::from("set -e\n");
    for b in binds {
        script.push_str(&format!("mount --bind '{}{b}' '{b}'\n", root.display()));
    }
    script.push_str(cmd);
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn visudo(root: &Path) -> (bool, String) {
    in_tree(root, &["/etc/sudoers", "/etc/sudoers.d"], "visudo -c")
}

fn rollback(root: &Path) {
    Command::cargo_bin("rempart")
        .unwrap()
        .args(["harden", "rollback", "--root"])
        .arg(root)
        .assert()
        .success();
}

#[test]
fn sudoers_modes_fixed_pass_visudo_strict_check() {
    require(&["/usr/sbin/visudo", "/etc/sudoers", "/etc/sudoers.d"]);
    let t = case("files/sensitive-etc/sudoers-d-group-writable.fail");
    let root = t.path();
    let (ok, msg) = visudo(root);
    assert!(
        !ok,
        "visudo accepted a group-writable sudoers.d file: {msg}"
    );
    assert!(msg.contains("bad permissions"), "{msg}");
    let (code, out) = apply(root, "FILE-SENSITIVE-ETC");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("sudoers: checked"), "{out}");
    let (ok, msg) = visudo(root);
    assert!(ok, "visudo refuses the fixed tree: {msg}");
    assert_eq!(status(root, "FILE-SENSITIVE-ETC"), "pass");
    rollback(root);
    let m = fs::metadata(root.join("etc/sudoers.d/ops")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid()), (0o664, 1000));
}

#[test]
fn a_change_visudo_refuses_is_undone() {
    require(&["/usr/sbin/visudo", "/etc/sudoers", "/etc/sudoers.d"]);
    let t = case("files/sensitive-etc/sudoers-d-group-writable.fail");
    let root = t.path();
    let ops = root.join("etc/sudoers.d/ops");
    let mut text = fs::read_to_string(&ops).unwrap();
    text.push_str("ops ALL=(ALL) ALL ALL oops\n");
    fs::write(&ops, &text).unwrap();
    let (code, out) = apply(root, "FILE-SENSITIVE-ETC");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("sudoers: the checker refused"), "{out}");
    assert!(
        out.contains("syntax error"),
        "visudo's reason is shown: {out}"
    );
    let m = fs::metadata(&ops).unwrap();
    assert_eq!(
        (m.mode() & 0o7777, m.uid()),
        (0o664, 1000),
        "the refused change was undone"
    );
    assert_eq!(fs::read_to_string(&ops).unwrap(), text);
}

fn postgres_c(root: &Path, param: &str) -> String {
    let (ok, out) = in_tree(
        root,
        &["/etc/postgresql", "/var/lib/postgresql"],
        &format!(
            "runuser -u postgres -- {PG_BIN} -D /etc/postgresql/15/main -C {param} 2>/dev/null"
        ),
    );
    assert!(ok, "postgres -C {param}: {out}");
    out.trim().to_string()
}

/// A cluster tree postgres can read: the data directory exists and belongs to postgres.
fn pg_tree(rel: &str) -> support::Materialised {
    require(&[PG_BIN, "/etc/postgresql", "/var/lib/postgresql"]);
    let t = case(rel);
    let data = t.path().join("var/lib/postgresql/15/main");
    fs::create_dir_all(&data).unwrap();
    let pg = std::process::Command::new("id")
        .args(["-u", "postgres"])
        .output()
        .unwrap();
    let uid: u32 = String::from_utf8_lossy(&pg.stdout).trim().parse().unwrap();
    for d in [
        "var/lib/postgresql",
        "var/lib/postgresql/15",
        "var/lib/postgresql/15/main",
    ] {
        std::os::unix::fs::chown(t.path().join(d), Some(uid), None).unwrap();
    }
    for e in fs::read_dir(&data).unwrap() {
        std::os::unix::fs::chown(e.unwrap().path(), Some(uid), None).unwrap();
    }
    t
}

#[test]
fn postgres_settings_pass_postgres_c() {
    for (rel, rule, param, want) in [
        (
            "database/pg-listen/conf-d-star.fail",
            "DB-PG-LISTEN",
            "listen_addresses",
            "localhost",
        ),
        (
            "database/pg-listen/alter-system-override.fail",
            "DB-PG-LISTEN",
            "listen_addresses",
            "localhost",
        ),
        (
            "database/pg-password-encryption/md5.fail",
            "DB-PG-PASSWORD-ENCRYPTION",
            "password_encryption",
            "scram-sha-256",
        ),
    ] {
        let t = pg_tree(rel);
        let root = t.path();
        assert_ne!(postgres_c(root, param), want, "{rel}: already {want}");
        let (code, out) = apply(root, rule);
        assert_eq!(code, 0, "{rel}: {out}");
        assert!(out.contains("postgresql: checked"), "{rel}: {out}");
        assert_eq!(
            postgres_c(root, param),
            want,
            "{rel}: PostgreSQL reads another value"
        );
        assert_eq!(status(root, rule), "pass", "{rel}");
        rollback(root);
    }
}

#[test]
fn a_setting_postgres_refuses_is_undone() {
    let t = pg_tree("database/pg-listen/conf-d-star.fail");
    let root = t.path();
    let conf = root.join("etc/postgresql/15/main/conf.d/10-remote.conf");
    let mut text = fs::read_to_string(&conf).unwrap();
    text.push_str("listen_adresses = 'typo'\n");
    fs::write(&conf, &text).unwrap();
    let (code, out) = apply(root, "DB-PG-LISTEN");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("postgresql: the checker refused"), "{out}");
    assert!(
        out.contains("listen_adresses"),
        "the reason names the parameter: {out}"
    );
    assert!(
        !root
            .join("etc/postgresql/15/main/conf.d/90-rempart.conf")
            .exists(),
        "the refused drop-in was removed"
    );
}

#[test]
fn mariadb_options_pass_mariadbd() {
    require(&["/usr/sbin/mariadbd", "/etc/mysql"]);
    let t = case("database/my-bind/later-file-overrides.fail");
    let root = t.path();
    let read = |root: &Path| {
        let (ok, out) = in_tree(
            root,
            &["/etc/mysql"],
            "mariadbd --help --verbose 2>/dev/null",
        );
        assert!(ok, "mariadbd --help --verbose: {out}");
        let value = |name: &str| {
            out.lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("")
                .to_string()
        };
        (
            value("bind-address"),
            value("local-infile"),
            value("symbolic-links"),
        )
    };
    assert_eq!(read(root), ("0.0.0.0".into(), "TRUE".into(), "TRUE".into()));
    let (code, out) = apply(root, "DB-MY-BIND,DB-MY-LOCAL-INFILE,DB-MY-SYMLINKS");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("mariadb: checked"), "{out}");
    assert_eq!(
        read(root),
        ("127.0.0.1".into(), "FALSE".into(), "FALSE".into())
    );
    for rule in ["DB-MY-BIND", "DB-MY-LOCAL-INFILE", "DB-MY-SYMLINKS"] {
        assert_eq!(status(root, rule), "pass", "{rule}");
    }
    let dropin = root.join("etc/mysql/mariadb.conf.d/90-rempart.cnf");
    assert_eq!(
        fs::metadata(&dropin).unwrap().permissions().mode() & 0o777,
        0o644
    );
    rollback(root);
    assert!(!dropin.exists());
}

#[test]
fn seed_hosts_hardened_pass_the_checkers() {
    require(&[
        PG_BIN,
        "/etc/postgresql",
        "/var/lib/postgresql",
        "/usr/sbin/mariadbd",
        "/etc/mysql",
    ]);
    for (host, checked) in [
        ("avmonitoring", "postgresql: checked"),
        ("koprogo", ""),
        ("raspberry", "mariadb: checked"),
    ] {
        let t = support::materialise_seed_host(host, "insecure");
        let (code, out) = apply(t.path(), "");
        assert_eq!(code, 0, "{host}: {out}");
        assert!(!out.contains("refused"), "{host}: {out}");
        assert!(out.contains(checked), "{host}: {out}");
    }
}

/// The web fixes on fixture trees, with the real checkers on: each change passes `nginx -t` /
/// `apache2ctl -t` (run by harden apply in a mount namespace over the tree) and the rule passes.
#[test]
fn web_fixes_pass_nginx_and_apache2ctl() {
    require(&["/usr/sbin/nginx", "/usr/sbin/apache2ctl"]);
    for (rel, rule, group) in [
        (
            "web/nginx-tokens/debian-default.fail",
            "WEB-NGINX-TOKENS",
            "nginx",
        ),
        (
            "web/nginx-tokens/server-turns-it-on.fail",
            "WEB-NGINX-TOKENS",
            "nginx",
        ),
        (
            "web/nginx-body-limit/unlimited.fail",
            "WEB-NGINX-BODY-LIMIT",
            "nginx",
        ),
        (
            "web/nginx-tls/debian-default-openssl11.fail",
            "WEB-NGINX-TLS-PROTOCOLS",
            "nginx",
        ),
        (
            "web/nginx-tls/seclevel-zero.fail",
            "WEB-NGINX-TLS-PROTOCOLS",
            "nginx",
        ),
        (
            "web/http-redirect/nginx-plain-twin-of-tls-server.fail",
            "WEB-HTTP-REDIRECT",
            "nginx",
        ),
        (
            "web/http-redirect/apache-plain-twin-of-tls-site.fail",
            "WEB-HTTP-REDIRECT",
            "apache2",
        ),
        (
            "web/apache-trace/trace-on.fail",
            "WEB-APACHE-TRACE",
            "apache2",
        ),
        (
            "web/apache-tokens/debian-security-conf.fail",
            "WEB-APACHE-TOKENS",
            "apache2",
        ),
        (
            "web/apache-headers/missing-hsts.fail",
            "WEB-APACHE-HEADERS",
            "apache2",
        ),
        (
            "web/apache-modules/debian-defaults.fail",
            "WEB-APACHE-MODULES",
            "apache2",
        ),
        (
            "web/apache-body-limit/unset.fail",
            "WEB-APACHE-BODY-LIMIT",
            "apache2",
        ),
        (
            "web/apache-tls/debian-default-ssl-openssl11.fail",
            "WEB-APACHE-TLS-PROTOCOLS",
            "apache2",
        ),
    ] {
        let t = case(rel);
        let root = t.path();
        for d in ["etc/nginx/conf.d", "etc/nginx/modules-enabled"] {
            if root.join("etc/nginx").exists() {
                fs::create_dir_all(root.join(d)).unwrap();
            }
        }
        let (code, out) = apply(root, rule);
        assert_eq!(code, 0, "{rel}: {out}");
        assert!(out.contains(&format!("{group}: checked")), "{rel}: {out}");
        assert_eq!(status(root, rule), "pass", "{rel}: {out}");
        rollback(root);
    }
}

// The firewall and fail2ban fixes: the nftables.conf the firewall fix writes (whole, or appended
// to the admin's) passes `nft -c -f`; the fail2ban drop-in passes `fail2ban-client -d` on
// Debian's complete configuration; a configuration fail2ban refuses is undone.

fn nft_check(file: &Path) -> (bool, String) {
    let out = std::process::Command::new("nft")
        .args(["-c", "-f"])
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_nftables_conf_the_firewall_fix_writes_passes_nft_c() {
    require(&["/usr/sbin/nft"]);
    // Debian's stock file (replaced whole) and an admin's ruleset with a catch-all accept
    // (rempart's own table appended).
    for (rel, appended) in [
        ("firewall/default-deny/nftables-debian-default.fail", false),
        ("firewall/default-deny/nftables-catch-all-accept.fail", true),
        ("firewall/open-ports/nftables-backend-port.fail", true),
    ] {
        let t = case(rel);
        let root = t.path();
        let before = fs::read_to_string(root.join("etc/nftables.conf")).unwrap();
        let (code, out) = apply(root, "FW-DEFAULT-DENY,FW-OPEN-PORTS");
        assert_eq!(code, 0, "{rel}: {out}");
        assert!(out.contains("nftables: checked"), "{rel}: {out}");
        let after = fs::read_to_string(root.join("etc/nftables.conf")).unwrap();
        assert_eq!(after.starts_with(&before), appended, "{rel}: {after}");
        assert!(after.contains("policy drop;"), "{after}");
        let (ok, msg) = nft_check(&root.join("etc/nftables.conf"));
        assert!(ok, "{rel}: nft -c refuses the fixed file: {msg}\n{after}");
        for rule in ["FW-DEFAULT-DENY", "FW-OPEN-PORTS"] {
            assert_eq!(status(root, rule), "pass", "{rel}: {rule}\n{after}");
        }
    }
}

/// The fixture's tree with the test machine's /etc/fail2ban (Debian's package files, without
/// local overrides) in place of its excerpt.
fn with_real_fail2ban(rel: &str) -> support::Materialised {
    require(&["/etc/fail2ban/jail.conf", "/usr/bin/fail2ban-client"]);
    let t = case(rel);
    let dst = t.path().join("etc/fail2ban");
    fs::remove_dir_all(&dst).unwrap();
    let status = std::process::Command::new("cp")
        .args(["-a", "/etc/fail2ban"])
        .arg(&dst)
        .status()
        .unwrap();
    assert!(status.success());
    for local in ["jail.local", "fail2ban.local", "paths-overrides.local"] {
        let _ = fs::remove_file(dst.join(local));
    }
    for e in fs::read_dir(dst.join("jail.d")).unwrap().flatten() {
        if e.file_name() != "defaults-debian.conf" {
            fs::remove_file(e.path()).unwrap();
        }
    }
    t
}

#[test]
fn the_fail2ban_drop_in_passes_fail2ban_client_and_fixes_the_jail() {
    let t = with_real_fail2ban("intrusion/backend/debian-12-defaults-admin-with-key.fail");
    let root = t.path();
    assert_eq!(status(root, "IPS-BACKEND"), "fail");
    let (code, out) = apply(root, "IPS-BACKEND,IPS-BANACTION");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("fail2ban: checked"), "{out}");
    let dropin = fs::read_to_string(root.join("etc/fail2ban/jail.d/90-rempart.local")).unwrap();
    assert!(dropin.contains("backend = systemd"), "{dropin}");
    assert!(dropin.contains("ignoreip = 127.0.0.1/8 ::1"), "{dropin}");
    for rule in ["IPS-BACKEND", "IPS-BANACTION", "IPS-SSHD-JAIL"] {
        assert_eq!(status(root, rule), "pass", "{rule}");
    }
    // fail2ban itself reads the jail as rempart wrote it.
    let out = std::process::Command::new("fail2ban-client")
        .arg("-c")
        .arg(root.join("etc/fail2ban"))
        .arg("-d")
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{dump}");
    assert!(dump.contains("['add', 'sshd', 'systemd']"), "{dump}");
    assert!(dump.contains("nftables"), "{dump}");
}

#[test]
fn a_fail2ban_change_the_checker_refuses_is_undone() {
    let t = with_real_fail2ban("intrusion/backend/debian-12-defaults-admin-with-key.fail");
    let root = t.path();
    // The admin's own jail names a filter that does not exist: fail2ban refuses the whole
    // configuration once the jail is on, and rempart must not leave its drop-in behind.
    fs::write(
        root.join("etc/fail2ban/jail.d/50-custom.conf"),
        "[sshd]\nfilter = sshd-custom-missing\n",
    )
    .unwrap();
    let (code, out) = apply(root, "IPS-BACKEND");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("fail2ban: the checker refused"), "{out}");
    assert!(
        out.contains("sshd-custom-missing") || out.contains("config-error"),
        "{out}"
    );
    assert!(!root.join("etc/fail2ban/jail.d/90-rempart.local").exists());
}
