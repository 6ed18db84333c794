//! The proxy's only view of TUF: a small trait, so the trust logic can move behind it.
//!
//! [`crate::updater_verifier::UpdaterVerifier`] implements it over `tuf-client`'s
//! `Updater`, which holds the one implementation of the TUF §5 client workflow; the
//! proxy sees only signed entries and [`VerifyError`]s.

use std::fmt;

use tuf_core::index::CrateName;
use tuf_core::metadata::{check_length_and_hashes, Hashes, Length, TargetFile};

/// What signed metadata says a target file must be: its exact length and every hash its
/// signed entry lists, a SHA-256 among them.
#[derive(Clone, PartialEq, Eq)]
pub struct ExpectedFile {
    path: String,
    length: Length,
    hashes: Hashes,
    /// The listed SHA-256 (also in `hashes`): the file's entity tag.
    sha256: [u8; 32],
}

impl ExpectedFile {
    /// The signed entry `file` of target `path`; `None` when it lists no SHA-256, which a
    /// registry target must (the proxy's ETag is that hash).
    pub fn from_target(path: impl Into<String>, file: &TargetFile) -> Option<Self> {
        Some(Self {
            path: path.into(),
            length: file.length,
            hashes: file.hashes.clone(),
            sha256: file.sha256()?,
        })
    }

    /// The signed length in bytes.
    pub fn length(&self) -> u64 {
        self.length.get()
    }

    /// The signed SHA-256.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// Check `bytes` against the signed length and every listed hash; an algorithm that
    /// cannot be computed fails (TUF §5.7.3). The one check `tuf-client`'s
    /// `Updater::download_target` makes too: [`check_length_and_hashes`].
    pub fn check(&self, bytes: &[u8]) -> Result<(), tuf_core::Error> {
        check_length_and_hashes(&self.path, bytes, Some(self.length), Some(&self.hashes))
    }

    /// A strong HTTP entity tag for the file: its signed SHA-256, quoted. Equal tags mean
    /// equal signed content, so a conditional request can be answered without fetching.
    pub fn etag(&self) -> String {
        format!("\"{}\"", hex::encode(self.sha256))
    }
}

impl fmt::Debug for ExpectedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hashes: Vec<String> = self
            .hashes
            .iter()
            .map(|(algorithm, digest)| format!("{algorithm}: {}", hex::encode(digest.as_bytes())))
            .collect();
        write!(
            f,
            "ExpectedFile {{ path: {}, length: {}, hashes: {{{}}} }}",
            self.path,
            self.length.get(),
            hashes.join(", ")
        )
    }
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
    fn expected_file_checks_the_length_and_every_listed_hash() {
        let bytes = b"{\"name\":\"x\"}\n";
        let good = ExpectedFile::from_target("x", &TargetFile::from_bytes(bytes)).unwrap();
        good.check(bytes).unwrap();
        assert_eq!(good.length(), 13);
        assert!(matches!(
            good.check(b"short"),
            Err(tuf_core::Error::LengthMismatch {
                expected: 13,
                found: 5,
                ..
            })
        ));
        let other = b"{\"name\":\"y\"}\n";
        assert!(matches!(
            good.check(other),
            Err(tuf_core::Error::HashMismatch { algorithm, .. }) if algorithm == "sha256"
        ));
        assert_eq!(good.etag().len(), 66);

        // Every listed hash: a wrong SHA-512 beside the right SHA-256 fails, the right
        // one passes; an algorithm that cannot be computed fails.
        let mut file = TargetFile::from_bytes(bytes);
        file.hashes.insert(
            "sha512".into(),
            tuf_core::metadata::HexDigest::new(vec![0; 64]),
        );
        let wrong = ExpectedFile::from_target("x", &file).unwrap();
        assert!(matches!(
            wrong.check(bytes),
            Err(tuf_core::Error::HashMismatch { algorithm, .. }) if algorithm == "sha512"
        ));
        file.hashes.insert(
            "sha512".into(),
            tuf_core::metadata::HexDigest::new(tuf_core::hash::sha512(bytes).to_vec()),
        );
        ExpectedFile::from_target("x", &file)
            .unwrap()
            .check(bytes)
            .unwrap();
        file.hashes.insert(
            "md5".into(),
            tuf_core::metadata::HexDigest::new(vec![0; 16]),
        );
        let unknown = ExpectedFile::from_target("x", &file).unwrap();
        assert!(matches!(
            unknown.check(bytes),
            Err(tuf_core::Error::UnsupportedHash { algorithm, .. }) if algorithm == "md5"
        ));

        // No SHA-256: not a registry target.
        file.hashes.remove("sha256");
        assert!(ExpectedFile::from_target("x", &file).is_none());
    }
}
