//! What a check found, for people (one line, a readable diff) and for programs (JSON).

use std::fmt::Write as _;

use serde::Serialize;

use crate::source::Reachability;
use crate::targets::BuildTargets;

/// The outcome of checking one crate against its source repository.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The crate's name.
    pub name: String,
    /// The crate's version.
    pub version: String,
    /// The verdict.
    pub status: Status,
    /// The `repository` field of the crate's manifest.
    pub repository: Option<String>,
    /// Where the repository was read from (a URL or a local path).
    pub read_from: Option<String>,
    /// Why there is no repository to compare with (status `no_repository`).
    pub no_repository: Option<NoRepository>,
    /// The commit compared with, and how it was chosen.
    pub commit: Option<Commit>,
    /// `git.dirty` of `.cargo_vcs_info.json`: cargo packaged uncommitted changes.
    pub dirty: bool,
    /// Whether a branch or tag leads to the commit.
    pub reachability: Option<Reachability>,
    /// What the crate builds.
    pub targets: BuildTargets,
    /// Files that differ between the `.crate` and the repository.
    pub differences: Vec<Difference>,
    /// Problems that are not one file: an inconsistent normalised manifest, a bad
    /// `.cargo_vcs_info.json`, a package directory missing at the commit.
    pub problems: Vec<Problem>,
    /// What `cargo package` changed that was expected and checked.
    pub notes: Vec<Note>,
}

/// The verdict on one crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The commit recorded in `.cargo_vcs_info.json` is reachable and holds every file
    /// of the crate (differences, if any, are all of an innocent kind).
    Verified,
    /// As `verified`, but the commit was inferred from a tag: there was no
    /// `.cargo_vcs_info.json`.
    Inferred,
    /// A file or a manifest field differs, beyond the innocent kinds.
    Mismatch,
    /// No repository to compare with.
    NoRepository,
    /// No `.cargo_vcs_info.json` and no tag for this version.
    NoCommit,
    /// The commit is not in the repository, or no branch or tag leads to it.
    Unreachable,
}

impl Status {
    /// The word in the one-line output.
    pub fn label(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Inferred => "inferred",
            Status::Mismatch => "mismatch",
            Status::NoRepository => "no repository",
            Status::NoCommit => "no commit",
            Status::Unreachable => "unreachable",
        }
    }

    /// Whether this verdict is a finding a person must look at (exit code 1).
    pub fn is_finding(self) -> bool {
        matches!(self, Status::Mismatch | Status::Unreachable)
    }
}

/// Why no repository could be compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum NoRepository {
    /// The manifest has no `repository` field and none was mapped.
    NotDeclared,
    /// The repository could not be opened or fetched.
    Unavailable(String),
}

/// The commit compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    /// Its full SHA-1, hex.
    pub sha1: String,
    /// How it was chosen.
    pub source: CommitSource,
    /// The package directory in the repository (`path_in_vcs`; `""` for the root).
    pub path_in_vcs: String,
    /// Whether the repository has this commit at all.
    pub found: bool,
}

/// How the commit was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "tag")]
pub enum CommitSource {
    /// `.cargo_vcs_info.json`, written by `cargo package`.
    VcsInfo,
    /// The tag of this name (no `.cargo_vcs_info.json` in the crate).
    Tag(String),
}

/// One file that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Path in the `.crate`, relative to the package root (for `only_in_repository`,
    /// the path it would have).
    pub path: String,
    /// Path in the repository, relative to its root.
    pub repository_path: String,
    /// What differs.
    #[serde(flatten)]
    pub kind: DifferenceKind,
    /// A usual innocent cause, when the file is of that kind (never for `.rs` files,
    /// which the compiler may read).
    pub innocent: Option<InnocentCause>,
}

