//! Which web server sites serve an application, read from the web family's facts: an Apache
//! virtual host that runs it under mod_wsgi (`WSGIScriptAlias`/`WSGIDaemonProcess` into its
//! directory) or proxies to one of its units' addresses (`ProxyPass`), an nginx `server` that
//! proxies to one of them (`proxy_pass`), and for each the host names it answers to, whether it
//! speaks TLS, and whether a proxy tells the app the original scheme (`X-Forwarded-Proto`).
//! Traefik routers are not followed here: the Django fixes decline for apps behind Traefik.

use rempart_audit::rule::Ctx;
use rempart_audit::rules::services::discovery::Discovery;
use rempart_audit::rules::web::apache::{Apache, Directive as ADirective};
use rempart_audit::rules::web::nginx::{Directive as NDirective, Nginx};

/// One site serving the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Front {
    /// `file:line` of the vhost or server block, for messages.
    pub site: String,
    /// Host names it answers to (ServerName/ServerAlias, server_name), wildcards as Django
    /// writes them (`.example.org`).
    pub names: Vec<String>,
    pub https: bool,
    /// A reverse proxy in front of an app server (not mod_wsgi inside httpd).
    pub proxied: bool,
    /// The proxy sets `X-Forwarded-Proto` towards the app.
    pub forwarded_proto: bool,
    /// Redirects every request to https (serves nothing else).
    pub redirect_only: bool,
    /// The account mod_wsgi runs the app as inside httpd: `WSGIDaemonProcess ... user=U`, else
    /// Apache's own (`www-data` on Debian); `None` for a proxied app.
    pub wsgi_user: Option<String>,
}

/// The addresses the application's units listen on: `(host, port)` or a unix socket path.
#[derive(Debug, Default)]
struct Backends {
    ports: Vec<u16>,
    sockets: Vec<String>,
}

impl Backends {
    /// Whether a proxy target (`http://127.0.0.1:8001/`, `unix:/run/a.sock|http://x/`,
    /// `http://unix:/run/a.sock:`) reaches one of them.
    fn reached_by(&self, target: &str) -> bool {
        if self
            .sockets
            .iter()
            .any(|s| target.contains(&format!("unix:{s}")))
        {
            return true;
        }
        let Some((_, rest)) = target.split_once("://") else {
            return false;
        };
        let hostport = rest.split(['/', '?']).next().unwrap_or("");
        let Some((host, port)) = hostport.rsplit_once(':') else {
            return false;
        };
        let local = matches!(
            host.trim_matches(['[', ']']),
            "127.0.0.1" | "localhost" | "::1" | "0.0.0.0"
        );
        local && port.parse().is_ok_and(|p: u16| self.ports.contains(&p))
    }
}

fn backends(ctx: &Ctx, app: usize) -> Backends {
    let d = ctx.fact::<Discovery>();
    let mut b = Backends::default();
    let Some(a) = d.apps.get(app) else {
        return b;
    };
    for u in d.units.iter().filter(|u| a.units.contains(&u.unit.name)) {
        for bind in u.server.iter().flat_map(|s| s.binds.iter()) {
            let addr = bind.addr.trim();
            if let Some(path) = addr.strip_prefix("unix:") {
                b.sockets.push(path.to_string());
            } else if addr.starts_with('/') {
                b.sockets.push(addr.to_string());
            } else if let Some(p) = addr
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
            {
                b.ports.push(p);
            }
        }
    }
    b
}

/// A host name as Django's ALLOWED_HOSTS writes it, or `None` for catch-alls and regexes.
fn django_name(n: &str) -> Option<String> {
    let n = n.trim().to_ascii_lowercase();
    if n.is_empty() || n == "_" || n.starts_with('~') || n.contains(['$', '"', '\'', '\\']) {
        return None;
    }
    if let Some(rest) = n.strip_prefix("*.") {
        return Some(format!(".{rest}"));
    }
    (!n.contains('*')).then_some(n)
}

fn push_names<'a>(out: &mut Vec<String>, names: impl Iterator<Item = &'a str>) {
    for n in names.filter_map(django_name) {
        if !out.contains(&n) {
            out.push(n);
        }
    }
}

fn apache_walk<'a>(ds: &'a [ADirective], out: &mut Vec<&'a ADirective>) {
    for d in ds {
        out.push(d);
        apache_walk(&d.children, out);
    }
}

