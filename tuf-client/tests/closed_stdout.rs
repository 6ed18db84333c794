//! Issue #11 item 9: `tuf-conformance-client` with its stdout a pipe whose reader has
//! gone away must not panic. It prints on stdout only clap's `--help` and `--version`,
//! whose write errors it ignores; this keeps it so.

use std::process::Command;

use tuf_test_support::pipe::{assert_quiet_exit, output_with_closed_stdout};

#[test]
fn help_and_version_exit_0_when_stdout_is_closed() {
    for flag in ["--help", "--version"] {
        let out = output_with_closed_stdout(
            Command::new(env!("CARGO_BIN_EXE_tuf-conformance-client")).arg(flag),
        );
        assert_quiet_exit(&out, 0, &format!("tuf-conformance-client {flag}"));
    }
}
