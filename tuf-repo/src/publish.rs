//! Publish, refresh and prune a TUF repository for a Cargo sparse index on disk.
//!
//! # Directories
//!
//! ```text
//! INDEX/                 the sparse index, owned and served by the registry
//! REPO/metadata/         served at the metadata URL: N.root.json, N.targets.json,
//!                        N.crates-bin-XXX.json, N.snapshot.json, timestamp.json
//! REPO/targets/          served at the targets URL: hash-named copies, se/rd/HASH.serde
//! REPO/state/            never served: manifest, manifest.journal, retired, lock
//! ```
//!
//! # A publish
//!
//! 1. Take the repository lock (one publisher at a time).
//! 2. Load the published state as a client would (newest root, `timestamp.json`, the
//!    snapshot it names, the targets that names), verified; after a root rotation that
//!    replaced the keys it was signed with, under the older root that signed it, and
//!    then every bin, the snapshot and the timestamp are signed again (TUF §5.3.11).
//! 3. Find what changed: the paths a registry's publish hook names ([`Changes::Paths`],
//!    work proportional to the change), or a scan of the whole index that re-hashes only
//!    files whose length or mtime differ from the manifest ([`Changes::Scan`]).
//!    Hashing a file also writes its hash-named copy.
//! 4. Let [`tuf_core::repo`] sign: every bin on the first publish (or when the offline
//!    targets changed), otherwise only the bins that changed; then snapshot, then
//!    timestamp.
//! 5. Write bins and snapshot (temp + rename), make them and the new target copies
//!    durable, then write `timestamp.json` the same way, last. A new root
//!    ([`PublishOptions::new_root`]) is written in that last batch, just before
//!    `timestamp.json`: a client looks for `N+1.root.json` first (TUF §5.3), so once it is
//!    there the timestamp must be one that root trusts.
//! 6. Record the manifest, and the files the new state no longer names in `retired`;
//!    delete retired files older than the grace period.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, Utc};
use tuf_core::crypto::Signer;
use tuf_core::metadata::{versioned_file_name, RoleType, SignedMetadata, TargetPath};
use tuf_core::repo::{
    self, offline, Change, Expiries, OnlineSigners, Policy, Publication, PublishedState,
    TargetEntry, VersionFloors,
};
use tuf_core::Limits;

use crate::error::Error;
use crate::feeds;
use crate::files::{self, BatchWriter};
use crate::hashing::{self, CopyKind, CopyTo, Hashed, HashedFile, ReadRules, RefusedFile, Scanned};
use crate::lock::RepoLock;
use crate::manifest::{self, JournalRecord, Manifest};
use crate::progress::{units, Progress, Silent, Stage, StageGuard};
use crate::published::{self, MetadataReader, StateDigests, PROGRESS_EVERY};

/// A repository: the index it signs and the directory it publishes to, and the published
/// state it last verified or signed (see [`StateCache`]: a registry's publish service keeps
/// one `Repository` and publishes through it, so an incremental publish need not parse and
/// verify the snapshot again). Clones share that state.
#[derive(Debug, Clone)]
pub struct Repository {
    index: PathBuf,
    repo: PathBuf,
    cache: StateCache,
}

impl Repository {
    /// The repository at `repo` signing the index at `index`.
    pub fn new(index: impl Into<PathBuf>, repo: impl Into<PathBuf>) -> Self {
        Self {
            index: index.into(),
            repo: repo.into(),
            cache: StateCache::default(),
        }
    }

    /// Forget the published state this value keeps between publishes (see [`StateCache`]);
    /// the next publish loads and verifies it in full.
    pub fn forget_state(&self) {
        *self.cache.lock() = None;
    }

    /// The index directory.
    pub fn index_dir(&self) -> &Path {
        &self.index
    }

    /// Where metadata is written (served at the metadata URL).
    pub fn metadata_dir(&self) -> PathBuf {
        self.repo.join("metadata")
    }

    /// Where hash-named target copies are written (served at the targets URL).
    pub fn targets_dir(&self) -> PathBuf {
        self.repo.join("targets")
    }

    /// Publisher state (never served).
    pub fn state_dir(&self) -> PathBuf {
        self.repo.join("state")
    }

    /// Write version 1 of root and targets, created and signed with `keys`, for a new
    /// repository, with release feeds on ([`feeds::set_enabled`]). Fails if the
    /// repository already has a root.
    pub fn init(
        &self,
        policy: &Policy,
        keys: &offline::RepoKeys<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let root_path = self.metadata_dir().join("1.root.json");
        if root_path.exists() {
            return Err(Error::Io {
                op: "init",
                path: root_path,
                source: std::io::ErrorKind::AlreadyExists.into(),
            });
        }
        let roles = offline::create(policy, keys, now).map_err(Error::tuf("init"))?;
        // A new repository publishes release feeds (docs/feeds.md).
        feeds::set_enabled(&self.state_dir(), true)?;
        let mut writer = BatchWriter::new(None);
        writer.write(&self.metadata_dir().join("1.targets.json"), &roles.targets)?;
        writer.write(&root_path, &roles.root)?;
        writer.commit()
    }

    /// The newest root on disk, with its version: `N.root.json` found as a client finds
    /// it (TUF §5.3: counting up from `1.root.json` until the next version is missing),
    /// `None` before root v1 is published. The one way the publisher and the `tuf`
    /// commands find the root in force; it reads the roots, never lists `metadata/` (which
    /// holds thousands of bins).
    pub fn published_root(&self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        published::newest(&self.reader(), "root", 1)
    }

    /// [`Repository::published_root`], which must exist.
    pub fn newest_root(&self) -> Result<(u64, Vec<u8>), Error> {
        published::newest_root(&self.reader())
    }

    /// The metadata directory as a [`MetadataReader`].
    pub fn reader(&self) -> LocalMetadata {
        LocalMetadata(self.metadata_dir())
    }

