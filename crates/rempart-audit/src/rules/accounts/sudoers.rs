//! A minimal, robust reading of sudoers(5): enough to know who may run what, with or without a
//! password. It reads `/etc/sudoers` and what it includes (`#include`/`@include` files and
//! `#includedir`/`@includedir` directories, whose files are read in name order, skipping names
//! that end in `~` or hold a `.`, as sudo does), with continuation lines, comments, aliases,
//! `Defaults` lines and user specifications with their runas lists, options and tags (inherited
//! by the following commands of the list).
//!
//! It does not evaluate host lists or runas users: a rule that applies on some host counts.

use crate::host::{Host, HostError};
use crate::rule::{Ctx, Fact};
use std::collections::{HashMap, HashSet};

pub const SUDOERS: &str = "/etc/sudoers";

/// Include nesting sudo allows is 128; real configurations use one or two levels.
const MAX_DEPTH: usize = 8;

const TAGS: &[&str] = &[
    "NOPASSWD",
    "PASSWD",
    "NOEXEC",
    "EXEC",
    "SETENV",
    "NOSETENV",
    "LOG_INPUT",
    "NOLOG_INPUT",
    "LOG_OUTPUT",
    "NOLOG_OUTPUT",
    "MAIL",
    "NOMAIL",
    "FOLLOW",
    "NOFOLLOW",
    "INTERCEPT",
    "NOINTERCEPT",
];

const ALIAS_KINDS: &[&str] = &[
    "User_Alias",
    "Runas_Alias",
    "Host_Alias",
    "Cmnd_Alias",
    "Cmd_Alias",
];

/// One command of a user specification, with what applies to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The command as written (`ALL`, `/usr/bin/apt update`, an alias name).
    pub command: String,
    /// Prefixed with `!`: a command the users may not run.
    pub negated: bool,
    /// `NOPASSWD:` is in force for it.
    pub nopasswd: bool,
}

/// `users hosts = commands` (one line, continuations joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    /// `alice`, `%sudo`, `#1000`, `ALL`, `ADMINS` (a User_Alias) ...
    pub users: Vec<String>,
    pub commands: Vec<Command>,
    pub line: u32,
    pub text: String,
}

/// A `Defaults` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultsLine {
    /// What follows `Defaults` without a blank: `""`, `:alice`, `:%sudo`, `>root`, `@host`,
    /// `!/usr/bin/x`.
    pub scope: String,
    pub settings: Vec<String>,
    pub line: u32,
    pub text: String,
}

/// An include directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Include {
    File { path: String, line: u32 },
    Dir { path: String, line: u32 },
}

/// One parsed sudoers file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sudoers {
    pub specs: Vec<UserSpec>,
    pub defaults: Vec<DefaultsLine>,
    /// `Kind NAME` (`Cmnd_Alias ADMIN_CMDS`) -> members.
    pub aliases: HashMap<String, Vec<String>>,
    pub includes: Vec<Include>,
    /// (line, reason) of lines not understood (sudo would refuse the whole file).
    pub invalid: Vec<(u32, &'static str)>,
}

impl Sudoers {
    /// Members of an alias of `kind` (`User_Alias`), if defined here.
    pub fn alias(&self, kind: &str, name: &str) -> Option<&Vec<String>> {
        self.aliases.get(&format!("{kind} {name}"))
    }
}

/// Parse one sudoers file's text.
pub fn parse(text: &str) -> Sudoers {
    let mut out = Sudoers::default();
    for (line, logical) in logical_lines(text) {
        let trimmed = logical.trim();
        if let Some(inc) = include(trimmed, line) {
            out.includes.push(inc);
            continue;
        }
        let content = strip_comment(trimmed);
        let content = content.trim();
        if content.is_empty() {
            continue;
        }
        let first = content.split_whitespace().next().unwrap_or("");
        if let Some(scope) = first.strip_prefix("Defaults") {
            if scope.is_empty() || scope.starts_with([':', '>', '@', '!']) {
                let rest = content[first.len()..].trim();
                out.defaults.push(DefaultsLine {
                    scope: scope.to_string(),
                    settings: split_top(rest, ',')
                        .into_iter()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    line,
                    text: logical.clone(),
                });
                continue;
            }
        }
        if ALIAS_KINDS.contains(&first) {
            let kind = if first == "Cmd_Alias" {
                "Cmnd_Alias"
            } else {
                first
            };
            let rest = content[first.len()..].trim();
            for def in split_top(rest, ':') {
                match def.split_once('=') {
                    Some((name, members)) if !name.trim().is_empty() => {
                        out.aliases.insert(
                            format!("{kind} {}", name.trim()),
                            split_top(members, ',')
                                .into_iter()
                                .map(|m| m.trim().to_string())
                                .filter(|m| !m.is_empty())
                                .collect(),
                        );
                    }
                    _ => out.invalid.push((line, "alias without `NAME = members`")),
                }
            }
            continue;
        }
        match user_spec(content) {
            Some((users, commands)) => out.specs.push(UserSpec {
                users,
                commands,
                line,
                text: logical.clone(),
            }),
            None => out
                .invalid
                .push((line, "not a user specification, alias or Defaults line")),
        }
    }
    out
}

