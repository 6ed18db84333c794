//! The published state an edit starts from, loaded and checked the way a client would.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::crypto::PublicKey;
use crate::error::Error;
use crate::hash;
use crate::limits::Limits;
use crate::metadata::{
    KeyId, MetaFile, Role, RoleType, Root, SignedMetadata, Snapshot, SuccinctRoles, Targets,
    Timestamp, Version,
};
use crate::trusted::{self, Mode, TrustedState};
use crate::verify::{self, Authority, Verified};

use super::{versioned_name, TIMESTAMP_FILE};

/// The current published metadata: root, top-level targets (with its bin layout), snapshot
/// and timestamp, each verified against the root. Made by [`StateLoader`] or returned by a
/// publish in [`super::Publication::state`].
///
/// Root and targets are signed offline and always verified ([`Verified`]); snapshot and
/// timestamp are verified when loaded, or were just signed by the publish that made this
/// state (so they are kept as plain values).
#[derive(Debug, Clone)]
pub struct PublishedState {
    pub(crate) root: Verified<Root>,
    pub(crate) targets: Verified<Targets>,
    pub(crate) bins: SuccinctRoles,
    pub(crate) bin_keys: BTreeMap<KeyId, PublicKey>,
    /// Shared: the snapshot lists every bin, and a state is cloned on every publish (the
    /// edit's new state, a publisher's kept state); only a new snapshot makes a new one.
    pub(crate) snapshot: Arc<Snapshot>,
    pub(crate) snapshot_length: u64,
    pub(crate) snapshot_sha256: [u8; 32],
    pub(crate) timestamp: Timestamp,
}

impl PublishedState {
    /// The root in force.
    pub fn root(&self) -> &Verified<Root> {
        &self.root
    }

    /// The top-level targets.
    pub fn targets(&self) -> &Verified<Targets> {
        &self.targets
    }

    /// The bin layout from the targets delegation (TAP 15 `succinct_roles`, or derived from
    /// classic `path_hash_prefixes` roles: both give the same bins).
    pub fn bins(&self) -> &SuccinctRoles {
        &self.bins
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The timestamp.
    pub fn timestamp(&self) -> &Timestamp {
        &self.timestamp
    }

    /// The version the snapshot gives bin number `bin`.
    pub fn bin_version(&self, bin: u32) -> Result<Version, Error> {
        let name = self.bins.bin_name(bin);
        self.snapshot
            .role_meta(&name)
            .map(|m| m.version)
            .ok_or_else(|| Error::RepoState {
                what: name,
                reason: "the snapshot does not list this bin".to_owned(),
            })
    }

    /// The file name of bin number `bin` in this state (`N.crates-bin-a3f.json`).
    pub fn bin_file(&self, bin: u32) -> Result<String, Error> {
        Ok(versioned_name(
            &self.bins.bin_name(bin),
            self.bin_version(bin)?,
        ))
    }

    /// The file name of this state's snapshot.
    pub fn snapshot_file(&self) -> String {
        versioned_name("snapshot", self.snapshot.version)
    }

    /// The file name of this state's top-level targets.
    pub fn targets_file(&self) -> String {
        versioned_name("targets", self.targets.version)
    }

    /// The file name of this state's root.
    pub fn root_file(&self) -> String {
        versioned_name("root", self.root.version)
    }

    /// Every metadata file this state names, besides `timestamp.json` and the roots
    /// (which are kept forever).
    pub fn named_files(&self) -> Vec<String> {
        let mut names = vec![self.snapshot_file(), self.targets_file()];
        names.extend(
            self.snapshot
                .meta
                .iter()
                .filter(|(key, _)| key.as_str() != "targets.json")
                .filter_map(|(key, meta)| {
                    let role = key.strip_suffix(".json")?;
                    Some(versioned_name(role, meta.version))
                }),
        );
        names
    }

    /// Parse and verify bin number `bin` from its bytes: as a client checks a delegated
    /// role ([`trusted::check_listed_role`]: listed by the snapshot, of its version, signed
    /// by the bin keys of the targets delegation), and listing only paths that belong to
    /// it ([`SuccinctRoles::misplaced_targets`]). Expiry is not checked: an expired bin is
    /// what a refresh re-signs.
    pub fn verify_bin(&self, bin: u32, bytes: &[u8], limits: &Limits) -> Result<Targets, Error> {
        let name = self.bins.bin_name(bin);
        let authority = Authority::new(&self.bin_keys, &self.bins.keyids, self.bins.threshold);
        let verified =
            trusted::check_listed_role(&self.snapshot, &name, &authority, bytes, limits)?;
        if let Some(misplaced) = self.bins.misplaced_targets(bin, &verified).next() {
            return Err(misplaced);
        }
        // The edit changes the bin and signs it again: no longer what was verified.
        Ok(verified.into_inner())
    }

    pub(crate) fn from_parts(
        root: Verified<Root>,
        targets: Verified<Targets>,
        snapshot: Snapshot,
        (snapshot_length, snapshot_sha256): (u64, [u8; 32]),
        timestamp: Timestamp,
    ) -> Result<Self, Error> {
        let delegations = targets.delegations.as_ref();
        let bins = delegations
            .ok_or(crate::metadata::NotHashedBins::NoDelegations)
            .and_then(|d| d.hashed_bins())
            .map_err(|e| Error::RepoState {
                what: "targets".to_owned(),
                reason: format!("targets does not delegate to hashed bins: {e}"),
            })?;
        let bin_keys = delegations.map(|d| d.keys.clone()).unwrap_or_default();
        if !root.consistent_snapshot() {
            return Err(Error::RepoState {
                what: "root".to_owned(),
                reason: "consistent_snapshot is off; this repository layout needs it on".to_owned(),
            });
        }
        Ok(Self {
            root,
            targets,
            bins,
            bin_keys,
            snapshot: Arc::new(snapshot),
            snapshot_length,
            snapshot_sha256,
            timestamp,
        })
    }
}

/// The length and SHA-256 of `bytes`: how the timestamp names a snapshot.
pub(crate) fn digest(bytes: &[u8]) -> (u64, [u8; 32]) {
    (
        u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        hash::sha256(bytes),
    )
}

pub(crate) fn snapshot_meta(version: Version, length: u64, sha256: [u8; 32]) -> MetaFile {
    let mut meta = MetaFile::new(version);
    meta.length = Some(crate::metadata::Length::new(length));
    meta.hashes = Some(BTreeMap::from([(
        "sha256".to_owned(),
        crate::metadata::HexDigest::new(sha256.to_vec()),
    )]));
    meta
}

/// Loads a [`PublishedState`] from bytes, one file at a time, as a client walks it: the
/// steps of [`TrustedState`] from the newest root, then `timestamp.json`, the snapshot the
/// timestamp names, the targets the snapshot names. Expiry is not judged (an expired
/// repository must still be refreshable): the state is in [`Mode::Diagnostic`], and what
/// it records is dropped.
#[derive(Debug)]
pub struct StateLoader {
    trusted: TrustedState,
    /// Length and SHA-256 of the snapshot given, once given.
    snapshot_digest: Option<(u64, [u8; 32])>,
}

/// The `now` the loader's steps are given: it judges no expiry (see [`StateLoader`]), so
/// the earliest time, at which nothing has expired and nothing is recorded.
const LOADER_NOW: chrono::DateTime<chrono::Utc> = chrono::DateTime::<chrono::Utc>::MIN_UTC;

impl StateLoader {
    /// Start from the newest root and `timestamp.json`.
    pub fn new(root: &[u8], timestamp: &[u8], limits: &Limits) -> Result<Self, Error> {
        let mut trusted = TrustedState::new_from_root_in_mode(
            root,
            LOADER_NOW,
            limits.clone(),
            Mode::Diagnostic,
        )?;
        // Nothing was loaded before: a timestamp accepted is always `Updated`.
        let _: trusted::TimestampUpdate = trusted.update_timestamp(timestamp, LOADER_NOW)?;
        Ok(Self {
            trusted,
            snapshot_digest: None,
        })
    }

