//! `/etc/nftables.conf`, the file nftables.service loads with `nft -f`, and the files it
//! includes. Enough of the nft language is parsed to rebuild its tables and chains: `include`,
//! `define`/`redefine`/`undefine` and `$variables`, `flush ruleset`, `table` blocks and the
//! command forms (`add table|chain|rule|set|element`, `insert rule`), chain headers (`type filter
//! hook input priority ...; policy drop;`), named sets with their elements, and rules, which
//! [`rule`] translates into conditions and verdicts.
//!
//! Structure errors nft itself would refuse (unbalanced braces, an unterminated string, an unknown
//! statement, an undefined variable, a missing include) are [`ParseError`]s with file and line.
//! Rule expressions rempart does not know are kept as unknown conditions, never an error.

pub mod lexer;
pub mod rule;

use super::model::{Chain, FwRule, Loc, Ruleset, TableFamily, Verdict};
use super::ParseError;
use crate::host::{FileKind, Host, HostError};
use lexer::{lex, Tok, Token};
use std::collections::HashMap;

/// The file nftables.service loads.
pub const NFTABLES_CONF: &str = "/etc/nftables.conf";

/// nft's own limit on nested includes.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Tokens one statement may reach through variable expansion.
const MAX_EXPANSION: usize = 200_000;

/// Where nft looks for relative include paths (`nft -h`: "Default is: /etc").
const INCLUDE_DIR: &str = "/etc";

/// Errors loading an nft configuration from a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Host(HostError),
    Parse(ParseError),
}

/// The files an `include` names: `(host path, text)` in load order.
pub type Included = Vec<(String, String)>;

/// Resolves `include "spec"` seen in a file. Errors are messages (the parser adds file:line).
pub type IncludeFn<'a> = dyn FnMut(&str) -> Result<Included, IncludeFailure> + 'a;

/// Why an include could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncludeFailure {
    NotFound(String),
    Host(HostError),
}

/// Load `/etc/nftables.conf` (or another file) with its includes from a host.
pub fn load(host: &Host, path: &str) -> Result<Option<Ruleset>, LoadError> {
    let Some(f) = host.read_text(path).map_err(LoadError::Host)? else {
        return Ok(None);
    };
    let mut resolve = |spec: &str| resolve_include(host, spec);
    match parse(path, &f.text, &mut resolve) {
        Ok(rs) => Ok(Some(rs)),
        Err(ParseFailure::Parse(e)) => Err(LoadError::Parse(e)),
        Err(ParseFailure::Host(e)) => Err(LoadError::Host(e)),
    }
}

/// What `include "spec"` loads on a host: nft's include path rules (absolute, `./` from the
/// working directory, which is `/` for nftables.service, else under `/etc`), wildcards (no match
/// is fine), directories (every file, alphabetical, no dot files).
fn resolve_include(host: &Host, spec: &str) -> Result<Included, IncludeFailure> {
    let path = if spec.starts_with('/') {
        spec.to_string()
    } else if let Some(rest) = spec.strip_prefix("./") {
        format!("/{rest}")
    } else {
        format!("{INCLUDE_DIR}/{spec}")
    };
    let wildcard = path.contains(['*', '?', '[']);
    let mut files = Vec::new();
    if wildcard {
        for p in host.glob(&path).map_err(IncludeFailure::Host)? {
            let hidden = p.rsplit('/').next().is_some_and(|n| n.starts_with('.'));
            if !hidden {
                files.push(p);
            }
        }
    } else {
        match host.metadata(&path).map_err(IncludeFailure::Host)? {
            None => return Err(IncludeFailure::NotFound(path)),
            Some(m) if m.kind == FileKind::Dir => {
                let names = host
                    .read_dir(&path)
                    .map_err(IncludeFailure::Host)?
                    .unwrap_or_default();
                for n in names.into_iter().filter(|n| !n.starts_with('.')) {
                    files.push(format!("{}/{n}", path.trim_end_matches('/')));
                }
            }
            Some(_) => files.push(path),
        }
    }
    let mut out = Vec::new();
    for p in files {
        if let Some(f) = host.read_text(&p).map_err(IncludeFailure::Host)? {
            out.push((p, f.text));
        }
    }
    Ok(out)
}

