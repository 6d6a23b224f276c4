//! `rempart probe URL` and `rempart probe --ports HOST`: judge a site or a host's TCP ports from
//! where rempart runs, with the audit's findings, formats and exit statuses.

use super::audit::{emit, load_config, parse_level, parse_severity, ColorWhen, Format};
use anyhow::{bail, Context};
use rempart_audit::engine::AuditOptions;
use rempart_audit::report::TargetKind;
use rempart_audit::{Host, Level, Severity};
use rempart_probe::http::{Connector, Url};
use rempart_probe::ports::{self, PortSpec, ScanOptions};
use rempart_probe::site::SiteOptions;
use rempart_probe::tls::TlsOptions;
use rempart_probe::ProbeTarget;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["url", "ports"])))]
pub struct Args {
    /// The site to probe (`https://example.org/`, or `http://...` to follow its redirect).
    pub url: Option<String>,

    /// Scan the TCP ports of this ONE host (a name or an address; networks and ranges are
    /// refused). Only scan hosts you own.
    #[arg(long, value_name = "HOST", conflicts_with = "url")]
    pub ports: Option<String>,

    /// Ports to scan with --ports (`1-65535`, `22,80,443`, `1-1024,8080`).
    #[arg(
        long,
        value_name = "PORTS",
        default_value = "1-65535",
        requires = "ports"
    )]
    pub range: String,

    /// Ports allowed to be open [default: allowed_ports of the configuration, else 22,80,443].
    #[arg(long, value_delimiter = ',', value_name = "PORTS")]
    pub allow: Vec<u16>,

    /// How long to wait for one connection or response (`800ms`, `2s`) [default: 1s for the
    /// port scan, where the wait then adapts to the round-trip times seen; 10s for HTTP and TLS].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,

    /// Connects in flight at most during the port scan (bounded by the open-files limit).
    #[arg(long, default_value_t = 16384, requires = "ports")]
    pub concurrency: usize,

    /// Connect to this address instead of resolving the URL's host (like curl --resolve); the
    /// URL's name is still sent as SNI and Host, and checked against the certificate.
    #[arg(long, value_name = "ADDR", conflicts_with = "ports")]
    pub connect: Option<std::net::IpAddr>,

    /// Also trust the CA certificates in this PEM file (your own CA).
    #[arg(long, value_name = "FILE", conflicts_with = "ports")]
    pub ca_file: Option<PathBuf>,

    /// Where to check the plain-HTTP redirect [default: http://HOST/PATH].
    #[arg(long, value_name = "URL", conflicts_with = "ports")]
    pub http_url: Option<String>,

    /// Passes over the ports that did not answer, before they count as filtered.
    #[arg(long, default_value_t = 1, requires = "ports")]
    pub retries: u32,

    /// Security level to judge against [default: the config file's, else sme].
    #[arg(long, value_parser = parse_level)]
    pub profile: Option<Level>,

    /// Failures at or above this severity make the exit status 1 [default: low].
    #[arg(long, value_parser = parse_severity)]
    pub min_severity: Option<Severity>,

    /// Configuration file (allowed_ports, profile, ignores) [default: /etc/rempart/rempart.toml
    /// of this machine, if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also list passing and skipped checks (text format).
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// When to colour the text report.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let config = load_config(&Host::live(), args.config.as_ref())?;
    let opts = AuditOptions {
        profile: args.profile.or(config.profile).unwrap_or(Level::Sme),
        min_severity: args
            .min_severity
            .or(config.min_severity)
            .unwrap_or(Severity::Low),
        ..AuditOptions::default()
    };
    let allowed: Vec<u16> = if args.allow.is_empty() {
        config.allowed_ports.clone()
    } else {
        args.allow.clone()
    };
    let start = Instant::now();
    let report = if let Some(host) = &args.ports {
        eprintln!("{}", ports::OWNERSHIP_NOTICE);
        let target = ports::resolve(host)?;
        if !target.others.is_empty() {
            eprintln!(
                "rempart probe: {host} resolves to several addresses; scanning {} only",
                target.addr
            );
        }
        let spec = PortSpec::parse(&args.range)
            .map_err(anyhow::Error::msg)
            .context("--range")?;
        if args.concurrency == 0 {
            bail!("--concurrency must be at least 1");
        }
        let scan_opts = ScanOptions {
            ports: spec,
            timeout: args.timeout.unwrap_or(Duration::from_secs(1)),
            concurrency: args.concurrency,
            retries: args.retries,
        };
        let result = ports::scan(&target, &scan_opts)?;
        let outcome = ports::judge(&result, &allowed);
        rempart_probe::report(
            ProbeTarget {
                kind: TargetKind::Ports,
                shown: format!("{} ({})", host.trim(), target.addr),
                hostname: Some(host.trim().to_string()),
            },
            vec![(&ports::RULE, outcome)],
            &config,
            &opts,
            start.elapsed(),
        )
    } else {
        let given = args.url.as_deref().unwrap_or_default();
        let url = Url::parse(given)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("cannot probe `{given}`"))?;
        let http_url = match &args.http_url {
            Some(u) => Some(
                Url::parse(u)
                    .map_err(anyhow::Error::msg)
                    .context("--http-url")?,
            ),
            None => None,
        };
        let site_opts = SiteOptions {
            url: url.clone(),
            connector: Connector {
                connect_to: args.connect,
                timeout: args.timeout.unwrap_or(rempart_probe::tls::DEFAULT_TIMEOUT),
            },
            http_url,
            tls: TlsOptions {
                ca_file: args.ca_file.clone(),
            },
        };
        let (site, judged) = rempart_probe::probe_site(&site_opts)?;
        for n in &site.notes {
            eprintln!("rempart probe: {n}");
        }
        rempart_probe::report(
            ProbeTarget {
                kind: TargetKind::Url,
                shown: url.to_string(),
                hostname: Some(url.host.clone()),
            },
            judged,
            &config,
            &opts,
            start.elapsed(),
        )
    };
    emit(
        &report,
        args.format,
        args.output.as_ref(),
        args.verbose,
        args.color,
    )
}
