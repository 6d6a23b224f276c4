//! Command-line definitions: one file per subcommand, each owning its clap `Args` and `run()`.

mod audit;
mod facts;
mod guard;
mod harden;
mod integrity;
mod probe;
mod rules;

use clap::{Parser, Subcommand};

/// Host security for people who run their own servers.
#[derive(Debug, Parser)]
#[command(name = "rempart", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge this host (or a root tree) against the hardening rules.
    Audit(audit::Args),
    /// List the rule catalogue.
    Rules(rules::ListArgs),
    /// Print a rule's full documentation.
    Explain(rules::ExplainArgs),
    /// Print the facts the audit judged (for example the effective sshd configuration).
    Facts(facts::Args),
    /// Plan, apply, confirm and roll back the fixes of failing rules.
    Harden(harden::Args),
    /// File integrity: record a baseline, check the files against it, accept changes.
    Integrity(integrity::Args),
    /// Follow logs and ban abusive addresses through nftables; test filters and replay logs.
    Guard(guard::Args),
    /// Judge a site (headers, exposed endpoints, TLS) or one host's TCP ports from outside.
    Probe(probe::Args),
}

/// Run a command; the returned code is the process exit status.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Audit(a) => audit::run(a),
        Command::Rules(a) => rules::list(a),
        Command::Explain(a) => rules::explain(a),
        Command::Facts(a) => facts::run(a),
        Command::Harden(a) => harden::run(a),
        Command::Integrity(a) => integrity::run(a),
        Command::Guard(a) => guard::run(a),
        Command::Probe(a) => probe::run(a),
    }
}