    /// The published state, `None` before the first publish, verified under `root`
    /// (version `root_version`) or, failing that, under an older root on disk (see
    /// [`published`]).
    pub fn load_state(
        &self,
        root: &[u8],
        root_version: u64,
        limits: &Limits,
    ) -> Result<Option<PublishedState>, Error> {
        Ok(self
            .load_state_keyed(root, root_version, limits)?
            .map(|(state, _)| state))
    }

    /// [`Repository::load_state`], with what it was verified from.
    fn load_state_keyed(
        &self,
        root: &[u8],
        root_version: u64,
        limits: &Limits,
    ) -> Result<Option<(PublishedState, StateKey)>, Error> {
        let reader = self.reader();
        let timestamp = reader.read(repo::TIMESTAMP_FILE)?;
        let loaded =
            published::load_state(&reader, timestamp.as_deref(), root, root_version, limits)?;
        Ok(loaded.map(|(state, digests)| {
            let key = StateKey {
                metadata_dir: self.metadata_dir(),
                limits: limits.clone(),
                digests,
            };
            (state, key)
        }))
    }

    /// [`Repository::load_state_keyed`], served from this value's [`StateCache`] when
    /// the root, `timestamp.json` and the targets file on disk are byte for byte the ones
    /// the cached state was verified from or signed as (see [`StateCache`]).
    fn load_state_cached(
        &self,
        root: &[u8],
        root_version: u64,
        limits: &Limits,
    ) -> Result<Option<(PublishedState, StateKey)>, Error> {
        let dir = self.metadata_dir();
        let cached = self.cache.lock().clone();
        if let Some((state, key)) = cached {
            if key.metadata_dir == dir && &key.limits == limits && key.digests.root == sha256(root)
            {
                let timestamp = files::read_optional(&dir.join(repo::TIMESTAMP_FILE))?;
                let targets = files::read_optional(&dir.join(state.targets_file()))?;
                if timestamp.is_some_and(|t| sha256(&t) == key.digests.timestamp)
                    && targets.is_some_and(|t| sha256(&t) == key.digests.targets)
                {
                    return Ok(Some((state, key)));
                }
            }
        }
        let loaded = self.load_state_keyed(root, root_version, limits)?;
        *self.cache.lock() = loaded.clone();
        Ok(loaded)
    }
}

/// A local metadata directory as a [`MetadataReader`].
#[derive(Debug, Clone)]
pub struct LocalMetadata(PathBuf);

impl MetadataReader for LocalMetadata {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        files::read_optional(&self.0.join(name))
    }

    fn locate(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

/// What a cached [`PublishedState`] was verified from: the metadata directory, the
/// limits, and the SHA-256 of the exact bytes of the newest root, `timestamp.json` and
/// the top-level targets file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StateKey {
    metadata_dir: PathBuf,
    /// The limits the state was verified under: a publish with other limits loads it
    /// again, so it is refused exactly when a fresh load would refuse it.
    limits: Limits,
    digests: StateDigests,
}

/// The published state a [`Repository`] value last loaded or published, kept in that value
/// (no process-global state), so a long-running publisher (a registry's publish service calling [`publish`] for every
/// crate version) does not parse and verify the ~185 KB snapshot again on every publish.
///
/// Why this is sound, i.e. never trusts metadata a fresh load would refuse:
///
/// * An entry is made only (a) from a state [`Repository::load_state_keyed`] just
///   verified in full from exactly the bytes whose hashes it records, or (b) after a
///   publish, from the [`Publication::state`] the editor built while signing it, keyed by
///   the hash of the `timestamp.json` bytes this process itself signed and wrote (the
///   root and targets bytes are unchanged from the load that verified them). In (b) the
///   state is what verifying those bytes would give: the timestamp names the snapshot by
///   length and SHA-256, and that snapshot is the one the editor signed from the
///   cached `Snapshot` value.
/// * It is used only when the newest root, `timestamp.json` and the named targets file on
///   disk hash to exactly the recorded values. Any other change (another publisher, a
///   `refresh`, an operator restoring a backup, tampering with the served directory, a
///   new root or targets) misses, and the state is loaded and verified in full. The
///   snapshot file is not re-read on a hit: the timestamp (ours, byte for byte) binds its
///   hash, and the publisher does not read anything else from it. A tampered snapshot
///   file would be refused by clients, as it would be after a full load; the next
///   publish replaces it. Bins are still read and verified from disk on every publish.
/// * A SHA-256 collision is assumed infeasible; the cache lives in process memory, which
///   already holds the online signing keys. A failed publish leaves the entry as it was
///   before the publish, keyed by the old `timestamp.json`: if the new one was written
///   anyway, the key misses.
///
/// One entry per [`Repository`] value; its clones share it. [`Repository::forget_state`]
/// empties it (the benchmark uses it to measure a publish from a fresh process).
#[derive(Debug, Clone, Default)]
struct StateCache(Arc<std::sync::Mutex<Option<(PublishedState, StateKey)>>>);

impl StateCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(PublishedState, StateKey)>> {
        // A panic while holding the lock cannot leave a half-written entry (it is replaced
        // whole), so a poisoned lock is still usable.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    tuf_core::hash::sha256(bytes)
}

/// The online keys.
#[derive(Debug, Clone)]
pub struct OnlineKeys {
    /// Bin keys.
    pub bins: Vec<Arc<dyn Signer>>,
    /// Snapshot keys.
    pub snapshot: Vec<Arc<dyn Signer>>,
    /// Timestamp keys.
    pub timestamp: Vec<Arc<dyn Signer>>,
}

impl OnlineKeys {
    /// One key for bins, snapshot and timestamp (the default layout of a registry).
    pub fn single(key: Arc<dyn Signer>) -> Self {
        Self {
            bins: vec![key.clone()],
            snapshot: vec![key.clone()],
            timestamp: vec![key],
        }
    }

