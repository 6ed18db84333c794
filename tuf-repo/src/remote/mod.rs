//! Publish, refresh and prune a repository whose published part lives on object storage
//! (a [`Store`]), with several publishers at once.
//!
//! # Layout
//!
//! The same as a local repository's, under the store URL's prefix: `metadata/N.ROLE.json`,
//! `metadata/timestamp.json`, `targets/<hash-named copies>`, and `state/` (never served:
//! the content manifest and the per-publish records). The offline roles (`N.root.json`,
//! `N.targets.json`) are signed in the operator's local repository directory; a publish
//! uploads those the store lacks. The index is a local directory or keys on a store
//! ([`Index`]).
//!
//! # The protocol (docs/repository.md, "Publishing to object storage")
//!
//! Optimistic, linearised by a compare-and-swap on `timestamp.json`:
//!
//! 1. Load `timestamp.json` and its ETag; load and verify the state it names (the same
//!    code as the local publisher, [`crate::published`]).
//! 2. Find what changed (the hook's keys, or a LIST compared with the bins and the
//!    content manifest), read and hash it, and sign ([`crate::published::sign`]).
//! 3. Write `state/pending/<id>`: every key this publish may create or supersede.
//! 4. Upload target copies, bins and snapshot **create-only**; a new root last.
//! 5. Replace `timestamp.json` **only if its ETag is still the one loaded** (create-only
//!    on a first publish).
//! 6. Won: write `state/retired/<id>` (what it superseded, and what its lost attempts
//!    left), delete the pending record. Lost (a versioned name already taken, or the
//!    timestamp changed): raise the version floors past every name this attempt used
//!    ([`tuf_core::repo::VersionFloors`]), reload and redo from 1 with the same changes,
//!    after a jittered backoff, up to [`PublishOptions::max_attempts`]; then
//!    [`Error::LostRace`].
//!
//! A timestamp is written only after everything it names exists, and names only objects
//! this attempt created or found (target copies: same name, same bytes), so no client
//! ever sees a timestamp naming a missing or foreign object; a change is published
//! exactly when the CAS of an attempt that includes it succeeds, so none is lost.

mod index;
mod records;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use rayon::prelude::*;
use tuf_core::metadata::{versioned_file_name, TargetPath, Version};
use tuf_core::repo::{
    target_copy_name, Change, Edit, FileKind, Publication, PublishedState, TargetEntry,
    VersionFloors,
};

pub use index::Index;

use crate::error::Error;
use crate::feeds;
use crate::hashing::{self, ReadRules, RefusedFile};
use crate::progress::{units, Stage, StageGuard};
use crate::publish::{
    Changes, LocalMetadata, OnlineKeys, PublishKind, PublishOptions, PublishReport, RoleExpiries,
};
use crate::published::{self, MetadataReader};
use crate::store::{CasOutcome, ObjectKind, PutOutcome, Store, StoreErrorKind};
use crate::verify::PublishedFiles;

use index::{Listed, Read};
use records::{Known, Record};

/// `metadata/timestamp.json`: the one object replaced in place, by compare-and-swap.
const TIMESTAMP_KEY: &str = "metadata/timestamp.json";

/// `state/bins-expire`: a lower bound on every bin's expiry, as locally.
const BINS_EXPIRE_KEY: &str = "state/bins-expire";

/// A repository published to a [`Store`]: the operator's local directory (offline roles,
/// policy), the store (what clients read and publishers share), and the index.
///
/// Clones share what they learnt of the store (which offline roles it has).
#[derive(Debug, Clone)]
pub struct RemoteRepository {
    dir: PathBuf,
    store: Arc<Store>,
    index: Index,
    /// The newest root version known to be on the store (0: not checked yet).
    roots_on_store: Arc<Mutex<u64>>,
}

impl RemoteRepository {
    /// The repository whose offline roles are in the local directory `dir` (as `tuf
    /// init` made it: `dir/metadata/1.root.json`, ...), published to `store`, signing
    /// `index`.
    pub fn new(dir: impl Into<PathBuf>, store: Arc<Store>, index: Index) -> Self {
        Self {
            dir: dir.into(),
            store,
            index,
            roots_on_store: Arc::new(Mutex::new(0)),
        }
    }

    /// The store the repository is published to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The index it signs.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The operator's local metadata directory (offline roles).
    pub fn local_metadata(&self) -> LocalMetadata {
        crate::publish::Repository::new(&self.dir, &self.dir).reader()
    }

    /// The published repository as verification reads it ([`crate::verify::RepoView`]).
    pub fn files(&self) -> Arc<dyn PublishedFiles> {
        Arc::new(StoreFiles {
            store: self.store.clone(),
            index: Some(self.index.clone()),
        })
    }
}

/// A repository on a store as verification reads it: metadata under `metadata/`, copies
/// under `targets/`, and (if given) the index.
#[derive(Debug, Clone)]
pub struct StoreFiles {
    store: Arc<Store>,
    index: Option<Index>,
}

impl StoreFiles {
    /// The repository published at `store`, with the index (for
    /// [`crate::verify::TargetCheck::Index`]) if given.
    pub fn new(store: Arc<Store>, index: Option<Index>) -> Self {
        Self { store, index }
    }
}

impl MetadataReader for StoreFiles {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .store
            .get(&format!("metadata/{name}"))?
            .map(|o| o.bytes.to_vec()))
    }

    fn read_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let keys: Vec<String> = names.iter().map(|n| format!("metadata/{n}")).collect();
        Ok(self
            .store
            .get_many(&keys)?
            .into_iter()
            .map(|o| o.map(|o| o.bytes.to_vec()))
            .collect())
    }

    fn locate(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("{}/metadata/{name}", self.store.url()))
    }
}

