//! SARIF 2.1.0, so findings show up in code-scanning UIs. Our own serde structs: the subset of the
//! format we fill, no more.

use super::{Finding, Report, TargetKind};
use crate::model::{Severity, Status};
use serde::Serialize;
use std::io;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: ToolComponent<'a>,
    original_uri_base_ids: serde_json::Value,
    results: Vec<SarifResult<'a>>,
    invocations: Vec<Invocation>,
    properties: serde_json::Value,
}

#[derive(Serialize)]
struct ToolComponent<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: serde_json::Value,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    partial_fingerprints: serde_json::Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    /// Absent for absolute URIs (the URL a probe finding came from).
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    descriptor: Descriptor,
}

#[derive(Serialize)]
struct Descriptor {
    id: String,
}

fn sarif_level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "note",
    }
}

/// GitHub's "security-severity" scale (0.0-10.0).
fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

pub fn render_sarif(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    // One descriptor per distinct rule of the run, in report order.
    let mut rules: Vec<&Finding> = Vec::new();
    for f in &report.findings {
        if !rules.iter().any(|r| r.id == f.id) {
            rules.push(f);
        }
    }
    let descriptors = rules
        .iter()
        .map(|f| ReportingDescriptor {
            id: &f.id,
            name: &f.name,
            short_description: Text {
                text: f.title.clone(),
            },
            full_description: Text {
                text: f.title.clone(),
            },
            help: Help {
                text: format!("{}\nVerify: {}", f.remediation, f.verify),
                markdown: format!(
                    "{}\n\nVerify by hand: `{}`\n\n{}",
                    f.remediation,
                    f.verify,
                    f.references
                        .iter()
                        .map(|r| format!("- {r}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            },
            default_configuration: Configuration {
                level: sarif_level(f.severity),
            },
            properties: serde_json::json!({
                "tags": ["security", f.family],
                "security-severity": security_severity(f.severity),
                "precision": "high",
                "level": f.level,
            }),
        })
        .collect();

    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for f in &report.findings {
        let index = rules.iter().position(|r| r.id == f.id).unwrap_or(0);
        match f.status {
            Status::Fail if f.applicable => {
                let locations = f
                    .evidence
                    .iter()
                    .filter_map(|e| {
                        let artifact_location = match (&e.path, &e.url) {
                            (Some(path), _) => ArtifactLocation {
                                uri: path.trim_start_matches('/').to_string(),
                                uri_base_id: Some("ROOTPATH"),
                            },
                            (None, Some(url)) => ArtifactLocation {
                                uri: url.clone(),
                                uri_base_id: None,
                            },
                            (None, None) => return None,
                        };
                        Some(Location {
                            physical_location: PhysicalLocation {
                                artifact_location,
                                region: e.line.map(|l| Region {
                                    start_line: l,
                                    snippet: e.snippet.as_ref().map(|s| Text { text: s.clone() }),
                                }),
                            },
                        })
                    })
                    .collect();
                results.push(SarifResult {
                    rule_id: &f.id,
                    rule_index: index,
                    kind: "fail",
                    level: sarif_level(f.severity),
                    message: Text {
                        text: format!("{}: {}", f.title, f.message),
                    },
                    locations,
                    partial_fingerprints: serde_json::json!({
                        "rempartRule/v1": format!("{}:{}", f.id, report.target.hostname.as_deref().unwrap_or("")),
                    }),
                });
            }
            Status::Error => notifications.push(Notification {
                level: "error",
                message: Text {
                    text: f.message.clone(),
                },
                descriptor: Descriptor { id: f.id.clone() },
            }),
            _ => {}
        }
    }
    let root_uri = match report.target.kind {
        TargetKind::Host => format!("file://{}/", report.target.root.trim_end_matches('/')),
        // A probe reads no file of the target: its locations are absolute URLs.
        TargetKind::Url | TargetKind::Ports => "file:///".to_string(),
    };
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: ToolComponent {
                driver: Driver {
                    name: "rempart",
                    version: report.tool.version,
                    semantic_version: report.tool.version,
                    information_uri: "https://example.invalid/rempart",
                    rules: descriptors,
                },
            },
            original_uri_base_ids: serde_json::json!({ "ROOTPATH": { "uri": root_uri } }),
            results,
            invocations: vec![Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            properties: serde_json::json!({
                "profile": report.profile,
                "score": report.score.value,
                "level": report.score.level,
            }),
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}
