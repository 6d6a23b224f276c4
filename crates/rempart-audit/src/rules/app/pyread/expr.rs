//! Python expressions, parsed from a token slice into a small tree. Anything outside the subset a
//! configuration module uses (comprehensions, lambdas, starred arguments, walrus ...) becomes
//! [`Expr::Unknown`] rather than an error: the reader classifies, it does not run code.

use super::lex::{Tok, Token};

/// Nesting beyond this depth is not followed (hostile input must not exhaust the stack).
const MAX_DEPTH: u32 = 48;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(String),
    /// An f-string: its template (the value depends on the names it formats).
    FString(String),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Set(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Name(String),
    Attr(Box<Expr>, String),
    Call(Box<Call>),
    Subscript(Box<Expr>, Box<Expr>),
    /// `+ - * / // % | & ^ @ **`.
    BinOp(String, Box<Expr>, Box<Expr>),
    /// `== != < <= > >= in not-in is is-not` (a chain keeps only its first comparison).
    Compare(String, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    IfExp {
        body: Box<Expr>,
        test: Box<Expr>,
        orelse: Box<Expr>,
    },
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub func: Expr,
    pub args: Vec<Expr>,
    pub kwargs: Vec<(String, Expr)>,
    /// `*args` or `**kwargs` were passed: the argument list is not fully known.
    pub starred: bool,
}

impl Expr {
    /// The dotted name of a name or attribute chain (`os.environ.get`).
    pub fn dotted(&self) -> Option<String> {
        match self {
            Expr::Name(n) => Some(n.clone()),
            Expr::Attr(base, a) => Some(format!("{}.{a}", base.dotted()?)),
            _ => None,
        }
    }

    /// The last component of a dotted name (`FastAPI` for `fastapi.FastAPI`).
    pub fn last_name(&self) -> Option<&str> {
        match self {
            Expr::Name(n) => Some(n),
            Expr::Attr(_, a) => Some(a),
            _ => None,
        }
    }
}

impl Call {
    pub fn kwarg(&self, name: &str) -> Option<&Expr> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Positional argument `i`, or the keyword `name`.
    pub fn arg(&self, i: usize, name: &str) -> Option<&Expr> {
        self.args.get(i).or_else(|| self.kwarg(name))
    }
}

/// Parse a whole token slice as one expression (a bare tuple when commas separate items).
pub fn parse(tokens: &[Token]) -> Expr {
    let mut p = Parser {
        t: tokens,
        pos: 0,
        depth: 0,
    };
    let e = p.tuple_or_expr();
    if p.pos == tokens.len() {
        e
    } else {
        Expr::Unknown
    }
}

struct Parser<'a> {
    t: &'a [Token],
    pos: usize,
    depth: u32,
}

