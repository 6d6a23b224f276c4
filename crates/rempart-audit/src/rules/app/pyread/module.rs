//! Python statements at module level: assignments (plain, chained, annotated, augmented), star
//! imports, expression statements, and the blocks around them (`if`/`elif`/`else`, `try`, loops,
//! `with`), so each statement knows the conditions under which it runs. Function bodies are not
//! module-level code and are skipped; class bodies are kept only as field lists (pydantic
//! settings classes name environment variables that way).

use super::expr::{self, Expr};
use super::lex::{LogicalLine, Tok, Token};

/// A condition a statement runs under.
#[derive(Debug, Clone, PartialEq)]
pub enum Guard {
    /// Inside an `if`/`elif` (`test`) or `else` (`test` None) branch; `prior` are the tests of
    /// the earlier branches of the chain, which must all be false.
    If {
        prior: Vec<Expr>,
        test: Option<Expr>,
    },
    /// The body of a `try`: runs unless something before it raises.
    Try,
    /// An `except` handler, or the `else` of a `try`.
    Except,
    /// A `for`/`while` body (or its `else`), a `match` case.
    Loop,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `a = b = value`, `a: T = value`.
    Assign { targets: Vec<Expr>, value: Expr },
    /// `a += value` (and the other augmented operators; `op` without the `=`).
    AugAssign {
        target: Expr,
        op: String,
        value: Expr,
    },
    /// `from MODULE import *`; `level` counts the leading dots.
    StarImport { module: String, level: u32 },
    /// A bare expression (usually a call: `ALLOWED_HOSTS.append(x)`, `load_dotenv()`).
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    /// Physical line the statement starts on.
    pub line: u32,
    /// Innermost last.
    pub guards: Vec<Guard>,
}

impl Stmt {
    /// Runs every time the module is imported (no `if`, no handler, no loop around it).
    pub fn unconditional(&self) -> bool {
        self.guards.iter().all(|g| matches!(g, Guard::Try))
    }
}

/// A field of a class body: `name: T = default`.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub default: Option<Expr>,
    pub line: u32,
}

/// A class defined at module level, with its bases and the fields of its body.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassDef {
    pub name: String,
    /// Dotted names of the bases (`BaseSettings`, `pydantic_settings.BaseSettings`).
    pub bases: Vec<String>,
    pub fields: Vec<Field>,
    pub line: u32,
}

/// A module read without running it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Module {
    pub stmts: Vec<Stmt>,
    pub classes: Vec<ClassDef>,
    /// Every logical line, functions included (to find calls made anywhere).
    pub lines: Vec<LogicalLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    If,
    Try,
    Except,
    Loop,
    With,
    Def,
    Class,
}

struct Block {
    indent: u32,
    kind: BlockKind,
    guard: Option<Guard>,
    /// For class blocks: index into `Module::classes`.
    class: Option<usize>,
}

const COMPOUND: &[&str] = &[
    "if", "elif", "else", "try", "except", "finally", "for", "while", "with", "def", "class",
    "async", "match", "case",
];

