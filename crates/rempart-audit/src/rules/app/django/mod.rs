//! Django settings as the running project sees them, read without importing Django: which
//! settings module the service loads (`DJANGO_SETTINGS_MODULE` in its environment, else the one
//! its WSGI/ASGI module or manage.py names, else the one found in the app directory), that module
//! with its star imports followed in order (`from .base import *`: later assignments override),
//! each module-level assignment evaluated against the service's environment, and conditional
//! assignments (inside an `if` whose test cannot be decided, an `except`, a loop) kept apart: they
//! may apply, so they are reported as notes, never as failures on their own.

pub mod allowed_hosts;
pub mod cookies;
pub mod debug;
pub mod hsts;
pub mod secret_key;
pub mod ssl_redirect;

use super::env::{AppEnv, AppEnvs};
use super::pyread::{
    self, eval::dirname, EnvHit, EnvRead, Eval, Expr, Guard, Scope, StmtKind, Val,
};
use crate::model::Evidence;
use crate::rule::{Ctx, Fact, Outcome};
use crate::rules::services::discovery::{AppKind, Discovery};
use std::collections::HashMap;
use std::sync::Arc;

/// Star imports followed at most this deep.
const MAX_IMPORT_DEPTH: usize = 8;

/// Where a setting got its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub name: String,
    pub val: Val,
    /// Environment reads the value (or the condition around it) depends on.
    pub reads: Vec<EnvRead>,
    pub path: String,
    pub line: u32,
    pub text: String,
}

impl Binding {
    /// Evidence pointing at the assignment, showing the value (not for secrets).
    pub fn evidence(&self) -> Evidence {
        Evidence::file(&self.path)
            .line(self.line)
            .snippet(&self.text)
            .key(&self.name)
            .actual(self.val.show())
    }

    /// Evidence for the environment variables the value came from (snippets of secret values
    /// redacted).
    pub fn env_evidence(&self, secret: bool) -> Vec<Evidence> {
        self.reads
            .iter()
            .map(|r| read_evidence(r, secret))
            .collect()
    }

    /// Written in the code: no environment read, not generated at start.
    pub fn literal(&self) -> bool {
        self.reads.is_empty() && self.val.is_known() && self.val != Val::Random
    }
}

/// Evidence for one environment read.
pub fn read_evidence(r: &EnvRead, secret: bool) -> Evidence {
    match &r.hit {
        Some(h) => {
            let ev = Evidence::file(&h.path).line(h.line).key(&r.var);
            if secret {
                ev.snippet(format!(
                    "{}=<redacted, {} characters>",
                    r.var,
                    h.value.chars().count()
                ))
            } else {
                ev.snippet(&h.text).actual(h.value.as_str())
            }
        }
        None => {
            let ev = Evidence::source("environment")
                .key(&r.var)
                .actual("unset")
                .note(
                "set neither by the unit (Environment=, EnvironmentFile=) nor in the app's .env",
            );
            match (&r.default, secret) {
                (Some(d), false) => {
                    ev.expected(format!("set (the code falls back to {})", d.show()))
                }
                _ => ev,
            }
        }
    }
}

/// A setting's state: set (last unconditional assignment) or left at Django's default.
#[derive(Debug)]
pub enum Setting<'a> {
    Set(&'a Binding),
    Unset,
}

/// One Django project and its effective settings.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// Index in `Discovery::apps`.
    pub app: usize,
    pub app_dir: String,
    /// Host path of the settings module loaded.
    pub settings: String,
    /// How that module was chosen, for messages.
    pub chosen_by: String,
    /// Every module read (the settings module and what it star-imports).
    pub files: Vec<String>,
    pub values: HashMap<String, Binding>,
    /// Assignments that may apply, after the effective one.
    pub conditional: HashMap<String, Vec<Binding>>,
    /// A module that could not be read or parsed: `(path, message)`.
    pub error: Option<(String, String)>,
    /// Environment variables read anywhere in the settings modules: `(var, path, line)`.
    pub env_names: Vec<(String, String, u32)>,
}

impl Project {
    pub fn get(&self, name: &str) -> Setting<'_> {
        match self.values.get(name) {
            Some(b) => Setting::Set(b),
            None => Setting::Unset,
        }
    }

    pub fn conditional(&self, name: &str) -> &[Binding] {
        self.conditional.get(name).map_or(&[], Vec::as_slice)
    }

    /// Evidence for a setting left unset: the settings module, with Django's default.
    pub fn unset_evidence(&self, name: &str, default: &str) -> Evidence {
        Evidence::file(&self.settings)
            .key(name)
            .actual(format!("unset (Django's default: {default})"))
    }

    /// Notes on conditional assignments of a setting (they may apply at run time).
    pub fn conditional_evidence(&self, name: &str) -> Vec<Evidence> {
        self.conditional(name)
            .iter()
            .map(|b| {
                b.evidence()
                    .note("assigned under a condition rempart cannot decide; not judged on its own")
            })
            .collect()
    }
}

