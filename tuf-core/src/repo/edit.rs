//! Incremental publish and refresh: re-sign only the bins that changed (or expire soon),
//! then the snapshot, then the timestamp.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::limits::Limits;
use crate::metadata::{sign_role, RoleType, Snapshot, TargetPath, Targets, Timestamp};
use crate::verify::Authority;

use super::state::snapshot_meta;
use super::{
    check_signers, expires_after, map_jobs, sign_bin, versioned_name, Change, Expiries, FileKind,
    OnlineSigners, OutputFile, Publication, PublishedState, TargetEntry, VersionFloors,
    TIMESTAMP_FILE,
};

/// Refuse online signers that cannot sign the bins (under the published targets), the
/// snapshot or the timestamp (under the published root) of `state`.
fn check_online_signers(state: &PublishedState, signers: &OnlineSigners<'_>) -> Result<(), Error> {
    check_signers(
        "bins",
        &Authority::new(&state.bin_keys, &state.bins.keyids, state.bins.threshold),
        signers.bins,
    )?;
    for (role, keys) in [
        (RoleType::Timestamp, signers.timestamp),
        (RoleType::Snapshot, signers.snapshot),
    ] {
        let authority =
            Authority::from_root(&state.root, role).ok_or_else(|| Error::RepoState {
                what: "root".to_owned(),
                reason: format!("root has no {role} role"),
            })?;
        check_signers(role.as_str(), &authority, keys)?;
    }
    Ok(())
}

/// An incremental edit of a published repository.
///
/// 1. [`Edit::apply`] each change (later changes to a path win);
/// 2. load every bin [`Edit::bins_to_load`] names with [`Edit::load_bin`] (its file is
///    [`PublishedState::bin_file`]); for a refresh, load every bin;
/// 3. [`Edit::finish`] refuses online keys that may not sign the bins, snapshot or
///    timestamp of the published state (even when nothing is due), then signs what
///    changed: each bin whose targets really differ (a change that leaves a file's length
///    and hash as they were re-signs nothing), or that expires by `refresh_before`; then the snapshot if a bin was signed or it expires by then;
///    then the timestamp likewise. Versions are the old ones plus one, or the floor
///    [`Edit::set_floors`] gives a role when that is higher.
///
/// The work is proportional to the bins touched and the number of bins (the snapshot
/// lists each), never to the number of targets in untouched bins.
#[derive(Debug)]
pub struct Edit<'s> {
    state: &'s PublishedState,
    limits: Limits,
    /// bin → path → new entry (`None`: removed).
    changes: BTreeMap<u32, BTreeMap<TargetPath, Option<TargetEntry>>>,
    loaded: BTreeMap<u32, Targets>,
    floors: VersionFloors,
}

impl<'s> Edit<'s> {
    /// Start an edit of `state`.
    pub fn new(state: &'s PublishedState, limits: &Limits) -> Self {
        Self {
            state,
            limits: limits.clone(),
            changes: BTreeMap::new(),
            loaded: BTreeMap::new(),
            floors: VersionFloors::new(),
        }
    }

    /// Sign the snapshot and each bin at no less than its floor in `floors` (see
    /// [`VersionFloors`]: a publisher on create-only storage skips versions another
    /// publisher's attempt already created).
    pub fn set_floors(&mut self, floors: &VersionFloors) {
        self.floors = floors.clone();
    }

    /// Record a change.
    pub fn apply(&mut self, change: Change) {
        let bin = self.state.bins.bin_of(change.path().as_str());
        let (path, entry) = match change {
            Change::Put(entry) => (entry.path.clone(), Some(entry)),
            Change::Remove(path) => (path, None),
        };
        self.changes.entry(bin).or_default().insert(path, entry);
    }

    /// Bins that have changes and are not loaded yet.
    pub fn bins_to_load(&self) -> Vec<u32> {
        self.changes
            .keys()
            .filter(|bin| !self.loaded.contains_key(bin))
            .copied()
            .collect()
    }

    /// Every bin number of the layout (what a refresh loads).
    pub fn all_bins(&self) -> impl Iterator<Item = u32> {
        let count = self.state.bins.bin_count();
        (0..count).filter_map(|b| u32::try_from(b).ok())
    }

    /// Give the current bytes of bin number `bin`; they are verified against the targets
    /// delegation and the snapshot's version ([`PublishedState::verify_bin`]). Returns
    /// the bin's expiry.
    pub fn load_bin(&mut self, bin: u32, bytes: &[u8]) -> Result<crate::metadata::Expires, Error> {
        let targets = self.state.verify_bin(bin, bytes, &self.limits)?;
        let expires = targets.expires.clone();
        self.loaded.insert(bin, targets);
        Ok(expires)
    }

