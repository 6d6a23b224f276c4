//! Enough of the POSIX shell to read backup jobs: split a command line or a script into simple
//! commands (words with quotes removed, `$(...)`, `${...}` and backquotes kept whole),
//! redirections, and pipelines (`|` joins commands; `;`, `&&`, `||`, `&` and newlines separate
//! them). Comments, backslash continuations and here-documents (their bodies are skipped) are
//! understood. It does not expand anything except, on request, simple `$VAR`/`${VAR}`
//! references from known assignments ([`expand`]).

/// One simple command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    /// Words, quotes removed.
    pub argv: Vec<String>,
    /// `(operator, target)`: `>`, `>>`, `<`, `2>`, `&>`...
    pub redirects: Vec<(String, String)>,
    /// Commands joined by `|` share this number.
    pub pipeline: usize,
    /// 1-based line where the command starts.
    pub line: u32,
}

/// Split shell text into simple commands. Never fails: unterminated quotes end at the end of
/// the text, as a lenient reader must for arbitrary input.
pub fn commands(text: &str) -> Vec<Cmd> {
    let mut p = Parser {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        out: Vec::new(),
        cur: Cmd::default(),
        pipeline: 0,
        heredocs: Vec::new(),
    };
    p.run();
    p.out
}

struct Parser {
    chars: Vec<char>,
    i: usize,
    line: u32,
    out: Vec<Cmd>,
    cur: Cmd,
    pipeline: usize,
    heredocs: Vec<(String, bool)>,
}

impl Parser {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    fn finish(&mut self, new_pipeline: bool) {
        if !self.cur.argv.is_empty() || !self.cur.redirects.is_empty() {
            let mut c = std::mem::take(&mut self.cur);
            c.pipeline = self.pipeline;
            self.out.push(c);
        } else {
            self.cur = Cmd::default();
        }
        if new_pipeline {
            self.pipeline += 1;
        }
    }

    fn run(&mut self) {
        let mut pending_redirect: Option<String> = None;
        while let Some(c) = self.peek(0) {
            match c {
                '\n' => {
                    self.i += 1;
                    self.line += 1;
                    // A redirection without its target is a syntax error: drop it.
                    pending_redirect = None;
                    self.finish(true);
                    self.skip_heredocs();
                }
                ' ' | '\t' | '\r' => self.i += 1,
                '\\' if self.peek(1) == Some('\n') => {
                    self.i += 2;
                    self.line += 1;
                }
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                ';' | '&' | '|' | '(' | ')' => {
                    let next = self.peek(1);
                    if c == '&' && next == Some('>') {
                        self.i += 2;
                        if self.peek(0) == Some('>') {
                            self.i += 1;
                        }
                        pending_redirect = Some("&>".into());
                        continue;
                    }
                    self.i += 1;
                    pending_redirect = None;
                    let pipe = c == '|' && next != Some('|');
                    if (c == '|' || c == '&' || c == ';') && next == Some(c) {
                        self.i += 1;
                    }
                    self.finish(!pipe);
                }
                '>' | '<' => {
                    let mut op = String::new();
                    op.push(c);
                    self.i += 1;
                    while let Some(n) = self.peek(0) {
                        if n == '>' || n == '<' || n == '&' || n == '|' || n == '-' {
                            op.push(n);
                            self.i += 1;
                        } else {
                            break;
                        }
                    }
                    if op.starts_with("<<") {
                        // Here-document: its delimiter is the next word.
                        pending_redirect = Some(op);
                    } else if op.ends_with('&') {
                        // `>&2`, `2>&1`: a descriptor follows; read it as a word and drop it.
                        let _ = self.word();
                    } else {
                        pending_redirect = Some(op);
                    }
                }
                _ => {
                    let line = self.line;
                    let w = self.word();
                    if self.cur.argv.is_empty() && self.cur.redirects.is_empty() {
                        self.cur.line = line;
                    }
                    if let Some(op) = pending_redirect.take() {
                        if op.starts_with("<<") {
                            self.heredocs.push((w.clone(), op.ends_with('-')));
                        }
                        self.cur.redirects.push((op, w));
                        continue;
                    }
                    // `2>` and `1>`: a descriptor number right before a redirection.
                    if matches!(self.peek(0), Some('>') | Some('<'))
                        && !w.is_empty()
                        && w.chars().all(|c| c.is_ascii_digit())
                    {
                        continue;
                    }
                    self.cur.argv.push(w);
                }
            }
        }
        self.finish(true);
    }