/// Lines with `\`-continuations joined, each with the number of its first line.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (start, mut acc) = pending.take().unwrap_or((n, String::new()));
        let trailing = raw.len() - raw.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            acc.push_str(&raw[..raw.len() - 1]);
            acc.push(' ');
            pending = Some((start, acc));
        } else {
            acc.push_str(raw);
            out.push((start, acc));
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

fn include(line: &str, n: u32) -> Option<Include> {
    for (prefix, dir) in [
        ("#includedir", true),
        ("@includedir", true),
        ("#include", false),
        ("@include", false),
    ] {
        if let Some(rest) = line.strip_prefix(prefix) {
            if !rest.starts_with(char::is_whitespace) {
                continue;
            }
            let path = rest.trim().trim_matches('"').to_string();
            if path.is_empty() {
                return None;
            }
            return Some(if dir {
                Include::Dir { path, line: n }
            } else {
                Include::File { path, line: n }
            });
        }
    }
    None
}

/// The line without its comment: `#` starts one unless it is escaped, quoted, or a `#uid`.
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => quoted = !quoted,
            b'#' if !quoted && !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                return &line[..i];
            }
            _ => {}
        }
        i += 1;
    }
    line
}

/// Split on `sep` outside parentheses, quotes and backslash escapes.
fn split_top(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 && !quoted => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// `users hosts = commands [: hosts = commands]...`
fn user_spec(content: &str) -> Option<(Vec<String>, Vec<Command>)> {
    let eq = content.find('=')?;
    let (left, right) = (&content[..eq], &content[eq + 1..]);
    // Blanks around commas do not separate the user list from the host list.
    let mut compact = String::new();
    for part in left.split(',') {
        if !compact.is_empty() {
            compact.push(',');
        }
        compact.push_str(part.trim());
    }
    let fields: Vec<&str> = compact.split_whitespace().collect();
    if fields.len() != 2 {
        return None;
    }
    let users: Vec<String> = fields[0]
        .split(',')
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect();
    if users.is_empty() {
        return None;
    }
    let mut commands = Vec::new();
    let mut nopasswd = false;
    for (section_no, section) in host_sections(right).into_iter().enumerate() {
        let cmnds = if section_no == 0 {
            section.as_str()
        } else {
            // `hosts = commands`: tags do not carry over to another host list.
            nopasswd = false;
            section.split_once('=').map_or("", |(_, c)| c)
        };
        for item in split_top(cmnds, ',') {
            let mut rest = item.trim();
            if rest.starts_with('(') {
                rest = rest.find(')').map_or("", |i| &rest[i + 1..]).trim_start();
            }
            loop {
                let word = rest.split_whitespace().next().unwrap_or("");
                if let Some((name, _)) = word.split_once(':').filter(|(n, _)| TAGS.contains(n)) {
                    match name {
                        "NOPASSWD" => nopasswd = true,
                        "PASSWD" => nopasswd = false,
                        _ => {}
                    }
                    rest = rest[name.len() + 1..].trim_start();
                    continue;
                }
                let is_option = word.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty() && k.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                });
                if is_option {
                    rest = rest[word.len()..].trim_start();
                    continue;
                }
                break;
            }
            let (negated, command) = match rest.strip_prefix('!') {
                Some(c) => (true, c.trim_start()),
                None => (false, rest),
            };
            if command.is_empty() {
                continue;
            }
            commands.push(Command {
                command: command.to_string(),
                negated,
                nopasswd,
            });
        }
    }
    Some((users, commands))
}