    /// The file name of `timestamp.json`.
    pub fn timestamp_file() -> &'static str {
        TIMESTAMP_FILE
    }

    /// The snapshot file the timestamp names.
    pub fn snapshot_file(&self) -> Result<String, Error> {
        let entry = self
            .trusted
            .snapshot_meta()
            .ok_or_else(|| Error::MissingRole {
                role: "snapshot".to_owned(),
            })?;
        Ok(versioned_name("snapshot", entry.version))
    }

    /// Give the snapshot's bytes ([`TrustedState::update_snapshot`]).
    pub fn add_snapshot(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.trusted.update_snapshot(bytes, LOADER_NOW)?;
        self.snapshot_digest = Some(digest(bytes));
        Ok(())
    }

    /// The top-level targets file the snapshot names.
    pub fn targets_file(&self) -> Result<String, Error> {
        Ok(versioned_name("targets", self.targets_version()?))
    }

    /// Give the targets' bytes ([`TrustedState::update_targets`]) and finish.
    pub fn finish(mut self, targets: &[u8]) -> Result<PublishedState, Error> {
        let (snapshot_length, snapshot_sha256) = self.snapshot_digest.ok_or_else(no_snapshot)?;
        self.trusted.update_targets(targets, LOADER_NOW)?;
        let top = self.trusted.into_top_level();
        let (Some(timestamp), Some(snapshot), Some(targets)) =
            (top.timestamp, top.snapshot, top.targets)
        else {
            // INVARIANT: the steps above loaded all three or returned an error.
            return Err(no_snapshot());
        };
        PublishedState::from_parts(
            top.root,
            targets,
            // Kept plain in the state: a publish replaces them with what it signs.
            snapshot.into_inner(),
            (snapshot_length, snapshot_sha256),
            timestamp.into_inner(),
        )
    }

    fn targets_version(&self) -> Result<Version, Error> {
        let snapshot = self.trusted.snapshot().ok_or_else(no_snapshot)?;
        snapshot
            .role_meta("targets")
            .map(|m| m.version)
            .ok_or_else(|| Error::MissingRole {
                role: "targets".to_owned(),
            })
    }
}

fn no_snapshot() -> Error {
    Error::RepoState {
        what: "snapshot".to_owned(),
        reason: "the snapshot has not been given yet".to_owned(),
    }
}

/// Parse `bytes` as top-level role `role` and verify it against `root`.
pub(crate) fn verify_top<T: Role>(
    root: &Verified<Root>,
    bytes: &[u8],
    role: RoleType,
    limits: &Limits,
) -> Result<Verified<T>, Error> {
    let meta = SignedMetadata::parse(bytes, role, limits)?;
    let authority = Authority::from_root(root, role).ok_or_else(|| Error::RepoState {
        what: "root".to_owned(),
        reason: format!("root has no {role} role"),
    })?;
    verify::verify::<T>(&meta, role.as_str(), &authority, limits)
}
