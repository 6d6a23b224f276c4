//! The Python web application modules of the discovered apps (FastAPI, Starlette, Flask): the
//! module a unit's server loads (`uvicorn app.main:app` -> `app/main.py` under the unit's working
//! directory; `fastapi run app/main.py`), else the usual entry points of the app directory. Each
//! module is read with [`crate::rules::app::pyread`]; its module-level names are evaluated against
//! the app's environment so keyword arguments such as `FastAPI(docs_url=DOCS_URL)` can be judged.

pub mod fastapi_debug;
pub mod fastapi_docs;
pub mod session_secret;

use super::env::{AppEnv, AppEnvs};
use super::pyread::{self, Call, EnvHit, EnvRead, Eval, Expr, Module, Scope, StmtKind, Val};
use crate::host::TextFile;
use crate::model::Evidence;
use crate::rule::{Ctx, Fact};
use crate::rules::services::appserver::ServerKind;
use crate::rules::services::discovery::{AppKind, Discovery};
use std::collections::HashMap;

/// Entry points looked for when no unit names the module.
const ENTRY_POINTS: &[&str] = &[
    "main.py",
    "app.py",
    "app/main.py",
    "app/__init__.py",
    "src/main.py",
    "src/app/main.py",
    "backend/main.py",
    "backend/app/main.py",
    "api/main.py",
];

/// A web application module.
#[derive(Debug, Clone)]
pub struct WebModule {
    /// Index in `Discovery::apps`.
    pub app: usize,
    pub path: String,
    /// How it was found, for messages.
    pub how: String,
    pub text: TextFile,
    pub module: Result<Module, String>,
    /// Module-level names, evaluated in order (unconditional assignments only).
    pub names: HashMap<String, (Val, Vec<EnvRead>)>,
}

impl WebModule {
    /// Evidence for a line of this module.
    pub fn at(&self, line: u32) -> Evidence {
        Evidence::file(&self.path)
            .line(line)
            .snippet(self.text.line(line).unwrap_or("").trim_end())
    }

    /// Calls of `name` anywhere in the module.
    pub fn calls(&self, name: &str) -> Vec<(Call, u32)> {
        match &self.module {
            Ok(m) => pyread::find_calls(m, name),
            Err(_) => Vec::new(),
        }
    }
}

/// Every web application module found.
#[derive(Debug, Clone, Default)]
pub struct WebModules {
    pub modules: Vec<WebModule>,
    /// Modules that could not be read: (path, message).
    pub errors: Vec<(String, String)>,
}

struct NameScope<'a> {
    names: &'a HashMap<String, (Val, Vec<EnvRead>)>,
    env: &'a AppEnv,
    file: &'a str,
}

impl Scope for NameScope<'_> {
    fn name(&self, name: &str) -> Option<(Val, Vec<EnvRead>)> {
        self.names.get(name).cloned()
    }
    fn env(&self, var: &str) -> Option<EnvHit> {
        self.env.hit(var)
    }
    fn file(&self) -> &str {
        self.file
    }
}

/// Evaluate an expression of a module against its names and the app's environment.
pub fn eval_in(
    names: &HashMap<String, (Val, Vec<EnvRead>)>,
    env: &AppEnv,
    file: &str,
    e: &Expr,
) -> (Val, Vec<EnvRead>) {
    let scope = NameScope { names, env, file };
    let mut ev = Eval::new(&scope);
    let v = ev.eval(e);
    (v, ev.reads)
}

/// Module-level names of a module, evaluated in order.
pub fn module_names(m: &Module, env: &AppEnv, file: &str) -> HashMap<String, (Val, Vec<EnvRead>)> {
    let mut names = HashMap::new();
    for s in &m.stmts {
        if !s.unconditional() {
            continue;
        }
        if let StmtKind::Assign { targets, value } = &s.kind {
            let r = eval_in(&names, env, file, value);
            for t in targets {
                if let Expr::Name(n) = t {
                    names.insert(n.clone(), r.clone());
                }
            }
        }
    }
    names
}

impl WebModules {
    /// Modules of apps using `framework` calls (`FastAPI`, `Starlette`): n/a when none.
    pub fn with_call<'a>(&'a self, names: &'a [&'a str]) -> Vec<(&'a WebModule, Call, u32)> {
        let mut out = Vec::new();
        for m in &self.modules {
            for n in names {
                for (c, line) in m.calls(n) {
                    out.push((m, c, line));
                }
            }
        }
        out
    }
}

