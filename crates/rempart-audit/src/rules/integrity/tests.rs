//! The integrity rules at fixed dates (the fixtures cannot fix "now").

use super::testing::*;
use super::{baseline_missing, baseline_stale, changes};
use crate::config::AuditConfig;
use crate::model::Status;
use crate::rule::{Ctx, Facts, Outcome};
use crate::Host;

const DAY: i64 = 86_400;
const T0: i64 = 1_767_225_600; // 2026-01-01

fn run(root: &std::path::Path, f: impl Fn(&Ctx) -> Outcome) -> Outcome {
    let host = Host::tree(root).unwrap();
    let config = AuditConfig::default();
    let facts = Facts::default();
    f(&Ctx {
        host: &host,
        config: &config,
        facts: &facts,
    })
}

fn stale(root: &std::path::Path, now: i64) -> Outcome {
    run(root, |c| baseline_stale::judge(c, now))
}

fn changes_at(root: &std::path::Path, now: i64) -> Outcome {
    run(root, |c| changes::judge(c, now))
}

#[test]
fn staleness_follows_the_configured_age() {
    let d = tempfile::tempdir().unwrap();
    let k = fixture_key();
    install(d.path(), Some(&k), &baseline_bytes(T0, &k), None);
    assert_eq!(stale(d.path(), T0 + 29 * DAY).status, Status::Pass);
    assert_eq!(stale(d.path(), T0 + 31 * DAY).status, Status::Fail);
    assert_eq!(
        stale(d.path(), T0 - 2 * DAY).status,
        Status::Fail,
        "future baseline"
    );
    put(
        d.path(),
        "/etc/rempart/integrity.toml",
        b"max_baseline_age_days = 60\n",
    );
    assert_eq!(stale(d.path(), T0 + 31 * DAY).status, Status::Pass);
}

#[test]
fn a_recent_clean_check_passes_and_an_old_one_skips() {
    let d = tempfile::tempdir().unwrap();
    let k = fixture_key();
    let b = baseline_bytes(T0, &k);
    let r = record(&b, T0 + DAY, "authentic", (0, 0, 0), &[]);
    install(d.path(), Some(&k), &b, Some((&r, Some(&k))));
    let o = changes_at(d.path(), T0 + 2 * DAY);
    assert_eq!(o.status, Status::Pass, "{}", o.message);
    let o = changes_at(d.path(), T0 + 30 * DAY);
    assert_eq!(o.status, Status::Skip, "{}", o.message);
    assert!(o.applicable);
}

#[test]
fn changes_tampering_and_missing_pieces() {
    let k = fixture_key();
    let b = baseline_bytes(T0, &k);
    let now = T0 + 2 * DAY;

    let d = tempfile::tempdir().unwrap();
    let r = record(
        &b,
        T0 + DAY,
        "authentic",
        (1, 0, 1),
        &[
            ("/etc/cron.d/evil", "added", &[]),
            ("/usr/bin/sudo", "changed", &["hash", "ctime"]),
        ],
    );
    install(d.path(), Some(&k), &b, Some((&r, Some(&k))));
    let o = changes_at(d.path(), now);
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.evidence.len(), 2);
    assert_eq!(o.evidence[1].path.as_deref(), Some("/usr/bin/sudo"));

    // The record rewritten to say "clean" without the key, keeping the genuine MAC.
    let genuine: serde_json::Value = serde_json::from_slice(&r.to_file(Some(&k))).unwrap();
    let forged = record(&b, T0 + DAY, "authentic", (0, 0, 0), &[]);
    let file = serde_json::json!({"record": forged, "mac": genuine["mac"]});
    put(
        d.path(),
        "/var/lib/rempart/integrity/baseline.check.json",
        file.to_string().as_bytes(),
    );
    let o = changes_at(d.path(), now);
    assert_eq!(o.status, Status::Fail, "{}", o.message);
    assert!(o.message.contains("rewritten"), "{}", o.message);

    // A flipped byte in the baseline.
    let d = tempfile::tempdir().unwrap();
    let mut bad = b.clone();
    bad[40] ^= 1;
    install(d.path(), Some(&k), &bad, None);
    let o = changes_at(d.path(), now);
    assert_eq!(o.status, Status::Fail);
    assert!(o.message.contains("tampered"), "{}", o.message);

    // No check yet; no baseline at all.
    let d = tempfile::tempdir().unwrap();
    install(d.path(), Some(&k), &b, None);
    assert_eq!(changes_at(d.path(), now).status, Status::Skip);
    let e = tempfile::tempdir().unwrap();
    let o = changes_at(e.path(), now);
    assert!(!o.applicable);
    let o = run(e.path(), |c| (baseline_missing::RULE.check)(c));
    assert_eq!(o.status, Status::Fail);
}
