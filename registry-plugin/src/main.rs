//! `cargo-tuf`: the cargo-side verifier (see docs/cargo-users.md).
#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};
use registry_plugin::cmd;

/// Verify every index file and .crate cargo downloads against a registry's TUF metadata.
#[derive(Debug, Parser)]
#[command(name = "cargo tuf", version, bin_name = "cargo tuf")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Pin a registry: name, sparse index URL, TUF metadata URL, trusted root.
    Init(cmd::init::Args),
    /// Serve a local verifying sparse registry until interrupted.
    Proxy(cmd::proxy::Args),
    /// Run cargo with the registry replaced by the verifying proxy.
    Run(cmd::run::Args),
    /// Check a Cargo.lock and cargo's cached .crate files against the signed index.
    Verify(cmd::verify::Args),
    /// Check that crates are what their source repositories hold (docs/provenance.md).
    Provenance(cmd::provenance::Args),
    /// Show a crate's signed release feed (or --all: the registry's recent updates).
    Feed(cmd::feed::Args),
}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `cargo tuf ...` runs `cargo-tuf tuf ...`.
    if args.get(1).is_some_and(|a| a == "tuf") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    if let Command::Run(run) = &cli.command {
        if let Some(problem) = run.usage_problem() {
            let mut command = Cli::command();
            command.build();
            let run_command = command.find_subcommand_mut("run");
            if let Some(run_command) = run_command {
                run_command
                    .error(clap::error::ErrorKind::ArgumentConflict, problem)
                    .exit();
            }
        }
    }
    let result = match &cli.command {
        Command::Init(args) => cmd::init::run(args).map(|()| 0),
        Command::Proxy(args) => cmd::proxy::run(args).map(|()| 0),
        Command::Run(args) => cmd::run::run(args),
        Command::Verify(args) => cmd::verify::run(args).map(|problems| i32::from(problems > 0)),
        Command::Provenance(args) => cmd::provenance::run(args).map(i32::from),
        Command::Feed(args) => cmd::feed::run(args).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            eprintln!("error: cargo-tuf: {error:#}");
            ExitCode::FAILURE
        }
    }
}
