//! fail2ban itself as the oracle of rempart's fail2ban configuration reader: for each scenario
//! (Debian's shipped configuration plus a few override files), `fail2ban-client -c DIR -d`
//! prints the jail commands fail2ban would send its server; the sshd jail rempart assembles
//! must agree on whether it is enabled, its backend, its log files and its actions, and a
//! configuration fail2ban refuses must be an error for rempart too.
//!
//! The base is a copy of the test machine's /etc/fail2ban (the Debian package's files) with
//! local overrides removed; nothing is written outside a temp directory.

use rempart_audit::rules::intrusion::fail2ban;
use rempart_audit::Host;
use std::fs;
use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else if e.file_type().unwrap().is_file() {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// The pristine package configuration in `root/etc/fail2ban`.
fn base(root: &Path) {
    let src = Path::new("/etc/fail2ban");
    assert!(
        src.join("jail.conf").is_file() && Path::new("/usr/bin/fail2ban-client").is_file(),
        "fail2ban is not installed: the oracle test needs the Debian package fail2ban (scripts/test-deps)"
    );
    let dst = root.join("etc/fail2ban");
    copy_dir(src, &dst);
    for local in ["jail.local", "fail2ban.local", "paths-overrides.local"] {
        let _ = fs::remove_file(dst.join(local));
    }
    for e in fs::read_dir(dst.join("jail.d")).unwrap().flatten() {
        if e.file_name() != "defaults-debian.conf" {
            fs::remove_file(e.path()).unwrap();
        }
    }
}

#[derive(Debug, Default, PartialEq)]
struct View {
    enabled: bool,
    backend: String,
    logpaths: Vec<String>,
    actions: Vec<String>,
}

/// What `fail2ban-client -d` says about the sshd jail; `Err` when it refuses the configuration.
fn oracle(dir: &Path) -> Result<View, String> {
    let out = Command::new("fail2ban-client")
        .arg("-c")
        .arg(dir)
        .arg("-d")
        .output()
        .expect("fail2ban-client runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !stdout.contains("['set', 'loglevel'") {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut v = View::default();
    let field = |line: &str, n: usize| -> String {
        line.split('\'').nth(n).unwrap_or_default().to_string()
    };
    for line in stdout.lines() {
        if line.starts_with("['add', 'sshd', ") {
            v.enabled = true;
            v.backend = field(line, 5);
        } else if line.starts_with("['set', 'sshd', 'addlogpath', ") {
            v.logpaths.push(field(line, 7));
        } else if line.starts_with("['set', 'sshd', 'addaction', ") {
            v.actions.push(field(line, 7));
        }
    }
    Ok(v)
}

/// rempart's view of the same directory.
fn rempart(root: &Path) -> Result<View, String> {
    let host = Host::tree(root).unwrap();
    let cfg = fail2ban::load(&host)
        .map_err(|e| e.to_string())?
        .ok_or("no configuration")?;
    let j = cfg.jail("sshd").map_err(|e| e.to_string())?;
    if !j.is_enabled() {
        return Ok(View::default());
    }
    let backend = j.backend_name();
    // fail2ban lists the log files that exist (globs expanded); the journal needs none.
    let logpaths = if backend == "systemd" {
        Vec::new()
    } else {
        j.logpaths()
            .into_iter()
            .filter(|p| Path::new(p).exists())
            .collect()
    };
    Ok(View {
        enabled: true,
        backend,
        logpaths,
        actions: j.action_names(),
    })
}

/// The same jail. fail2ban names an action instance `<action>-<name>` when the action is given
/// a `name=` parameter; rempart reports the action file's name.
fn agree(theirs: &View, ours: &View) -> bool {
    theirs.enabled == ours.enabled
        && theirs.backend == ours.backend
        && theirs.logpaths == ours.logpaths
        && theirs.actions.len() == ours.actions.len()
        && theirs
            .actions
            .iter()
            .zip(&ours.actions)
            .all(|(t, o)| t == o || t.starts_with(&format!("{o}-")))
}

const SCENARIOS: &[(&str, &[(&str, &str)])] = &[
    ("debian-defaults", &[]),
    (
        "seed-002-local-conf",
        &[(
            "jail.d/local.conf",
            "[sshd]\nenabled = true\nport    = ssh\nfilter  = sshd\nlogpath = /var/log/auth.log\nmaxretry = 5\n",
        )],
    ),
    (
        "default-backend-systemd-and-nftables",
        &[(
            "jail.local",
            "[DEFAULT]\nbackend = systemd\nbanaction = nftables-multiport\nbanaction_allports = nftables-allports\n",
        )],
    ),
    (
        "jail-level-overrides-with-action-mw",
        &[(
            "jail.d/sshd.local",
            "[sshd]\nbackend = systemd\nmaxretry = 3\nbantime = 1h\naction = %(action_mw)s\n",
        )],
    ),
    (
        "conf-then-local-order",
        &[
            ("jail.d/zz-off.conf", "[sshd]\nenabled = false\n"),
            ("jail.d/aa-on.local", "[sshd]\nenabled = yes\nbackend = systemd\n"),
        ],
    ),
    (
        "hash-is-not-an-inline-comment",
        &[("jail.local", "[sshd]\nenabled = true # protect ssh\nbackend = systemd\n")],
    ),
    (
        "semicolon-is-an-inline-comment",
        &[("jail.local", "[sshd]\nenabled = true ; protect ssh\nbackend = systemd ; journal\n")],
    ),
    (
        "known-logpath-and-continuation",
        &[(
            "jail.local",
            "[sshd]\nbackend = polling\nlogpath = %(known/logpath)s\n          /etc/passwd tail\n",
        )],
    ),
    (
        "multi-line-action",
        &[(
            "jail.d/custom.local",
            "[sshd]\nbackend = systemd\naction = nftables-multiport[name=SSH, port=ssh, protocol=tcp]\n         sendmail-whois[name=SSH, dest=root]\n",
        )],
    ),
    (
        "banaction-allports-by-reference",
        &[(
            "jail.local",
            "[DEFAULT]\nbanaction = nftables\nbanaction_allports = nftables[type=allports]\n[sshd]\nbackend = systemd\nbanaction = %(banaction_allports)s\n",
        )],
    ),
    (
        "duplicate-option-refused",
        &[("jail.local", "[sshd]\nenabled = true\nenabled = false\n")],
    ),
    (
        "undefined-reference-refused",
        &[("jail.local", "[sshd]\nenabled = true\nbackend = %(no_such_option)s\n")],
    ),
];

#[test]
fn rempart_reads_fail2ban_configuration_like_fail2ban_client() {
    let mut problems = Vec::new();
    for (name, files) in SCENARIOS {
        let tmp = tempfile::tempdir().unwrap();
        base(tmp.path());
        let dir = tmp.path().join("etc/fail2ban");
        for (rel, text) in *files {
            let p = dir.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        let theirs = oracle(&dir);
        let ours = rempart(tmp.path());
        match (&theirs, &ours) {
            (Ok(t), Ok(o)) if agree(t, o) => {}
            (Err(_), Err(_)) => {}
            _ => problems.push(format!(
                "{name}:\n  fail2ban-client -d: {theirs:?}\n  rempart:            {ours:?}"
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
