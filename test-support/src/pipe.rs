//! Run a binary with its stdout a pipe whose reader has gone away, as under
//! `tuf verify --json | head -1` once `head` has exited.

use std::process::{Child, Command, Output, Stdio};

/// Spawn `command` with stdin empty, stderr captured and stdout a pipe that has no reader
/// left: the child's first write to stdout fails with `EPIPE` (Rust programs ignore
/// SIGPIPE, so they see the error instead of being killed).
///
/// The pipe's only reader is a `true` that has exited before `command` starts, so no
/// write can land in the pipe's buffer first, however early the child writes.
pub fn spawn_with_closed_stdout(command: &mut Command) -> Child {
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let write_end = reader.stdin.take().unwrap();
    assert!(reader.wait().unwrap().success());
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// [`spawn_with_closed_stdout`], then wait: the exit status and stderr (stdout is empty).
pub fn output_with_closed_stdout(command: &mut Command) -> Output {
    spawn_with_closed_stdout(command)
        .wait_with_output()
        .unwrap()
}

/// Assert that a run with a closed stdout ended as a clean exit with `code`: no panic
/// (exit 101, "panicked" on stderr), no message about the pipe.
pub fn assert_quiet_exit(output: &Output, code: i32, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "{what} panicked on a closed stdout: {stderr}"
    );
    assert!(
        !stderr.contains("Broken pipe"),
        "{what} reported the closed stdout as an error: {stderr}"
    );
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what} with a closed stdout: {stderr}"
    );
}
