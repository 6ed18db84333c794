//! The published state, read through a [`MetadataReader`], and the signing of a publish
//! from it: one implementation for every backend (a local directory,
//! [`crate::publish`]; object storage, [`crate::remote`]), so both verify and sign alike.
//!
//! * Root discovery ([`newest`]): `N.root.json` counted up from 1 as a client does
//!   (TUF §5.3), never by listing.
//! * The root a publish signs under ([`root_in_force`]): a new root is checked to follow
//!   the newest one as a client would (TUF §5.3.4, §5.3.5).
//! * The published state ([`load_state`]): timestamp → snapshot → targets, verified under
//!   the newest root, or under an older one after a key rotation (TUF §5.3.11).
//! * The signing ([`sign`]): every bin ([`tuf_core::repo::full_publish`]) or only the
//!   bins that changed ([`tuf_core::repo::Edit`]), then snapshot and timestamp.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use tuf_core::metadata::versioned_file_name;
use tuf_core::repo::{
    self, versioned_name, Change, Edit, FullInput, Publication, PublishedState, StateLoader,
    TargetEntry, VersionFloors,
};
use tuf_core::trusted::{Mode, TrustedState};
use tuf_core::Limits;

use crate::error::Error;
use crate::progress::{units, Progress, Stage, StageGuard};
use crate::publish::{NewRoot, OnlineKeys, PublishKind, PublishOptions};

/// Reads the metadata files of a published repository (`N.ROLE.json`, `timestamp.json`)
/// by name.
pub trait MetadataReader: Sync {
    /// The bytes of metadata file `name`; `None` when there is no such file.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error>;

    /// The bytes of each of `names`, in order (by default one [`MetadataReader::read`]
    /// each, in parallel).
    fn read_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        names.par_iter().map(|name| self.read(name)).collect()
    }

    /// Where `name` is (a path, or a URL), for messages.
    fn locate(&self, name: &str) -> PathBuf;
}

/// The SHA-256 of the exact bytes a state was verified from: the newest root,
/// `timestamp.json` and the top-level targets (what a cache of it is keyed by).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StateDigests {
    pub(crate) root: [u8; 32],
    pub(crate) timestamp: [u8; 32],
    pub(crate) targets: [u8; 32],
}

/// The newest `N.ROLE.json` from version `from` up, counting up until the next version
/// is missing (TUF §5.3 for roots), with its version; `None` if `from` is missing.
pub fn newest(
    reader: &dyn MetadataReader,
    role: &str,
    from: u64,
) -> Result<Option<(u64, Vec<u8>)>, Error> {
    let mut found = None;
    let mut version = from;
    while let Some(bytes) = reader.read(&versioned_file_name(version, role))? {
        found = Some((version, bytes));
        version = version.saturating_add(1);
    }
    Ok(found)
}

/// The newest root, which must exist.
pub fn newest_root(reader: &dyn MetadataReader) -> Result<(u64, Vec<u8>), Error> {
    newest(reader, "root", 1)?.ok_or_else(|| Error::Missing {
        path: reader.locate(&versioned_file_name(1, "root")),
        reason: "no root: initialise the repository first".to_owned(),
    })
}

/// The published roots walked as a client walks them: `1.root.json` as the start (TUF
/// §5.2: the repository's own first root), then every newer root ([`walk_roots`]).
/// `None` when there is no `1.root.json`. What the operator's commands (`tuf status`,
/// `tuf root rotate`, `tuf root commit`) trust as the published root.
pub fn root_chain(
    reader: &dyn MetadataReader,
    now: DateTime<Utc>,
    limits: &Limits,
    mode: Mode,
) -> Result<Option<TrustedState>, Error> {
    let first = versioned_file_name(1, "root");
    let Some(bytes) = reader.read(&first)? else {
        return Ok(None);
    };
    let mut trusted = TrustedState::new_from_root_in_mode(&bytes, now, limits.clone(), mode)
        .map_err(Error::tuf(&first))?;
    walk_roots(reader, &mut trusted, now)?;
    Ok(Some(trusted))
}

/// Every root after `trusted`'s, one version at a time until the next `N.root.json` is
/// missing, each through [`TrustedState::update_root`] (TUF §5.3.3 to §5.3.5).
pub fn walk_roots(
    reader: &dyn MetadataReader,
    trusted: &mut TrustedState,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    loop {
        let next = trusted.root().version.next().map_err(Error::tuf("root"))?;
        let name = versioned_name("root", next);
        let Some(bytes) = reader.read(&name)? else {
            return Ok(());
        };
        trusted
            .update_root(&bytes, now)
            .map_err(Error::tuf(&name))?;
    }
}

