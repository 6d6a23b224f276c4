//! `rempart audit`: judge the live host or a root tree and report.

use anyhow::{bail, Context};
use clap::ValueEnum;
use rempart_audit::config::{AuditConfig, DEFAULT_PATH};
use rempart_audit::report::{
    render_junit, render_markdown, render_sarif, render_text, TextOptions,
};
use rempart_audit::{AuditOptions, Host, Level, Selector, Severity};
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audit this directory as if it were `/` (a mounted disk, an extracted image, a fixture).
    /// Live facts of the running machine are not used: rules that need them report `skip`.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Security level to judge against [default: the config file's, else sme].
    #[arg(long, value_parser = parse_level)]
    pub profile: Option<Level>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Run only these rules or families (comma-separated ids, names or families).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub only: Vec<String>,

    /// Do not run these rules or families.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub skip: Vec<String>,

    /// Ignore rules below this severity; failures at or above it make the exit status 1
    /// [default: the config file's, else low].
    #[arg(long, value_parser = parse_severity)]
    pub min_severity: Option<Severity>,

    /// Configuration file [default: /etc/rempart/rempart.toml on the audited host, if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also list passing, skipped and not-applicable rules (text format).
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// When to colour the text report.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

pub(crate) fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s).ok_or_else(|| format!("unknown profile `{s}` (dev, sme, enterprise, critical)"))
}

pub(crate) fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity `{s}` (info, low, medium, high, critical)"))
}

/// The host named by `--root`, or the live host.
pub(crate) fn open_host(root: Option<&PathBuf>) -> anyhow::Result<Host> {
    match root {
        Some(dir) => {
            Host::tree(dir).with_context(|| format!("cannot audit root tree {}", dir.display()))
        }
        None => Ok(Host::live()),
    }
}

/// The configuration: `--config FILE` from this machine, else the audited host's own file.
pub(crate) fn load_config(host: &Host, explicit: Option<&PathBuf>) -> anyhow::Result<AuditConfig> {
    if let Some(path) = explicit {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration {}", path.display()))?;
        return Ok(AuditConfig::parse(&path.display().to_string(), &text)?);
    }
    match host.read_text(DEFAULT_PATH) {
        Ok(Some(f)) => Ok(AuditConfig::parse(DEFAULT_PATH, &f.text)?),
        Ok(None) => Ok(AuditConfig::default()),
        Err(e) => Err(e).context("cannot read the configuration file"),
    }
}

fn selectors(list: &[String]) -> anyhow::Result<Vec<Selector>> {
    list.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Selector::parse(s).map_err(anyhow::Error::msg))
        .collect()
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let host = open_host(args.root.as_ref())?;
    let config = load_config(&host, args.config.as_ref())?;
    let opts = AuditOptions {
        profile: args.profile.or(config.profile).unwrap_or(Level::Sme),
        only: selectors(&args.only)?,
        skip: selectors(&args.skip)?,
        min_severity: args
            .min_severity
            .or(config.min_severity)
            .unwrap_or(Severity::Low),
    };
    if !opts.only.is_empty() && opts.only.iter().all(|s| opts.skip.contains(s)) {
        bail!("--skip removes every rule selected by --only");
    }
    let report = rempart_audit::run(&host, &config, &opts);

    emit(
        &report,
        args.format,
        args.output.as_ref(),
        args.verbose,
        args.color,
    )
}

/// Render a report in the chosen format to the output file or standard output; the exit status
/// is 1 when a required rule at or above the threshold fails.
pub(crate) fn emit(
    report: &rempart_audit::Report,
    format: Format,
    output: Option<&PathBuf>,
    verbose: bool,
    color: ColorWhen,
) -> anyhow::Result<u8> {
    let color = match color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            output.is_none()
                && anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never
        }
    };
    let mut buf: Vec<u8> = Vec::new();
    match format {
        Format::Text => render_text(report, TextOptions { color, verbose }, &mut buf)?,
        Format::Json => report.render_json(&mut buf)?,
        Format::Sarif => render_sarif(report, &mut buf)?,
        Format::Junit => render_junit(report, &mut buf)?,
        Format::Markdown => render_markdown(report, &mut buf)?,
    }
    match output {
        Some(path) => std::fs::write(path, &buf)
            .with_context(|| format!("cannot write report to {}", path.display()))?,
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
        }
    }
    Ok(u8::from(report.has_blocking_failures()))
}