    pub(crate) fn with_signers<T>(&self, f: impl FnOnce(&OnlineSigners<'_>) -> T) -> T {
        let bins: Vec<&dyn Signer> = self.bins.iter().map(|k| k.as_ref()).collect();
        let snapshot: Vec<&dyn Signer> = self.snapshot.iter().map(|k| k.as_ref()).collect();
        let timestamp: Vec<&dyn Signer> = self.timestamp.iter().map(|k| k.as_ref()).collect();
        f(&OnlineSigners {
            bins: &bins,
            snapshot: &snapshot,
            timestamp: &timestamp,
        })
    }
}

/// A root to publish with the online roles: `N+1.root.json` as its key holders signed it.
///
/// [`publish`] checks that it follows the newest root on disk, signs the online roles
/// under it, and writes it in the last batch, just before `timestamp.json` and after every
/// bin and the snapshot it needs are durable. A client looks for `N+1.root.json` before
/// anything else (TUF §5.3) and refuses a timestamp signed by keys the new root revoked
/// (§5.3.11), so the new root must not be visible before the timestamp signed under it:
/// written this way, the window is the time between two renames. If the publish fails
/// before that batch, nothing of the new root is written.
#[derive(Debug, Clone)]
pub struct NewRoot {
    version: u64,
    bytes: Vec<u8>,
}

impl NewRoot {
    /// `bytes` (a signed root's file, written as is), parsed. Signatures are checked by
    /// [`publish`], against the root it follows.
    pub fn parse(bytes: Vec<u8>, limits: &Limits) -> Result<Self, Error> {
        let meta = SignedMetadata::parse(&bytes, RoleType::Root, limits)
            .map_err(Error::tuf("new root"))?;
        let root: tuf_core::metadata::Root = meta
            .decode_unverified("root", limits)
            .map_err(Error::tuf("new root"))?;
        Ok(Self {
            version: root.version.get(),
            bytes,
        })
    }

    /// Its version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Its bytes, as its key holders signed it.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Its file name in the metadata directory: `N.root.json` (TUF §5.3 with consistent
    /// snapshots: roots are always versioned).
    pub fn file_name(&self) -> String {
        versioned_file_name(self.version, "root")
    }
}

/// What changed in the index since the last publish.
#[derive(Debug, Clone)]
pub enum Changes {
    /// Walk the whole index; hash files whose length or mtime changed.
    Scan,
    /// Exactly these index paths changed (added, modified or deleted), as a registry's
    /// publish hook knows. Work is proportional to this list.
    Paths(Vec<String>),
}

/// How to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Expiry periods of the online roles.
    pub expiry: Expiries,
    /// Write hash-named target copies (`se/rd/HASH.serde`) so clients fetch immutable
    /// targets, as TUF consistent snapshots expect (default on; see docs/repository.md).
    pub target_copies: bool,
    /// Make each target copy a hard link to its index file instead of writing its bytes
    /// again (default off). Only for a registry that replaces index files by rename and
    /// never rewrites one in place (docs/repository.md, "Linked copies").
    pub link_copies: bool,
    /// How long files the current state no longer names are kept (default 1 hour).
    pub grace: TimeDelta,
    /// Signing time.
    pub now: DateTime<Utc>,
    /// Limits (the target size cap comes from here).
    pub limits: Limits,
    /// How long to wait for another publish holding the lock (default 10 s).
    pub lock_wait: std::time::Duration,
    /// A new root to publish with this publish (see [`NewRoot`]); `None` by default.
    pub new_root: Option<NewRoot>,
    /// Test hook: fail with [`Error::Injected`] after this many metadata write steps.
    pub fail_after_writes: Option<usize>,
    /// On object storage ([`crate::remote`]): how many attempts a publish makes when it
    /// loses a race to another publisher (default 20) before [`Error::LostRace`].
    pub max_attempts: u32,
    /// On object storage: the first wait between attempts, doubled each time (up to
    /// 64×) and jittered (default 20 ms).
    pub retry_backoff: std::time::Duration,
    /// Test hook, on object storage: sleep this long after this many uploads of an
    /// attempt (or, when it has no more, just before the timestamp swap), so a test can
    /// kill the publisher mid-publish.
    pub pause_after_uploads: Option<(usize, std::time::Duration)>,
    /// Told how the long stages (scan, signing, writing) advance; [`Silent`] by default.
    pub progress: Arc<dyn Progress>,
}

impl PublishOptions {
    /// Defaults, signing at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            expiry: Expiries::default(),
            target_copies: true,
            link_copies: false,
            grace: TimeDelta::hours(1),
            now,
            limits: Limits::default(),
            lock_wait: std::time::Duration::from_secs(10),
            new_root: None,
            fail_after_writes: None,
            max_attempts: 20,
            retry_backoff: std::time::Duration::from_millis(20),
            pause_after_uploads: None,
            progress: Arc::new(Silent),
        }
    }
}

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishKind {
    /// The first publish: every bin.
    First,
    /// Every bin again (the offline targets changed, or the manifest was lost).
    Full,
    /// Only changed bins.
    Incremental,
    /// Online roles near expiry re-signed.
    Refresh,
}

/// Counts from a publish or refresh.
#[derive(Debug, Clone)]
pub struct PublishReport {
    /// What kind of publish it was.
    pub kind: PublishKind,
    /// Index files looked at.
    pub files_seen: usize,
    /// Index files hashed (the rest were known from the manifest).
    pub files_hashed: usize,
    /// Files under the index that are not index files (not signed).
    pub skipped: Vec<String>,
    /// Index files that changed (or are new) but were not signed, and why: a verifier
    /// would refuse them, or they are symbolic links or not regular files. Each keeps
    /// the version signed before, if any. Sorted by path.
    pub refused: Vec<RefusedFile>,
    /// Bins signed.
    pub bins_signed: usize,
    /// Metadata files written.
    pub metadata_written: usize,
    /// Target copies written (linked ones included).
    pub copies_written: usize,
    /// Of those, copies made as hard links to their index files.
    pub copies_linked: usize,
    /// Index files that changed while another link to them existed: the registry
    /// rewrote them in place, so their earlier linked copies no longer hold what was
    /// signed for them (their new copies were written, not linked). Sorted.
    pub modified_in_place: Vec<String>,
    /// Retired files deleted after their grace period, and stale temporary files deleted
    /// (see [`prune`]).
    pub pruned: usize,
    /// Snapshot version now published.
    pub snapshot_version: u64,
    /// Timestamp version now published.
    pub timestamp_version: u64,
    /// Wall time spent waiting for the disk to make writes durable (fsync / syncfs).
    pub sync_wait: std::time::Duration,
    /// The version of the new root ([`PublishOptions::new_root`]) this run wrote, just
    /// before `timestamp.json`. It is committed as its key holders signed it, so it is
    /// counted in neither `metadata_written` nor `roles_signed`.
    pub root_committed: Option<u64>,
    /// The roles this run signed, in writing order, each once: of `root`, `targets`,
    /// `bins`, `snapshot`, `timestamp` (root and targets only when first written here).
    pub roles_signed: Vec<&'static str>,
    /// When each published role expires after this run; `None` before anything is
    /// published.
    pub expires: Option<RoleExpiries>,
    /// Attempts made: 1, or more on object storage when races with other publishers
    /// were lost and the publish redone ([`crate::remote`]).
    pub attempts: u32,
    /// Feed targets written (changed feeds; docs/feeds.md).
    pub feeds_written: usize,
    /// Feed items this publish added (publishes, yanks, un-yanks, deletions), counted per
    /// crate feed and in the updates feed.
    pub feed_items: usize,
}

