//! `tuf`: the operator and key-holder command.
#![forbid(unsafe_code)]

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "tuf", about = "TUF signing for Cargo registries")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Unstable repository commands for tests and benchmarks.
    #[command(subcommand, hide = true, name = "x-repo")]
    XRepo(tuf_cli::repo_cmd::RepoCmd),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::XRepo(cmd) => tuf_cli::repo_cmd::run(cmd),
    }
}
