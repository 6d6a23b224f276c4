//! Apache httpd's configuration syntax, one file at a time: lines joined by a trailing backslash,
//! `#` comments at the start of a line, arguments split on blanks with `"..."` and `'...'`
//! quoting, and `<Section args>` ... `</Section>` blocks nested into a tree. Includes,
//! conditionals and variables are the loader's business ([`super::load`]).

use super::Directive;
use std::sync::Arc;

/// Sections nested deeper than this are refused (httpd has no limit, but no real file nests
/// more than a handful).
pub const MAX_NESTING: usize = 64;

/// A syntax error, with the line where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub message: String,
}

/// Parse one file's text into its directive tree. `file` is the host path recorded in every
/// directive.
pub fn parse(file: &str, text: &str) -> Result<Vec<Directive>, SyntaxError> {
    let file: Arc<str> = Arc::from(file);
    // stack[0] is the file's top level; each open section pushes a frame.
    let mut stack: Vec<(Directive, Vec<Directive>)> = Vec::new();
    let mut top: Vec<Directive> = Vec::new();
    for (line_no, logical) in logical_lines(text) {
        let trimmed = logical.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("</") {
            let name = rest.trim_end_matches('>').trim();
            let Some((open, children)) = stack.pop() else {
                return Err(SyntaxError {
                    line: line_no,
                    message: format!("</{name}> without matching <{name}> section"),
                });
            };
            if !open.name.eq_ignore_ascii_case(name) {
                return Err(SyntaxError {
                    line: line_no,
                    message: format!(
                        "</{name}> closes <{}> opened on line {}",
                        open.name, open.line
                    ),
                });
            }
            let done = Directive { children, ..open };
            match stack.last_mut() {
                Some((_, siblings)) => siblings.push(done),
                None => top.push(done),
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('<') {
            let Some(inner) = rest.strip_suffix('>') else {
                return Err(SyntaxError {
                    line: line_no,
                    message: format!("section opening `{trimmed}` lacks its closing `>`"),
                });
            };
            let mut words = split_args(inner);
            if words.is_empty() {
                return Err(SyntaxError {
                    line: line_no,
                    message: "empty section name `<>`".into(),
                });
            }
            if stack.len() >= MAX_NESTING {
                return Err(SyntaxError {
                    line: line_no,
                    message: format!("sections nested more than {MAX_NESTING} deep"),
                });
            }
            let name = words.remove(0);
            stack.push((
                Directive {
                    name,
                    args: words,
                    file: file.clone(),
                    line: line_no,
                    text: trimmed.to_string(),
                    section: true,
                    children: Vec::new(),
                },
                Vec::new(),
            ));
            continue;
        }
        let mut words = split_args(trimmed);
        if words.is_empty() {
            continue;
        }
        let name = words.remove(0);
        let d = Directive {
            name,
            args: words,
            file: file.clone(),
            line: line_no,
            text: trimmed.to_string(),
            section: false,
            children: Vec::new(),
        };
        match stack.last_mut() {
            Some((_, siblings)) => siblings.push(d),
            None => top.push(d),
        }
    }
    if let Some((open, _)) = stack.last() {
        return Err(SyntaxError {
            line: open.line,
            message: format!("<{}> section is never closed", open.name),
        });
    }
    Ok(top)
}

/// Physical lines joined where one ends with a backslash, each with the number of its first line.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (start, mut acc) = pending.take().unwrap_or((n, String::new()));
        match raw.strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                acc.push(' ');
                pending = Some((start, acc));
            }
            None => {
                acc.push_str(raw);
                out.push((start, acc));
            }
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// Split arguments the way httpd's `ap_getword_conf` does: blanks separate words, a word starting
/// with `"` or `'` runs to the matching unescaped quote (a backslash escapes the quote), and an
/// unterminated quote runs to the end of the line.
pub fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut word = String::new();
        if first == '"' || first == '\'' {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\\' && chars.peek() == Some(&first) {
                    word.push(first);
                    chars.next();
                } else if c == first {
                    break;
                } else {
                    word.push(c);
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sections_quotes_and_continuations() {
        let text = "# c\nServerTokens Prod\n<VirtualHost *:443>\n  Header always set \\\n    Referrer-Policy \"strict-origin\"\n  <Directory \"/srv/my app\">\n    Require all granted\n  </Directory>\n</VirtualHost>\n";
        let t = parse("/etc/apache2/apache2.conf", text).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].args, ["Prod"]);
        let vh = &t[1];
        assert!(vh.section && vh.name == "VirtualHost" && vh.args == ["*:443"]);
        assert_eq!(vh.children[0].line, 4);
        assert_eq!(
            vh.children[0].args,
            ["always", "set", "Referrer-Policy", "strict-origin"]
        );
        assert_eq!(vh.children[1].args, ["/srv/my app"]);
        assert_eq!(vh.children[1].children[0].name, "Require");
    }

    #[test]
    fn escaped_quotes_and_single_quotes() {
        assert_eq!(
            split_args(r#"Header set X "a \"b\" c" 'd e'"#),
            ["Header", "set", "X", "a \"b\" c", "d e"]
        );
    }

    #[test]
    fn unbalanced_sections_are_errors() {
        let e = parse("/f", "<VirtualHost *:80>\nServerName a\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("/f", "<VirtualHost *:80>\n</Directory>\n").unwrap_err();
        assert!(e.message.contains("closes <VirtualHost>"), "{}", e.message);
        assert!(parse("/f", "</VirtualHost>\n").is_err());
        assert!(parse("/f", "<VirtualHost *:80\n").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = "<IfModule a>\n".repeat(10_000);
        assert!(parse("/f", &text).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,400}") {
            let _ = parse("/f", &s);
        }

        #[test]
        fn never_panics_on_section_soup(parts in proptest::collection::vec(
            prop_oneof![
                Just("<VirtualHost *:80>"), Just("</VirtualHost>"), Just("<If \"x\">"),
                Just("</If>"), Just("Header set A b"), Just("\\"), Just("\"q"), Just("#c"),
            ], 0..40)) {
            let text = parts.join("\n");
            if let Ok(tree) = parse("/f", &text) {
                // Every directive kept comes from a non-comment line of the input.
                fn check(ds: &[Directive], lines: usize) {
                    for d in ds {
                        assert!(d.line as usize >= 1 && d.line as usize <= lines.max(1));
                        check(&d.children, lines);
                    }
                }
                check(&tree, text.lines().count());
            }
        }

        #[test]
        fn plain_words_round_trip(words in proptest::collection::vec("[A-Za-z0-9_./:-]{1,12}", 1..8)) {
            prop_assert_eq!(split_args(&words.join(" ")), words);
        }
    }
}
