//! The proxy's only view of TUF: a small trait, so the trust logic can move behind it.
//!
//! [`crate::updater_verifier::UpdaterVerifier`] implements it over `tuf-client`'s
//! `Updater`, which holds the one implementation of the TUF §5 client workflow; the
//! proxy sees only signed entries and [`VerifyError`]s.

use std::fmt;

use tuf_core::index::CrateName;

/// What signed metadata says a target file must be: its exact length and SHA-256.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ExpectedFile {
    /// Length in bytes.
    pub length: u64,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

impl ExpectedFile {
    /// Check `bytes` against the signed length and hash (TUF §5.7.3).
    pub fn check(&self, bytes: &[u8]) -> Result<(), FileMismatch> {
        let found_length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if found_length != self.length {
            return Err(FileMismatch::Length {
                expected: self.length,
                found: found_length,
            });
        }
        let found = tuf_core::hash::sha256(bytes);
        if found != self.sha256 {
            return Err(FileMismatch::Sha256 {
                expected: hex::encode(self.sha256),
                found: hex::encode(found),
            });
        }
        Ok(())
    }

    /// A strong HTTP entity tag for the file: its signed SHA-256, quoted. Equal tags mean
    /// equal signed content, so a conditional request can be answered without fetching.
    pub fn etag(&self) -> String {
        format!("\"{}\"", hex::encode(self.sha256))
    }
}

impl fmt::Debug for ExpectedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ExpectedFile {{ length: {}, sha256: {} }}",
            self.length,
            hex::encode(self.sha256)
        )
    }
}

/// How received bytes differ from their signed entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileMismatch {
    /// The length differs.
    #[error("length is {found} bytes, signed metadata says {expected}")]
    Length {
        /// Signed length.
        expected: u64,
        /// Length received.
        found: u64,
    },
    /// The SHA-256 differs.
    #[error("sha256 is {found}, signed metadata says {expected}")]
    Sha256 {
        /// Signed digest, hex.
        expected: String,
        /// Digest of what was received, hex.
        found: String,
    },
}

/// Signed facts about a registry, as the proxy needs them.
///
/// Implementations are shared by every request the proxy serves concurrently, and may
/// block (they do network and disk I/O); the proxy calls them off its async threads.
pub trait Verifier: Send + Sync + fmt::Debug {
    /// Make sure the trusted metadata is current: re-check the timestamp role (and follow
    /// it to new snapshot / targets) if the last check is older than the verifier's
    /// refresh interval. Many calls within one interval cost one timestamp fetch.
    fn refresh_if_stale(&self) -> Result<(), VerifyError>;

    /// The signed entry of `crate_name`'s index file (target path: its sparse path).
    /// `Ok(None)` is an *authenticated* absence: the signed metadata has no such crate.
    fn index_entry(&self, crate_name: &CrateName) -> Result<Option<ExpectedFile>, VerifyError>;

    /// The signed entry of the registry's `config.json`, which must exist.
    fn config_entry(&self) -> Result<ExpectedFile, VerifyError>;
}

/// Why signed metadata could not be established.
///
/// Each message says which role or file, what was expected and what was found; see
/// [`VerifyError::advice`] for what a user can do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A metadata file could not be downloaded.
    #[error("could not fetch {what} from {url}: {reason}")]
    Fetch {
        /// The file (`timestamp.json`, `3.snapshot.json`, ...).
        what: String,
        /// Where from.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A metadata file failed a `tuf-core` check: signatures below threshold, schema,
    /// size, or its length / hash differs from what the referring role lists.
    #[error("{role} metadata is not valid: {source}")]
    Metadata {
        /// Role name.
        role: String,
        /// The check that failed.
        #[source]
        source: tuf_core::Error,
    },
    /// A role's version went backwards (TUF §5.4.3, §5.5.5: rollback attack).
    #[error("rollback: {role} version {found} is older than version {trusted} already trusted")]
    Rollback {
        /// Role name.
        role: String,
        /// Version trusted before.
        trusted: u64,
        /// Version offered now.
        found: u64,
    },
    /// A role's version is not the one the referring role names (TUF §5.5.4, §5.6.4).
    #[error("{role} is version {found}, but {referrer} says version {expected}")]
    VersionMismatch {
        /// Role name.
        role: String,
        /// Role that named the version.
        referrer: String,
        /// Version named.
        expected: u64,
        /// Version found.
        found: u64,
    },
    /// A role has expired (TUF §5.3.10, §5.4.4, §5.5.6, §5.6.5: freeze attack).
    #[error("{role} metadata version {version} expired at {expires}")]
    Expired {
        /// Role name.
        role: String,
        /// Its version.
        version: u64,
        /// Its `expires`.
        expires: String,
    },
    /// The metadata does not have the shape a registry needs (a role missing from the
    /// snapshot, no succinct bins, a target without a SHA-256, no `config.json`).
    #[error("{role}: {reason}")]
    Layout {
        /// Role concerned.
        role: String,
        /// What is missing.
        reason: String,
    },
    /// Offline use was asked for, but the cached metadata cannot be used.
    #[error("offline use not possible: {reason}")]
    Offline {
        /// Why not.
        reason: String,
    },
    /// Local state could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl VerifyError {
    /// A stable, kebab-case name of the error kind (logs, tests).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Fetch { .. } => "fetch",
            Self::Metadata { source, .. } => source.code(),
            Self::Rollback { .. } => "rollback",
            Self::VersionMismatch { .. } => "version-mismatch",
            Self::Expired { .. } => "expired",
            Self::Layout { .. } => "layout",
            Self::Offline { .. } => "offline",
            Self::Io { .. } => "io",
        }
    }

    /// What the user can do about it, in one sentence.
    pub fn advice(&self) -> &'static str {
        match self {
            Self::Fetch { .. } => {
                "check the network and the metadata URL pinned by `cargo tuf init`, then retry"
            }
            Self::Metadata { .. } | Self::VersionMismatch { .. } => {
                "the registry or a mirror served metadata that does not verify; do not bypass \
                 cargo-tuf; report it to the registry operators"
            }
            Self::Rollback { .. } => {
                "a server offered metadata older than what this machine already trusts (a \
                 rollback or a stale mirror); retry later or report it to the registry operators"
            }
            Self::Expired { .. } => {
                "the registry's signed metadata is out of date (a freeze attack or an operator \
                 who has not re-signed); retry later or report it to the registry operators"
            }
            Self::Layout { .. } => {
                "the registry's metadata is not laid out as cargo-tuf expects; report it to the \
                 registry operators"
            }
            Self::Offline { .. } => {
                "run once online (without --offline) to refresh the cached metadata"
            }
            Self::Io { .. } => "check permissions and free space under $CARGO_HOME/tuf",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_file_checks_length_then_hash() {
        let bytes = b"{\"name\":\"x\"}\n";
        let good = ExpectedFile {
            length: 13,
            sha256: tuf_core::hash::sha256(bytes),
        };
        good.check(bytes).unwrap();
        assert!(matches!(
            good.check(b"short"),
            Err(FileMismatch::Length {
                expected: 13,
                found: 5
            })
        ));
        let other = b"{\"name\":\"y\"}\n";
        assert!(matches!(
            good.check(other),
            Err(FileMismatch::Sha256 { .. })
        ));
        assert_eq!(good.etag().len(), 66);
    }
}
