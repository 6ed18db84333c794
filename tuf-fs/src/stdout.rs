//! Requested output on stdout (a key id, `--json`, report lines) for the binaries, so
//! that a reader that went away is not a crash.
//!
//! Rust programs ignore SIGPIPE, so a write to a pipe whose reader has exited
//! (`tuf verify --json | head -1`) fails with `EPIPE`, and `println!` turns that into a
//! panic (exit 101, "failed printing to stdout: Broken pipe"). [`write`] drops the
//! output nobody reads instead, and the command carries on to its own exit code:
//!
//! * not 141 (what a shell reports for a process killed by SIGPIPE): being killed needs
//!   SIGPIPE reset to its default, which needs `unsafe` (libc), and every crate here
//!   forbids it; a process that exits 141 on its own would be a lie to `set -o pipefail`;
//! * not 0 at once (ripgrep's choice, where 0 means "found a match", which is true by
//!   then): `tuf verify` that found problems must still exit 1 under `| head`, and a
//!   server (`cargo tuf proxy`, `demo-serve`) whose address nobody read must keep
//!   serving. The binaries write their output after their work, so finishing costs
//!   only the formatting.
//!
//! Any other write error (`> /dev/full`) is returned: output that was wanted and lost is
//! a failure. The binaries deny `clippy::print_stdout`, so `println!` cannot come back.

use std::fmt;
use std::io::{self, Write as _};

/// Write `args` to stdout and flush. A closed pipe is not an error (see the module).
pub fn write(args: fmt::Arguments<'_>) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(io::Error::new(
            error.kind(),
            format!("while writing to stdout: {error}"),
        )),
        Ok(()) => Ok(()),
    }
}

/// `print!` through [`write`]: an [`io::Result`] instead of a panic.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(::std::format_args!($($arg)*))
    };
}

/// `println!` through [`write`]: an [`io::Result`] instead of a panic.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdout::write(::std::format_args!("{}\n", ::std::format_args!($($arg)*)))
    };
}
