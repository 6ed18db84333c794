//! The repository editor: from index file entries to the exact signed metadata files to
//! write (sans-IO).
//!
//! # Layout (design: "Metadata layout for a registry")
//!
//! * Targets are the sparse index files, named by their sparse path (`se/rd/serde`), plus
//!   `config.json`, each with its length and SHA-256.
//! * `targets` (offline) delegates every path through TAP 15 `succinct_roles` to
//!   `2^bit_length` hashed bins (`crates-bin-000` … `crates-bin-fff` by default), signed
//!   with the online bin key(s). Every bin exists, even when empty. With
//!   [`BinStyle::HashPrefixes`] the same bins are listed as classic delegated roles with
//!   `path_hash_prefixes`; the editor reads either form into one [`SuccinctRoles`] model
//!   ([`crate::metadata::Delegations::hashed_bins`]).
//!
//! [`SuccinctRoles`]: crate::metadata::SuccinctRoles
//! * `snapshot` lists `targets.json` and every bin by version; `timestamp` lists the
//!   snapshot with its version, length and SHA-256 (TUF §4.6 allows length and hashes; with
//!   them a client checks the snapshot bytes before parsing them, §5.5.2).
//! * Consistent snapshots: every file is `N.ROLE.json` except `timestamp.json`.
//!
//! # What this module does
//!
//! * [`full_publish`]: sign every bin from the complete list of targets (first publish, or
//!   a re-layout), then snapshot and timestamp.
//! * [`Edit`]: an incremental publish. Changes ([`Change`]) are grouped by bin; only the
//!   bins that really changed are re-signed (version + 1), then the snapshot, then the
//!   timestamp. The same type refreshes online roles that expire within a window.
//! * [`offline`]: create and sign root and targets from signers (tests, benchmarks and the
//!   first ceremony; real key holders sign them offline).
//! * [`StateLoader`]: read the published state (timestamp → snapshot → targets) that an
//!   edit starts from, checking the links between the files as a client would.
//! * [`VersionFloors`]: sign the snapshot or a bin above the next version, past names a
//!   concurrent or crashed publisher already took on create-only storage.
//!
//! Every output is a [`Publication`]: the files to write *in order* (bins, then snapshot,
//! then `timestamp.json` last, so a reader never sees metadata that names a file not yet
//! written), and the files the new state no longer names, which the caller keeps for a
//! grace period before pruning them.

mod edit;
mod full;
pub mod offline;
mod state;
mod versions;

#[cfg(test)]
mod rebin_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bin_style;
#[cfg(test)]
mod tests_floors;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

pub use crate::metadata::TIMESTAMP_FILE;
pub use edit::Edit;
pub use full::{full_publish, FullInput};
pub use state::{PublishedState, StateLoader};
pub use versions::VersionFloors;

use crate::crypto::Signer;
use crate::error::Error;
use crate::metadata::{
    sign_role, versioned_file_name, Expires, TargetFile, TargetPath, Targets, Version,
};
use crate::verify::Authority;

/// The default prefix of bin role names (`crates-bin-a3f`).
pub const DEFAULT_BIN_PREFIX: &str = "crates-bin";

/// The default `bit_length`: 4096 bins, ~50 crates a bin at crates.io's 200k crates, so a
/// bin file stays near 10 KB and the snapshot near 185 KB.
pub const DEFAULT_BIT_LENGTH: u8 = 12;

/// How a repository is laid out and how long each role's signatures last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// TAP 15 `bit_length` of the bins (used when creating targets; an existing
    /// repository's layout is read from its signed targets).
    pub bit_length: u8,
    /// TAP 15 `name_prefix` of the bins.
    pub name_prefix: String,
    /// How targets writes the bin delegation (used when creating targets; an existing
    /// repository's is read from its signed targets).
    pub bin_style: BinStyle,
    /// Expiry periods.
    pub expiry: Expiries,
}

