//! How sshd cuts one configuration line into a keyword and its arguments, reproduced exactly
//! (OpenSSH `servconf.c` and `misc.c`): leading blanks and trailing white space are dropped, the
//! keyword is split off with `strdelim` (white space or a single `=`, `"`-quoted), and the rest is
//! split with `argv_split` (`"` and `'` quotes, `\` escapes, a `#` that starts a word ends the line).
//!
//! It knows nothing about keywords or values: [`super::config`] does.

/// White space as `strdelim` sees it.
const WHITESPACE: &[u8] = b" \t\r\n";

/// One line, as sshd sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Blank, a comment, or a line sshd skips without a word (an unterminated quote in the
    /// keyword makes sshd ignore the whole line).
    Skip,
    /// A keyword with nothing after it: sshd reports "no argument after keyword".
    NoArgument { keyword: String },
    /// A keyword and the raw text after it (`rest`, used by `Match`, `ForceCommand` ...).
    Directive { keyword: String, rest: String },
}

/// Split a raw line (without its newline) into keyword and rest.
pub fn split(raw: &str) -> Line {
    // load_server_config strips leading " \t\r" from each line.
    let line = raw.trim_start_matches([' ', '\t', '\r']);
    // Strip trailing white space and form feeds, never the first character.
    let bytes = line.as_bytes();
    let mut end = bytes.len();
    while end > 1 && matches!(bytes[end - 1], b' ' | b'\t' | b'\r' | b'\n' | b'\x0c') {
        end -= 1;
    }
    let line = &line[..end];
    if line.is_empty() {
        return Line::Skip;
    }
    let mut cursor = Some(line.to_string());
    let Some(mut keyword) = strdelim(&mut cursor) else {
        return Line::Skip;
    };
    if keyword.is_empty() {
        match strdelim(&mut cursor) {
            Some(k) => keyword = k,
            None => return Line::Skip,
        }
    }
    if keyword.is_empty() || keyword.starts_with('#') {
        return Line::Skip;
    }
    match cursor {
        Some(rest) if !rest.is_empty() => Line::Directive { keyword, rest },
        _ => Line::NoArgument { keyword },
    }
}

/// `strdelim`: the next token of `s`, splitting on white space or one `=`, honouring `"`
/// quotes. `s` becomes the remainder (`None` at the end). Returns `None` when `s` is already
/// exhausted or a quote is not closed (sshd then drops the remainder).
pub fn strdelim(s: &mut Option<String>) -> Option<String> {
    let text = s.take()?;
    let bytes = text.as_bytes();
    let Some(pos) = bytes
        .iter()
        .position(|b| WHITESPACE.contains(b) || *b == b'"' || *b == b'=')
    else {
        // No delimiter: the whole remainder is the token and nothing is left.
        return Some(text);
    };
    if bytes[pos] == b'"' {
        // The quote is removed; the token runs from the start up to the closing quote.
        let mut joined = String::with_capacity(text.len());
        joined.push_str(&text[..pos]);
        let after = &text[pos + 1..];
        let close = after.find('"')?;
        joined.push_str(&after[..close]);
        let tail = &after[close + 1..];
        // White space after the closing quote is skipped; anything else starts the next token.
        let rest = skip_after(tail);
        *s = Some(rest.to_string());
        return Some(joined);
    }
    let was_equals = bytes[pos] == b'=';
    let token = text[..pos].to_string();
    let mut rest = skip_after(&text[pos + 1..]);
    if !was_equals && rest.starts_with('=') {
        rest = skip_after(&rest[1..]);
    }
    *s = Some(rest.to_string());
    Some(token)
}

/// White space at the start of `s` removed (the `strspn` step of `strdelim`).
fn skip_after(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii() && WHITESPACE.contains(&(c as u8)))
}

/// Why `argv_split` refused a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidQuotes;

