//! Signed release feeds (docs/feeds.md): on every publish, the feed of each crate whose
//! index file changed and the registry-wide feed of recent updates, written as hash-named
//! target copies and signed in the same snapshot as the index files.
//!
//! # Where feed state lives
//!
//! Nowhere but in the published repository: what a feed already holds is read back from
//! the feed target the *published* bins name (its hash-named copy, checked against the
//! signed hash), and an index file's previous lines from its copy the published bins name.
//! Both are by construction the published state, so
//!
//! * a publish that stops before its timestamp leaves the published feeds exactly
//!   consistent with the published index (the new feed copies are unnamed files, like the
//!   new index copies), and the next publish of the same change (the hook's retry, or a
//!   scan, which sees the file differ from the signed bin) diffs against the same old
//!   bytes and redoes the same items;
//! * a publish that stops after its timestamp has published the feeds with the index;
//!   the next publish finds the signed index file equal to the index and adds nothing.
//!
//! # Where feeds go
//!
//! Feed paths (`feeds/crates/<name>.xml`, `feeds/updates.xml`) are targets in the same
//! hashed bins as the index files, by the hash of their path (no new delegation, nothing
//! for the key holders to sign): a one-version publish re-signs up to three bins instead
//! of one (the index file's, the crate feed's, the updates feed's).
//!
//! # The setting
//!
//! `state/feeds` holds `on` or `off` ([`set_enabled`]); [`crate::publish::Repository::init`]
//! writes `on`. A repository without the file (made before feeds) has them off. When
//! they are switched on for a repository already published, the next publish is a full
//! one that builds every feed from the current index ([`published`]); switched off, the next
//! publish is a full one that drops them. Feeds need the
//! target copies (they are read back from them); with copies off no feed is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use tuf_core::feed::{self, FeedItem, FeedRule, FeedScope, CRATE_RULE, UPDATES_PATH, UPDATES_RULE};
use tuf_core::index::CrateName;
use tuf_core::metadata::{TargetPath, Targets};
use tuf_core::repo::{self, Change, PublishedState, TargetEntry};
use tuf_core::Limits;

use crate::error::Error;
use crate::files;
use crate::published::MetadataReader;

/// `state/feeds`: whether the publisher writes feeds (`on`), see the module documentation.
pub const SETTING_FILE: &str = "feeds";

/// Whether feeds are on for the repository whose state directory is `state_dir`.
pub fn enabled(state_dir: &Path) -> Result<bool, Error> {
    Ok(setting(state_dir)? == Some(true))
}

/// The setting as written: `None` when there is no such file (a repository made before
/// feeds, which never published any, so a publish need not look for feeds to drop).
pub(crate) fn setting(state_dir: &Path) -> Result<Option<bool>, Error> {
    Ok(files::read_optional(&state_dir.join(SETTING_FILE))?
        .map(|bytes| bytes.trim_ascii() == b"on"))
}

/// Switch feeds on or off for the repository whose state directory is `state_dir`.
/// Switched on for a repository already published, the next publish builds every feed.
pub fn set_enabled(state_dir: &Path, on: bool) -> Result<(), Error> {
    std::fs::create_dir_all(state_dir).map_err(Error::io("create directory", state_dir))?;
    files::write_atomic(
        &state_dir.join(SETTING_FILE),
        if on { b"on\n" } else { b"off\n" },
    )
}

/// Where a publish reads the hash-named target copies (published ones, and those of the
/// index files it is about to sign) and writes the copies of the feeds it renders: the
/// local targets directory ([`LocalCopies`]) or a store (`crate::remote`). The copies
/// are read back checked against their signed length and SHA-256 ([`read_copy`]), so
/// where they come from does not matter to what a feed holds.
pub(crate) trait Copies: Sync {
    /// The bytes of the copy named `name` ([`repo::target_copy_name`]); `None`: missing.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error>;
    /// Where the copy named `name` is, for messages.
    fn locate(&self, name: &str) -> String;
    /// Write (create-only: a copy's name is its hash) the copy of a feed.
    fn write(&self, path: &TargetPath, sha256: &[u8; 32], bytes: Vec<u8>) -> Result<(), Error>;
}

/// The copies of a local repository: `REPO/targets/`; the feed copies written are kept
/// for the publish's batch to make durable.
pub(crate) struct LocalCopies<'d> {
    dir: &'d Path,
    written: std::sync::Mutex<Vec<PathBuf>>,
}