/// When the published roles expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleExpiries {
    /// The newest root.
    pub root: DateTime<Utc>,
    /// The top-level targets.
    pub targets: DateTime<Utc>,
    /// A lower bound on the earliest bin expiry (`state/bins-expire`: exact after a full
    /// publish or a refresh that read every bin; an incremental publish only makes bins
    /// expire later). `None` when it is not recorded.
    pub bins: Option<DateTime<Utc>>,
    /// The snapshot.
    pub snapshot: DateTime<Utc>,
    /// The timestamp.
    pub timestamp: DateTime<Utc>,
}

impl RoleExpiries {
    /// The earliest expiry of the online roles (timestamp, snapshot, bins): when a
    /// refresh is due at the latest.
    pub fn earliest_online(&self) -> DateTime<Utc> {
        let online = self.timestamp.min(self.snapshot);
        self.bins.map_or(online, |bins| online.min(bins))
    }
}

impl PublishReport {
    /// A report of `kind` with nothing counted yet.
    pub(crate) fn empty(kind: PublishKind) -> Self {
        Self {
            kind,
            files_seen: 0,
            files_hashed: 0,
            skipped: Vec::new(),
            refused: Vec::new(),
            bins_signed: 0,
            metadata_written: 0,
            copies_written: 0,
            copies_linked: 0,
            modified_in_place: Vec::new(),
            pruned: 0,
            snapshot_version: 0,
            timestamp_version: 0,
            sync_wait: std::time::Duration::ZERO,
            root_committed: None,
            roles_signed: Vec::new(),
            expires: None,
            attempts: 1,
            feeds_written: 0,
            feed_items: 0,
        }
    }
}