/// The command lists of a specification's right side, split on `:` that are neither inside a
/// runas list nor the colon of a tag.
fn host_sections(right: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut chars = right.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => {
                let word = cur
                    .rsplit(|c: char| c.is_whitespace() || c == ',' || c == ')')
                    .next()
                    .unwrap_or("");
                let is_option_value = word.contains('=');
                if !TAGS.contains(&word) && !is_option_value {
                    out.push(std::mem::take(&mut cur));
                    continue;
                }
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// A sudoers file read from the host.
#[derive(Debug, Clone)]
pub struct SudoersFile {
    pub path: String,
    pub parsed: Sudoers,
}

/// Every sudoers file of the host, in the order sudo reads them, and read errors.
#[derive(Debug, Clone, Default)]
pub struct SudoersSet {
    /// Empty when `/etc/sudoers` does not exist (sudo is not installed).
    pub files: Vec<SudoersFile>,
    pub errors: Vec<HostError>,
}

impl Fact for SudoersSet {
    fn collect(ctx: &Ctx) -> SudoersSet {
        SudoersSet::load(ctx.host)
    }
}

impl SudoersSet {
    pub fn load(host: &Host) -> SudoersSet {
        let mut set = SudoersSet::default();
        let mut seen = HashSet::new();
        set.read(host, SUDOERS, 0, &mut seen);
        set
    }

    fn read(&mut self, host: &Host, path: &str, depth: usize, seen: &mut HashSet<String>) {
        if depth > MAX_DEPTH || !seen.insert(path.to_string()) {
            return;
        }
        let parsed = match host.read_text(path) {
            Ok(Some(f)) => parse(&f.text),
            Ok(None) => return,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        let includes = parsed.includes.clone();
        self.files.push(SudoersFile {
            path: path.to_string(),
            parsed,
        });
        let base = path.rsplit_once('/').map_or("/", |(d, _)| d);
        for inc in includes {
            match inc {
                Include::File { path: p, .. } => {
                    self.read(host, &relative_to(base, &p), depth + 1, seen);
                }
                Include::Dir { path: p, .. } => {
                    let dir = relative_to(base, &p);
                    let names = match host.read_dir(&dir) {
                        Ok(Some(n)) => n,
                        Ok(None) => continue,
                        Err(e) => {
                            self.errors.push(e);
                            continue;
                        }
                    };
                    for n in names {
                        if n.ends_with('~') || n.contains('.') {
                            continue;
                        }
                        self.read(host, &format!("{dir}/{n}"), depth + 1, seen);
                    }
                }
            }
        }
    }

    /// Members of a User_Alias or Cmnd_Alias defined in any file.
    pub fn alias(&self, kind: &str, name: &str) -> Option<&Vec<String>> {
        self.files.iter().find_map(|f| f.parsed.alias(kind, name))
    }

    /// True when `command` is `ALL` or an alias that grants `ALL`.
    pub fn is_all(&self, command: &str) -> bool {
        self.is_all_at(command, 0)
    }

    fn is_all_at(&self, command: &str, depth: usize) -> bool {
        if command == "ALL" {
            return true;
        }
        if depth > MAX_DEPTH {
            return false;
        }
        self.alias("Cmnd_Alias", command)
            .is_some_and(|m| m.iter().any(|c| self.is_all_at(c, depth + 1)))
    }
}

fn relative_to(base: &str, p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{}/{p}", base.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DEBIAN: &str = "#\n# This file MUST be edited with the 'visudo' command as root.\n#\nDefaults\tenv_reset\nDefaults\tmail_badpass\nDefaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nDefaults\tuse_pty\n\n# User privilege specification\nroot\tALL=(ALL:ALL) ALL\n\n# Allow members of group sudo to execute any command\n%sudo\tALL=(ALL:ALL) ALL\n\n# See sudoers(5) for more information on \"@include\" directives:\n\n@includedir /etc/sudoers.d\n";

    #[test]
    fn debian_default_file() {
        let s = parse(DEBIAN);
        assert!(s.invalid.is_empty(), "{:?}", s.invalid);
        assert_eq!(s.defaults.len(), 4);
        assert_eq!(s.specs.len(), 2);
        assert_eq!(s.specs[1].users, ["%sudo"]);
        assert_eq!(s.specs[1].line, 13);
        assert_eq!(s.specs[1].commands[0].command, "ALL");
        assert!(!s.specs[1].commands[0].nopasswd);
        assert_eq!(
            s.includes,
            [Include::Dir {
                path: "/etc/sudoers.d".into(),
                line: 17
            }]
        );
    }

    #[test]
    fn tags_are_inherited_until_overridden() {
        let s = parse(
            "deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart app, /usr/bin/journalctl, PASSWD: ALL\n",
        );
        let c = &s.specs[0].commands;
        assert_eq!(c.len(), 3);
        assert!(c[0].nopasswd && c[1].nopasswd && !c[2].nopasswd);
        assert_eq!(c[0].command, "/usr/bin/systemctl restart app");
    }

    #[test]
    fn cloud_image_style_and_uid_users_and_continuations() {
        let s = parse(
            "# Created by cloud-init\nadmin ALL=(ALL) NOPASSWD:ALL\n#1001, bob   ALL = (ALL : ALL) \\\n   NOPASSWD: ALL # shared\n",
        );
        assert_eq!(s.specs.len(), 2);
        assert!(s.specs[0].commands[0].nopasswd);
        assert_eq!(s.specs[1].users, ["#1001", "bob"]);
        assert_eq!(s.specs[1].line, 3);
        assert_eq!(s.specs[1].commands[0].command, "ALL");
        assert!(s.specs[1].commands[0].nopasswd);
    }

    #[test]
    fn aliases_host_sections_options_and_defaults_scopes() {
        let s = parse(
            "User_Alias ADMINS = alice, bob : OPS = carol\nCmnd_Alias EVERYTHING = ALL\nADMINS web1 = NOPASSWD: EVERYTHING : db1 = /usr/bin/psql\nDefaults:ADMINS !authenticate\ncarol ALL = TIMEOUT=5m NOPASSWD: !/usr/bin/su\n",
        );
        assert_eq!(s.alias("User_Alias", "ADMINS").unwrap(), &["alice", "bob"]);
        assert_eq!(s.alias("User_Alias", "OPS").unwrap(), &["carol"]);
        let c = &s.specs[0].commands;
        assert_eq!(c.len(), 2);
        assert!(c[0].nopasswd);
        assert!(!c[1].nopasswd, "tags do not cross host lists");
        assert_eq!(s.defaults[0].scope, ":ADMINS");
        assert_eq!(s.defaults[0].settings, ["!authenticate"]);
        let c = &s.specs[1].commands[0];
        assert!(c.negated && c.nopasswd);
        assert_eq!(c.command, "/usr/bin/su");
        let set = SudoersSet {
            files: vec![SudoersFile {
                path: SUDOERS.into(),
                parsed: s,
            }],
            errors: Vec::new(),
        };
        assert!(set.is_all("EVERYTHING"));
        assert!(!set.is_all("/usr/bin/psql"));
    }

    #[test]
    fn garbage_lines_are_invalid_not_fatal() {
        let s = parse("this is not sudoers\n%sudo ALL=(ALL:ALL) ALL\n");
        assert_eq!(s.invalid.len(), 1);
        assert_eq!(s.specs.len(), 1);
    }

    proptest! {
        #[test]
        fn parser_never_panics_and_keeps_line_numbers(s in "\\PC{0,400}") {
            let lines = s.lines().count().max(1) as u32;
            let p = parse(&s);
            for spec in &p.specs {
                prop_assert!(spec.line >= 1 && spec.line <= lines);
                prop_assert!(!spec.users.is_empty());
                for c in &spec.commands {
                    prop_assert!(!c.command.is_empty());
                }
            }
        }

        #[test]
        fn generated_specs_read_back(
            user in "[a-z][a-z0-9_]{0,8}",
            nopasswd in any::<bool>(),
            cmds in proptest::collection::vec("/usr/bin/[a-z]{1,8}", 1..4),
        ) {
            let tag = if nopasswd { "NOPASSWD: " } else { "" };
            let p = parse(&format!("{user} ALL=(ALL:ALL) {tag}{}\n", cmds.join(", ")));
            prop_assert_eq!(p.specs.len(), 1);
            prop_assert_eq!(&p.specs[0].users, &vec![user]);
            let got: Vec<&str> = p.specs[0].commands.iter().map(|c| c.command.as_str()).collect();
            prop_assert_eq!(got, cmds.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert!(p.specs[0].commands.iter().all(|c| c.nopasswd == nopasswd));
        }
    }
}