/// Every Django project discovered on the host.
#[derive(Debug, Clone, Default)]
pub struct DjangoProjects {
    pub projects: Vec<Project>,
}

impl Fact for DjangoProjects {
    fn collect(ctx: &Ctx) -> DjangoProjects {
        let d = ctx.fact::<Discovery>();
        let envs = ctx.fact::<AppEnvs>();
        let mut out = DjangoProjects::default();
        for (i, app) in d.apps.iter().enumerate() {
            if app.kind != AppKind::Django {
                continue;
            }
            let empty = AppEnv::default();
            let env = envs.apps.get(i).unwrap_or(&empty);
            if let Some(p) = load_project(ctx, &d, i, env) {
                out.projects.push(p);
            }
        }
        out
    }
}

/// The Django projects, or the not-applicable outcome when there are none.
pub(crate) fn projects(ctx: &Ctx) -> Result<Arc<DjangoProjects>, Outcome> {
    let p = ctx.fact::<DjangoProjects>();
    if p.projects.is_empty() {
        return Err(Outcome::not_applicable(
            "no Django project found (no settings module in a discovered app directory)",
        ));
    }
    Ok(p)
}

/// What a rule concluded about one project.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub fails: Vec<Evidence>,
    /// What was seen when it passes (shown with the pass).
    pub seen: Vec<Evidence>,
    /// The value cannot be decided from the host (computed in a way the reader does not follow).
    pub unknown: Vec<Evidence>,
}

/// Run `judge` on every project and combine: any failure fails, else any unreadable settings
/// module is an error, else any undecidable value skips, else pass.
pub(crate) fn judge_projects(
    ctx: &Ctx,
    fail_msg: &str,
    pass_msg: &str,
    judge: impl Fn(&Project) -> Verdict,
) -> Outcome {
    let ps = match projects(ctx) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let mut fails = Vec::new();
    let mut seen = Vec::new();
    let mut errors = Vec::new();
    let mut unknown = Vec::new();
    for p in &ps.projects {
        if let Some((path, msg)) = &p.error {
            errors.push(Evidence::file(path).note(msg.clone()));
            continue;
        }
        let mut v = judge(p);
        for e in &mut v.fails {
            let elsewhere = e
                .path
                .as_ref()
                .is_some_and(|f| p.files.contains(f) && *f != p.settings);
            if elsewhere && e.note.is_none() {
                e.note = Some(format!("imported by {} ({})", p.settings, p.chosen_by));
            }
        }
        fails.extend(v.fails);
        seen.extend(v.seen);
        unknown.extend(v.unknown);
    }
    if !fails.is_empty() {
        return Outcome::fail(fail_msg).with_all(fails).with_all(errors);
    }
    if !errors.is_empty() {
        return Outcome::error(format!(
            "{} Django settings module(s) could not be read",
            errors.len()
        ))
        .with_all(errors);
    }
    if !unknown.is_empty() {
        return Outcome::skip(
            "the value is computed in a way rempart does not evaluate; judge it by hand",
        )
        .with_all(unknown)
        .with_all(seen);
    }
    Outcome::pass(pass_msg).with_all(seen)
}

struct ModScope<'a> {
    values: &'a HashMap<String, Binding>,
    env: &'a AppEnv,
    file: &'a str,
}

impl Scope for ModScope<'_> {
    fn name(&self, name: &str) -> Option<(Val, Vec<EnvRead>)> {
        self.values
            .get(name)
            .map(|b| (b.val.clone(), b.reads.clone()))
    }
    fn env(&self, var: &str) -> Option<EnvHit> {
        self.env.hit(var)
    }
    fn file(&self) -> &str {
        self.file
    }
}

/// Resolve a dotted module to a file: `base/a/b.py` or `base/a/b/__init__.py`.
fn module_file(ctx: &Ctx, base: &str, module: &str) -> Option<String> {
    let rel = module.replace('.', "/");
    let base = base.trim_end_matches('/');
    let cands = if rel.is_empty() {
        vec![format!("{base}/__init__.py")]
    } else {
        vec![
            format!("{base}/{rel}.py"),
            format!("{base}/{rel}/__init__.py"),
        ]
    };
    cands.into_iter().find(|c| ctx.host.exists(c))
}