/// How top-level targets delegates to the hashed bins. Both give every path the same bin
/// ([`crate::metadata::SuccinctRoles::bin_of`]), the same bin names and the same bin
/// files; only `targets.json` differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BinStyle {
    /// TAP 15 `succinct_roles`: one small object however many bins (this project's client,
    /// python-tuf).
    #[default]
    Succinct,
    /// Classic TUF §4.5 delegated `roles`, one per bin, with `path_hash_prefixes` (the
    /// PEP 458 layout), for clients without TAP 15 (tough, go-tuf v0.x). targets.json
    /// lists every bin, ~140 bytes each.
    HashPrefixes,
}

impl BinStyle {
    /// The name used in policy files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succinct => "succinct",
            Self::HashPrefixes => "hash-prefixes",
        }
    }
}

impl std::str::FromStr for BinStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "succinct" => Ok(Self::Succinct),
            "hash-prefixes" => Ok(Self::HashPrefixes),
            other => Err(format!(
                "unknown bin style {other:?}: use succinct or hash-prefixes"
            )),
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            bit_length: DEFAULT_BIT_LENGTH,
            name_prefix: DEFAULT_BIN_PREFIX.to_owned(),
            bin_style: BinStyle::Succinct,
            expiry: Expiries::default(),
        }
    }
}

/// How long after signing each role expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiries {
    /// Root: 365 days (offline; a yearly ceremony).
    pub root: TimeDelta,
    /// Top-level targets: 365 days (offline).
    pub targets: TimeDelta,
    /// Each hashed bin: 7 days (online; `refresh` keeps it fresh).
    pub bins: TimeDelta,
    /// Snapshot: 7 days.
    pub snapshot: TimeDelta,
    /// Timestamp: 1 day; bounds how long a freeze attack can go unnoticed (TUF §1.5.2).
    pub timestamp: TimeDelta,
}

impl Default for Expiries {
    fn default() -> Self {
        Self {
            root: TimeDelta::days(365),
            targets: TimeDelta::days(365),
            bins: TimeDelta::days(7),
            snapshot: TimeDelta::days(7),
            timestamp: TimeDelta::days(1),
        }
    }
}

/// One target: an index file (or `config.json`) with its length and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    /// Sparse path relative to the index root.
    pub path: TargetPath,
    /// Length in bytes.
    pub length: u64,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

impl TargetEntry {
    /// The entry as targets metadata writes it.
    pub fn target_file(&self) -> TargetFile {
        TargetFile::from_parts(self.length, self.sha256)
    }

    /// The entry a bin lists for `path`, if it has a SHA-256 (ours always do).
    pub fn from_target_file(path: &TargetPath, file: &TargetFile) -> Option<Self> {
        Some(Self {
            path: path.clone(),
            length: file.length.get(),
            sha256: file.sha256()?,
        })
    }
}

/// One change to the set of targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The file was added or its content changed (a publish, a yank, an unyank).
    Put(TargetEntry),
    /// The file is gone (a deleted crate): its target disappears, so a client gets an
    /// authenticated "no such crate".
    Remove(TargetPath),
}

impl Change {
    /// The path the change is about.
    pub fn path(&self) -> &TargetPath {
        match self {
            Self::Put(entry) => &entry.path,
            Self::Remove(path) => path,
        }
    }
}

/// The online keys. Each list must reach the threshold the root (snapshot, timestamp) or
/// the targets delegation (bins) gives the role; this is checked before anything is signed.
#[derive(Debug, Clone, Copy)]
pub struct OnlineSigners<'a> {
    /// Keys of the hashed bins.
    pub bins: &'a [&'a dyn Signer],
    /// Keys of the snapshot role.
    pub snapshot: &'a [&'a dyn Signer],
    /// Keys of the timestamp role.
    pub timestamp: &'a [&'a dyn Signer],
}

/// What a metadata file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// `N.root.json`.
    Root,
    /// `N.targets.json`.
    Targets,
    /// `N.<bin>.json`.
    Bin,
    /// `N.snapshot.json`.
    Snapshot,
    /// `timestamp.json`.
    Timestamp,
}

