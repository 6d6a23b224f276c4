//! `rempart facts sshd`: the effective sshd configuration, printed like `sshd -T`.

use anyhow::{anyhow, bail};
use rempart_audit::config::AuditConfig;
use rempart_audit::rule::Facts;
use rempart_audit::rules::ssh::matching::Conn;
use rempart_audit::rules::ssh::{config_errors_outcome, SshdConfig};
use rempart_audit::Ctx;
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SshdArgs {
    /// Read the configuration of this directory as if it were `/`.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Judge Match blocks for this connection, like `sshd -T -C`:
    /// user=USER,host=HOST,addr=ADDRESS[,laddr=ADDRESS,lport=PORT].
    #[arg(short = 'C', long = "connection", value_name = "SPEC")]
    pub connection: Option<String>,

    /// Append `# FILE:LINE` (or `# default`) to each line: where the value comes from.
    #[arg(long)]
    pub origin: bool,
}

pub fn sshd(args: SshdArgs) -> anyhow::Result<u8> {
    let conn = match &args.connection {
        Some(spec) => Conn::parse(spec).map_err(|e| anyhow!("-C {spec}: {e}"))?,
        None => Conn::default(),
    };
    let host = crate::cli::audit::open_host(args.root.as_ref())?;
    let config = AuditConfig::default();
    let facts = Facts::default();
    let ctx = Ctx {
        host: &host,
        config: &config,
        facts: &facts,
    };
    let fact = ctx.fact::<SshdConfig>();
    let loaded = match &*fact {
        SshdConfig::NotInstalled => {
            bail!("no OpenSSH server here: openssh-server is not installed and there is no /etc/ssh/sshd_config to read")
        }
        SshdConfig::Unreadable(e) => bail!("cannot read the sshd configuration: {e}"),
        SshdConfig::Missing { package } => {
            bail!("openssh-server {package} is installed but /etc/ssh/sshd_config is missing")
        }
        SshdConfig::Loaded(l) => l,
    };
    if !loaded.parsed.errors.is_empty() {
        let all: Vec<String> = loaded.parsed.errors.iter().map(|e| e.to_string()).collect();
        bail!(
            "{}\n{}",
            config_errors_outcome(&loaded.parsed.errors).message,
            all.join("\n")
        );
    }
    let eff = loaded.for_conn(&conn, true).map_err(|e| anyhow!("{e}"))?;
    if let Some((kw, why, _)) = eff.assembly_errors.first() {
        bail!("{}: {why}", kw.name());
    }
    let conflicts = eff.listen_family_conflicts();
    if !conflicts.is_empty() {
        bail!(
            "ListenAddress {} does not fit AddressFamily {}",
            conflicts.join(", "),
            eff.text(rempart_audit::rules::ssh::keywords::Kw::AddressFamily)
                .unwrap_or("any")
        );
    }
    let mut err = io::stderr().lock();
    if loaded.version.assumed() {
        writeln!(err, "rempart: note: {}", loaded.version.describe())?;
    }
    for i in &loaded.parsed.ignored {
        writeln!(
            err,
            "rempart: note: {} line {}: {} {}",
            loaded.parsed.path(i.file),
            i.line,
            i.why,
            i.keyword
        )?;
    }
    let mut out = io::stdout().lock();
    for (kw, value) in eff.dump() {
        if args.origin {
            let from: Vec<String> = eff
                .origin(kw)
                .iter()
                .filter_map(|i| loaded.parsed.directives.get(*i))
                .map(|d| format!("{}:{}", loaded.parsed.path(d.file), d.line))
                .collect();
            let from = if from.is_empty() {
                "default".to_string()
            } else {
                from.join(", ")
            };
            writeln!(out, "{} {value}  # {from}", kw.name())?;
        } else {
            writeln!(out, "{} {value}", kw.name())?;
        }
    }
    out.flush()?;
    Ok(0)
}
