//! Sign every bin from the complete list of targets.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::limits::Limits;
use crate::metadata::{
    sign_role, MetaFile, NotHashedBins, RoleType, SignedMetadata, Snapshot, TargetFile, TargetPath,
    Targets, Timestamp, Version,
};
use crate::verify::{self, Authority, Verified};

use super::state::{snapshot_meta, verify_top};
use super::{
    check_signers, expires_after, map_jobs, sign_bin, versioned_name, Expiries, FileKind,
    OnlineSigners, OutputFile, Publication, PublishedState, TargetEntry, VersionFloors,
    TIMESTAMP_FILE,
};

/// What a full publish starts from besides the targets.
#[derive(Debug, Clone, Copy)]
pub struct FullInput<'a> {
    /// The signed root (newest version), as written by the key holders.
    pub root: &'a [u8],
    /// The signed top-level targets delegating to the bins.
    pub targets: &'a [u8],
    /// The state published so far, if any: versions continue from it and its files are
    /// reported as superseded.
    pub previous: Option<&'a PublishedState>,
    /// Expiry periods of the online roles.
    pub expiry: &'a Expiries,
    /// The time of signing.
    pub now: DateTime<Utc>,
    /// The lowest version to sign the snapshot and each bin at (see [`VersionFloors`]);
    /// `None`: the previous version plus one, or 1.
    pub floors: Option<&'a VersionFloors>,
}

