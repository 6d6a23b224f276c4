//! `rempart facts ...`: print what the audit judged, so an admin can see why a rule fired.

mod services;
mod sshd;

use clap::Subcommand;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// The effective sshd configuration the audit judged, in the form of `sshd -T`.
    Sshd(sshd::SshdArgs),
    /// The applications discovered: units, accounts, bind addresses, app directories, config files.
    Services(services::ServicesArgs),
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.what {
        What::Sshd(a) => sshd::sshd(a),
        What::Services(a) => services::services(a),
    }
}
