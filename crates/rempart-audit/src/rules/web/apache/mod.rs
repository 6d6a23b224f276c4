//! Apache httpd: its configuration read once per run ([`Apache`], a fact), as httpd itself
//! would read it on a Debian host (`/etc/apache2/apache2.conf` and what it includes), and the
//! queries the WEB-APACHE-* rules share: server-level values, virtual hosts, loaded modules,
//! effective response headers. It does not judge anything.

pub mod lexer;
pub mod load;

use crate::host::HostError;
use crate::rule::{Ctx, Fact};
use crate::rules::web::headers::HeaderSeen;
use std::sync::Arc;

/// Debian's ServerRoot and main file.
pub const SERVER_ROOT: &str = "/etc/apache2";
pub const MAIN_FILE: &str = "/etc/apache2/apache2.conf";

/// One directive or section, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// As written (`ServerTokens`); compare with [`Directive::is`].
    pub name: String,
    pub args: Vec<String>,
    /// Host path of the file.
    pub file: Arc<str>,
    pub line: u32,
    /// The line as written (continuations joined), for evidence snippets.
    pub text: String,
    /// True for `<Section>` blocks.
    pub section: bool,
    pub children: Vec<Directive>,
}

impl Directive {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }

    /// Evidence pointing at this directive.
    pub fn evidence(&self) -> crate::model::Evidence {
        crate::model::Evidence::file(self.file.to_string())
            .line(self.line)
            .snippet(&self.text)
    }
}

/// A `LoadModule` that httpd would execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedModule {
    /// `status_module`.
    pub id: String,
    pub path: String,
    pub file: String,
    pub line: u32,
    pub text: String,
}

/// Something that keeps the configuration from being read as httpd would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseProblem {
    pub path: String,
    pub line: Option<u32>,
    pub message: String,
}

impl ParseProblem {
    pub fn from_host(e: HostError) -> ParseProblem {
        let o = crate::rule::Outcome::from(e);
        ParseProblem {
            path: o
                .evidence
                .first()
                .and_then(|e| e.path.clone())
                .unwrap_or_default(),
            line: None,
            message: o.message,
        }
    }

    pub fn outcome(&self, what: &str) -> crate::rule::Outcome {
        let mut ev = crate::model::Evidence::file(&self.path);
        if let Some(l) = self.line {
            ev = ev.line(l);
        }
        crate::rule::Outcome::error(format!("{what}: {}", self.message)).with(ev)
    }
}

/// The whole configuration after includes and conditionals.
#[derive(Debug, Clone, Default)]
pub struct ApacheConfig {
    pub main: String,
    /// Top-level directives; sections keep their children.
    pub tree: Vec<Directive>,
    pub modules: Vec<LoadedModule>,
    /// Every file read, in reading order.
    pub files: Vec<String>,
    pub problems: Vec<ParseProblem>,
}

/// A `<VirtualHost>` and what it serves.
#[derive(Debug, Clone, Copy)]
pub struct VHost<'a> {
    pub section: &'a Directive,
}

impl<'a> VHost<'a> {
    /// The last directive of this name directly in the vhost.
    pub fn last(&self, name: &str) -> Option<&'a Directive> {
        self.section.children.iter().rev().find(|d| d.is(name))
    }

    pub fn name(&self) -> String {
        let server = self
            .last("ServerName")
            .and_then(|d| d.arg(0))
            .unwrap_or("(no ServerName)");
        format!("{server} ({})", self.section.args.join(" "))
    }

    /// Ports of the vhost's addresses (`*:443` -> 443).
    pub fn ports(&self) -> Vec<u16> {
        self.section
            .args
            .iter()
            .filter_map(|a| a.rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
            .collect()
    }
}

impl ApacheConfig {
    /// The last top-level directive (outside any section) of this name: the server-wide value.
    pub fn server_last(&self, name: &str) -> Option<&Directive> {
        self.tree.iter().rev().find(|d| !d.section && d.is(name))
    }