    /// Sign what changed (see [`Edit`]). With `refresh_before`, also re-sign every loaded
    /// bin, the snapshot and the timestamp that expire at or before that time.
    pub fn finish(
        mut self,
        expiry: &Expiries,
        signers: &OnlineSigners<'_>,
        now: DateTime<Utc>,
        refresh_before: Option<DateTime<Utc>>,
    ) -> Result<Publication, Error> {
        let state = self.state;
        // Every online key is checked against the published state, whatever is due: a
        // publish that happens to sign nothing must still refuse a key that may not sign,
        // or a misconfigured publisher passes its first runs and fails only at the first
        // real change (TUF §5.4.2, §5.5.3, §5.6.3: clients accept only these keys).
        check_online_signers(state, signers)?;
        let expiring = |expires: &crate::metadata::Expires| {
            refresh_before.is_some_and(|t| expires.time() <= t)
        };
        let mut bins_touched: Vec<u32> = self.changes.keys().copied().collect();
        bins_touched.extend(self.loaded.keys().filter(|b| !self.changes.contains_key(b)));
        bins_touched.sort_unstable();

        let mut jobs = Vec::new();
        let mut superseded = Vec::new();
        let mut superseded_targets = Vec::new();
        for bin in bins_touched {
            let name = state.bins.bin_name(bin);
            let old = self.loaded.remove(&bin).ok_or_else(|| Error::RepoState {
                what: name.clone(),
                reason: "the edit changes this bin but its file was not loaded".to_owned(),
            })?;
            let mut new_targets = old.targets.clone();
            for (path, entry) in self.changes.remove(&bin).unwrap_or_default() {
                let previous = match entry {
                    Some(entry) => {
                        let file = entry.target_file();
                        new_targets.insert(path.clone(), file)
                    }
                    None => new_targets.remove(&path),
                };
                if let Some(previous) = previous {
                    if new_targets.get(&path) != Some(&previous) {
                        if let Some(old_entry) = TargetEntry::from_target_file(&path, &previous) {
                            superseded_targets.push(old_entry);
                        }
                    }
                }
            }
            if new_targets != old.targets || expiring(&old.expires) {
                superseded.push(versioned_name(&name, old.version));
                let version = self.floors.next(&name, Some(old.version))?;
                jobs.push((name, version, new_targets));
            }
        }

        let resign_snapshot = !jobs.is_empty() || expiring(&state.snapshot.expires);
        let resign_timestamp = resign_snapshot || expiring(&state.timestamp.expires);
        let mut new_state = state.clone();
        if !resign_timestamp {
            return Ok(Publication {
                files: Vec::new(),
                superseded: Vec::new(),
                superseded_targets: Vec::new(),
                state: new_state,
            });
        }

        let bin_expires = expires_after(now, expiry.bins, "bins")?;
        let mut snapshot_meta_map = state.snapshot.meta.clone();
        for (name, version, _) in &jobs {
            let entry = snapshot_meta_map
                .get_mut(&format!("{name}.json"))
                .ok_or_else(|| Error::RepoState {
                    what: name.clone(),
                    reason: "the snapshot does not list this bin".to_owned(),
                })?;
            entry.version = *version;
        }
        let mut files = map_jobs(jobs, |(name, version, targets_of_bin)| {
            Ok(OutputFile {
                name: versioned_name(&name, version),
                kind: FileKind::Bin,
                bytes: sign_bin(version, &bin_expires, targets_of_bin, signers.bins)?,
            })
        })?;

        if resign_snapshot {
            let snapshot = Snapshot::new(
                self.floors.next("snapshot", Some(state.snapshot.version))?,
                expires_after(now, expiry.snapshot, "snapshot")?,
                snapshot_meta_map,
            );
            let bytes = sign_role(&snapshot, signers.snapshot)?;
            superseded.push(state.snapshot_file());
            new_state.snapshot_length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
            new_state.snapshot_sha256 = crate::hash::sha256(&bytes);
            new_state.snapshot = std::sync::Arc::new(snapshot);
            files.push(OutputFile {
                name: new_state.snapshot_file(),
                kind: FileKind::Snapshot,
                bytes,
            });
        }
        let timestamp = Timestamp::new(
            state.timestamp.version.next()?,
            expires_after(now, expiry.timestamp, "timestamp")?,
            snapshot_meta(
                new_state.snapshot.version,
                new_state.snapshot_length,
                new_state.snapshot_sha256,
            ),
        );
        files.push(OutputFile {
            name: TIMESTAMP_FILE.to_owned(),
            kind: FileKind::Timestamp,
            bytes: sign_role(&timestamp, signers.timestamp)?,
        });
        new_state.timestamp = timestamp;
        Ok(Publication {
            files,
            superseded,
            superseded_targets,
            state: new_state,
        })
    }
}
