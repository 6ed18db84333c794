//! Verify a published repository offline from a trusted root, the way a client walks it
//! (TUF §5): root rotations, timestamp, snapshot (against the timestamp's length and
//! hashes), targets, then bins and targets, checking signatures, versions and expiry.
//!
//! [`RepoView`] is the verified top of the repository; [`RepoView::target`] reaches one
//! index file through its bin, [`verify_repository`] checks everything and stops at the
//! first problem, [`check_repository`] checks everything and lists every problem.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use tuf_core::metadata::{
    check_length_and_hashes, Role, RoleType, Root, SignedMetadata, Snapshot, SuccinctRoles,
    TargetFile, TargetPath, Targets, Timestamp,
};
use tuf_core::repo::{target_copy_name, versioned_name, TIMESTAMP_FILE};
use tuf_core::verify::{self, Authority};
use tuf_core::Limits;

use crate::error::Error;
use crate::fsio;
use crate::progress::{units, Progress, Stage, StageGuard};
use crate::publish::Repository;
use crate::published::MetadataReader;

/// What verification reads of a published repository: its metadata (by name, through
/// [`MetadataReader`]), its hash-named target copies and its index files. A local
/// [`Repository`] and a repository on object storage (`crate::remote`) both are one, so
/// [`RepoView`] walks either the same way.
pub trait PublishedFiles: MetadataReader + Send + std::fmt::Debug {
    /// The bytes of target copy `name` (`se/rd/<sha256>.serde`); `None` when absent.
    fn target_copy(&self, name: &str) -> Result<Option<Vec<u8>>, Error>;

    /// Where target copy `name` is (a path or a URL), for messages.
    fn locate_copy(&self, name: &str) -> String;

    /// The bytes of index file `path`; `None` when absent.
    fn index_file(&self, path: &TargetPath) -> Result<Option<Vec<u8>>, Error>;

    /// Where index file `path` is, for messages.
    fn locate_index(&self, path: &TargetPath) -> String;

    /// Every index file path, and the names under the index that are not index files.
    fn index_paths(&self) -> Result<(Vec<TargetPath>, Vec<String>), Error>;

    /// Where the index is, for messages.
    fn index_location(&self) -> String;
}

impl MetadataReader for Repository {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        self.reader().read(name)
    }

    fn locate(&self, name: &str) -> PathBuf {
        self.reader().locate(name)
    }
}

impl PublishedFiles for Repository {
    fn target_copy(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        fsio::read_optional(&self.targets_dir().join(name))
    }

    fn locate_copy(&self, name: &str) -> String {
        self.targets_dir().join(name).display().to_string()
    }

    fn index_file(&self, path: &TargetPath) -> Result<Option<Vec<u8>>, Error> {
        fsio::read_optional(&self.index_dir().join(path.as_str()))
    }

    fn locate_index(&self, path: &TargetPath) -> String {
        self.index_dir().join(path.as_str()).display().to_string()
    }

    fn index_paths(&self) -> Result<(Vec<TargetPath>, Vec<String>), Error> {
        crate::hashing::walk_index(self.index_dir())
    }

    fn index_location(&self) -> String {
        self.index_dir().display().to_string()
    }
}

/// Where the bytes of targets are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetCheck {
    /// Metadata only.
    None,
    /// The hash-named copies under `REPO/targets/` (what a TUF client downloads).
    Copies,
    /// The index files at their plain paths under the index directory.
    Index,
}

/// Counts from a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    /// Root version reached.
    pub root_version: u64,
    /// Timestamp version.
    pub timestamp_version: u64,
    /// Snapshot version.
    pub snapshot_version: u64,
    /// Bins verified.
    pub bins: usize,
    /// Targets listed (and checked, unless [`TargetCheck::None`]).
    pub targets: usize,
}

/// The verified top-level metadata of a repository.
#[derive(Debug, Clone)]
pub struct RepoView {
    files: Arc<dyn PublishedFiles>,
    limits: Limits,
    now: DateTime<Utc>,
    root: Root,
    timestamp: Timestamp,
    snapshot: Snapshot,
    targets: Targets,
    bins: SuccinctRoles,
}

impl RepoView {
    /// Walk from `trusted_root` through every newer `N.root.json`, then `timestamp.json`,
    /// the snapshot and the top-level targets, verifying each at `now`.
    pub fn load(
        repository: &Repository,
        trusted_root: &[u8],
        now: DateTime<Utc>,
        limits: &Limits,
    ) -> Result<Self, Error> {
        Self::load_from(Arc::new(repository.clone()), trusted_root, now, limits)
    }

