//! Web stacks for the probe tests, built in a temp dir and served inside a network namespace:
//! certificates made with the openssl CLI (a test CA, an EC P-256 server certificate valid 90
//! days, an RSA-1024 one expiring in 5 days), an OCSP responder (`openssl ocsp`), Apache set up
//! as seed 002 asks in front of a FastAPI app, and nginx set up badly in front of a Django app
//! with DEBUG on (bound to 0.0.0.0) and an out-of-the-box FastAPI app.

#![allow(dead_code)]

use super::{Netns, Proc, PYTHON};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const HOST: &str = "rempart.test";
pub const DJANGO: u16 = 18000;
pub const API_BAD: u16 = 18001;
pub const API_GOOD: u16 = 18002;
pub const OCSP: u16 = 18889;
pub const NGINX_HTTP: u16 = 18080;
pub const NGINX_HTTPS: u16 = 18443;
pub const APACHE_HTTP: u16 = 19080;
pub const APACHE_HTTPS: u16 = 19443;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Make the CA and both server certificates in `dir`.
pub fn make_certs(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "30",
            "-subj",
            "/CN=rempart test CA",
        ],
    );
    fs::write(
        dir.join("ext.cnf"),
        format!("subjectAltName=DNS:{HOST},IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "good.key",
            "-out",
            "good.csr",
            "-subj",
            "/CN=rempart.test",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "good.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "90",
            "-extfile",
            "ext.cnf",
            "-out",
            "good.crt",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-keyout",
            "bad.key",
            "-out",
            "bad.csr",
            "-subj",
            "/CN=rempart.test",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "bad.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "5",
            "-extfile",
            "ext.cnf",
            "-out",
            "bad.crt",
        ],
    );
    let chain = [
        fs::read(dir.join("good.crt")).unwrap(),
        fs::read(dir.join("ca.crt")).unwrap(),
    ]
    .concat();
    fs::write(dir.join("good-chain.crt"), chain).unwrap();
    // The OCSP responder's database: the good certificate, valid.
    let serial = cmd_out(
        dir,
        "openssl",
        &["x509", "-in", "good.crt", "-noout", "-serial"],
    );
    let serial = serial.trim().trim_start_matches("serial=");
    let end = cmd_out(
        dir,
        "openssl",
        &["x509", "-in", "good.crt", "-noout", "-enddate"],
    );
    let end = end.trim().trim_start_matches("notAfter=");
    let z = cmd_out(dir, "date", &["-u", "-d", end, "+%y%m%d%H%M%SZ"]);
    fs::write(
        dir.join("index.txt"),
        format!("V\t{}\t\t{serial}\tunknown\t/CN={HOST}\n", z.trim()),
    )
    .unwrap();
}

fn cmd_out(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{program} {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

const DJANGO_APP: &str = r##"# A Django project left with DEBUG = True (what the seeds warn against).
import sys
from django.conf import settings
settings.configure(
    DEBUG=True,
    SECRET_KEY="django-insecure-rempart-test",
    ALLOWED_HOSTS=["rempart.test", "127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                    "django.contrib.sessions", "django.contrib.messages"],
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                            "django.contrib.auth.context_processors.auth",
                            "django.contrib.messages.context_processors.messages"]}}],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
import django
django.setup()
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path

def home(request):
    r = HttpResponse("<html><body><h1>AV monitoring</h1></body></html>")
    r.set_cookie("sessionid", "0123456789abcdef")
    return r

urlpatterns = [path("", home), path("admin/", admin.site.urls)]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line
    execute_from_command_line([sys.argv[0], "runserver", sys.argv[1], "--noreload", "--nothreading"])
"##;

const API_BAD_APP: &str = r##"# A FastAPI backend as it comes out of the box: /docs, /redoc and /openapi.json served, and
# a /metrics endpoint in the Prometheus format.
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI(title="AV monitoring API")

@app.get("/api/sites")
def sites():
    return [{"id": 1, "name": "Salle A"}]

@app.get("/metrics", response_class=PlainTextResponse)
def metrics():
    return "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\nhttp_requests_total 42\n"
"##;

const API_GOOD_APP: &str = r##"# The same backend set up as the seed asks: no public docs, a session cookie with its flags.
from fastapi import FastAPI, Response

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

@app.get("/")
def home(response: Response):
    response.set_cookie("session", "opaque", secure=True, httponly=True, samesite="lax")
    return {"status": "ok"}
"##;

