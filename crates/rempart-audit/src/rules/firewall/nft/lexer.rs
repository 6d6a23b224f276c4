//! Tokens of the nft language: words (identifiers, numbers, addresses, `!=`, `@set`, `$var`),
//! double-quoted strings, braces, `;`, `,` and line ends. `#` starts a comment outside strings;
//! a backslash at the end of a line joins it to the next.

use crate::rules::firewall::ParseError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Word(String),
    Str(String),
    LBrace,
    RBrace,
    Semi,
    Comma,
    Newline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
}

impl Token {
    /// The text of a word or string.
    pub fn text(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) | Tok::Str(w) => Some(w),
            _ => None,
        }
    }

    pub fn is_word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Word(x) if x == w)
    }

    pub fn is_end(&self) -> bool {
        matches!(self.tok, Tok::Semi | Tok::Newline)
    }
}

/// Split a file into tokens. Fails on an unterminated string.
pub fn lex(path: &str, text: &str) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    let mut line: u32 = 1;
    let mut chars = text.chars().peekable();
    let mut word = String::new();
    let mut word_line = 1;
    let flush = |word: &mut String, out: &mut Vec<Token>, line: u32| {
        if !word.is_empty() {
            out.push(Token {
                tok: Tok::Word(std::mem::take(word)),
                line,
            });
        }
    };
    while let Some(c) = chars.next() {
        let single = match c {
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            ';' => Some(Tok::Semi),
            ',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(t) = single {
            flush(&mut word, &mut out, word_line);
            out.push(Token { tok: t, line });
            continue;
        }
        match c {
            '\n' | '\r' => {
                flush(&mut word, &mut out, word_line);
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(Token {
                    tok: Tok::Newline,
                    line,
                });
                line += 1;
            }
            '#' => {
                flush(&mut word, &mut out, word_line);
                while let Some(&n) = chars.peek() {
                    if n == '\n' || n == '\r' {
                        break;
                    }
                    chars.next();
                }
            }
            '\\' if matches!(chars.peek(), Some('\n') | Some('\r')) => {
                flush(&mut word, &mut out, word_line);
                if chars.next() == Some('\r') && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
            }
            '"' => {
                flush(&mut word, &mut out, word_line);
                let start = line;
                let mut s = String::new();
                let mut closed = false;
                while let Some(n) = chars.next() {
                    match n {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            if let Some(e) = chars.next() {
                                s.push(e);
                            }
                        }
                        '\n' => {
                            // nft strings do not span lines.
                            break;
                        }
                        _ => s.push(n),
                    }
                }
                if !closed {
                    return Err(ParseError::at(path, start, "unterminated string".into()));
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    line: start,
                });
            }
            c if c.is_whitespace() => flush(&mut word, &mut out, word_line),
            c => {
                if word.is_empty() {
                    word_line = line;
                }
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut out, word_line);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(toks: &[Token]) -> Vec<String> {
        toks.iter()
            .map(|t| match &t.tok {
                Tok::Word(w) => w.clone(),
                Tok::Str(s) => format!("\"{s}\""),
                Tok::LBrace => "{".into(),
                Tok::RBrace => "}".into(),
                Tok::Semi => ";".into(),
                Tok::Comma => ",".into(),
                Tok::Newline => "NL".into(),
            })
            .collect()
    }

    #[test]
    fn tokens_lines_and_comments() {
        let t = lex(
            "/f",
            "tcp dport { 22, 80 } accept # web\niifname \"lo\" accept;\\\n ct state established,related accept\n",
        )
        .unwrap();
        assert_eq!(
            words(&t),
            [
                "tcp",
                "dport",
                "{",
                "22",
                ",",
                "80",
                "}",
                "accept",
                "NL",
                "iifname",
                "\"lo\"",
                "accept",
                ";",
                "ct",
                "state",
                "established",
                ",",
                "related",
                "accept",
                "NL"
            ]
        );
        assert_eq!(t.iter().find(|x| x.is_word("ct")).unwrap().line, 3);
        assert!(lex("/f", "x \"open").is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_lines_grow(s in "\\PC{0,300}") {
            if let Ok(toks) = lex("/f", &s) {
                let mut last = 0;
                for t in &toks {
                    prop_assert!(t.line >= last || matches!(t.tok, Tok::Str(_)));
                    last = t.line;
                }
            }
        }
    }
}