/// Publish the current state of the index (see the module documentation).
pub fn publish(
    repository: &Repository,
    keys: &OnlineKeys,
    changes: &Changes,
    options: &PublishOptions,
) -> Result<PublishReport, Error> {
    let state_dir = repository.state_dir();
    let _lock = RepoLock::acquire_within(&state_dir.join("lock"), options.lock_wait)?;
    let limits = &options.limits;
    let progress = options.progress.as_ref();
    let reader = repository.reader();
    let (root_version, root) =
        published::root_in_force(&reader, options.new_root.as_ref(), options.now, limits)?;
    let (state, state_key) = match repository.load_state_cached(&root, root_version, limits)? {
        Some((state, key)) => (Some(state), Some(key)),
        None => (None, None),
    };
    recover_retiring(&state_dir, state.as_ref())?;
    let mut plan = published::plan(&reader, state.as_ref(), root_version)?;
    // Feeds are read back from the target copies, so they need them (docs/feeds.md).
    let feeds_setting = feeds::setting(&state_dir)?;
    let feeds_on = options.target_copies && feeds_setting == Some(true);
    // Switched on for a repository published without them: build every feed now.
    // Switched off for one published with them: drop them all now. Without the setting
    // (a repository made before feeds) there is nothing to look for.
    let (feed_backfill, feed_drop) = match (&state, plan.full, feeds_setting) {
        (Some(state), None, Some(_)) => {
            let published = feeds::published(&reader, state, limits)?;
            (feeds_on && !published, !feeds_on && published)
        }
        _ => (false, false),
    };
    if feed_backfill || feed_drop {
        plan.full = Some(PublishKind::Full);
    }
    let targets_dir = repository.targets_dir();
    let copy = options.target_copies.then_some(CopyTo {
        dir: &targets_dir,
        link: options.link_copies,
    });
    let now_ns = real_now_ns();
    let rules = ReadRules {
        max_bytes: limits.max_target_bytes,
        index_limits: &limits.index,
    };

    let old_manifest = match (&state, changes, plan.full) {
        (Some(_), Changes::Paths(_), None) => Manifest::default(),
        _ => Manifest::load(&state_dir)?,
    };
    // Without a manifest a scan cannot see deletions; sign every bin from the scan.
    if plan.full.is_none() && matches!(changes, Changes::Scan) && old_manifest.entries.is_empty() {
        plan.full = Some(PublishKind::Full);
    }
    let full = plan.full;

    let mut writer = BatchWriter::new(options.fail_after_writes);
    let mut report = PublishReport::empty(full.unwrap_or(PublishKind::Incremental));

    // Find what changed, hash it, write its copies.
    let mut new_manifest: Option<Manifest> = None;
    let mut journal: Vec<(String, Option<manifest::ManifestEntry>)> = Vec::new();
    let mut edit_changes: Vec<Change> = Vec::new();
    let mut all_entries: Vec<TargetEntry> = Vec::new();
    let mut retired_copies: Vec<TargetEntry> = Vec::new();
    match (changes, full.is_some()) {
        (Changes::Paths(paths), false) => {
            let paths = hashing::check_index_paths(paths)?;
            report.files_seen = paths.len();
            for (path, hashed) in
                hashing::hash_files(repository.index_dir(), &paths, copy, rules, now_ns)?
            {
                match hashed {
                    Hashed::File(hashed) => {
                        report.files_hashed += 1;
                        note_copy(&mut writer, &mut report, &hashed);
                        journal.push((path.as_str().to_owned(), Some(hashed.manifest)));
                        edit_changes.push(Change::Put(hashed.entry));
                    }
                    Hashed::Missing => {
                        journal.push((path.as_str().to_owned(), None));
                        edit_changes.push(Change::Remove(path));
                    }
                    // No change and no journal record: the signed version stays, and
                    // the manifest keeps describing it.
                    Hashed::Refused(refusal) => report.refused.push(RefusedFile { path, refusal }),
                }
            }
        }
        _ => {
            let (paths, skipped) = hashing::walk_index(repository.index_dir())?;
            report.files_seen = paths.len();
            report.skipped = skipped;
            let scanning = StageGuard::start(progress, Stage::Scanning, units(paths.len()));
            let scanned = hashing::scan_files(
                repository.index_dir(),
                &paths,
                &old_manifest,
                copy,
                rules,
                now_ns,
                progress,
            )?;
            drop(scanning);
            let mut next = Manifest::default();
            next.entries.reserve(scanned.len());
            for item in scanned {
                let (entry, recorded, hashed) = match item {
                    Scanned::Unchanged(entry, recorded) => (entry, recorded, false),
                    Scanned::Hashed(hashed) => {
                        report.files_hashed += 1;
                        note_copy(&mut writer, &mut report, &hashed);
                        (hashed.entry, hashed.manifest, true)
                    }
                    Scanned::Refused(refused) => {
                        // The version signed before stays: the manifest keeps its entry
                        // (so the next scan reads the file again, and refuses it again
                        // until it is fixed), and a full publish signs that entry again.
                        // Its copy is the one already published. A new file is simply
                        // not signed.
                        let path = refused.path.clone();
                        report.refused.push(refused);
                        let (Some(old), Some(_)) =
                            (old_manifest.entries.get(path.as_str()), &state)
                        else {
                            continue;
                        };
                        next.entries.insert(path.as_str().to_owned(), *old);
                        if full.is_some() {
                            all_entries.push(TargetEntry {
                                path,
                                length: old.length,
                                sha256: old.sha256,
                            });
                        }
                        continue;
                    }
                };
                if let Some(old) = old_manifest.entries.get(entry.path.as_str()) {
                    if old.sha256 != entry.sha256 && full.is_some() {
                        retired_copies.push(TargetEntry {
                            path: entry.path.clone(),
                            length: old.length,
                            sha256: old.sha256,
                        });
                    }
                }
                next.entries
                    .insert(entry.path.as_str().to_owned(), recorded);
                // Every re-hashed file goes to the editor, which compares it with the
                // signed bin: the manifest may lag the signed state after a crash.
                if hashed && full.is_none() {
                    edit_changes.push(Change::Put(entry.clone()));
                }
                if full.is_some() {
                    all_entries.push(entry);
                }
            }
            for (path, old) in &old_manifest.entries {
                if !next.entries.contains_key(path) {
                    if let Ok(path) = TargetPath::parse(path) {
                        if full.is_some() {
                            retired_copies.push(TargetEntry {
                                path,
                                length: old.length,
                                sha256: old.sha256,
                            });
                        } else {
                            edit_changes.push(Change::Remove(path));
                        }
                    }
                }
            }
            new_manifest = Some(next);
        }
    }

    report.modified_in_place.sort_unstable();
    report.refused.sort_unstable_by(|a, b| a.path.cmp(&b.path));

    // Feeds off: a full publish signs none, and retires the copies of those published.
    if let (false, Some(_), Some(state)) = (feeds_on, full, &state) {
        retired_copies.extend(feeds::signed_feeds(&reader, state, limits)?);
    }
    // Feeds: from the published bytes of what changed to the new ones (crate-safe: see
    // `feeds`); their copies go in the batch with the index copies.
    if feeds_on {
        let feed_copies = feeds::LocalCopies::new(&targets_dir);
        let outcome = match (&state, full) {
            (Some(state), None) => feeds::incremental(
                &reader,
                state,
                &feed_copies,
                &edit_changes,
                limits,
                options.now,
            )?,
            (previous, _) => feeds::full(
                &reader,
                previous.as_ref(),
                previous.is_none() || feed_backfill,
                &feed_copies,
                &all_entries,
                limits,
                options.now,
            )?,
        };
        for path in &feed_copies.into_written() {
            writer.adopt(path);
        }
        report.feeds_written = outcome.feeds;
        report.feed_items = outcome.items;
        if full.is_some() {
            // A full publish has no `Edit` to report what it replaced.
            retired_copies.extend(outcome.superseded);
            all_entries.extend(outcome.entries);
        } else {
            edit_changes.extend(outcome.entries.into_iter().map(Change::Put));
        }
    }

    // Sign.
    let publication = published::sign(
        &reader,
        keys,
        state.as_ref(),
        &plan,
        &root,
        edit_changes,
        all_entries,
        &VersionFloors::new(),
        options,
    )?;
    retired_copies.extend(publication.superseded_targets.iter().cloned());
    let copies: Vec<String> = if options.target_copies {
        retired_copies
            .iter()
            .map(|e| repo::target_copy_name(&e.path, &e.sha256))
            .collect()
    } else {
        Vec::new()
    };
    stage_retiring(&state_dir, &publication, &copies)?;

    write_publication(
        repository,
        &mut writer,
        &publication,
        options.new_root.as_ref(),
        &mut report,
        progress,
    )?;
    // An incremental publish keeps root and targets; remember the state it wrote, keyed
    // by its timestamp (see `StateCache`). A full publish leaves the next publish to
    // load and verify what it wrote.
    if let (Some(key), None) = (state_key, full) {
        if let Some(timestamp) = publication
            .files
            .iter()
            .find(|f| f.kind == repo::FileKind::Timestamp)
        {
            let key = StateKey {
                digests: StateDigests {
                    timestamp: sha256(&timestamp.bytes),
                    ..key.digests
                },
                ..key
            };
            *repository.cache.lock() = Some((publication.state.clone(), key));
        }
    }

    // The timestamp is durable: record what was signed and what was retired.
    if full.is_some() {
        if let Some(earliest) = options.now.checked_add_signed(options.expiry.bins) {
            write_bins_expire(&state_dir, earliest)?;
        }
    }
    if let Some(next) = new_manifest {
        next.save(&state_dir)?;
    } else {
        let records: Vec<JournalRecord<'_>> = journal
            .iter()
            .map(|(path, entry)| match entry {
                Some(entry) => JournalRecord::Put(path, entry),
                None => JournalRecord::Remove(path),
            })
            .collect();
        manifest::append_journal(&state_dir, &records)?;
    }
    retire(&state_dir, &publication.superseded, &copies)?;
    // No sweep from the registry's hook (its work stays proportional to the change), nor
    // in a first publish: what is under `targets/` was written just now, unless by a
    // first publish that crashed, whose leftovers the next sweep (a refresh, at most an
    // hour later from cron) finds. At 200k crates that walk is ~0.5 s of a ~6 s sign.
    let hook = matches!(changes, Changes::Paths(_)) && full.is_none();
    let first = full == Some(PublishKind::First);
    report.pruned = prune_with(repository, options.now, options.grace, !hook && !first)?;
    record_expiries(&mut report, &publication, &state_dir)?;
    Ok(report)
}

