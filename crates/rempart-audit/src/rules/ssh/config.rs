//! Reading a host's sshd configuration like sshd 9.2 does: `/etc/ssh/sshd_config`, with every
//! `Include` expanded at the point where it appears (globs in lexical order, relative paths under
//! `/etc/ssh`, at most 16 levels deep), keywords case-insensitive, and each setting kept with the
//! file and line it came from and the `Match` block(s) it sits in. A `Match` block runs to the
//! next `Match` or to the end of its file; an `Include` inside a `Match` block belongs to that
//! block. Lines sshd refuses (unknown keywords, bad values, global keywords inside `Match`, bad
//! quotes) are collected as errors with their file and line, never a panic.
//!
//! Which value wins for a connection is decided in [`super::effective`].

use super::keywords::{self, Kw, Op, Scope};
use super::lexer::{self, Line};
use super::matching::{self, Criterion};
use super::values::{self, Args, ParseEnv, Val};
use crate::host::{FileKind, Host, HostError};
use std::collections::HashMap;

/// The file sshd reads first.
pub const MAIN_CONFIG: &str = "/etc/ssh/sshd_config";
/// Where relative `Include` paths are looked up.
const SSH_DIR: &str = "/etc/ssh";
/// sshd's `SERVCONF_MAX_DEPTH`.
const MAX_DEPTH: usize = 16;
/// Lines processed across all includes before rempart gives up (sshd has no limit, but an
/// include tree can grow exponentially).
const MAX_LINES: usize = 500_000;
/// Files included (counting repeats) before rempart gives up, for the same reason.
const MAX_INCLUDED_FILES: usize = 1_024;

/// A configuration file that was read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Host path.
    pub path: String,
    pub lines: Vec<String>,
}

/// A `Match` line.
#[derive(Debug, Clone)]
pub struct MatchBlock {
    pub file: usize,
    pub line: u32,
    pub criteria: Vec<Criterion>,
    /// The block the `Include` that brought this file in sits in: both must match.
    pub parent: Option<usize>,
}

/// One setting line.
#[derive(Debug, Clone)]
pub struct Directive {
    pub file: usize,
    pub line: u32,
    /// The keyword as written (`ChallengeResponseAuthentication`).
    pub written: String,
    pub kw: Kw,
    pub val: Val,
    /// The innermost `Match` block the line sits in (`None`: global).
    pub block: Option<usize>,
}

/// A line or file sshd would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{} line {l}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// A deprecated or unsupported keyword sshd accepts and ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub file: usize,
    pub line: u32,
    pub keyword: String,
    pub why: &'static str,
}

/// An `Include` line and the files it read, so a tool adding a file knows where sshd will read
/// it (which directives come before it).
#[derive(Debug, Clone)]
pub struct IncludeSite {
    pub file: usize,
    pub line: u32,
    /// The pattern made absolute (relative patterns are under `/etc/ssh`).
    pub pattern: String,
    /// The `Match` block the line sits in.
    pub block: Option<usize>,
    /// The files it matched, in the order read, each with the number of directives read before
    /// it.
    pub files: Vec<(String, usize)>,
    /// The number of directives read when the include was done.
    pub end: usize,
}

/// The whole configuration tree, in the order sshd reads it.
#[derive(Debug, Clone, Default)]
pub struct ParsedConfig {
    pub files: Vec<SourceFile>,
    pub blocks: Vec<MatchBlock>,
    pub directives: Vec<Directive>,
    pub ignored: Vec<Ignored>,
    pub errors: Vec<ConfigError>,
    /// Every `Include` pattern processed, in the order read.
    pub includes: Vec<IncludeSite>,
}

