//! The three operations end to end, for the binary and for tests: record a baseline, check a
//! tree against one, and record a new one after review. No terminal, no exit codes: the binary
//! prints the returned reports and picks the exit status.

use crate::auth::{Signers, Verifier};
use crate::baseline::{self, Envelope, FormatError, Header, Limits, Untrusted};
use crate::compare::{compare_all, Comparer, Comparison};
use crate::entry::{Entry, Time};
use crate::hostpath;
use crate::policy::{CompiledPolicy, Policy};
use crate::report::{CheckReport, Verdict};
use crate::scan::{scan, Collect, ScanOutcome, ScanRoot};
use std::path::Path;

/// Written into every baseline's header.
pub const CREATOR: &str = concat!("rempart ", env!("CARGO_PKG_VERSION"));

/// The current time.
pub fn now() -> Time {
    let t = jiff::Timestamp::now();
    Time {
        secs: t.as_second(),
        nanos: t.subsec_nanosecond().max(0) as u32,
    }
}

/// A freshly recorded baseline.
#[derive(Debug)]
pub struct Recorded {
    /// The baseline file's bytes, authenticated.
    pub bytes: Vec<u8>,
    pub header: Header,
    pub entries: Vec<Entry>,
    pub outcome: ScanOutcome,
}

/// Scan `root` with `policy` and build an authenticated baseline.
pub fn record(
    root: &ScanRoot,
    policy: &CompiledPolicy,
    signers: &Signers,
    created: Time,
) -> Result<Recorded, FormatError> {
    let sink = Collect::default();
    let outcome = scan(root, policy, &sink);
    let entries = sink.into_sorted();
    let header = Header {
        algo: policy.algo(),
        created,
        root: root.path().as_os_str().as_encoded_bytes().to_vec(),
        host_id: root.host_id(),
        policy_digest: policy.digest(),
        policy: policy.policy().to_toml(),
        entries: entries.len() as u64,
        creator: CREATOR.to_string(),
    };
    let bytes = baseline::encode(&header, &entries, signers)?;
    Ok(Recorded {
        bytes,
        header,
        entries,
        outcome,
    })
}

/// A baseline that passed authentication and belongs to this tree.
#[derive(Debug)]
pub struct Trusted {
    pub header: Header,
    pub entries: Vec<Entry>,
    /// The policy the baseline was recorded with.
    pub policy: CompiledPolicy,
    /// The tag that was verified.
    pub verified_by: String,
}

/// A baseline that was not trusted: why, and its header when it could be parsed.
#[derive(Debug)]
pub struct Refused {
    pub header: Option<Header>,
    pub reason: Untrusted,
}

/// Authenticate a baseline, check that it was recorded for this tree, and decode it.
pub fn open(
    bytes: &[u8],
    verifier: &Verifier,
    root: &ScanRoot,
    limits: &Limits,
) -> Result<Trusted, Box<Refused>> {
    let env = Envelope::parse(bytes, limits).map_err(|e| {
        Box::new(Refused {
            header: None,
            reason: Untrusted::Format(e),
        })
    })?;
    let header = env.header.clone();
    let fail = |u: Untrusted| {
        Box::new(Refused {
            header: Some(header.clone()),
            reason: u,
        })
    };
    env.verify(verifier).map_err(fail)?;
    let here = root.host_id();
    if env.header.host_id != here {
        return Err(fail(Untrusted::OtherHost {
            recorded: hostpath::display(&env.header.host_id),
            current: hostpath::display(&here),
        }));
    }
    let malformed = |m: String| fail(Untrusted::Format(FormatError::Malformed(m)));
    let policy = Policy::from_toml("baseline policy", &env.header.policy)
        .and_then(|p| p.compile())
        .map_err(|e| malformed(e.to_string()))?;
    let entries = env
        .entries(limits)
        .map_err(|e| fail(Untrusted::Format(e)))?;
    Ok(Trusted {
        header: env.header,
        entries,
        policy,
        verified_by: baseline::tag_label(verifier.kind(), &verifier.id()),
    })
}

/// What a check needs besides the tree.
#[derive(Debug)]
pub struct CheckInput<'a> {
    /// Where the baseline was read (for the report).
    pub baseline_path: &'a str,
    pub bytes: &'a [u8],
    pub verifier: &'a Verifier,
    /// Digest of the policy in force now, to say when it differs from the baseline's.
    pub current_policy: Option<[u8; 32]>,
    /// Host paths never scanned (the baseline, its record, the key).
    pub runtime_excludes: &'a [Vec<u8>],
    pub now: Time,
}

/// Check a tree against a baseline. Never fails: an untrusted baseline is a verdict.
pub fn check(root: &ScanRoot, input: &CheckInput<'_>) -> CheckReport {
    let mut report = CheckReport {
        root: root.path().display().to_string(),
        baseline_path: input.baseline_path.to_string(),
        verdict: Verdict::Clean,
        header: None,
        verified_by: None,
        policy_changed: false,
        comparison: Comparison::default(),
        issues: Vec::new(),
        stats: Default::default(),
        checked_at: input.now,
    };
    let trusted = match open(input.bytes, input.verifier, root, &Limits::default()) {
        Ok(t) => t,
        Err(refused) => {
            report.header = refused.header;
            report.verdict = Verdict::Untrusted(refused.reason);
            return report;
        }
    };
    let mut policy = trusted.policy;
    for x in input.runtime_excludes {
        policy.exclude_at_runtime(x);
    }
    report.policy_changed = input
        .current_policy
        .is_some_and(|d| d != trusted.header.policy_digest);
    let cmp = Comparer::new(&trusted.entries);
    let outcome = scan(root, &policy, &cmp);
    report.comparison = cmp.finish(&outcome.issues);
    report.issues = outcome.issues;
    report.stats = outcome.stats;
    report.header = Some(trusted.header);
    report.verified_by = Some(trusted.verified_by);
    report.verdict = if report.comparison.changes.is_empty() {
        Verdict::Clean
    } else {
        Verdict::Changes
    };
    report
}

/// Record a new baseline after review, and say what it accepts compared with the old one.
pub fn update(
    root: &ScanRoot,
    old: &Trusted,
    policy: &CompiledPolicy,
    signers: &Signers,
    created: Time,
) -> Result<(Recorded, Comparison), FormatError> {
    let rec = record(root, policy, signers, created)?;
    let cmp = compare_all(&old.entries, &rec.entries, &rec.outcome.issues);
    Ok((rec, cmp))
}

/// The host paths, inside `root`, of files that must never be scanned (the baseline, its
/// check record, the key), when they lie inside the tree.
pub fn runtime_excludes(root: &ScanRoot, files: &[&Path]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in files {
        let Some(parent) = f.parent() else { continue };
        let Some(name) = f.file_name() else { continue };
        // The parent may not exist yet (first init): then nothing there is scanned either.
        let Ok(real_parent) = std::fs::canonicalize(parent) else {
            continue;
        };
        if let Ok(rel) = real_parent.strip_prefix(root.path()) {
            let mut p = b"/".to_vec();
            let rel = rel.as_os_str().as_encoded_bytes();
            p = hostpath::join(&p, rel);
            if rel.is_empty() {
                p = b"/".to_vec();
            }
            p = hostpath::join(&p, name.as_encoded_bytes());
            out.push(p);
        }
    }
    out
}
