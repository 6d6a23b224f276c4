//! The human report: grouped by family, each failure shown like a compiler diagnostic with the
//! offending configuration line, then a summary with the score and the level reached.

use super::{Finding, Report, TargetKind};
use crate::model::{Family, Severity, Status};
use annotate_snippets::{AnnotationKind, Group, Level as ALevel, Renderer, Snippet};
use anstyle::{AnsiColor, Style};
use std::io;

/// Options of the text renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Emit ANSI colours (the binary decides: a TTY without NO_COLOR).
    pub color: bool,
    /// Also list passing, skipped and not-applicable rules.
    pub verbose: bool,
}

struct Paint {
    on: bool,
}

impl Paint {
    fn style(&self, style: Style, text: &str) -> String {
        if self.on {
            format!("{}{}{}", style.render(), text, style.render_reset())
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.style(Style::new().bold(), text)
    }
    fn color(&self, c: AnsiColor, text: &str) -> String {
        self.style(Style::new().fg_color(Some(c.into())).bold(), text)
    }
    fn dim(&self, text: &str) -> String {
        self.style(Style::new().dimmed(), text)
    }
}

pub fn render_text(report: &Report, opts: TextOptions, out: &mut dyn io::Write) -> io::Result<()> {
    let p = Paint { on: opts.color };
    let renderer = if opts.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let live = match report.target.kind {
        TargetKind::Host if report.target.live => "live host",
        TargetKind::Host => "root tree",
        TargetKind::Url | TargetKind::Ports => "from this machine",
    };
    let host = report
        .target
        .hostname
        .as_deref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {} of {} [{live}]{host}, profile {}",
        p.bold("rempart"),
        report.target.kind.verb(),
        report.target.root,
        p.bold(report.profile.as_str())
    )?;

    let mut families: Vec<&str> = Family::ALL.iter().map(|f| f.as_str()).collect();
    for f in &report.findings {
        if !families.contains(&f.family.as_str()) {
            families.push(&f.family);
        }
    }
    for family in families {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.family == family)
            .collect();
        let shown: Vec<&&Finding> = group
            .iter()
            .filter(|f| opts.verbose || matches!(f.status, Status::Fail | Status::Error))
            .filter(|f| opts.verbose || f.applicable)
            .collect();
        let applicable = group.iter().filter(|f| f.applicable).count();
        if group.is_empty() || (applicable == 0 && !opts.verbose) {
            continue;
        }
        let fails = group
            .iter()
            .filter(|f| f.status == Status::Fail && f.applicable && f.required)
            .count();
        let later = group
            .iter()
            .filter(|f| f.status == Status::Fail && f.applicable && !f.required)
            .count();
        let passes = group.iter().filter(|f| f.status == Status::Pass).count();
        let title = Family::parse(family).map_or("Configuration", |f| f.title());
        writeln!(out)?;
        let mut counts = format!("{fails} failed, {passes} passed");
        if later > 0 {
            counts.push_str(&format!(", {later} for higher levels"));
        }
        writeln!(
            out,
            "{} {} {}",
            p.bold(&format!("── {title}")),
            p.dim(&format!("({family})")),
            if fails > 0 {
                p.color(AnsiColor::Red, &counts)
            } else {
                p.color(AnsiColor::Green, &counts)
            }
        )?;
        for f in shown {
            match f.status {
                // A rule the profile does not require yet: one line, not a diagnostic.
                Status::Fail if !f.required && !opts.verbose => writeln!(
                    out,
                    "  {} {} {}: {}",
                    p.color(AnsiColor::Yellow, &format!("from {}", f.level)),
                    f.id,
                    f.title,
                    p.dim(&f.message)
                )?,
                Status::Fail | Status::Error => {
                    writeln!(out, "{}", renderer.render(&diagnostic(f)))?;
                }
                Status::Pass => writeln!(
                    out,
                    "  {} {} {}",
                    p.color(AnsiColor::Green, "pass"),
                    f.id,
                    p.dim(&f.title)
                )?,
                Status::Skip => writeln!(
                    out,
                    "  {} {} {}",
                    p.dim(if f.applicable { "skip" } else { "n/a " }),
                    f.id,
                    p.dim(&f.message)
                )?,
            }
        }
    }

    let s = report.summary();
    writeln!(out)?;
    let mut by_sev = Vec::new();
    let required_fail = |f: &&Finding| f.applicable && f.required && f.status == Status::Fail;
    for sev in Severity::ALL.iter().rev() {
        let n = report
            .findings
            .iter()
            .filter(required_fail)
            .filter(|f| f.severity == *sev)
            .count();
        if n > 0 {
            by_sev.push(format!("{n} {sev}"));
        }
    }
    let fails = report.findings.iter().filter(required_fail).count();
    let later = s.fail - fails;
    let mut failed = if by_sev.is_empty() {
        format!("{fails} failed")
    } else {
        format!("{fails} failed ({})", by_sev.join(", "))
    };
    if later > 0 {
        failed.push_str(&format!(" + {later} required only at higher levels"));
    }
    writeln!(
        out,
        "{} {}, {} passed, {} skipped, {} errors, {} not applicable",
        p.bold("Summary:"),
        if fails > 0 {
            p.color(AnsiColor::Red, &failed)
        } else {
            failed
        },
        s.pass,
        s.skip,
        s.error,
        s.not_applicable
    )?;
    writeln!(
        out,
        "{} {}/{} against profile {} — level reached: {}",
        p.bold("Score:"),
        report.score.value,
        report.score.max,
        report.profile,
        p.bold(&report.score.level)
    )?;
    if let Some(next) = report.score.next_level {
        writeln!(
            out,
            "To reach {next} ({}): {}",
            next.describe(),
            report.score.missing_for_next.join(", ")
        )?;
    }
    writeln!(
        out,
        "{}",
        p.dim(&format!(
            "{} rules judged in {:.0} ms; `rempart explain ID` tells more about a rule",
            report.findings.len(),
            report.duration_ms
        ))
    )?;
    Ok(())
}