impl PublishedFiles for StoreFiles {
    fn target_copy(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .store
            .get(&format!("targets/{name}"))?
            .map(|o| o.bytes.to_vec()))
    }

    fn locate_copy(&self, name: &str) -> String {
        format!("{}/targets/{name}", self.store.url())
    }

    fn index_file(&self, path: &TargetPath) -> Result<Option<Vec<u8>>, Error> {
        match &self.index {
            Some(Index::Store(store)) => Ok(store.get(path.as_str())?.map(|o| o.bytes.to_vec())),
            Some(Index::Local(dir)) => crate::files::read_optional(&dir.join(path.as_str())),
            None => Ok(None),
        }
    }

    fn locate_index(&self, path: &TargetPath) -> String {
        match &self.index {
            Some(index) => format!("{}/{}", index.describe(), path.as_str()),
            None => path.to_string(),
        }
    }

    fn index_paths(&self) -> Result<(Vec<TargetPath>, Vec<String>), Error> {
        match &self.index {
            Some(index) => {
                let (listed, skipped) = index.list(0)?;
                let mut paths: Vec<TargetPath> = listed.into_keys().collect();
                paths.sort_unstable();
                Ok((paths, skipped))
            }
            None => Ok((Vec::new(), Vec::new())),
        }
    }

    fn index_location(&self) -> String {
        self.index
            .as_ref()
            .map_or_else(|| "no index".to_owned(), Index::describe)
    }
}

/// Reads during one publish: roots from the operator's directory (where they are
/// signed; verified whatever their source), top-level targets from there when it has the
/// version asked for, everything else from the store. Versioned files never change
/// under their name, so each is read once per publish, across its attempts.
struct PublishReader<'r> {
    local: LocalMetadata,
    store: &'r Store,
    cache: Mutex<HashMap<String, Vec<u8>>>,
}

impl PublishReader<'_> {
    fn cached(&self, name: &str) -> Option<Vec<u8>> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    fn keep(&self, name: &str, bytes: &[u8]) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), bytes.to_vec());
    }
}

impl MetadataReader for PublishReader<'_> {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        if name.ends_with(".root.json") {
            return self.local.read(name);
        }
        if name.ends_with(".targets.json") {
            if let Some(bytes) = self.local.read(name)? {
                return Ok(Some(bytes));
            }
        }
        if let Some(bytes) = self.cached(name) {
            return Ok(Some(bytes));
        }
        let bytes = self
            .store
            .get(&format!("metadata/{name}"))?
            .map(|o| o.bytes.to_vec());
        if let Some(bytes) = &bytes {
            self.keep(name, bytes);
        }
        Ok(bytes)
    }

    fn read_many(&self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let missing: Vec<String> = names
            .iter()
            .filter(|n| self.cached(n).is_none())
            .map(|n| format!("metadata/{n}"))
            .collect();
        for (key, object) in missing.iter().zip(self.store.get_many(&missing)?) {
            if let (Some(name), Some(object)) = (key.strip_prefix("metadata/"), object) {
                self.keep(name, &object.bytes);
            }
        }
        names.iter().map(|n| self.read(n)).collect()
    }

    fn locate(&self, name: &str) -> PathBuf {
        if name.ends_with(".root.json") {
            return self.local.locate(name);
        }
        PathBuf::from(format!("{}/metadata/{name}", self.store.url()))
    }
}

/// An object a publish creates: its key, its bytes, and, for a target copy when the
/// index is on the same store, the index key and the ETag of the GET whose bytes were
/// hashed (then it is copied server-side and checked).
#[derive(Debug, Clone)]
struct Upload {
    key: String,
    bytes: Bytes,
    copy_from: Option<(String, String)>,
}

/// The target copies as the feed work of one attempt sees them: the copies this attempt
/// is about to upload (the index files it read), else the store's `targets/`. The feed
/// copies it writes become uploads of the attempt, never written before its commit.
struct StoreCopies<'a> {
    store: &'a Store,
    fresh: HashMap<&'a str, &'a Bytes>,
    uploads: Mutex<Vec<Upload>>,
}

impl<'a> StoreCopies<'a> {
    fn new(store: &'a Store, copies: &'a [Upload]) -> Self {
        Self {
            store,
            fresh: copies.iter().map(|u| (u.key.as_str(), &u.bytes)).collect(),
            uploads: Mutex::new(Vec::new()),
        }
    }

    fn into_uploads(self) -> Vec<Upload> {
        self.uploads
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl feeds::Copies for StoreCopies<'_> {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let key = format!("targets/{name}");
        if let Some(bytes) = self.fresh.get(key.as_str()) {
            return Ok(Some(bytes.to_vec()));
        }
        Ok(self.store.get(&key)?.map(|o| o.bytes.to_vec()))
    }

    fn locate(&self, name: &str) -> String {
        format!("{}/targets/{name}", self.store.url())
    }

    fn write(&self, path: &TargetPath, sha256: &[u8; 32], bytes: Vec<u8>) -> Result<(), Error> {
        self.uploads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Upload {
                key: format!("targets/{}", target_copy_name(path, sha256)),
                bytes: Bytes::from(bytes),
                copy_from: None,
            });
        Ok(())
    }
}

/// What one attempt found in the index.
#[derive(Debug, Default)]
struct Found {
    changes: Vec<Change>,
    all_entries: Vec<TargetEntry>,
    copies: Vec<Upload>,
    /// Copies the new state no longer names (full publishes; an edit reports its own).
    superseded_copies: Vec<String>,
    files_seen: usize,
    files_hashed: usize,
    skipped: Vec<String>,
    refused: Vec<RefusedFile>,
}

/// One call of [`publish`] or [`refresh`]: what carries over between its attempts.
struct Run<'r> {
    repo: &'r RemoteRepository,
    options: &'r PublishOptions,
    reader: PublishReader<'r>,
    id: String,
    floors: VersionFloors,
    /// Every key any attempt may have created or superseded (the pending record).
    record: Record,
    /// The content manifest, read once, updated by what is hashed.
    manifest: Option<HashMap<String, Known>>,
    manifest_changed: bool,
    /// Index files read in an earlier attempt, by path, with the version they were read
    /// at: a scan does not read them again while the listing shows that version.
    read_before: HashMap<TargetPath, (Option<String>, Read)>,
}