/// The publisher's rule for a new root: it is written as the next file a client counts
/// to, `N+1.root.json` after the newest root `newest` (or `1.root.json` first), and is
/// refused before its signatures are looked at when it is not. (The client's own version
/// rule, TUF §5.3.5, is [`TrustedState::update_root`]'s.)
pub fn check_next_root_version(newest: Option<u64>, found: u64) -> Result<(), tuf_core::Error> {
    let expected = newest.map_or(Some(1), |v| v.checked_add(1));
    if expected != Some(found) {
        return Err(tuf_core::Error::VersionMismatch {
            role: "root".to_owned(),
            expected: expected.unwrap_or(u64::MAX),
            found,
        });
    }
    Ok(())
}

/// The root a publish signs under: `new_root` once it is checked to follow the newest
/// root `reader` has, else that newest root. Returns its version and bytes.
///
/// A new root must be the next version (TUF §5.3.5: a client walks root versions one
/// at a time) and be signed by a threshold of the newest root's root keys and of its
/// own (TUF §5.3.4); version 1 only of its own. These are the checks a client makes
/// before it trusts the root, so a publish never writes one a client would refuse.
/// A new root that is already the newest, byte for byte, is taken as it is.
pub fn root_in_force(
    reader: &dyn MetadataReader,
    new_root: Option<&NewRoot>,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<(u64, Vec<u8>), Error> {
    let Some(new_root) = new_root else {
        return newest_root(reader);
    };
    let newest = newest(reader, "root", 1)?;
    let name = new_root.file_name();
    if let Some((version, bytes)) = &newest {
        // Already written, byte for byte, by a publish stopped before it finished: go
        // on under it, as a rerun of that publish.
        if *version == new_root.version() && *bytes == new_root.bytes() {
            return Ok((new_root.version(), new_root.bytes().to_vec()));
        }
    }
    check_next_root_version(newest.as_ref().map(|(v, _)| *v), new_root.version())
        .map_err(Error::tuf(&name))?;
    // The client's rules, by the client's steps: the first root by itself (TUF §5.2),
    // a later one after the newest (§5.3.4, §5.3.5).
    match &newest {
        Some((version, bytes)) => {
            let mut trusted = TrustedState::new_from_root_with_limits(bytes, now, limits.clone())
                .map_err(Error::tuf(versioned_file_name(*version, "root")))?;
            trusted
                .update_root(new_root.bytes(), now)
                .map_err(Error::tuf(name))?;
        }
        None => {
            TrustedState::new_from_root_with_limits(new_root.bytes(), now, limits.clone())
                .map_err(Error::tuf(name))?;
        }
    }
    Ok((new_root.version(), new_root.bytes().to_vec()))
}

/// The published state, `None` before the first publish, with the digests of the bytes
/// it was verified from.
///
/// The state is verified under `root`, the newest root (version `root_version`: the
/// newest the reader has, or the new root a publish is about to write). If it does not
/// verify there, it is verified under each older root in turn, newest first: after a root
/// rotation that replaced the online (timestamp, snapshot) or targets keys, the published
/// state is still the one signed under the root before, until a publish re-signs it
/// (TUF §5.3.11: clients drop their timestamp and snapshot when those keys rotate, and
/// take the new ones). Such a state has [`PublishedState::root`] older than `root`, which
/// a publish takes as the cue for a full re-sign with the new keys.
///
/// `timestamp` is the bytes of `timestamp.json` (`None`: nothing published), read by the
/// caller, which may need more than its bytes (an object store's ETag).
pub(crate) fn load_state(
    reader: &dyn MetadataReader,
    timestamp: Option<&[u8]>,
    root: &[u8],
    root_version: u64,
    limits: &Limits,
) -> Result<Option<(PublishedState, StateDigests)>, Error> {
    let Some(timestamp) = timestamp else {
        return Ok(None);
    };
    let under_newest = load_state_under(reader, timestamp, root, limits);
    let Err(first_error @ Error::Tuf { .. }) = under_newest else {
        return under_newest.map(Some);
    };
    for version in (1..root_version).rev() {
        let Some(older) = reader.read(&versioned_file_name(version, "root"))? else {
            continue;
        };
        if let Ok((state, digests)) = load_state_under(reader, timestamp, &older, limits) {
            // Keyed by the newest root: a cache is looked up with it.
            let digests = StateDigests {
                root: tuf_core::hash::sha256(root),
                ..digests
            };
            return Ok(Some((state, digests)));
        }
    }
    Err(first_error)
}

/// The published state verified under `root` alone.
fn load_state_under(
    reader: &dyn MetadataReader,
    timestamp: &[u8],
    root: &[u8],
    limits: &Limits,
) -> Result<(PublishedState, StateDigests), Error> {
    let mut loader =
        StateLoader::new(root, timestamp, limits).map_err(Error::tuf(repo::TIMESTAMP_FILE))?;
    let snapshot_file = loader
        .snapshot_file()
        .map_err(Error::tuf(repo::TIMESTAMP_FILE))?;
    let snapshot = read_named(reader, &snapshot_file)?;
    loader
        .add_snapshot(&snapshot)
        .map_err(Error::tuf(snapshot_file))?;
    let targets_file = loader.targets_file().map_err(Error::tuf("snapshot"))?;
    let targets = read_named(reader, &targets_file)?;
    let state = loader.finish(&targets).map_err(Error::tuf(targets_file))?;
    let digests = StateDigests {
        root: tuf_core::hash::sha256(root),
        timestamp: tuf_core::hash::sha256(timestamp),
        targets: tuf_core::hash::sha256(&targets),
    };
    Ok((state, digests))
}

/// The bytes of `name`, which the published metadata names and so must exist.
pub(crate) fn read_named(reader: &dyn MetadataReader, name: &str) -> Result<Vec<u8>, Error> {
    reader.read(name)?.ok_or_else(|| Error::Missing {
        path: reader.locate(name),
        reason: "named by the published metadata but not there".to_owned(),
    })
}

/// What a publish signs from, decided from the published state and the newest targets.
#[derive(Debug)]
pub(crate) struct Plan {
    /// `None`: an incremental publish; else a first or full one (every bin).
    pub(crate) full: Option<PublishKind>,
    /// The newest top-level targets, its version and bytes.
    pub(crate) targets: (u64, Vec<u8>),
}

/// Decide between a first, full and incremental publish.
///
/// * Nothing published: the first publish, every bin.
/// * The published state verifies only under an older root (the newest root replaced
///   keys that signed it, see [`load_state`]), or a newer `N.targets.json` than the
///   snapshot names is there: every bin, the snapshot and the timestamp are signed
///   again with the keys the newest root and targets name, versions continuing from the
///   old state (TUF §5.3.11 has clients drop their timestamp and snapshot, so they take
///   the new ones; python-tuf's ngclient does the same).
///
/// The caller may still make an incremental publish full (a scan without a manifest
/// cannot see deletions).
pub(crate) fn plan(
    reader: &dyn MetadataReader,
    state: Option<&PublishedState>,
    root_version: u64,
) -> Result<Plan, Error> {
    let from = state.map_or(1, |s| s.targets().version.get());
    let targets = newest(reader, "targets", from)?.ok_or_else(|| Error::Missing {
        path: reader.locate(&versioned_file_name(from, "targets")),
        reason: "no targets: initialise the repository first".to_owned(),
    })?;
    let full = match state {
        None => Some(PublishKind::First),
        Some(s)
            if s.root().version.get() != root_version || s.targets().version.get() != targets.0 =>
        {
            Some(PublishKind::Full)
        }
        Some(_) => None,
    };
    Ok(Plan { full, targets })
}

/// Sign a publish: with `plan.full`, every bin from `all_entries` (first or full
/// publish); otherwise the `changes` applied to `state`, loading only the bins they touch
/// through `reader`. Versions are at least `floors`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign(
    reader: &dyn MetadataReader,
    keys: &OnlineKeys,
    state: Option<&PublishedState>,
    plan: &Plan,
    root: &[u8],
    changes: Vec<Change>,
    all_entries: Vec<TargetEntry>,
    floors: &VersionFloors,
    options: &PublishOptions,
) -> Result<Publication, Error> {
    let limits = &options.limits;
    let progress = options.progress.as_ref();
    keys.with_signers(|signers| match (state, plan.full) {
        (Some(state), None) => {
            let mut edit = Edit::new(state, limits);
            edit.set_floors(floors);
            for change in changes {
                edit.apply(change);
            }
            let needed = edit.bins_to_load();
            let _signing = StageGuard::start(progress, Stage::Signing, units(needed.len()));
            load_bins(reader, state, &mut edit, needed, progress)?;
            edit.finish(&options.expiry, signers, options.now, None)
                .map_err(Error::tuf("publish"))
        }
        (previous, _) => {
            // Every bin, inside tuf-core: the count is not known here.
            let _signing = StageGuard::start(progress, Stage::Signing, None);
            let input = FullInput {
                root,
                targets: &plan.targets.1,
                previous,
                expiry: &options.expiry,
                now: options.now,
                floors: Some(floors),
            };
            repo::full_publish(&input, all_entries, signers, limits).map_err(Error::tuf("publish"))
        }
    })
}

