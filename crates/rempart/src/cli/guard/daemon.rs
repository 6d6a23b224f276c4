//! `rempart guard run|status|ban|unban`: the daemon and the commands that talk to it.

use anyhow::{bail, Context};
use clap::ValueEnum;
use rempart_guard::config::{BackendKind, GuardConfig, DEFAULT_PATH};
use rempart_guard::control::{self, Request, Response};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Configuration file.
    #[arg(long, default_value = DEFAULT_PATH, value_name = "FILE")]
    pub config: PathBuf,

    /// Decide bans but only log them (the firewall is not touched).
    #[arg(long)]
    pub dry_run: bool,

    /// Log format [default: json when standard error is not a terminal].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// Configuration file (to find the daemon's socket).
    #[arg(long, default_value = DEFAULT_PATH, value_name = "FILE")]
    pub config: PathBuf,

    /// The daemon's control socket [default: the configuration's].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct BanArgs {
    /// Address or network (CIDR) to ban.
    pub target: String,

    /// The jail to account the ban to (its ban time and ports apply) [default: manual, all ports].
    #[arg(long)]
    pub jail: Option<String>,

    /// Ban length, like "2h" [default: the jail's bantime, or 1h].
    #[arg(long)]
    pub bantime: Option<String>,

    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Args)]
pub struct UnbanArgs {
    /// Address or network whose bans to lift (every jail's).
    pub target: String,

    #[command(flatten)]
    pub client: ClientArgs,
}

fn init_logs(format: Option<LogFormat>) {
    use std::io::IsTerminal;
    let tty = io::stderr().is_terminal();
    let format = format.unwrap_or(if tty {
        LogFormat::Text
    } else {
        LogFormat::Json
    });
    let filter = tracing_subscriber::EnvFilter::try_from_env("REMPART_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(tty)
        .with_writer(io::stderr);
    let _ = match format {
        LogFormat::Json => b.json().flatten_event(true).try_init(),
        LogFormat::Text => b.try_init(),
    };
}

pub fn run(args: RunArgs) -> anyhow::Result<u8> {
    init_logs(args.log_format);
    let mut cfg = GuardConfig::load(&args.config)?;
    if args.dry_run {
        cfg.global.backend = BackendKind::Log;
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    rempart_guard::daemon::run(cfg, &stop)?;
    Ok(0)
}

fn socket(c: &ClientArgs) -> anyhow::Result<PathBuf> {
    if let Some(s) = &c.socket {
        return Ok(s.clone());
    }
    if c.config.exists() {
        return Ok(GuardConfig::load(&c.config)?.global.socket);
    }
    if c.config != Path::new(DEFAULT_PATH) {
        bail!("{}: no such configuration file", c.config.display());
    }
    Ok(rempart_guard::config::Global::default().socket)
}

fn done(resp: Response) -> anyhow::Result<u8> {
    match resp {
        Response::Done { message } => {
            println!("{message}");
            Ok(0)
        }
        Response::Error { message } => bail!("{message}"),
        Response::Status { .. } => bail!("unexpected answer from the daemon"),
    }
}

pub fn ban(args: BanArgs) -> anyhow::Result<u8> {
    let s = socket(&args.client)?;
    done(control::request(
        &s,
        &Request::Ban {
            target: args.target,
            jail: args.jail,
            bantime: args.bantime,
        },
    )?)
}

pub fn unban(args: UnbanArgs) -> anyhow::Result<u8> {
    let s = socket(&args.client)?;
    done(control::request(
        &s,
        &Request::Unban {
            target: args.target,
        },
    )?)
}

pub fn status(args: StatusArgs) -> anyhow::Result<u8> {
    let s = socket(&args.client)?;
    let resp = control::request(&s, &Request::Status)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &resp)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(0);
    }
    let Response::Status {
        backend,
        jails,
        bans,
        files,
        journal,
    } = resp
    else {
        return done(resp);
    };
    writeln!(
        out,
        "backend: {backend}   followed files: {files}   journal: {}",
        if journal { "yes" } else { "no" }
    )?;
    writeln!(
        out,
        "\n{:<20} {:<16} {:>10} {:>9} {:>7} {:>7} {:>8}",
        "JAIL", "FILTER", "LINES", "MATCHES", "BANS", "ACTIVE", "TRACKED"
    )?;
    for j in &jails {
        writeln!(
            out,
            "{:<20} {:<16} {:>10} {:>9} {:>7} {:>7} {:>8}",
            j.name, j.filter, j.lines, j.matches, j.bans, j.active, j.tracked
        )?;
    }
    writeln!(out, "\nactive bans: {}", bans.len())?;
    for b in bans.iter().take(200) {
        writeln!(out, "  {:<16} {:<40} until {}", b.jail, b.target, b.until)?;
    }
    if bans.len() > 200 {
        writeln!(
            out,
            "  ... {} more (--format json lists all)",
            bans.len() - 200
        )?;
    }
    out.flush()?;
    Ok(0)
}