impl<'r> Run<'r> {
    fn new(repo: &'r RemoteRepository, options: &'r PublishOptions) -> Self {
        Self {
            repo,
            options,
            reader: PublishReader {
                local: repo.local_metadata(),
                store: &repo.store,
                cache: Mutex::new(HashMap::new()),
            },
            id: publish_id(),
            floors: VersionFloors::new(),
            record: Record::default(),
            manifest: None,
            manifest_changed: false,
            read_before: HashMap::new(),
        }
    }

    fn pending_key(&self) -> String {
        format!("{}/{}", records::PENDING, self.id)
    }

    /// Run `attempt` until it wins, with a jittered exponential backoff between
    /// attempts; [`Error::LostRace`] after [`PublishOptions::max_attempts`] lost ones.
    fn retry<T>(
        &mut self,
        mut attempt: impl FnMut(&mut Self) -> Result<Option<T>, Error>,
    ) -> Result<(T, u32), Error> {
        let attempts = self.options.max_attempts.max(1);
        for n in 1..=attempts {
            if let Some(done) = attempt(self)? {
                return Ok((done, n));
            }
            if n < attempts {
                std::thread::sleep(backoff(self.options.retry_backoff, n));
            }
        }
        Err(Error::LostRace {
            url: self.repo.store.url().to_string(),
            attempts,
        })
    }

    /// Load `timestamp.json` (bytes and ETag) and the state it names, verified under
    /// `root`.
    fn load(
        &self,
        root: &[u8],
        root_version: u64,
    ) -> Result<(Option<PublishedState>, Option<String>), Error> {
        let timestamp = self.repo.store.get(TIMESTAMP_KEY)?;
        let etag = match &timestamp {
            Some(object) => Some(object.etag.clone().ok_or_else(|| Error::Store {
                url: self.repo.store.url().to_string(),
                key: Some(TIMESTAMP_KEY.to_owned()),
                op: "get",
                kind: StoreErrorKind::Unsupported,
                source: Some("the store gave no ETag: compare-and-swap is impossible".into()),
            })?),
            None => None,
        };
        let state = published::load_state(
            &self.reader,
            timestamp.as_ref().map(|o| o.bytes.as_ref()),
            root,
            root_version,
            &self.options.limits,
        )?
        .map(|(state, _)| state);
        Ok((state, etag))
    }

    /// Every bin of `state`, read (concurrently) and verified: path → signed entry.
    fn signed_entries(
        &self,
        state: &PublishedState,
    ) -> Result<HashMap<TargetPath, TargetEntry>, Error> {
        let bins: Vec<u32> = Edit::new(state, &self.options.limits).all_bins().collect();
        let names: Vec<String> = bins
            .iter()
            .map(|&b| state.bin_file(b).map_err(Error::tuf("snapshot")))
            .collect::<Result<_, _>>()?;
        let files = self.reader.read_many(&names)?;
        let limits = &self.options.limits;
        let per_bin: Vec<Vec<TargetEntry>> = bins
            .par_iter()
            .zip(names.par_iter())
            .zip(files.into_par_iter())
            .map(|((&bin, name), bytes)| {
                let bytes = bytes.ok_or_else(|| Error::Missing {
                    path: self.reader.locate(name),
                    reason: "named by the published metadata but not there".to_owned(),
                })?;
                let targets = state
                    .verify_bin(bin, &bytes, limits)
                    .map_err(Error::tuf(name.as_str()))?;
                Ok(targets
                    .targets
                    .iter()
                    .filter_map(|(path, file)| TargetEntry::from_target_file(path, file))
                    .collect())
            })
            .collect::<Result<_, Error>>()?;
        Ok(per_bin
            .into_iter()
            .flatten()
            .map(|e| (e.path.clone(), e))
            .collect())
    }

    /// The upload of the copy of a file just read.
    fn copy_of(&self, entry: &TargetEntry, bytes: &Bytes, version: Option<&String>) -> Upload {
        let key = format!("targets/{}", target_copy_name(&entry.path, &entry.sha256));
        let same_store = self
            .repo
            .index
            .store()
            .is_some_and(|index| index.same_store(&self.repo.store));
        Upload {
            key,
            bytes: bytes.clone(),
            copy_from: match (same_store, version) {
                (true, Some(etag)) => Some((entry.path.as_str().to_owned(), etag.clone())),
                _ => None,
            },
        }
    }

    /// The hook's paths: read each (only those), concurrently.
    fn find_paths(&mut self, paths: &[String]) -> Result<Found, Error> {
        let paths = hashing::check_index_paths(paths)?;
        let mut found = Found {
            files_seen: paths.len(),
            ..Found::default()
        };
        for (path, read) in self.repo.index.read(&paths, self.rules(), now_ns())? {
            match read {
                Read::File {
                    entry,
                    bytes,
                    version,
                } => {
                    found.files_hashed += 1;
                    if self.options.target_copies {
                        found
                            .copies
                            .push(self.copy_of(&entry, &bytes, version.as_ref()));
                    }
                    found.changes.push(Change::Put(entry));
                }
                Read::Missing => found.changes.push(Change::Remove(path)),
                Read::Refused(refusal) => found.refused.push(RefusedFile { path, refusal }),
            }
        }
        Ok(found)
    }