impl Fact for WebModules {
    fn collect(ctx: &Ctx) -> WebModules {
        let d = ctx.fact::<Discovery>();
        let envs = ctx.fact::<AppEnvs>();
        let mut out = WebModules::default();
        let empty = AppEnv::default();
        for (i, app) in d.apps.iter().enumerate() {
            if app.kind == AppKind::Django {
                continue;
            }
            let env = envs.apps.get(i).unwrap_or(&empty);
            let mut found: Vec<(String, String)> = Vec::new();
            for u in d.units.iter().filter(|u| app.units.contains(&u.unit.name)) {
                let Some(s) = &u.server else { continue };
                let Some(target) = &s.target else { continue };
                let base = u.working_dir.clone().unwrap_or_else(|| app.dir.clone());
                let file = if s.kind == ServerKind::FastapiCli || target.ends_with(".py") {
                    let t = target.split(':').next().unwrap_or("");
                    if t.starts_with('/') {
                        t.to_string()
                    } else {
                        format!("{}/{t}", base.trim_end_matches('/'))
                    }
                } else {
                    let module = target.split(':').next().unwrap_or("").replace('.', "/");
                    let b = base.trim_end_matches('/');
                    let cand = format!("{b}/{module}.py");
                    if ctx.host.exists(&cand) {
                        cand
                    } else {
                        format!("{b}/{module}/__init__.py")
                    }
                };
                if ctx.host.exists(&file) && !found.iter().any(|(f, _)| *f == file) {
                    found.push((file, format!("{} runs {target}", u.unit.name)));
                }
            }
            if found.is_empty()
                && matches!(
                    app.kind,
                    AppKind::FastApi | AppKind::Flask | AppKind::Python
                )
            {
                for e in ENTRY_POINTS {
                    let f = format!("{}/{e}", app.dir);
                    if ctx.host.exists(&f) {
                        found.push((f, "found in the application directory".into()));
                        break;
                    }
                }
            }
            for (path, how) in found {
                match ctx.host.read_text(&path) {
                    Ok(Some(text)) => {
                        let module = pyread::read(&text.text).map_err(|e| e.to_string());
                        let names = match &module {
                            Ok(m) => module_names(m, env, &path),
                            Err(_) => HashMap::new(),
                        };
                        if let Err(e) = &module {
                            out.errors
                                .push((path.clone(), format!("not valid Python: {e}")));
                        }
                        out.modules.push(WebModule {
                            app: i,
                            path,
                            how,
                            text,
                            module,
                            names,
                        });
                    }
                    Ok(None) => {}
                    Err(e) => out.errors.push((path, e.to_string())),
                }
            }
        }
        out
    }
}

/// Evaluate an expression found in `m` with the app's environment.
pub fn eval_at(ctx: &Ctx, m: &WebModule, e: &Expr) -> (Val, Vec<EnvRead>) {
    let envs = ctx.fact::<AppEnvs>();
    let empty = AppEnv::default();
    let env = envs.apps.get(m.app).unwrap_or(&empty);
    eval_in(&m.names, env, &m.path, e)
}

/// The FastAPI / Starlette application constructors of every module, or not-applicable.
pub(crate) fn app_calls(
    ctx: &Ctx,
) -> Result<(std::sync::Arc<WebModules>, usize), crate::rule::Outcome> {
    let w = ctx.fact::<WebModules>();
    let n = w.with_call(&["FastAPI", "Starlette"]).len();
    if n == 0 && w.errors.is_empty() {
        return Err(crate::rule::Outcome::not_applicable(
            "no FastAPI or Starlette application found",
        ));
    }
    Ok((w, n))
}

/// The error outcome for unreadable modules, when nothing else was judged.
pub(crate) fn errors_outcome(w: &WebModules) -> crate::rule::Outcome {
    crate::rule::Outcome::error(format!(
        "{} application module(s) could not be read",
        w.errors.len()
    ))
    .with_all(
        w.errors
            .iter()
            .map(|(p, m)| Evidence::file(p).note(m.clone())),
    )
}