fn load_project(ctx: &Ctx, d: &Discovery, i: usize, env: &AppEnv) -> Option<Project> {
    let app = &d.apps[i];
    let units: Vec<_> = d
        .units
        .iter()
        .filter(|u| app.units.contains(&u.unit.name))
        .collect();
    let mut roots: Vec<String> = units.iter().filter_map(|u| u.working_dir.clone()).collect();
    roots.push(app.dir.clone());
    roots.dedup();
    let find = |module: &str| roots.iter().find_map(|r| module_file(ctx, r, module));

    let mut chosen: Option<(String, String)> = None;
    if let Some(e) = env.get("DJANGO_SETTINGS_MODULE") {
        if let Some(f) = find(&e.value) {
            chosen = Some((
                f,
                format!("DJANGO_SETTINGS_MODULE={} ({}:{})", e.value, e.path, e.line),
            ));
        }
    }
    if chosen.is_none() {
        // The WSGI/ASGI module the server loads sets the default module.
        for u in &units {
            let Some(target) = u.server.as_ref().and_then(|s| s.target.clone()) else {
                continue;
            };
            let module = target.split(':').next().unwrap_or("");
            let Some(file) = find(module) else { continue };
            if let Some(m) = settings_module_of(ctx, &file) {
                if let Some(f) = find(&m) {
                    chosen = Some((f, format!("{m}, named by {file}")));
                    break;
                }
            }
        }
    }
    if chosen.is_none() {
        let f = app.settings_files.first()?;
        chosen = Some((f.clone(), "found in the application directory".into()));
    }
    let (settings, chosen_by) = chosen?;
    let mut p = Project {
        app: i,
        app_dir: app.dir.clone(),
        settings: settings.clone(),
        chosen_by,
        ..Project::default()
    };
    let mut ex = Exec {
        ctx,
        env,
        roots,
        visited: Vec::new(),
    };
    ex.run(&mut p, &settings, false, 0);
    Some(p)
}

/// `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")` in a WSGI/ASGI module.
fn settings_module_of(ctx: &Ctx, file: &str) -> Option<String> {
    let text = ctx.host.read_text(file).ok()??;
    let m = pyread::read(&text.text).ok()?;
    pyread::find_calls(&m, "setdefault")
        .into_iter()
        .find_map(|(c, _)| match (c.args.first(), c.args.get(1)) {
            (Some(Expr::Str(k)), Some(Expr::Str(v))) if k == "DJANGO_SETTINGS_MODULE" => {
                Some(v.clone())
            }
            _ => None,
        })
}

struct Exec<'a> {
    ctx: &'a Ctx<'a>,
    env: &'a AppEnv,
    roots: Vec<String>,
    visited: Vec<String>,
}