/// Re-sign the online roles (bins, snapshot, timestamp) that expire within `window` of
/// `options.now`, changing nothing else. Reads and verifies every bin.
pub fn refresh(
    repository: &Repository,
    keys: &OnlineKeys,
    window: TimeDelta,
    options: &PublishOptions,
) -> Result<PublishReport, Error> {
    let state_dir = repository.state_dir();
    let _lock = RepoLock::acquire_within(&state_dir.join("lock"), options.lock_wait)?;
    let limits = &options.limits;
    let (root_version, root) = repository.newest_root()?;
    let state = repository
        .load_state(&root, root_version, limits)?
        .ok_or_else(|| Error::Missing {
            path: repository.metadata_dir().join(repo::TIMESTAMP_FILE),
            reason: "nothing published yet".to_owned(),
        })?;
    recover_retiring(&state_dir, Some(&state))?;
    published::check_refreshable(&state, root_version)?;
    let progress = options.progress.as_ref();
    let (publication, new_hint) = published::sign_refresh(
        &repository.reader(),
        keys,
        &state,
        read_bins_expire(&state_dir)?,
        window,
        &VersionFloors::new(),
        options,
    )?;
    let mut writer = BatchWriter::new(options.fail_after_writes);
    let mut report = PublishReport::empty(PublishKind::Refresh);
    stage_retiring(&state_dir, &publication, &[])?;
    write_publication(
        repository,
        &mut writer,
        &publication,
        None,
        &mut report,
        progress,
    )?;
    if let Some(earliest) = new_hint {
        write_bins_expire(&state_dir, earliest)?;
    }
    retire(&state_dir, &publication.superseded, &[])?;
    report.pruned = prune(repository, options.now, options.grace)?;
    record_expiries(&mut report, &publication, &state_dir)?;
    Ok(report)
}

/// Delete retired files whose grace period ended by `now`. A target copy named again
/// since it was retired (its mtime is newer than the retirement) is kept. At most once per
/// [`TEMP_SWEEP_EVERY`] (by `now`, recorded in `state/temp-swept`), also delete the
/// temporary files crashed writers left in `metadata/`, `targets/` and `state/` (see
/// [`remove_stale_temp_files`]). Returns the number of files deleted.
///
/// [`publish`] and [`refresh`] call it holding the repository lock.
pub fn prune(
    repository: &Repository,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> Result<usize, Error> {
    prune_with(repository, now, grace, true)
}

/// [`prune`], looking for stale temporary files only if `sweep_temps`: a publish from the
/// registry's hook (`--changed`) leaves that walk of `targets/` (every copy, ~0.4 s at
/// 200k crates on tmpfs) to scans and `refresh`, so its work stays proportional to the
/// change; stale files are only disk space, and cron's hourly refresh sweeps them.
fn prune_with(
    repository: &Repository,
    now: DateTime<Utc>,
    grace: TimeDelta,
    sweep_temps: bool,
) -> Result<usize, Error> {
    let mut deleted = prune_retired(repository, now, grace)?;
    if !sweep_temps {
        return Ok(deleted);
    }
    let state_dir = repository.state_dir();
    let marker = state_dir.join(TEMP_SWEEP_FILE);
    let last_sweep = files::read_optional(&marker)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
        .map(|t| t.with_timezone(&Utc));
    let sweep_due = match last_sweep {
        None => true,
        Some(last) => last
            .checked_add_signed(TEMP_SWEEP_EVERY)
            .is_some_and(|next| next <= now),
    };
    if sweep_due {
        let older_than = SystemTime::now()
            .checked_sub(STALE_TEMP_AGE)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        deleted += remove_stale_temp_files(repository, older_than)?;
        files::write_atomic(&marker, now.to_rfc3339().as_bytes())?;
    }
    Ok(deleted)
}

/// How old a temporary file (`.tuf-XXXXXX.tmp`, [`tuf_fs::is_temp_name`]) must be before
/// [`prune`] deletes it: 1 hour, far longer than any write takes, so such a file was left
/// by a writer that crashed (SIGKILL, power loss; a failed write removes its own). Age,
/// not the lock, is what makes it safe: the publish lock is held by publish, refresh and
/// prune, but `tuf root commit` and `tuf publish`'s commit of a staged targets write into
/// `metadata/` without it.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// How often [`prune`] looks for stale temporary files: walking `targets/` costs a `stat`
/// per index file (200k at crates.io's size), too much for every hook-driven publish of
/// one version, and nothing is lost by waiting (a leftover file is only disk space).
pub const TEMP_SWEEP_EVERY: TimeDelta = TimeDelta::hours(1);

/// `state/temp-swept`: when [`prune`] last looked for stale temporary files (RFC 3339).
const TEMP_SWEEP_FILE: &str = "temp-swept";

/// Delete the temporary files (`.tuf-XXXXXX.tmp`) under `metadata/`, `targets/` (every
/// level) and `state/` whose mtime is before `older_than`; returns how many. Nothing else
/// is touched, and symbolic links are not followed. For callers holding the repository
/// lock; `older_than` should be at least [`STALE_TEMP_AGE`] ago (see there why).
pub fn remove_stale_temp_files(
    repository: &Repository,
    older_than: SystemTime,
) -> Result<usize, Error> {
    let mut deleted = 0;
    // `metadata/` and `state/` are flat; only `targets/` has subdirectories.
    let mut stack = vec![
        (repository.metadata_dir(), false),
        (repository.state_dir(), false),
        (repository.targets_dir(), true),
    ];
    while let Some((dir, descend)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            // `targets/` is absent with copies off; a directory pruned meanwhile is gone.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("read directory", &dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(Error::io("read directory", &dir))?;
            let kind = entry.file_type().map_err(Error::io("stat", entry.path()))?;
            let is_temp = entry.file_name().to_str().is_some_and(tuf_fs::is_temp_name);
            if kind.is_dir() && descend {
                stack.push((entry.path(), true));
                continue;
            }
            if !(is_temp && kind.is_file()) {
                continue;
            }
            let path = entry.path();
            let modified = match entry.metadata().and_then(|m| m.modified()) {
                Ok(modified) => modified,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("stat", path)(e)),
            };
            if modified >= older_than {
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => deleted += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", path)(e)),
            }
        }
    }
    Ok(deleted)
}