    /// Skip the bodies of here-documents opened on the line just ended.
    fn skip_heredocs(&mut self) {
        let docs = std::mem::take(&mut self.heredocs);
        for (delim, strip_tabs) in docs {
            loop {
                let start = self.i;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                let l: String = self.chars[start..self.i].iter().collect();
                if self.peek(0).is_some() {
                    self.i += 1;
                    self.line += 1;
                }
                let l = if strip_tabs {
                    l.trim_start_matches('\t')
                } else {
                    &l
                };
                if l == delim || self.peek(0).is_none() {
                    break;
                }
            }
        }
    }

    /// Read one word (quotes removed; `$(...)`, `${...}`, backquotes kept verbatim).
    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => break,
                '\\' => {
                    self.i += 1;
                    match self.peek(0) {
                        Some('\n') => {
                            self.i += 1;
                            self.line += 1;
                        }
                        Some(n) => {
                            w.push(n);
                            self.i += 1;
                        }
                        None => w.push('\\'),
                    }
                }
                '\'' => {
                    self.i += 1;
                    while let Some(n) = self.peek(0) {
                        self.i += 1;
                        if n == '\'' {
                            break;
                        }
                        if n == '\n' {
                            self.line += 1;
                        }
                        w.push(n);
                    }
                }
                '"' => {
                    self.i += 1;
                    while let Some(n) = self.peek(0) {
                        self.i += 1;
                        match n {
                            '"' => break,
                            '\\' => {
                                if let Some(e) = self.peek(0) {
                                    self.i += 1;
                                    if !matches!(e, '"' | '\\' | '$' | '`' | '\n') {
                                        w.push('\\');
                                    }
                                    if e != '\n' {
                                        w.push(e);
                                    } else {
                                        self.line += 1;
                                    }
                                }
                            }
                            '\n' => {
                                self.line += 1;
                                w.push(n);
                            }
                            _ => w.push(n),
                        }
                    }
                }
                '`' => {
                    w.push(c);
                    self.i += 1;
                    while let Some(n) = self.peek(0) {
                        self.i += 1;
                        w.push(n);
                        if n == '`' {
                            break;
                        }
                    }
                }
                '$' if matches!(self.peek(1), Some('(') | Some('{')) => {
                    let open = self.peek(1).unwrap_or('(');
                    let close = if open == '(' { ')' } else { '}' };
                    w.push('$');
                    w.push(open);
                    self.i += 2;
                    let mut depth = 1usize;
                    while let Some(n) = self.peek(0) {
                        self.i += 1;
                        w.push(n);
                        if n == open {
                            depth += 1;
                        } else if n == close {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                    }
                }
                _ => {
                    w.push(c);
                    self.i += 1;
                }
            }
        }
        w
    }
}

/// Expansion stops once a word grows past this many bytes.
pub const MAX_EXPANSION: usize = 4096;

