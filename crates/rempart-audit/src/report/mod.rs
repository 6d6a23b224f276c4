//! The audit report (the contract of `--format json`, see `shared/schemas/audit-report.schema.json`)
//! and its renderers. Renderers write to any `io::Write`; they never decide the exit code.

mod junit;
mod markdown;
mod sarif;
mod text;

pub use junit::render_junit;
pub use markdown::render_markdown;
pub use sarif::render_sarif;
pub use text::{render_text, TextOptions};

use crate::model::{Evidence, Level, Severity, Status};
use crate::rule::{Outcome, Rule};
use serde::Serialize;
use std::io;

/// The whole result of one audit.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub target: Target,
    pub profile: Level,
    pub duration_ms: f64,
    pub score: Score,
    /// Findings below this severity were not judged.
    pub min_severity: Severity,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub fn current() -> Tool {
        Tool {
            name: "rempart",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The directory audited as `/`; for `rempart probe`, the URL or the host scanned.
    pub root: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    pub live: bool,
    /// What was judged: a host (`rempart audit`, not serialised), a URL or a host's ports
    /// (`rempart probe`).
    #[serde(skip_serializing_if = "TargetKind::is_host")]
    pub kind: TargetKind,
}

/// What a report is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A host's files and live facts (`rempart audit`).
    #[default]
    Host,
    /// A web site seen from outside (`rempart probe URL`).
    Url,
    /// A host's TCP ports seen from outside (`rempart probe --ports HOST`).
    Ports,
}

impl TargetKind {
    pub fn is_host(&self) -> bool {
        *self == TargetKind::Host
    }

    /// The command that judges this kind of target, for report titles.
    pub fn verb(self) -> &'static str {
        match self {
            TargetKind::Host => "audit",
            TargetKind::Url | TargetKind::Ports => "probe",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// 0-100, weighted by severity, over the required rules that apply and were judged.
    pub value: u32,
    pub max: u32,
    /// The highest level whose required rules all pass (`none` when even `dev` is not met).
    pub level: String,
    /// The level above the one reached, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_level: Option<Level>,
    /// Rule ids that stand between the level reached and the next one.
    pub missing_for_next: Vec<String>,
}

/// One rule's verdict, with its documentation, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub name: String,
    pub title: String,
    pub family: String,
    pub severity: Severity,
    pub status: Status,
    /// The lowest level that requires the rule.
    pub level: Level,
    /// The rule is required by the profile judged against.
    pub required: bool,
    /// False when the rule does not apply to this host; such findings never count.
    pub applicable: bool,
    pub message: String,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    pub verify: String,
    pub references: Vec<String>,
    /// The reason given in the configuration when the rule is ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
}

impl Finding {
    pub fn new(rule: &Rule, outcome: Outcome, profile: Level) -> Finding {
        Finding {
            id: rule.id.to_string(),
            name: rule.name.to_string(),
            title: rule.title.to_string(),
            family: rule.family.as_str().to_string(),
            severity: rule.severity,
            status: outcome.status,
            level: rule.level,
            required: rule.level <= profile,
            applicable: outcome.applicable,
            message: outcome.message,
            evidence: outcome.evidence,
            remediation: rule.doc.remediation.to_string(),
            verify: rule.doc.verify.to_string(),
            references: rule.doc.references.iter().map(|s| s.to_string()).collect(),
            ignored: None,
        }
    }

    /// A failure that decides the exit status: required by the profile and at or above the
    /// threshold. Info findings are advice and never fail a run.
    pub fn is_blocking(&self, min: Severity) -> bool {
        self.status == Status::Fail
            && self.required
            && self.severity >= min
            && self.severity > Severity::Info
    }
}

/// Counts of findings by status, over applicable findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub fail: usize,
    pub pass: usize,
    pub skip: usize,
    pub error: usize,
    pub not_applicable: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for f in &self.findings {
            if !f.applicable {
                s.not_applicable += 1;
                continue;
            }
            match f.status {
                Status::Fail => s.fail += 1,
                Status::Pass => s.pass += 1,
                Status::Skip => s.skip += 1,
                Status::Error => s.error += 1,
            }
        }
        s
    }

    /// True when a required rule at or above the threshold fails (exit status 1).
    pub fn has_blocking_failures(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.is_blocking(self.min_severity))
    }

    pub fn render_json(&self, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }
}

/// A rule's full documentation as Markdown: what `rempart explain ID` prints and what
/// `docs/rules/` holds.
pub fn explain(rule: &Rule) -> String {
    let mut s = format!("# {} — {}\n\n", rule.id, rule.title);
    s.push_str(&format!(
        "- name: `{}`\n- family: {}\n- severity: {}\n- required from level: {} ({})\n\n",
        rule.name,
        rule.family,
        rule.severity,
        rule.level,
        rule.level.describe()
    ));
    for (title, body) in [
        ("What it checks", rule.doc.what),
        ("Why it matters", rule.doc.why),
        ("Remediation", rule.doc.remediation),
    ] {
        s.push_str(&format!("## {title}\n\n{}\n\n", body.trim()));
    }
    s.push_str(&format!(
        "## Verify by hand\n\n```sh\n{}\n```\n",
        rule.doc.verify.trim()
    ));
    if !rule.doc.references.is_empty() {
        s.push_str("\n## References\n\n");
        for r in rule.doc.references {
            s.push_str(&format!("- {r}\n"));
        }
    }
    s
}
