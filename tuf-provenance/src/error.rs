//! Errors: the `.crate` could not be read, or the repository could not be reached.
//!
//! What provenance *finds* (a mismatch, an unreachable commit) is not an error: it is a
//! [`crate::Status`] of the [`crate::Report`].

/// The `.crate` could not be read as cargo writes it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveError {
    /// Not gzip, or a truncated stream.
    #[error("not a gzip stream: {0}")]
    Gzip(String),
    /// Not a tar archive.
    #[error("not a tar archive: {0}")]
    Tar(String),
    /// More unpacked bytes than allowed.
    #[error("unpacks to more than {limit} bytes")]
    TooLarge {
        /// [`crate::Limits::max_unpacked_bytes`].
        limit: u64,
    },
    /// More files than allowed.
    #[error("holds more than {limit} files")]
    TooManyFiles {
        /// [`crate::Limits::max_files`].
        limit: usize,
    },
    /// A path that is not valid UTF-8.
    #[error("path {0:?} is not UTF-8")]
    NonUtf8Path(String),
    /// A path with `..`, `.`, an empty segment, a backslash, or outside a top directory.
    #[error("path {path:?} is not a clean relative path under the package directory")]
    BadPath {
        /// The path as written in the archive.
        path: String,
    },
    /// A symlink, device or other entry cargo never writes.
    #[error("entry {path:?} is neither a file nor a directory")]
    UnsupportedEntry {
        /// The path as written in the archive.
        path: String,
    },
    /// Entries under two top directories.
    #[error("entries under two top directories, {first:?} and {other:?}")]
    SeveralTopDirectories {
        /// The first top directory.
        first: String,
        /// Another.
        other: String,
    },
    /// The same path twice.
    #[error("path {path:?} appears twice")]
    DuplicatePath {
        /// The path relative to the package root.
        path: String,
    },
    /// No entries at all.
    #[error("the archive is empty")]
    Empty,
    /// No `Cargo.toml` at the package root.
    #[error("no Cargo.toml at the package root")]
    NoManifest,
    /// A manifest that is not TOML.
    #[error("{file} is not valid TOML: {detail}")]
    BadManifest {
        /// `Cargo.toml`.
        file: &'static str,
        /// The parser's message.
        detail: String,
    },
    /// The top directory is not `{name}-{version}` of the manifest.
    #[error("the top directory is {prefix:?}, the manifest says {manifest:?}")]
    PrefixMismatch {
        /// The archive's top directory.
        prefix: String,
        /// `{name}-{version}` from `Cargo.toml`.
        manifest: String,
    },
}

/// A source repository could not be opened, cloned, fetched or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// A URL scheme other than `https://` or `file://` (plain `http://`, `git://` and
    /// `ssh://` are refused: the first two are unauthenticated, the last needs an SSH
    /// client outside this process).
    #[error("repository URL {url:?}: only https:// and file:// URLs are fetched")]
    UnsupportedUrl {
        /// The URL as given.
        url: String,
    },
    /// Opening a local repository failed.
    #[error("cannot open the repository at {path}: {detail}")]
    Open {
        /// Where.
        path: String,
        /// gix's message.
        detail: String,
    },
    /// Cloning or fetching failed.
    #[error("cannot fetch {url}: {detail}")]
    Fetch {
        /// From where.
        url: String,
        /// gix's message.
        detail: String,
    },
    /// The clone or fetch took longer than allowed and was interrupted.
    #[error("fetching {url} took longer than {seconds} s")]
    TimedOut {
        /// From where.
        url: String,
        /// [`crate::Limits::max_network_time`].
        seconds: u64,
    },
    /// Reading an object or reference failed.
    #[error("cannot read the repository: {0}")]
    Read(String),
    /// The tree under the package directory holds more entries than allowed.
    #[error("the tree at {path:?} holds more than {limit} entries")]
    TreeTooLarge {
        /// The directory.
        path: String,
        /// The cap that was reached.
        limit: usize,
    },
    /// The cache directory could not be written.
    #[error("cache directory {path}: {detail}")]
    Cache {
        /// Where.
        path: String,
        /// The I/O error.
        detail: String,
    },
}

/// Why a crate could not be checked at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `.crate` could not be read.
    #[error("the .crate file: {0}")]
    Archive(#[from] ArchiveError),
    /// The repository could not be read.
    #[error("the source repository: {0}")]
    Git(#[from] GitError),
}

/// `.cargo_vcs_info.json` is not as `cargo package` writes it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VcsInfoError {
    /// Not JSON of the expected shape.
    #[error("not the JSON cargo writes: {0}")]
    Json(String),
    /// No `git` member: the crate was not packaged from a git checkout.
    #[error("no `git` member (not a git checkout)")]
    NoGit,
    /// `git.sha1` is not a full commit id.
    #[error("sha1 {sha1:?} is not 40 hex digits")]
    BadSha1 {
        /// As written.
        sha1: String,
    },
    /// `path_in_vcs` is absolute, has `.`/`..` or empty segments.
    #[error("path_in_vcs {path_in_vcs:?} is not a clean relative path")]
    BadPathInVcs {
        /// As written.
        path_in_vcs: String,
    },
}
