//! Reading Apache's configuration the way httpd does at start-up: from the main file, splicing
//! `Include`/`IncludeOptional` (globs and directories, relative to `ServerRoot`) in place,
//! evaluating `<IfModule>` against the modules loaded so far, `<IfDefine>` against `Define`s,
//! and substituting `${VAR}` from `/etc/apache2/envvars` and `Define` (best effort). Only what
//! the files include counts: a site in `sites-available/` that no `Include` reaches is ignored.

use super::lexer;
use super::{ApacheConfig, Directive, LoadedModule, ParseProblem};
use crate::host::Host;
use crate::rules::web::include::Includes;
use std::collections::HashMap;

/// Modules compiled into Debian's httpd (`apache2 -l`).
const BUILTIN_MODULES: &[&str] = &[
    "core",
    "so",
    "watchdog",
    "http",
    "http_core",
    "log_config",
    "logio",
    "version",
    "unixd",
];

struct Loader<'h> {
    host: &'h Host,
    server_root: String,
    vars: HashMap<String, String>,
    modules: Vec<LoadedModule>,
    inc: Includes,
}

/// Load the configuration whose main file is `main` (host path), with `server_root` as the base
/// of relative paths.
pub fn load(host: &Host, server_root: &str, main: &str) -> ApacheConfig {
    let mut loader = Loader {
        host,
        server_root: server_root.trim_end_matches('/').to_string(),
        vars: envvars(host, &format!("{server_root}/envvars")),
        modules: Vec::new(),
        inc: Includes::default(),
    };
    let tree = match host.read_text(main) {
        Ok(Some(_)) => loader.file(main, 0),
        Ok(None) => {
            loader.inc.problems.push(ParseProblem {
                path: main.to_string(),
                line: None,
                message: "main configuration file is missing".into(),
            });
            Vec::new()
        }
        Err(e) => {
            loader.inc.problems.push(ParseProblem::from_host(e));
            Vec::new()
        }
    };
    ApacheConfig {
        main: main.to_string(),
        tree,
        modules: loader.modules,
        files: loader.inc.files,
        problems: loader.inc.problems,
    }
}

/// `export NAME=value` lines of Debian's envvars script, `$SUFFIX` taken as empty.
fn envvars(host: &Host, path: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    let Ok(Some(f)) = host.read_text(path) else {
        return vars;
    };
    for line in f.text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("export ") else {
            continue;
        };
        let Some((name, value)) = rest.split_once('=') else {
            continue;
        };
        let value = value
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .replace("${SUFFIX}", "")
            .replace("$SUFFIX", "");
        if value.contains('$') {
            continue;
        }
        vars.insert(name.trim().to_string(), value);
    }
    vars
}