/// The retired files part of [`prune`].
fn prune_retired(
    repository: &Repository,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> Result<usize, Error> {
    let path = repository.state_dir().join("retired");
    let Some(bytes) = files::read_optional(&path)? else {
        return Ok(0);
    };
    let text = String::from_utf8_lossy(&bytes);
    let cutoff = now
        .checked_sub_signed(grace)
        .and_then(|t| t.timestamp_nanos_opt())
        .unwrap_or(i64::MIN);
    let mut keep = String::new();
    let mut deleted = 0;
    let mut due = false;
    for line in text.split_inclusive('\n') {
        let Some(record) = line.strip_suffix('\n') else {
            continue;
        };
        let mut fields = record.splitn(3, '\t');
        let (Some(Ok(at)), Some(kind), Some(name)) = (
            fields.next().map(str::parse::<i64>),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        if at > cutoff {
            keep.push_str(line);
            continue;
        }
        due = true;
        let file = match kind {
            "m" => repository.metadata_dir().join(name),
            "t" => repository.targets_dir().join(name),
            _ => continue,
        };
        if name
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            continue;
        }
        if kind == "t" {
            // Named again since it was retired: keep.
            if let Ok(meta) = fs::metadata(&file) {
                if manifest::mtime_ns(&meta) > at {
                    continue;
                }
            }
        }
        match fs::remove_file(&file) {
            Ok(()) => deleted += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", file)(e)),
        }
    }
    if due {
        files::write_atomic(&path, keep.as_bytes())?;
    }
    Ok(deleted)
}

/// `state/bins-expire`: a lower bound on every bin's expiry (RFC 3339). A full publish
/// sets it, a refresh that read every bin recomputes it; an incremental publish only
/// makes bins expire later, so the bound stays true.
fn read_bins_expire(state_dir: &Path) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(files::read_optional(&state_dir.join("bins-expire"))?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
        .map(|t| t.with_timezone(&Utc)))
}

fn write_bins_expire(state_dir: &Path, earliest: DateTime<Utc>) -> Result<(), Error> {
    files::write_atomic(
        &state_dir.join("bins-expire"),
        earliest.to_rfc3339().as_bytes(),
    )
}

/// Fill in [`PublishReport::expires`] from the state just published and the bins' bound.
fn record_expiries(
    report: &mut PublishReport,
    publication: &Publication,
    state_dir: &Path,
) -> Result<(), Error> {
    let state = &publication.state;
    report.expires = Some(RoleExpiries {
        root: state.root().expires.time(),
        targets: state.targets().expires.time(),
        bins: read_bins_expire(state_dir)?,
        snapshot: state.snapshot().expires.time(),
        timestamp: state.timestamp().expires.time(),
    });
    Ok(())
}

/// Write a publication in two durable batches: targets, bins and snapshot first; then
/// the new root, if any, and `timestamp.json` last (see [`NewRoot`] for why the root waits
/// for the second batch). A root or targets file already on disk (written by its ceremony
/// or an earlier publish) is not written again.
fn write_publication(
    repository: &Repository,
    writer: &mut BatchWriter,
    publication: &Publication,
    new_root: Option<&NewRoot>,
    report: &mut PublishReport,
    progress: &dyn Progress,
) -> Result<(), Error> {
    let dir = repository.metadata_dir();
    let writing = StageGuard::start(progress, Stage::Writing, units(publication.files.len()));
    let new_root_name = new_root.map(NewRoot::file_name);
    let mut roots: Vec<(&str, &[u8])> = Vec::new();
    let mut timestamps = Vec::new();
    for file in &publication.files {
        match file.kind {
            repo::FileKind::Timestamp => {
                timestamps.push(file);
                continue;
            }
            repo::FileKind::Root => {
                if !dir.join(&file.name).exists() {
                    roots.push((&file.name, &file.bytes));
                }
                continue;
            }
            repo::FileKind::Targets if dir.join(&file.name).exists() => continue,
            _ => {}
        }
        writer.write(&dir.join(&file.name), &file.bytes)?;
        report.metadata_written += 1;
        note_signed(report, file.kind);
        if report.metadata_written % PROGRESS_EVERY == 0 {
            writing.advance(PROGRESS_EVERY);
        }
    }
    if let (Some(root), Some(name)) = (new_root, &new_root_name) {
        if !roots.iter().any(|(n, _)| n == name) && !dir.join(name).exists() {
            roots.push((name, &root.bytes));
        }
    }
    writer.commit()?;
    // The last batch: the bins and snapshot the timestamp names are durable now.
    for (name, bytes) in roots {
        // Never replace a published root: roots are kept forever, and two publishers
        // (which the lock excludes) must not both believe they wrote version N.
        writer.write_new(&dir.join(name), bytes)?;
        match (new_root, &new_root_name) {
            // Committed as its key holders signed it: not counted as signed here.
            (Some(root), Some(new_name)) if new_name == name => {
                report.root_committed = Some(root.version);
            }
            _ => {
                report.metadata_written += 1;
                note_signed(report, repo::FileKind::Root);
            }
        }
    }
    for file in timestamps {
        writer.write(&dir.join(&file.name), &file.bytes)?;
        report.metadata_written += 1;
        note_signed(report, file.kind);
    }
    writer.commit()?;
    if report.metadata_written % PROGRESS_EVERY > 0 {
        writing.advance(report.metadata_written % PROGRESS_EVERY);
    }
    drop(writing);
    report.bins_signed = publication.bins_signed();
    report.snapshot_version = publication.state.snapshot().version.get();
    report.timestamp_version = publication.state.timestamp().version.get();
    report.sync_wait = writer.sync_time();
    Ok(())
}

