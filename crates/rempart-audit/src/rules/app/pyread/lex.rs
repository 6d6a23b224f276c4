//! Python's lexical layer, enough to read configuration modules: logical lines (joined across
//! brackets, backslash continuations and triple-quoted strings) with their indentation, and
//! tokens (names, numbers, strings with their prefixes and escapes, operators). Works on bytes:
//! every token boundary is an ASCII byte, so slicing never splits a UTF-8 sequence.

use super::ReadError;

/// A string literal's value and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub value: String,
    /// `b"..."`.
    pub bytes: bool,
    /// `f"..."`: the value holds the template, not the result.
    pub fstring: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Name(String),
    Num(String),
    Str(StrLit),
    Op(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
}

impl Token {
    pub fn is_op(&self, op: &str) -> bool {
        matches!(&self.tok, Tok::Op(o) if o == op)
    }

    pub fn is_name(&self, name: &str) -> bool {
        matches!(&self.tok, Tok::Name(n) if n == name)
    }

    pub fn name(&self) -> Option<&str> {
        match &self.tok {
            Tok::Name(n) => Some(n),
            _ => None,
        }
    }
}

/// One logical line: a statement (or a compound statement's header) and its indentation.
#[derive(Debug, Clone, PartialEq)]
pub struct LogicalLine {
    /// Columns of indentation (tabs advance to the next multiple of 8, as CPython counts them).
    pub indent: u32,
    /// The physical line the statement starts on (1-based).
    pub line: u32,
    pub tokens: Vec<Token>,
}

/// Three-character operators first, then two, then one: the lexer takes the longest match.
const OPS3: &[&str] = &["**=", "//=", ">>=", "<<=", "..."];
const OPS2: &[&str] = &[
    "==", "!=", "<=", ">=", "**", "//", "<<", ">>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "@=", "->", ":=",
];

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

/// Split a module's text into logical lines. Errors on what Python itself rejects and a reader
/// cannot recover from: an unterminated string, brackets still open at the end of the file.
pub fn logical_lines(text: &str) -> Result<Vec<LogicalLine>, ReadError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    let mut line: u32 = 1;
    let mut depth: Vec<(u8, u32)> = Vec::new();
    let mut cur: Vec<Token> = Vec::new();
    let mut cur_indent = 0u32;
    let mut cur_line = 1u32;
    let mut at_line_start = true;
    let mut continued = false;

    while i < b.len() {
        if at_line_start && continued {
            // The physical line continues the previous one: its indentation means nothing.
            at_line_start = false;
            continued = false;
            continue;
        }
        if at_line_start && depth.is_empty() {
            // Measure the indentation of a new logical line.
            let mut col = 0u32;
            while i < b.len() {
                match b[i] {
                    b' ' => col = col.saturating_add(1),
                    b'\t' => col = (col / 8 + 1).saturating_mul(8),
                    b'\x0c' => col = 0,
                    _ => break,
                }
                i += 1;
            }
            at_line_start = false;
            cur_indent = col;
            cur_line = line;
            continue;
        }
        at_line_start = false;
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\x0c' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\n' => {
                i += 1;
                line = line.saturating_add(1);
                at_line_start = true;
                if depth.is_empty() && !cur.is_empty() {
                    out.push(LogicalLine {
                        indent: cur_indent,
                        line: cur_line,
                        tokens: std::mem::take(&mut cur),
                    });
                }
            }
            b'\\' => {
                // A backslash at the end of a line joins the next one.
                let mut j = i + 1;
                if j < b.len() && b[j] == b'\r' {
                    j += 1;
                }
                if j < b.len() && b[j] == b'\n' {
                    i = j + 1;
                    line = line.saturating_add(1);
                    continued = true;
                    at_line_start = true;
                    if cur.is_empty() {
                        cur_line = line;
                    }
                } else {
                    cur.push(Token {
                        tok: Tok::Op("\\".into()),
                        line,
                    });
                    i += 1;
                }
            }
            b'\'' | b'"' => {
                let (lit, end, lines) = read_string(b, i, "", line)?;
                cur.push(Token {
                    tok: Tok::Str(lit),
                    line,
                });
                line = line.saturating_add(lines);
                i = end;
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                let word = &text[start..i];
                if i < b.len() && (b[i] == b'\'' || b[i] == b'"') && is_string_prefix(word) {
                    let (lit, end, lines) = read_string(b, i, word, line)?;
                    cur.push(Token {
                        tok: Tok::Str(lit),
                        line,
                    });
                    line = line.saturating_add(lines);
                    i = end;
                } else {
                    cur.push(Token {
                        tok: Tok::Name(word.to_string()),
                        line,
                    });
                }
            }
            c if c.is_ascii_digit()
                || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                let start = i;
                while i < b.len() {
                    let d = b[i];
                    let exp_sign = (d == b'+' || d == b'-')
                        && i > start
                        && matches!(b[i - 1], b'e' | b'E')
                        && !text[start..i].starts_with("0x")
                        && !text[start..i].starts_with("0X");
                    if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' || exp_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                cur.push(Token {
                    tok: Tok::Num(text[start..i].to_string()),
                    line,
                });
            }
            _ => {
                let rest = &b[i..];
                let op: String =
                    if let Some(o) = OPS3.iter().find(|o| rest.starts_with(o.as_bytes())) {
                        (*o).to_string()
                    } else if let Some(o) = OPS2.iter().find(|o| rest.starts_with(o.as_bytes())) {
                        (*o).to_string()
                    } else if c < 0x80 {
                        (c as char).to_string()
                    } else {
                        // Unreachable: bytes >= 0x80 start identifiers. Skip defensively.
                        i += 1;
                        continue;
                    };
                match op.as_str() {
                    "(" | "[" | "{" => depth.push((c, line)),
                    ")" | "]" | "}" => {
                        depth.pop();
                    }
                    _ => {}
                }
                i += op.len();
                cur.push(Token {
                    tok: Tok::Op(op),
                    line,
                });
            }
        }
    }
    if let Some((open, at)) = depth.last() {
        return Err(ReadError {
            line: *at,
            message: format!("`{}` opened here is never closed", *open as char),
        });
    }
    if !cur.is_empty() {
        out.push(LogicalLine {
            indent: cur_indent,
            line: cur_line,
            tokens: cur,
        });
    }
    Ok(out)
}