fn is_keyword(n: &str) -> bool {
    matches!(
        n,
        "and" | "or" | "not" | "in" | "is" | "if" | "else" | "for" | "lambda" | "yield" | "await"
    )
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.t.get(self.pos)
    }

    fn peek_op(&self, op: &str) -> bool {
        self.peek().is_some_and(|t| t.is_op(op))
    }

    fn peek_name(&self, n: &str) -> bool {
        self.peek().is_some_and(|t| t.is_name(n))
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.peek_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_name(&mut self, n: &str) -> bool {
        if self.peek_name(n) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skip to the end of the slice: used once the input is outside the supported subset.
    fn give_up(&mut self) -> Expr {
        self.pos = self.t.len();
        Expr::Unknown
    }

    /// Skip to the bracket closing the current level (for comprehensions and the like).
    fn skip_to_close(&mut self) {
        let mut depth = 0i32;
        while let Some(t) = self.peek() {
            match &t.tok {
                Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
                Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn tuple_or_expr(&mut self) -> Expr {
        let first = self.expr();
        if !self.peek_op(",") {
            return first;
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_end_of_items() {
                break;
            }
            items.push(self.expr());
        }
        Expr::Tuple(items)
    }

    fn at_end_of_items(&self) -> bool {
        match self.peek() {
            None => true,
            Some(t) => {
                matches!(&t.tok, Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}" | "=" | ":"))
            }
        }
    }

    fn expr(&mut self) -> Expr {
        if self.depth >= MAX_DEPTH {
            return self.give_up();
        }
        self.depth += 1;
        let e = self.expr_inner();
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self) -> Expr {
        if self.eat_name("lambda") {
            // The body runs later: its value is not a setting.
            while let Some(t) = self.peek() {
                if t.is_op(",") || t.is_op(")") || t.is_op("]") || t.is_op("}") {
                    break;
                }
                if matches!(&t.tok, Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{")) {
                    self.pos += 1;
                    self.skip_to_close();
                }
                self.pos += 1;
            }
            return Expr::Unknown;
        }
        if self.eat_op("*") || self.eat_op("**") {
            let _ = self.or_expr();
            return Expr::Unknown;
        }
        let body = self.or_expr();
        if self.peek_op(":=") {
            self.pos += 1;
            return self.expr();
        }
        if self.eat_name("if") {
            let test = self.or_expr();
            if !self.eat_name("else") {
                return self.give_up();
            }
            let orelse = self.expr();
            return Expr::IfExp {
                body: Box::new(body),
                test: Box::new(test),
                orelse: Box::new(orelse),
            };
        }
        body
    }

    fn or_expr(&mut self) -> Expr {
        let mut l = self.and_expr();
        while self.eat_name("or") {
            let r = self.and_expr();
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        l
    }

    fn and_expr(&mut self) -> Expr {
        let mut l = self.not_expr();
        while self.eat_name("and") {
            let r = self.not_expr();
            l = Expr::And(Box::new(l), Box::new(r));
        }
        l
    }

    fn not_expr(&mut self) -> Expr {
        if self.eat_name("not") {
            if self.depth >= MAX_DEPTH {
                return self.give_up();
            }
            self.depth += 1;
            let e = self.not_expr();
            self.depth -= 1;
            return Expr::Not(Box::new(e));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Expr {
        let l = self.binary(0);
        let op = match self.peek().map(|t| &t.tok) {
            Some(Tok::Op(o)) if matches!(o.as_str(), "==" | "!=" | "<" | ">" | "<=" | ">=") => {
                o.clone()
            }
            Some(Tok::Name(n)) if n == "in" => "in".into(),
            Some(Tok::Name(n)) if n == "is" => {
                if self.t.get(self.pos + 1).is_some_and(|t| t.is_name("not")) {
                    self.pos += 1;
                    "is not".into()
                } else {
                    "is".into()
                }
            }
            Some(Tok::Name(n))
                if n == "not" && self.t.get(self.pos + 1).is_some_and(|t| t.is_name("in")) =>
            {
                self.pos += 1;
                "not in".into()
            }
            _ => return l,
        };
        self.pos += 1;
        let r = self.binary(0);
        let mut e = Expr::Compare(op, Box::new(l), Box::new(r));
        // Chained comparisons (`0 < x < 10`) are not needed by any setting: read and drop.
        while let Some(Tok::Op(o)) = self.peek().map(|t| &t.tok) {
            if matches!(o.as_str(), "==" | "!=" | "<" | ">" | "<=" | ">=") {
                self.pos += 1;
                let _ = self.binary(0);
                e = Expr::Unknown;
            } else {
                break;
            }
        }
        e
    }

    /// Binary operators by precedence level: `|`, `^`, `&`, shifts, `+ -`, `* / // % @`.
    fn binary(&mut self, level: usize) -> Expr {
        const LEVELS: &[&[&str]] = &[
            &["|"],
            &["^"],
            &["&"],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "/", "//", "%", "@"],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut l = self.binary(level + 1);
        loop {
            let op = match self.peek().map(|t| &t.tok) {
                Some(Tok::Op(o)) if ops.contains(&o.as_str()) => o.clone(),
                _ => return l,
            };
            self.pos += 1;
            let r = self.binary(level + 1);
            l = Expr::BinOp(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Expr {
        if self.depth >= MAX_DEPTH {
            return self.give_up();
        }
        if self.eat_op("-") {
            self.depth += 1;
            let e = self.unary();
            self.depth -= 1;
            return match e {
                Expr::Int(n) => Expr::Int(n.saturating_neg()),
                Expr::Float(f) => Expr::Float(-f),
                e => Expr::Neg(Box::new(e)),
            };
        }
        if self.eat_op("+") || self.eat_op("~") {
            self.depth += 1;
            let e = self.unary();
            self.depth -= 1;
            return match e {
                e @ (Expr::Int(_) | Expr::Float(_)) => e,
                _ => Expr::Unknown,
            };
        }
        if self.eat_name("await") {
            let _ = self.unary();
            return Expr::Unknown;
        }
        let base = self.primary();
        if self.eat_op("**") {
            let _ = self.unary();
            return Expr::Unknown;
        }
        base
    }

    fn primary(&mut self) -> Expr {
        let mut e = self.atom();
        loop {
            if self.eat_op(".") {
                match self.peek().and_then(|t| t.name().map(String::from)) {
                    Some(n) => {
                        self.pos += 1;
                        e = Expr::Attr(Box::new(e), n);
                    }
                    None => return self.give_up(),
                }
            } else if self.eat_op("(") {
                e = self.call(e);
            } else if self.eat_op("[") {
                if self.depth >= MAX_DEPTH {
                    return self.give_up();
                }
                self.depth += 1;
                let idx = self.subscript();
                self.depth -= 1;
                if !self.eat_op("]") {
                    return self.give_up();
                }
                e = Expr::Subscript(Box::new(e), Box::new(idx));
            } else {
                return e;
            }
        }
    }

    fn subscript(&mut self) -> Expr {
        // Slices (`a[1:2]`) are not settings: read them as unknown.
        let start = self.pos;
        let e = if self.peek_op(":") {
            Expr::Unknown
        } else {
            self.tuple_or_expr()
        };
        if self.peek_op(":") {
            self.pos = start;
            self.skip_to_close();
            return Expr::Unknown;
        }
        e
    }

    fn call(&mut self, func: Expr) -> Expr {
        if self.depth >= MAX_DEPTH {
            return self.give_up();
        }
        self.depth += 1;
        let mut call = Call {
            func,
            args: Vec::new(),
            kwargs: Vec::new(),
            starred: false,
        };
        loop {
            if self.eat_op(")") {
                break;
            }
            if self.peek().is_none() {
                self.depth -= 1;
                return Expr::Unknown;
            }
            if self.eat_op("*") || self.eat_op("**") {
                call.starred = true;
                let _ = self.expr();
            } else if self.peek().and_then(Token::name).is_some()
                && self.t.get(self.pos + 1).is_some_and(|t| t.is_op("="))
            {
                let name = self.peek().and_then(Token::name).unwrap_or("").to_string();
                self.pos += 2;
                let v = self.expr();
                call.kwargs.push((name, v));
            } else {
                let v = self.expr();
                if self.peek_name("for") {
                    // A generator argument: `any(x for x in y)`.
                    self.skip_to_close();
                    call.args.push(Expr::Unknown);
                } else {
                    call.args.push(v);
                }
            }
            if !self.eat_op(",") {
                if self.eat_op(")") {
                    break;
                }
                self.depth -= 1;
                return self.give_up();
            }
        }
        self.depth -= 1;
        Expr::Call(Box::new(call))
    }

    fn atom(&mut self) -> Expr {
        let Some(t) = self.peek().cloned() else {
            return Expr::Unknown;
        };
        match t.tok {
            Tok::Name(n) => {
                self.pos += 1;
                match n.as_str() {
                    "True" => Expr::Bool(true),
                    "False" => Expr::Bool(false),
                    "None" => Expr::None,
                    n if is_keyword(n) => self.give_up(),
                    _ => Expr::Name(n),
                }
            }
            Tok::Num(s) => {
                self.pos += 1;
                parse_number(&s)
            }
            Tok::Str(first) => {
                // Adjacent literals concatenate.
                self.pos += 1;
                let mut value = first.value;
                let mut fstring = first.fstring;
                let bytes = first.bytes;
                while let Some(Tok::Str(next)) = self.peek().map(|t| &t.tok) {
                    value.push_str(&next.value);
                    fstring |= next.fstring;
                    self.pos += 1;
                }
                if fstring {
                    Expr::FString(value)
                } else if bytes {
                    Expr::Bytes(value)
                } else {
                    Expr::Str(value)
                }
            }
            Tok::Op(o) => {
                self.pos += 1;
                match o.as_str() {
                    "(" => {
                        if self.eat_op(")") {
                            return Expr::Tuple(Vec::new());
                        }
                        let e = self.tuple_or_expr();
                        if self.peek_name("for") {
                            self.skip_to_close();
                            self.eat_op(")");
                            return Expr::Unknown;
                        }
                        if self.eat_op(")") {
                            e
                        } else {
                            self.give_up()
                        }
                    }
                    "[" => self.list_like("]").map_or(Expr::Unknown, Expr::List),
                    "{" => self.brace(),
                    "..." => Expr::Unknown,
                    _ => self.give_up(),
                }
            }
        }
    }

    /// Items up to `close`; `None` for a comprehension or malformed input (consumed either way).
    fn list_like(&mut self, close: &str) -> Option<Vec<Expr>> {
        let mut items = Vec::new();
        loop {
            if self.eat_op(close) {
                return Some(items);
            }
            self.peek()?;
            let e = self.expr();
            if self.peek_name("for") {
                self.skip_to_close();
                self.eat_op(close);
                return None;
            }
            items.push(e);
            if !self.eat_op(",") {
                if self.eat_op(close) {
                    return Some(items);
                }
                self.skip_to_close();
                self.eat_op(close);
                return None;
            }
        }
    }

    fn brace(&mut self) -> Expr {
        if self.eat_op("}") {
            return Expr::Dict(Vec::new());
        }
        if self.peek_op("**") {
            self.skip_to_close();
            self.eat_op("}");
            return Expr::Unknown;
        }
        let first = self.expr();
        if !self.eat_op(":") {
            // A set.
            let mut items = vec![first];
            if self.peek_name("for") {
                self.skip_to_close();
                self.eat_op("}");
                return Expr::Unknown;
            }
            if self.eat_op(",") {
                match self.list_like("}") {
                    Some(rest) => items.extend(rest),
                    None => return Expr::Unknown,
                }
            } else if !self.eat_op("}") {
                self.skip_to_close();
                self.eat_op("}");
                return Expr::Unknown;
            }
            return Expr::Set(items);
        }
        let mut pairs = Vec::new();
        let mut key = first;
        loop {
            let value = self.expr();
            if self.peek_name("for") {
                self.skip_to_close();
                self.eat_op("}");
                return Expr::Unknown;
            }
            pairs.push((key, value));
            if !self.eat_op(",") {
                if self.eat_op("}") {
                    return Expr::Dict(pairs);
                }
                self.skip_to_close();
                self.eat_op("}");
                return Expr::Unknown;
            }
            if self.eat_op("}") {
                return Expr::Dict(pairs);
            }
            if self.peek_op("**") {
                self.skip_to_close();
                self.eat_op("}");
                return Expr::Unknown;
            }
            key = self.expr();
            if !self.eat_op(":") {
                self.skip_to_close();
                self.eat_op("}");
                return Expr::Unknown;
            }
        }
    }
}

fn parse_number(s: &str) -> Expr {
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let radix = |p: &str, r: u32| i64::from_str_radix(&lower[p.len()..], r).ok();
    let int = if lower.starts_with("0x") {
        radix("0x", 16)
    } else if lower.starts_with("0o") {
        radix("0o", 8)
    } else if lower.starts_with("0b") {
        radix("0b", 2)
    } else {
        lower.parse::<i64>().ok()
    };
    match int {
        Some(n) => Expr::Int(n),
        None => lower
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map_or(Expr::Unknown, Expr::Float),
    }
}