    /// [`RepoView::load`] of the repository `files` reads (local or on object storage).
    pub fn load_from(
        files: Arc<dyn PublishedFiles>,
        trusted_root: &[u8],
        now: DateTime<Utc>,
        limits: &Limits,
    ) -> Result<Self, Error> {
        Self::load_with(files, trusted_root, now, limits, &mut Err)
    }

    /// [`RepoView::load`], handing every expiry to `expired`, which may record it and
    /// return `Ok` to go on: an expired role whose signatures verify still vouches for
    /// the files it names, so the checks below it stay meaningful.
    fn load_with(
        files: Arc<dyn PublishedFiles>,
        trusted_root: &[u8],
        now: DateTime<Utc>,
        limits: &Limits,
        expired: &mut dyn FnMut(Error) -> Result<(), Error>,
    ) -> Result<Self, Error> {
        let reader: &dyn MetadataReader = files.as_ref();
        let meta = SignedMetadata::parse(trusted_root, RoleType::Root, limits)
            .map_err(Error::tuf("trusted root"))?;
        let mut root = verify::verify_root_self_signed(&meta, limits)
            .map_err(Error::tuf("trusted root"))?
            .into_inner();
        for _ in 0..limits.max_root_rotations {
            let next = root.version.get().saturating_add(1);
            let name = format!("{next}.root.json");
            let Some(bytes) = reader.read(&name)? else {
                break;
            };
            let meta =
                SignedMetadata::parse(&bytes, RoleType::Root, limits).map_err(Error::tuf(&name))?;
            let new = verify::verify_root_rotation(&meta, &root, limits)
                .map_err(Error::tuf(&name))?
                .into_inner();
            if new.version.get() != next {
                return Err(rollback(&name, next, new.version.get()));
            }
            root = new;
        }
        not_expired(&root, "root", now).or_else(&mut *expired)?;

        let timestamp: Timestamp = top(
            &root,
            &read(reader, TIMESTAMP_FILE)?,
            RoleType::Timestamp,
            limits,
        )?;
        not_expired(&timestamp, "timestamp", now).or_else(&mut *expired)?;
        let entry = timestamp.snapshot_meta().ok_or_else(|| Error::Missing {
            path: reader.locate(TIMESTAMP_FILE),
            reason: "no snapshot.json entry".to_owned(),
        })?;
        let snapshot_name = versioned_name("snapshot", entry.version);
        let snapshot_bytes = read(reader, &snapshot_name)?;
        check_length_and_hashes(
            "snapshot",
            &snapshot_bytes,
            entry.length,
            entry.hashes.as_ref(),
        )
        .map_err(Error::tuf(&snapshot_name))?;
        let snapshot: Snapshot = top(&root, &snapshot_bytes, RoleType::Snapshot, limits)?;
        if snapshot.version != entry.version {
            return Err(rollback(
                &snapshot_name,
                entry.version.get(),
                snapshot.version.get(),
            ));
        }
        not_expired(&snapshot, "snapshot", now).or_else(&mut *expired)?;

        let targets_version = snapshot
            .role_meta("targets")
            .map(|m| m.version)
            .ok_or_else(|| Error::Missing {
                path: reader.locate(&snapshot_name),
                reason: "no targets.json entry".to_owned(),
            })?;
        let targets_name = versioned_name("targets", targets_version);
        let targets: Targets = top(
            &root,
            &read(reader, &targets_name)?,
            RoleType::Targets,
            limits,
        )?;
        if targets.version != targets_version {
            return Err(rollback(
                &targets_name,
                targets_version.get(),
                targets.version.get(),
            ));
        }
        not_expired(&targets, "targets", now).or_else(&mut *expired)?;
        // TAP 15 succinct_roles, or the same bins as classic path_hash_prefixes roles.
        let bins = targets
            .delegations
            .as_ref()
            .ok_or_else(|| "no delegations".to_owned())
            .and_then(|d| d.hashed_bins())
            .map_err(|e| Error::Missing {
                path: reader.locate(&targets_name),
                reason: format!("targets does not delegate to hashed bins: {e}"),
            })?;
        Ok(Self {
            files: files.clone(),
            limits: limits.clone(),
            now,
            root,
            timestamp,
            snapshot,
            targets,
            bins,
        })
    }