/// Why a parse failed: the configuration, or reading an included file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseFailure {
    Parse(ParseError),
    Host(HostError),
}

impl From<ParseError> for ParseFailure {
    fn from(e: ParseError) -> Self {
        ParseFailure::Parse(e)
    }
}

/// Parse one configuration file; `include` statements are handed to `include`.
pub fn parse(path: &str, text: &str, include: &mut IncludeFn) -> Result<Ruleset, ParseFailure> {
    let mut p = Parser {
        include,
        vars: HashMap::new(),
        tables: Vec::new(),
    };
    p.file(path, text, 0)?;
    let mut rs = Ruleset {
        origin: Some(path.to_string()),
        ..Ruleset::default()
    };
    for t in p.tables {
        for c in t.chains {
            let mut rules = Vec::with_capacity(c.rules.len());
            for r in c.rules {
                let (conds, verdict) = rule::translate(&r.tokens, t.family, &t.sets)
                    .map_err(|m| ParseError::at(&r.loc_path, r.line, m))?;
                rules.push(FwRule {
                    conds,
                    verdict,
                    loc: Loc::file(&r.loc_path, r.line, &r.text),
                });
            }
            let hook = if c.kind.as_deref() == Some("filter") {
                c.hook
            } else {
                None
            };
            rs.chains.push(Chain {
                family: t.family,
                table: t.name.clone(),
                name: c.name,
                hook,
                policy: c.policy,
                rules,
                loc: c.loc,
            });
        }
    }
    Ok(rs)
}

struct RawRule {
    tokens: Vec<Token>,
    loc_path: String,
    line: u32,
    text: String,
}

struct RawChain {
    name: String,
    kind: Option<String>,
    hook: Option<String>,
    policy: Option<(Verdict, Loc)>,
    rules: Vec<RawRule>,
    loc: Loc,
}

struct Table {
    family: TableFamily,
    name: String,
    chains: Vec<RawChain>,
    sets: HashMap<String, Vec<Token>>,
}

struct Parser<'i, 'f> {
    include: &'i mut IncludeFn<'f>,
    vars: HashMap<String, Vec<Token>>,
    tables: Vec<Table>,
}

