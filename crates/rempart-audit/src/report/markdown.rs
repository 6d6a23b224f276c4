//! Markdown, for a ticket, a wiki page or a pull-request comment.

use super::Report;
use crate::model::Status;
use std::io;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render_markdown(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let s = report.summary();
    writeln!(
        out,
        "# rempart {} of `{}`\n",
        report.target.kind.verb(),
        report.target.root
    )?;
    if let Some(h) = &report.target.hostname {
        writeln!(out, "Host: `{h}`  ")?;
    }
    writeln!(
        out,
        "Profile: **{}** · Score: **{}/{}** · Level reached: **{}**\n",
        report.profile, report.score.value, report.score.max, report.score.level
    )?;
    writeln!(
        out,
        "{} failed, {} passed, {} skipped, {} errors, {} not applicable.\n",
        s.fail, s.pass, s.skip, s.error, s.not_applicable
    )?;
    if let Some(next) = report.score.next_level {
        writeln!(
            out,
            "To reach **{next}**: {}\n",
            report
                .score
                .missing_for_next
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(out, "| status | severity | rule | family | finding |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for f in report.findings.iter().filter(|f| f.applicable) {
        writeln!(
            out,
            "| {} | {} | `{}` | {} | {} |",
            f.status,
            f.severity,
            f.id,
            f.family,
            cell(&format!("{}: {}", f.title, f.message))
        )?;
    }
    let failing: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.applicable && matches!(f.status, Status::Fail | Status::Error))
        .collect();
    if !failing.is_empty() {
        writeln!(out, "\n## Details\n")?;
    }
    for f in failing {
        writeln!(out, "### `{}` {}\n", f.id, f.title)?;
        writeln!(out, "{} ({}, {})\n", f.message, f.severity, f.status)?;
        for e in &f.evidence {
            let place = match (&e.path, e.line) {
                (Some(p), Some(l)) => format!("`{p}:{l}`"),
                (Some(p), None) => format!("`{p}`"),
                _ => e
                    .url
                    .as_ref()
                    .map(|u| format!("<{u}>"))
                    .or_else(|| e.source.clone())
                    .unwrap_or_default(),
            };
            let mut line = format!("- {place}");
            if let Some(k) = &e.key {
                line.push_str(&format!(" `{k}`"));
            }
            if let Some(a) = &e.actual {
                line.push_str(&format!(" is `{a}`"));
            }
            if let Some(x) = &e.expected {
                line.push_str(&format!(", expected `{x}`"));
            }
            writeln!(out, "{line}")?;
        }
        if f.status == Status::Fail {
            writeln!(out, "\n**Fix:** {}\n", f.remediation)?;
            writeln!(out, "**Verify:** `{}`\n", f.verify)?;
        }
    }
    Ok(())
}