    /// The verified root.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The verified timestamp.
    pub fn timestamp(&self) -> &Timestamp {
        &self.timestamp
    }

    /// The verified snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The bin layout.
    pub fn bins(&self) -> &SuccinctRoles {
        &self.bins
    }

    /// Verify bin number `bin`: signed by the delegation's keys, of the version the
    /// snapshot names, not expired, and listing only paths that hash to it.
    pub fn bin(&self, bin: u32) -> Result<Targets, Error> {
        let (name, bin_targets) = self.bin_signed(bin)?;
        not_expired(&bin_targets, &name, self.now)?;
        if let Some(stray) = bin_targets
            .targets
            .keys()
            .find(|p| self.bins.bin_of(p.as_str()) != bin)
        {
            return Err(self.stray(&name, stray));
        }
        Ok(bin_targets)
    }

    /// Bin number `bin` and its role name, signed by the delegation's keys and of the
    /// version the snapshot names; expiry and paths not checked.
    fn bin_signed(&self, bin: u32) -> Result<(String, Targets), Error> {
        let name = self.bins.bin_name(bin);
        let version = self
            .snapshot
            .role_meta(&name)
            .map(|m| m.version)
            .ok_or_else(|| Error::Missing {
                path: self
                    .files
                    .locate(&versioned_name("snapshot", self.snapshot.version)),
                reason: format!("the snapshot does not list {name}"),
            })?;
        let file = versioned_name(&name, version);
        let bytes = read(self.files.as_ref(), &file)?;
        let meta = SignedMetadata::parse(&bytes, RoleType::Targets, &self.limits)
            .map_err(Error::tuf(&file))?;
        let delegations = self
            .targets
            .delegations
            .as_ref()
            .ok_or_else(|| Error::Missing {
                path: PathBuf::from("targets"),
                reason: "no delegations".to_owned(),
            })?;
        let authority = Authority::from_succinct(delegations, &self.bins);
        let bin_targets = verify::verify::<Targets>(&meta, &name, &authority, &self.limits)
            .map_err(Error::tuf(&file))?
            .into_inner();
        if bin_targets.version != version {
            return Err(rollback(&file, version.get(), bin_targets.version.get()));
        }
        Ok((name, bin_targets))
    }

    fn stray(&self, name: &str, stray: &TargetPath) -> Error {
        Error::Target {
            path: stray.to_string(),
            reason: format!(
                "listed by {name} but it hashes to {}",
                self.bins.role_for(stray.as_str())
            ),
        }
    }

    /// Every problem of bin number `bin` and the targets it lists, in path order, and the
    /// paths it lists (for finding unsigned index files); `None` instead of the paths when
    /// the bin itself was refused, so nothing is known about what it signs.
    fn check_bin(&self, bin: u32, check: TargetCheck) -> (Vec<Problem>, Option<Vec<TargetPath>>) {
        let mut problems = Vec::new();
        let (name, bin_targets) = match self.bin_signed(bin) {
            Ok(signed) => signed,
            Err(error) => {
                let name = self.bins.bin_name(bin);
                problems.push(Problem::new(name, error));
                return (problems, None);
            }
        };
        if let Err(error) = not_expired(&bin_targets, &name, self.now) {
            problems.push(Problem::new(name.clone(), error));
        }
        let mut listed = Vec::with_capacity(bin_targets.targets.len());
        for (path, entry) in &bin_targets.targets {
            if self.bins.bin_of(path.as_str()) != bin {
                // A client looks for the path in its own bin and never sees this entry.
                problems.push(Problem {
                    subject: path.to_string(),
                    code: "misplaced",
                    error: self.stray(&name, path),
                });
                continue;
            }
            listed.push(path.clone());
            if let Err(error) = self.check_target(path, entry, check) {
                problems.push(Problem::target(path, error));
            }
        }
        (problems, Some(listed))
    }

    /// Reach `path` through its bin: its verified entry, or `None` when the bin does not
    /// list it (an authenticated "no such crate").
    pub fn target(&self, path: &str) -> Result<Option<TargetFile>, Error> {
        let path = TargetPath::parse(path).map_err(Error::tuf(path))?;
        let bin = self.bin(self.bins.bin_of(path.as_str()))?;
        Ok(bin.targets.get(&path).cloned())
    }