/// Read bins `bins` of `state` through `reader` and give them to `edit`, which verifies
/// each; returns their expiries.
pub(crate) fn load_bins(
    reader: &dyn MetadataReader,
    state: &PublishedState,
    edit: &mut Edit<'_>,
    bins: Vec<u32>,
    progress: &dyn Progress,
) -> Result<Vec<DateTime<Utc>>, Error> {
    let names: Vec<String> = bins
        .iter()
        .map(|&bin| state.bin_file(bin).map_err(Error::tuf("snapshot")))
        .collect::<Result<_, _>>()?;
    let files = reader.read_many(&names)?;
    let mut expiries = Vec::with_capacity(files.len());
    for ((bin, name), bytes) in bins.into_iter().zip(names).zip(files) {
        let bytes = bytes.ok_or_else(|| Error::Missing {
            path: reader.locate(&name),
            reason: "named by the published metadata but not there".to_owned(),
        })?;
        expiries.push(edit.load_bin(bin, &bytes).map_err(Error::tuf(name))?.time());
        if expiries.len() % PROGRESS_EVERY == 0 {
            progress.advance(units(PROGRESS_EVERY).unwrap_or(0));
        }
    }
    let rest = expiries.len() % PROGRESS_EVERY;
    if rest > 0 {
        progress.advance(units(rest).unwrap_or(0));
    }
    Ok(expiries)
}

