//! What the web servers' configurations say about the rest of the host, for other families and
//! for the certificate rules: the applications they serve or proxy to ([`WebServers::app_refs`],
//! used by application discovery) and the certificates and keys they name
//! ([`WebServers::named_certs`]).

use super::apache::{Apache, Directive as ADirective};
use super::cert::NamedCert;
use super::nginx::{Directive as NDirective, Nginx};
use super::traefik::{tree::Node, Traefik};
use crate::facts::apps::{AppRef, AppRefKind};
use crate::model::Evidence;
use crate::rule::{Ctx, Fact};
use std::sync::Arc;

/// The three servers' facts, together.
#[derive(Debug, Clone)]
pub struct WebServers {
    pub apache: Arc<Apache>,
    pub nginx: Arc<Nginx>,
    pub traefik: Arc<Traefik>,
}

impl Fact for WebServers {
    fn collect(ctx: &Ctx) -> WebServers {
        WebServers {
            apache: ctx.fact::<Apache>(),
            nginx: ctx.fact::<Nginx>(),
            traefik: ctx.fact::<Traefik>(),
        }
    }
}

fn apache_walk<'a>(ds: &'a [ADirective], out: &mut Vec<&'a ADirective>) {
    for d in ds {
        out.push(d);
        apache_walk(&d.children, out);
    }
}

fn nginx_walk<'a>(ds: &'a [NDirective], out: &mut Vec<&'a NDirective>) {
    for d in ds {
        out.push(d);
        nginx_walk(d.kids(), out);
    }
}

fn aref(kind: AppRefKind, value: &str, source: &str, line: u32) -> AppRef {
    AppRef {
        kind,
        value: value.to_string(),
        source: source.to_string(),
        line: (line > 0).then_some(line),
    }
}