/// Build the statement list from logical lines.
pub fn build(lines: Vec<LogicalLine>) -> Module {
    let mut m = Module::default();
    let mut stack: Vec<Block> = Vec::new();
    // Per indentation: the tests of the current if-chain, and the kind of the last block.
    let mut chains: Vec<(u32, Vec<Expr>)> = Vec::new();
    let mut last_kind: Vec<(u32, BlockKind)> = Vec::new();

    for ll in &lines {
        while stack.last().is_some_and(|b| ll.indent <= b.indent) {
            stack.pop();
        }
        chains.retain(|(i, _)| *i <= ll.indent);
        last_kind.retain(|(i, _)| *i <= ll.indent);
        let in_def = stack.iter().any(|b| b.kind == BlockKind::Def);
        let class_body = match stack.last() {
            Some(b) if b.kind == BlockKind::Class && !in_def => b.class,
            _ => None,
        };
        let in_class = stack.iter().any(|b| b.kind == BlockKind::Class);
        let guards: Vec<Guard> = stack.iter().filter_map(|b| b.guard.clone()).collect();

        let toks = &ll.tokens;
        let head = toks.first().and_then(Token::name).unwrap_or("");
        let is_compound = COMPOUND.contains(&head) && header_colon(toks).is_some() && {
            // `match`/`case` are soft keywords: `match = 1` is an assignment.
            !(matches!(head, "match" | "case")
                && toks
                    .get(1)
                    .is_some_and(|t| t.is_op("=") || t.is_op(".") || t.is_op("(")))
        };
        if !is_compound {
            chains.retain(|(i, _)| *i != ll.indent);
            if in_def {
                continue;
            }
            if let Some(ci) = class_body {
                class_fields(toks, ll.line, &mut m.classes[ci]);
                continue;
            }
            if in_class {
                continue;
            }
            for part in split_semicolons(toks) {
                if let Some(kind) = simple_statement(part) {
                    m.stmts.push(Stmt {
                        kind,
                        line: part.first().map_or(ll.line, |t| t.line),
                        guards: guards.clone(),
                    });
                }
            }
            continue;
        }

        let colon = header_colon(toks).unwrap_or(toks.len());
        let header = &toks[..colon];
        let inline = toks.get(colon + 1..).unwrap_or(&[]);
        let head = if head == "async" {
            header.get(1).and_then(Token::name).unwrap_or("")
        } else {
            head
        };
        let test = || expr::parse(header.get(1..).unwrap_or(&[]));
        let prev_kind = last_kind
            .iter()
            .rev()
            .find(|(i, _)| *i == ll.indent)
            .map(|(_, k)| *k);
        let (kind, guard) = match head {
            "if" => {
                let t = test();
                chains.retain(|(i, _)| *i != ll.indent);
                chains.push((ll.indent, vec![t.clone()]));
                (
                    BlockKind::If,
                    Some(Guard::If {
                        prior: Vec::new(),
                        test: Some(t),
                    }),
                )
            }
            "elif" => {
                let t = test();
                let prior = chain_of(&chains, ll.indent);
                if let Some((_, c)) = chains.iter_mut().rev().find(|(i, _)| *i == ll.indent) {
                    c.push(t.clone());
                }
                (
                    BlockKind::If,
                    Some(Guard::If {
                        prior,
                        test: Some(t),
                    }),
                )
            }
            "else" => match prev_kind {
                Some(BlockKind::If) => {
                    let prior = chain_of(&chains, ll.indent);
                    (BlockKind::If, Some(Guard::If { prior, test: None }))
                }
                Some(BlockKind::Try | BlockKind::Except) => {
                    (BlockKind::Except, Some(Guard::Except))
                }
                _ => (BlockKind::Loop, Some(Guard::Loop)),
            },
            "try" => (BlockKind::Try, Some(Guard::Try)),
            "except" => (BlockKind::Except, Some(Guard::Except)),
            // `finally` runs whatever happened in the try.
            "finally" => (BlockKind::With, None),
            "for" | "while" | "match" | "case" => (BlockKind::Loop, Some(Guard::Loop)),
            "with" => (BlockKind::With, None),
            "def" => (BlockKind::Def, None),
            "class" => (BlockKind::Class, None),
            _ => (BlockKind::Loop, Some(Guard::Loop)),
        };
        if !matches!(head, "if" | "elif" | "else") {
            chains.retain(|(i, _)| *i != ll.indent);
        }
        last_kind.retain(|(i, _)| *i != ll.indent);
        last_kind.push((ll.indent, kind));

        let mut class_idx = None;
        if kind == BlockKind::Class && !in_def && !in_class {
            m.classes.push(class_header(header, ll.line));
            class_idx = Some(m.classes.len() - 1);
        }
        if inline.is_empty() {
            stack.push(Block {
                indent: ll.indent,
                kind,
                guard,
                class: class_idx,
            });
        } else if !in_def && !in_class && !matches!(kind, BlockKind::Def | BlockKind::Class) {
            // `if X: DEBUG = True` on one line.
            let mut g = guards.clone();
            g.extend(guard);
            for part in split_semicolons(inline) {
                if let Some(k) = simple_statement(part) {
                    m.stmts.push(Stmt {
                        kind: k,
                        line: ll.line,
                        guards: g.clone(),
                    });
                }
            }
        }
    }
    m.lines = lines;
    m
}

fn chain_of(chains: &[(u32, Vec<Expr>)], indent: u32) -> Vec<Expr> {
    chains
        .iter()
        .rev()
        .find(|(i, _)| *i == indent)
        .map(|(_, c)| c.clone())
        .unwrap_or_else(|| vec![Expr::Unknown])
}

