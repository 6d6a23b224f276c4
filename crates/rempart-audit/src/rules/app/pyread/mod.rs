//! A reader of Python configuration modules (Django settings, FastAPI app modules, gunicorn
//! config files) that never runs them. It lexes the text ([`lex`]), builds module-level
//! statements with the conditions around them ([`module`]), parses expressions ([`expr`]) and
//! computes the values a setting can take ([`eval`]): literals, values from the service's
//! environment, values generated at start, or unknown. It does not import other modules (star
//! imports are followed by the Django settings layer, which knows the project layout).

pub mod eval;
pub mod expr;
pub mod lex;
pub mod module;

pub use eval::{EnvHit, EnvRead, Eval, Scope, Val};
pub use expr::{Call, Expr};
pub use module::{ClassDef, Guard, Module, Stmt, StmtKind};

/// A module Python itself would refuse, with the line where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ReadError {
    pub line: u32,
    pub message: String,
}

/// Read a module's text.
pub fn read(text: &str) -> Result<Module, ReadError> {
    Ok(module::build(lex::logical_lines(text)?))
}

/// Every call to a function whose last name is `name` (`FastAPI`, `add_middleware`), anywhere in
/// the module (functions included: apps are often built in a factory), with its line.
pub fn find_calls(m: &Module, name: &str) -> Vec<(Call, u32)> {
    let mut out = Vec::new();
    for ll in &m.lines {
        let t = &ll.tokens;
        for i in 0..t.len() {
            if !t[i].is_name(name) || !t.get(i + 1).is_some_and(|x| x.is_op("(")) {
                continue;
            }
            // Extend left over `a.b.` so the dotted callee is kept, then right to the bracket.
            let mut start = i;
            while start >= 2 && t[start - 1].is_op(".") && t[start - 2].name().is_some() {
                start -= 2;
            }
            let Some(end) = closing(t, i + 1) else {
                continue;
            };
            if let Expr::Call(c) = expr::parse(&t[start..=end]) {
                out.push((*c, t[i].line));
            }
        }
    }
    out
}

/// The index of the bracket closing the one at `open`.
fn closing(t: &[lex::Token], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (j, tok) in t.iter().enumerate().skip(open) {
        if let lex::Tok::Op(o) = &tok.tok {
            match o.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// Environment variables the module reads anywhere (`os.environ.get("X")`, `os.getenv("X")`,
/// `os.environ["X"]`, `env("X")`, `env.bool("X")`, `config("X")`), with the line of each read.
pub fn env_names(m: &Module) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    let str_at = |t: &[lex::Token], i: usize| match t.get(i).map(|x| &x.tok) {
        Some(lex::Tok::Str(s)) if !s.fstring && !s.bytes => Some(s.value.clone()),
        _ => None,
    };
    for ll in &m.lines {
        let t = &ll.tokens;
        for i in 0..t.len() {
            let Some(name) = t[i].name() else { continue };
            let prev_dot = i >= 1 && t[i - 1].is_op(".");
            let prev = if i >= 2 && prev_dot {
                t[i - 2].name()
            } else {
                None
            };
            let var = if t.get(i + 1).is_some_and(|x| x.is_op("(")) {
                let is_lookup = match (prev, name) {
                    (Some("environ"), "get" | "setdefault") => true,
                    (_, "getenv") => true,
                    (None, "env" | "config") if !prev_dot => true,
                    (
                        Some("env"),
                        "str" | "bool" | "int" | "list" | "tuple" | "float" | "url" | "db",
                    ) => true,
                    _ => false,
                };
                if is_lookup {
                    str_at(t, i + 2)
                } else {
                    None
                }
            } else if name == "environ" && t.get(i + 1).is_some_and(|x| x.is_op("[")) {
                str_at(t, i + 2)
            } else {
                None
            };
            if let Some(v) = var {
                if !v.is_empty() && !out.iter().any(|(n, _)| *n == v) {
                    out.push((v, t[i].line));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
