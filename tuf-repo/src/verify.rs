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
    check_length_and_hashes, RoleType, Root, Snapshot, SuccinctRoles, TargetFile, TargetPath,
    Targets, Timestamp,
};
use tuf_core::repo::{target_copy_name, versioned_name, TIMESTAMP_FILE};
use tuf_core::trusted::{self, Mode, TrustedState};
use tuf_core::verify::Verified;
use tuf_core::Limits;

use crate::error::Error;
use crate::files;
use crate::progress::{units, Progress, Stage, StageGuard};
use crate::publish::Repository;
use crate::published::{walk_roots, MetadataReader};

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
        files::read_optional(&self.targets_dir().join(name))
    }

    fn locate_copy(&self, name: &str) -> String {
        self.targets_dir().join(name).display().to_string()
    }

    fn index_file(&self, path: &TargetPath) -> Result<Option<Vec<u8>>, Error> {
        files::read_optional(&self.index_dir().join(path.as_str()))
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

/// The verified top-level metadata of a repository: a [`TrustedState`] walked from a
/// trusted root, as a client walks it (TUF §5.3 to §5.6), and the bin layout.
#[derive(Debug, Clone)]
pub struct RepoView {
    files: Arc<dyn PublishedFiles>,
    now: DateTime<Utc>,
    trusted: TrustedState,
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
        let (loaded, _) = Self::load_in(files, trusted_root, now, limits, Mode::Strict);
        loaded
    }

    /// [`RepoView::load`] in `mode`, with what a [`Mode::Diagnostic`] walk went past
    /// (expiry: an expired role whose signatures verify still vouches for the files it
    /// names, so the checks below it stay meaningful), also when the walk then stopped.
    fn load_in(
        files: Arc<dyn PublishedFiles>,
        trusted_root: &[u8],
        now: DateTime<Utc>,
        limits: &Limits,
        mode: Mode,
    ) -> (Result<Self, Error>, Vec<Problem>) {
        let trusted = TrustedState::new_from_root_in_mode(trusted_root, now, limits.clone(), mode)
            .map_err(Error::tuf("trusted root"));
        let mut trusted = match trusted {
            Ok(trusted) => trusted,
            Err(error) => return (Err(error), Vec::new()),
        };
        let walked = walk_top_level(files.as_ref(), &mut trusted, now);
        let problems = trusted
            .take_problems()
            .into_iter()
            .map(Problem::recorded)
            .collect();
        let view = walked.map(|bins| Self {
            files,
            now,
            trusted,
            bins,
        });
        (view, problems)
    }

    /// The verified root.
    pub fn root(&self) -> &Verified<Root> {
        self.trusted.root()
    }

    /// The verified timestamp.
    pub fn timestamp(&self) -> &Verified<Timestamp> {
        // INVARIANT: a view is only made once the walk loaded it.
        self.trusted.timestamp().unwrap_or_else(|| unreachable!())
    }

    /// The verified snapshot.
    pub fn snapshot(&self) -> &Verified<Snapshot> {
        // INVARIANT: a view is only made once the walk loaded it.
        self.trusted.snapshot().unwrap_or_else(|| unreachable!())
    }

    /// The bin layout.
    pub fn bins(&self) -> &SuccinctRoles {
        &self.bins
    }

    /// Verify bin number `bin` as a client does ([`TrustedState::check_delegated`]:
    /// listed by the snapshot, of its version, signed by the delegation's keys, not
    /// expired) and listing only paths that hash to it (TAP 15,
    /// [`SuccinctRoles::misplaced_targets`]).
    pub fn bin(&self, bin: u32) -> Result<Verified<Targets>, Error> {
        let (file, bin_targets, _) = self.bin_checked(bin)?;
        if let Some(misplaced) = self.bins.misplaced_targets(bin, &bin_targets).next() {
            return Err(Error::tuf(file)(misplaced));
        }
        Ok(bin_targets)
    }

    /// Bin number `bin` checked by the walk's state, with its file name and what a
    /// diagnostic walk went past; the TAP 15 path rule not checked.
    fn bin_checked(&self, bin: u32) -> Result<(String, Verified<Targets>, Vec<Problem>), Error> {
        let name = self.bins.bin_name(bin);
        let version = self
            .trusted
            .role_meta(&name)
            .map(|m| m.version)
            .ok_or_else(|| Error::Missing {
                path: self
                    .files
                    .locate(&versioned_name("snapshot", self.snapshot().version)),
                reason: format!("the snapshot does not list {name}"),
            })?;
        let file = versioned_name(&name, version);
        let bytes = read(self.files.as_ref(), &file)?;
        let (bin_targets, found) = self
            .trusted
            .check_delegated(RoleType::Targets.as_str(), &name, &bytes, self.now)
            .map_err(Error::tuf(&file))?;
        let found = found.into_iter().map(Problem::recorded).collect();
        Ok((file, bin_targets, found))
    }

    /// Every problem of bin number `bin` and the targets it lists, in path order, and the
    /// paths it lists (for finding unsigned index files); `None` instead of the paths when
    /// the bin itself was refused, so nothing is known about what it signs.
    fn check_bin(&self, bin: u32, check: TargetCheck) -> (Vec<Problem>, Option<Vec<TargetPath>>) {
        let (bin_targets, mut problems) = match self.bin_checked(bin) {
            Ok((_, bin_targets, found)) => (bin_targets, found),
            Err(error) => {
                let name = self.bins.bin_name(bin);
                return (vec![Problem::new(name, error)], None);
            }
        };
        let mut misplaced = self.bins.misplaced_targets(bin, &bin_targets).peekable();
        let mut listed = Vec::with_capacity(bin_targets.targets.len());
        for (path, entry) in &bin_targets.targets {
            // Both in path order: the misplaced paths are a subsequence of the listed.
            if let Some(error) =
                misplaced.next_if(|e| matches!(e, tuf_core::Error::MisplacedTarget { path: p, .. } if p == path.as_str()))
            {
                // A client looks for the path in its own bin and never sees this entry.
                problems.push(Problem {
                    subject: path.to_string(),
                    code: "misplaced",
                    error: Error::tuf(self.bins.bin_name(bin))(error),
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
        root_version: view.root().version.get(),
        timestamp_version: view.timestamp().version.get(),
        snapshot_version: view.snapshot().version.get(),
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

    /// What a diagnostic walk went past (expiry), named by its role.
    fn recorded(problem: trusted::Problem) -> Self {
        let role = problem.step.role().to_owned();
        Self::new(role.clone(), Error::tuf(role)(problem.error))
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
    let (loaded, recorded) =
        RepoView::load_in(files.clone(), trusted_root, now, limits, Mode::Diagnostic);
    report.problems.extend(recorded);
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
    report.root_version = Some(view.root().version.get());
    report.timestamp_version = Some(view.timestamp().version.get());
    report.snapshot_version = Some(view.snapshot().version.get());

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
                // The total counts index files; the feeds a bin also lists
                // (docs/feeds.md) are checked but not counted, so the bar ends at 100%.
                (Some(listed), true) => listed
                    .iter()
                    .filter(|p| !tuf_core::feed::is_feed_path(p.as_str()))
                    .count(),
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

/// TUF §5.3 to §5.6 from `trusted`'s root: every newer `N.root.json` one version at a
/// time until the next is missing, `timestamp.json`, the snapshot it names, the targets
/// the snapshot names; then the bins the targets delegates to. Each step is
/// [`TrustedState`]'s; this only reads the files it names.
fn walk_top_level(
    reader: &dyn MetadataReader,
    trusted: &mut TrustedState,
    now: DateTime<Utc>,
) -> Result<SuccinctRoles, Error> {
    walk_roots(reader, trusted, now)?;
    let timestamp = read(reader, TIMESTAMP_FILE)?;
    // The first timestamp of this state: always `Updated`.
    let _: trusted::TimestampUpdate = trusted
        .update_timestamp(&timestamp, now)
        .map_err(Error::tuf("timestamp"))?;
    let entry = trusted.snapshot_meta().ok_or_else(|| Error::Missing {
        path: reader.locate(TIMESTAMP_FILE),
        reason: "no snapshot.json entry".to_owned(),
    })?;
    let snapshot_name = versioned_name("snapshot", entry.version);
    trusted
        .update_snapshot(&read(reader, &snapshot_name)?, now)
        .map_err(Error::tuf("snapshot"))?;
    let targets_version = trusted
        .role_meta("targets")
        .map(|m| m.version)
        .ok_or_else(|| Error::Missing {
            path: reader.locate(&snapshot_name),
            reason: "no targets.json entry".to_owned(),
        })?;
    let targets_name = versioned_name("targets", targets_version);
    let targets = trusted
        .update_targets(&read(reader, &targets_name)?, now)
        .map_err(Error::tuf("targets"))?;
    // TAP 15 succinct_roles, or the same bins as classic path_hash_prefixes roles.
    targets
        .delegations
        .as_ref()
        .ok_or(tuf_core::metadata::NotHashedBins::NoDelegations)
        .and_then(|d| d.hashed_bins())
        .map_err(|e| Error::Missing {
            path: reader.locate(&targets_name),
            reason: format!("targets does not delegate to hashed bins: {e}"),
        })
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

fn read(reader: &dyn MetadataReader, name: &str) -> Result<Vec<u8>, Error> {
    reader.read(name)?.ok_or_else(|| Error::Missing {
        path: reader.locate(name),
        reason: "named by verified metadata but not on disk".to_owned(),
    })
}
