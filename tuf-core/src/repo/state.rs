//! The published state an edit starts from, loaded and checked the way a client would.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::crypto::PublicKey;
use crate::error::Error;
use crate::hash;
use crate::limits::Limits;
use crate::metadata::{
    check_length_and_hashes, KeyId, MetaFile, Role, RoleType, Root, SignedMetadata, Snapshot,
    SuccinctRoles, Targets, Timestamp, Version,
};
use crate::verify::{self, Authority};

use super::{versioned_name, TIMESTAMP_FILE};

/// The current published metadata: root, top-level targets (with its bin layout), snapshot
/// and timestamp, each verified against the root. Made by [`StateLoader`] or returned by a
/// publish in [`super::Publication::state`].
#[derive(Debug, Clone)]
pub struct PublishedState {
    pub(crate) root: Root,
    pub(crate) targets: Targets,
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
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The top-level targets.
    pub fn targets(&self) -> &Targets {
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

    /// Parse and verify bin number `bin` from its bytes: signed by the bin keys of the
    /// targets delegation, of the version the snapshot names, and listing only paths that
    /// belong to it.
    pub fn verify_bin(&self, bin: u32, bytes: &[u8], limits: &Limits) -> Result<Targets, Error> {
        let name = self.bins.bin_name(bin);
        let expected = self.bin_version(bin)?;
        let meta = SignedMetadata::parse(bytes, RoleType::Targets, limits)?;
        let authority = Authority::new(&self.bin_keys, &self.bins.keyids, self.bins.threshold);
        let verified = verify::verify::<Targets>(&meta, &name, &authority, limits)?;
        if verified.version != expected {
            return Err(Error::RepoState {
                what: versioned_name(&name, expected),
                reason: format!("file holds version {}", verified.version),
            });
        }
        let bins = &self.bins;
        if let Some(stray) = verified
            .targets
            .keys()
            .find(|p| bins.bin_of(p.as_str()) != bin)
        {
            return Err(Error::RepoState {
                what: name,
                reason: format!(
                    "lists {stray}, which belongs to {}",
                    bins.role_for(stray.as_str())
                ),
            });
        }
        Ok(verified.into_inner())
    }

    pub(crate) fn from_parts(
        root: Root,
        targets: Targets,
        snapshot: Snapshot,
        snapshot_bytes: &[u8],
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
            snapshot_length: u64::try_from(snapshot_bytes.len()).unwrap_or(u64::MAX),
            snapshot_sha256: hash::sha256(snapshot_bytes),
            timestamp,
        })
    }
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

/// Loads a [`PublishedState`] from bytes, one file at a time, as a client would walk it:
/// root and `timestamp.json`, then the snapshot the timestamp names (checked against the
/// timestamp's length and hashes), then the targets the snapshot names. Each is verified
/// against the root; expiry is not checked (an expired repository must still be
/// refreshable).
#[derive(Debug)]
pub struct StateLoader {
    limits: Limits,
    root: Root,
    timestamp: Timestamp,
    snapshot: Option<(Snapshot, Vec<u8>)>,
}

impl StateLoader {
    /// Start from the newest root and `timestamp.json`.
    pub fn new(root: &[u8], timestamp: &[u8], limits: &Limits) -> Result<Self, Error> {
        let meta = SignedMetadata::parse(root, RoleType::Root, limits)?;
        let root = verify::verify_root_self_signed(&meta, limits)?.into_inner();
        let timestamp: Timestamp = verify_top(&root, timestamp, RoleType::Timestamp, limits)?;
        Ok(Self {
            limits: limits.clone(),
            root,
            timestamp,
            snapshot: None,
        })
    }

    /// The file name of `timestamp.json`.
    pub fn timestamp_file() -> &'static str {
        TIMESTAMP_FILE
    }

    /// The snapshot file the timestamp names.
    pub fn snapshot_file(&self) -> Result<String, Error> {
        Ok(versioned_name("snapshot", self.snapshot_entry()?.version))
    }

    /// Give the snapshot's bytes.
    pub fn add_snapshot(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let entry = self.snapshot_entry()?.clone();
        check_length_and_hashes("snapshot", bytes, entry.length, entry.hashes.as_ref())?;
        // The snapshot lists every bin: read it without `serde_json::Value` when it is in
        // the canonical form this crate writes; anything else, or any failure, takes the
        // general path (and gets its error).
        let snapshot: Snapshot =
            match verify::verify_snapshot_direct(&self.root, bytes, &self.limits) {
                Some(verified) => verified.into_inner(),
                None => verify_top(&self.root, bytes, RoleType::Snapshot, &self.limits)?,
            };
        if snapshot.version != entry.version {
            return Err(Error::RepoState {
                what: "snapshot".to_owned(),
                reason: format!(
                    "timestamp names version {}, file holds {}",
                    entry.version, snapshot.version
                ),
            });
        }
        self.snapshot = Some((snapshot, bytes.to_vec()));
        Ok(())
    }

    /// The top-level targets file the snapshot names.
    pub fn targets_file(&self) -> Result<String, Error> {
        Ok(versioned_name("targets", self.targets_version()?))
    }

    /// Give the targets' bytes and finish.
    pub fn finish(self, targets: &[u8]) -> Result<PublishedState, Error> {
        let expected = self.targets_version()?;
        let targets: Targets = verify_top(&self.root, targets, RoleType::Targets, &self.limits)?;
        if targets.version != expected {
            return Err(Error::RepoState {
                what: "targets".to_owned(),
                reason: format!(
                    "snapshot names version {expected}, file holds {}",
                    targets.version
                ),
            });
        }
        let (snapshot, snapshot_bytes) = self.snapshot.ok_or_else(no_snapshot)?;
        PublishedState::from_parts(
            self.root,
            targets,
            snapshot,
            &snapshot_bytes,
            self.timestamp,
        )
    }

    fn snapshot_entry(&self) -> Result<&MetaFile, Error> {
        self.timestamp
            .snapshot_meta()
            .ok_or_else(|| Error::RepoState {
                what: "timestamp".to_owned(),
                reason: "no snapshot.json entry".to_owned(),
            })
    }

    fn targets_version(&self) -> Result<Version, Error> {
        let (snapshot, _) = self.snapshot.as_ref().ok_or_else(no_snapshot)?;
        snapshot
            .role_meta("targets")
            .map(|m| m.version)
            .ok_or_else(|| Error::RepoState {
                what: "snapshot".to_owned(),
                reason: "no targets.json entry".to_owned(),
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
    root: &Root,
    bytes: &[u8],
    role: RoleType,
    limits: &Limits,
) -> Result<T, Error> {
    let meta = SignedMetadata::parse(bytes, role, limits)?;
    let authority = Authority::from_root(root, role).ok_or_else(|| Error::RepoState {
        what: "root".to_owned(),
        reason: format!("root has no {role} role"),
    })?;
    Ok(verify::verify::<T>(&meta, role.as_str(), &authority, limits)?.into_inner())
}
