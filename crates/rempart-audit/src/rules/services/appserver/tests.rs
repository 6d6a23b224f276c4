use super::*;

fn host() -> (tempfile::TempDir, Host) {
    let dir = tempfile::tempdir().unwrap();
    let host = Host::tree(dir.path()).unwrap();
    (dir, host)
}

fn run(
    host: &Host,
    line: &str,
    env: &[(String, String, Origin)],
    wd: Option<&str>,
) -> Option<AppServer> {
    analyse(
        host,
        &Command {
            line,
            path: "/etc/systemd/system/app.service",
            line_no: 7,
            working_dir: wd,
            env,
        },
    )
}

fn addrs(s: &AppServer) -> Vec<&str> {
    s.binds.iter().map(|b| b.addr.as_str()).collect()
}

#[test]
fn uvicorn_host_and_default() {
    let (_d, h) = host();
    let s = run(
        &h,
        "/opt/app/venv/bin/uvicorn app.main:app --host 0.0.0.0 --port 8000",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(s.kind, ServerKind::Uvicorn);
    assert_eq!(s.target.as_deref(), Some("app.main:app"));
    assert_eq!(addrs(&s), ["0.0.0.0:8000"]);
    assert!(s.binds[0].is_exposed());
    let s = run(
        &h,
        "/opt/app/venv/bin/python -m uvicorn app.main:app --port=9000",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(addrs(&s), ["127.0.0.1:9000"]);
    assert_eq!(s.binds[0].origin.how, "default");
    assert!(!s.binds[0].is_exposed());
}

#[test]
fn uvicorn_reload_is_a_dev_flag() {
    let (_d, h) = host();
    let s = run(&h, "uvicorn main:app --reload --host 127.0.0.1", &[], None).unwrap();
    assert_eq!(s.dev_flags[0].flag, "--reload");
}

#[test]
fn environment_variables_are_substituted() {
    let (_d, h) = host();
    let env = vec![(
        "HOST".to_string(),
        "0.0.0.0".to_string(),
        Origin {
            path: "/opt/app/.env".into(),
            line: Some(2),
            text: None,
            how: "environment",
        },
    )];
    let s = run(
        &h,
        "uvicorn main:app --host ${HOST} --port 8000",
        &env,
        None,
    )
    .unwrap();
    assert_eq!(addrs(&s), ["0.0.0.0:8000"]);
}

#[test]
fn gunicorn_binds_defaults_and_port_variable() {
    let (_d, h) = host();
    let s = run(
        &h,
        "/srv/site/venv/bin/gunicorn -b 0.0.0.0:8000 -w 3 site.wsgi:application",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(addrs(&s), ["0.0.0.0:8000"]);
    assert_eq!(s.target.as_deref(), Some("site.wsgi:application"));
    let s = run(
        &h,
        "gunicorn --bind=unix:/run/site.sock site.wsgi",
        &[],
        None,
    )
    .unwrap();
    assert!(!s.binds[0].is_exposed());
    let s = run(&h, "gunicorn site.wsgi", &[], None).unwrap();
    assert_eq!(addrs(&s), ["127.0.0.1:8000"]);
    let env = vec![(
        "PORT".to_string(),
        "5000".to_string(),
        Origin {
            path: "/x".into(),
            line: None,
            text: None,
            how: "environment",
        },
    )];
    let s = run(&h, "gunicorn site.wsgi", &env, None).unwrap();
    assert_eq!(addrs(&s), ["0.0.0.0:5000"]);
    let s = run(&h, "gunicorn -b :8000 site.wsgi", &[], None).unwrap();
    assert!(s.binds[0].is_exposed());
}

#[test]
fn gunicorn_config_file_in_working_directory() {
    let (d, h) = host();
    std::fs::create_dir_all(d.path().join("srv/site")).unwrap();
    std::fs::write(
        d.path().join("srv/site/gunicorn.conf.py"),
        "workers = 3\nbind = [\"0.0.0.0:8000\"]  # all\nreload = True\n",
    )
    .unwrap();
    let s = run(
        &h,
        "/srv/site/venv/bin/gunicorn site.wsgi",
        &[],
        Some("/srv/site"),
    )
    .unwrap();
    assert_eq!(addrs(&s), ["0.0.0.0:8000"]);
    assert_eq!(s.binds[0].origin.path, "/srv/site/gunicorn.conf.py");
    assert_eq!(s.binds[0].origin.line, Some(2));
    assert_eq!(s.dev_flags[0].flag, "reload = True");
}

#[test]
fn django_runserver_is_development() {
    let (_d, h) = host();
    let s = run(
        &h,
        "/srv/site/venv/bin/python /srv/site/manage.py runserver 0.0.0.0:8000",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(s.kind, ServerKind::DjangoRunserver);
    assert_eq!(addrs(&s), ["0.0.0.0:8000"]);
    assert!(!s.dev_flags.is_empty());
    assert!(run(&h, "python manage.py migrate", &[], None).is_none());
}

#[test]
fn fastapi_run_listens_everywhere_by_default() {
    let (_d, h) = host();
    let s = run(&h, "fastapi run app/main.py", &[], None).unwrap();
    assert_eq!(addrs(&s), ["0.0.0.0:8000"]);
    let s = run(&h, "fastapi dev app/main.py", &[], None).unwrap();
    assert_eq!(addrs(&s), ["127.0.0.1:8000"]);
    assert_eq!(s.dev_flags[0].flag, "fastapi dev");
}

#[test]
fn docker_compose_files_resolve_against_the_working_directory() {
    let (d, h) = host();
    std::fs::create_dir_all(d.path().join("opt/mon")).unwrap();
    std::fs::write(
        d.path().join("opt/mon/docker-compose.yml"),
        "services: {}\n",
    )
    .unwrap();
    let s = run(
        &h,
        "/usr/bin/docker compose -f monitoring.yml up -d",
        &[],
        Some("/opt/mon"),
    )
    .unwrap();
    assert_eq!(s.compose_files, ["/opt/mon/monitoring.yml"]);
    let s = run(&h, "/usr/bin/docker compose up", &[], Some("/opt/mon")).unwrap();
    assert_eq!(s.compose_files, ["/opt/mon/docker-compose.yml"]);
    assert!(run(&h, "/usr/bin/docker ps", &[], None).is_none());
}

#[test]
fn shell_and_env_wrappers_are_seen_through() {
    let (_d, h) = host();
    let s = run(
        &h,
        "/bin/sh -c 'cd /opt/app && exec venv/bin/uvicorn main:app --host 0.0.0.0'",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(addrs(&s), ["0.0.0.0:8000"]);
    let s = run(
        &h,
        "/usr/bin/env PYTHONPATH=/opt/app gunicorn -b 0.0.0.0:80 app:app",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(addrs(&s), ["0.0.0.0:80"]);
}

#[test]
fn bind_hosts() {
    assert_eq!(bind_host("[::]:8000").as_deref(), Some("::"));
    assert_eq!(bind_host("::1").as_deref(), Some("::1"));
    assert_eq!(bind_host("localhost:80").as_deref(), Some("localhost"));
    assert_eq!(bind_host("unix:/run/a.sock"), None);
    assert_eq!(bind_host("8000").as_deref(), Some("0.0.0.0"));
}

proptest::proptest! {
    #[test]
    fn analysis_never_panics(line in "\\PC{0,200}") {
        let (_d, h) = host();
        let _ = run(&h, &line, &[], Some("/opt/x"));
    }
}
