//! `rempart facts ...`: print what the audit judged, so an admin can see why a rule fired.

use clap::Subcommand;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, Subcommand)]
pub enum What {}

pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.what {}
}
