//! nginx: its configuration read once per run ([`Nginx`], a fact), as nginx would read
//! `/etc/nginx/nginx.conf` and what it includes, and the queries the WEB-NGINX-* rules share:
//! `http` servers, inherited directives, and the effective `add_header` set of each level (nginx
//! 1.22 semantics: a level with any `add_header` of its own inherits none from above). It does
//! not judge anything.

pub mod lexer;
pub mod load;

use crate::rule::{Ctx, Fact, Outcome};
use crate::rules::web::apache::ParseProblem;
use crate::rules::web::headers::HeaderSeen;
use std::sync::Arc;

pub const PREFIX: &str = "/etc/nginx";
pub const MAIN_FILE: &str = "/etc/nginx/nginx.conf";

/// One directive or block, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub file: Arc<str>,
    pub line: u32,
    pub text: String,
    /// `Some` for blocks (`server { ... }`).
    pub block: Option<Vec<Directive>>,
}

impl Directive {
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }

    pub fn kids(&self) -> &[Directive] {
        self.block.as_deref().unwrap_or(&[])
    }

    pub fn evidence(&self) -> crate::model::Evidence {
        crate::model::Evidence::file(self.file.to_string())
            .line(self.line)
            .snippet(&self.text)
    }
}

/// The whole configuration after includes.
#[derive(Debug, Clone, Default)]
pub struct NginxConfig {
    pub main: String,
    pub tree: Vec<Directive>,
    pub files: Vec<String>,
    pub problems: Vec<ParseProblem>,
}

/// An `http { server { ... } }` block.
#[derive(Debug, Clone, Copy)]
pub struct Server<'a> {
    pub block: &'a Directive,
    pub http: &'a Directive,
}

impl<'a> Server<'a> {
    pub fn name(&self) -> String {
        let names = last(self.block.kids(), "server_name")
            .map(|d| d.args.join(" "))
            .unwrap_or_else(|| "(no server_name)".into());
        let listens: Vec<String> = self.listens().iter().map(|d| d.args.join(" ")).collect();
        format!(
            "{names} (listen {})",
            if listens.is_empty() {
                "80".into()
            } else {
                listens.join(", ")
            }
        )
    }

    pub fn listens(&self) -> Vec<&'a Directive> {
        self.block
            .kids()
            .iter()
            .filter(|d| d.name == "listen")
            .collect()
    }

    /// Some `listen ... ssl` (or `quic`), or the old `ssl on;`.
    pub fn has_tls(&self) -> bool {
        self.listens()
            .iter()
            .any(|d| d.args.iter().any(|a| a == "ssl" || a == "quic"))
            || last(self.block.kids(), "ssl").and_then(|d| d.arg(0)) == Some("on")
    }

    /// Some listen without `ssl` (no listen at all means port 80).
    pub fn has_plain(&self) -> bool {
        if last(self.block.kids(), "ssl").and_then(|d| d.arg(0)) == Some("on") {
            return false;
        }
        let l = self.listens();
        l.is_empty()
            || l.iter()
                .any(|d| !d.args.iter().any(|a| a == "ssl" || a == "quic"))
    }

    /// The server's value of an inherited directive, else the `http` block's.
    pub fn inherited(&self, name: &str) -> Option<&'a Directive> {
        last(self.block.kids(), name).or_else(|| last(self.http.kids(), name))
    }

    /// The headers the server level sends (its own `add_header`s, or the `http` block's when it
    /// has none).
    pub fn headers(&self) -> Vec<HeaderSeen> {
        let own = add_headers(self.block.kids());
        if own.is_empty() {
            add_headers(self.http.kids())
        } else {
            own
        }
    }
}