impl<'d> LocalCopies<'d> {
    pub(crate) fn new(dir: &'d Path) -> Self {
        Self {
            dir,
            written: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The feed copies written (for the batch to make durable).
    pub(crate) fn into_written(self) -> Vec<PathBuf> {
        self.written
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Copies for LocalCopies<'_> {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        files::read_optional(&self.dir.join(name))
    }

    fn locate(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn write(&self, path: &TargetPath, sha256: &[u8; 32], bytes: Vec<u8>) -> Result<(), Error> {
        if let Some(written) = crate::hashing::write_copy(self.dir, path, sha256, &bytes)? {
            self.written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(written);
        }
        Ok(())
    }
}

/// What the feed work of one publish made.
#[derive(Debug, Default)]
pub(crate) struct FeedOutcome {
    /// The feed targets to sign (changed feeds only, or every feed in a full publish).
    pub entries: Vec<TargetEntry>,
    /// Feed entries the new ones replace (their copies are retired).
    pub superseded: Vec<TargetEntry>,
    /// Feeds rendered (written or found already there).
    pub feeds: usize,
    /// Items this publish added.
    pub items: usize,
}

/// The targets of some bins of the published state, read and verified.
struct Signed(BTreeMap<u32, Targets>);

impl Signed {
    /// Read and verify bins `bins` of `state`.
    fn load(
        reader: &dyn MetadataReader,
        state: &PublishedState,
        bins: impl IntoIterator<Item = u32>,
        limits: &Limits,
    ) -> Result<Self, Error> {
        let bins: Vec<u32> = bins
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let names: Vec<String> = bins
            .iter()
            .map(|&bin| state.bin_file(bin).map_err(Error::tuf("snapshot")))
            .collect::<Result<_, _>>()?;
        let files = reader.read_many(&names)?;
        let loaded: Vec<(u32, Targets)> = bins
            .into_par_iter()
            .zip(names.into_par_iter().zip(files))
            .map(|(bin, (name, bytes))| {
                let bytes = bytes.ok_or_else(|| Error::Missing {
                    path: reader.locate(&name),
                    reason: "named by the published metadata but not there".to_owned(),
                })?;
                let targets = state
                    .verify_bin(bin, &bytes, limits)
                    .map_err(Error::tuf(name))?;
                Ok((bin, targets))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Self(loaded.into_iter().collect()))
    }

    /// The published entry of `path` (`None`: not signed, or its bin not loaded).
    fn entry(&self, state: &PublishedState, path: &TargetPath) -> Option<TargetEntry> {
        let bin = state.bins().bin_of(path.as_str());
        let file = self.0.get(&bin)?.targets.get(path)?;
        TargetEntry::from_target_file(path, file)
    }
}

/// Whether the published `state` signs the feeds: its updates feed is signed. Feeds on
/// and not signed (switched on after the index was published, or the first publish with
/// feeds did not reach its timestamp): the next publish builds every feed. Feeds off and
/// signed: the next publish drops them all ([`signed_feeds`]), so a reader is told there
/// is no feed rather than shown one that no longer changes.
pub(crate) fn published(
    reader: &dyn MetadataReader,
    state: &PublishedState,
    limits: &Limits,
) -> Result<bool, Error> {
    let updates = updates_path()?;
    let signed = Signed::load(reader, state, [state.bins().bin_of(UPDATES_PATH)], limits)?;
    Ok(signed.entry(state, &updates).is_some())
}

/// Every feed target `state` signs (all its bins read): the copies a full publish with
/// feeds off retires.
pub(crate) fn signed_feeds(
    reader: &dyn MetadataReader,
    state: &PublishedState,
    limits: &Limits,
) -> Result<Vec<TargetEntry>, Error> {
    let all = (0..state.bins().bin_count()).filter_map(|b| u32::try_from(b).ok());
    let signed = Signed::load(reader, state, all, limits)?;
    Ok(signed
        .0
        .values()
        .flat_map(|targets| &targets.targets)
        .filter(|(path, _)| feed::is_feed_path(path.as_str()))
        .filter_map(|(path, file)| TargetEntry::from_target_file(path, file))
        .collect())
}

fn updates_path() -> Result<TargetPath, Error> {
    TargetPath::parse(UPDATES_PATH).map_err(Error::tuf(UPDATES_PATH))
}

/// The feed path of the crate whose index file is at `path`; `None` for `config.json`.
fn feed_of(path: &TargetPath) -> Result<Option<(CrateName, TargetPath)>, Error> {
    if path.as_str() == tuf_core::index::CONFIG_PATH || feed::is_feed_path(path.as_str()) {
        return Ok(None);
    }
    let name = CrateName::from_sparse_path(path.as_str()).map_err(|e| Error::Feed {
        path: path.as_str().to_owned(),
        source: e.into(),
    })?;
    let feed_path = feed::crate_feed_path(&name);
    let feed_path = TargetPath::parse(&feed_path).map_err(Error::tuf(feed_path))?;
    Ok(Some((name, feed_path)))
}

/// The feeds of an incremental publish: for each index file in `changes` whose signed
/// entry really changes, the items from its previous (published) bytes to its new ones,
/// merged into its crate's published feed and into the updates feed.
pub(crate) fn incremental(
    reader: &dyn MetadataReader,
    state: &PublishedState,
    copies: &dyn Copies,
    changes: &[Change],
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<FeedOutcome, Error> {
    let mut touched = Vec::new();
    for change in changes {
        if let Some((_, feed_path)) = feed_of(change.path())? {
            touched.push((change, feed_path));
        }
    }
    let mut outcome = FeedOutcome::default();
    if touched.is_empty() {
        return Ok(outcome);
    }
    let updates = updates_path()?;
    let bins = state.bins();
    let needed = touched
        .iter()
        .flat_map(|(change, feed_path)| {
            [
                bins.bin_of(change.path().as_str()),
                bins.bin_of(feed_path.as_str()),
            ]
        })
        .chain([bins.bin_of(UPDATES_PATH)]);
    let signed = Signed::load(reader, state, needed, limits)?;
    // Crate feed path → items of this publish, newest first.
    let mut by_feed: BTreeMap<TargetPath, Vec<FeedItem>> = BTreeMap::new();
    for (change, feed_path) in &touched {
        let old = signed.entry(state, change.path());
        let new = match change {
            Change::Put(entry) => Some(entry),
            Change::Remove(_) => None,
        };
        if old.as_ref() == new {
            continue;
        }
        let items = change_items(copies, old.as_ref(), new, now)?;
        if !items.is_empty() {
            by_feed.entry(feed_path.clone()).or_default().extend(items);
        }
    }
    let mut all_new = Vec::new();
    for (feed_path, items) in by_feed {
        all_new.extend(items.iter().cloned());
        let old = signed.entry(state, &feed_path);
        write_feed(
            copies,
            &feed_path,
            items,
            old,
            &CRATE_RULE,
            now,
            &mut outcome,
        )?;
    }
    if !all_new.is_empty() {
        sort_newest_first(&mut all_new);
        let old = signed.entry(state, &updates);
        write_feed(
            copies,
            &updates,
            all_new,
            old,
            &UPDATES_RULE,
            now,
            &mut outcome,
        )?;
    }
    Ok(outcome)
}

/// The feeds of a first or full publish of `entries` (every index file). With
/// `backfill` (the first publish with feeds: no feed is published yet), every crate's
/// feed starts from its index file's versions ([`feed::backfill`]) and the updates feed
/// from those with a known time. Otherwise the bins of `previous` are read: a crate whose
/// index file is unchanged keeps its feed as published, a changed or removed one gets
/// its items as in [`incremental`].
pub(crate) fn full(
    reader: &dyn MetadataReader,
    previous: Option<&PublishedState>,
    backfill: bool,
    copies: &dyn Copies,
    entries: &[TargetEntry],
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<FeedOutcome, Error> {
    let updates = updates_path()?;
    let (signed, previous) = match (previous, backfill) {
        (Some(state), false) => (
            Signed::load(
                reader,
                state,
                (0..state.bins().bin_count()).filter_map(|b| u32::try_from(b).ok()),
                limits,
            )?,
            Some(state),
        ),
        _ => (Signed(BTreeMap::new()), None),
    };
    let old_entry = |path: &TargetPath| previous.and_then(|state| signed.entry(state, path));

    // Each crate's feed, written in parallel; only the outcome and the updates feed's
    // candidates come back, so a 200k-crate backfill never holds every item at once.
    let one_crate = |path: &TargetPath,
                     entry: Option<&TargetEntry>|
     -> Result<(FeedOutcome, Vec<FeedItem>), Error> {
        let mut outcome = FeedOutcome::default();
        let Some((_, feed_path)) = feed_of(path)? else {
            return Ok((outcome, Vec::new()));
        };
        let old = old_entry(path);
        if previous.is_some() && old.as_ref() == entry {
            return Ok((outcome, Vec::new()));
        }
        let items = match (previous, entry) {
            (None, Some(entry)) => {
                let bytes = read_copy(copies, entry)?;
                feed::backfill(&bytes).map_err(feed_error(path))?
            }
            _ => change_items(copies, old.as_ref(), entry, now)?,
        };
        let candidates = keep_for_updates(items.clone(), now);
        let old_feed = old_entry(&feed_path);
        write_feed(
            copies,
            &feed_path,
            items,
            old_feed,
            &CRATE_RULE,
            now,
            &mut outcome,
        )?;
        Ok((outcome, candidates))
    };
    // Index files the previous state signed that are gone: their versions are deleted.
    let mut gone = Vec::new();
    if previous.is_some() {
        let present: BTreeSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        for targets in signed.0.values() {
            for path in targets.targets.keys() {
                if !present.contains(path.as_str()) && !feed::is_feed_path(path.as_str()) {
                    gone.push(path);
                }
            }
        }
    }
    // Folded per thread and trimmed to what the updates feed could keep as they come:
    // collecting every crate's candidates first held them all (~1.6M items, ~250 MB at
    // 200k crates; docs/benchmarks.md, "Release feeds").
    let trim = |mut candidates: Vec<FeedItem>| {
        if candidates.len() > 4 * UPDATES_RULE.max_items {
            candidates = keep_for_updates(candidates, now);
        }
        candidates
    };
    let absorb = |(mut outcome, mut candidates): (FeedOutcome, Vec<FeedItem>),
                  (one, items): (FeedOutcome, Vec<FeedItem>)| {
        outcome.absorb(one);
        candidates.extend(items);
        (outcome, trim(candidates))
    };
    let present = entries
        .par_iter()
        .map(|entry| one_crate(&entry.path, Some(entry)))
        .try_fold(
            || (FeedOutcome::default(), Vec::new()),
            |acc, one| one.map(|one| absorb(acc, one)),
        )
        .try_reduce(
            || (FeedOutcome::default(), Vec::new()),
            |acc, other| Ok(absorb(acc, other)),
        )?;
    let (mut outcome, candidates) = gone.into_iter().try_fold(present, |acc, path| {
        one_crate(path, None).map(|one| absorb(acc, one))
    })?;
    let rewritten: BTreeSet<TargetPath> = outcome.entries.iter().map(|e| e.path.clone()).collect();
    // Feeds of crates this publish did not change keep their published entry (a crate
    // deleted long ago keeps its last feed, with its deletion items); the updates feed
    // is written below.
    if previous.is_some() {
        for targets in signed.0.values() {
            for (path, file) in &targets.targets {
                if feed::is_feed_path(path.as_str())
                    && path != &updates
                    && !rewritten.contains(path)
                {
                    if let Some(entry) = TargetEntry::from_target_file(path, file) {
                        outcome.entries.push(entry);
                    }
                }
            }
        }
    }
    let mut candidates = keep_for_updates(candidates, now);
    sort_newest_first(&mut candidates);
    let old_updates = old_entry(&updates);
    write_feed(
        copies,
        &updates,
        candidates,
        old_updates.clone(),
        &UPDATES_RULE,
        now,
        &mut outcome,
    )?;
    // A full publish signs only what it lists: an unchanged updates feed is listed as is.
    if let Some(old) = old_updates {
        if !outcome.entries.iter().any(|e| e.path == updates) {
            outcome.entries.push(old);
        }
    }
    Ok(outcome)
}

impl FeedOutcome {
    fn absorb(&mut self, other: FeedOutcome) {
        self.entries.extend(other.entries);
        self.superseded.extend(other.superseded);
        self.feeds += other.feeds;
        self.items += other.items;
    }
}

/// Of `items`, those the updates feed could keep: with a known time, the newest
/// [`UPDATES_RULE`]`.latest` and every one within its window (at most its cap), newest
/// first.
fn keep_for_updates(mut items: Vec<FeedItem>, now: DateTime<Utc>) -> Vec<FeedItem> {
    items.retain(|i| i.time.is_some());
    sort_newest_first(&mut items);
    feed::merge(items, Vec::new(), &UPDATES_RULE, now)
}

/// Newest time first; items of one time keep their order (a stable sort).
fn sort_newest_first(items: &mut [FeedItem]) {
    items.sort_by_key(|item| std::cmp::Reverse(item.time));
}

/// The items of one index file going from `old` to `new` (published entries), read from
/// their copies. An old copy that is missing or no longer holds its signed bytes (an
/// index file rewritten in place under `--link-copies`) is not trusted: the crate's
/// items are then its current versions ([`feed::backfill`]), so nothing is lost, though
/// an old version may be repeated.
fn change_items(
    copies: &dyn Copies,
    old: Option<&TargetEntry>,
    new: Option<&TargetEntry>,
    now: DateTime<Utc>,
) -> Result<Vec<FeedItem>, Error> {
    let new_bytes = new.map(|entry| read_copy(copies, entry)).transpose()?;
    let path = new.or(old).map(|e| e.path.clone());
    let error = |e| match &path {
        Some(path) => feed_error(path)(e),
        None => Error::Feed {
            path: String::new(),
            source: e,
        },
    };
    let old_bytes = match old {
        Some(entry) => match read_copy(copies, entry) {
            Ok(bytes) => Some(bytes),
            Err(_) => {
                return match new_bytes {
                    Some(bytes) => feed::backfill(&bytes).map_err(error),
                    None => Ok(Vec::new()),
                }
            }
        },
        None => None,
    };
    feed::diff(old_bytes.as_deref(), new_bytes.as_deref(), now).map_err(error)
}

fn feed_error(path: &TargetPath) -> impl FnOnce(feed::FeedError) -> Error + '_ {
    move |source| Error::Feed {
        path: path.as_str().to_owned(),
        source,
    }
}

/// The bytes of `entry`'s hash-named copy, checked to be the signed ones.
fn read_copy(copies: &dyn Copies, entry: &TargetEntry) -> Result<Vec<u8>, Error> {
    let name = repo::target_copy_name(&entry.path, &entry.sha256);
    let bytes = copies.read(&name)?.ok_or_else(|| Error::Missing {
        path: PathBuf::from(copies.locate(&name)),
        reason: format!("the signed copy of {} (feeds read it back)", entry.path),
    })?;
    let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if length != entry.length || tuf_core::hash::sha256(&bytes) != entry.sha256 {
        return Err(Error::Target {
            path: entry.path.as_str().to_owned(),
            reason: format!(
                "its copy {} does not hold the signed bytes",
                copies.locate(&name)
            ),
        });
    }
    Ok(bytes)
}

/// Merge `items` into the feed published as `old` (read back from its copy), render it,
/// write its copy, and record it in `outcome`.
fn write_feed(
    copies: &dyn Copies,
    path: &TargetPath,
    items: Vec<FeedItem>,
    old: Option<TargetEntry>,
    rule: &FeedRule,
    now: DateTime<Utc>,
    outcome: &mut FeedOutcome,
) -> Result<(), Error> {
    let existing = match &old {
        // The published feed must read back: a feed never loses an item, so one that
        // does not is an error to look at, not a feed to start again.
        Some(entry) => {
            feed::parse(&read_copy(copies, entry)?, rule.max_items).map_err(feed_error(path))?
        }
        None => Vec::new(),
    };
    outcome.items += items.len();
    let merged = feed::merge(items, existing, rule, now);
    let scope = match feed::crate_name_of_feed(path.as_str()) {
        Some(name) => FeedScope::Crate(name),
        None => FeedScope::Updates,
    };
    let bytes = feed::render(scope, &merged);
    let entry = TargetEntry {
        path: path.clone(),
        length: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        sha256: tuf_core::hash::sha256(&bytes),
    };
    if old.as_ref() == Some(&entry) {
        return Ok(());
    }
    copies.write(path, &entry.sha256, bytes)?;
    outcome.feeds += 1;
    if let Some(old) = old {
        outcome.superseded.push(old);
    }
    outcome.entries.push(entry);
    Ok(())
}
