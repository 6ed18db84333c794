//! The update workflow (TUF §5) over a [`Fetcher`] and a [`MetadataStore`], and target
//! downloads (§5.7).
//!
//! Every verification is done by [`TrustedState`] (tuf-core); this module decides what
//! to fetch, what local copy to try first, and what to store. A file is stored only
//! after the step that took it returned `Ok`, and it is stored byte for byte.
//!
//! Requests, with consistent snapshots on: `N+1.root.json` until a "not found" (at most
//! [`Limits::max_root_rotations`]), `timestamp.json`, `V.snapshot.json` unless the stored
//! snapshot is still the one the timestamp names, `V.targets.json` unless the stored
//! targets is still the one the snapshot names; delegated roles `V.ROLE.json` (ROLE
//! percent-encoded) only when a target lookup needs them and the stored copy is not the
//! one the snapshot names. Without consistent snapshots the names carry no version.
//!
//! Two ways to start, one way to look up:
//!
//! * [`Updater::refresh`] runs the TUF §5 workflow over the network;
//! * [`Updater::load_local`] builds the same trusted state from the stored metadata only,
//!   never fetching (offline use): every stored role must verify and be unexpired, and
//!   the stored snapshot must be the one the stored timestamp names;
//! * [`Updater::lookup_target`] takes `&self`, so one updater serves lookups from many
//!   threads at once: the trusted state is locked only while it is read or while a
//!   fetched role is handed to it, never during network I/O, and a delegated role that
//!   several lookups need at once is fetched once (a lock per role).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tuf_core::delegation::{self, Lookup, Visited};
use tuf_core::metadata::{check_length_and_hashes, versioned_file_name, TargetFile, TargetPath};
use tuf_core::trusted::{
    check_expiry, LocalSnapshot, TimestampUpdate, TrustedState, ROOT_DELEGATOR,
};
use tuf_core::{Error, Limits};

use crate::error::ClientError;
use crate::fetch::{FetchError, Fetcher};
use crate::store::{encode_component, encode_name, write_cache, MetadataStore};

/// Where the repository is and where the client keeps its files.
#[derive(Debug, Clone)]
pub struct UpdaterConfig {
    /// Base URL of the metadata (a trailing `/` is added if missing).
    pub metadata_base_url: String,
    /// Base URL of the targets, when targets are downloaded.
    pub targets_base_url: Option<String>,
    /// Directory of trusted metadata.
    pub metadata_dir: PathBuf,
    /// Directory of downloaded targets (the target cache), when targets are downloaded.
    pub target_dir: Option<PathBuf>,
    /// Caps on sizes and counts.
    pub limits: Limits,
    /// Whether target URLs carry the hash prefix when consistent snapshots are on
    /// (`dir/HASH.name`, TUF §5.7.3). On by default.
    pub prefix_targets_with_hash: bool,
}

impl UpdaterConfig {
    /// A configuration for metadata at `metadata_base_url`, stored in `metadata_dir`.
    pub fn new(metadata_base_url: &str, metadata_dir: impl Into<PathBuf>) -> Self {
        Self {
            metadata_base_url: metadata_base_url.to_owned(),
            targets_base_url: None,
            metadata_dir: metadata_dir.into(),
            target_dir: None,
            limits: Limits::default(),
            prefix_targets_with_hash: true,
        }
    }
}

/// A verified target: its path, what the metadata says of it, and the role that said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    /// The target path.
    pub path: TargetPath,
    /// Length, hashes and custom data from the metadata.
    pub file: TargetFile,
    /// The role whose metadata lists it.
    pub role: String,
}

/// A TUF client: refresh the metadata, look targets up, download them.
///
/// `Updater<F>` is `Sync` when `F` is: lookups ([`Updater::lookup_target`]) and downloads
/// take `&self`; only starting a new trusted state ([`Updater::refresh`],
/// [`Updater::load_local`]) needs `&mut self`.
#[derive(Debug)]
pub struct Updater<F: Fetcher> {
    config: UpdaterConfig,
    fetcher: F,
    store: MetadataStore,
    session: Mutex<Session>,
    /// One lock per targets role being loaded, so concurrent lookups that need the same
    /// role fetch and verify it once.
    role_loads: Mutex<BTreeMap<String, Arc<Mutex<()>>>>,
}

