//! Exit codes, and an error that carries one.
//!
//! Any error without a [`Coded`] in its chain exits with [`Code::Failure`].

use std::fmt;

/// The documented exit codes of `tuf` (also in `docs/operator.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 0: success; for `status`, every threshold met and nothing expiring.
    Ok = 0,
    /// 1: the command failed (I/O, bad metadata, refused input), or `verify` found at
    /// least one problem (it lists them all first).
    Failure = 1,
    /// 2: the command line was wrong (clap also exits with 2).
    Usage = 2,
    /// 3: a role's signatures do not meet its threshold (`status`, `root commit`).
    Threshold = 3,
    /// 4: a role expires within the warning window, or has expired (`status`).
    Expiring = 4,
    /// 5: a private key was refused: wrong passphrase, readable by others, not a key of
    /// the role, or unreadable.
    KeyRefused = 5,
    /// 6: `publish` published, but refused some changed index files (a verifier would
    /// refuse them, or they are symbolic links or not regular files): those keep the
    /// version signed before; the output names each and why.
    FilesRefused = 6,
}

impl From<Code> for std::process::ExitCode {
    fn from(code: Code) -> Self {
        // INVARIANT: every discriminant is in 0..=6.
        Self::from(code as u8)
    }
}

/// An error that decides the exit code.
#[derive(Debug)]
pub struct Coded {
    /// Exit code.
    pub code: Code,
    /// What went wrong, where, and what to do.
    pub message: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// An error with exit code `code`.
pub fn err(code: Code, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        message: message.into(),
    })
}

/// A usage error (exit code 2) found after parsing.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    err(Code::Usage, message)
}

/// The exit code `error` asks for: the first [`Coded`] in its chain, else failure.
pub fn code_of(error: &anyhow::Error) -> Code {
    error
        .chain()
        .find_map(|e| e.downcast_ref::<Coded>())
        .map_or(Code::Failure, |c| c.code)
}
