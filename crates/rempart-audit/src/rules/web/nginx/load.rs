//! Reading nginx's configuration the way nginx does at start-up: from `/etc/nginx/nginx.conf`,
//! splicing `include` (globs relative to `/etc/nginx`) in place, in any block. Only what the
//! files include counts: a site in `sites-available/` that nothing includes is ignored.

use super::lexer;
use super::{Directive, NginxConfig};
use crate::host::Host;
use crate::rules::web::apache::ParseProblem;
use crate::rules::web::include::Includes;

struct Loader<'h> {
    host: &'h Host,
    prefix: String,
    inc: Includes,
}

/// Load the configuration whose main file is `main`; relative includes resolve against
/// `prefix` (nginx's configuration directory).
pub fn load(host: &Host, prefix: &str, main: &str) -> NginxConfig {
    let mut l = Loader {
        host,
        prefix: prefix.trim_end_matches('/').to_string(),
        inc: Includes::default(),
    };
    let tree = match host.read_text(main) {
        Ok(Some(_)) => l.file(main, 0),
        Ok(None) => {
            l.inc.problems.push(ParseProblem {
                path: main.to_string(),
                line: None,
                message: "main configuration file is missing".into(),
            });
            Vec::new()
        }
        Err(e) => {
            l.inc.problems.push(ParseProblem::from_host(e));
            Vec::new()
        }
    };
    NginxConfig {
        main: main.to_string(),
        tree,
        files: l.inc.files,
        problems: l.inc.problems,
    }
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
            if d.name == "include" && d.block.is_none() {
                let Some(arg) = d.args.first().cloned() else {
                    continue;
                };
                for path in self.expand(&d, &arg) {
                    let spliced = self.file(&path, depth + 1);
                    out.extend(spliced);
                }
                continue;
            }
            if let Some(kids) = d.block.take() {
                d.block = Some(self.process(kids, depth));
            }
            out.push(d);
        }
        out
    }

    fn expand(&mut self, d: &Directive, arg: &str) -> Vec<String> {
        let pattern = if arg.starts_with('/') {
            arg.to_string()
        } else {
            format!("{}/{arg}", self.prefix)
        };
        if pattern.contains(['*', '?', '[']) {
            return match self.host.glob(&pattern) {
                Ok(m) => m
                    .into_iter()
                    .filter(|p| {
                        !matches!(self.host.metadata(p), Ok(Some(m)) if m.kind == crate::host::FileKind::Dir)
                    })
                    .collect(),
                Err(e) => {
                    self.inc.problems.push(ParseProblem::from_host(e));
                    Vec::new()
                }
            };
        }
        if !self.host.exists(&pattern) {
            self.inc.problems.push(ParseProblem {
                path: d.file.to_string(),
                line: Some(d.line),
                message: format!("include {arg}: no such file (nginx refuses to start)"),
            });
            return Vec::new();
        }
        vec![pattern]
    }
}