fn level_of(f: &Finding) -> ALevel<'static> {
    let base = if f.status == Status::Error {
        return ALevel::WARNING.with_name(Some("error"));
    } else {
        match f.severity {
            Severity::Critical | Severity::High => ALevel::ERROR,
            Severity::Medium | Severity::Low => ALevel::WARNING,
            Severity::Info => ALevel::NOTE,
        }
    };
    base.with_name(Some(f.severity.as_str()))
}

fn diagnostic(f: &Finding) -> Vec<Group<'_>> {
    let title = level_of(f)
        .primary_title(format!("{}: {}", f.title, f.message))
        .id(f.id.as_str());
    let mut group = Group::with_title(title);
    for ev in &f.evidence {
        let mut label = String::new();
        if let Some(k) = &ev.key {
            label.push_str(k);
        }
        if let Some(a) = &ev.actual {
            label.push_str(&format!(" is `{a}`"));
        }
        if let Some(e) = &ev.expected {
            label.push_str(&format!(", expected `{e}`"));
        }
        if let Some(n) = &ev.note {
            if !label.is_empty() {
                label.push_str("; ");
            }
            label.push_str(n);
        }
        match (&ev.path, ev.line, &ev.snippet) {
            (Some(path), Some(line), Some(text)) => {
                let text = text.trim_end_matches(['\n', '\r']);
                let start = text.len() - text.trim_start().len();
                let end = text.trim_end().len().max(start);
                group = group.element(
                    Snippet::source(text)
                        .line_start(line as usize)
                        .path(path.as_str())
                        .fold(false)
                        .annotation(AnnotationKind::Primary.span(start..end).label(label)),
                );
            }
            _ => {
                let place = ev.place();
                let sep = if place.is_empty() || label.is_empty() {
                    ""
                } else {
                    ": "
                };
                group = group.element(ALevel::NOTE.message(format!("{place}{sep}{label}")));
            }
        }
    }
    if f.status == Status::Fail {
        if !f.remediation.is_empty() {
            group = group.element(ALevel::HELP.message(f.remediation.as_str()));
        }
        if !f.verify.is_empty() {
            group = group.element(
                ALevel::NOTE
                    .with_name(Some("verify"))
                    .message(f.verify.as_str()),
            );
        }
    }
    vec![group]
}