fn apache_fronts(ctx: &Ctx, dir: &str, b: &Backends, out: &mut Vec<Front>) {
    let apache = ctx.fact::<Apache>();
    let Some(cfg) = &apache.config else {
        return;
    };
    let inside = |p: &str| p == dir || p.starts_with(&format!("{}/", dir.trim_end_matches('/')));
    for site in cfg.sites() {
        let Some(vh) = site.vhost else { continue };
        let mut all = Vec::new();
        apache_walk(&vh.section.children, &mut all);
        let wsgi = all.iter().any(|d| {
            (d.is("WSGIScriptAlias") || d.is("WSGIScriptAliasMatch"))
                && d.arg(1).is_some_and(inside)
        });
        let proxy = all.iter().any(|d| {
            (d.is("ProxyPass") || d.is("ProxyPassMatch"))
                && d.args.iter().skip(1).any(|a| b.reached_by(a))
        });
        if !wsgi && !proxy {
            continue;
        }
        let mut names = Vec::new();
        for d in all
            .iter()
            .filter(|d| d.is("ServerName") || d.is("ServerAlias"))
        {
            push_names(&mut names, d.args.iter().map(String::as_str));
        }
        let forwarded_proto = all.iter().any(|d| {
            d.is("RequestHeader")
                && d.args.iter().any(|a| a.eq_ignore_ascii_case("set"))
                && d.args
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case("X-Forwarded-Proto"))
        });
        let wsgi_user = wsgi.then(|| {
            all.iter()
                .filter(|d| d.is("WSGIDaemonProcess"))
                .flat_map(|d| d.args.iter())
                .find_map(|a| a.strip_prefix("user="))
                .unwrap_or("www-data")
                .to_string()
        });
        out.push(Front {
            site: format!("{}:{}", vh.section.file, vh.section.line),
            names,
            https: site.tls,
            proxied: !wsgi,
            forwarded_proto,
            redirect_only: site.redirect.is_some(),
            wsgi_user,
        });
    }
}

/// Whether a `proxy_set_header X-Forwarded-Proto` applies at the innermost of `chain` (nginx
/// inherits `proxy_set_header` only into blocks that have none of their own).
fn nginx_sets_proto(chain: &[&NDirective]) -> bool {
    for block in chain.iter().rev() {
        let sets: Vec<&NDirective> = block
            .kids()
            .iter()
            .filter(|d| d.name == "proxy_set_header")
            .collect();
        if !sets.is_empty() {
            return sets.iter().any(|d| {
                d.arg(0)
                    .is_some_and(|h| h.eq_ignore_ascii_case("X-Forwarded-Proto"))
            });
        }
    }
    false
}

/// Every `proxy_pass` under `block` reaching the backends, with whether it sends the scheme.
fn nginx_passes<'a>(
    chain: &mut Vec<&'a NDirective>,
    block: &'a NDirective,
    b: &Backends,
    out: &mut Vec<bool>,
) {
    chain.push(block);
    for d in block.kids() {
        if d.name == "proxy_pass" && d.arg(0).is_some_and(|t| b.reached_by(t)) {
            out.push(nginx_sets_proto(chain));
        }
        if d.block.is_some() {
            nginx_passes(chain, d, b, out);
        }
    }
    chain.pop();
}

fn nginx_fronts(ctx: &Ctx, b: &Backends, out: &mut Vec<Front>) {
    let nginx = ctx.fact::<Nginx>();
    let Some(cfg) = &nginx.config else {
        return;
    };
    for s in cfg.servers() {
        let mut passes = Vec::new();
        let mut chain = vec![s.http];
        nginx_passes(&mut chain, s.block, b, &mut passes);
        if passes.is_empty() {
            continue;
        }
        let mut names = Vec::new();
        for d in s.block.kids().iter().filter(|d| d.name == "server_name") {
            push_names(&mut names, d.args.iter().map(String::as_str));
        }
        out.push(Front {
            site: format!("{}:{}", s.block.file, s.block.line),
            names,
            https: s.has_tls(),
            proxied: true,
            forwarded_proto: passes.iter().all(|p| *p),
            redirect_only: false,
            wsgi_user: None,
        });
    }
}

/// The sites serving application `app` (an index in `Discovery::apps`).
pub fn fronts(ctx: &Ctx, app: usize) -> Vec<Front> {
    let d = ctx.fact::<Discovery>();
    let Some(a) = d.apps.get(app) else {
        return Vec::new();
    };
    let b = backends(ctx, app);
    let mut out = Vec::new();
    apache_fronts(ctx, &a.dir, &b, &mut out);
    nginx_fronts(ctx, &b, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_targets_reach_local_backends() {
        let b = Backends {
            ports: vec![8001],
            sockets: vec!["/run/gunicorn.sock".into()],
        };
        assert!(b.reached_by("http://127.0.0.1:8001/"));
        assert!(b.reached_by("http://localhost:8001"));
        assert!(b.reached_by("http://unix:/run/gunicorn.sock:"));
        assert!(b.reached_by("unix:/run/gunicorn.sock|http://app/"));
        assert!(!b.reached_by("http://127.0.0.1:8002/"));
        assert!(!b.reached_by("http://10.0.0.5:8001/"));
        assert!(!b.reached_by("/static/"));
    }

    #[test]
    fn names_are_written_as_django_wants_them() {
        assert_eq!(django_name("Ton.Domaine.TLD").unwrap(), "ton.domaine.tld");
        assert_eq!(django_name("*.example.org").unwrap(), ".example.org");
        assert_eq!(django_name("_"), None);
        assert_eq!(django_name("~^www\\d+"), None);
        assert_eq!(django_name("www.*"), None);
    }
}
