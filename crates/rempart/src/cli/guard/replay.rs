//! `rempart guard replay`: log files through jails, offline, in log time. Prints the failures
//! found and the bans they would cause; never touches the firewall.

use super::test::clock_for;
use anyhow::{bail, Context};
use clap::ValueEnum;
use rempart_guard::config::{self, GuardConfig, JailConfig};
use rempart_guard::engine::{default_allow, Engine};
use rempart_guard::jail::Outcome;
use rempart_guard::replay::{replay, ReplayMatch};
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log files to replay, in order (`-` for standard input).
    #[arg(required = true)]
    pub logfiles: Vec<PathBuf>,

    /// Use the jails of this configuration file (all enabled jails read every log file, unless
    /// --jail picks one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The jail: with --config, one of its jails; without, a filter name (or filter file) to
    /// build a jail from --maxretry, --findtime and --bantime.
    #[arg(long, value_name = "NAME")]
    pub jail: Option<String>,

    /// Failures within --findtime that ban (without --config).
    #[arg(long, default_value_t = 5)]
    pub maxretry: u32,

    /// Counting window, like "10m" (without --config).
    #[arg(long, default_value = "10m", value_parser = config::parse_duration)]
    pub findtime: std::time::Duration,

    /// Ban length, like "1h" (without --config).
    #[arg(long, default_value = "1h", value_parser = config::parse_duration)]
    pub bantime: std::time::Duration,

    /// Filter mode (without --config).
    #[arg(long)]
    pub mode: Option<String>,

    /// For api-abuse: the path prefix (without --config).
    #[arg(long, value_name = "PREFIX")]
    pub path_prefix: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Print only the bans and the totals, not every failure.
    #[arg(long)]
    pub summary: bool,

    /// Treat lines as the journal's `HOST TAG[PID]: MESSAGE`.
    #[arg(long)]
    pub journal: bool,

    /// Time zone for log times without one [default: the system's].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

fn build_config(args: &Args) -> anyhow::Result<(GuardConfig, Option<String>)> {
    if let Some(path) = &args.config {
        let cfg = GuardConfig::load(path)?;
        if let Some(j) = &args.jail {
            if !cfg.jail.contains_key(j) {
                bail!("{}: no jail `{j}`", path.display());
            }
        }
        return Ok((cfg, args.jail.clone()));
    }
    let Some(filter) = &args.jail else {
        bail!("give --config FILE, or --jail NAME with --maxretry/--findtime/--bantime");
    };
    let name: String = filter
        .rsplit('/')
        .next()
        .unwrap_or(filter)
        .trim_end_matches(".conf")
        .chars()
        .map(|c| {
            if config::valid_name(&c.to_string()) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let text = format!(
        "[jail.\"{name}\"]\nfilter = {}\nlogpath = [\"-\"]\nmaxretry = {}\nfindtime = {}\nbantime = {}\n{}{}",
        toml_str(filter),
        args.maxretry,
        args.findtime.as_secs().max(1),
        args.bantime.as_secs().max(1),
        args.mode.as_ref().map(|m| format!("mode = {}\n", toml_str(m))).unwrap_or_default(),
        args.path_prefix
            .as_ref()
            .map(|p| format!("path_prefix = {}\n", toml_str(p)))
            .unwrap_or_default(),
    );
    let cfg = GuardConfig::parse(&text, std::path::Path::new("(command line)"))?;
    Ok((cfg, Some(name)))
}

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn outcome_text(o: &Outcome, j: &JailConfig) -> String {
    match o {
        Outcome::NotAnAddress => "not an address, not banned".into(),
        Outcome::Allowed => "allowed".into(),
        Outcome::AlreadyBanned => "already banned".into(),
        Outcome::Counted(n) => format!("{n}/{}", j.maxretry),
        Outcome::Ban(d) => format!("BAN {} until {}", d.target, d.until),
    }
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let (cfg, only) = build_config(&args)?;
    let clock = clock_for(args.tz.as_deref().or(cfg.global.timezone.as_deref()))?;
    let mut engine = Engine::from_config(&cfg, &default_allow(false))?;
    let targets: Vec<usize> = match &only {
        Some(n) => vec![engine
            .index(n)
            .with_context(|| format!("jail `{n}` is disabled"))?],
        None => (0..engine.jails.len())
            .filter(|i| !engine.jails[*i].watches_bans)
            .collect(),
    };
    let mut inputs: Vec<(String, Box<dyn io::Read>)> = Vec::new();
    for p in &args.logfiles {
        let r: Box<dyn io::Read> = if p.as_os_str() == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?)
        };
        inputs.push((p.display().to_string(), r));
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let json = args.format == Format::Json;
    let jail_cfgs: Vec<JailConfig> = engine.jails.iter().map(|j| j.config.clone()).collect();
    let names: Vec<String> = engine
        .jails
        .iter()
        .map(|j| j.jail.spec().name.to_string())
        .collect();
    let mut failures = Vec::new();
    let mut write_err: Option<io::Error> = None;
    let report = replay(
        &mut engine,
        &targets,
        inputs,
        &clock,
        args.journal,
        |m: &ReplayMatch| {
            if args.summary {
                return;
            }
            if json {
                failures.push(serde_json::json!({
                    "jail": m.jail, "source": m.source, "line": m.line,
                    "host": m.failure.host.to_string(),
                    "time": m.failure.time.map(|t| t.to_string()),
                    "rule": m.failure.rule,
                }));
            } else if write_err.is_none() {
                let jc = names
                    .iter()
                    .position(|n| *n == m.jail)
                    .map(|i| &jail_cfgs[i]);
                let t = m
                    .failure
                    .time
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "-".into());
                let o = jc.map(|j| outcome_text(&m.outcome, j)).unwrap_or_default();
                if let Err(e) = writeln!(
                    out,
                    "{}:{} {} {} {t} {} [{o}]",
                    m.source, m.line, m.jail, m.failure.host, m.failure.rule
                ) {
                    write_err = Some(e);
                }
            }
        },
    )?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    if json {
        let bans: Vec<_> = report
            .bans
            .iter()
            .map(|d| {
                serde_json::json!({
                    "jail": &*d.jail, "ip": d.target.to_string(), "at": d.at.to_string(),
                    "until": d.until.to_string(), "count": d.count,
                })
            })
            .collect();
        let mut v = serde_json::json!({
            "lines": report.lines, "matches": report.matches, "bans": bans,
        });
        if !args.summary {
            v["failures"] = serde_json::Value::Array(failures);
        }
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        writeln!(out, "\nBans:")?;
        for d in &report.bans {
            writeln!(
                out,
                "  {} {} at {} until {}{}",
                d.jail,
                d.target,
                d.at,
                d.until,
                if d.count > 1 {
                    format!(" (ban #{})", d.count)
                } else {
                    String::new()
                }
            )?;
        }
        writeln!(
            out,
            "\nLines: {}, failures: {}, bans: {}",
            report.lines,
            report.matches,
            report.bans.len()
        )?;
    }
    out.flush()?;
    Ok(0)
}