/// Sign every bin (even empty ones) from `entries`, then the snapshot, then the timestamp.
///
/// Root and targets are verified first (root by itself, targets against root), and the
/// online signers are checked against the thresholds those give them, so a publish never
/// writes metadata a client would refuse. The files come back in write order: root,
/// targets, every bin, snapshot, `timestamp.json`.
pub fn full_publish(
    input: &FullInput<'_>,
    entries: Vec<TargetEntry>,
    signers: &OnlineSigners<'_>,
    limits: &Limits,
) -> Result<Publication, Error> {
    let root_meta = SignedMetadata::parse(input.root, RoleType::Root, limits)?;
    let root = verify::verify_root_self_signed(&root_meta, limits)?;
    let targets: Verified<Targets> = verify_top(&root, input.targets, RoleType::Targets, limits)?;
    let (bins, bin_keys) = match &targets.delegations {
        Some(d) => (d.hashed_bins().map_err(not_binned)?, d.keys.clone()),
        None => return Err(not_binned(NotHashedBins::NoDelegations)),
    };
    if !root.consistent_snapshot() {
        return Err(Error::RepoState {
            what: "root".to_owned(),
            reason: "consistent_snapshot is off; this repository layout needs it on".to_owned(),
        });
    }
    check_signers(
        "bins",
        &Authority::new(&bin_keys, &bins.keyids, bins.threshold),
        signers.bins,
    )?;
    for (role, keys) in [
        (RoleType::Snapshot, signers.snapshot),
        (RoleType::Timestamp, signers.timestamp),
    ] {
        let authority = Authority::from_root(&root, role).ok_or_else(|| Error::RepoState {
            what: "root".to_owned(),
            reason: format!("root has no {role} role"),
        })?;
        check_signers(role.as_str(), &authority, keys)?;
    }

    // Group the targets by bin. INVARIANT: `bit_length` was checked against
    // `limits.max_succinct_bit_length` (≤ 32) when targets was parsed, or comes from the
    // count of classic roles (≤ `limits.max_delegated_roles`), so every bin number fits
    // the vector.
    let bin_count = usize::try_from(bins.bin_count()).map_err(|_| Error::Invalid {
        role: "targets".to_owned(),
        reason: "too many bins for this platform".to_owned(),
    })?;
    let by_bin = group_by_bin(entries, &bins, bin_count)?;
    let previous = input.previous;
    let no_floors = VersionFloors::new();
    let floors = input.floors.unwrap_or(&no_floors);
    let bin_expires = expires_after(input.now, input.expiry.bins, "bins")?;
    let mut jobs = Vec::with_capacity(bin_count);
    for (bin, targets_of_bin) in by_bin.into_iter().enumerate() {
        let bin = u32::try_from(bin).unwrap_or(u32::MAX);
        let name = bins.bin_name(bin);
        let previous_version = previous
            .and_then(|p| p.snapshot.role_meta(&name))
            .map(|m| m.version);
        let version = floors.next(&name, previous_version)?;
        jobs.push((name, version, targets_of_bin));
    }
    let mut snapshot_meta_map = BTreeMap::new();
    snapshot_meta_map.insert("targets.json".to_owned(), MetaFile::new(targets.version));
    for (name, version, _) in &jobs {
        snapshot_meta_map.insert(format!("{name}.json"), MetaFile::new(*version));
    }
    if let Some(previous) = previous {
        keep_retired_roles(&mut snapshot_meta_map, &previous.snapshot);
    }
    let bin_files = map_jobs(jobs, |(name, version, entries_of_bin)| {
        // Sorted by path and without repeats (`group_by_bin`): the map is built in one
        // pass.
        let targets_of_bin: BTreeMap<TargetPath, TargetFile> = entries_of_bin
            .into_iter()
            .map(|entry| {
                let file = entry.target_file();
                (entry.path, file)
            })
            .collect();
        Ok(OutputFile {
            name: versioned_name(&name, version),
            kind: FileKind::Bin,
            bytes: sign_bin(version, &bin_expires, targets_of_bin, signers.bins)?,
        })
    })?;

    let snapshot_version = floors.next("snapshot", previous.map(|p| p.snapshot.version))?;
    let snapshot = Snapshot::new(
        snapshot_version,
        expires_after(input.now, input.expiry.snapshot, "snapshot")?,
        snapshot_meta_map,
    );
    let snapshot_bytes = sign_role(&snapshot, signers.snapshot)?;
    let timestamp_version = match previous {
        Some(p) => p.timestamp.version.next()?,
        None => Version::new(1)?,
    };
    let timestamp = Timestamp::new(
        timestamp_version,
        expires_after(input.now, input.expiry.timestamp, "timestamp")?,
        snapshot_meta(
            snapshot_version,
            u64::try_from(snapshot_bytes.len()).unwrap_or(u64::MAX),
            crate::hash::sha256(&snapshot_bytes),
        ),
    );
    let timestamp_bytes = sign_role(&timestamp, signers.timestamp)?;

    let mut files = Vec::with_capacity(bin_files.len() + 4);
    files.push(OutputFile {
        name: versioned_name("root", root.version),
        kind: FileKind::Root,
        bytes: input.root.to_vec(),
    });
    files.push(OutputFile {
        name: versioned_name("targets", targets.version),
        kind: FileKind::Targets,
        bytes: input.targets.to_vec(),
    });
    files.extend(bin_files);
    files.push(OutputFile {
        name: versioned_name("snapshot", snapshot_version),
        kind: FileKind::Snapshot,
        bytes: snapshot_bytes.clone(),
    });
    files.push(OutputFile {
        name: TIMESTAMP_FILE.to_owned(),
        kind: FileKind::Timestamp,
        bytes: timestamp_bytes,
    });

    let written: BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let superseded = previous
        .map(|p| {
            p.named_files()
                .into_iter()
                .filter(|name| !written.contains(name.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let state = PublishedState::from_parts(
        root,
        targets,
        snapshot,
        super::state::digest(&snapshot_bytes),
        timestamp,
    )?;
    Ok(Publication {
        files,
        superseded,
        superseded_targets: Vec::new(),
        state,
    })
}

/// Keep listing, at their last version, the roles the previous snapshot listed that the
/// new layout no longer has (the bins of an older `bit_length` or prefix).
///
/// TUF §5.5.5: "any targets metadata filename that was listed in the trusted snapshot
/// metadata file, if any, MUST continue to be listed in the new snapshot metadata file";
/// python-tuf's ngclient refuses a snapshot that drops one ("New snapshot is missing info
/// for ..."), and so does `tuf_core::trusted`. No delegation reaches these roles any more,
/// so no client fetches them; their files are retired like any superseded metadata. The
/// entries cost ~35 bytes each in the snapshot.
fn keep_retired_roles(meta: &mut BTreeMap<String, MetaFile>, previous: &Snapshot) {
    for (name, entry) in &previous.meta {
        meta.entry(name.clone()).or_insert_with(|| entry.clone());
    }
}

fn not_binned(why: NotHashedBins) -> Error {
    Error::RepoState {
        what: "targets".to_owned(),
        reason: format!("targets does not delegate to hashed bins: {why}"),
    }
}

/// `entries` grouped by the bin each path falls in (`bins.bin_of`), each group sorted by
/// path; a path listed twice is an error. The bin numbers and the sort run on all cores
/// with the `parallel` feature: at crates.io scale (200k paths) this grouping, done one
/// B-tree insert at a time, was the longest serial step of a full sign (~0.7 s).
fn group_by_bin(
    entries: Vec<TargetEntry>,
    bins: &crate::metadata::SuccinctRoles,
    bin_count: usize,
) -> Result<Vec<Vec<TargetEntry>>, Error> {
    let bin_of = |entry: TargetEntry| (bins.bin_of(entry.path.as_str()), entry);
    let by_key =
        |a: &(u32, TargetEntry), b: &(u32, TargetEntry)| (a.0, &a.1.path).cmp(&(b.0, &b.1.path));
    #[cfg(feature = "parallel")]
    let keyed = {
        use rayon::prelude::*;
        let mut keyed: Vec<(u32, TargetEntry)> = entries.into_par_iter().map(bin_of).collect();
        keyed.par_sort_unstable_by(by_key);
        keyed
    };
    #[cfg(not(feature = "parallel"))]
    let keyed = {
        let mut keyed: Vec<(u32, TargetEntry)> = entries.into_iter().map(bin_of).collect();
        keyed.sort_unstable_by(by_key);
        keyed
    };
    // Sorted by (bin, path), and a path has one bin: a repeated path is adjacent.
    if let Some(pair) = keyed.windows(2).find(|w| w[0].1.path == w[1].1.path) {
        return Err(Error::DuplicateTarget {
            path: pair[0].1.path.to_string(),
        });
    }
    let mut by_bin: Vec<Vec<TargetEntry>> = (0..bin_count).map(|_| Vec::new()).collect();
    for (bin, entry) in keyed {
        // Every bin number fits (see the INVARIANT in `full_publish`); checked anyway.
        let slot = usize::try_from(bin)
            .ok()
            .and_then(|bin| by_bin.get_mut(bin))
            .ok_or_else(|| Error::Invalid {
                role: "targets".to_owned(),
                reason: format!("bin {bin} out of range"),
            })?;
        slot.push(entry);
    }
    Ok(by_bin)
}