/// A cursor over one file's tokens.
struct Cur<'a> {
    path: &'a str,
    lines: Vec<&'a str>,
    toks: Vec<Token>,
    pos: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn line(&self) -> u32 {
        self.toks
            .get(self.pos.min(self.toks.len().saturating_sub(1)))
            .map_or(1, |t| t.line)
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError::at(self.path, self.line(), message.into())
    }

    fn err_at(&self, line: u32, message: impl Into<String>) -> ParseError {
        ParseError::at(self.path, line, message.into())
    }

    fn text_of(&self, line: u32) -> &str {
        self.lines
            .get((line as usize).saturating_sub(1))
            .copied()
            .unwrap_or("")
    }

    fn skip_ends(&mut self) {
        while self.peek().is_some_and(Token::is_end) {
            self.pos += 1;
        }
    }

    fn word(&mut self, what: &str) -> Result<String, ParseError> {
        match self.next() {
            Some(t) => match t.tok {
                Tok::Word(w) | Tok::Str(w) => Ok(w),
                _ => Err(self.err_at(t.line, format!("expected {what}"))),
            },
            None => Err(self.err(format!("expected {what}, found the end of the file"))),
        }
    }

    fn expect_lbrace(&mut self) -> Result<(), ParseError> {
        match self.next() {
            Some(Token {
                tok: Tok::LBrace, ..
            }) => Ok(()),
            Some(t) => Err(self.err_at(t.line, "expected `{`")),
            None => Err(self.err("expected `{`, found the end of the file")),
        }
    }

    /// Tokens up to the end of the statement (`;` or a line end outside braces), or up to an
    /// unmatched `}` (left in place). Line ends inside braces are dropped.
    fn statement(&mut self) -> Result<Vec<Token>, ParseError> {
        let mut out: Vec<Token> = Vec::new();
        let mut depth = 0usize;
        let start = self.line();
        while let Some(t) = self.peek() {
            // `{ 22, 80, 443 accept`: a verdict right after a set element means a `}` is
            // missing (nft: "unexpected accept, expecting comma or '}'").
            if depth > 0 && is_verdict_word(t) {
                if let Some(prev) = out.last().and_then(Token::text) {
                    if !matches!(prev, ":" | "jump" | "goto" | "vmap") && !prev.ends_with(':') {
                        return Err(self.err_at(
                            t.line,
                            format!("expected `,` or `}}` before `{}`", t.text().unwrap_or("")),
                        ));
                    }
                }
            }
            match t.tok {
                Tok::Semi | Tok::Newline if depth == 0 => break,
                Tok::Newline => {
                    self.pos += 1;
                    continue;
                }
                Tok::LBrace => depth += 1,
                Tok::RBrace if depth == 0 => break,
                Tok::RBrace => depth -= 1,
                _ => {}
            }
            out.push(t.clone());
            self.pos += 1;
        }
        if depth > 0 {
            return Err(self.err_at(start, "unbalanced `{`"));
        }
        Ok(out)
    }

    /// An optional family keyword before a name.
    fn family(&mut self) -> Result<TableFamily, ParseError> {
        if let Some(w) = self.peek().and_then(Token::text) {
            if let Some(f) = TableFamily::parse(w) {
                // `table inet filter` vs `table filter`: a family is followed by a name.
                if self
                    .toks
                    .get(self.pos + 1)
                    .is_some_and(|t| matches!(t.tok, Tok::Word(_) | Tok::Str(_)))
                {
                    self.pos += 1;
                    return Ok(f);
                }
            }
        }
        Ok(TableFamily::Ip)
    }
}

impl Parser<'_, '_> {
    fn file(&mut self, path: &str, text: &str, depth: usize) -> Result<(), ParseFailure> {
        let toks = lex(path, text)?;
        let mut cur = Cur {
            path,
            lines: super::split_lines(text).collect(),
            toks,
            pos: 0,
        };
        loop {
            cur.skip_ends();
            let Some(t) = cur.next() else { break };
            let line = t.line;
            let Tok::Word(w) = t.tok else {
                return Err(cur
                    .err_at(line, "unexpected token at the start of a statement")
                    .into());
            };
            match w.as_str() {
                "include" => {
                    let spec = match cur.next() {
                        Some(Token {
                            tok: Tok::Str(s), ..
                        }) => s,
                        _ => {
                            return Err(cur.err_at(line, "include needs a quoted file name").into())
                        }
                    };
                    if depth + 1 > MAX_INCLUDE_DEPTH {
                        return Err(cur.err_at(line, "includes nested too deeply").into());
                    }
                    let files = match (self.include)(&spec) {
                        Ok(f) => f,
                        Err(IncludeFailure::NotFound(p)) => {
                            return Err(cur
                                .err_at(line, format!("include \"{spec}\": {p} does not exist"))
                                .into())
                        }
                        Err(IncludeFailure::Host(e)) => return Err(ParseFailure::Host(e)),
                    };
                    for (p, t) in files {
                        self.file(&p, &t, depth + 1)?;
                    }
                }
                "define" | "redefine" => {
                    let mut stmt = cur.statement()?;
                    let (name, value) = split_define(&mut stmt)
                        .ok_or_else(|| cur.err_at(line, "define needs `name = value`"))?;
                    let value = self.substitute(value, &cur)?;
                    if w == "define" && self.vars.contains_key(&name) {
                        return Err(cur
                            .err_at(line, format!("variable ${name} is defined twice"))
                            .into());
                    }
                    self.vars.insert(name, value);
                }
                "undefine" => {
                    let name = cur.word("a variable name")?;
                    self.vars.remove(&name);
                }
                "flush" => self.flush(&mut cur)?,
                "delete" | "destroy" => self.delete(&mut cur, line)?,
                "table" => self.table(&mut cur, path)?,
                "add" | "create" | "insert" => self.command(&mut cur, &w, line, path)?,
                "list" | "reset" | "describe" | "monitor" | "export" => {
                    cur.statement()?;
                }
                other => {
                    return Err(cur
                        .err_at(line, format!("unknown statement `{other}`"))
                        .into())
                }
            }
        }
        Ok(())
    }

