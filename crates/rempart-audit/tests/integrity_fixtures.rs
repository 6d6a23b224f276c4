//! The integrity family's fixtures hold binary baselines and MACed check records, which cannot
//! be written by hand. This test regenerates them with `REMPART_BLESS=1`; otherwise it checks
//! that the committed files still are what each case says (a valid baseline verifying with the
//! fixture key, a record naming that baseline), so a format change cannot silently turn a
//! "tampered" fixture into a broken one.

#[path = "../src/rules/integrity/testing.rs"]
mod testing;

use rempart_integrity::auth::Verifier;
use rempart_integrity::baseline::{Envelope, Limits};
use rempart_integrity::hostpath;
use rempart_integrity::status::CheckRecord;
use std::fs;
use std::path::{Path, PathBuf};
use testing::*;

const JAN_2024: i64 = 1_704_067_200;
const DAY: i64 = 86_400;
const BASELINE: &str = "/var/lib/rempart/integrity/baseline";
const RECORD: &str = "/var/lib/rempart/integrity/baseline.check.json";
const KEY: &str = "/etc/rempart/integrity.key";

/// What a generated file must be.
enum Want {
    Key,
    /// A baseline that verifies with the fixture key.
    Baseline,
    /// A baseline that must not verify.
    TamperedBaseline,
    /// A record naming the case's baseline; MACed or not.
    Record {
        mac: bool,
        valid_mac: bool,
    },
}

struct File {
    case: &'static str,
    host_path: &'static str,
    bytes: Vec<u8>,
    want: Want,
}

fn files() -> Vec<File> {
    let k = fixture_key();
    let b = baseline_bytes(JAN_2024, &k);
    let mut tampered = b.clone();
    tampered[60] ^= 0x20;
    let key = || k.to_file_text().into_bytes();
    let mut out = Vec::new();
    let mut add = |case, host_path, bytes, want| {
        out.push(File {
            case,
            host_path,
            bytes,
            want,
        })
    };
    for case in [
        "baseline-missing/recorded.pass",
        "baseline-stale/old-baseline.fail",
        "baseline-stale/within-configured-age.pass",
        "changes/clean.pass",
        "changes/changes-found.fail",
        "changes/rewritten-record.fail",
        "changes/no-check-yet.skip",
        "changes/stale-check.skip",
        "changes/tampered-baseline.fail",
    ] {
        add(case, KEY, key(), Want::Key);
    }
    add(
        "baseline-missing/custom-location.pass",
        "/srv/integrity/baseline",
        b.clone(),
        Want::Baseline,
    );
    for case in [
        "baseline-missing/recorded.pass",
        "baseline-stale/old-baseline.fail",
        "baseline-stale/within-configured-age.pass",
        "changes/clean.pass",
        "changes/changes-found.fail",
        "changes/rewritten-record.fail",
        "changes/no-check-yet.skip",
        "changes/stale-check.skip",
        "changes/check-found-tampering.fail",
    ] {
        add(case, BASELINE, b.clone(), Want::Baseline);
    }
    add(
        "changes/tampered-baseline.fail",
        BASELINE,
        tampered,
        Want::TamperedBaseline,
    );

    let clean = record(&b, JAN_2024 + DAY, "authentic", (0, 0, 0), &[]);
    add(
        "changes/clean.pass",
        RECORD,
        clean.to_file(Some(&k)),
        Want::Record {
            mac: true,
            valid_mac: true,
        },
    );
    add(
        "changes/stale-check.skip",
        RECORD,
        clean.to_file(Some(&k)),
        Want::Record {
            mac: true,
            valid_mac: true,
        },
    );
    let found = record(
        &b,
        JAN_2024 + DAY,
        "authentic",
        (1, 0, 1),
        &[
            ("/etc/cron.d/backdoor", "added", &[]),
            ("/usr/bin/sudo", "changed", &["hash", "ctime"]),
        ],
    );
    add(
        "changes/changes-found.fail",
        RECORD,
        found.to_file(Some(&k)),
        Want::Record {
            mac: true,
            valid_mac: true,
        },
    );
    // The genuine record said "changes"; someone rewrote it to "clean" and kept the MAC.
    let genuine: serde_json::Value = serde_json::from_slice(&found.to_file(Some(&k))).unwrap();
    let rewritten = serde_json::json!({"record": clean, "mac": genuine["mac"]});
    add(
        "changes/rewritten-record.fail",
        RECORD,
        serde_json::to_vec_pretty(&rewritten).unwrap(),
        Want::Record {
            mac: true,
            valid_mac: false,
        },
    );
    // A signature-only setup (no HMAC key on the host): the record is not MACed.
    let tamper_found = record(&b, JAN_2024 + DAY, "tampered", (0, 0, 0), &[]);
    add(
        "changes/check-found-tampering.fail",
        RECORD,
        tamper_found.to_file(None),
        Want::Record {
            mac: false,
            valid_mac: false,
        },
    );
    out
}

fn dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/integrity")
        .join(case)
}

fn target(f: &File) -> PathBuf {
    dir(f.case)
        .join("root")
        .join(f.host_path.trim_start_matches('/'))
}

#[test]
fn integrity_fixture_files_are_generated_and_valid() {
    let files = files();
    if std::env::var_os("REMPART_BLESS").is_some() {
        for f in &files {
            let p = target(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, &f.bytes).unwrap();
        }
    }
    let key = fixture_key();
    for f in &files {
        let p = target(f);
        let bytes = fs::read(&p)
            .unwrap_or_else(|e| panic!("{}: {e} (REMPART_BLESS=1 to generate)", p.display()));
        let name = p.display();
        match f.want {
            Want::Key => assert_eq!(bytes, key.to_file_text().into_bytes(), "{name}"),
            Want::Baseline | Want::TamperedBaseline => {
                let ok = Envelope::parse(&bytes, &Limits::default())
                    .ok()
                    .is_some_and(|e| e.verify(&Verifier::Hmac(key.clone())).is_ok());
                assert_eq!(ok, matches!(f.want, Want::Baseline), "{name}");
            }
            Want::Record { mac, valid_mac } => {
                let (rec, m) = CheckRecord::parse(&bytes).unwrap();
                assert_eq!(m.is_some(), mac, "{name}");
                assert_eq!(m.is_some_and(|m| rec.verify(&m, &key)), valid_mac, "{name}");
                let baseline = fs::read(
                    dir(f.case)
                        .join("root")
                        .join(BASELINE.trim_start_matches('/')),
                )
                .unwrap();
                assert_eq!(
                    rec.baseline_digest,
                    hostpath::to_hex(blake3::hash(&baseline).as_bytes()),
                    "{name}"
                );
            }
        }
    }
}
