//! `rempart guard test FILTER LOGFILE`: what `fail2ban-regex` is, faster. Also `--samples`.

use anyhow::{bail, Context};
use clap::ValueEnum;
use rempart_guard::filters::syslog;
use rempart_guard::filters::{self, Filter, FilterOptions, Input};
use rempart_guard::source::lines::read_ahead_with;
use rempart_guard::Clock;
use std::collections::HashSet;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Show {
    /// Every line, matched or not.
    All,
    /// Matched lines only.
    Matched,
    /// Lines that did not match only.
    Missed,
    /// Only the summary.
    None,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A built-in filter name (see `rempart guard filters`) or a fail2ban `filter.d/*.conf` file.
    pub filter: String,

    /// The log file to read (`-` for standard input). Not needed with `--samples`.
    pub logfile: Option<PathBuf>,

    /// Filter mode (sshd: normal, ddos, extra, aggressive...).
    #[arg(long)]
    pub mode: Option<String>,

    /// For api-abuse: the path prefix to count.
    #[arg(long, value_name = "PREFIX")]
    pub path_prefix: Option<String>,

    /// Which lines to print.
    #[arg(long, value_enum, default_value_t = Show::Matched)]
    pub show: Show,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Treat lines as the journal's `HOST TAG[PID]: MESSAGE` (their time is now).
    #[arg(long)]
    pub journal: bool,

    /// Time zone for log times without one [default: the system's].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,

    /// Run the built-in filter's own sample lines and check their expected outcomes.
    #[arg(long)]
    pub samples: bool,
}

pub fn list_filters() -> anyhow::Result<u8> {
    let mut out = io::stdout().lock();
    for b in filters::BUILTINS {
        let modes = if b.modes.is_empty() {
            String::new()
        } else {
            format!("  [modes: {}]", b.modes.join(", "))
        };
        writeln!(out, "{:<16} {}{modes}", b.name, b.about)?;
    }
    Ok(0)
}

pub(crate) fn clock_for(tz: Option<&str>) -> anyhow::Result<Clock> {
    match tz {
        None => Ok(Clock::system()),
        Some(z) => Clock::in_zone(z, jiff::Timestamp::now())
            .with_context(|| format!("unknown time zone `{z}`")),
    }
}

pub(crate) fn build_filter(spec: &str, opts: &FilterOptions) -> anyhow::Result<Box<dyn Filter>> {
    Ok(filters::build(spec, opts)?)
}

fn run_samples(name: &str) -> anyhow::Result<u8> {
    let Some(b) = filters::builtin(name) else {
        bail!("`{name}` is not a built-in filter: --samples needs one");
    };
    let mut out = io::stdout().lock();
    let mut bad = 0;
    let results = filters::run_samples(b);
    for r in &results {
        let mode = r
            .sample
            .mode
            .map(|m| format!(" [mode {m}]"))
            .unwrap_or_default();
        let status = if r.ok { "ok  " } else { "FAIL" };
        let outcome = match &r.got {
            Some((h, t)) => format!("match {h} {}", t.as_deref().unwrap_or("-")),
            None => "no match".to_string(),
        };
        writeln!(out, "{status} {outcome}{mode}\n     {}", r.sample.line)?;
        if !r.sample.about.is_empty() {
            writeln!(out, "     ({})", r.sample.about)?;
        }
        if let Some(p) = &r.problem {
            bad += 1;
            writeln!(out, "     problem: {p}")?;
        }
    }
    writeln!(out, "{} samples, {} failed", results.len(), bad)?;
    Ok(u8::from(bad > 0))
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.samples {
        return run_samples(&args.filter);
    }
    let Some(path) = &args.logfile else {
        bail!("give a LOGFILE (or --samples)");
    };
    let opts = FilterOptions {
        mode: args.mode.clone(),
        path_prefix: args.path_prefix.clone(),
    };
    let mut filter = build_filter(&args.filter, &opts)?;
    let clock = clock_for(args.tz.as_deref())?;
    let reader: Box<dyn io::Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?)
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let started = Instant::now();
    let (mut total, mut matched, mut truncated) = (0u64, 0u64, 0u64);
    // foldhash: seeded per process (no chosen-collision flood), and far cheaper than SipHash on
    // the few bytes of an address.
    let mut hosts: HashSet<rempart_guard::Host, foldhash::fast::RandomState> = HashSet::default();
    let json = args.format == Format::Json;
    let journal_time = args.journal.then(|| clock.now());
    if json {
        write!(
            out,
            "{{\"filter\":{},\"lines\":[",
            serde_json::to_string(&args.filter)?
        )?;
    }
    let mut first = true;
    let mut write_err: Option<io::Error> = None;
    // The reading thread splits each syslog envelope too, so matching starts at the message.
    let journal = journal_time.is_some();
    let prepare = move |line: &str| syslog::spans(line, journal);
    read_ahead_with(reader, prepare, |text, cut, spans| {
        total += 1;
        truncated += u64::from(cut);
        let got = filter.examine(&Input::new(text, journal_time).presplit(*spans), &clock);
        if let Some(f) = &got {
            matched += 1;
            if !hosts.contains(&f.host) {
                hosts.insert(f.host.clone());
            }
        }
        let show = matches!(
            (&got, args.show),
            (_, Show::All) | (Some(_), Show::Matched) | (None, Show::Missed)
        );
        if !show || write_err.is_some() {
            return;
        }
        let r = if json {
            let sep = if first { "" } else { "," };
            first = false;
            let v = match &got {
                Some(f) => {
                    serde_json::json!({"line": total, "match": true, "host": f.host.to_string(),
                    "time": f.time.map(|t| t.to_string()), "rule": f.rule})
                }
                None => serde_json::json!({"line": total, "match": false}),
            };
            write!(out, "{sep}{v}")
        } else {
            match &got {
                Some(f) => {
                    let t = f.time.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
                    writeln!(out, "{total:>8}  match  {:<39} {t:<30} {}", f.host, f.rule)
                }
                None => writeln!(out, "{total:>8}  -      {text}"),
            }
        };
        if let Err(e) = r {
            write_err = Some(e);
        }
    })
    .with_context(|| format!("reading {}", path.display()))?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    let secs = started.elapsed().as_secs_f64();
    if json {
        write!(
            out,
            "],\"summary\":{{\"lines\":{total},\"matched\":{matched},\"missed\":{},\"hosts\":{},\"truncated\":{truncated},\"seconds\":{secs:.3}}}}}",
            total - matched,
            hosts.len()
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "\nLines: {total}, matched: {matched}, missed: {}, distinct hosts: {}{}",
            total - matched,
            hosts.len(),
            if truncated > 0 {
                format!(", cut (too long): {truncated}")
            } else {
                String::new()
            }
        )?;
        let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
        writeln!(out, "Time: {secs:.3} s ({rate:.0} lines/s)")?;
    }
    out.flush()?;
    Ok(0)
}