/// The trusted state of the last refresh (or local load) and what belongs to it.
#[derive(Debug, Default)]
struct Session {
    state: Option<TrustedState>,
    /// Bytes of the delegated roles handed to `state` since the last refresh, so a role
    /// reached again through another delegator is checked against the same bytes.
    delegated_bytes: BTreeMap<String, Vec<u8>>,
    /// Built by [`Updater::load_local`]: targets roles come from the store or not at all.
    local_only: bool,
}

/// What the trusted timestamp says about itself (for callers that report or bound how
/// current their view is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampInfo {
    /// Its version.
    pub version: u64,
    /// Its expiry.
    pub expires: DateTime<Utc>,
}

impl<F: Fetcher> Updater<F> {
    /// An updater; the metadata directory must hold a trusted `root.json`.
    pub fn new(mut config: UpdaterConfig, fetcher: F) -> Result<Self, ClientError> {
        ensure_trailing_slash(&mut config.metadata_base_url);
        if let Some(url) = &mut config.targets_base_url {
            ensure_trailing_slash(url);
        }
        let store = MetadataStore::open(&config.metadata_dir)?;
        Ok(Self {
            config,
            fetcher,
            store,
            session: Mutex::new(Session::default()),
            role_loads: Mutex::new(BTreeMap::new()),
        })
    }

    /// Run `read` on the trusted state of the last refresh or local load, if any.
    pub fn inspect_trusted<R>(&self, read: impl FnOnce(&TrustedState) -> R) -> Option<R> {
        lock(&self.session).state.as_ref().map(read)
    }

    /// The trusted timestamp's version and expiry, if a refresh or local load succeeded.
    pub fn trusted_timestamp(&self) -> Option<TimestampInfo> {
        self.inspect_trusted(|state| {
            state.timestamp().map(|timestamp| TimestampInfo {
                version: timestamp.version.get(),
                expires: timestamp.expires.time(),
            })
        })
        .flatten()
    }

    /// Run the top-level update (TUF §5.2–§5.6): root chain, timestamp, snapshot,
    /// targets. On error the stored metadata is what was verified up to that point, and
    /// no trusted state is kept (lookups fail until a refresh succeeds).
    pub fn refresh(&mut self, now: DateTime<Utc>) -> Result<(), ClientError> {
        *self.session_mut() = Session::default();
        // §5.2: the trusted root.
        let mut state = self.trusted_root(now)?;
        self.update_root_chain(&mut state, now)?;
        self.update_timestamp(&mut state, now)?;
        self.update_snapshot(&mut state, now)?;
        self.start_session(state, false, now)
    }

    /// Build the trusted state from the stored metadata alone, without any request
    /// (offline use; not a TUF §5 update, which always asks for the timestamp). The same
    /// checks as a refresh that found nothing new: the stored root verifies with its own
    /// keys and has not expired (§5.3.10); the stored timestamp verifies with the root's
    /// timestamp keys and has not expired (§5.4.2, §5.4.4); the stored snapshot verifies,
    /// is exactly the one the timestamp names and has not expired (§5.5.2–§5.5.6); the
    /// stored targets likewise against the snapshot (§5.6). Delegated roles are then
    /// taken from the store only: a lookup that needs one that is not stored (or no
    /// longer verifies) fails with [`ClientError::NotStored`] (or the verification error)
    /// instead of fetching it. No root chain is followed, so a stored root is final.
    pub fn load_local(&mut self, now: DateTime<Utc>) -> Result<(), ClientError> {
        *self.session_mut() = Session::default();
        let limits = self.config.limits.clone();
        let mut state = self.trusted_root(now)?;
        let timestamp = self
            .store
            .load("timestamp", limits.max_timestamp_bytes)?
            .ok_or_else(|| not_stored("timestamp"))?;
        state.load_local_timestamp(&timestamp, now)?;
        let snapshot = self
            .store
            .load("snapshot", limits.max_snapshot_bytes)?
            .ok_or_else(|| not_stored("snapshot"))?;
        // `load_local_snapshot` checks the timestamp's expiry first (§5.4.4), then
        // whether the snapshot is the final one; anything else is the reason it is not.
        match state.load_local_snapshot(&snapshot, now)? {
            LocalSnapshot::Current => {}
            LocalSnapshot::Intermediate { reason } => return Err(reason.into()),
        }
        self.start_session(state, true, now)
    }

