//! `tuf`: the operator and key-holder command for a Cargo registry's TUF repository.
//!
//! One module per subcommand under [`cmd`], each with its clap `Args` and a `run()`. This
//! binary owns files, keys, prompts, the clock and exit codes; `tuf-core` does the TUF work.
//!
//! Exit codes (see [`exit::Code`] and `docs/operator.md`): 0 ok, 1 failure, 2 usage,
//! 3 threshold not met, 4 expiring or expired, 5 key refused. A closed stdout (`| head -1`)
//! changes none of them: the output nobody reads is dropped (see `tuf_fs::stdout`).
#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]

mod cli;
mod cmd;
mod layout;
mod metadata_file;
mod review;
mod signers;
mod ui;

// Shared with the library (and so with the tests and the benchmark): one
// key-file format, one set of exit codes.
use tuf_cli::{duration, exit, files, keys};

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let ui = ui::Ui::new(cli.quiet, cli.verbose);
    match cli::run(cli.command, &ui) {
        Ok(code) => code.into(),
        Err(err) => {
            let code = exit::code_of(&err);
            ui.error(&err);
            code.into()
        }
    }
}
