//! nginx's configuration syntax, one file at a time: words separated by blanks, `"..."` and
//! `'...'` quoting with backslash escapes, `#` comments to the end of the line, directives ending
//! with `;` and blocks in `{ }`. Includes are the loader's business ([`super::load`]).

use super::Directive;
use std::sync::Arc;

/// Blocks nested deeper than this are refused.
pub const MAX_NESTING: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Open,
    Close,
    Semi,
}

fn tokens(text: &str) -> Result<Vec<(Tok, u32)>, SyntaxError> {
    let mut out = Vec::new();
    let mut line: u32 = 1;
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '\n' => {
                line = line.saturating_add(1);
                chars.next();
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '{' => {
                out.push((Tok::Open, line));
                chars.next();
            }
            '}' => {
                out.push((Tok::Close, line));
                chars.next();
            }
            ';' => {
                out.push((Tok::Semi, line));
                chars.next();
            }
            '"' | '\'' => {
                let start = line;
                chars.next();
                let mut word = String::new();
                let mut closed = false;
                while let Some(ch) = chars.next() {
                    if ch == '\n' {
                        line = line.saturating_add(1);
                    }
                    if ch == '\\' {
                        if let Some(&next) = chars.peek() {
                            // nginx keeps the backslash except before a quote or backslash.
                            if next == c || next == '\\' {
                                word.push(next);
                            } else {
                                word.push('\\');
                                word.push(next);
                            }
                            if next == '\n' {
                                line = line.saturating_add(1);
                            }
                            chars.next();
                            continue;
                        }
                    }
                    if ch == c {
                        closed = true;
                        break;
                    }
                    word.push(ch);
                }
                if !closed {
                    return Err(SyntaxError {
                        line: start,
                        message: "unterminated quoted string".into(),
                    });
                }
                out.push((Tok::Word(word), start));
            }
            _ => {
                let start = line;
                let mut word = String::new();
                let mut in_var = false;
                while let Some(&ch) = chars.peek() {
                    // `${var}` keeps its braces inside a word.
                    if ch == '{' && word.ends_with('$') {
                        in_var = true;
                    } else if ch == '}' && in_var {
                        in_var = false;
                    } else if ch.is_whitespace() || matches!(ch, '{' | '}' | ';') {
                        break;
                    }
                    word.push(ch);
                    chars.next();
                }
                out.push((Tok::Word(word), start));
            }
        }
    }
    Ok(out)
}

/// Parse one file's text into its directive tree. `file` is the host path recorded in every
/// directive; `lines` gives the evidence snippets.
pub fn parse(file: &str, text: &str) -> Result<Vec<Directive>, SyntaxError> {
    let file: Arc<str> = Arc::from(file);
    let toks = tokens(text)?;
    let lines: Vec<&str> = text.lines().collect();
    let snippet = |n: u32| {
        lines
            .get((n as usize).saturating_sub(1))
            .map(|l| l.trim().to_string())
            .unwrap_or_default()
    };
    let mut stack: Vec<(Directive, Vec<Directive>)> = Vec::new();
    let mut top: Vec<Directive> = Vec::new();
    let mut words: Vec<(String, u32)> = Vec::new();
    for (tok, line) in toks {
        match tok {
            Tok::Word(w) => words.push((w, line)),
            Tok::Semi | Tok::Open => {
                let Some(((name, first), rest)) = words.split_first() else {
                    return Err(SyntaxError {
                        line,
                        message: format!(
                            "unexpected `{}`",
                            if tok == Tok::Semi { ";" } else { "{" }
                        ),
                    });
                };
                let d = Directive {
                    name: name.clone(),
                    args: rest.iter().map(|(w, _)| w.clone()).collect(),
                    file: file.clone(),
                    line: *first,
                    text: snippet(*first),
                    block: None,
                };
                words.clear();
                if tok == Tok::Semi {
                    match stack.last_mut() {
                        Some((_, kids)) => kids.push(d),
                        None => top.push(d),
                    }
                } else {
                    if stack.len() >= MAX_NESTING {
                        return Err(SyntaxError {
                            line,
                            message: format!("blocks nested more than {MAX_NESTING} deep"),
                        });
                    }
                    stack.push((d, Vec::new()));
                }
            }
            Tok::Close => {
                if let Some((w, l)) = words.first() {
                    return Err(SyntaxError {
                        line: *l,
                        message: format!("directive `{w}` is not terminated by `;`"),
                    });
                }
                let Some((mut open, kids)) = stack.pop() else {
                    return Err(SyntaxError {
                        line,
                        message: "unexpected `}`".into(),
                    });
                };
                open.block = Some(kids);
                match stack.last_mut() {
                    Some((_, siblings)) => siblings.push(open),
                    None => top.push(open),
                }
            }
        }
    }
    if let Some((w, l)) = words.first() {
        return Err(SyntaxError {
            line: *l,
            message: format!("unexpected end of file: `{w}` is not terminated by `;`"),
        });
    }
    if let Some((open, _)) = stack.last() {
        return Err(SyntaxError {
            line: open.line,
            message: format!(
                "unexpected end of file: `{}` block is never closed",
                open.name
            ),
        });
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blocks_quotes_comments() {
        let text = "user www-data; # who\nhttp {\n  add_header X-Frame-Options \"DENY\" always;\n  server {\n    listen 80;\n    location ~ \"^/a{1}$\" { return 301 https://$host$request_uri; }\n  }\n}\n";
        let t = parse("/etc/nginx/nginx.conf", text).unwrap();
        assert_eq!(t[0].name, "user");
        let http = &t[1];
        let kids = http.block.as_ref().unwrap();
        assert_eq!(kids[0].args, ["X-Frame-Options", "DENY", "always"]);
        assert_eq!(kids[0].line, 3);
        let server = kids[1].block.as_ref().unwrap();
        assert_eq!(server[0].args, ["80"]);
        let loc = &server[1];
        assert_eq!(loc.line, 6);
        assert_eq!(
            loc.block.as_ref().unwrap()[0].args[1],
            "https://$host$request_uri"
        );
    }

    #[test]
    fn variables_with_braces_stay_in_words() {
        let t = parse("/f", "set $a \"x\";\nreturn 301 https://${host}/;\n").unwrap();
        assert_eq!(t[1].args, ["301", "https://${host}/"]);
    }

    #[test]
    fn structural_errors() {
        assert!(parse("/f", "http {\n").is_err());
        assert!(parse("/f", "}\n").is_err());
        assert!(parse("/f", "listen 80\n").is_err());
        assert!(parse("/f", "a \"b;\n").is_err());
        assert!(parse("/f", "{ }").is_err());
        assert!(parse("/f", &"a {".repeat(10_000)).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,400}") {
            let _ = parse("/f", &s);
        }

        #[test]
        fn token_soup(parts in proptest::collection::vec(
            prop_oneof![Just("{"), Just("}"), Just(";"), Just("server"), Just("\"a b\""),
                        Just("#c\n"), Just("\n"), Just("${x}"), Just("'q")], 0..60)) {
            let text = parts.join(" ");
            if let Ok(tree) = parse("/f", &text) {
                fn count(ds: &[Directive]) -> usize {
                    ds.iter().map(|d| 1 + d.block.as_deref().map_or(0, count)).sum()
                }
                // Each directive consumed a `;` or a `{`.
                let terminators = text.matches([';', '{']).count();
                prop_assert!(count(&tree) <= terminators);
            }
        }
    }
}
