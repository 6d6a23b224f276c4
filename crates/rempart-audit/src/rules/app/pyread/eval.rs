//! The value of a configuration expression, computed without running Python: literals, names
//! bound earlier in the module, environment lookups (`os.environ`, `os.getenv`, django-environ's
//! `env(...)`, python-decouple's `config(...)`) answered from the environment the service really
//! gets, the string methods and casts settings use (`.lower()`, `.split(',')`, `bool()`), path
//! building (`Path(__file__).resolve().parent / "logs"`), and values generated at import time
//! (`secrets.token_hex()`). Everything else is [`Val::Unknown`]. Each evaluation records which
//! environment variables it read, found or not, so a finding can point at the line that set them.

use super::expr::{Call, Expr};

/// A value as far as it can be known.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes,
    /// Lists, tuples and sets.
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    /// A `pathlib.Path`.
    Path(String),
    /// Generated afresh each time the module is imported (a new value at every restart).
    Random,
    /// A django-environ `Env(...)` object and its scheme: variable -> (cast, default).
    EnvObj(Vec<(String, Cast, Option<Val>)>),
    Unknown,
}

/// How an environment value is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cast {
    Str,
    Bool,
    Int,
    List,
}

/// Where an environment variable was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvHit {
    pub value: String,
    pub path: String,
    pub line: u32,
    pub text: String,
}

/// One environment lookup made while evaluating.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvRead {
    pub var: String,
    /// Where the service's environment sets it; `None` when nothing does.
    pub hit: Option<EnvHit>,
    /// The fallback written in the code, used when the variable is unset.
    pub default: Option<Val>,
}

/// What an evaluation may look up.
pub trait Scope {
    /// A module-level name bound earlier, with the environment reads its value came from.
    fn name(&self, name: &str) -> Option<(Val, Vec<EnvRead>)>;
    /// The service's environment.
    fn env(&self, var: &str) -> Option<EnvHit>;
    /// The host path of the module (`__file__`).
    fn file(&self) -> &str;
}

impl Val {
    /// Python truthiness; `None` when unknown.
    pub fn truthy(&self) -> Option<bool> {
        Some(match self {
            Val::None => false,
            Val::Bool(b) => *b,
            Val::Int(n) => *n != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::List(v) => !v.is_empty(),
            Val::Dict(v) => !v.is_empty(),
            Val::Path(_) | Val::Random | Val::EnvObj(_) => true,
            Val::Bytes | Val::Unknown => return None,
        })
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) | Val::Path(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(n) => Some(*n),
            Val::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, Val::Unknown | Val::Bytes)
    }

    /// A dict's value for a string key.
    pub fn get(&self, key: &str) -> Option<&Val> {
        match self {
            Val::Dict(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Python's `repr`-like rendering, for evidence (never used for secrets).
    pub fn show(&self) -> String {
        match self {
            Val::None => "None".into(),
            Val::Bool(b) => if *b { "True" } else { "False" }.into(),
            Val::Int(n) => n.to_string(),
            Val::Float(f) => f.to_string(),
            Val::Str(s) => format!("'{s}'"),
            Val::Path(s) => format!("Path('{s}')"),
            Val::Bytes => "b'...'".into(),
            Val::List(v) => format!(
                "[{}]",
                v.iter().map(Val::show).collect::<Vec<_>>().join(", ")
            ),
            Val::Dict(_) => "{...}".into(),
            Val::Random => "a value generated at start".into(),
            Val::EnvObj(_) => "environ.Env(...)".into(),
            Val::Unknown => "unknown".into(),
        }
    }
}

/// django-environ's and python-decouple's reading of a boolean.
pub fn env_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "ok" | "y" | "yes" | "1" | "t" => Some(true),
        "false" | "off" | "n" | "no" | "0" | "f" | "" => Some(false),
        _ => None,
    }
}

fn cast(value: Val, how: Cast) -> Val {
    let Val::Str(s) = &value else {
        return value;
    };
    match how {
        Cast::Str => value,
        Cast::Bool => env_bool(s).map_or(Val::Unknown, Val::Bool),
        Cast::Int => s.trim().parse().map_or(Val::Unknown, Val::Int),
        Cast::List => Val::List(
            s.split(',')
                .map(|p| Val::Str(p.trim().to_string()))
                .filter(|v| v.as_str() != Some(""))
                .collect(),
        ),
    }
}