    /// Look `path` up through the delegations (TUF §5.6.7), loading the delegated roles
    /// the search needs. `Ok(None)`: no trusted role lists it. Refreshes first if no
    /// refresh has been done.
    pub fn target_info(
        &mut self,
        path: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TargetInfo>, ClientError> {
        if self.session_mut().state.is_none() {
            self.refresh(now)?;
        }
        self.lookup_target(path, now)
    }

    /// Look `path` up (TUF §5.6.7) in the trusted state of the last refresh or local
    /// load, loading the delegated roles the search needs (stored copy first; fetched
    /// unless the state came from [`Updater::load_local`]). `Ok(None)`: no trusted role
    /// lists it, an authenticated absence.
    ///
    /// The state may be older than `now`: before answering, the root, timestamp, snapshot
    /// and top-level targets, and every role the delegation search read (for a found target
    /// and for an absence alike, e.g. the bin that would list the path), are checked
    /// again not to have expired at `now` (§5.3.10, §5.4.4, §5.5.6, §5.6.5), so a long-lived
    /// updater never answers from expired metadata, "no such target" included. Fails with [`ClientError::Config`]
    /// when no refresh or local load has succeeded.
    pub fn lookup_target(
        &self,
        path: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TargetInfo>, ClientError> {
        let path = TargetPath::parse(path)?;
        self.with_state(|state| check_top_level_unexpired(state, now))??;
        self.walk(&path, now)
    }

    /// The cached copy of `target`, if the target directory holds one whose length and
    /// hashes match (so it need not be downloaded again).
    pub fn cached_target(&self, target: &TargetInfo) -> Result<Option<PathBuf>, ClientError> {
        let path = self.target_file_path(target)?;
        let Some(bytes) = read_if_exists(&path, target.file.length.get())? else {
            return Ok(None);
        };
        let verified = check_length_and_hashes(
            target.path.as_str(),
            &bytes,
            Some(target.file.length),
            Some(&target.file.hashes),
        );
        Ok(verified.is_ok().then_some(path))
    }

    /// Download `target` (TUF §5.7): at most its length is read, the length and every
    /// listed hash must match (an unknown algorithm fails), then it is written atomically
    /// into the target directory. Nothing is written when verification fails. The file
    /// is not fsynced: [`Updater::cached_target`] checks its length and hashes again
    /// before it is used, so a crash that tears it costs a download.
    pub fn download_target(&self, target: &TargetInfo) -> Result<PathBuf, ClientError> {
        let base = self
            .config
            .targets_base_url
            .as_deref()
            .ok_or_else(|| ClientError::Config {
                reason: "no targets base URL".to_owned(),
            })?;
        let destination = self.target_file_path(target)?;
        let length = target.file.length;
        if length.get() > self.config.limits.max_target_bytes {
            return Err(Error::TooLarge {
                role: target.path.to_string(),
                found: length.get(),
                limit: self.config.limits.max_target_bytes,
            }
            .into());
        }
        let consistent = self
            .inspect_trusted(|s| s.root().consistent_snapshot())
            .unwrap_or(false);
        let url = format!(
            "{base}{}",
            target_url_path(
                &target.path,
                &target.file,
                consistent && self.config.prefix_targets_with_hash
            )
        );
        let bytes = fetch_exact(&self.fetcher, &url, target.path.as_str(), length.get())?;
        check_length_and_hashes(
            target.path.as_str(),
            &bytes,
            Some(length),
            Some(&target.file.hashes),
        )?;
        write_cache(&destination, &bytes)?;
        Ok(destination)
    }

    /// The cached copy of `target` if valid, else a download.
    pub fn fetch_target(&self, target: &TargetInfo) -> Result<PathBuf, ClientError> {
        match self.cached_target(target)? {
            Some(path) => Ok(path),
            None => self.download_target(target),
        }
    }

    /// Where `target` is kept: its path encoded into one file name in the target
    /// directory (the same file every time; no sub-directories, so `a` and `a/b` can
    /// both be cached).
    pub fn target_file_path(&self, target: &TargetInfo) -> Result<PathBuf, ClientError> {
        let dir = self
            .config
            .target_dir
            .as_deref()
            .ok_or_else(|| ClientError::Config {
                reason: "no target directory".to_owned(),
            })?;
        Ok(dir.join(encode_name(target.path.as_str())))
    }

    // ---- the steps ----

    /// §5.2: the stored trusted root, verified with its own keys.
    fn trusted_root(&self, now: DateTime<Utc>) -> Result<TrustedState, ClientError> {
        let limits = self.config.limits.clone();
        let root = self
            .store
            .load("root", limits.max_root_bytes)?
            .ok_or_else(|| ClientError::NoTrustedRoot {
                path: self.store.path_of("root"),
            })?;
        Ok(TrustedState::new_from_root_with_limits(&root, now, limits)?)
    }

    /// Make `state` (timestamp and snapshot done) the session's, then load the top-level
    /// targets (§5.6); on failure no state is kept.
    fn start_session(
        &mut self,
        state: TrustedState,
        local_only: bool,
        now: DateTime<Utc>,
    ) -> Result<(), ClientError> {
        *self.session_mut() = Session {
            state: Some(state),
            delegated_bytes: BTreeMap::new(),
            local_only,
        };
        let loaded = self.load_targets_role("root", "targets", now);
        if loaded.is_err() {
            *self.session_mut() = Session::default();
        }
        loaded
    }

    fn session_mut(&mut self) -> &mut Session {
        self.session
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `read` on the session's trusted state; [`ClientError::Config`] if there is
    /// none (no refresh or local load succeeded).
    fn with_state<R>(&self, read: impl FnOnce(&TrustedState) -> R) -> Result<R, ClientError> {
        self.inspect_trusted(read).ok_or_else(no_trusted_state)
    }

    /// §5.3: `N+1.root.json` until "not found", each verified, then stored.
    fn update_root_chain(
        &self,
        state: &mut TrustedState,
        now: DateTime<Utc>,
    ) -> Result<(), ClientError> {
        let limits = &self.config.limits;
        for _ in 0..limits.max_root_rotations {
            let next = state.root().version.next()?;
            let url = self.metadata_url(&versioned_file_name(next.get(), "root"));
            let bytes = match self.fetcher.fetch(&url, limits.max_root_bytes) {
                Ok(bytes) => bytes,
                Err(FetchError::NotFound { .. }) => break,
                Err(e) => return Err(e.into()),
            };
            state.update_root(&bytes, now)?;
            if state.fast_forward_recovery_needed() {
                // §5.3.11: before the new root is stored, so a crash cannot leave the
                // new root beside a timestamp/snapshot it would not have kept.
                self.store.remove("timestamp")?;
                self.store.remove("snapshot")?;
            }
            self.store.store("root", &bytes)?;
        }
        Ok(())
    }

    /// §5.4: the stored timestamp as the rollback baseline, then `timestamp.json`.
    fn update_timestamp(
        &self,
        state: &mut TrustedState,
        now: DateTime<Utc>,
    ) -> Result<(), ClientError> {
        let limits = &self.config.limits;
        if let Some(local) = self.store.load("timestamp", limits.max_timestamp_bytes)? {
            match state.load_local_timestamp(&local, now) {
                Ok(()) => {}
                // §5.3.11: the timestamp or snapshot keys rotated; the stored copies are
                // no baseline any more (fast-forward recovery).
                Err(Error::KeysRotated { .. }) => {
                    self.store.remove("timestamp")?;
                    self.store.remove("snapshot")?;
                }
                Err(e) => return Err(self.unusable_baseline("timestamp", e)),
            }
        }
        let url = self.metadata_url("timestamp.json");
        let bytes = self.fetcher.fetch(&url, limits.max_timestamp_bytes)?;
        match state.update_timestamp(&bytes, now)? {
            TimestampUpdate::Updated => self.store.store("timestamp", &bytes)?,
            TimestampUpdate::Unchanged => {}
        }
        Ok(())
    }

    /// §5.5: the stored snapshot (kept if it is the one the timestamp names), else
    /// `V.snapshot.json`.
    fn update_snapshot(
        &self,
        state: &mut TrustedState,
        now: DateTime<Utc>,
    ) -> Result<(), ClientError> {
        let limits = &self.config.limits;
        if let Some(local) = self.store.load("snapshot", limits.max_snapshot_bytes)? {
            match state.load_local_snapshot(&local, now) {
                Ok(LocalSnapshot::Current) => return Ok(()),
                // Verified, and now the baseline of §5.5.5; not the one the timestamp
                // names, which is fetched below.
                Ok(LocalSnapshot::Intermediate { .. }) => {}
                // §5.3.11: no baseline after a rotation of the snapshot keys.
                Err(Error::KeysRotated { .. }) => self.store.remove("snapshot")?,
                Err(e) => return Err(self.unusable_baseline("snapshot", e)),
            }
        }
        let meta = state
            .snapshot_meta()
            .cloned()
            .ok_or_else(|| Error::MissingRole {
                role: "snapshot".to_owned(),
            })?;
        let name = if state.root().consistent_snapshot() {
            versioned_file_name(meta.version.get(), "snapshot")
        } else {
            "snapshot.json".to_owned()
        };
        let url = self.metadata_url(&name);
        let bytes = match meta.length {
            Some(length) => fetch_exact(&self.fetcher, &url, "snapshot", length.get())?,
            None => self.fetcher.fetch(&url, limits.max_snapshot_bytes)?,
        };
        state.update_snapshot(&bytes, now)?;
        self.store.store("snapshot", &bytes)?;
        Ok(())
    }

    /// Why a stored timestamp or snapshot that is present could not be loaded as the
    /// rollback baseline: [`ClientError::UnusableStored`], unless the failure is not
    /// about the file (the final root or the timestamp expired: the update itself
    /// fails the same way, §5.3.10, §5.4.4).
    ///
    /// The update stops rather than going on without the baseline. The store holds only
    /// bytes that verified when they were stored, and a rotation of the keys that sign
    /// them is handled above (§5.3.11); a copy that no longer loads was changed by
    /// something else (corruption, another program, a file name shared on a
    /// case-insensitive file system). Going on without it would let a mirror replay
    /// older metadata (§5.4.3, §5.5.5), which is what the stored copy is there to
    /// prevent. python-tuf logs and goes on; like it, a stored root that does not load
    /// is an error (§5.2), and here so is the rest of the baseline. Deleting the file is
    /// the explicit way to give it up.
    fn unusable_baseline(&self, role: &str, error: Error) -> ClientError {
        match error {
            Error::Expired { .. } | Error::OutOfOrder { .. } => error.into(),
            source => ClientError::UnusableStored {
                role: role.to_owned(),
                path: self.store.path_of(role),
                source: Box::new(source),
            },
        }
    }

    /// §5.6: targets role `role` as delegated by `delegator` (`root` for `targets`):
    /// bytes already handed over in this session, else the stored copy if it is still
    /// the one the snapshot names, else (unless local-only) a download.
    ///
    /// Safe to call from several threads: the role's load lock is held throughout, so
    /// one role is fetched once; the session lock is held only to read the state or to
    /// hand bytes to it, never while reading the disk or the network.
    fn load_targets_role(
        &self,
        delegator: &str,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ClientError> {
        let limits = &self.config.limits;
        let role_lock = Arc::clone(lock(&self.role_loads).entry(role.to_owned()).or_default());
        let _loading = lock(&role_lock);
        let (meta, consistent, local_only) = {
            let mut session = lock(&self.session);
            let Session {
                state,
                delegated_bytes,
                local_only,
            } = &mut *session;
            let state = state.as_mut().ok_or_else(no_trusted_state)?;
            if is_trusted_via(state, delegator, role) {
                // Another lookup loaded it while this one waited for the role lock.
                return Ok(());
            }
            if let Some(held) = delegated_bytes.get(role) {
                // Reached before through another delegator: the same bytes, checked
                // against this delegator's keys. A failure here is final.
                apply(state, delegator, role, held, now)?;
                return Ok(());
            }
            let meta = state
                .role_meta(role)
                .cloned()
                .ok_or_else(|| Error::MissingRole {
                    role: role.to_owned(),
                })?;
            (meta, state.root().consistent_snapshot(), *local_only)
        };
        // A stored targets role is a cache of what the snapshot names, not a rollback
        // baseline (the snapshot's versions are, §5.5.5): online, an unusable copy is
        // fetched again; offline, the reason is the answer.
        let stored = match self.store.load(role, limits.max_targets_bytes) {
            Err(unusable @ ClientError::UnusableStored { .. }) if local_only => {
                return Err(unusable)
            }
            Err(ClientError::UnusableStored { .. }) => None,
            other => other?,
        };
        if let Some(local) = stored {
            let applied = self.hand_over(delegator, role, &local, now);
            match applied {
                Ok(()) => {
                    self.remember(delegator, role, local);
                    return Ok(());
                }
                // Offline there is nothing better: say why the stored copy is unusable.
                Err(reason) if local_only => return Err(reason.into()),
                Err(_) => {}
            }
        }
        if local_only {
            return Err(not_stored(role));
        }
        let encoded = encode_component(role);
        let name = if consistent {
            versioned_file_name(meta.version.get(), &encoded)
        } else {
            format!("{encoded}.json")
        };
        let url = self.metadata_url(&name);
        let bytes = match meta.length {
            Some(length) => fetch_exact(&self.fetcher, &url, role, length.get())?,
            None => self.fetcher.fetch(&url, limits.max_targets_bytes)?,
        };
        self.hand_over(delegator, role, &bytes, now)?;
        self.store.store(role, &bytes)?;
        self.remember(delegator, role, bytes);
        Ok(())
    }

    /// Give `bytes` to the trusted state as `role` delegated by `delegator`.
    fn hand_over(
        &self,
        delegator: &str,
        role: &str,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut session = lock(&self.session);
        let state = session.state.as_mut().ok_or_else(|| Error::OutOfOrder {
            step: "load_targets_role",
            reason: "no trusted state".to_owned(),
        })?;
        apply(state, delegator, role, bytes, now)
    }

    fn remember(&self, delegator: &str, role: &str, bytes: Vec<u8>) {
        if delegator != ROOT_DELEGATOR {
            lock(&self.session)
                .delegated_bytes
                .insert(role.to_owned(), bytes);
        }
    }

    fn walk(
        &self,
        path: &TargetPath,
        now: DateTime<Utc>,
    ) -> Result<Option<TargetInfo>, ClientError> {
        // Each round either ends or makes one more (delegator, role) trusted, and a walk
        // visits at most `max_delegations_visited` roles; the bound is a backstop.
        let rounds = self
            .config
            .limits
            .max_delegations_visited
            .saturating_mul(2)
            .saturating_add(2);
        for _ in 0..rounds {
            let step = self.with_state(|state| -> Result<_, ClientError> {
                Ok(match delegation::find_target(state, path)? {
                    Lookup::Found {
                        role,
                        target,
                        visited,
                        ..
                    } => {
                        check_visited_unexpired(&visited, now)?;
                        Step::Done(Some(TargetInfo {
                            path: path.clone(),
                            file: target.clone(),
                            role,
                        }))
                    }
                    Lookup::NotFound { visited } => {
                        // An absence is vouched for by every role searched, the bin
                        // that would list the path included: none may have expired.
                        check_visited_unexpired(&visited, now)?;
                        Step::Done(None)
                    }
                    Lookup::Load { delegator, role } => Step::Load { delegator, role },
                })
            })??;
            match step {
                Step::Done(found) => return Ok(found),
                Step::Load { delegator, role } => {
                    self.load_targets_role(&delegator, &role, now)?;
                }
            }
        }
        Err(Error::TooMany {
            role: "targets".to_owned(),
            what: "delegated role loads in one lookup",
            found: rounds,
            limit: rounds,
        }
        .into())
    }

    fn metadata_url(&self, file: &str) -> String {
        format!("{}{file}", self.config.metadata_base_url)
    }
}

/// One round of a lookup: an answer, or a role to load first.
enum Step {
    Done(Option<TargetInfo>),
    Load { delegator: String, role: String },
}

/// Hand `bytes` to `state` as targets role `role` of `delegator` (§5.6).
fn apply(
    state: &mut TrustedState,
    delegator: &str,
    role: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if delegator == ROOT_DELEGATOR {
        state.update_targets(bytes, now).map(|_| ())
    } else {
        state
            .update_delegated(delegator, role, bytes, now)
            .map(|_| ())
    }
}

/// Whether `role` is already trusted as delegated by `delegator`.
fn is_trusted_via(state: &TrustedState, delegator: &str, role: &str) -> bool {
    if delegator == ROOT_DELEGATOR {
        state.targets().is_some()
    } else {
        state.delegated_via(delegator, role).is_some()
    }
}

/// §5.3.10, §5.4.4, §5.5.6, §5.6.5 again at `now`, for a state verified earlier.
fn check_top_level_unexpired(state: &TrustedState, now: DateTime<Utc>) -> Result<(), Error> {
    // The root's expiry was checked when the chain ended (§5.3.10); a root that expires
    // before the timestamp must stop the answers too.
    check_expiry("root", &**state.root(), now)?;
    if let Some(timestamp) = state.timestamp() {
        check_expiry("timestamp", &**timestamp, now)?;
    }
    if let Some(snapshot) = state.snapshot() {
        check_expiry("snapshot", &**snapshot, now)?;
    }
    if let Some(targets) = state.targets() {
        check_expiry("targets", &**targets, now)?;
    }
    Ok(())
}

/// §5.6.5 again at `now` for every role a finished walk read: they may have been
/// loaded long before `now`, and each one's answer (a target, a delegation onwards, or
/// no entry) shaped the result.
fn check_visited_unexpired(visited: &[Visited<'_>], now: DateTime<Utc>) -> Result<(), Error> {
    for entry in visited {
        check_expiry(&entry.role, entry.metadata, now)?;
    }
    Ok(())
}

fn no_trusted_state() -> ClientError {
    ClientError::Config {
        reason: "no trusted state: refresh (or load_local) first".to_owned(),
    }
}

fn not_stored(role: &str) -> ClientError {
    ClientError::NotStored {
        role: role.to_owned(),
    }
}

/// Lock, ignoring poisoning: the session changes only through `TrustedState` steps,
/// which leave the state as it was when they fail, and whole-value assignments.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The URL path of a target: each segment percent-encoded (only `A-Za-z0-9_.-~` kept),
/// and with `hash_prefix`, the basename prefixed by its hash: `dir/HASH.name` (TUF
/// §5.7.3). The SHA-256 is used when listed, else the first listed algorithm.
pub fn target_url_path(path: &TargetPath, file: &TargetFile, hash_prefix: bool) -> String {
    let mut segments: Vec<String> = path.segments().map(encode_component).collect();
    if hash_prefix {
        let digest = file
            .hashes
            .get("sha256")
            .or_else(|| file.hashes.values().next())
            .map(|d| hex::encode(d.as_bytes()));
        if let (Some(digest), Some(last)) = (digest, segments.last_mut()) {
            *last = format!("{digest}.{last}");
        }
    }
    segments.join("/")
}

/// Fetch a file whose exact length trusted metadata gives: more bytes than that is a
/// length mismatch (TUF §5.5.2, §5.6.2, §5.7.3), found while reading at most one byte
/// past it.
fn fetch_exact<F: Fetcher>(
    fetcher: &F,
    url: &str,
    what: &str,
    length: u64,
) -> Result<Vec<u8>, ClientError> {
    match fetcher.fetch(url, length) {
        Err(FetchError::TooLarge { .. }) => Err(Error::LengthMismatch {
            what: what.to_owned(),
            expected: length,
            found: length.saturating_add(1),
        }
        .into()),
        other => Ok(other?),
    }
}

fn read_if_exists(path: &Path, length: u64) -> Result<Option<Vec<u8>>, ClientError> {
    match std::fs::File::open(path) {
        Ok(file) => Ok(crate::fetch::read_capped(file, length).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClientError::io(path, e)),
    }
}

fn ensure_trailing_slash(url: &mut String) {
    if !url.ends_with('/') {
        url.push('/');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tuf_core::metadata::{HexDigest, Length};

    #[test]
    fn target_urls() {
        let sha = [0xab; 32];
        let file = TargetFile::from_parts(3, sha);
        let path = TargetPath::parse("se/rd/serde").unwrap();
        assert_eq!(target_url_path(&path, &file, false), "se/rd/serde");
        assert_eq!(
            target_url_path(&path, &file, true),
            format!("se/rd/{}.serde", "ab".repeat(32))
        );
        let odd = TargetPath::parse("a b/c?d#").unwrap();
        assert_eq!(target_url_path(&odd, &file, false), "a%20b/c%3Fd%23");
        let mut only512 = file.clone();
        only512.hashes = BTreeMap::from([("sha512".into(), HexDigest::new(vec![0xcd; 64]))]);
        only512.length = Length::new(1);
        assert_eq!(
            target_url_path(&TargetPath::parse("x").unwrap(), &only512, true),
            format!("{}.x", "cd".repeat(64))
        );
    }
}