impl Exec<'_> {
    /// Run one module's statements into `p`. `conditional`: the import itself may not happen.
    fn run(&mut self, p: &mut Project, path: &str, conditional: bool, depth: usize) {
        if depth > MAX_IMPORT_DEPTH || self.visited.iter().any(|v| v == path) {
            return;
        }
        self.visited.push(path.to_string());
        let text = match self.ctx.host.read_text(path) {
            Ok(Some(t)) => t,
            Ok(None) => {
                p.error
                    .get_or_insert((path.to_string(), "not found".into()));
                return;
            }
            Err(e) => {
                p.error.get_or_insert((path.to_string(), e.to_string()));
                return;
            }
        };
        let m = match pyread::read(&text.text) {
            Ok(m) => m,
            Err(e) => {
                p.error
                    .get_or_insert((path.to_string(), format!("not valid Python: {e}")));
                return;
            }
        };
        p.files.push(path.to_string());
        for (var, line) in pyread::env_names(&m) {
            p.env_names.push((var, path.to_string(), line));
        }
        for s in &m.stmts {
            let (state, guard_reads) = self.guard_state(p, &s.guards, path);
            if state == Some(false) {
                continue;
            }
            let cond = conditional || state.is_none();
            let text_line = text.line(s.line).unwrap_or("").to_string();
            match &s.kind {
                StmtKind::StarImport { module, level } => {
                    let target = if *level == 0 {
                        self.roots
                            .iter()
                            .find_map(|r| module_file(self.ctx, r, module))
                    } else {
                        let mut base = dirname(path);
                        for _ in 1..*level {
                            base = dirname(&base);
                        }
                        module_file(self.ctx, &base, module)
                    };
                    // A missing module inside `try` is the usual optional local_settings.
                    if let Some(t) = target {
                        self.run(p, &t, cond, depth + 1);
                    }
                }
                StmtKind::Assign { targets, value } => {
                    let (val, mut reads) = self.eval(p, value, path);
                    reads.extend(guard_reads);
                    for t in targets {
                        if let Expr::Name(n) = t {
                            self.bind(
                                p,
                                n,
                                val.clone(),
                                reads.clone(),
                                path,
                                s.line,
                                &text_line,
                                cond,
                            );
                        }
                    }
                }
                StmtKind::AugAssign { target, op, value } => {
                    let Expr::Name(n) = target else { continue };
                    let (add, mut reads) = self.eval(p, value, path);
                    reads.extend(guard_reads);
                    let (cur, cur_reads) = match p.values.get(n) {
                        Some(b) => (b.val.clone(), b.reads.clone()),
                        None => (Val::Unknown, Vec::new()),
                    };
                    reads.extend(cur_reads);
                    let val = match (op.as_str(), cur, add) {
                        ("+" | "|", Val::List(mut a), Val::List(b)) => {
                            a.extend(b);
                            Val::List(a)
                        }
                        ("+", Val::Int(a), Val::Int(b)) => Val::Int(a.saturating_add(b)),
                        _ => Val::Unknown,
                    };
                    self.bind(p, n, val, reads, path, s.line, &text_line, cond);
                }
                StmtKind::Expr(Expr::Call(c)) => {
                    // `ALLOWED_HOSTS.append("*")`, `.extend([...])`, `.insert(0, x)`.
                    let Expr::Attr(base, method) = &c.func else {
                        continue;
                    };
                    let Expr::Name(n) = base.as_ref() else {
                        continue;
                    };
                    if !matches!(method.as_str(), "append" | "extend" | "insert") {
                        continue;
                    }
                    let Some(b) = p.values.get(n).cloned() else {
                        continue;
                    };
                    let Val::List(mut items) = b.val.clone() else {
                        continue;
                    };
                    let mut reads = b.reads.clone();
                    let mut add = |e: &Expr, ex: &Self, p: &Project| {
                        let (v, r) = ex.eval(p, e, path);
                        reads.extend(r);
                        v
                    };
                    let val = match (method.as_str(), c.args.as_slice()) {
                        ("append", [x]) | ("insert", [_, x]) => {
                            items.push(add(x, self, p));
                            Val::List(items)
                        }
                        ("extend", [x]) => match add(x, self, p) {
                            Val::List(more) => {
                                items.extend(more);
                                Val::List(items)
                            }
                            _ => Val::Unknown,
                        },
                        _ => Val::Unknown,
                    };
                    reads.extend(guard_reads);
                    self.bind(p, n, val, reads, path, s.line, &text_line, cond);
                }
                StmtKind::Expr(_) => {}
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn bind(
        &self,
        p: &mut Project,
        name: &str,
        val: Val,
        reads: Vec<EnvRead>,
        path: &str,
        line: u32,
        text: &str,
        conditional: bool,
    ) {
        let b = Binding {
            name: name.to_string(),
            val,
            reads,
            path: path.to_string(),
            line,
            text: text.to_string(),
        };
        if conditional {
            p.conditional.entry(name.to_string()).or_default().push(b);
        } else {
            p.conditional.remove(name);
            p.values.insert(name.to_string(), b);
        }
    }

    fn eval(&self, p: &Project, e: &Expr, path: &str) -> (Val, Vec<EnvRead>) {
        let scope = ModScope {
            values: &p.values,
            env: self.env,
            file: path,
        };
        let mut ev = Eval::new(&scope);
        let v = ev.eval(e);
        (v, ev.reads)
    }

    /// Whether statements under `guards` run: `Some(true)` always, `Some(false)` never, `None`
    /// undecided. Also the environment reads the decision made.
    fn guard_state(
        &self,
        p: &Project,
        guards: &[Guard],
        path: &str,
    ) -> (Option<bool>, Vec<EnvRead>) {
        let mut unknown = false;
        let mut reads = Vec::new();
        for g in guards {
            match g {
                Guard::Try => {}
                Guard::Except | Guard::Loop => unknown = true,
                Guard::If { prior, test } => {
                    for t in prior {
                        let (v, r) = self.eval(p, t, path);
                        reads.extend(r);
                        match v.truthy() {
                            Some(true) => return (Some(false), reads),
                            Some(false) => {}
                            None => unknown = true,
                        }
                    }
                    if let Some(t) = test {
                        let (v, r) = self.eval(p, t, path);
                        reads.extend(r);
                        match v.truthy() {
                            Some(false) => return (Some(false), reads),
                            Some(true) => {}
                            None => unknown = true,
                        }
                    }
                }
            }
        }
        (if unknown { None } else { Some(true) }, reads)
    }
}
