//! The result of a check and its two renderings: text for people (one block per changed path,
//! old and new values of each attribute) and JSON for machines. Paths are escaped for people and
//! exact for machines (see [`crate::hostpath`]).

use crate::baseline::{Header, Untrusted};
use crate::compare::{Change, ChangeKind, Comparison};
use crate::entry::Time;
use crate::hostpath;
use crate::scan::{Issue, ScanStats};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

/// The verdict of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Authentic baseline, nothing changed.
    Clean,
    /// Authentic baseline, changes found.
    Changes,
    /// The baseline cannot be trusted (modified, malformed, or another host's): nothing was
    /// compared.
    Untrusted(Untrusted),
}

/// Everything a check found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Real path of the scanned root.
    pub root: String,
    /// Where the baseline was read.
    pub baseline_path: String,
    pub verdict: Verdict,
    /// The baseline's header, when it could be parsed.
    pub header: Option<Header>,
    /// The tag that was verified (`hmac-sha256 key 1a2b...`).
    pub verified_by: Option<String>,
    /// The policy in force now (configuration, built-in defaults) differs from the one the
    /// baseline recorded; the check used the baseline's.
    pub policy_changed: bool,
    pub comparison: Comparison,
    pub issues: Vec<Issue>,
    pub stats: ScanStats,
    pub checked_at: Time,
}

impl CheckReport {
    /// `(added, removed, changed)`.
    pub fn counts(&self) -> (u64, u64, u64) {
        let mut c = (0, 0, 0);
        for ch in &self.comparison.changes {
            match ch.kind {
                ChangeKind::Added => c.0 += 1,
                ChangeKind::Removed => c.1 += 1,
                ChangeKind::Changed => c.2 += 1,
            }
        }
        c
    }

    /// True only for an authentic baseline and no change.
    pub fn is_clean(&self) -> bool {
        self.verdict == Verdict::Clean
    }

    /// `authentic`, `tampered` or `swapped`.
    pub fn baseline_state(&self) -> &'static str {
        match &self.verdict {
            Verdict::Untrusted(u) if u.is_swap() => "swapped",
            Verdict::Untrusted(_) => "tampered",
            _ => "authentic",
        }
    }
}

/// Options of the text rendering.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
}

fn paint(on: bool, code: &str, s: &str) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// Human-readable size.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn short_value(attr: crate::attrs::Attr, v: &str) -> String {
    if attr == crate::attrs::Attr::Hash && v.len() > 16 && v.bytes().all(|b| b.is_ascii_hexdigit())
    {
        format!("{}…", &v[..16])
    } else {
        v.to_string()
    }
}

fn write_change(out: &mut dyn Write, c: &Change, color: bool) -> io::Result<()> {
    let (label, code) = match c.kind {
        ChangeKind::Added => ("added  ", "32"),
        ChangeKind::Removed => ("removed", "31"),
        ChangeKind::Changed => ("changed", "33"),
    };
    write!(
        out,
        "{} {}",
        paint(color, code, label),
        hostpath::display(&c.path)
    )?;
    if let Some(s) = &c.summary {
        write!(out, "  ({s})")?;
    }
    writeln!(out)?;
    let width = c
        .attrs
        .iter()
        .map(|a| a.attr.name().len())
        .max()
        .unwrap_or(0);
    for a in &c.attrs {
        writeln!(
            out,
            "          {:width$}  {} -> {}",
            a.attr.name(),
            short_value(a.attr, &a.old),
            short_value(a.attr, &a.new),
        )?;
    }
    for n in &c.notes {
        writeln!(out, "          {} {n}", paint(color, "1;31", "!"))?;
    }
    Ok(())
}