impl WebServers {
    /// Every application reference the enabled web configuration makes: Apache
    /// `WSGIScriptAlias`, `WSGIDaemonProcess python-path=`/`python-home=`, `ProxyPass` and
    /// `ProxyPassReverse` targets, `DocumentRoot`; nginx `proxy_pass`, `uwsgi_pass`, `root`;
    /// Traefik `loadBalancer.servers[].url` (file provider and Docker labels). Unreadable or
    /// absent configurations contribute nothing.
    pub fn app_refs(&self) -> Vec<AppRef> {
        let mut out = Vec::new();
        if let Some(cfg) = &self.apache.config {
            let mut all = Vec::new();
            apache_walk(&cfg.tree, &mut all);
            for d in all {
                let file = &*d.file;
                let lname = d.name.to_ascii_lowercase();
                match lname.as_str() {
                    "wsgiscriptalias" | "wsgiscriptaliasmatch" => {
                        if let Some(p) = d.arg(1) {
                            out.push(aref(AppRefKind::WsgiScript, p, file, d.line));
                        }
                    }
                    "wsgidaemonprocess" => {
                        for a in d.args.iter().skip(1) {
                            if let Some(v) = a
                                .strip_prefix("python-path=")
                                .or_else(|| a.strip_prefix("python-home="))
                            {
                                for p in v.split(':').filter(|p| !p.is_empty()) {
                                    out.push(aref(AppRefKind::PythonPath, p, file, d.line));
                                }
                            }
                        }
                    }
                    "proxypass" | "proxypassreverse" | "proxypassmatch" => {
                        if let Some(t) = d.args.iter().skip(1).find(|a| a.contains("://")) {
                            out.push(aref(AppRefKind::ProxyTarget, t, file, d.line));
                        }
                    }
                    "documentroot" => {
                        if let Some(p) = d.arg(0) {
                            out.push(aref(AppRefKind::DocumentRoot, p, file, d.line));
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(cfg) = &self.nginx.config {
            let mut all = Vec::new();
            nginx_walk(&cfg.tree, &mut all);
            for d in all {
                let file = &*d.file;
                let Some(v) = d.arg(0) else { continue };
                let kind = match d.name.as_str() {
                    "proxy_pass" => AppRefKind::ProxyTarget,
                    "uwsgi_pass" => AppRefKind::UwsgiTarget,
                    "root" => AppRefKind::DocumentRoot,
                    _ => continue,
                };
                out.push(aref(kind, v, file, d.line));
            }
        }
        for inst in &self.traefik.instances {
            for doc in &inst.dynamic {
                let Some(services) = doc.root.path("http.services") else {
                    continue;
                };
                for (_, svc) in services.entries() {
                    let Some(lb) = svc.get("loadbalancer") else {
                        continue;
                    };
                    let mut urls: Vec<&Node> = Vec::new();
                    if let Some(servers) = lb.get("servers") {
                        urls.extend(servers.items().iter().filter_map(|s| s.get("url")));
                        urls.extend(servers.entries().iter().filter_map(|(_, s)| s.get("url")));
                    }
                    urls.extend(lb.path("server.url"));
                    for u in urls {
                        if let Some(v) = u.str() {
                            out.push(aref(AppRefKind::ProxyTarget, v, &doc.path, u.line));
                        }
                    }
                }
            }
        }
        out
    }

    /// Every certificate (with its key) the enabled configurations name, with where.
    pub fn named_certs(&self) -> Vec<NamedCert> {
        let mut out = Vec::new();
        if let Some(cfg) = &self.apache.config {
            let mut all = Vec::new();
            apache_walk(&cfg.tree, &mut all);
            // Pair each SSLCertificateFile with the next key file of the same block.
            for scope in std::iter::once(&cfg.tree[..])
                .chain(all.iter().filter(|d| d.section).map(|d| &d.children[..]))
            {
                let cert = scope.iter().rev().find(|d| d.is("SSLCertificateFile"));
                let key = scope.iter().rev().find(|d| d.is("SSLCertificateKeyFile"));
                match (cert, key) {
                    (Some(c), k) => out.push(NamedCert {
                        cert: c.arg(0).map(|p| abs(p, super::apache::SERVER_ROOT)),
                        key: k
                            .and_then(|k| k.arg(0))
                            .map(|p| abs(p, super::apache::SERVER_ROOT)),
                        named_at: c.evidence(),
                        server: "apache",
                    }),
                    (None, Some(k)) => out.push(NamedCert {
                        cert: None,
                        key: k.arg(0).map(|p| abs(p, super::apache::SERVER_ROOT)),
                        named_at: k.evidence(),
                        server: "apache",
                    }),
                    (None, None) => {}
                }
            }
        }
        if let Some(cfg) = &self.nginx.config {
            let mut all = Vec::new();
            nginx_walk(&cfg.tree, &mut all);
            let usable =
                |p: &str| !p.contains('$') && !p.starts_with("data:") && !p.starts_with("engine:");
            for d in all
                .iter()
                .filter(|d| d.block.is_some())
                .map(|d| d.kids())
                .chain(std::iter::once(&cfg.tree[..]))
            {
                let cert = d.iter().rev().find(|x| x.name == "ssl_certificate");
                let key = d.iter().rev().find(|x| x.name == "ssl_certificate_key");
                if cert.is_none() && key.is_none() {
                    continue;
                }
                let named_at = cert.or(key).map(|x| x.evidence()).unwrap_or_default();
                out.push(NamedCert {
                    cert: cert
                        .and_then(|c| c.arg(0))
                        .filter(|p| usable(p))
                        .map(|p| abs(p, "/etc/nginx")),
                    key: key
                        .and_then(|k| k.arg(0))
                        .filter(|p| usable(p))
                        .map(|p| abs(p, "/etc/nginx")),
                    named_at,
                    server: "nginx",
                });
            }
        }
        for inst in &self.traefik.instances {
            for doc in &inst.dynamic {
                let Some(certs) = doc.root.path("tls.certificates") else {
                    continue;
                };
                for c in certs.items() {
                    let cf = c.get("certfile");
                    let kf = c.get("keyfile");
                    out.push(NamedCert {
                        cert: cf.and_then(Node::str).and_then(|p| inst.host_path(p)),
                        key: kf.and_then(Node::str).and_then(|p| inst.host_path(p)),
                        named_at: doc.evidence(cf.or(kf).unwrap_or(c)),
                        server: "traefik",
                    });
                }
            }
            if let Some(resolvers) = inst
                .static_root()
                .and_then(|r| r.get("certificatesresolvers"))
            {
                for (_, r) in resolvers.entries() {
                    let storage = r.path("acme.storage");
                    let path = storage.and_then(Node::str).unwrap_or("acme.json");
                    let path = if path.starts_with('/') {
                        path.to_string()
                    } else {
                        // Relative to Traefik's working directory: `/` in the official image.
                        format!("/{path}")
                    };
                    let Some(host_path) = inst.host_path(&path) else {
                        continue;
                    };
                    out.push(NamedCert {
                        cert: None,
                        key: Some(host_path),
                        named_at: inst.static_evidence(storage.or(Some(r))),
                        server: "traefik-acme",
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.cert, &a.key).cmp(&(&b.cert, &b.key)));
        out.dedup_by(|a, b| a.cert == b.cert && a.key == b.key);
        out
    }
}

fn abs(p: &str, prefix: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{prefix}/{p}")
    }
}

/// Evidence for a certificate file itself.
pub fn file_evidence(path: &str) -> Evidence {
    Evidence::file(path)
}