impl ParsedConfig {
    /// Read and parse the configuration starting at `main` on `host`. `Ok(None)` when the file
    /// does not exist.
    pub fn load(
        host: &Host,
        main: &str,
        env: &ParseEnv,
    ) -> Result<Option<ParsedConfig>, HostError> {
        let Some(text) = read_config(host, main)? else {
            return Ok(None);
        };
        let mut loader = Loader {
            host: Some(host),
            env,
            out: ParsedConfig::default(),
            texts: HashMap::new(),
            cache: HashMap::new(),
            globs: HashMap::new(),
            included: 0,
            lines_seen: 0,
            subsystems: Vec::new(),
            auth_methods_set: false,
        };
        loader.parse_text(main, &text, 0, None);
        Ok(Some(loader.out))
    }

    /// Parse one file's text on its own (no host: `Include` finds nothing). For tests and fuzzing.
    pub fn parse_str(path: &str, text: &str, env: &ParseEnv) -> ParsedConfig {
        let mut loader = Loader {
            host: None,
            env,
            out: ParsedConfig::default(),
            texts: HashMap::new(),
            cache: HashMap::new(),
            globs: HashMap::new(),
            included: 0,
            lines_seen: 0,
            subsystems: Vec::new(),
            auth_methods_set: false,
        };
        loader.parse_text(path, text, 0, None);
        loader.out
    }

    /// The blocks a line sits in, innermost first.
    pub fn chain(&self, block: Option<usize>) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = block;
        while let Some(b) = cur {
            // Parents are always created before their children: this cannot loop.
            if out.contains(&b) {
                break;
            }
            out.push(b);
            cur = self.blocks.get(b).and_then(|m| m.parent);
        }
        out
    }

    /// True when sshd applies the line while reading its configuration at startup: outside any
    /// `Match`, or only inside `Match all` blocks.
    pub fn always_applies(&self, block: Option<usize>) -> bool {
        self.chain(block)
            .iter()
            .all(|b| self.blocks[*b].criteria == [Criterion::All])
    }

    pub fn path(&self, file: usize) -> &str {
        self.files.get(file).map_or("?", |f| f.path.as_str())
    }

    /// The text of a line, without its line ending.
    pub fn line_text(&self, file: usize, line: u32) -> &str {
        self.files
            .get(file)
            .and_then(|f| f.lines.get((line as usize).checked_sub(1)?))
            .map_or("", |l| l.trim_end_matches('\r'))
    }
}

/// Read a configuration file the way sshd's `load_server_config` would accept it: a directory
/// reads as empty (sshd's `getline` fails on it silently).
fn read_config(host: &Host, path: &str) -> Result<Option<String>, HostError> {
    if let Some(meta) = host.metadata(path)? {
        if meta.kind == FileKind::Dir {
            return Ok(Some(String::new()));
        }
    }
    Ok(host.read_text(path)?.map(|f| f.text))
}

struct Loader<'a> {
    host: Option<&'a Host>,
    env: &'a ParseEnv,
    out: ParsedConfig,
    texts: HashMap<String, usize>,
    /// Contents of files already read, so a file included many times is read once.
    cache: HashMap<String, String>,
    /// Glob results by pattern (sshd caches them the same way).
    globs: HashMap<String, Vec<String>>,
    included: usize,
    lines_seen: usize,
    subsystems: Vec<String>,
    /// An `AuthenticationMethods` line already applied at startup (sshd then refuses `any`).
    auth_methods_set: bool,
}

