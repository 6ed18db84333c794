//! The error type of the `tuf-repo` library.

use std::path::PathBuf;

/// What went wrong on the file side of publishing or verifying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `rename`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// Metadata was refused or could not be made.
    #[error("{what}: {source}")]
    Tuf {
        /// The file or role concerned.
        what: String,
        /// The `tuf-core` error.
        source: tuf_core::Error,
    },

    /// Another publish holds the repository lock.
    #[error("another publish or refresh holds the lock {path}")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },

    /// The repository has no root or targets to publish with (run `init` first), or
    /// lacks a file its metadata names.
    #[error("{path}: {reason}")]
    Missing {
        /// What is missing.
        path: PathBuf,
        /// Why it was needed.
        reason: String,
    },

    /// An index file is larger than a client would accept (`Limits::max_target_bytes`).
    #[error("index file {path} is {found} bytes, over the limit of {limit}")]
    TargetTooLarge {
        /// The index file.
        path: PathBuf,
        /// Its size.
        found: u64,
        /// The limit.
        limit: u64,
    },

    /// A target copy could not be made as a hard link to its index file.
    #[error("cannot link {copy} to {index}: {reason}")]
    CopyLink {
        /// The index file.
        index: PathBuf,
        /// The copy.
        copy: PathBuf,
        /// Why, and what to do.
        reason: String,
    },

    /// A path given as changed is not an index file path (`config.json` or a crate's
    /// sparse path).
    #[error("{path:?} is not an index file path: {reason}")]
    NotIndexPath {
        /// The path as given.
        path: String,
        /// Why not.
        reason: String,
    },

    /// Metadata is past its expiry (TUF §5.3.10, §5.4.5, §5.5.6, §5.6.6).
    #[error("{role} expired at {expires}")]
    Expired {
        /// The role.
        role: String,
        /// Its `expires`.
        expires: String,
    },

    /// A target is not where the metadata says: it is listed by a bin it does not hash
    /// to, or its file is missing.
    #[error("target {path}: {reason}")]
    Target {
        /// The target path.
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// A repository or index location could not be understood: an unknown scheme, no
    /// bucket, a query, credentials in the URL. Nothing was contacted.
    #[error("{given:?} is not a usable location: {reason}")]
    BadLocation {
        /// The location as given (`s3://bucket/prefix`, `gs://…`, `az://…`,
        /// `file:///…`, or a path).
        given: String,
        /// What is wrong with it, and the accepted forms.
        reason: String,
    },

    /// A request to object storage failed. The message names the store and key and says
    /// what to do; it never holds a credential.
    #[error(
        "{op} {}: {}{}",
        crate::store::describe_key(.url, .key.as_deref()),
        .kind.advice(.url),
        crate::store::describe_source(.source.as_deref())
    )]
    Store {
        /// The store as the operator gave it (`s3://bucket/prefix`, with the endpoint
        /// when one was set), without credentials.
        url: String,
        /// The key the request was for, relative to the store's prefix, when it was
        /// for one.
        key: Option<String>,
        /// The operation (`get`, `put`, `list`, `copy`, ...).
        op: &'static str,
        /// What kind of failure, for callers that react to it (and for the advice).
        kind: crate::store::StoreErrorKind,
        /// The object-store error, if the failure came from a request.
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },

    /// A publish to object storage lost the race to other publishers more times than
    /// [`crate::publish::PublishOptions::max_attempts`] allows. Nothing half-published
    /// is visible; publishing again later publishes the change.
    #[error("{url}: lost the race to other publishers {attempts} times in a row; nothing was published by this run, try again")]
    LostRace {
        /// The store published to.
        url: String,
        /// Attempts made.
        attempts: u32,
    },

    /// A feed could not be built: an index file's lines or a published feed could not
    /// be read for its items (docs/feeds.md).
    #[error("feed for {path}: {source}")]
    Feed {
        /// The index file or feed target concerned.
        path: String,
        /// What is wrong.
        #[source]
        source: tuf_core::feed::FeedError,
    },
    /// A failure injected by a test ([`crate::publish::PublishOptions::fail_after_writes`]).
    #[error("injected failure after {writes} file system steps")]
    Injected {
        /// Steps done before the failure.
        writes: usize,
    },
}

impl Error {
    /// A stable, kebab-case name of this error's kind; for `Tuf`, the core error's code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::Tuf { source, .. } => source.code(),
            Self::Locked { .. } => "locked",
            Self::Missing { .. } => "missing",
            Self::TargetTooLarge { .. } => "target-too-large",
            Self::CopyLink { .. } => "copy-link",
            Self::NotIndexPath { .. } => "not-index-path",
            Self::Expired { .. } => "expired",
            Self::Target { .. } => "target",
            Self::BadLocation { .. } => "bad-location",
            Self::Store { kind, .. } => kind.code(),
            Self::Feed { source, .. } => source.code(),
            Self::Injected { .. } => "injected",
            Self::LostRace { .. } => "lost-race",
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { op, path, source }
    }

    pub(crate) fn tuf(what: impl Into<String>) -> impl FnOnce(tuf_core::Error) -> Self {
        let what = what.into();
        move |source| Self::Tuf { what, source }
    }
}