    /// A scan: LIST the index, compare with the signed bins and the content manifest,
    /// read only what may differ from what is signed.
    /// A signed feed target is not an index file: a scan never removes one, and with
    /// `feeds_on` a full publish leaves them to the feed work (which signs them again or
    /// supersedes them); with feeds off, a full publish drops them and retires their copies.
    fn find_scan(
        &mut self,
        state: Option<&PublishedState>,
        full: bool,
        feeds_on: bool,
    ) -> Result<Found, Error> {
        let progress = self.options.progress.as_ref();
        let (listed, skipped) = self.repo.index.list(now_ns())?;
        let mut signed = match state {
            Some(state) => self.signed_entries(state)?,
            None => HashMap::new(),
        };
        if feeds_on {
            signed.retain(|path, _| !tuf_core::feed::is_feed_path(path.as_str()));
        }
        if self.manifest.is_none() {
            let bytes = self.repo.store.get(records::MANIFEST_KEY)?;
            self.manifest = Some(
                bytes
                    .map(|o| records::parse_manifest(&o.bytes))
                    .unwrap_or_default(),
            );
        }
        let manifest = self.manifest.clone().unwrap_or_default();
        let mut found = Found {
            files_seen: listed.len(),
            skipped,
            ..Found::default()
        };
        // Known unchanged: the manifest knows these bytes, and the bins sign them.
        let mut to_read = Vec::new();
        let mut reads: Vec<(TargetPath, Read)> = Vec::new();
        for (path, at) in &listed {
            let known = manifest
                .get(path.as_str())
                .filter(|k| at.version.as_ref() == Some(&k.version) && at.size == k.length);
            let signed_entry = signed.get(path);
            match (known, signed_entry) {
                (Some(k), Some(s)) if s.length == k.length && s.sha256 == k.sha256 => {
                    found.all_entries.push(s.clone());
                    continue;
                }
                _ => {}
            }
            match self.read_before.get(path) {
                Some((version, read)) if version.is_some() && *version == at.version => {
                    reads.push((path.clone(), read.clone()));
                }
                _ => to_read.push(path.clone()),
            }
        }
        to_read.sort_unstable();
        let scanning = StageGuard::start(progress, Stage::Scanning, units(to_read.len()));
        for (path, read) in self.repo.index.read(&to_read, self.rules(), now_ns())? {
            let version = listed.get(&path).and_then(|l: &Listed| l.version.clone());
            self.read_before
                .insert(path.clone(), (version, read.clone()));
            reads.push((path, read));
        }
        drop(scanning);
        let mut present: BTreeSet<TargetPath> = BTreeSet::new();
        for (path, read) in reads {
            match read {
                Read::File {
                    entry,
                    bytes,
                    version,
                } => {
                    found.files_hashed += 1;
                    present.insert(path.clone());
                    if let (Some(version), Some(manifest)) = (&version, self.manifest.as_mut()) {
                        manifest.insert(
                            path.as_str().to_owned(),
                            Known {
                                length: entry.length,
                                version: version.clone(),
                                sha256: entry.sha256,
                            },
                        );
                        self.manifest_changed = true;
                    }
                    let unchanged = signed.get(&path) == Some(&entry);
                    if !unchanged && self.options.target_copies {
                        found
                            .copies
                            .push(self.copy_of(&entry, &bytes, version.as_ref()));
                    }
                    if full {
                        found.all_entries.push(entry);
                    } else if !unchanged {
                        found.changes.push(Change::Put(entry));
                    }
                }
                Read::Refused(refusal) => {
                    // The version signed before stays (as locally).
                    present.insert(path.clone());
                    if let (true, Some(old)) = (full, signed.get(&path)) {
                        found.all_entries.push(old.clone());
                    }
                    found.refused.push(RefusedFile { path, refusal });
                }
                // Gone between the listing and the read: a deletion.
                Read::Missing => {}
            }
        }
        for entry in &found.all_entries {
            present.insert(entry.path.clone());
        }
        let new_hashes: HashMap<&TargetPath, [u8; 32]> = found
            .all_entries
            .iter()
            .map(|e| (&e.path, e.sha256))
            .collect();
        let mut superseded = Vec::new();
        for (path, old) in &signed {
            if full {
                // An edit reports what it supersedes; a full publish is told here.
                if new_hashes.get(path) != Some(&old.sha256) && self.options.target_copies {
                    superseded.push(format!("targets/{}", target_copy_name(path, &old.sha256)));
                }
            } else if !present.contains(path) && !tuf_core::feed::is_feed_path(path.as_str()) {
                // A feed is never in the index: only a full publish drops it (feeds off).
                found.changes.push(Change::Remove(path.clone()));
            }
        }
        found.superseded_copies = superseded;
        found.refused.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// The feeds of this attempt (docs/feeds.md), as locally ([`feeds::incremental`],
    /// [`feeds::full`]), reading the copies from the store or from this attempt's
    /// uploads: their copies join the uploads (create-only, named in the pending
    /// record), their entries the changes to sign.
    fn feeds(
        &self,
        state: Option<&PublishedState>,
        full: bool,
        backfill: bool,
        found: &mut Found,
    ) -> Result<feeds::FeedOutcome, Error> {
        let (limits, now) = (&self.options.limits, self.options.now);
        let copies = StoreCopies::new(&self.repo.store, &found.copies);
        let outcome = match (state, full) {
            (Some(state), false) => {
                feeds::incremental(&self.reader, state, &copies, &found.changes, limits, now)?
            }
            (previous, _) => feeds::full(
                &self.reader,
                previous,
                previous.is_none() || backfill,
                &copies,
                &found.all_entries,
                limits,
                now,
            )?,
        };
        let uploads = copies.into_uploads();
        found.copies.extend(uploads);
        let mut outcome = outcome;
        if full {
            // A full publish has no `Edit` to report what it replaced.
            found.superseded_copies.extend(
                outcome
                    .superseded
                    .iter()
                    .map(|e| format!("targets/{}", target_copy_name(&e.path, &e.sha256))),
            );
            found.all_entries.append(&mut outcome.entries);
        } else {
            found
                .changes
                .extend(outcome.entries.drain(..).map(Change::Put));
        }
        Ok(outcome)
    }

    fn rules(&self) -> ReadRules<'r> {
        ReadRules {
            max_bytes: self.options.limits.max_target_bytes,
            index_limits: &self.options.limits.index,
        }
    }

