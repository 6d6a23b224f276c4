//! ACC-SUDO-NOPASSWD: no sudo grant of every command skips the password.

use super::sudoers::SudoersSet;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "ACC-SUDO-NOPASSWD",
    name: "passwordless-sudo-all",
    family: Family::Accounts,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "sudo asks for a password before running any command as root",
    doc: RuleDoc {
        what: "In /etc/sudoers and the files it includes (`@includedir /etc/sudoers.d` ...), no \
               user specification grants `ALL` commands (or a Cmnd_Alias holding ALL) with the \
               NOPASSWD tag in force (tags carry over to the following commands of the list), \
               and no `Defaults` line turns `authenticate` off. Grants to root itself are not \
               judged; NOPASSWD for a short list of commands is allowed.",
        why: "With passwordless sudo, whoever gets a shell as the user (a stolen SSH key, a \
              compromised browser session, a malicious package run as the user) is root at once. \
              The password is the last barrier, and sudo's log then names someone who typed it.",
        remediation: "Remove the NOPASSWD tag (or restrict it to the few commands automation \
                      needs) with `visudo -f /etc/sudoers.d/FILE`; cloud images put it in \
                      /etc/sudoers.d/90-cloud-init-users.",
        verify: "grep -rnE 'NOPASSWD|authenticate' /etc/sudoers /etc/sudoers.d/; sudo -l -U USER",
        references: &[
            "seed 002 Phase 1 §3 (admin in the sudo group, sudo with a password)",
            "CIS Debian Linux 12 Benchmark 5.2.4 (users must provide password for privilege escalation)",
            "man sudoers(5)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let set = ctx.fact::<SudoersSet>();
    if set.files.is_empty() && set.errors.is_empty() {
        return Outcome::not_applicable("sudo is not installed (no /etc/sudoers)");
    }
    let mut bad = Vec::new();
    for f in &set.files {
        for spec in &f.parsed.specs {
            if spec.users.iter().all(|u| u == "root") {
                continue;
            }
            if spec
                .commands
                .iter()
                .any(|c| !c.negated && c.nopasswd && set.is_all(&c.command))
            {
                bad.push(
                    Evidence::file(f.path.as_str())
                        .line(spec.line)
                        .snippet(spec.text.as_str())
                        .key(spec.users.join(","))
                        .actual("NOPASSWD: ALL")
                        .expected("a password for ALL"),
                );
            }
        }
        for d in &f.parsed.defaults {
            if d.settings.iter().any(|s| s == "!authenticate") {
                bad.push(
                    Evidence::file(f.path.as_str())
                        .line(d.line)
                        .snippet(d.text.as_str())
                        .key(format!("Defaults{}", d.scope))
                        .actual("!authenticate")
                        .expected("authenticate"),
                );
            }
        }
    }
    if !bad.is_empty() {
        return Outcome::fail(format!(
            "{} sudo rules give root without a password",
            bad.len()
        ))
        .with_all(bad);
    }
    if let Some(e) = set.errors.first() {
        return Outcome::from(e.clone());
    }
    Outcome::pass(format!(
        "no sudo rule grants every command without a password ({} files read)",
        set.files.len()
    ))
}