/// Render a check for people.
pub fn render_text(r: &CheckReport, opts: TextOptions, out: &mut dyn Write) -> io::Result<()> {
    let color = opts.color;
    writeln!(
        out,
        "rempart integrity check of {} against {}",
        r.root, r.baseline_path
    )?;
    if let Some(h) = &r.header {
        write!(
            out,
            "baseline: recorded {}, {}, {} entries",
            h.created, h.algo, h.entries
        )?;
        match &r.verified_by {
            Some(v) => writeln!(out, ", verified ({v})")?,
            None => writeln!(out)?,
        }
    }
    if let Verdict::Untrusted(u) = &r.verdict {
        let what = if u.is_swap() {
            "BASELINE SWAPPED"
        } else {
            "BASELINE TAMPERED"
        };
        writeln!(out)?;
        writeln!(out, "{}: {u}", paint(color, "1;31", what))?;
        writeln!(
            out,
            "The baseline cannot be trusted, so nothing was compared. Treat the host as \
             possibly compromised: find out who changed the baseline before recording a new one \
             (`rempart integrity init --force`)."
        )?;
        return Ok(());
    }
    if r.policy_changed {
        writeln!(
            out,
            "note: the policy in force differs from the baseline's; this check used the \
             baseline's (run `rempart integrity update` to adopt the new one)"
        )?;
    }
    if !r.comparison.changes.is_empty() {
        writeln!(out)?;
    }
    for c in &r.comparison.changes {
        write_change(out, c, color)?;
    }
    if !r.issues.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{} ({}):",
            paint(color, "35", "warnings"),
            r.issues.len()
        )?;
        for i in r.issues.iter().take(200) {
            writeln!(out, "  {i}")?;
        }
        if r.issues.len() > 200 {
            writeln!(
                out,
                "  ... and {} more (see --format json)",
                r.issues.len() - 200
            )?;
        }
    }
    writeln!(out)?;
    let (a, d, c) = r.counts();
    let total = a + d + c;
    let head = if total == 0 {
        paint(color, "32", "no change")
    } else {
        paint(
            color,
            "1;31",
            &format!("{total} change{}", if total == 1 { "" } else { "s" }),
        )
    };
    write!(out, "{head}: {a} added, {d} removed, {c} changed")?;
    if r.comparison.unverified > 0 {
        write!(out, ", {} not verified", r.comparison.unverified)?;
    }
    writeln!(
        out,
        "; {} entries, {} hashed in {:.2} s",
        r.stats.entries,
        human_bytes(r.stats.bytes_hashed),
        r.stats.elapsed.as_secs_f64()
    )?;
    Ok(())
}

/// A path as JSON fields, merged into `obj`.
pub fn path_fields(obj: &mut Map<String, Value>, path: &[u8]) {
    match std::str::from_utf8(path) {
        Ok(s) => {
            obj.insert("path".into(), Value::from(s));
        }
        Err(_) => {
            obj.insert("path".into(), Value::from(hostpath::display(path)));
            obj.insert("path_hex".into(), Value::from(hostpath::to_hex(path)));
        }
    }
}

fn change_json(c: &Change) -> Value {
    let mut o = Map::new();
    path_fields(&mut o, &c.path);
    o.insert("change".into(), c.kind.name().into());
    o.insert("kind".into(), c.entry_kind.name().into());
    if !c.attrs.is_empty() {
        o.insert(
            "attrs".into(),
            c.attrs
                .iter()
                .map(|a| json!({"name": a.attr.name(), "old": a.old, "new": a.new}))
                .collect(),
        );
    }
    if let Some(s) = &c.summary {
        o.insert("summary".into(), s.as_str().into());
    }
    if !c.notes.is_empty() {
        o.insert("notes".into(), c.notes.clone().into());
    }
    Value::Object(o)
}

fn issue_json(i: &Issue) -> Value {
    let mut o = Map::new();
    path_fields(&mut o, &i.path);
    o.insert("kind".into(), i.kind.name().into());
    o.insert("message".into(), i.detail.as_str().into());
    o.insert("subtree".into(), i.subtree.into());
    Value::Object(o)
}

/// Render a check for machines. See docs/integrity.md for the schema.
pub fn to_json(r: &CheckReport) -> Value {
    let (a, d, c) = r.counts();
    let header = r.header.as_ref();
    let reason = match &r.verdict {
        Verdict::Untrusted(u) => Value::from(u.to_string()),
        _ => Value::Null,
    };
    json!({
        "version": 1,
        "root": r.root,
        "checked_at": r.checked_at.to_string(),
        "clean": r.is_clean(),
        "baseline": {
            "path": r.baseline_path,
            "state": r.baseline_state(),
            "reason": reason,
            "created": header.map(|h| h.created.to_string()),
            "hash": header.map(|h| h.algo.name()),
            "entries": header.map(|h| h.entries),
            "verified_by": r.verified_by,
        },
        "policy_changed": r.policy_changed,
        "summary": {
            "added": a,
            "removed": d,
            "changed": c,
            "unverified": r.comparison.unverified,
            "issues": r.issues.len(),
        },
        "changes": r.comparison.changes.iter().map(change_json).collect::<Vec<_>>(),
        "issues": r.issues.iter().map(issue_json).collect::<Vec<_>>(),
        "stats": {
            "entries": r.stats.entries,
            "directories": r.stats.directories,
            "files_hashed": r.stats.files_hashed,
            "bytes_hashed": r.stats.bytes_hashed,
            "seconds": r.stats.elapsed.as_secs_f64(),
        },
    })
}
