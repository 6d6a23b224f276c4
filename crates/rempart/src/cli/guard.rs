//! `rempart guard ...`: the log-following ban daemon and its offline tools. Each subcommand lives
//! in `guard/<name>.rs`; this file only declares them and dispatches.

mod daemon;
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
    /// Run the daemon: follow the configured logs and journal, ban through nftables.
    Run(daemon::RunArgs),
    /// Show jails, counters and active bans of the running daemon.
    Status(daemon::StatusArgs),
    /// Ban an address or network now.
    Ban(daemon::BanArgs),
    /// Lift the bans of an address or network.
    Unban(daemon::UnbanArgs),
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
        GuardCommand::Run(a) => daemon::run(a),
        GuardCommand::Status(a) => daemon::status(a),
        GuardCommand::Ban(a) => daemon::ban(a),
        GuardCommand::Unban(a) => daemon::unban(a),
        GuardCommand::Test(a) => test::run(a),
        GuardCommand::Replay(a) => replay::run(a),
        GuardCommand::Filters => test::list_filters(),
    }
}
