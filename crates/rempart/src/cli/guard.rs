//! `rempart guard ...`: the log-following ban daemon and its offline tools. Each subcommand lives
//! in `guard/<name>.rs`; this file only declares them and dispatches.

mod replay;
mod test;

use clap::Subcommand;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: GuardCommand,
}

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Run a filter over a log file, like fail2ban-regex: per line, matched or not, the host, the
    /// time; then a summary. `--samples` runs a built-in filter's own sample lines instead.
    Test(test::Args),
    /// Replay log files through jails offline, in log time: the failures and the bans they
    /// would cause. Never touches the firewall.
    Replay(replay::Args),
    /// List the built-in filters.
    Filters,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.command {
        GuardCommand::Test(a) => test::run(a),
        GuardCommand::Replay(a) => replay::run(a),
        GuardCommand::Filters => test::list_filters(),
    }
}
