//! The web family's configuration loading on small trees: Apache includes, conditionals and
//! variables, nginx includes, include cycles, and what discovery gets from
//! `WebServers::app_refs` / `named_certs` on the fixture trees.

mod support;

use rempart_audit::facts::apps::AppRefKind;
use rempart_audit::rules::web::apache::{self, Apache};
use rempart_audit::rules::web::nginx::{self, Nginx};
use rempart_audit::rules::web::traefik::Traefik;
use rempart_audit::rules::web::WebServers;
use rempart_audit::{AuditConfig, Host};
use std::fs;
use std::path::Path;
use support::*;

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// Collect a fact on a tree, the way rules see it.
fn with_ctx<T>(root: &Path, f: impl FnOnce(&rempart_audit::Ctx) -> T) -> T {
    let host = Host::tree(root).unwrap();
    let config = AuditConfig::default();
    let facts = rempart_audit::rule::Facts::default();
    let ctx = rempart_audit::Ctx {
        host: &host,
        config: &config,
        facts: &facts,
    };
    f(&ctx)
}

#[test]
fn apache_ifmodule_define_envvars_and_include_order() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "/etc/apache2/envvars",
        "export APACHE_LOG_DIR=/var/log/apache2$SUFFIX\n",
    );
    write(
        r,
        "/etc/apache2/apache2.conf",
        "<IfModule mod_headers.c>\nServerTokens Full\n</IfModule>\nIncludeOptional mods-enabled/*.load\nDefine HARDEN\n<IfDefine HARDEN>\n<IfModule headers_module>\nServerTokens Prod\n</IfModule>\n</IfDefine>\n<IfDefine !HARDEN>\nTraceEnable On\n</IfDefine>\nErrorLog ${APACHE_LOG_DIR}/error.log\nIncludeOptional sites-enabled/*.conf\nIncludeOptional does-not-exist/*.conf\n",
    );
    write(
        r,
        "/etc/apache2/mods-enabled/headers.load",
        "LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so\n",
    );
    write(
        r,
        "/etc/apache2/sites-enabled/a.conf",
        "<VirtualHost *:443>\n  Include /etc/apache2/snippets/tls.conf\n</VirtualHost>\n",
    );
    write(r, "/etc/apache2/snippets/tls.conf", "SSLEngine on\n");
    let cfg = apache::load::load(
        &Host::tree(r).unwrap(),
        apache::SERVER_ROOT,
        apache::MAIN_FILE,
    );
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    // The first IfModule came before LoadModule: skipped. The second, after it: kept.
    let tokens: Vec<_> = cfg.tree.iter().filter(|d| d.is("ServerTokens")).collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].args, ["Prod"]);
    assert!(cfg.server_last("TraceEnable").is_none());
    assert_eq!(
        cfg.server_last("ErrorLog").unwrap().args,
        ["/var/log/apache2/error.log"]
    );
    let vh = cfg.vhosts().next().unwrap();
    assert!(
        cfg.is_tls(&vh),
        "SSLEngine from the Include inside the vhost"
    );
    assert_eq!(
        vh.section.children[0].file.as_ref(),
        "/etc/apache2/snippets/tls.conf"
    );
}

#[test]
fn apache_include_cycles_and_missing_includes_are_problems() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "/etc/apache2/apache2.conf", "Include a.conf\n");
    write(r, "/etc/apache2/a.conf", "Include apache2.conf\n");
    let cfg = apache::load::load(
        &Host::tree(r).unwrap(),
        apache::SERVER_ROOT,
        apache::MAIN_FILE,
    );
    assert!(
        cfg.problems
            .iter()
            .any(|p| p.message.contains("includes itself")),
        "{:?}",
        cfg.problems
    );

    write(r, "/etc/apache2/apache2.conf", "Include ports.conf\n");
    let cfg = apache::load::load(
        &Host::tree(r).unwrap(),
        apache::SERVER_ROOT,
        apache::MAIN_FILE,
    );
    assert_eq!(cfg.problems[0].line, Some(1));
    assert!(cfg.problems[0].message.contains("no such file"));
}

#[test]
fn apache_symlink_loop_in_sites_enabled_is_an_error_not_a_hang() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "/etc/apache2/apache2.conf",
        "IncludeOptional sites-enabled/*.conf\n",
    );
    fs::create_dir_all(r.join("etc/apache2/sites-enabled")).unwrap();
    std::os::unix::fs::symlink("loop.conf", r.join("etc/apache2/sites-enabled/loop.conf")).unwrap();
    let apache = with_ctx(r, |ctx| ctx.fact::<Apache>());
    let err = apache.require("Apache configuration").unwrap_err();
    assert_eq!(err.status, rempart_audit::Status::Error, "{}", err.message);
}