    /// Check the bytes of `path` (a copy or an index file, per `check`) against `entry`.
    pub fn check_target(
        &self,
        path: &TargetPath,
        entry: &TargetFile,
        check: TargetCheck,
    ) -> Result<(), Error> {
        let (bytes, file) = match check_for(path, check) {
            TargetCheck::None => return Ok(()),
            TargetCheck::Index => (self.files.index_file(path)?, self.files.locate_index(path)),
            TargetCheck::Copies => {
                let sha256 = entry.sha256().ok_or_else(|| Error::Target {
                    path: path.to_string(),
                    reason: "no sha256 hash".to_owned(),
                })?;
                let name = target_copy_name(path, &sha256);
                (
                    self.files.target_copy(&name)?,
                    self.files.locate_copy(&name),
                )
            }
        };
        let bytes = bytes.ok_or_else(|| Error::Target {
            path: path.to_string(),
            reason: format!("{file} is missing"),
        })?;
        check_length_and_hashes(
            path.as_str(),
            &bytes,
            Some(entry.length),
            Some(&entry.hashes),
        )
        .map_err(Error::tuf(path.as_str()))
    }
}

/// Where `path`'s bytes are checked: a feed (docs/feeds.md) is written by the publisher
/// and never in the index, so its copy is checked in place of an index file.
fn check_for(path: &TargetPath, check: TargetCheck) -> TargetCheck {
    match check {
        TargetCheck::Index if tuf_core::feed::is_feed_path(path.as_str()) => TargetCheck::Copies,
        other => other,
    }
}

/// Verify the whole repository: the top-level chain, every bin, and every target's bytes
/// per `check`.
pub fn verify_repository(
    repository: &Repository,
    trusted_root: &[u8],
    now: DateTime<Utc>,
    check: TargetCheck,
    limits: &Limits,
) -> Result<VerifyReport, Error> {
    verify_published(
        Arc::new(repository.clone()),
        trusted_root,
        now,
        check,
        limits,
    )
}

/// [`verify_repository`] of the repository `files` reads (local or on object storage).
pub fn verify_published(
    files: Arc<dyn PublishedFiles>,
    trusted_root: &[u8],
    now: DateTime<Utc>,
    check: TargetCheck,
    limits: &Limits,
) -> Result<VerifyReport, Error> {
    let view = RepoView::load_from(files, trusted_root, now, limits)?;
    let bins: Vec<u32> = (0..view.bins.bin_count())
        .filter_map(|b| u32::try_from(b).ok())
        .collect();
    let counts: Vec<usize> = bins
        .par_iter()
        .map(|&bin| {
            let targets = view.bin(bin)?;
            for (path, entry) in &targets.targets {
                view.check_target(path, entry, check)?;
            }
            Ok(targets.targets.len())
        })
        .collect::<Result<_, Error>>()?;
    Ok(VerifyReport {
        root_version: view.root.version.get(),
        timestamp_version: view.timestamp.version.get(),
        snapshot_version: view.snapshot.version.get(),
        bins: counts.len(),
        targets: counts.iter().sum(),
    })
}

/// One problem [`check_repository`] found.
#[derive(Debug)]
pub struct Problem {
    /// The role (`timestamp`, `crates-bin-a3f`), metadata file or target path concerned.
    pub subject: String,
    /// A stable, kebab-case name of the kind of problem: [`Error::code`] for metadata
    /// (`expired`, `threshold`, `missing`, `rollback`, ...), and for targets
    /// `target-missing`, `target-mismatch` (length or hash), `misplaced` (listed by a
    /// bin it does not hash to) or `unsigned` (an index file no bin lists).
    pub code: &'static str,
    /// What is wrong, naming the file and what was expected and found.
    pub error: Error,
}

impl Problem {
    fn new(subject: impl Into<String>, error: Error) -> Self {
        Self {
            subject: subject.into(),
            code: error.code(),
            error,
        }
    }

    /// A problem with a target's bytes (from [`RepoView::check_target`]).
    fn target(path: &TargetPath, error: Error) -> Self {
        let code = match &error {
            Error::Target { .. } => "target-missing",
            Error::Tuf { source, .. }
                if matches!(source.code(), "length-mismatch" | "hash-mismatch") =>
            {
                "target-mismatch"
            }
            other => other.code(),
        };
        Self {
            subject: path.to_string(),
            code,
            error,
        }
    }

