//! ENC-KEYFILE-PERMS: key files named in `/etc/crypttab` are readable by root only.

use super::tables::{Volumes, CRYPTTAB};
use crate::host::FileKind;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "ENC-KEYFILE-PERMS",
    name: "luks-key-file-readable",
    family: Family::Encryption,
    severity: Severity::High,
    level: Level::Enterprise,
    title: "Key files that unlock encrypted volumes are root-only",
    doc: RuleDoc {
        what: "For every `/etc/crypttab` entry whose third field is a key file on the host (not \
               `none`/`-`, not a random key from `/dev/urandom`, not `file:DEVICE` on another \
               device): the file exists, is a regular file owned by root, and gives no access \
               to group or others (0400 or 0600). Key files missing from the tree are \
               reported as a skip.",
        why: "Whoever reads the key file can open the encrypted volume, on this host or from a \
              copy of the disk: the encryption then protects nothing. (The files family also \
              checks secret files in general; this rule covers the keys crypttab names.)",
        remediation: "chown root:root KEYFILE && chmod 0400 KEYFILE (the guide's \
                      /root/.koprogo-luks-key), and keep an offline, GPG-encrypted copy.",
        verify: "awk '!/^#/ && $3 ~ /^\\// {print $3}' /etc/crypttab | xargs stat -c '%a %U %n'",
        references: &[
            "seed 001 §1 Encryption at Rest (LUKS): key /root/.koprogo-luks-key, /etc/crypttab",
            "man crypttab(5)",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let vols = ctx.fact::<Volumes>();
    if let Some(e) = &vols.crypttab_error {
        return Outcome::from(e.clone());
    }
    let Some(entries) = &vols.crypttab else {
        return Outcome::not_applicable("no /etc/crypttab: no volume is unlocked at boot");
    };
    let keyed: Vec<_> = entries
        .iter()
        .filter_map(|e| e.local_keyfile().map(|k| (e, k)))
        .collect();
    if keyed.is_empty() {
        return Outcome::not_applicable("no crypttab entry uses a key file on this host");
    }
    let mut bad = Vec::new();
    let mut missing = Vec::new();
    let mut seen = Vec::new();
    for (entry, key) in keyed {
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let place = format!("named by {CRYPTTAB}:{} ({})", entry.line, entry.name);
        let meta = match ctx.host.metadata(key) {
            Ok(Some(m)) => m,
            Ok(None) => {
                missing.push(key.to_string());
                continue;
            }
            Err(e) => return Outcome::from(e),
        };
        if meta.kind != FileKind::File {
            bad.push(
                Evidence::file(key)
                    .key("type")
                    .actual(meta.kind.as_str())
                    .expected("regular file")
                    .note(place.clone()),
            );
            continue;
        }
        if meta.uid != 0 {
            bad.push(
                Evidence::file(key)
                    .key("owner uid")
                    .actual(i64::from(meta.uid))
                    .expected(0i64)
                    .note(place.clone()),
            );
        }
        if meta.group_or_other_access() {
            bad.push(
                Evidence::file(key)
                    .key("mode")
                    .actual(meta.mode_octal())
                    .expected("0400")
                    .note(place),
            );
        }
    }
    if !bad.is_empty() {
        return Outcome::fail("a key file that unlocks an encrypted volume is exposed")
            .with_all(bad);
    }
    if !missing.is_empty() && missing.len() == seen.len() {
        return Outcome::skip(format!(
            "key files not present here: {}",
            missing.join(", ")
        ));
    }
    Outcome::pass(format!(
        "{} key file(s) are root-only",
        seen.len() - missing.len()
    ))
}