/// Expand `$NAME` and `${NAME}` from `vars` (later entries win). Unknown references are left as
/// written. `$(...)` is left alone.
pub fn expand(word: &str, vars: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(p) = rest.find('$') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let (name, used) = if let Some(b) = after.strip_prefix('{') {
            match b.find('}') {
                Some(e)
                    if b[..e]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    (&b[..e], e + 2)
                }
                _ => ("", 0),
            }
        } else {
            let e = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..e], e)
        };
        match vars.iter().rev().find(|(n, _)| n == name) {
            // `A=$A$A` repeated doubles a value each time: past the bound, keep the reference.
            Some((_, v)) if !name.is_empty() && out.len() + v.len() <= MAX_EXPANSION => {
                out.push_str(v);
                rest = &after[used..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `NAME=value` words at the start of `argv` or `export NAME=value` / `readonly`/`local`
/// statements: the assignments a command makes.
pub fn assignments(cmd: &Cmd) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut words = cmd.argv.iter().peekable();
    if words
        .peek()
        .is_some_and(|w| matches!(w.as_str(), "export" | "readonly" | "local" | "declare"))
    {
        words.next();
    }
    for w in words {
        match w.split_once('=') {
            Some((n, v))
                if !n.is_empty()
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !n.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                out.push((n.to_string(), v.to_string()));
            }
            _ => break,
        }
    }
    out
}

/// The last path component of a word (`/usr/bin/pg_dump` -> `pg_dump`).
pub fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_redirection_missing_its_target_does_not_swallow_the_next_line() {
        // Found by the backup_shell fuzz target: `<a> \n b` used to make `b` a redirect target
        // of a command with no line number.
        let c = commands("x <team@example.org>\nArchitecture: amd64\n");
        assert_eq!(c[1].argv, ["Architecture:", "amd64"]);
        assert_eq!(c[1].line, 2);
    }

    #[test]
    fn self_doubling_assignments_stay_bounded() {
        let script = "A=x\n".to_string() + &"A=$A$A\n".repeat(40) + "pg_dump > $A/x\n";
        let c = commands(&script);
        let mut vars = Vec::new();
        for cmd in &c {
            for (k, v) in assignments(cmd) {
                let v = expand(&v, &vars);
                assert!(v.len() <= MAX_EXPANSION + 8, "{}", v.len());
                vars.push((k, v));
            }
        }
    }

    #[test]
    fn the_guides_pipeline() {
        let c = commands(
            "/usr/bin/pg_dump -U avmvp_user avmvp_db | gzip > /backups/avmvp_$(date +%Y%m%d).sql.gz",
        );
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].argv,
            ["/usr/bin/pg_dump", "-U", "avmvp_user", "avmvp_db"]
        );
        assert_eq!(c[0].pipeline, c[1].pipeline);
        assert_eq!(
            c[1].redirects,
            [(
                ">".to_string(),
                "/backups/avmvp_$(date +%Y%m%d).sql.gz".to_string()
            )]
        );
    }

    #[test]
    fn scripts_with_quotes_comments_and_heredocs() {
        let c = commands(
            "#!/bin/bash\nOUT=/root/backups\nmkdir -p $OUT\n\
             mysqldump -u DB_USER -p'MDPP' DB_NAME > $OUT/db-$(date +%F).sql # dump\n\
             cat <<EOF > /tmp/x\npg_dump not-a-command\nEOF\n\
             su - postgres -c \"pg_dumpall | gzip\" && echo done 2>&1 >> /var/log/b.log\n\
             tar -czf \"$OUT/media.tgz\" \\\n  /path/to/media\n",
        );
        let argv0: Vec<&str> = c.iter().map(|c| c.argv[0].as_str()).collect();
        assert_eq!(
            argv0,
            [
                "OUT=/root/backups",
                "mkdir",
                "mysqldump",
                "cat",
                "su",
                "echo",
                "tar"
            ]
        );
        assert_eq!(
            c[2].argv,
            ["mysqldump", "-u", "DB_USER", "-pMDPP", "DB_NAME"]
        );
        assert_eq!(c[2].line, 4);
        assert_eq!(c[4].argv[4], "pg_dumpall | gzip");
        assert_eq!(
            c[5].redirects,
            [(">>".to_string(), "/var/log/b.log".to_string())]
        );
        assert_eq!(
            c[6].argv,
            ["tar", "-czf", "$OUT/media.tgz", "/path/to/media"]
        );
        assert_eq!(c[6].line, 9);
        let vars = assignments(&c[0]);
        assert_eq!(expand("$OUT/db.sql", &vars), "/root/backups/db.sql");
        assert_eq!(expand("${OUT}/x-$(date)", &vars), "/root/backups/x-$(date)");
        assert_eq!(expand("$NOPE/x", &vars), "$NOPE/x");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = commands(&s);
            let _ = expand(&s, &[("A".into(), "b".into())]);
        }

        #[test]
        fn commands_start_on_a_line_of_the_text(s in "[a-z <>|;'\n]{0,200}") {
            let lines = s.lines().count().max(1) as u32;
            for c in commands(&s) {
                prop_assert!(c.line >= 1 && c.line <= lines + 1, "{c:?}");
            }
        }

        #[test]
        fn plain_words_survive(words in proptest::collection::vec("[a-zA-Z0-9_./-]{1,10}", 1..8)) {
            let c = commands(&words.join(" "));
            prop_assert_eq!(c.len(), 1);
            prop_assert_eq!(&c[0].argv, &words);
        }

        #[test]
        fn quoted_words_keep_their_blanks(w in "[a-z |;&<>]{0,20}") {
            let c = commands(&format!("echo '{w}' \"{w}\""));
            prop_assert_eq!(&c[0].argv[1], &w);
            prop_assert_eq!(&c[0].argv[2], &w);
        }
    }
}