#[test]
fn nginx_includes_relative_to_etc_nginx_and_cycles() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "/etc/nginx/nginx.conf",
        "events {}\nhttp {\n  include conf.d/*.conf;\n  include /etc/nginx/sites-enabled/*;\n}\n",
    );
    write(r, "/etc/nginx/conf.d/tokens.conf", "server_tokens off;\n");
    write(
        r,
        "/etc/nginx/sites-enabled/app",
        "server {\n  listen 443 ssl;\n  include snippets/h.conf;\n}\n",
    );
    write(
        r,
        "/etc/nginx/snippets/h.conf",
        "add_header X-Frame-Options DENY;\n",
    );
    let cfg = nginx::load::load(&Host::tree(r).unwrap(), nginx::PREFIX, nginx::MAIN_FILE);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    let servers = cfg.servers();
    assert_eq!(servers.len(), 1);
    assert!(servers[0].has_tls() && !servers[0].has_plain());
    assert_eq!(servers[0].headers()[0].name, "x-frame-options");
    assert_eq!(
        nginx::last(cfg.http().unwrap().kids(), "server_tokens")
            .unwrap()
            .file
            .as_ref(),
        "/etc/nginx/conf.d/tokens.conf"
    );

    write(
        r,
        "/etc/nginx/snippets/h.conf",
        "include snippets/h.conf;\n",
    );
    let cfg = nginx::load::load(&Host::tree(r).unwrap(), nginx::PREFIX, nginx::MAIN_FILE);
    assert!(cfg
        .problems
        .iter()
        .any(|p| p.message.contains("includes itself")));
}

#[test]
fn binary_and_huge_configs_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "/etc/nginx/nginx.conf", "events {}\n\0\0binary");
    let n = with_ctx(r, |ctx| ctx.fact::<Nginx>());
    assert!(n.require("nginx configuration").is_err());
    let host = Host::tree(r).unwrap().with_max_file(64);
    write(r, "/etc/apache2/apache2.conf", &"# padding\n".repeat(100));
    let cfg = apache::load::load(&host, apache::SERVER_ROOT, apache::MAIN_FILE);
    assert!(
        cfg.problems[0].message.contains("limit"),
        "{:?}",
        cfg.problems
    );
}

fn fixture_root(case: &str) -> support::Materialised {
    let dir = fixtures_dir().join("web").join(case);
    let c = load_case(&dir);
    materialise(&dir, &c)
}

#[test]
fn discovery_gets_apps_from_apache_nginx_and_traefik() {
    let t = fixture_root("http-redirect/apache-certbot-redirect.pass");
    let refs = with_ctx(t.path(), |ctx| ctx.fact::<WebServers>().app_refs());
    let proxy = refs
        .iter()
        .find(|r| r.kind == AppRefKind::ProxyTarget)
        .unwrap();
    assert_eq!(proxy.value, "http://127.0.0.1:8000/");
    assert_eq!(proxy.source, "/etc/apache2/sites-enabled/app-ssl.conf");
    assert!(proxy.line.is_some());
    assert!(refs
        .iter()
        .any(|r| r.kind == AppRefKind::DocumentRoot && r.value == "/srv/app/public"));

    let t = fixture_root("nginx-headers/snippet-in-server.pass");
    let refs = with_ctx(t.path(), |ctx| ctx.fact::<WebServers>().app_refs());
    assert!(refs
        .iter()
        .any(|r| r.kind == AppRefKind::ProxyTarget && r.value == "http://127.0.0.1:8000"));
    assert!(refs
        .iter()
        .any(|r| r.kind == AppRefKind::DocumentRoot && r.value == "/srv/app"));

    let t = fixture_root("traefik-rate-limit/ingest-limited.pass");
    let refs = with_ctx(t.path(), |ctx| ctx.fact::<WebServers>().app_refs());
    let url = refs
        .iter()
        .find(|r| r.kind == AppRefKind::ProxyTarget)
        .unwrap();
    assert_eq!(
        (url.value.as_str(), url.source.as_str()),
        ("http://127.0.0.1:8000", "/etc/traefik/dynamic/app.yml")
    );
}

