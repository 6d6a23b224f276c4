//! The probe's catalogue: ids well formed, prefixed by their family, distinct from every audit
//! rule (ids and names: `rempart explain` looks in both), documented; and `docs/probe-rules/`
//! generated from it (run with `REMPART_BLESS=1` to regenerate).

use rempart_audit::registry::RULES as AUDIT;
use rempart_probe::catalogue::RULES;
use std::collections::HashSet;
use std::fs;
use std::path::Path;

#[test]
fn ids_are_well_formed_and_distinct_from_the_audit() {
    let id_re = |s: &str| {
        let mut parts = s.split('-');
        let first = parts.next().unwrap_or("");
        !first.is_empty()
            && first.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && first
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && s.contains('-')
            && parts.all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            })
    };
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for r in RULES {
        assert!(id_re(r.id), "bad id {}", r.id);
        assert!(
            ids.insert(r.id) && names.insert(r.name),
            "duplicate {}",
            r.id
        );
        let prefix = match r.family.as_str() {
            "web" => "WEB-PROBE-",
            "firewall" => "FW-PROBE-",
            other => panic!("{}: probe rules are web or firewall, not {other}", r.id),
        };
        assert!(r.id.starts_with(prefix), "{} lacks {prefix}", r.id);
        assert!(
            !AUDIT.iter().any(|a| a.id == r.id || a.name == r.name),
            "{} clashes with an audit rule",
            r.id
        );
        for (what, text) in [
            ("title", r.title),
            ("what", r.doc.what),
            ("why", r.doc.why),
            ("remediation", r.doc.remediation),
            ("verify", r.doc.verify),
        ] {
            assert!(text.trim().len() > 10, "{}: `{what}` is missing", r.id);
        }
        assert!(!r.doc.references.is_empty(), "{}: no references", r.id);
        assert!(rempart_probe::catalogue::find(&r.id.to_lowercase()).is_some());
        assert!(rempart_probe::catalogue::find(r.name).is_some());
    }
}

#[test]
fn generated_probe_rule_docs_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/probe-rules");
    let mut expected: Vec<(String, String)> = RULES
        .iter()
        .map(|r| (format!("{}.md", r.id), rempart_audit::report::explain(r)))
        .collect();
    let mut index = String::from(
        "# Probe checks\n\nThe checks of `rempart probe URL` and `rempart probe --ports HOST` (see [../probe.md](../probe.md)). Generated from the rule definitions by `REMPART_BLESS=1 cargo test -p rempart-probe --test catalogue`; do not edit.\n\n| id | family | severity | from level | title |\n|---|---|---|---|---|\n",
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
    let stale: Vec<&String> = expected
        .iter()
        .filter(|(name, text)| fs::read_to_string(dir.join(name)).ok().as_ref() != Some(text))
        .map(|(n, _)| n)
        .collect();
    let on_disk = fs::read_dir(&dir).map(|rd| rd.count()).unwrap_or(0);
    assert!(
        stale.is_empty() && on_disk == expected.len(),
        "docs/probe-rules is stale: run REMPART_BLESS=1 cargo test -p rempart-probe --test catalogue\n{stale:?}"
    );
}