/// One metadata file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// File name relative to the metadata directory.
    pub name: String,
    /// What it is.
    pub kind: FileKind,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The result of a publish or refresh.
#[derive(Debug, Clone)]
pub struct Publication {
    /// Files to write, in this order: root, targets, bins, snapshot, and `timestamp.json`
    /// last. Writing them in order, each atomically, keeps every state a reader can see
    /// complete. Empty when nothing changed.
    pub files: Vec<OutputFile>,
    /// Metadata files the new state no longer names. A reader that fetched the old
    /// timestamp may still ask for them: keep them for a grace period, then delete them.
    pub superseded: Vec<String>,
    /// Target contents the new state no longer names (the old entry of a changed or
    /// removed target), for the caller's hash-named target copies. Only an [`Edit`] knows
    /// them; [`full_publish`] leaves this empty.
    pub superseded_targets: Vec<TargetEntry>,
    /// The published state once the files are written.
    pub state: PublishedState,
}

impl Publication {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Number of bins re-signed.
    pub fn bins_signed(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.kind == FileKind::Bin)
            .count()
    }
}

/// The consistent-snapshot file name of `version` of `role`: `N.ROLE.json` (TUF §5.5 with
/// consistent snapshots); [`versioned_file_name`] for a typed [`Version`].
pub fn versioned_name(role: &str, version: Version) -> String {
    versioned_file_name(version.get(), role)
}

/// The python-tuf style consistent-snapshot name of a target copy: `dir/HASH.basename`
/// (`se/rd/<sha256 hex>.serde`, `<sha256 hex>.config.json`).
pub fn target_copy_name(path: &TargetPath, sha256: &[u8; 32]) -> String {
    let digest = hex::encode(sha256);
    match path.as_str().rsplit_once('/') {
        Some((dir, base)) => format!("{dir}/{digest}.{base}"),
        None => format!("{digest}.{}", path.as_str()),
    }
}

pub(crate) fn expires_after(
    now: DateTime<Utc>,
    period: TimeDelta,
    role: &str,
) -> Result<Expires, Error> {
    now.checked_add_signed(period)
        .map(Expires::from_time)
        .ok_or_else(|| Error::Invalid {
            role: role.to_owned(),
            reason: format!("expiry {now} + {period} is out of range"),
        })
}

/// Sign one bin holding `targets`.
pub(crate) fn sign_bin(
    version: Version,
    expires: &Expires,
    targets: BTreeMap<TargetPath, TargetFile>,
    signers: &[&dyn Signer],
) -> Result<Vec<u8>, Error> {
    let mut bin = Targets::new(version, expires.clone());
    bin.targets = targets;
    sign_role(&bin, signers)
}

/// Refuse to sign with keys that cannot reach `authority`'s threshold: metadata signed so
/// would be published and then refused by every client.
pub(crate) fn check_signers(
    role: &str,
    authority: &Authority<'_>,
    signers: &[&dyn Signer],
) -> Result<(), Error> {
    let authorised = authority.keyids();
    let mut distinct = std::collections::BTreeSet::new();
    for signer in signers {
        if !authorised.contains(signer.key_id()) {
            return Err(Error::Invalid {
                role: role.to_owned(),
                reason: format!("key {} is not authorised to sign {role}", signer.key_id()),
            });
        }
        distinct.insert(signer.key_id());
    }
    let found = u64::try_from(distinct.len()).unwrap_or(u64::MAX);
    if found < authority.threshold().get() {
        return Err(Error::Invalid {
            role: role.to_owned(),
            reason: format!(
                "{found} signing key(s) given, threshold is {}",
                authority.threshold()
            ),
        });
    }
    Ok(())
}

/// Run `sign` over every bin job, on all cores with the `parallel` feature. Results come
/// back in job order.
pub(crate) fn map_jobs<J, F>(jobs: Vec<J>, sign: F) -> Result<Vec<OutputFile>, Error>
where
    J: Send,
    F: Fn(J) -> Result<OutputFile, Error> + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        jobs.into_par_iter().map(sign).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        jobs.into_iter().map(sign).collect()
    }
}