fn nginx_bad(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"# Deliberately bad: TLS 1.0 and 1.1, NULL and anonymous suites, a 1024-bit key expiring in
# 5 days, version banners, no security headers, content over plain HTTP, Django with DEBUG on,
# FastAPI docs and metrics, stub_status, a directory listing and the app's .env.
daemon off;
master_process on;
worker_processes 1;
user root;
pid {d}/nginx/nginx.pid;
error_log {d}/nginx/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/nginx/body;
    proxy_temp_path {d}/nginx/proxy;
    fastcgi_temp_path {d}/nginx/fastcgi;
    uwsgi_temp_path {d}/nginx/uwsgi;
    scgi_temp_path {d}/nginx/scgi;
    server {{
        listen 127.0.0.1:{NGINX_HTTP};
        server_name {HOST};
        location / {{ proxy_pass http://127.0.0.1:{DJANGO}; proxy_set_header Host $host; }}
    }}
    server {{
        listen 127.0.0.1:{NGINX_HTTPS} ssl;
        server_name {HOST};
        ssl_certificate {d}/bad.crt;
        ssl_certificate_key {d}/bad.key;
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
        ssl_ciphers ALL:eNULL:@SECLEVEL=0;
        location / {{ proxy_pass http://127.0.0.1:{DJANGO}; proxy_set_header Host $host; }}
        location /static/ {{ alias {d}/static/; autoindex on; }}
        location = /nginx_status {{ stub_status; }}
        location ~ ^/(docs|redoc|openapi.json|metrics)$ {{ proxy_pass http://127.0.0.1:{API_BAD}; }}
        location = /.env {{ alias {d}/app/.env; default_type text/plain; }}
    }}
}}
"#
    )
}

fn apache_good(dir: &Path) -> String {
    let d = dir.display();
    let m = "/usr/lib/apache2/modules";
    format!(
        r#"# Configured as seed 002 asks: TLS 1.2+, its headers, ServerTokens Prod, plain HTTP
# redirected; plus a CSP, a Permissions-Policy and OCSP stapling.
ServerRoot {d}/apache
DefaultRuntimeDir {d}/apache
PidFile {d}/apache/apache.pid
ErrorLog {d}/apache/error.log
LogLevel warn
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule alias_module {m}/mod_alias.so
LoadModule headers_module {m}/mod_headers.so
LoadModule socache_shmcb_module {m}/mod_socache_shmcb.so
LoadModule ssl_module {m}/mod_ssl.so
LoadModule proxy_module {m}/mod_proxy.so
LoadModule proxy_http_module {m}/mod_proxy_http.so
User www-data
Group www-data
ServerName {HOST}
Listen 127.0.0.1:{APACHE_HTTP}
Listen 127.0.0.1:{APACHE_HTTPS}
ServerTokens Prod
ServerSignature Off
TraceEnable Off
SSLStaplingCache shmcb:{d}/apache/stapling(32768)
SSLSessionCache shmcb:{d}/apache/sessions(32768)
<VirtualHost 127.0.0.1:{APACHE_HTTP}>
    ServerName {HOST}
    Redirect permanent / https://{HOST}:{APACHE_HTTPS}/
</VirtualHost>
<VirtualHost 127.0.0.1:{APACHE_HTTPS}>
    ServerName {HOST}
    SSLEngine on
    SSLCertificateFile {d}/good-chain.crt
    SSLCertificateKeyFile {d}/good.key
    SSLProtocol -all +TLSv1.2 +TLSv1.3
    SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305
    SSLUseStapling on
    SSLStaplingForceURL http://127.0.0.1:{OCSP}/
    Header always set X-Frame-Options "DENY"
    Header always set X-Content-Type-Options "nosniff"
    Header always set Referrer-Policy "no-referrer-when-downgrade"
    Header always set Strict-Transport-Security "max-age=63072000; includeSubDomains; preload"
    Header always set Content-Security-Policy "default-src 'self'; object-src 'none'; frame-ancestors 'none'"
    Header always set Permissions-Policy "camera=(), microphone=(), geolocation=()"
    ProxyPass / http://127.0.0.1:{API_GOOD}/
    ProxyPassReverse / http://127.0.0.1:{API_GOOD}/
</VirtualHost>
"#
    )
}

/// A running stack: its processes stop when this drops (before the namespace).
pub struct Stack {
    pub procs: Vec<Proc>,
    pub dir: PathBuf,
}

fn write_apps(dir: &Path) {
    fs::create_dir_all(dir.join("app")).unwrap();
    fs::create_dir_all(dir.join("static/reports")).unwrap();
    fs::write(
        dir.join("static/reports/q3.csv"),
        "site,uptime\nSalle A,99.9\n",
    )
    .unwrap();
    fs::write(
        dir.join("app/.env"),
        "DATABASE_URL=postgresql://avmvp_user:s3cret@localhost/avmvp_db\nSECRET_KEY=django-insecure-abc\n",
    )
    .unwrap();
    fs::write(dir.join("app/django_debug.py"), DJANGO_APP).unwrap();
    fs::write(dir.join("app/api_bad.py"), API_BAD_APP).unwrap();
    fs::write(dir.join("app/api_good.py"), API_GOOD_APP).unwrap();
}

/// nginx (bad) in front of Django (DEBUG, 0.0.0.0) and FastAPI (docs, metrics).
pub fn start_bad(ns: &Netns, dir: &Path) -> Stack {
    write_apps(dir);
    fs::create_dir_all(dir.join("nginx")).unwrap();
    fs::write(dir.join("nginx/nginx.conf"), nginx_bad(dir)).unwrap();
    let app = dir.join("app");
    let log = |n: &str| dir.join(format!("{n}.log"));
    let django = ns.spawn(
        &log("django"),
        PYTHON,
        &[
            app.join("django_debug.py").to_str().unwrap(),
            &format!("0.0.0.0:{DJANGO}"),
        ],
    );
    let api = ns.spawn(
        &log("api_bad"),
        PYTHON,
        &[
            "-m",
            "uvicorn",
            "api_bad:app",
            "--app-dir",
            app.to_str().unwrap(),
            "--host",
            "127.0.0.1",
            "--port",
            &API_BAD.to_string(),
        ],
    );
    let conf = dir.join("nginx/nginx.conf");
    let prefix = dir.join("nginx");
    let nginx = ns.spawn(
        &log("nginx"),
        "nginx",
        &["-p", prefix.to_str().unwrap(), "-c", conf.to_str().unwrap()],
    );
    ns.wait_ports(
        &[DJANGO, API_BAD, NGINX_HTTP, NGINX_HTTPS],
        &[
            &log("django"),
            &log("api_bad"),
            &log("nginx"),
            &dir.join("nginx/error.log"),
        ],
    );
    Stack {
        procs: vec![nginx, api, django],
        dir: dir.to_path_buf(),
    }
}

/// Apache (as the seed asks) in front of FastAPI, with an OCSP responder for stapling.
pub fn start_good(ns: &Netns, dir: &Path) -> Stack {
    write_apps(dir);
    fs::create_dir_all(dir.join("apache")).unwrap();
    fs::write(dir.join("apache/apache.conf"), apache_good(dir)).unwrap();
    let log = |n: &str| dir.join(format!("{n}.log"));
    let d = dir.to_str().unwrap();
    let ocsp = ns.spawn(
        &log("ocsp"),
        "openssl",
        &[
            "ocsp",
            "-index",
            &format!("{d}/index.txt"),
            "-port",
            &OCSP.to_string(),
            "-rsigner",
            &format!("{d}/ca.crt"),
            "-rkey",
            &format!("{d}/ca.key"),
            "-CA",
            &format!("{d}/ca.crt"),
            "-nmin",
            "5",
            "-timeout",
            "3",
        ],
    );
    let api = ns.spawn(
        &log("api_good"),
        PYTHON,
        &[
            "-m",
            "uvicorn",
            "api_good:app",
            "--app-dir",
            &format!("{d}/app"),
            "--host",
            "127.0.0.1",
            "--port",
            &API_GOOD.to_string(),
            "--no-server-header",
        ],
    );
    // Apache fetches the OCSP response at its first handshake: the responder must answer
    // first. It serves one connection at a time, so readiness is a real OCSP query (a bare
    // connect would hold it).
    ns.wait_ports(&[API_GOOD], &[&log("api_good")]);
    let ready = (0..100).any(|_| {
        let ok = ns
            .cmd("openssl")
            .args([
                "ocsp",
                "-issuer",
                &format!("{d}/ca.crt"),
                "-cert",
                &format!("{d}/good.crt"),
                "-CAfile",
                &format!("{d}/ca.crt"),
                "-timeout",
                "2",
                "-url",
                &format!("http://127.0.0.1:{OCSP}/"),
            ])
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains("good")
            });
        if !ok {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        ok
    });
    assert!(
        ready,
        "the OCSP responder never answered: {}",
        fs::read_to_string(log("ocsp")).unwrap_or_default()
    );
    let conf = format!("{d}/apache/apache.conf");
    let apache = ns.spawn(
        &log("apache"),
        "apache2",
        &["-d", &format!("{d}/apache"), "-f", &conf, "-DFOREGROUND"],
    );
    ns.wait_ports(
        &[APACHE_HTTP, APACHE_HTTPS],
        &[&log("apache"), &dir.join("apache/error.log")],
    );
    Stack {
        procs: vec![apache, api, ocsp],
        dir: dir.to_path_buf(),
    }
}

/// testssl.sh's JSON findings (`id` -> `finding`) for the URL, inside the namespace.
pub fn testssl(ns: &Netns, dir: &Path, url: &str) -> std::collections::BTreeMap<String, String> {
    let out_file = dir.join(format!(
        "testssl-{}.json",
        url.rsplit(':').next().unwrap_or("x").trim_matches('/')
    ));
    let _ = fs::remove_file(&out_file);
    let out = ns
        .cmd("testssl")
        .args([
            "--jsonfile",
            out_file.to_str().unwrap(),
            "-p",
            "-s",
            "-S",
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--ip",
            "127.0.0.1",
            "--add-ca",
        ])
        .arg(dir.join("ca.crt"))
        .arg(url)
        .output()
        .expect("testssl (Debian package testssl.sh)");
    let text = fs::read_to_string(&out_file).unwrap_or_else(|e| {
        panic!(
            "testssl wrote no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["finding"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
