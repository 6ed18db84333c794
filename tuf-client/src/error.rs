//! The error type of `tuf-client`.

use std::path::PathBuf;

use crate::fetch::FetchError;

/// What went wrong in an update or a download. [`ClientError::code`] gives a stable name,
/// the same as [`tuf_core::Error::code`] for verification failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Metadata or a target failed verification (see [`tuf_core::Error`]).
    #[error(transparent)]
    Core(#[from] tuf_core::Error),

    /// A file could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),

    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },

    /// The metadata directory holds no trusted root (`root.json`): the client was never
    /// initialised.
    #[error("no trusted root at {}", path.display())]
    NoTrustedRoot {
        /// Where the root was looked for.
        path: PathBuf,
    },

    /// No role trusted for the path lists the target (an authenticated "no such target").
    #[error("target {path:?} is not listed by any role trusted for it")]
    TargetNotFound {
        /// The target path asked for.
        path: String,
    },

    /// The updater works from the local store only ([`crate::Updater::load_local`]) and
    /// the store has no copy of a role it needs.
    #[error(
        "{role} metadata is not stored locally, and this updater does not fetch (local store only)"
    )]
    NotStored {
        /// The role.
        role: String,
    },

    /// A stored copy of a role is there but unusable: larger than the limits allow, not
    /// metadata of that role, or not verifying under the trusted root. For the stored
    /// timestamp and snapshot, the rollback baseline (TUF §5.4.3, §5.5.5), the update
    /// stops here instead of going on without it; deleting the file is the explicit way
    /// to go on without that baseline.
    #[error(
        "stored {role} metadata {} is present but unusable ({source}); it is not skipped \
         silently: delete the file to go on without it",
        path.display()
    )]
    UnusableStored {
        /// The role.
        role: String,
        /// The stored file.
        path: PathBuf,
        /// Why it is unusable (boxed: it is the rare case, and keeps every
        /// `Result<_, ClientError>` small).
        source: Box<tuf_core::Error>,
    },

    /// The updater was set up without something this call needs.
    #[error("configuration: {reason}")]
    Config {
        /// What is missing.
        reason: String,
    },
}

impl ClientError {
    /// A stable, kebab-case name of this error's kind.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Core(e) => e.code(),
            Self::Fetch(e) => e.code(),
            Self::Io { .. } => "io",
            Self::NoTrustedRoot { .. } => "no-trusted-root",
            Self::TargetNotFound { .. } => "target-not-found",
            Self::NotStored { .. } => "not-stored",
            Self::UnusableStored { .. } => "unusable-stored",
            Self::Config { .. } => "config",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