    /// Replace `$name` words by the variable's tokens.
    fn substitute(&self, toks: Vec<Token>, cur: &Cur) -> Result<Vec<Token>, ParseError> {
        let mut out = Vec::with_capacity(toks.len());
        for t in toks {
            if let Tok::Word(w) = &t.tok {
                if let Some(name) = w.strip_prefix('$') {
                    let v = self
                        .vars
                        .get(name)
                        .ok_or_else(|| cur.err_at(t.line, format!("undefined variable ${name}")))?;
                    // Variables built from variables can double at each define.
                    if out.len() + v.len() > MAX_EXPANSION {
                        return Err(cur.err_at(
                            t.line,
                            format!("${name} expands to more than {MAX_EXPANSION} tokens"),
                        ));
                    }
                    out.extend(v.iter().map(|x| Token {
                        tok: x.tok.clone(),
                        line: t.line,
                    }));
                    continue;
                }
            }
            out.push(t);
        }
        Ok(out)
    }

    fn table_mut(&mut self, family: TableFamily, name: &str) -> &mut Table {
        let idx = match self
            .tables
            .iter()
            .position(|t| t.family == family && t.name == name)
        {
            Some(i) => i,
            None => {
                self.tables.push(Table {
                    family,
                    name: name.to_string(),
                    chains: Vec::new(),
                    sets: HashMap::new(),
                });
                self.tables.len() - 1
            }
        };
        &mut self.tables[idx]
    }

    fn flush(&mut self, cur: &mut Cur) -> Result<(), ParseError> {
        let line = cur.line();
        let what = cur.word("what to flush")?;
        match what.as_str() {
            "ruleset" => {
                let rest = cur.statement()?;
                match rest
                    .first()
                    .and_then(Token::text)
                    .and_then(TableFamily::parse)
                {
                    Some(f) => self.tables.retain(|t| t.family != f),
                    None => self.tables.clear(),
                }
            }
            "table" => {
                let f = cur.family()?;
                let name = cur.word("a table name")?;
                for t in self
                    .tables
                    .iter_mut()
                    .filter(|t| t.family == f && t.name == name)
                {
                    for c in &mut t.chains {
                        c.rules.clear();
                    }
                }
            }
            "chain" => {
                let f = cur.family()?;
                let table = cur.word("a table name")?;
                let chain = cur.word("a chain name")?;
                for t in self
                    .tables
                    .iter_mut()
                    .filter(|t| t.family == f && t.name == table)
                {
                    for c in t.chains.iter_mut().filter(|c| c.name == chain) {
                        c.rules.clear();
                    }
                }
            }
            "set" | "map" => {
                let f = cur.family()?;
                let table = cur.word("a table name")?;
                let set = cur.word("a set name")?;
                for t in self
                    .tables
                    .iter_mut()
                    .filter(|t| t.family == f && t.name == table)
                {
                    t.sets.remove(&set);
                }
            }
            other => return Err(cur.err_at(line, format!("cannot model `flush {other}`"))),
        }
        cur.statement()?;
        Ok(())
    }