/// The directive that keeps a plain-HTTP server from serving content: a `return` or `rewrite`
/// to `https://` (at server level, in an `if` block as certbot writes it, or in `location /`), or
/// a `return` of an error status (444 closes the connection).
pub fn https_redirect(kids: &[Directive]) -> Option<&Directive> {
    for d in kids {
        match d.name.as_str() {
            "return" => {
                let https = |a: &str| a.to_ascii_lowercase().starts_with("https://");
                match (d.arg(0), d.arg(1)) {
                    (Some(code), Some(url))
                        if ["301", "302", "303", "307", "308"].contains(&code) && https(url) =>
                    {
                        return Some(d)
                    }
                    (Some(url), None) if https(url) => return Some(d),
                    (Some(code), _) if code.parse::<u16>().is_ok_and(|c| c >= 400) => {
                        return Some(d)
                    }
                    _ => {}
                }
            }
            "rewrite" => {
                let target = d.arg(1).unwrap_or("").to_ascii_lowercase();
                let flag = d.arg(2).unwrap_or("");
                if target.starts_with("https://") && (flag == "permanent" || flag == "redirect") {
                    return Some(d);
                }
            }
            "if" => {
                if let Some(r) = https_redirect(d.kids()) {
                    return Some(r);
                }
            }
            "location" if d.args.len() == 1 && d.arg(0) == Some("/") => {
                if let Some(r) = https_redirect(d.kids()) {
                    return Some(r);
                }
            }
            _ => {}
        }
    }
    None
}

/// The last directive of this name in a block.
pub fn last<'a>(kids: &'a [Directive], name: &str) -> Option<&'a Directive> {
    kids.iter().rev().find(|d| d.name == name)
}

/// The `add_header` directives of one level.
pub fn add_headers(kids: &[Directive]) -> Vec<HeaderSeen> {
    kids.iter()
        .filter(|d| d.name == "add_header" && d.block.is_none())
        .filter_map(|d| {
            Some(HeaderSeen::at(
                d.arg(0)?,
                d.arg(1).unwrap_or(""),
                d.evidence(),
            ))
        })
        .collect()
}

/// Every `location` (or `if`) block under `kids` that has `add_header`s of its own, with those
/// headers: nginx sends only these for requests it handles there.
pub fn overriding_blocks<'a>(
    kids: &'a [Directive],
    out: &mut Vec<(&'a Directive, Vec<HeaderSeen>)>,
) {
    for d in kids {
        if d.block.is_none()
            || !(d.name == "location" || d.name == "if" || d.name == "limit_except")
        {
            continue;
        }
        let own = add_headers(d.kids());
        if !own.is_empty() {
            out.push((d, own));
        }
        overriding_blocks(d.kids(), out);
    }
}

impl NginxConfig {
    pub fn http(&self) -> Option<&Directive> {
        self.tree
            .iter()
            .find(|d| d.name == "http" && d.block.is_some())
    }

    pub fn servers(&self) -> Vec<Server<'_>> {
        let Some(http) = self.http() else {
            return Vec::new();
        };
        http.kids()
            .iter()
            .filter(|d| d.name == "server" && d.block.is_some())
            .map(|block| Server { block, http })
            .collect()
    }

    /// Every directive of this name anywhere in the tree, depth first.
    pub fn all<'a>(&'a self, name: &str) -> Vec<&'a Directive> {
        fn walk<'a>(ds: &'a [Directive], name: &str, out: &mut Vec<&'a Directive>) {
            for d in ds {
                if d.name == name {
                    out.push(d);
                }
                walk(d.kids(), name, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.tree, name, &mut out);
        out
    }
}

/// The fact: is nginx installed, and its configuration.
#[derive(Debug, Clone, Default)]
pub struct Nginx {
    /// `None` when nginx is not installed: no `/etc/nginx/nginx.conf`, or dpkg says no nginx
    /// package is installed (configuration left behind).
    pub config: Option<NginxConfig>,
}

impl Nginx {
    pub fn require(&self, what: &str) -> Result<&NginxConfig, Outcome> {
        let Some(cfg) = &self.config else {
            return Err(Outcome::not_applicable(
                "nginx is not installed (no /etc/nginx/nginx.conf, or the package is removed)",
            ));
        };
        if let Some(p) = cfg.problems.first() {
            return Err(p.outcome(what));
        }
        Ok(cfg)
    }
}

/// Debian packages that ship an nginx binary.
pub const PACKAGES: &[&str] = &[
    "nginx",
    "nginx-core",
    "nginx-light",
    "nginx-full",
    "nginx-extras",
];

impl Fact for Nginx {
    fn collect(ctx: &Ctx) -> Nginx {
        // `apt remove` leaves the configuration behind: judge only an installed nginx.
        let pkgs = ctx.fact::<crate::facts::Packages>();
        let removed = pkgs.known() && !PACKAGES.iter().any(|p| pkgs.is_installed(p));
        if removed || !ctx.host.exists(MAIN_FILE) {
            return Nginx::default();
        }
        Nginx {
            config: Some(load::load(ctx.host, PREFIX, MAIN_FILE)),
        }
    }
}