    /// Evidence wherever a directive whose default is On is not `Off`: unset or on at server
    /// level, or turned back on in a virtual host (`ServerSignature`, `TraceEnable`).
    pub fn not_off(&self, name: &str) -> Vec<crate::model::Evidence> {
        let off = |d: &Directive| d.arg(0).is_some_and(|v| v.eq_ignore_ascii_case("off"));
        let mut bad = Vec::new();
        match self.server_last(name) {
            Some(d) if off(d) => {}
            Some(d) => bad.push(
                d.evidence()
                    .key(name)
                    .actual(d.arg(0).unwrap_or(""))
                    .expected("Off"),
            ),
            None => bad.push(
                crate::model::Evidence::file(MAIN_FILE)
                    .key(name)
                    .actual("unset (On)")
                    .expected("Off"),
            ),
        }
        for vh in self.vhosts() {
            if let Some(d) = vh.last(name).filter(|d| !off(d)) {
                bad.push(
                    d.evidence()
                        .key(name)
                        .actual(d.arg(0).unwrap_or(""))
                        .expected("Off")
                        .note(format!("in virtual host {}", vh.name())),
                );
            }
        }
        bad
    }

    pub fn vhosts(&self) -> impl Iterator<Item = VHost<'_>> {
        self.tree
            .iter()
            .filter(|d| d.section && d.is("VirtualHost"))
            .map(|section| VHost { section })
    }

    /// The vhost's value, else the server-wide one.
    pub fn effective<'a>(&'a self, vh: &VHost<'a>, name: &str) -> Option<&'a Directive> {
        vh.last(name).or_else(|| self.server_last(name))
    }

    /// `SSLEngine on` in the vhost (or server-wide).
    pub fn is_tls(&self, vh: &VHost<'_>) -> bool {
        self.effective(vh, "SSLEngine")
            .and_then(|d| d.arg(0))
            .is_some_and(|v| v.eq_ignore_ascii_case("on"))
    }

    /// Every site: each virtual host, or the main server when no vhost is defined.
    pub fn sites(&self) -> Vec<Site<'_>> {
        let vhosts: Vec<VHost<'_>> = self.vhosts().collect();
        if vhosts.is_empty() {
            let tls = self
                .server_last("SSLEngine")
                .and_then(|d| d.arg(0))
                .is_some_and(|v| v.eq_ignore_ascii_case("on"));
            return vec![Site {
                vhost: None,
                tls,
                redirect: https_redirect(&self.tree),
            }];
        }
        vhosts
            .into_iter()
            .map(|v| Site {
                tls: self.is_tls(&v),
                redirect: https_redirect(&v.section.children),
                vhost: Some(v),
            })
            .collect()
    }

    /// Sites that serve content: TLS sites, and plain sites that do not redirect to https.
    pub fn content_sites(&self) -> Vec<Site<'_>> {
        self.sites()
            .into_iter()
            .filter(|s| s.tls || s.redirect.is_none())
            .collect()
    }

    pub fn module(&self, id: &str) -> Option<&LoadedModule> {
        let want = module_key(id);
        self.modules.iter().find(|m| module_key(&m.id) == want)
    }

    /// Response headers the vhost sends: `Header` directives at server level, then in the
    /// vhost itself (mod_headers merges them in that order); `unset` removes. `Header` inside
    /// `<Directory>`, `<Location>` or `<If>` applies to part of the site only and is not counted.
    pub fn headers(&self, vh: Option<&VHost<'_>>) -> Vec<HeaderSeen> {
        let mut out: Vec<HeaderSeen> = Vec::new();
        let server = self.tree.iter().filter(|d| !d.section);
        let local = vh
            .map(|v| v.section.children.iter().filter(|d| !d.section))
            .into_iter()
            .flatten();
        for d in server.chain(local) {
            if !d.is("Header") {
                continue;
            }
            let mut args = d.args.iter().map(String::as_str).peekable();
            if args.peek().is_some_and(|a| {
                a.eq_ignore_ascii_case("always") || a.eq_ignore_ascii_case("onsuccess")
            }) {
                args.next();
            }
            let (Some(action), Some(name)) = (args.next(), args.next()) else {
                continue;
            };
            let name = name.trim_end_matches(':').to_ascii_lowercase();
            let value = args.next().unwrap_or("").to_string();
            match action.to_ascii_lowercase().as_str() {
                "set" | "setifempty" => {
                    out.retain(|h| h.name != name);
                    out.push(HeaderSeen::at(&name, &value, d.evidence()));
                }
                "append" | "merge" | "add" => out.push(HeaderSeen::at(&name, &value, d.evidence())),
                "unset" => out.retain(|h| h.name != name),
                _ => {}
            }
        }
        out
    }
}