/// `argv_split(s, ..., terminate_on_comment = 1)`: words separated by spaces or tabs, `"` and
/// `'` quotes, `\` escaping a quote, a backslash, or (outside quotes) a space; a word starting
/// with `#` ends the line. An unclosed quote is an error.
pub fn argv_split(s: &str) -> Result<Vec<String>, InvalidQuotes> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            break;
        }
        let mut quote: Option<char> = None;
        let mut arg = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                let next = chars.get(i + 1).copied();
                match next {
                    Some('\'') | Some('"') | Some('\\') => {
                        i += 1;
                        arg.push(chars[i]);
                    }
                    Some(' ') if quote.is_none() => {
                        i += 1;
                        arg.push(' ');
                    }
                    _ => arg.push('\\'),
                }
            } else if quote.is_none() && (c == ' ' || c == '\t') {
                break;
            } else if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
            } else if quote == Some(c) {
                quote = None;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        out.push(arg);
        if i >= chars.len() {
            if quote.is_some() {
                return Err(InvalidQuotes);
            }
            break;
        }
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn directive(raw: &str) -> (String, Vec<String>) {
        match split(raw) {
            Line::Directive { keyword, rest } => (keyword, argv_split(&rest).unwrap()),
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    #[test]
    fn keyword_separators_like_sshd() {
        for raw in [
            "PasswordAuthentication no",
            "  PasswordAuthentication\tno  ",
            "PasswordAuthentication=no",
            "PasswordAuthentication = no",
            "\"PasswordAuthentication\" no",
            "PasswordAuthentication \"no\"",
            "PasswordAuthentication no # trailing comment",
            "PasswordAuthentication no\r",
        ] {
            let (k, a) = directive(raw);
            assert_eq!(
                (k.as_str(), a),
                ("PasswordAuthentication", vec!["no".into()]),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn odd_lines_behave_like_sshd() {
        // Only one `=` is a separator: the second is part of the value.
        assert_eq!(directive("PasswordAuthentication ==no").1, ["=no"]);
        // A `#` inside a word is not a comment.
        assert_eq!(directive("PasswordAuthentication no#x").1, ["no#x"]);
        // A comment right after the keyword leaves no argument (a value error later).
        assert!(directive("PasswordAuthentication #x").1.is_empty());
        assert_eq!(split("# comment"), Line::Skip);
        assert_eq!(split("   "), Line::Skip);
        assert_eq!(
            split("PasswordAuthentication"),
            Line::NoArgument {
                keyword: "PasswordAuthentication".into()
            }
        );
        // An unterminated quote in the keyword makes sshd skip the line silently.
        assert_eq!(split("\"PasswordAuthentication no"), Line::Skip);
        let Line::Directive { rest, .. } = split("PasswordAuthentication \"no") else {
            panic!()
        };
        assert_eq!(argv_split(&rest), Err(InvalidQuotes));
    }

    #[test]
    fn argv_split_quotes_and_escapes() {
        assert_eq!(
            argv_split(r#"a "b c" 'd e' f\ g h\"i \x"#).unwrap(),
            ["a", "b c", "d e", "f g", "h\"i", "\\x"]
        );
        assert_eq!(argv_split("\"\"").unwrap(), [""]);
        assert_eq!(argv_split("a #b c").unwrap(), ["a"]);
    }

    proptest! {
        #[test]
        fn never_panics_and_tokens_have_no_separators(s in "\\PC{0,200}") {
            if let Line::Directive { keyword, rest } = split(&s) {
                prop_assert!(!keyword.is_empty());
                prop_assert!(!rest.is_empty());
                if let Ok(args) = argv_split(&rest) {
                    prop_assert!(args.len() <= rest.len());
                }
            }
        }

        #[test]
        fn plain_words_round_trip(words in proptest::collection::vec("[A-Za-z0-9@.,*!/_-]{1,12}", 1..6)) {
            let line = format!("Keyword {}", words.join(" "));
            let (k, a) = directive(&line);
            prop_assert_eq!(k, "Keyword");
            prop_assert_eq!(a, words);
        }
    }
}