    fn delete(&mut self, cur: &mut Cur, line: u32) -> Result<(), ParseError> {
        let what = cur.word("what to delete")?;
        match what.as_str() {
            "table" => {
                let f = cur.family()?;
                let name = cur.word("a table name")?;
                self.tables.retain(|t| !(t.family == f && t.name == name));
                cur.statement()?;
            }
            "chain" => {
                let f = cur.family()?;
                let table = cur.word("a table name")?;
                let chain = cur.word("a chain name")?;
                for t in self
                    .tables
                    .iter_mut()
                    .filter(|t| t.family == f && t.name == table)
                {
                    t.chains.retain(|c| c.name != chain);
                }
                cur.statement()?;
            }
            other => {
                return Err(cur.err_at(
                    line,
                    format!("rempart cannot model `delete {other}` in a configuration file"),
                ))
            }
        }
        Ok(())
    }

    /// `table [family] name { ... }`
    fn table(&mut self, cur: &mut Cur, path: &str) -> Result<(), ParseError> {
        let family = cur.family()?;
        let name = cur.word("a table name")?;
        self.table_mut(family, &name);
        if cur.peek().is_some_and(|t| t.tok == Tok::LBrace) {
            cur.next();
            self.table_body(cur, family, &name, path)?;
        }
        Ok(())
    }

    fn table_body(
        &mut self,
        cur: &mut Cur,
        family: TableFamily,
        table: &str,
        path: &str,
    ) -> Result<(), ParseError> {
        let open = cur.line();
        loop {
            cur.skip_ends();
            let Some(t) = cur.next() else {
                return Err(cur.err_at(open, "table block not closed by `}`"));
            };
            let line = t.line;
            match &t.tok {
                Tok::RBrace => return Ok(()),
                Tok::Word(w) if w == "chain" => {
                    let name = cur.word("a chain name")?;
                    cur.expect_lbrace()?;
                    let loc = Loc::file(path, line, cur.text_of(line));
                    self.chain_body(cur, family, table, &name, loc, path)?;
                }
                Tok::Word(w) if w == "set" || w == "map" => {
                    let name = cur.word("a set name")?;
                    cur.expect_lbrace()?;
                    let elems = self.set_body(cur)?;
                    self.table_mut(family, table).sets.insert(name, elems);
                }
                Tok::Word(_) => {
                    // flags, comment, counters, quotas, flowtables, ct helpers ...
                    cur.statement()?;
                }
                _ => return Err(cur.err_at(line, "unexpected token in a table block")),
            }
        }
    }