    /// What is wrong, without repeating the subject the error names already
    /// (`target ab/cd/abcd: ab/cd/abcd: length is ...` becomes `length is ...`).
    pub fn message(&self) -> String {
        let full = self.error.to_string();
        let mut rest = full.as_str();
        loop {
            let trimmed = rest
                .strip_prefix("target ")
                .unwrap_or(rest)
                .strip_prefix(self.subject.as_str())
                .and_then(|r| r.strip_prefix(": "));
            match trimmed {
                Some(r) if !r.is_empty() => rest = r,
                _ => break,
            }
        }
        rest.to_owned()
    }

    /// What the operator should do about it.
    pub fn advice(&self) -> &'static str {
        let offline = matches!(self.subject.as_str(), "root" | "trusted root" | "targets");
        match self.code {
            "expired" if offline => {
                "stage and sign a new version (`tuf root rotate` for root, a new staged \
                 targets for targets), then `tuf publish`"
            }
            "expired" => "run `tuf refresh` (or `tuf publish`)",
            "unsigned" => "run `tuf publish` to sign it",
            "target-mismatch" => {
                "the file changed since it was signed, or its copy is damaged: run \
                 `tuf publish` (a scan re-hashes changed files and rewrites copies)"
            }
            "target-missing" => {
                "run `tuf publish` (it rewrites missing copies and drops deleted index files)"
            }
            "misplaced" => "run `tuf publish` to sign the bin again",
            "missing" | "io" => {
                "restore the file from a backup, or run `tuf publish` to write it again"
            }
            _ if offline => {
                "the published root or targets was altered or not signed by its key \
                 holders: restore it from the signed copy"
            }
            _ => {
                "the file was altered or not written by `tuf publish`: run `tuf publish` to \
                 sign it again (and find out who changed it)"
            }
        }
    }
}

/// Everything [`check_repository`] found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Root version reached (`None` when the trusted root itself was refused).
    pub root_version: Option<u64>,
    /// Timestamp version, when the top-level chain verified.
    pub timestamp_version: Option<u64>,
    /// Snapshot version, when the top-level chain verified.
    pub snapshot_version: Option<u64>,
    /// Bins looked at.
    pub bins: usize,
    /// Targets listed by the bins (their bytes checked per the [`TargetCheck`]).
    pub targets: usize,
    /// Index files found under the index directory ([`TargetCheck::Index`] only).
    pub index_files: usize,
    /// Every problem, in the order a client meets them: root chain, timestamp,
    /// snapshot, targets, bins (in bin order, each followed by its targets), then index
    /// files no bin lists.
    pub problems: Vec<Problem>,
    /// Set when a problem in the top-level chain (root, timestamp, snapshot, targets)
    /// left nothing below it to trust: the checks that were not done.
    pub stopped: Option<&'static str>,
}