impl Loader<'_> {
    fn error(&mut self, path: &str, line: Option<u32>, message: impl Into<String>) {
        self.out.errors.push(ConfigError {
            path: path.to_string(),
            line,
            message: message.into(),
        });
    }

    fn file_index(&mut self, path: &str, text: &str) -> usize {
        if let Some(i) = self.texts.get(path) {
            return *i;
        }
        self.out.files.push(SourceFile {
            path: path.to_string(),
            lines: text.split('\n').map(String::from).collect(),
        });
        let i = self.out.files.len() - 1;
        self.texts.insert(path.to_string(), i);
        i
    }

    fn parse_text(&mut self, path: &str, text: &str, depth: usize, context: Option<usize>) {
        let file = self.file_index(path, text);
        let mut block = context;
        for (i, raw) in text.split('\n').enumerate() {
            self.lines_seen += 1;
            if self.lines_seen > MAX_LINES {
                self.error(
                    path,
                    None,
                    format!("more than {MAX_LINES} configuration lines across includes; giving up"),
                );
                return;
            }
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            self.parse_line(file, path, line_no, raw, depth, context, &mut block);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn parse_line(
        &mut self,
        file: usize,
        path: &str,
        line_no: u32,
        raw: &str,
        depth: usize,
        context: Option<usize>,
        block: &mut Option<usize>,
    ) {
        let (keyword, rest) = match lexer::split(raw) {
            Line::Skip => return,
            Line::NoArgument { keyword } => {
                return self.error(
                    path,
                    Some(line_no),
                    format!("no argument after keyword \"{keyword}\""),
                )
            }
            Line::Directive { keyword, rest } => (keyword, rest),
        };
        let Some((op, scope)) = keywords::lookup(&keyword) else {
            return self.error(
                path,
                Some(line_no),
                format!("Bad configuration option: {keyword}"),
            );
        };
        let args = match lexer::argv_split(&rest) {
            Ok(a) => a,
            Err(_) => return self.error(path, Some(line_no), "invalid quotes"),
        };
        let active_at_start = self.out.always_applies(*block);
        if scope == Scope::Global && !active_at_start {
            return self.error(
                path,
                Some(line_no),
                format!("Directive '{keyword}' is not allowed within a Match block"),
            );
        }
        let mut a = Args::new(&args);
        match op {
            Op::Deprecated | Op::Unsupported | Op::Ignore => {
                a.consume();
                if op != Op::Ignore {
                    self.out.ignored.push(Ignored {
                        file,
                        line: line_no,
                        keyword: keyword.clone(),
                        why: if op == Op::Deprecated {
                            "Deprecated option"
                        } else {
                            "Unsupported option"
                        },
                    });
                }
            }
            Op::Match => {
                let env = self.env;
                let parsed = matching::parse_match(&rest, |p| values::a2port(p, env));
                match parsed {
                    Err(e) => {
                        self.error(path, Some(line_no), format!("{e}: Bad Match condition"));
                        // sshd stops here; rempart keeps reading, with the rest of the block
                        // judged as never matching.
                        self.out.blocks.push(MatchBlock {
                            file,
                            line: line_no,
                            criteria: vec![Criterion::User(String::new())],
                            parent: context,
                        });
                        *block = Some(self.out.blocks.len() - 1);
                    }
                    Ok(m) => {
                        if m.trailing && !args.is_empty() {
                            self.error(
                                path,
                                Some(line_no),
                                format!("keyword {keyword} extra arguments at end of line"),
                            );
                        }
                        self.out.blocks.push(MatchBlock {
                            file,
                            line: line_no,
                            criteria: m.criteria,
                            parent: context,
                        });
                        *block = Some(self.out.blocks.len() - 1);
                    }
                }
                a.consume();
            }
            Op::Include => {
                let mut count = 0;
                while let Some(arg) = a.next_arg() {
                    if arg.is_empty() {
                        return self.error(
                            path,
                            Some(line_no),
                            format!("keyword {keyword} empty argument"),
                        );
                    }
                    count += 1;
                    let pattern = if arg.starts_with('/') {
                        arg.to_string()
                    } else if arg.starts_with('~') {
                        format!("/{arg}")
                    } else {
                        format!("{SSH_DIR}/{arg}")
                    };
                    self.include(path, line_no, &pattern, depth, *block);
                }
                if count == 0 {
                    self.error(
                        path,
                        Some(line_no),
                        format!("{keyword} missing filename argument"),
                    );
                }
            }
            Op::Set(kw) => match values::parse(kw, &mut a, &rest, self.env) {
                Err(e) => return self.error(path, Some(line_no), e),
                Ok(val) => {
                    if kw == Kw::AuthenticationMethods {
                        let any = matches!(&val, Val::Words(w) if w.iter().any(|m| m == "any"));
                        if any && self.auth_methods_set {
                            return self.error(
                                path,
                                Some(line_no),
                                "\"any\" must appear alone in AuthenticationMethods",
                            );
                        }
                        self.auth_methods_set |= active_at_start;
                    }
                    if kw == Kw::Subsystem && active_at_start {
                        if let Val::Words(w) = &val {
                            let name = w.first().cloned().unwrap_or_default();
                            if self.subsystems.contains(&name) {
                                return self.error(
                                    path,
                                    Some(line_no),
                                    format!("Subsystem '{name}' already defined."),
                                );
                            }
                            self.subsystems.push(name);
                        }
                    }
                    self.out.directives.push(Directive {
                        file,
                        line: line_no,
                        written: keyword.clone(),
                        kw,
                        val,
                        block: *block,
                    });
                }
            },
        }
        if a.remaining() > 0 {
            self.error(
                path,
                Some(line_no),
                format!("keyword {keyword} extra arguments at end of line"),
            );
        }
    }

    fn include(
        &mut self,
        path: &str,
        line_no: u32,
        pattern: &str,
        depth: usize,
        block: Option<usize>,
    ) {
        let Some(host) = self.host else {
            return;
        };
        // Recorded up to the same cap as included files (an include bomb stops early anyway).
        let site = (self.out.includes.len() < MAX_INCLUDED_FILES).then(|| {
            self.out.includes.push(IncludeSite {
                file: self.texts.get(path).copied().unwrap_or(0),
                line: line_no,
                pattern: pattern.to_string(),
                block,
                files: Vec::new(),
                end: self.out.directives.len(),
            });
            self.out.includes.len() - 1
        });
        self.include_files(site, path, line_no, pattern, depth, block, host);
        if let Some(s) = site.and_then(|i| self.out.includes.get_mut(i)) {
            s.end = self.out.directives.len();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn include_files(
        &mut self,
        site: Option<usize>,
        path: &str,
        line_no: u32,
        pattern: &str,
        depth: usize,
        block: Option<usize>,
        host: &Host,
    ) {
        if depth + 1 > MAX_DEPTH {
            return self.error(
                path,
                Some(line_no),
                "Too many recursive configuration includes",
            );
        }
        let matches = match self.globs.get(pattern) {
            Some(m) => m.clone(),
            None => {
                let m = match host.glob(pattern) {
                    Ok(m) => m,
                    // A pattern glob(3) cannot compile matches itself literally.
                    Err(_) => {
                        if host.symlink_metadata(pattern).ok().flatten().is_some() {
                            vec![pattern.to_string()]
                        } else {
                            Vec::new()
                        }
                    }
                };
                self.globs.insert(pattern.to_string(), m.clone());
                m
            }
        };
        for found in matches {
            self.included += 1;
            if self.included > MAX_INCLUDED_FILES {
                return self.error(
                    path,
                    Some(line_no),
                    format!("more than {MAX_INCLUDED_FILES} included files; giving up"),
                );
            }
            let cached = self.cache.get(&found).cloned();
            let text = match cached.map_or_else(|| read_config(host, &found), |t| Ok(Some(t))) {
                Ok(Some(t)) => {
                    self.cache.insert(found.clone(), t.clone());
                    t
                }
                Ok(None) => {
                    self.error(
                        path,
                        Some(line_no),
                        format!("include \"{found}\": No such file or directory"),
                    );
                    continue;
                }
                Err(e) => {
                    self.error(path, Some(line_no), format!("include: {e}"));
                    continue;
                }
            };
            let before = self.out.directives.len();
            if let Some(s) = site.and_then(|i| self.out.includes.get_mut(i)) {
                s.files.push((found.clone(), before));
            }
            self.parse_text(&found, &text, depth + 1, block);
            if self.lines_seen > MAX_LINES || self.included > MAX_INCLUDED_FILES {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> ParsedConfig {
        ParsedConfig::parse_str("/etc/ssh/sshd_config", text, &ParseEnv::default())
    }

    #[test]
    fn lines_keep_their_place_and_block() {
        let c = parse(
            "# comment\nPasswordAuthentication no\n\nMatch User alice\n  PasswordAuthentication yes\n",
        );
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.directives.len(), 2);
        assert_eq!((c.directives[0].line, c.directives[0].block), (2, None));
        assert_eq!((c.directives[1].line, c.directives[1].block), (5, Some(0)));
        assert_eq!(c.blocks[0].line, 4);
        assert_eq!(c.line_text(0, 5), "  PasswordAuthentication yes");
    }

    #[test]
    fn refused_lines_are_errors_with_their_line() {
        let c = parse(
            "PasswordAuthentication maybe\nColour blue\nMatch User x\nCiphers aes128-ctr\nMaxAuthTries 3 4\nMatch Nope x\nPort\n",
        );
        let lines: Vec<Option<u32>> = c.errors.iter().map(|e| e.line).collect();
        assert_eq!(
            lines,
            [Some(1), Some(2), Some(4), Some(5), Some(6), Some(7)],
            "{:?}",
            c.errors
        );
        assert!(c.errors[2]
            .message
            .contains("not allowed within a Match block"));
    }

    #[test]
    fn deprecated_and_aliases() {
        let c = parse(
            "ChallengeResponseAuthentication no\nUsePrivilegeSeparation sandbox\nProtocol 2\n",
        );
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.directives[0].kw, Kw::KbdInteractiveAuthentication);
        assert_eq!(c.ignored.len(), 1);
        assert_eq!(c.ignored[0].why, "Deprecated option");
    }

    #[test]
    fn include_sites_record_what_each_file_follows() {
        let t = tempfile::tempdir().unwrap();
        let ssh = t.path().join("etc/ssh/sshd_config.d");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::write(
            t.path().join("etc/ssh/sshd_config"),
            "Port 22\nInclude sshd_config.d/*.conf\nMatch User x\n  Include /etc/ssh/none/*\n",
        )
        .unwrap();
        std::fs::write(ssh.join("10-a.conf"), "X11Forwarding no\nLogLevel INFO\n").unwrap();
        std::fs::write(ssh.join("50-b.conf"), "MaxAuthTries 3\n").unwrap();
        let host = Host::tree(t.path()).unwrap();
        let c = ParsedConfig::load(&host, MAIN_CONFIG, &ParseEnv::default())
            .unwrap()
            .unwrap();
        assert_eq!(c.includes.len(), 2);
        let s = &c.includes[0];
        assert_eq!((s.file, s.line, s.block), (0, 2, None));
        assert_eq!(s.pattern, "/etc/ssh/sshd_config.d/*.conf");
        assert_eq!(
            s.files,
            [
                ("/etc/ssh/sshd_config.d/10-a.conf".to_string(), 1),
                ("/etc/ssh/sshd_config.d/50-b.conf".to_string(), 3)
            ]
        );
        assert_eq!(s.end, 4);
        assert_eq!(
            (c.includes[1].block, c.includes[1].files.len()),
            (Some(0), 0)
        );
    }

    #[test]
    fn global_keywords_are_allowed_after_match_all() {
        let c = parse("Match all\nCiphers aes256-ctr\n");
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert!(c.always_applies(c.directives[0].block));
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,400}") {
            let c = parse(&s);
            for d in &c.directives {
                prop_assert!(d.line >= 1);
                prop_assert!((d.line as usize) <= s.split('\n').count());
            }
        }

        #[test]
        fn parser_never_panics_on_config_like_lines(lines in proptest::collection::vec(
            (prop::sample::select(vec!["PasswordAuthentication", "Match", "PermitRootLogin", "Ciphers", "AllowUsers", "MaxAuthTries", "LoginGraceTime", "Include", "ListenAddress", "X", "#"]),
             "[ =\"'a-zA-Z0-9,*!/.:@#-]{0,24}"), 0..30)) {
            let text: String = lines.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
            let c = parse(&text);
            prop_assert!(c.directives.len() + c.errors.len() <= lines.len() * 2);
        }
    }
}