    /// Upload what `publication` needs and swap the timestamp: `Ok(true)` when this
    /// attempt's timestamp is out, `Ok(false)` when a race was lost (floors raised).
    fn commit(
        &mut self,
        publication: &Publication,
        copies: Vec<Upload>,
        superseded_copies: &[String],
        timestamp_etag: Option<&str>,
        report: &mut PublishReport,
    ) -> Result<bool, Error> {
        let store = self.repo.store.clone();
        let started = Instant::now();
        self.ensure_roots()?;
        // What this attempt creates: copies, then the online metadata and any offline
        // targets the store lacks (roots are uploaded apart: see below).
        let mut uploads = copies;
        let mut metadata_names = Vec::new();
        let mut timestamp = None;
        for file in &publication.files {
            match file.kind {
                FileKind::Timestamp => timestamp = Some(file),
                // Committed roots are uploaded by `ensure_roots`, a new one below.
                FileKind::Root => {}
                FileKind::Targets | FileKind::Bin | FileKind::Snapshot => {
                    metadata_names.push(file.name.clone());
                    uploads.push(Upload {
                        key: format!("metadata/{}", file.name),
                        bytes: Bytes::from(file.bytes.clone()),
                        copy_from: None,
                    });
                }
            }
        }
        let new_root = self.options.new_root.as_ref();
        let Some(timestamp) = timestamp else {
            return Ok(true);
        };
        // The pending record: everything this publish may create or supersede, before
        // any of it exists (see records::prune).
        self.record
            .keys
            .extend(uploads.iter().map(|u| u.key.clone()));
        self.record.keys.extend(
            publication
                .superseded
                .iter()
                .map(|name| format!("metadata/{name}")),
        );
        self.record.keys.extend(superseded_copies.iter().cloned());
        records::write(&store, &self.pending_key(), &self.record)?;

        let writing = StageGuard::start(
            self.options.progress.as_ref(),
            Stage::Writing,
            units(uploads.len()),
        );
        let outcomes = self.upload(&uploads)?;
        drop(writing);
        let mut lost = false;
        for (upload, outcome) in uploads.iter().zip(&outcomes) {
            let is_copy = upload.key.starts_with("targets/");
            // Feed copies are counted in `feeds_written`, as locally.
            let is_feed = upload.key.starts_with("targets/feeds/");
            match (outcome, is_copy) {
                (PutOutcome::Created { .. }, true) if is_feed => {}
                (PutOutcome::Created { .. }, true) => report.copies_written += 1,
                (PutOutcome::Created { .. }, false) => report.metadata_written += 1,
                (PutOutcome::Exists, true) => {}
                // A top-level targets already there: it must be the very file.
                (PutOutcome::Exists, false) if upload.key.ends_with(".targets.json") => {
                    self.same_bytes(&upload.key, &upload.bytes)?;
                }
                // A bin or snapshot name another attempt took: this one is lost.
                (PutOutcome::Exists, false) => lost = true,
            }
        }
        // Copies found there: rewrite them (same name, same bytes), so pruning, which
        // keeps what was written within the grace period, cannot delete one this
        // timestamp is about to name (see records::prune).
        let found: Vec<(String, Bytes, ObjectKind)> = uploads
            .iter()
            .zip(&outcomes)
            .filter(|(u, o)| **o == PutOutcome::Exists && u.key.starts_with("targets/"))
            .map(|(u, _)| (u.key.clone(), u.bytes.clone(), ObjectKind::Immutable))
            .collect();
        found
            .par_iter()
            .map(|(key, bytes, kind)| store.put(key, bytes.clone(), *kind))
            .collect::<Result<Vec<()>, Error>>()?;
        let too_slow = started.elapsed() > half(self.options.grace);
        if lost || too_slow {
            self.raise_floors(&metadata_names);
            return Ok(false);
        }
        // A new root just before the timestamp: a client looks for N+1.root.json first
        // (TUF §5.3), so it must not be there long before a timestamp signed under it.
        if let Some(new_root) = new_root {
            let key = format!("metadata/{}", new_root.file_name());
            let bytes = Bytes::copy_from_slice(new_root.bytes());
            match store.put_new(&key, bytes.clone(), ObjectKind::Immutable)? {
                PutOutcome::Created { .. } => report.root_committed = Some(new_root.version()),
                PutOutcome::Exists => self.same_bytes(&key, &bytes)?,
            }
        }
        if let Some((n, pause)) = self.options.pause_after_uploads {
            if n >= uploads.len() {
                std::thread::sleep(pause);
            }
        }
        let swapped = store.put_if(
            TIMESTAMP_KEY,
            Bytes::from(timestamp.bytes.clone()),
            timestamp_etag,
            ObjectKind::Timestamp,
        );
        let won = match swapped {
            Ok(CasOutcome::Swapped { .. }) => true,
            Ok(CasOutcome::Conflict) => false,
            // The answer was lost (a timeout after the server applied it?): the
            // timestamp now holds our bytes exactly when our swap went through.
            Err(error) => match store.get(TIMESTAMP_KEY) {
                Ok(Some(now)) if now.bytes.as_ref() == timestamp.bytes.as_slice() => true,
                _ => return Err(error),
            },
        };
        if !won {
            self.raise_floors(&metadata_names);
            return Ok(false);
        }
        report.metadata_written += 1;
        // Won. What the record names that this state does not: superseded files and
        // what lost attempts left. The rest is named now.
        let created: BTreeSet<&String> = uploads.iter().map(|u| &u.key).collect();
        let retired = Record {
            keys: self
                .record
                .keys
                .iter()
                .filter(|k| !created.contains(k))
                .cloned()
                .collect(),
        };
        if !retired.keys.is_empty() {
            records::write(
                &store,
                &format!("{}/{}", records::RETIRED, self.id),
                &retired,
            )?;
        }
        store.delete(&self.pending_key())?;
        for file in &publication.files {
            note_signed(report, file.kind);
        }
        report.bins_signed = publication.bins_signed();
        report.snapshot_version = publication.state.snapshot().version.get();
        report.timestamp_version = publication.state.timestamp().version.get();
        Ok(true)
    }