fn cast_of(e: &Expr) -> Option<Cast> {
    match e {
        Expr::Name(n) => match n.as_str() {
            "bool" => Some(Cast::Bool),
            "int" => Some(Cast::Int),
            "str" => Some(Cast::Str),
            "list" | "tuple" => Some(Cast::List),
            _ => None,
        },
        Expr::Call(c) if c.func.last_name() == Some("Csv") => Some(Cast::List),
        _ => None,
    }
}

/// Functions whose result is new at every import.
const RANDOM: &[&str] = &[
    "token_hex",
    "token_urlsafe",
    "token_bytes",
    "urandom",
    "uuid4",
    "get_random_secret_key",
    "get_random_string",
    "generate_key",
    "randbytes",
    "getrandbits",
];

/// Evaluates expressions against a [`Scope`], recording environment reads.
pub struct Eval<'a> {
    scope: &'a dyn Scope,
    pub reads: Vec<EnvRead>,
}

impl<'a> Eval<'a> {
    pub fn new(scope: &'a dyn Scope) -> Eval<'a> {
        Eval {
            scope,
            reads: Vec::new(),
        }
    }

    pub fn eval(&mut self, e: &Expr) -> Val {
        match e {
            Expr::None => Val::None,
            Expr::Bool(b) => Val::Bool(*b),
            Expr::Int(n) => Val::Int(*n),
            Expr::Float(f) => Val::Float(*f),
            Expr::Str(s) => Val::Str(s.clone()),
            Expr::Bytes(_) => Val::Bytes,
            Expr::FString(_) | Expr::Unknown => Val::Unknown,
            Expr::List(v) | Expr::Tuple(v) | Expr::Set(v) => {
                Val::List(v.iter().map(|x| self.eval(x)).collect())
            }
            Expr::Dict(pairs) => Val::Dict(
                pairs
                    .iter()
                    .map(|(k, v)| (self.eval(k), self.eval(v)))
                    .collect(),
            ),
            Expr::Name(n) => self.name(n),
            Expr::Attr(base, attr) => self.attr(base, attr),
            Expr::Call(c) => self.call(c),
            Expr::Subscript(base, idx) => self.subscript(base, idx),
            Expr::BinOp(op, l, r) => {
                let (l, r) = (self.eval(l), self.eval(r));
                binop(op, l, r)
            }
            Expr::Compare(op, l, r) => {
                let (l, r) = (self.eval(l), self.eval(r));
                compare(op, &l, &r).map_or(Val::Unknown, Val::Bool)
            }
            Expr::And(l, r) => {
                let l = self.eval(l);
                match l.truthy() {
                    Some(false) => l,
                    Some(true) => self.eval(r),
                    None => {
                        let _ = self.eval(r);
                        Val::Unknown
                    }
                }
            }
            Expr::Or(l, r) => {
                let l = self.eval(l);
                match l.truthy() {
                    Some(true) => l,
                    Some(false) => self.eval(r),
                    None => {
                        let _ = self.eval(r);
                        Val::Unknown
                    }
                }
            }
            Expr::Not(x) => self
                .eval(x)
                .truthy()
                .map_or(Val::Unknown, |b| Val::Bool(!b)),
            Expr::Neg(x) => match self.eval(x) {
                Val::Int(n) => Val::Int(n.saturating_neg()),
                Val::Float(f) => Val::Float(-f),
                _ => Val::Unknown,
            },
            Expr::IfExp { body, test, orelse } => match self.eval(test).truthy() {
                Some(true) => self.eval(body),
                Some(false) => self.eval(orelse),
                None => {
                    let (a, b) = (self.eval(body), self.eval(orelse));
                    if a == b {
                        a
                    } else {
                        Val::Unknown
                    }
                }
            },
        }
    }

    fn name(&mut self, n: &str) -> Val {
        if n == "__file__" {
            return Val::Str(self.scope.file().to_string());
        }
        match self.scope.name(n) {
            Some((v, reads)) => {
                self.reads.extend(reads);
                v
            }
            None => Val::Unknown,
        }
    }

    fn attr(&mut self, base: &Expr, attr: &str) -> Val {
        let b = self.eval(base);
        match (b, attr) {
            (Val::Path(p), "parent") => Val::Path(dirname(&p)),
            (Val::Path(p), "name") => Val::Str(p.rsplit('/').next().unwrap_or("").to_string()),
            (Val::Random, _) => Val::Random,
            _ => Val::Unknown,
        }
    }

    /// Read one environment variable, recording the read.
    fn env_read(&mut self, var: &str, default: Option<Val>) -> Option<Val> {
        let hit = self.scope.env(var);
        let value = hit.as_ref().map(|h| Val::Str(h.value.clone()));
        self.reads.push(EnvRead {
            var: var.to_string(),
            hit,
            default: default.clone(),
        });
        value.or(default)
    }

    fn is_environ(&self, e: &Expr) -> bool {
        matches!(e.dotted().as_deref(), Some("os.environ" | "environ"))
    }

    fn subscript(&mut self, base: &Expr, idx: &Expr) -> Val {
        if self.is_environ(base) {
            let key = self.eval(idx);
            let Some(var) = key.as_str() else {
                return Val::Unknown;
            };
            // A missing variable raises KeyError: the service does not start.
            return self.env_read(var, None).unwrap_or(Val::Unknown);
        }
        let b = self.eval(base);
        let i = self.eval(idx);
        match (&b, &i) {
            (Val::Dict(_), Val::Str(k)) => b.get(k).cloned().unwrap_or(Val::Unknown),
            (Val::List(v), Val::Int(n)) => {
                let len = v.len() as i64;
                let at = if *n < 0 { len + n } else { *n };
                usize::try_from(at)
                    .ok()
                    .and_then(|a| v.get(a))
                    .cloned()
                    .unwrap_or(Val::Unknown)
            }
            _ => Val::Unknown,
        }
    }

    fn call(&mut self, c: &Call) -> Val {
        let dotted = c.func.dotted().unwrap_or_default();
        let last = c.func.last_name().unwrap_or("");
        // Environment lookups.
        if matches!(
            dotted.as_str(),
            "os.environ.get" | "environ.get" | "os.getenv" | "getenv" | "os.environ.setdefault"
        ) {
            let Some(var) = c.arg(0, "key").map(|e| self.eval(e)) else {
                return Val::Unknown;
            };
            let default = c
                .arg(1, "default")
                .map(|e| self.eval(e))
                .unwrap_or(Val::None);
            return match var.as_str() {
                Some(v) => self.env_read(v, Some(default)).unwrap_or(Val::Unknown),
                None => Val::Unknown,
            };
        }
        if let Some(v) = self.env_object_call(c) {
            return v;
        }
        if matches!(dotted.as_str(), "config" | "decouple.config") {
            return self.decouple(c);
        }
        if RANDOM.contains(&last) {
            for a in &c.args {
                let _ = self.eval(a);
            }
            return Val::Random;
        }
        // Methods of a value.
        if let Expr::Attr(base, method) = &c.func {
            if dotted.starts_with("os.path.") {
                return self.os_path(method, c);
            }
            let b = self.eval(base);
            let args: Vec<Val> = c.args.iter().map(|a| self.eval(a)).collect();
            return method_call(b, method, &args);
        }
        let args: Vec<Val> = c.args.iter().map(|a| self.eval(a)).collect();
        let first = args.first().cloned();
        match (dotted.as_str(), first) {
            ("bool", Some(v)) => v.truthy().map_or(Val::Unknown, Val::Bool),
            ("bool", None) => Val::Bool(false),
            ("int", Some(Val::Str(s))) => s.trim().parse().map_or(Val::Unknown, Val::Int),
            ("int", Some(Val::Bool(b))) => Val::Int(i64::from(b)),
            ("int", Some(v @ Val::Int(_))) => v,
            ("str", Some(Val::Path(p))) => Val::Str(p),
            ("str", Some(v @ (Val::Str(_) | Val::Random))) => v,
            ("str", Some(Val::Int(n))) => Val::Str(n.to_string()),
            ("str", Some(Val::Bool(b))) => Val::Str(if b { "True" } else { "False" }.into()),
            ("list" | "tuple" | "set" | "frozenset", Some(v @ Val::List(_))) => v,
            ("Path" | "pathlib.Path" | "PurePath", Some(Val::Str(s) | Val::Path(s))) => {
                Val::Path(s)
            }
            _ => Val::Unknown,
        }
    }

    /// `env('X')`, `env.bool('X', default=False)`, `environ.Env(DEBUG=(bool, False))`.
    fn env_object_call(&mut self, c: &Call) -> Option<Val> {
        let dotted = c.func.dotted()?;
        if matches!(
            dotted.as_str(),
            "environ.Env" | "Env" | "environ.FileAwareEnv" | "FileAwareEnv"
        ) {
            let mut scheme = Vec::new();
            for (k, v) in &c.kwargs {
                let (how, default) = match v {
                    Expr::Tuple(items) if !items.is_empty() => (
                        cast_of(&items[0]).unwrap_or(Cast::Str),
                        items.get(1).map(|d| self.eval(d)),
                    ),
                    other => (cast_of(other).unwrap_or(Cast::Str), None),
                };
                scheme.push((k.clone(), how, default));
            }
            return Some(Val::EnvObj(scheme));
        }
        let (obj, method) = match &c.func {
            Expr::Name(n) => (n.as_str(), None),
            Expr::Attr(base, m) => match base.as_ref() {
                Expr::Name(n) => (n.as_str(), Some(m.as_str())),
                _ => return None,
            },
            _ => return None,
        };
        let bound = self.scope.name(obj).map(|(v, _)| v);
        let scheme = match bound {
            Some(Val::EnvObj(s)) => s,
            // An unbound `env` is django-environ imported from elsewhere.
            None if obj == "env" => Vec::new(),
            _ => return None,
        };
        let how = match method {
            None | Some("str") => None,
            Some("bool") => Some(Cast::Bool),
            Some("int") => Some(Cast::Int),
            Some("list" | "tuple") => Some(Cast::List),
            Some(_) => return Some(Val::Unknown),
        };
        let var = self.eval(c.arg(0, "var")?);
        let var = var.as_str()?.to_string();
        let declared = scheme.iter().find(|(k, _, _)| *k == var);
        let how = how
            .or(declared.map(|(_, h, _)| *h))
            .or_else(|| c.kwarg("cast").and_then(cast_of))
            .unwrap_or(Cast::Str);
        let default = match c.arg(1, "default") {
            Some(d) => Some(self.eval(d)),
            None => declared.and_then(|(_, _, d)| d.clone()),
        };
        // Without a default, django-environ raises ImproperlyConfigured.
        Some(
            self.env_read(&var, default)
                .map_or(Val::Unknown, |v| cast(v, how)),
        )
    }

    /// python-decouple: `config('X', default=..., cast=bool)`.
    fn decouple(&mut self, c: &Call) -> Val {
        let Some(var) = c.arg(0, "option").map(|e| self.eval(e)) else {
            return Val::Unknown;
        };
        let Some(var) = var.as_str().map(String::from) else {
            return Val::Unknown;
        };
        let how = c.arg(2, "cast").and_then(cast_of).unwrap_or(Cast::Str);
        let default = c.arg(1, "default").map(|e| self.eval(e));
        match self.env_read(&var, default) {
            // decouple casts defaults too (a string default "False" becomes False).
            Some(v) => cast(v, how),
            None => Val::Unknown,
        }
    }

    fn os_path(&mut self, func: &str, c: &Call) -> Val {
        let args: Vec<Val> = c.args.iter().map(|a| self.eval(a)).collect();
        let strs: Option<Vec<String>> = args.iter().map(|a| a.as_str().map(String::from)).collect();
        let Some(strs) = strs else {
            return Val::Unknown;
        };
        match (func, strs.as_slice()) {
            ("join", [first, rest @ ..]) => {
                let mut p = first.clone();
                for r in rest {
                    p = join_path(&p, r);
                }
                Val::Str(p)
            }
            ("dirname", [p]) => Val::Str(dirname(p)),
            ("abspath" | "realpath" | "normpath" | "expanduser", [p]) => Val::Str(normalise(p)),
            ("basename", [p]) => Val::Str(p.rsplit('/').next().unwrap_or("").to_string()),
            _ => Val::Unknown,
        }
    }
}

fn method_call(b: Val, method: &str, args: &[Val]) -> Val {
    match (b, method) {
        (Val::Random, _) => Val::Random,
        (Val::Str(s), "lower" | "casefold") => Val::Str(s.to_lowercase()),
        (Val::Str(s), "upper") => Val::Str(s.to_uppercase()),
        (Val::Str(s), "strip") if args.is_empty() => Val::Str(s.trim().to_string()),
        (Val::Str(s), "split") => match args.first() {
            Some(Val::Str(sep)) if !sep.is_empty() => {
                Val::List(s.split(sep.as_str()).map(|p| Val::Str(p.into())).collect())
            }
            None | Some(Val::None) => Val::List(
                s.split_whitespace()
                    .map(|p| Val::Str(p.to_string()))
                    .collect(),
            ),
            _ => Val::Unknown,
        },
        (Val::Str(s), "startswith") => match args.first() {
            Some(Val::Str(p)) => Val::Bool(s.starts_with(p.as_str())),
            _ => Val::Unknown,
        },
        (Val::Str(s), "endswith") => match args.first() {
            Some(Val::Str(p)) => Val::Bool(s.ends_with(p.as_str())),
            _ => Val::Unknown,
        },
        (Val::Path(p), "resolve" | "absolute" | "expanduser") => Val::Path(normalise(&p)),
        (Val::Path(p), "joinpath") => {
            let mut out = p;
            for a in args {
                match a.as_str() {
                    Some(s) => out = join_path(&out, s),
                    None => return Val::Unknown,
                }
            }
            Val::Path(out)
        }
        (d @ Val::Dict(_), "get") => match args.first() {
            Some(Val::Str(k)) => d
                .get(k)
                .cloned()
                .or_else(|| args.get(1).cloned())
                .unwrap_or(Val::None),
            _ => Val::Unknown,
        },
        _ => Val::Unknown,
    }
}

fn binop(op: &str, l: Val, r: Val) -> Val {
    match (op, l, r) {
        ("+", Val::Str(a), Val::Str(b)) => Val::Str(a + &b),
        ("+", Val::List(mut a), Val::List(b)) => {
            a.extend(b);
            Val::List(a)
        }
        ("+", Val::Int(a), Val::Int(b)) => Val::Int(a.saturating_add(b)),
        ("-", Val::Int(a), Val::Int(b)) => Val::Int(a.saturating_sub(b)),
        ("*", Val::Int(a), Val::Int(b)) => Val::Int(a.saturating_mul(b)),
        ("/", Val::Path(a), Val::Str(b) | Val::Path(b)) => Val::Path(join_path(&a, &b)),
        ("+" | "*", Val::Random, _) | ("+" | "*", _, Val::Random) => Val::Random,
        _ => Val::Unknown,
    }
}

fn compare(op: &str, l: &Val, r: &Val) -> Option<bool> {
    if !l.is_known() || !r.is_known() || matches!(l, Val::Random) || matches!(r, Val::Random) {
        return None;
    }
    let eq = || -> Option<bool> {
        match (l, r) {
            (Val::Int(a), Val::Bool(b)) | (Val::Bool(b), Val::Int(a)) => Some(*a == i64::from(*b)),
            (Val::Float(a), Val::Int(b)) | (Val::Int(b), Val::Float(a)) => Some(*a == *b as f64),
            _ => Some(l == r),
        }
    };
    let contains = || -> Option<bool> {
        match r {
            Val::List(v) => {
                if v.iter().any(|x| !x.is_known()) {
                    return None;
                }
                Some(v.contains(l))
            }
            Val::Str(s) => l.as_str().map(|x| s.contains(x)),
            Val::Dict(pairs) => Some(pairs.iter().any(|(k, _)| k == l)),
            _ => None,
        }
    };
    match op {
        "==" | "is" => eq(),
        "!=" | "is not" => eq().map(|b| !b),
        "in" => contains(),
        "not in" => contains().map(|b| !b),
        _ => match (l, r) {
            (Val::Int(a), Val::Int(b)) => Some(match op {
                "<" => a < b,
                "<=" => a <= b,
                ">" => a > b,
                _ => a >= b,
            }),
            _ => None,
        },
    }
}

/// The parent directory of a path.
pub fn dirname(p: &str) -> String {
    let t = p.trim_end_matches('/');
    match t.rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((d, _)) => d.to_string(),
        None => String::new(),
    }
}

pub fn join_path(a: &str, b: &str) -> String {
    if b.starts_with('/') || a.is_empty() {
        b.to_string()
    } else {
        format!("{}/{b}", a.trim_end_matches('/'))
    }
}

/// Remove `.` and `..` components.
pub fn normalise(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if p.starts_with('/') {
        format!("/{}", parts.join("/"))
    } else {
        parts.join("/")
    }
}