/// Sequential loops tell progress once per this many items.
pub(crate) const PROGRESS_EVERY: usize = 64;

/// Refuse to refresh a state signed under an older root than `root_version`: refresh
/// re-signs only what expires, with the keys that signed it; after a key rotation
/// everything must be signed again from the index (a publish).
pub(crate) fn check_refreshable(state: &PublishedState, root_version: u64) -> Result<(), Error> {
    if state.root().version.get() == root_version {
        return Ok(());
    }
    Err(Error::Tuf {
        what: "refresh".to_owned(),
        source: tuf_core::Error::RepoState {
            what: format!("root v{root_version}"),
            reason: format!(
                "it replaced keys the published state (signed under root v{}) was \
                 signed with; publish to re-sign everything with the new keys",
                state.root().version
            ),
        },
    })
}

/// `now + window`: what a refresh re-signs expires at or before it.
pub(crate) fn refresh_before(
    now: DateTime<Utc>,
    window: chrono::TimeDelta,
) -> Result<DateTime<Utc>, Error> {
    now.checked_add_signed(window).ok_or_else(|| Error::Tuf {
        what: "refresh".to_owned(),
        source: tuf_core::Error::Invalid {
            role: "refresh".to_owned(),
            reason: "window out of range".to_owned(),
        },
    })
}

/// Sign a refresh of `state`: every bin (read through `reader`, skipped when `hint`, a
/// lower bound on the bins' expiry, says none is due), the snapshot and the timestamp
/// that expire within `window` of `options.now`, at versions of at least `floors`.
/// Returns the publication and the new lower bound on the bins' expiry, when the bins
/// were read.
pub(crate) fn sign_refresh(
    reader: &dyn MetadataReader,
    keys: &OnlineKeys,
    state: &PublishedState,
    hint: Option<DateTime<Utc>>,
    window: chrono::TimeDelta,
    floors: &VersionFloors,
    options: &PublishOptions,
) -> Result<(Publication, Option<DateTime<Utc>>), Error> {
    let refresh_before = refresh_before(options.now, window)?;
    let mut edit = Edit::new(state, &options.limits);
    edit.set_floors(floors);
    // Reading and verifying every bin costs ~0.1 s per 1000 bins; skip it when a lower
    // bound on the bins' expiry says none can be due.
    let bins_due = hint.map_or(true, |earliest| earliest <= refresh_before);
    let mut new_hint = None;
    let progress = options.progress.as_ref();
    if bins_due {
        let bins: Vec<u32> = edit.all_bins().collect();
        let _reading = StageGuard::start(progress, Stage::ReadingBins, units(bins.len()));
        let expiries = load_bins(reader, state, &mut edit, bins, progress)?;
        let resigned = options.now.checked_add_signed(options.expiry.bins);
        new_hint = expiries
            .into_iter()
            .map(|e| {
                if e <= refresh_before {
                    resigned.unwrap_or(e)
                } else {
                    e
                }
            })
            .min();
    }
    let signing = bins_due.then(|| StageGuard::start(progress, Stage::Signing, None));
    let publication = keys.with_signers(|signers| {
        edit.finish(&options.expiry, signers, options.now, Some(refresh_before))
            .map_err(Error::tuf("refresh"))
    })?;
    drop(signing);
    Ok((publication, new_hint))
}