/// What differs about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "difference")]
pub enum DifferenceKind {
    /// In the `.crate`, not in the repository at the commit.
    MissingFromRepository {
        /// Size and hash of the crate's file.
        crate_file: FileFacts,
    },
    /// In both, with other content.
    ContentDiffers {
        /// Size and hash of the crate's file.
        crate_file: FileFacts,
        /// Size and hash of the repository's file (hash absent when too large to read).
        repository_file: FileFacts,
        /// A unified diff from the repository's file to the crate's, for text files.
        diff: Option<String>,
    },
    /// In the repository, not in the `.crate`.
    OnlyInRepository {
        /// Why `cargo package` would leave it out, if a rule explains it.
        excluded: Option<Exclusion>,
    },
}

/// Size and SHA-256 of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileFacts {
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex; `None` when the file was too large to read.
    pub sha256: Option<String>,
}

/// The usual innocent causes of a difference (build artifacts and editor files that
/// were lying in the package directory when it was packaged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InnocentCause {
    /// Under a `target/` directory.
    BuildArtifact,
    /// An editor's swap or backup file (`*.swp`, `*~`, `.DS_Store`, `#file#`).
    EditorFile,
    /// Matched by the repository's `.gitignore` files.
    IgnoredByGit,
}

/// Why `cargo package` leaves a repository file out of the `.crate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Matched by `package.exclude`.
    Excluded,
    /// Not matched by `package.include`.
    NotIncluded,
    /// Inside a subdirectory that is a package of its own (has a `Cargo.toml`).
    NestedPackage,
    /// `Cargo.lock`, which cargo includes or generates by its own rules.
    Lockfile,
    /// A submodule, whose files are in another repository.
    Submodule,
}

/// A problem that is not one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
pub enum Problem {
    /// The normalised `Cargo.toml` disagrees with `Cargo.toml.orig` on a field it must
    /// copy (name, version, a dependency's version or rename).
    ManifestField {
        /// `package.version`, `dependencies.serde`, ...
        field: String,
        /// In the normalised `Cargo.toml`.
        normalized: Option<String>,
        /// In `Cargo.toml.orig` (inheritance resolved).
        original: Option<String>,
    },
    /// `Cargo.toml.orig` is missing or unreadable, so the normalised manifest cannot
    /// be checked.
    NoOriginalManifest,
    /// `.cargo_vcs_info.json` is not what cargo writes.
    BadVcsInfo {
        /// What is wrong.
        detail: String,
    },
    /// `path_in_vcs` is not a directory at the commit.
    PackageDirectoryMissing {
        /// The path.
        path_in_vcs: String,
    },
}

/// Something `cargo package` changes that was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "note", content = "path")]
pub enum Note {
    /// `.cargo_vcs_info.json` is written by cargo.
    VcsInfoGenerated,
    /// `Cargo.toml` is cargo's normalisation; `Cargo.toml.orig` was compared instead
    /// and the normalised one checked against it.
    ManifestNormalized,
    /// `Cargo.lock` was generated by `cargo package` (not compared).
    LockfileGenerated,
    /// A file from outside the package directory (`readme = "../README.md"`), compared
    /// with the repository file it came from.
    FromOutsidePackage(String),
    /// A field inherited from the workspace whose root manifest was not found.
    InheritanceUnresolved(String),
}

impl Report {
    /// Differences that are not of an innocent kind.
    pub fn findings(&self) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(|d| d.is_finding())
    }

    /// `serde 1.0.0: verified (abc1234, lib serde, no bins)`.
    pub fn one_line(&self) -> String {
        let mut line = format!("{} {}: {}", self.name, self.version, self.status.label());
        let mut details = Vec::new();
        if let Some(commit) = &self.commit {
            let short = commit.sha1.get(..12).unwrap_or(&commit.sha1);
            match &commit.source {
                CommitSource::VcsInfo => details.push(short.to_owned()),
                CommitSource::Tag(tag) => details.push(format!("tag {tag} = {short}")),
            }
            if !commit.found {
                details.push("commit not in the repository".to_owned());
            }
        }
        if self.dirty {
            details.push("packaged from a dirty tree".to_owned());
        }
        if self.reachability == Some(Reachability::Unreachable) {
            details.push("no branch or tag leads to the commit".to_owned());
        }
        match &self.no_repository {
            Some(NoRepository::NotDeclared) => details.push("no `repository` field".to_owned()),
            Some(NoRepository::Unavailable(e)) => details.push(e.clone()),
            None => {}
        }
        let findings = self.findings().count();
        let innocent = self.differences.len().saturating_sub(findings);
        if findings > 0 {
            details.push(format!("{findings} file difference(s)"));
        }
        if innocent > 0 {
            details.push(format!("{innocent} innocent difference(s)"));
        }
        if !self.problems.is_empty() {
            details.push(format!("{} manifest/vcs problem(s)", self.problems.len()));
        }
        details.push(self.targets.summary());
        let _ = write!(line, " ({})", details.join("; "));
        line
    }

    /// The lines a person reads for a mismatch: each problem, each difference with
    /// its diff or sizes and hashes.
    pub fn details(&self) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            let _ = writeln!(out, "  problem: {}", problem.describe());
        }
        for difference in &self.differences {
            let _ = writeln!(out, "  {}", difference.describe());
            if let DifferenceKind::ContentDiffers {
                diff: Some(diff), ..
            } = &difference.kind
            {
                for line in diff.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        out
    }
}

