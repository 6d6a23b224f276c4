//! Catalogue invariants: ids unique and well-formed, names kebab-case, docs present, and the
//! generated `docs/rules/` up to date (it doubles as the snapshot of the id list, so catalogue
//! changes show in review). Run with `REMPART_BLESS=1` to regenerate the docs.

use rempart_audit::registry::{REDIRECTS, RULES};
use std::collections::HashSet;
use std::fs;
use std::path::Path;

#[test]
fn ids_and_names_are_unique_and_well_formed() {
    let id_re = regex::Regex::new(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$").unwrap();
    let name_re = regex::Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").unwrap();
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for r in RULES {
        assert!(id_re.is_match(r.id), "bad id {}", r.id);
        assert!(name_re.is_match(r.name), "bad name {} for {}", r.name, r.id);
        assert!(ids.insert(r.id), "duplicate id {}", r.id);
        assert!(names.insert(r.name), "duplicate name {}", r.name);
        assert!(
            r.id.starts_with(match r.family.as_str() {
                "ssh" => "SSH-",
                "kernel" => "KRN-",
                "accounts" => "ACC-",
                "files" => "FILE-",
                "updates" => "UPD-",
                "firewall" => "FW-",
                "intrusion" => "IPS-",
                "services" => "SVC-",
                "web" => "WEB-",
                "database" => "DB-",
                "app" => "APP-",
                "containers" => "CTR-",
                "encryption" => "ENC-",
                "backup" => "BAK-",
                "logging" => "LOG-",
                "integrity" => "INT-",
                other => panic!("family {other} has no id prefix"),
            }),
            "{} does not carry its family's prefix",
            r.id
        );
    }
    for (old, new) in REDIRECTS {
        assert!(!ids.contains(old), "redirected id {old} is still in use");
        assert!(ids.contains(new), "redirect target {new} does not exist");
    }
}

#[test]
fn every_rule_is_documented() {
    for r in RULES {
        for (what, text) in [
            ("title", r.title),
            ("what", r.doc.what),
            ("why", r.doc.why),
            ("remediation", r.doc.remediation),
            ("verify", r.doc.verify),
        ] {
            assert!(
                text.trim().len() > 10,
                "{}: `{what}` is missing or too short",
                r.id
            );
        }
        assert!(!r.doc.references.is_empty(), "{}: no references", r.id);
    }
}

#[test]
fn generated_rule_docs_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let mut expected: Vec<(String, String)> = RULES
        .iter()
        .map(|r| (format!("{}.md", r.id), rempart_audit::report::explain(r)))
        .collect();
    let mut index = String::from(
        "# Rule catalogue\n\nGenerated from the rule definitions by `REMPART_BLESS=1 cargo test -p rempart-audit --test catalogue`; do not edit.\n\n| id | family | severity | from level | title |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        index.push_str(&format!(
            "| [{id}]({id}.md) | {} | {} | {} | {} |\n",
            r.family,
            r.severity,
            r.level,
            r.title,
            id = r.id
        ));
    }
    expected.push(("README.md".into(), index));
    if std::env::var_os("REMPART_BLESS").is_some() {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (name, text) in &expected {
            fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let mut stale = Vec::new();
    for (name, text) in &expected {
        match fs::read_to_string(dir.join(name)) {
            Ok(t) if &t == text => {}
            _ => stale.push(name.clone()),
        }
    }
    let on_disk = fs::read_dir(&dir).map(|rd| rd.count()).unwrap_or(0);
    assert!(
        stale.is_empty() && on_disk == expected.len(),
        "docs/rules is stale ({} files differ, {on_disk} on disk for {} expected): run REMPART_BLESS=1 cargo test -p rempart-audit --test catalogue\n{}",
        stale.len(),
        expected.len(),
        stale.join("\n")
    );
}