fn is_string_prefix(word: &str) -> bool {
    word.len() <= 2
        && matches!(
            word.to_ascii_lowercase().as_str(),
            "r" | "u" | "b" | "f" | "br" | "rb" | "fr" | "rf"
        )
}

/// Read a string literal starting at its opening quote. Returns the literal, the index after
/// it and the number of newlines it spans.
fn read_string(
    b: &[u8],
    start: usize,
    prefix: &str,
    line: u32,
) -> Result<(StrLit, usize, u32), ReadError> {
    let p = prefix.to_ascii_lowercase();
    let raw = p.contains('r');
    let q = b[start];
    let triple = b.len() >= start + 3 && b[start + 1] == q && b[start + 2] == q;
    let mut i = start + if triple { 3 } else { 1 };
    let mut out: Vec<u8> = Vec::new();
    let mut lines = 0u32;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(ReadError {
                line,
                message: "unterminated string literal".into(),
            });
        };
        if c == q {
            if !triple {
                i += 1;
                break;
            }
            if b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q) {
                i += 3;
                break;
            }
            out.push(c);
            i += 1;
            continue;
        }
        if c == b'\n' {
            if !triple {
                return Err(ReadError {
                    line,
                    message: "unterminated string literal".into(),
                });
            }
            lines += 1;
            out.push(c);
            i += 1;
            continue;
        }
        if c == b'\\' {
            let Some(&n) = b.get(i + 1) else {
                i += 1;
                continue;
            };
            if n == b'\n' {
                lines += 1;
                if raw {
                    out.extend_from_slice(b"\\\n");
                }
                i += 2;
                continue;
            }
            if raw {
                out.push(b'\\');
                out.push(n);
                i += 2;
                continue;
            }
            i += 2;
            match n {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0'..=b'7' => {
                    let mut v = u32::from(n - b'0');
                    let mut k = 0;
                    while k < 2 && b.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                        v = v * 8 + u32::from(b[i] - b'0');
                        i += 1;
                        k += 1;
                    }
                    push_char(&mut out, v);
                }
                b'x' | b'u' | b'U' => {
                    let len = match n {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = b.get(i..i + len).and_then(|h| std::str::from_utf8(h).ok());
                    match hex.and_then(|h| u32::from_str_radix(h, 16).ok()) {
                        Some(v) => {
                            push_char(&mut out, v);
                            i += len;
                        }
                        None => {
                            out.push(b'\\');
                            out.push(n);
                        }
                    }
                }
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'v' => out.push(11),
                b'\\' | b'\'' | b'"' => out.push(n),
                _ => {
                    out.push(b'\\');
                    out.push(n);
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    Ok((
        StrLit {
            value: String::from_utf8_lossy(&out).into_owned(),
            bytes: p.contains('b'),
            fstring: p.contains('f'),
        },
        i,
        lines,
    ))
}

fn push_char(out: &mut Vec<u8>, v: u32) {
    let c = char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}