/// The index of the colon ending a compound statement's header (outside brackets and lambdas).
fn header_colon(toks: &[Token]) -> Option<usize> {
    let mut depth = 0i32;
    let mut lambdas = 0;
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
            Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => depth -= 1,
            Tok::Name(n) if n == "lambda" && depth == 0 => lambdas += 1,
            Tok::Op(o) if o == ":" && depth == 0 => {
                if lambdas > 0 {
                    lambdas -= 1;
                } else {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_semicolons(toks: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
            Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => depth -= 1,
            Tok::Op(o) if o == ";" && depth <= 0 => {
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&toks[start..]);
    out.retain(|p| !p.is_empty());
    out
}

/// Positions of depth-0 operators in `ops`.
fn top_level(toks: &[Token], ops: &[&str]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
            Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => depth -= 1,
            Tok::Op(o) if depth == 0 && ops.contains(&o.as_str()) => out.push(i),
            Tok::Name(n) if n == "lambda" && depth == 0 => break,
            _ => {}
        }
    }
    out
}

const AUG: &[&str] = &[
    "+=", "-=", "*=", "/=", "//=", "%=", "|=", "&=", "^=", "@=", "**=", ">>=", "<<=",
];

fn simple_statement(toks: &[Token]) -> Option<StmtKind> {
    let first = toks.first()?;
    if first.is_name("from") {
        return star_import(toks);
    }
    if let Some(n) = first.name() {
        if matches!(
            n,
            "import"
                | "raise"
                | "return"
                | "pass"
                | "del"
                | "assert"
                | "global"
                | "nonlocal"
                | "break"
                | "continue"
                | "print"
                | "yield"
                | "type"
        ) && !toks
            .get(1)
            .is_some_and(|t| t.is_op("=") || t.is_op("(") || t.is_op("."))
        {
            return None;
        }
    }
    if let Some(&i) = top_level(toks, AUG).first() {
        let op = match &toks[i].tok {
            Tok::Op(o) => o.trim_end_matches('=').to_string(),
            _ => return None,
        };
        return Some(StmtKind::AugAssign {
            target: expr::parse(&toks[..i]),
            op,
            value: expr::parse(&toks[i + 1..]),
        });
    }
    let eqs = top_level(toks, &["="]);
    if eqs.is_empty() {
        // `NAME: T` declares without assigning.
        if !top_level(toks, &[":"]).is_empty() {
            return None;
        }
        return Some(StmtKind::Expr(expr::parse(toks)));
    }
    let mut targets = Vec::new();
    let mut start = 0;
    for &e in &eqs {
        let mut t = &toks[start..e];
        // `NAME: T = value`: the annotation is not part of the target.
        if start == 0 {
            if let Some(&c) = top_level(t, &[":"]).first() {
                t = &t[..c];
            }
        }
        targets.push(expr::parse(t));
        start = e + 1;
    }
    let value = expr::parse(&toks[start..]);
    Some(StmtKind::Assign { targets, value })
}

fn star_import(toks: &[Token]) -> Option<StmtKind> {
    // from . base import *   /   from ..settings.base import *   /   from proj.settings import *
    let mut level = 0u32;
    let mut module = String::new();
    let mut i = 1;
    while let Some(t) = toks.get(i) {
        match &t.tok {
            Tok::Op(o) if o == "." => level += 1,
            Tok::Op(o) if o == "..." => level += 3,
            _ => break,
        }
        i += 1;
    }
    while let Some(t) = toks.get(i) {
        match &t.tok {
            Tok::Name(n) if n == "import" => break,
            Tok::Name(n) => module.push_str(n),
            Tok::Op(o) if o == "." => module.push('.'),
            _ => return None,
        }
        i += 1;
    }
    if !toks.get(i)?.is_name("import") || !toks.get(i + 1)?.is_op("*") || toks.len() != i + 2 {
        return None;
    }
    Some(StmtKind::StarImport { module, level })
}

fn class_header(header: &[Token], line: u32) -> ClassDef {
    let name = header
        .get(1)
        .and_then(Token::name)
        .unwrap_or("")
        .to_string();
    let mut bases = Vec::new();
    if header.get(2).is_some_and(|t| t.is_op("(")) {
        if let Expr::Call(c) = expr::parse(&header[1..]) {
            for a in &c.args {
                if let Some(d) = a.dotted() {
                    bases.push(d);
                }
            }
        }
    }
    ClassDef {
        name,
        bases,
        fields: Vec::new(),
        line,
    }
}

fn class_fields(toks: &[Token], line: u32, class: &mut ClassDef) {
    let Some(name) = toks.first().and_then(Token::name) else {
        return;
    };
    let annotated = toks.get(1).is_some_and(|t| t.is_op(":"));
    let assigned = toks.get(1).is_some_and(|t| t.is_op("="));
    if !annotated && !assigned {
        return;
    }
    let default = top_level(toks, &["="])
        .first()
        .map(|&e| expr::parse(&toks[e + 1..]));
    class.fields.push(Field {
        name: name.to_string(),
        default,
        line,
    });
}