impl CheckReport {
    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check the whole repository as [`verify_repository`] does, but go on after a problem
/// wherever the later checks still mean something, and list every problem: every expired
/// role, every bin whose signature, version or file is bad, every target whose bytes are
/// missing or differ, and (with [`TargetCheck::Index`]) every index file no bin lists.
/// A refused root chain, timestamp, snapshot or targets stops the checks that depend on
/// it ([`CheckReport::stopped`]); an expired but validly signed one does not.
pub fn check_repository(
    repository: &Repository,
    trusted_root: &[u8],
    now: DateTime<Utc>,
    check: TargetCheck,
    limits: &Limits,
    progress: &dyn Progress,
) -> CheckReport {
    check_published(
        Arc::new(repository.clone()),
        trusted_root,
        now,
        check,
        limits,
        progress,
    )
}

/// [`check_repository`] of the repository `files` reads (local or on object storage).
pub fn check_published(
    files: Arc<dyn PublishedFiles>,
    trusted_root: &[u8],
    now: DateTime<Utc>,
    check: TargetCheck,
    limits: &Limits,
    progress: &dyn Progress,
) -> CheckReport {
    let mut report = CheckReport::default();
    let mut expired = Vec::new();
    let loaded = RepoView::load_with(files.clone(), trusted_root, now, limits, &mut |e| {
        expired.push(e);
        Ok(())
    });
    report
        .problems
        .extend(expired.into_iter().map(|e| Problem::new(subject_of(&e), e)));
    let view = match loaded {
        Ok(view) => view,
        Err(error) => {
            report
                .problems
                .push(Problem::new(subject_of(&error), error));
            report.stopped = Some(
                "the top-level chain (root, timestamp, snapshot, targets) did not verify, \
                 so no bin or target below it was checked",
            );
            return report;
        }
    };
    report.root_version = Some(view.root.version.get());
    report.timestamp_version = Some(view.timestamp.version.get());
    report.snapshot_version = Some(view.snapshot.version.get());

    // With the index, progress counts index files (about one signed target each);
    // otherwise bins.
    let walked = match check {
        TargetCheck::Index => Some(files.index_paths()),
        _ => None,
    };
    let (total, per_file) = match &walked {
        Some(Ok((paths, _))) => (paths.len(), true),
        _ => (
            usize::try_from(view.bins.bin_count()).unwrap_or(usize::MAX),
            false,
        ),
    };
    let stage = if per_file {
        Stage::Verifying
    } else {
        Stage::VerifyingBins
    };
    let stage = StageGuard::start(progress, stage, units(total));
    let bins: Vec<u32> = (0..view.bins.bin_count())
        .filter_map(|b| u32::try_from(b).ok())
        .collect();
    let checked: Vec<(u32, Vec<Problem>, Option<Vec<TargetPath>>)> = bins
        .par_iter()
        .map(|&bin| {
            let (problems, listed) = view.check_bin(bin, check);
            // One call per bin, not per file.
            stage.advance(match (&listed, per_file) {
                (Some(listed), true) => listed.len(),
                (None, true) => 0,
                (_, false) => 1,
            });
            (bin, problems, listed)
        })
        .collect();
    drop(stage);
    report.bins = checked.len();
    let mut signed = BTreeSet::new();
    let mut refused_bins = BTreeSet::new();
    for (bin, problems, listed) in checked {
        report.problems.extend(problems);
        match listed {
            Some(listed) => {
                report.targets += listed.len();
                signed.extend(listed);
            }
            None => {
                refused_bins.insert(bin);
            }
        }
    }
    match walked {
        Some(Ok((paths, _))) => {
            report.index_files = paths.len();
            // An index file in a refused bin is not reported again: that bin's problem
            // already covers it.
            let unsigned = paths.into_iter().filter(|p| {
                !signed.contains(p) && !refused_bins.contains(&view.bins.bin_of(p.as_str()))
            });
            for path in unsigned {
                report.problems.push(Problem {
                    subject: path.to_string(),
                    code: "unsigned",
                    error: Error::Target {
                        path: path.to_string(),
                        reason: "in the index but not signed by any bin".to_owned(),
                    },
                });
            }
        }
        Some(Err(error)) => report
            .problems
            .push(Problem::new(files.index_location(), error)),
        None => {}
    }
    report
}

/// The role or file an error of the top-level chain is about.
fn subject_of(error: &Error) -> String {
    match error {
        Error::Tuf { what, .. } => what.clone(),
        Error::Expired { role, .. } => role.clone(),
        Error::Target { path, .. } => path.clone(),
        Error::Missing { path, .. } | Error::Io { path, .. } => path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        other => other.code().to_owned(),
    }
}

fn top<T: Role>(root: &Root, bytes: &[u8], role: RoleType, limits: &Limits) -> Result<T, Error> {
    let meta = SignedMetadata::parse(bytes, role, limits).map_err(Error::tuf(role.as_str()))?;
    let authority = Authority::from_root(root, role).ok_or_else(|| Error::Missing {
        path: PathBuf::from("root"),
        reason: format!("root has no {role} role"),
    })?;
    Ok(
        verify::verify::<T>(&meta, role.as_str(), &authority, limits)
            .map_err(Error::tuf(role.as_str()))?
            .into_inner(),
    )
}

fn not_expired<T: Role>(meta: &T, role: &str, now: DateTime<Utc>) -> Result<(), Error> {
    if meta.expires().is_expired_at(now) {
        return Err(Error::Expired {
            role: role.to_owned(),
            expires: meta.expires().to_string(),
        });
    }
    Ok(())
}

fn rollback(what: &str, expected: u64, found: u64) -> Error {
    Error::Tuf {
        what: what.to_owned(),
        source: tuf_core::Error::RepoState {
            what: what.to_owned(),
            reason: format!("expected version {expected}, found {found}"),
        },
    }
}

fn read(reader: &dyn MetadataReader, name: &str) -> Result<Vec<u8>, Error> {
    reader.read(name)?.ok_or_else(|| Error::Missing {
        path: reader.locate(name),
        reason: "named by verified metadata but not on disk".to_owned(),
    })
}