    /// Create-only uploads: plain ones in one concurrent batch, server-side copies (when
    /// the index is on this store) each checked to hold the bytes hashed, else replaced
    /// by an upload of those bytes. Honours [`PublishOptions::pause_after_uploads`] (a
    /// test's way to stop a publish mid-upload).
    fn upload(&self, uploads: &[Upload]) -> Result<Vec<PutOutcome>, Error> {
        match self.options.pause_after_uploads {
            Some((n, pause)) if n < uploads.len() => {
                let (first, rest) = uploads.split_at(n);
                let mut outcomes = self.upload_batch(first)?;
                std::thread::sleep(pause);
                outcomes.extend(self.upload_batch(rest)?);
                Ok(outcomes)
            }
            _ => self.upload_batch(uploads),
        }
    }

    fn upload_batch(&self, uploads: &[Upload]) -> Result<Vec<PutOutcome>, Error> {
        let store = &self.repo.store;
        let plain: Vec<(String, Bytes, ObjectKind)> = uploads
            .iter()
            .filter(|u| u.copy_from.is_none())
            .map(|u| (u.key.clone(), u.bytes.clone(), ObjectKind::Immutable))
            .collect();
        let mut plain_outcomes = store.put_new_many(plain)?.into_iter();
        let copies: Vec<Result<PutOutcome, Error>> = uploads
            .par_iter()
            .filter_map(|u| u.copy_from.as_ref().map(|from| (u, from)))
            .map(|(upload, (from, etag))| self.copy_checked(upload, from, etag))
            .collect();
        let mut copy_outcomes = copies.into_iter();
        uploads
            .iter()
            .map(|u| {
                let next = if u.copy_from.is_some() {
                    copy_outcomes.next()
                } else {
                    plain_outcomes.next().map(Ok)
                };
                next.unwrap_or_else(|| {
                    Err(Error::Store {
                        url: store.url().to_string(),
                        key: Some(u.key.clone()),
                        op: "put",
                        kind: StoreErrorKind::Other,
                        source: Some("the store answered fewer writes than asked".into()),
                    })
                })
            })
            .collect()
    }

    /// A server-side copy of index key `from`, which was hashed as read with `etag`;
    /// if the index object changed in between, the copy is deleted (by the store) and
    /// the bytes that were hashed are uploaded instead.
    fn copy_checked(&self, upload: &Upload, from: &str, etag: &str) -> Result<PutOutcome, Error> {
        let store = &self.repo.store;
        let Some(index) = self.repo.index.store() else {
            return store.put_new(&upload.key, upload.bytes.clone(), ObjectKind::Immutable);
        };
        match store.copy_new_checked(index, from, etag, &upload.key, ObjectKind::Immutable) {
            Err(Error::Store {
                kind: StoreErrorKind::CopyMismatch,
                ..
            }) => store.put_new(&upload.key, upload.bytes.clone(), ObjectKind::Immutable),
            other => other,
        }
    }

    /// The object at `key` must hold `bytes` (an offline role found already uploaded).
    fn same_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), Error> {
        let there = self.repo.store.get(key)?;
        if there.as_ref().is_some_and(|o| o.bytes.as_ref() == bytes) {
            return Ok(());
        }
        Err(Error::Store {
            url: self.repo.store.url().to_string(),
            key: Some(key.to_owned()),
            op: "put",
            kind: StoreErrorKind::Other,
            source: Some(
                "the store holds other bytes under this offline role's name than the local \
                 repository directory: publish from the directory that signed it"
                    .into(),
            ),
        })
    }

    /// Upload the committed roots the store lacks, oldest first. Checked once per
    /// [`RemoteRepository`] value (one HEAD of the newest root).
    fn ensure_roots(&self) -> Result<(), Error> {
        let local = self.repo.local_metadata();
        let (newest, _) = published::newest_root(&local)?;
        let mut known = self
            .repo
            .roots_on_store
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *known >= newest {
            return Ok(());
        }
        let store = &self.repo.store;
        if store
            .head(&format!("metadata/{}", versioned_file_name(newest, "root")))?
            .is_none()
        {
            for version in 1..=newest {
                let name = versioned_file_name(version, "root");
                let bytes = published::read_named(&local, &name)?;
                let key = format!("metadata/{name}");
                if store.put_new(&key, Bytes::from(bytes.clone()), ObjectKind::Immutable)?
                    == PutOutcome::Exists
                {
                    self.same_bytes(&key, &bytes)?;
                }
            }
        }
        *known = newest;
        Ok(())
    }

    /// Past every versioned name of a lost attempt: the next one signs above them.
    fn raise_floors(&mut self, names: &[String]) {
        for name in names {
            let Some((version, role)) = name.strip_suffix(".json").and_then(|n| n.split_once('.'))
            else {
                continue;
            };
            let next = version
                .parse::<u64>()
                .ok()
                .and_then(|v| v.checked_add(1))
                .and_then(|v| Version::new(v).ok());
            if let Some(next) = next {
                self.floors.raise(role, next);
            }
        }
    }

    /// Write the content manifest if this run learnt something (after its timestamp
    /// is out; it is only a cache, see [`records::MANIFEST_KEY`]).
    fn save_manifest(&self) -> Result<(), Error> {
        if let (true, Some(manifest)) = (self.manifest_changed, &self.manifest) {
            self.repo.store.put(
                records::MANIFEST_KEY,
                Bytes::from(records::render_manifest(manifest)),
                ObjectKind::State,
            )?;
        }
        Ok(())
    }
}