impl Loader<'_> {
    fn file(&mut self, path: &str, depth: usize) -> Vec<Directive> {
        let parse = |p: &str, t: &str| lexer::parse(p, t).map_err(|e| (e.line, e.message));
        let Some(parsed) = self.inc.open(self.host, path, depth, parse) else {
            return Vec::new();
        };
        let out = self.process(parsed, depth);
        self.inc.stack.pop();
        out
    }

    fn process(&mut self, list: Vec<Directive>, depth: usize) -> Vec<Directive> {
        let mut out = Vec::with_capacity(list.len());
        for mut d in list {
            self.substitute(&mut d);
            let lname = d.name.to_ascii_lowercase();
            match lname.as_str() {
                "include" | "includeoptional" if !d.section => {
                    let optional = lname == "includeoptional";
                    for arg in d.args.clone() {
                        for path in self.expand(&d, &arg, optional) {
                            let spliced = self.file(&path, depth + 1);
                            out.extend(spliced);
                        }
                    }
                }
                "ifmodule" if d.section => {
                    if self.if_module(d.args.first().map_or("", String::as_str)) {
                        let inner = self.process(std::mem::take(&mut d.children), depth);
                        out.extend(inner);
                    }
                }
                "ifdefine" if d.section => {
                    let arg = d.args.first().map_or("", String::as_str);
                    let (neg, name) = match arg.strip_prefix('!') {
                        Some(n) => (true, n),
                        None => (false, arg),
                    };
                    if self.vars.contains_key(name) != neg {
                        let inner = self.process(std::mem::take(&mut d.children), depth);
                        out.extend(inner);
                    }
                }
                "iffile" if d.section => {
                    let arg = d.args.first().map_or("", String::as_str);
                    let (neg, name) = match arg.strip_prefix('!') {
                        Some(n) => (true, n),
                        None => (false, arg),
                    };
                    let path = self.absolute(name);
                    if self.host.exists(&path) != neg {
                        let inner = self.process(std::mem::take(&mut d.children), depth);
                        out.extend(inner);
                    }
                }
                // httpd 2.4 is the only version judged: version tests hold.
                "ifversion" if d.section => {
                    let inner = self.process(std::mem::take(&mut d.children), depth);
                    out.extend(inner);
                }
                "define" if !d.section => {
                    if let Some(name) = d.args.first() {
                        let value = d.args.get(1).cloned().unwrap_or_default();
                        self.vars.insert(name.clone(), value);
                    }
                    out.push(d);
                }
                "undefine" if !d.section => {
                    if let Some(name) = d.args.first() {
                        self.vars.remove(name);
                    }
                    out.push(d);
                }
                "serverroot" if !d.section => {
                    if let Some(root) = d.args.first() {
                        self.server_root = root.trim_end_matches('/').to_string();
                    }
                    out.push(d);
                }
                "loadmodule" if !d.section => {
                    if let Some(id) = d.args.first() {
                        self.modules.push(LoadedModule {
                            id: id.clone(),
                            path: d.args.get(1).cloned().unwrap_or_default(),
                            file: d.file.to_string(),
                            line: d.line,
                            text: d.text.clone(),
                        });
                    }
                    out.push(d);
                }
                _ => {
                    if d.section {
                        d.children = self.process(std::mem::take(&mut d.children), depth);
                    }
                    out.push(d);
                }
            }
        }
        out
    }

    /// `${NAME}` replaced in the arguments where NAME is known.
    fn substitute(&self, d: &mut Directive) {
        for arg in &mut d.args {
            if !arg.contains("${") {
                continue;
            }
            let mut outs = String::with_capacity(arg.len());
            let mut rest = arg.as_str();
            while let Some(start) = rest.find("${") {
                outs.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                match after.find('}') {
                    Some(end) => {
                        let name = &after[..end];
                        match self.vars.get(name) {
                            Some(v) => outs.push_str(v),
                            None => {
                                outs.push_str("${");
                                outs.push_str(name);
                                outs.push('}');
                            }
                        }
                        rest = &after[end + 1..];
                    }
                    None => {
                        outs.push_str(&rest[start..]);
                        rest = "";
                    }
                }
            }
            outs.push_str(rest);
            *arg = outs;
        }
    }

    fn absolute(&self, p: &str) -> String {
        if p.starts_with('/') {
            p.to_string()
        } else {
            format!("{}/{}", self.server_root, p)
        }
    }

    /// The files an Include argument names: a glob, a directory (all files under it, sorted),
    /// or one file.
    fn expand(&mut self, d: &Directive, arg: &str, optional: bool) -> Vec<String> {
        let pattern = self.absolute(arg);
        let wildcard = pattern.contains(['*', '?', '[']);
        let matches = if wildcard {
            match self.host.glob(&pattern) {
                Ok(m) => m,
                Err(e) => {
                    self.inc.problems.push(ParseProblem::from_host(e));
                    return Vec::new();
                }
            }
        } else {
            vec![pattern.clone()]
        };
        let mut files = Vec::new();
        for m in matches {
            match self.host.metadata(&m) {
                Ok(Some(meta)) if meta.kind == crate::host::FileKind::Dir => {
                    self.dir_files(&m, &mut files, 0);
                }
                Ok(Some(_)) => files.push(m),
                Ok(None) => {}
                Err(e) => self.inc.problems.push(ParseProblem::from_host(e)),
            }
        }
        if files.is_empty() && !optional {
            self.inc.problems.push(ParseProblem {
                path: d.file.to_string(),
                line: Some(d.line),
                message: format!("Include {arg}: no such file (httpd refuses to start)"),
            });
        }
        files
    }

    fn dir_files(&mut self, dir: &str, out: &mut Vec<String>, depth: usize) {
        if depth > 8 {
            return;
        }
        let Ok(Some(names)) = self.host.read_dir(dir) else {
            return;
        };
        for n in names {
            if n.starts_with('.') {
                continue;
            }
            let p = format!("{}/{n}", dir.trim_end_matches('/'));
            match self.host.metadata(&p) {
                Ok(Some(m)) if m.kind == crate::host::FileKind::Dir => {
                    self.dir_files(&p, out, depth + 1);
                }
                Ok(Some(_)) => out.push(p),
                _ => {}
            }
        }
    }

    fn if_module(&self, arg: &str) -> bool {
        let (neg, name) = match arg.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, arg),
        };
        let want = super::module_key(name);
        let loaded = BUILTIN_MODULES.contains(&want.as_str())
            || self
                .modules
                .iter()
                .any(|m| super::module_key(&m.id) == want);
        loaded != neg
    }
}