/// Count the copy `hashed` made, and have the batch make it durable.
fn note_copy(writer: &mut BatchWriter, report: &mut PublishReport, hashed: &HashedFile) {
    if let Some(copy) = &hashed.copy_written {
        writer.adopt(copy);
        report.copies_written += 1;
    }
    match hashed.copy_kind {
        CopyKind::Linked => report.copies_linked += 1,
        CopyKind::WrittenModifiedInPlace => report
            .modified_in_place
            .push(hashed.entry.path.as_str().to_owned()),
        CopyKind::None | CopyKind::Written => {}
    }
}

pub(crate) fn note_signed(report: &mut PublishReport, kind: repo::FileKind) {
    let role = match kind {
        repo::FileKind::Root => "root",
        repo::FileKind::Targets => "targets",
        repo::FileKind::Bin => "bins",
        repo::FileKind::Snapshot => "snapshot",
        repo::FileKind::Timestamp => "timestamp",
    };
    if !report.roles_signed.contains(&role) {
        report.roles_signed.push(role);
    }
}

/// Append retired metadata files (`m`) and target copies (`t`) to `state/retired`, with
/// the time (ns, real clock) they stopped being named.
fn retire(state_dir: &Path, metadata: &[String], copies: &[String]) -> Result<(), Error> {
    append_retired(state_dir, metadata, copies)?;
    match fs::remove_file(state_dir.join(RETIRING_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("remove", state_dir.join(RETIRING_FILE))(e))
        }
        _ => Ok(()),
    }
}

/// `state/retiring`: what the publish in progress retires once its timestamp is out,
/// written before its first metadata file. A publish that stops after its timestamp and
/// before appending to `state/retired` (a crash, a full disk) would otherwise leave those
/// files on disk for good; the next publish or refresh finds this file and retires them
/// if the timestamp it names was published, or drops it if not (the files it names are
/// then still the published state's). Not made durable: losing it only loses the cleanup.
const RETIRING_FILE: &str = "retiring";

/// Write [`RETIRING_FILE`] for `publication` (its timestamp version, then one
/// `KIND\tNAME` line per file, as in `state/retired`).
fn stage_retiring(
    state_dir: &Path,
    publication: &Publication,
    copies: &[String],
) -> Result<(), Error> {
    if publication.superseded.is_empty() && copies.is_empty() {
        return Ok(());
    }
    let mut out = format!(
        "timestamp\t{}\n",
        publication.state.timestamp().version.get()
    );
    for (kind, names) in [("m", &publication.superseded[..]), ("t", copies)] {
        for name in names {
            out.push_str(&format!("{kind}\t{name}\n"));
        }
    }
    let path = state_dir.join(RETIRING_FILE);
    tuf_fs::AtomicWrite::new()
        .durability(tuf_fs::Durability::Deferred)
        .write(&path, out.as_bytes())
        .map_err(Error::io("write", path))
}

/// Finish what an interrupted publish staged in [`RETIRING_FILE`]: retire its files if
/// `published` carries the timestamp version it was for, else drop it. Called under the
/// lock with the published state just loaded.
fn recover_retiring(state_dir: &Path, published: Option<&PublishedState>) -> Result<(), Error> {
    let path = state_dir.join(RETIRING_FILE);
    let Some(bytes) = files::read_optional(&path)? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    let staged_for = lines
        .next()
        .and_then(|l| l.strip_prefix("timestamp\t"))
        .and_then(|v| v.parse::<u64>().ok());
    let was_published =
        staged_for.is_some() && staged_for == published.map(|s| s.timestamp().version.get());
    if was_published {
        let (mut metadata, mut copies) = (Vec::new(), Vec::new());
        for line in lines {
            match line.split_once('\t') {
                Some(("m", name)) => metadata.push(name.to_owned()),
                Some(("t", name)) => copies.push(name.to_owned()),
                _ => {}
            }
        }
        append_retired(state_dir, &metadata, &copies)?;
    }
    fs::remove_file(&path).map_err(Error::io("remove", &path))
}

/// Append `metadata` (`m`) and `copies` (`t`) to `state/retired`, retired now.
fn append_retired(state_dir: &Path, metadata: &[String], copies: &[String]) -> Result<(), Error> {
    if metadata.is_empty() && copies.is_empty() {
        return Ok(());
    }
    use std::io::Write;
    let at = real_now_ns();
    let mut out = String::new();
    for (kind, names) in [("m", metadata), ("t", copies)] {
        for name in names {
            out.push_str(&format!("{at}\t{kind}\t{name}\n"));
        }
    }
    let path = state_dir.join("retired");
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    file.write_all(out.as_bytes())
        .map_err(Error::io("append", &path))
}

fn real_now_ns() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}