impl Difference {
    /// Whether this difference needs a person (not of an innocent kind, and not a
    /// repository file that a packaging rule leaves out).
    pub fn is_finding(&self) -> bool {
        if self.innocent.is_some() {
            return false;
        }
        !matches!(
            self.kind,
            DifferenceKind::OnlyInRepository { excluded: Some(_) }
        )
    }

    fn describe(&self) -> String {
        let innocent = match self.innocent {
            Some(InnocentCause::BuildArtifact) => " [innocent: build artifact]",
            Some(InnocentCause::EditorFile) => " [innocent: editor file]",
            Some(InnocentCause::IgnoredByGit) => " [innocent: ignored by .gitignore]",
            None => "",
        };
        match &self.kind {
            DifferenceKind::MissingFromRepository { crate_file } => format!(
                "missing from repository: {} ({} bytes, sha256 {}){innocent}",
                self.path,
                crate_file.size,
                crate_file.sha256.as_deref().unwrap_or("?")
            ),
            DifferenceKind::ContentDiffers {
                crate_file,
                repository_file,
                diff,
            } => {
                let mut text = format!("content differs: {}", self.path);
                if self.repository_path != self.path {
                    let _ = write!(text, " (repository: {})", self.repository_path);
                }
                if diff.is_none() {
                    let _ = write!(
                        text,
                        ": crate {} bytes sha256 {}, repository {} bytes sha256 {}",
                        crate_file.size,
                        crate_file.sha256.as_deref().unwrap_or("?"),
                        repository_file.size,
                        repository_file
                            .sha256
                            .as_deref()
                            .unwrap_or("(not read: too large)")
                    );
                }
                text + innocent
            }
            DifferenceKind::OnlyInRepository { excluded } => {
                let why = match excluded {
                    Some(Exclusion::Excluded) => " [excluded by package.exclude]",
                    Some(Exclusion::NotIncluded) => " [not in package.include]",
                    Some(Exclusion::NestedPackage) => " [in a nested package]",
                    Some(Exclusion::Lockfile) => " [Cargo.lock: cargo's rules]",
                    Some(Exclusion::Submodule) => " [submodule]",
                    None => "",
                };
                format!(
                    "only in repository: {}{why}{innocent}",
                    self.repository_path
                )
            }
        }
    }
}

impl Problem {
    fn describe(&self) -> String {
        match self {
            Problem::ManifestField {
                field,
                normalized,
                original,
            } => format!(
                "normalised Cargo.toml has {field} = {}, Cargo.toml.orig has {}",
                normalized.as_deref().unwrap_or("(nothing)"),
                original.as_deref().unwrap_or("(nothing)")
            ),
            Problem::NoOriginalManifest => {
                "no readable Cargo.toml.orig: the normalised manifest cannot be checked".to_owned()
            }
            Problem::BadVcsInfo { detail } => format!(".cargo_vcs_info.json: {detail}"),
            Problem::PackageDirectoryMissing { path_in_vcs } => {
                format!("path_in_vcs {path_in_vcs:?} is not a directory at the commit")
            }
        }
    }
}
