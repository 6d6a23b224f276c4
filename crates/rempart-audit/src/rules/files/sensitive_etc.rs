//! FILE-SENSITIVE-ETC: the account databases and sudo's configuration keep Debian's modes and
//! owners.

use super::describe;
use crate::host::{FileKind, HostError, Meta};
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::accounts::AccountDb;

pub const RULE: Rule = Rule {
    id: "FILE-SENSITIVE-ETC",
    name: "sensitive-etc-files-exposed",
    family: Family::Files,
    severity: Severity::High,
    level: Level::Dev,
    title: "Account databases and sudoers keep their strict modes",
    doc: RuleDoc {
        what: "/etc/passwd and /etc/group are owned by root:root with mode 0644 or stricter; \
               /etc/shadow and /etc/gshadow by root with group root or shadow and mode 0640 or \
               stricter; /etc/sudoers and every file of /etc/sudoers.d by root:root with mode \
               0440 or stricter. Stricter means no permission bit outside the reference mode \
               (no write for group or others, no setuid, setgid or sticky bit). Absent files are \
               not judged.",
        why: "Whoever can write /etc/passwd, /etc/shadow or sudoers is root; whoever can read \
              /etc/shadow can crack the hashes offline. Debian's modes are the minimum.",
        remediation: "chown root:root /etc/passwd /etc/group /etc/sudoers; chmod 644 /etc/passwd \
                      /etc/group; chown root:shadow /etc/shadow /etc/gshadow; chmod 640 \
                      /etc/shadow /etc/gshadow; chmod 440 /etc/sudoers /etc/sudoers.d/*",
        verify: "stat -c '%a %U:%G %n' /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/sudoers /etc/sudoers.d/*",
        references: &[
            "CIS Debian Linux 12 Benchmark 7.1.1-7.1.10 (permissions on /etc/passwd, /etc/shadow, /etc/group, /etc/gshadow)",
            "man sudoers(5) (sudoers must not be writable by others)",
        ],
    },
    check,
};

/// (path, reference mode, groups allowed besides root)
const FILES: &[(&str, u32, &[&str])] = &[
    ("/etc/passwd", 0o644, &[]),
    ("/etc/group", 0o644, &[]),
    ("/etc/shadow", 0o640, &["shadow"]),
    ("/etc/gshadow", 0o640, &["shadow"]),
    ("/etc/sudoers", 0o440, &[]),
];
const SUDOERS_D: &str = "/etc/sudoers.d";

fn check(ctx: &Ctx) -> Outcome {
    let db = ctx.fact::<AccountDb>();
    let mut targets: Vec<(String, u32, &[&str])> = FILES
        .iter()
        .map(|(p, m, g)| (p.to_string(), *m, *g))
        .collect();
    let mut errors: Vec<HostError> = Vec::new();
    match ctx.host.read_dir(SUDOERS_D) {
        Ok(Some(names)) => targets.extend(
            names
                .into_iter()
                .map(|n| (format!("{SUDOERS_D}/{n}"), 0o440, &[] as &[&str])),
        ),
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    let mut bad = Vec::new();
    let mut judged = 0usize;
    for (path, reference, groups) in &targets {
        let meta = match ctx.host.metadata(path) {
            Ok(Some(m)) if m.kind == FileKind::File => m,
            Ok(_) => continue,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        judged += 1;
        if let Some(why) = problem(&db, &meta, *reference, groups) {
            let expected = format!(
                "{:04o} root:{} or stricter",
                reference,
                groups.first().copied().unwrap_or("root")
            );
            bad.push(
                Evidence::file(path.as_str())
                    .key("mode and owner")
                    .actual(describe(&db, &meta))
                    .expected(expected)
                    .note(why),
            );
        }
    }
    if !bad.is_empty() {
        return Outcome::fail(format!(
            "{} account or sudo files have loose modes or owners",
            bad.len()
        ))
        .with_all(bad);
    }
    if let Some(e) = errors.into_iter().next() {
        return Outcome::from(e);
    }
    if judged == 0 {
        return Outcome::not_applicable("no account database or sudoers in /etc");
    }
    Outcome::pass(format!(
        "the {judged} account and sudo files keep strict modes"
    ))
}

fn problem(db: &AccountDb, meta: &Meta, reference: u32, groups: &[&str]) -> Option<String> {
    let mut why = Vec::new();
    let extra = meta.mode & !reference;
    if extra != 0 {
        why.push(format!("mode bits {extra:04o} beyond {reference:04o}"));
    }
    if meta.uid != 0 {
        why.push("not owned by root".to_string());
    }
    let group_ok = meta.gid == 0
        || db
            .users
            .group_by_gid(meta.gid)
            .is_some_and(|g| groups.contains(&g.name.as_str()));
    if !group_ok {
        why.push("group is neither root nor the expected group".to_string());
    }
    (!why.is_empty()).then(|| why.join("; "))
}