    /// The body of a chain, after its `{`.
    fn chain_body(
        &mut self,
        cur: &mut Cur,
        family: TableFamily,
        table: &str,
        name: &str,
        loc: Loc,
        path: &str,
    ) -> Result<(), ParseError> {
        let open = loc.line;
        let mut header = ChainHeader::default();
        let mut rules = Vec::new();
        loop {
            cur.skip_ends();
            let Some(t) = cur.peek().cloned() else {
                return Err(cur.err_at(open, format!("chain {name} not closed by `}}`")));
            };
            if t.tok == Tok::RBrace {
                cur.next();
                break;
            }
            let stmt = cur.statement()?;
            let stmt = self.substitute(stmt, cur)?;
            if stmt.is_empty() {
                return Err(cur.err_at(t.line, "unexpected token in a chain"));
            }
            if !header.take(&stmt, path, cur)? {
                rules.push(RawRule {
                    text: cur.text_of(t.line).trim().to_string(),
                    tokens: stmt,
                    loc_path: path.to_string(),
                    line: t.line,
                });
            }
        }
        self.add_chain(family, table, name, header, loc, rules, None);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn add_chain(
        &mut self,
        family: TableFamily,
        table: &str,
        name: &str,
        header: ChainHeader,
        loc: Loc,
        rules: Vec<RawRule>,
        position: Option<usize>,
    ) {
        let t = self.table_mut(family, table);
        let chain = match t.chains.iter().position(|c| c.name == name) {
            Some(i) => &mut t.chains[i],
            None => {
                t.chains.push(RawChain {
                    name: name.to_string(),
                    kind: None,
                    hook: None,
                    policy: None,
                    rules: Vec::new(),
                    loc,
                });
                let last = t.chains.len() - 1;
                &mut t.chains[last]
            }
        };
        if header.kind.is_some() {
            chain.kind = header.kind;
            chain.hook = header.hook;
        }
        if header.policy.is_some() {
            chain.policy = header.policy;
        }
        match position {
            Some(p) => {
                let at = p.min(chain.rules.len());
                chain.rules.splice(at..at, rules);
            }
            None => chain.rules.extend(rules),
        }
    }

    /// The body of a set or map: its elements (other properties are skipped).
    fn set_body(&mut self, cur: &mut Cur) -> Result<Vec<Token>, ParseError> {
        let open = cur.line();
        let mut elems = Vec::new();
        loop {
            cur.skip_ends();
            let Some(t) = cur.peek().cloned() else {
                return Err(cur.err_at(open, "set block not closed by `}`"));
            };
            if t.tok == Tok::RBrace {
                cur.next();
                return Ok(elems);
            }
            let stmt = cur.statement()?;
            if stmt.is_empty() {
                return Err(cur.err_at(t.line, "unexpected token in a set"));
            }
            if stmt[0].is_word("elements") {
                let mut rest = &stmt[1..];
                if rest.first().is_some_and(|t| t.is_word("=")) {
                    rest = &rest[1..];
                }
                elems = self.substitute(rest.to_vec(), cur)?;
            }
        }
    }

    /// `add|create|insert ...` commands.
    fn command(
        &mut self,
        cur: &mut Cur,
        verb: &str,
        line: u32,
        path: &str,
    ) -> Result<(), ParseError> {
        let what = cur.word("an object")?;
        match (verb, what.as_str()) {
            ("add" | "create", "table") => self.table(cur, path),
            ("add" | "create", "chain") => {
                let family = cur.family()?;
                let table = cur.word("a table name")?;
                let name = cur.word("a chain name")?;
                let loc = Loc::file(path, line, cur.text_of(line));
                if cur.peek().is_some_and(|t| t.tok == Tok::LBrace) {
                    cur.next();
                    self.chain_body(cur, family, &table, &name, loc, path)
                } else {
                    cur.statement()?;
                    self.add_chain(
                        family,
                        &table,
                        &name,
                        ChainHeader::default(),
                        loc,
                        Vec::new(),
                        None,
                    );
                    Ok(())
                }
            }
            ("add" | "insert", "rule") => {
                let family = cur.family()?;
                let table = cur.word("a table name")?;
                let chain = cur.word("a chain name")?;
                let stmt = cur.statement()?;
                let mut stmt = self.substitute(stmt, cur)?;
                let mut position = (verb == "insert").then_some(0);
                if stmt.first().is_some_and(|t| {
                    t.is_word("position") || t.is_word("index") || t.is_word("handle")
                }) {
                    let n = stmt
                        .get(1)
                        .and_then(Token::text)
                        .and_then(|s| s.parse::<usize>().ok());
                    if stmt[0].is_word("index") {
                        position = n.map(|n| if verb == "insert" { n } else { n + 1 });
                    }
                    stmt.drain(..2.min(stmt.len()));
                }
                if !self.tables.iter().any(|t| {
                    t.family == family
                        && t.name == table
                        && t.chains.iter().any(|c| c.name == chain)
                }) {
                    return Err(cur.err_at(line, format!("chain {table} {chain} does not exist")));
                }
                let rule = RawRule {
                    text: cur.text_of(line).trim().to_string(),
                    tokens: stmt,
                    loc_path: path.to_string(),
                    line,
                };
                let loc = Loc::file(path, line, cur.text_of(line));
                self.add_chain(
                    family,
                    &table,
                    &chain,
                    ChainHeader::default(),
                    loc,
                    vec![rule],
                    position,
                );
                Ok(())
            }
            ("add" | "create", "set" | "map") => {
                let family = cur.family()?;
                let table = cur.word("a table name")?;
                let name = cur.word("a set name")?;
                cur.expect_lbrace()?;
                let elems = self.set_body(cur)?;
                self.table_mut(family, &table).sets.insert(name, elems);
                Ok(())
            }
            ("add" | "create", "element") => {
                let family = cur.family()?;
                let table = cur.word("a table name")?;
                let name = cur.word("a set name")?;
                let stmt = cur.statement()?;
                let stmt = self.substitute(stmt, cur)?;
                let t = self.table_mut(family, &table);
                let set = t.sets.entry(name).or_default();
                set.extend(stmt);
                Ok(())
            }
            ("add" | "create", _) => {
                // counters, quotas, flowtables, ct helpers: nothing the input path depends on.
                cur.statement()?;
                Ok(())
            }
            (v, w) => Err(cur.err_at(line, format!("rempart cannot model `{v} {w}`"))),
        }
    }
}

/// `type filter hook input priority 0; policy drop;` and other chain properties.
#[derive(Default)]
struct ChainHeader {
    kind: Option<String>,
    hook: Option<String>,
    policy: Option<(Verdict, Loc)>,
}

impl ChainHeader {
    /// Take a chain statement if it is a property; false when it is a rule.
    fn take(&mut self, stmt: &[Token], path: &str, cur: &Cur) -> Result<bool, ParseError> {
        let first = stmt[0].text().unwrap_or("");
        let line = stmt[0].line;
        match first {
            "type" => {
                self.kind = stmt.get(1).and_then(Token::text).map(str::to_string);
                let hook = stmt.iter().position(|t| t.is_word("hook"));
                self.hook = hook
                    .and_then(|i| stmt.get(i + 1))
                    .and_then(Token::text)
                    .map(str::to_string);
                if self.hook.is_none() {
                    return Err(cur.err_at(line, "chain type without a hook"));
                }
                Ok(true)
            }
            "policy" => {
                let v = stmt.get(1).and_then(Token::text).unwrap_or("");
                let verdict = match v {
                    "accept" => Verdict::Accept,
                    "drop" => Verdict::Drop,
                    other => {
                        return Err(cur.err_at(line, format!("unknown chain policy `{other}`")))
                    }
                };
                self.policy = Some((verdict, Loc::file(path, line, cur.text_of(line))));
                Ok(true)
            }
            "comment" | "devices" | "device" | "flags" => Ok(true),
            _ => Ok(false),
        }
    }
}

fn is_verdict_word(t: &Token) -> bool {
    matches!(&t.tok, Tok::Word(w) if matches!(w.as_str(), "accept" | "drop" | "reject"))
}

/// `name = value` of a define, with or without spaces around `=`.
fn split_define(stmt: &mut Vec<Token>) -> Option<(String, Vec<Token>)> {
    let first = stmt.first()?.text()?.to_string();
    if let Some((name, rest)) = first.split_once('=') {
        let mut value = Vec::new();
        if !rest.is_empty() {
            value.push(Token {
                tok: Tok::Word(rest.to_string()),
                line: stmt[0].line,
            });
        }
        value.extend(stmt.drain(1..));
        return (!name.is_empty()).then(|| (name.to_string(), value));
    }
    let second = stmt.get(1)?;
    let value: Vec<Token> = match second.text() {
        Some("=") => stmt.drain(2..).collect(),
        Some(s) if s.starts_with('=') => {
            let mut v = vec![Token {
                tok: Tok::Word(s[1..].to_string()),
                line: second.line,
            }];
            v.extend(stmt.drain(2..));
            v
        }
        _ => return None,
    };
    (!value.is_empty()).then_some((first, value))
}

#[cfg(test)]
mod tests;