/// A site httpd serves: a virtual host, or the main server when there is none.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub vhost: Option<VHost<'a>>,
    pub tls: bool,
    /// The directive that sends every request to `https://`, if any.
    pub redirect: Option<&'a Directive>,
}

impl Site<'_> {
    pub fn name(&self) -> String {
        self.vhost
            .as_ref()
            .map_or_else(|| "main server".to_string(), VHost::name)
    }

    pub fn evidence(&self, cfg: &ApacheConfig) -> crate::model::Evidence {
        match &self.vhost {
            Some(v) => v.section.evidence(),
            None => crate::model::Evidence::file(&cfg.main),
        }
    }
}

/// The directive among `ds` that redirects every request to https: `Redirect[Permanent|Temp]
/// / https://...`, `RedirectMatch` of everything to https, or a `RewriteRule` to `https://`
/// with an `R` flag (certbot's form) under `RewriteEngine on`.
pub fn https_redirect(ds: &[Directive]) -> Option<&Directive> {
    let rewrite_on = ds
        .iter()
        .rev()
        .find(|d| d.is("RewriteEngine"))
        .and_then(|d| d.arg(0))
        .is_some_and(|v| v.eq_ignore_ascii_case("on"));
    ds.iter().find(|d| {
        let https = |a: &String| a.to_ascii_lowercase().starts_with("https://");
        if d.is("Redirect") || d.is("RedirectPermanent") || d.is("RedirectTemp") {
            let n = d.args.len();
            n >= 2 && d.args[n - 2] == "/" && https(&d.args[n - 1])
        } else if d.is("RedirectMatch") {
            let n = d.args.len();
            if n < 2 || !https(&d.args[n - 1]) {
                return false;
            }
            let re = d.args[n - 2]
                .trim_start_matches('^')
                .trim_start_matches('/');
            let re = re.trim_start_matches('?');
            re.is_empty() || re == "$" || re.starts_with("(.*)") || re.starts_with(".*")
        } else if d.is("RewriteRule") {
            rewrite_on
                && d.args.get(1).is_some_and(https)
                && d.args.get(2).is_some_and(|f| {
                    f.trim_matches(|c| c == '[' || c == ']')
                        .split(',')
                        .any(|f| {
                            let f = f.trim().to_ascii_lowercase();
                            f == "r"
                                || f.starts_with("r=")
                                || f == "redirect"
                                || f.starts_with("redirect=")
                        })
                })
        } else {
            false
        }
    })
}

/// A module's identity whichever way it is named: `status_module`, `mod_status.c`,
/// `mod_status.so` all give `status`.
pub fn module_key(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    let n = n.rsplit('/').next().unwrap_or(&n);
    let n = n
        .strip_suffix(".c")
        .or_else(|| n.strip_suffix(".so"))
        .map(|s| s.strip_prefix("mod_").unwrap_or(s))
        .unwrap_or(n);
    n.strip_suffix("_module").unwrap_or(n).to_string()
}

/// The fact: is httpd installed, and its configuration.
#[derive(Debug, Clone, Default)]
pub struct Apache {
    /// `None` when httpd is not installed: no `/etc/apache2/apache2.conf`, or dpkg says the
    /// package is gone (its configuration left behind).
    pub config: Option<ApacheConfig>,
}

impl Apache {
    /// The configuration, or the outcome a rule returns when there is none to judge
    /// (not installed, or unreadable).
    pub fn require(&self, what: &str) -> Result<&ApacheConfig, crate::rule::Outcome> {
        let Some(cfg) = &self.config else {
            return Err(crate::rule::Outcome::not_applicable(
                "Apache httpd is not installed (no /etc/apache2/apache2.conf, or the package is removed)",
            ));
        };
        if let Some(p) = cfg.problems.first() {
            return Err(p.outcome(what));
        }
        Ok(cfg)
    }
}

impl Fact for Apache {
    fn collect(ctx: &Ctx) -> Apache {
        // `apt remove` leaves the configuration behind: judge only an installed httpd.
        let pkgs = ctx.fact::<crate::facts::Packages>();
        let removed =
            pkgs.known() && !pkgs.is_installed("apache2") && !pkgs.is_installed("apache2-bin");
        if removed || !ctx.host.exists(MAIN_FILE) {
            return Apache::default();
        }
        Apache {
            config: Some(load::load(ctx.host, SERVER_ROOT, MAIN_FILE)),
        }
    }
}