/// Publish the current state of the index to the store, with any number of other
/// publishers at once (see the module documentation and docs/repository.md).
///
/// [`Changes::Paths`] reads only those keys; [`Changes::Scan`] lists the index and reads
/// only what differs from the signed bins by (size, ETag) per the content manifest.
/// A lost race reloads and redoes the publish, up to [`PublishOptions::max_attempts`].
pub fn publish(
    repository: &RemoteRepository,
    keys: &OnlineKeys,
    changes: &Changes,
    options: &PublishOptions,
) -> Result<PublishReport, Error> {
    let mut run = Run::new(repository, options);
    // The setting is the operator's, in the local repository directory, like the store
    // URL (docs/feeds.md); feeds are read back from the target copies, so need them.
    let feeds_setting = feeds::setting(&repository.dir.join("state"))?;
    let (mut report, attempts) =
        run.retry(|run| publish_attempt(run, keys, changes, feeds_setting))?;
    report.attempts = attempts;
    run.save_manifest()?;
    finish(repository, options, &report, changes)
}

/// One attempt: everything from the state it loads, so a redo after a lost race
/// recomputes the feed items against the freshly published feeds and index files
/// (nothing doubled, nothing lost).
fn publish_attempt(
    run: &mut Run<'_>,
    keys: &OnlineKeys,
    changes: &Changes,
    feeds_setting: Option<bool>,
) -> Result<Option<PublishReport>, Error> {
    let options = run.options;
    let feeds_on = options.target_copies && feeds_setting == Some(true);
    let local = run.repo.local_metadata();
    let (root_version, root) = published::root_in_force(
        &local,
        options.new_root.as_ref(),
        options.now,
        &options.limits,
    )?;
    let (state, etag) = run.load(&root, root_version)?;
    let mut plan = published::plan(&local, state.as_ref(), root_version)?;
    // Switched on for a repository published without them: build every feed now.
    // Switched off for one published with them: drop them all now (a full scan with
    // feeds off supersedes the signed feeds, see `find_scan`). Without the setting (a
    // repository made before feeds) there is nothing to look for.
    let (feed_backfill, feed_drop) = match (&state, plan.full, feeds_setting) {
        (Some(state), None, Some(_)) => {
            let published = feeds::published(&run.reader, state, &options.limits)?;
            (feeds_on && !published, !feeds_on && published)
        }
        _ => (false, false),
    };
    if feed_backfill || feed_drop {
        plan.full = Some(PublishKind::Full);
    }
    let mut found = match (changes, plan.full) {
        (Changes::Paths(paths), None) => run.find_paths(paths)?,
        _ => run.find_scan(state.as_ref(), plan.full.is_some(), feeds_on)?,
    };
    let mut report = PublishReport::empty(plan.full.unwrap_or(PublishKind::Incremental));
    if feeds_on {
        let outcome = run.feeds(
            state.as_ref(),
            plan.full.is_some(),
            feed_backfill,
            &mut found,
        )?;
        report.feeds_written = outcome.feeds;
        report.feed_items = outcome.items;
    }
    report.files_seen = found.files_seen;
    report.files_hashed = found.files_hashed;
    report.skipped = found.skipped;
    report.refused = found.refused;
    let publication = published::sign(
        &run.reader,
        keys,
        state.as_ref(),
        &plan,
        &root,
        found.changes,
        found.all_entries,
        &run.floors,
        options,
    )?;
    let mut superseded_copies = found.superseded_copies;
    if options.target_copies {
        superseded_copies.extend(
            publication
                .superseded_targets
                .iter()
                .map(|e| format!("targets/{}", target_copy_name(&e.path, &e.sha256))),
        );
    }
    if publication.is_empty() {
        // Nothing re-signed (files touched but unchanged): the state names them already.
        let state = &publication.state;
        report.snapshot_version = state.snapshot().version.get();
        report.timestamp_version = state.timestamp().version.get();
        report.expires = Some(expiries(state, None));
        return Ok(Some(report));
    }
    let copies = found.copies;
    if !run.commit(
        &publication,
        copies,
        &superseded_copies,
        etag.as_deref(),
        &mut report,
    )? {
        return Ok(None);
    }
    let mut bins_expire = None;
    if plan.full.is_some() {
        bins_expire = options.now.checked_add_signed(options.expiry.bins);
        if let Some(earliest) = bins_expire {
            write_bins_expire(&run.repo.store, earliest)?;
        }
    }
    report.expires = Some(expiries(&publication.state, bins_expire));
    Ok(Some(report))
}

/// Re-sign the online roles that expire within `window` of `options.now` (as
/// [`crate::publish::refresh`] does locally), swapping the timestamp by
/// compare-and-swap and retrying a lost race like [`publish`].
pub fn refresh(
    repository: &RemoteRepository,
    keys: &OnlineKeys,
    window: TimeDelta,
    options: &PublishOptions,
) -> Result<PublishReport, Error> {
    let mut run = Run::new(repository, options);
    let (mut report, attempts) = run.retry(|run| refresh_attempt(run, keys, window))?;
    report.attempts = attempts;
    report.pruned = prune(repository, options.now, options.grace)?;
    Ok(report)
}

fn refresh_attempt(
    run: &mut Run<'_>,
    keys: &OnlineKeys,
    window: TimeDelta,
) -> Result<Option<PublishReport>, Error> {
    let options = run.options;
    let local = run.repo.local_metadata();
    let (root_version, root) = published::newest_root(&local)?;
    let (state, etag) = run.load(&root, root_version)?;
    let state = state.ok_or_else(|| Error::Missing {
        path: PathBuf::from(format!("{}/{TIMESTAMP_KEY}", run.repo.store.url())),
        reason: "nothing published yet".to_owned(),
    })?;
    published::check_refreshable(&state, root_version)?;
    let hint = read_bins_expire(&run.repo.store)?;
    let (publication, new_hint) = published::sign_refresh(
        &run.reader,
        keys,
        &state,
        hint,
        window,
        &run.floors,
        options,
    )?;
    let mut report = PublishReport::empty(PublishKind::Refresh);
    if publication.is_empty() {
        report.snapshot_version = state.snapshot().version.get();
        report.timestamp_version = state.timestamp().version.get();
        report.expires = Some(expiries(&state, hint));
        return Ok(Some(report));
    }
    if !run.commit(&publication, Vec::new(), &[], etag.as_deref(), &mut report)? {
        return Ok(None);
    }
    if let Some(earliest) = new_hint {
        write_bins_expire(&run.repo.store, earliest)?;
    }
    report.snapshot_version = publication.state.snapshot().version.get();
    report.timestamp_version = publication.state.timestamp().version.get();
    report.expires = Some(expiries(&publication.state, new_hint.or(hint)));
    Ok(Some(report))
}