#[test]
fn apache_wsgi_references() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "/etc/apache2/apache2.conf",
        "IncludeOptional sites-enabled/*.conf\n",
    );
    write(
        r,
        "/etc/apache2/sites-enabled/django.conf",
        "<VirtualHost *:443>\n  WSGIDaemonProcess app python-path=/srv/app:/srv/app/venv/lib/python3.11/site-packages python-home=/srv/app/venv\n  WSGIScriptAlias / /srv/app/app/wsgi.py process-group=app\n</VirtualHost>\n",
    );
    let refs = with_ctx(r, |ctx| ctx.fact::<WebServers>().app_refs());
    let kinds: Vec<_> = refs.iter().map(|r| (r.kind, r.value.as_str())).collect();
    assert!(kinds.contains(&(AppRefKind::WsgiScript, "/srv/app/app/wsgi.py")));
    assert!(kinds.contains(&(AppRefKind::PythonPath, "/srv/app")));
    assert!(kinds.contains(&(AppRefKind::PythonPath, "/srv/app/venv")));
}

#[test]
fn traefik_in_compose_maps_container_paths_to_the_host() {
    let t = fixture_root("cert-expiry/traefik-file-certificate-expired.fail");
    let (traefik, certs) = with_ctx(t.path(), |ctx| {
        (
            ctx.fact::<Traefik>(),
            ctx.fact::<WebServers>().named_certs(),
        )
    });
    let inst = &traefik.instances[0];
    assert!(inst.origin.contains("/opt/edge/docker-compose.yml"));
    assert_eq!(
        inst.host_path("/certs/x.pem").as_deref(),
        Some("/opt/edge/certs/x.pem")
    );
    assert_eq!(
        inst.dynamic.len(),
        2,
        "the file provider's file and the labels"
    );
    let c = certs.iter().find(|c| c.server == "traefik").unwrap();
    assert_eq!(
        c.cert.as_deref(),
        Some("/opt/edge/certs/www.example.org.pem")
    );
    let acme = certs.iter().find(|c| c.server == "traefik-acme").unwrap();
    assert_eq!(acme.key.as_deref(), Some("/opt/edge/letsencrypt/acme.json"));
}

mod include_graphs {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Any graph of Include / include lines (cycles, self-includes, globs, missing files)
        /// loads in bounded time, never panics, and reports every cycle it meets.
        #[test]
        fn any_include_graph_terminates(edges in proptest::collection::vec((0usize..6, 0usize..7), 0..20)) {
            let t = tempfile::tempdir().unwrap();
            let r = t.path();
            let mut a = vec![String::new(); 6];
            let mut n = vec![String::new(); 6];
            for (from, to) in &edges {
                let target = if *to == 6 { "*.conf".to_string() } else { format!("f{to}.conf") };
                a[*from].push_str(&format!("IncludeOptional conf/{target}\nServerTokens Prod\n"));
                n[*from].push_str(&format!("include conf/{target};\nserver_tokens off;\n"));
            }
            write(r, "/etc/apache2/apache2.conf", "IncludeOptional conf/f0.conf\n");
            write(r, "/etc/nginx/nginx.conf", "include conf/f0.conf;\n");
            for i in 0..6 {
                write(r, &format!("/etc/apache2/conf/f{i}.conf"), &a[i]);
                write(r, &format!("/etc/nginx/conf/f{i}.conf"), &n[i]);
            }
            let host = Host::tree(r).unwrap();
            let ac = apache::load::load(&host, apache::SERVER_ROOT, apache::MAIN_FILE);
            let nc = nginx::load::load(&host, nginx::PREFIX, nginx::MAIN_FILE);
            // A cycle reachable from f0 is always reported.
            let mut reach = vec![false; 6];
            reach[0] = true;
            let mut cyclic = false;
            fn dfs(v: usize, edges: &[(usize, usize)], stack: &mut Vec<usize>, cyclic: &mut bool, reach: &mut [bool]) {
                for (f, t) in edges.iter().filter(|(f, _)| *f == v) {
                    let _ = f;
                    let targets: Vec<usize> = if *t == 6 { (0..6).collect() } else { vec![*t] };
                    for t in targets {
                        if stack.contains(&t) {
                            *cyclic = true;
                            continue;
                        }
                        if stack.len() > 8 { continue; }
                        reach[t] = true;
                        stack.push(t);
                        dfs(t, edges, stack, cyclic, reach);
                        stack.pop();
                    }
                }
            }
            dfs(0, &edges, &mut vec![0], &mut cyclic, &mut reach);
            let a_cycle = ac.problems.iter().any(|p| p.message.contains("includes itself"));
            let n_cycle = nc.problems.iter().any(|p| p.message.contains("includes itself"));
            prop_assert_eq!(a_cycle, cyclic);
            prop_assert_eq!(n_cycle, cyclic);
            if !cyclic {
                prop_assert!(ac.problems.is_empty() && nc.problems.is_empty());
            }
        }
    }
}