/// After a publish: write the new root into the operator's directory (where the next
/// root discovery looks), and prune unless it was a hook's publish (whose work stays
/// proportional to its change; scans and `refresh` prune).
fn finish(
    repository: &RemoteRepository,
    options: &PublishOptions,
    report: &PublishReport,
    changes: &Changes,
) -> Result<PublishReport, Error> {
    let mut report = report.clone();
    if let Some(new_root) = &options.new_root {
        let path = repository.dir.join("metadata").join(new_root.file_name());
        if crate::files::read_optional(&path)?.is_none() {
            crate::files::write_atomic(&path, new_root.bytes())?;
        }
    }
    if !matches!(changes, Changes::Paths(_)) || report.kind != PublishKind::Incremental {
        report.pruned = prune(repository, options.now, options.grace)?;
    }
    Ok(report)
}

/// Delete what old pending and retired records list that the current state does not
/// name, that no record younger than `grace` lists, and that was written more than
/// `grace` ago (see docs/repository.md, "Crash safety on object storage"). Returns how
/// many objects were deleted.
pub fn prune(
    repository: &RemoteRepository,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> Result<usize, Error> {
    let run_options = PublishOptions::new(now);
    let run = Run::new(repository, &run_options);
    let local = repository.local_metadata();
    let (root_version, root) = published::newest_root(&local)?;
    let (state, _) = run.load(&root, root_version)?;
    let named_metadata: BTreeSet<String> = state
        .as_ref()
        .map(|s| s.named_files().into_iter().collect())
        .unwrap_or_default();
    let bins: Mutex<HashMap<u32, tuf_core::metadata::Targets>> = Mutex::new(HashMap::new());
    let named = |key: &str| -> Result<bool, Error> {
        if let Some(name) = key.strip_prefix("metadata/") {
            return Ok(named_metadata.contains(name));
        }
        let (Some(state), Some((path, sha256))) = (&state, records::copy_target(key)) else {
            return Ok(false);
        };
        let bin = state.bins().bin_of(path.as_str());
        let mut bins = bins.lock().unwrap_or_else(PoisonError::into_inner);
        if let std::collections::hash_map::Entry::Vacant(slot) = bins.entry(bin) {
            let name = state.bin_file(bin).map_err(Error::tuf("snapshot"))?;
            let bytes = published::read_named(&run.reader, &name)?;
            let targets = state
                .verify_bin(bin, &bytes, &run_options.limits)
                .map_err(Error::tuf(name))?;
            slot.insert(targets);
        }
        Ok(bins
            .get(&bin)
            .and_then(|t| t.targets.get(&path))
            .and_then(|f| f.sha256())
            == Some(sha256))
    };
    records::prune(&repository.store, now, grace, &named)
}

fn note_signed(report: &mut PublishReport, kind: FileKind) {
    crate::publish::note_signed(report, kind);
}

fn read_bins_expire(store: &Store) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(store
        .get(BINS_EXPIRE_KEY)?
        .and_then(|o| String::from_utf8(o.bytes.to_vec()).ok())
        .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
        .map(|t| t.with_timezone(&Utc)))
}

fn write_bins_expire(store: &Store, earliest: DateTime<Utc>) -> Result<(), Error> {
    store.put(
        BINS_EXPIRE_KEY,
        Bytes::from(earliest.to_rfc3339()),
        ObjectKind::State,
    )
}

/// The expiries of `state`; `bins` is the bound on the bins' expiry when this run knows
/// it (a full publish or a refresh wrote it), else `None` (a hook's publish does not
/// spend a request on it).
fn expiries(state: &PublishedState, bins: Option<DateTime<Utc>>) -> RoleExpiries {
    RoleExpiries {
        root: state.root().expires.time(),
        targets: state.targets().expires.time(),
        bins,
        snapshot: state.snapshot().expires.time(),
        timestamp: state.timestamp().expires.time(),
    }
}

/// Half of `grace`: an attempt that uploaded for longer restarts rather than swap the
/// timestamp, so nothing it created can be pruned before that timestamp names it.
fn half(grace: TimeDelta) -> Duration {
    grace
        .to_std()
        .map(|g| g / 2)
        .unwrap_or(Duration::from_secs(30 * 60))
}

/// `base × 2^(n-1)` (at most 64×), times a jitter in [0.5, 1.5), so publishers that
/// collided do not collide again in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << attempt.saturating_sub(1).min(6));
    let jitter = 0.5 + f64::from(random_u32()) / f64::from(u32::MAX);
    exp.mul_f64(jitter)
}

/// A random u32 from the standard library's per-process random hash keys.
fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (hasher.finish() >> 32) as u32
}

/// A name for one publish's records: the time, then randomness (unique across
/// publishers without coordination).
fn publish_id() -> String {
    let now = Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    format!("{now}-{:08x}{:08x}", random_u32(), random_u32())
}

fn now_ns() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_jittered_within_bounds() {
        let base = Duration::from_millis(10);
        for attempt in 1..30 {
            let wait = backoff(base, attempt);
            let exp = base * (1 << (attempt - 1).min(6));
            assert!(wait >= exp / 2 && wait < exp * 3 / 2, "{attempt}: {wait:?}");
        }
    }

    #[test]
    fn publish_ids_differ() {
        let ids: BTreeSet<String> = (0..100).map(|_| publish_id()).collect();
        assert_eq!(ids.len(), 100);
    }
}
