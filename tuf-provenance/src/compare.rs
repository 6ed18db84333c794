//! Every file of the `.crate` against the tree at `path_in_vcs`, knowing what
//! `cargo package` changes (The Cargo Book, "cargo package"; "The Manifest Format",
//! `readme`, `license-file`, `include`/`exclude`).

use std::collections::{BTreeMap, BTreeSet};

use gix::ObjectId;
use sha2::Digest as _;

use crate::archive::CrateArchive;
use crate::error::GitError;
use crate::manifest::Manifest;
use crate::report::{
    Difference, DifferenceKind, Exclusion, FileFacts, InnocentCause, Note, Problem,
};
use crate::source::{Blob, SourceRepository, TreeFile, TreeFileKind};
use crate::Limits;

/// What the comparison found.
#[derive(Debug, Default)]
pub(crate) struct Compared {
    pub differences: Vec<Difference>,
    pub problems: Vec<Problem>,
    pub notes: Vec<Note>,
    /// The workspace root manifest (nearest ancestor with `[workspace]`), if any.
    pub workspace_root: Option<Manifest>,
}

/// Files cargo writes into every `.crate` itself.
const VCS_INFO: &str = ".cargo_vcs_info.json";
const MANIFEST: &str = "Cargo.toml";
const ORIGINAL_MANIFEST: &str = "Cargo.toml.orig";
const LOCKFILE: &str = "Cargo.lock";
/// Symlink chains followed at most this deep (cargo packages the target's content).
const MAX_SYMLINK_HOPS: usize = 8;

pub(crate) fn compare(
    archive: &CrateArchive,
    repo: &SourceRepository,
    commit: ObjectId,
    path_in_vcs: &str,
    limits: &Limits,
) -> Result<Compared, GitError> {
    let mut out = Compared::default();
    let listing = repo.list_dir(commit, path_in_vcs, limits.max_tree_entries)?;
    if listing.is_none() {
        out.problems.push(Problem::PackageDirectoryMissing {
            path_in_vcs: path_in_vcs.to_owned(),
        });
    }
    let listing: BTreeMap<String, TreeFile> = listing
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.path.clone(), f))
        .collect();
    let ignore = IgnoreRules::load(repo, commit, path_in_vcs, &listing, limits)?;
    out.workspace_root = workspace_root(repo, commit, path_in_vcs, limits)?;

    let original = archive
        .files
        .get(ORIGINAL_MANIFEST)
        .and_then(|bytes| Manifest::parse(bytes).ok());
    // Files cargo takes from outside the package directory, by their path in the crate.
    let mut outside: BTreeMap<String, String> = BTreeMap::new();
    if let Some(original) = &original {
        for field in ["readme", "license-file"] {
            let Some(value) = original.package_str(field) else {
                continue;
            };
            let Some(repo_path) = join_normalized(path_in_vcs, value) else {
                continue;
            };
            let inside =
                path_in_vcs.is_empty() || repo_path.starts_with(&format!("{path_in_vcs}/"));
            if !inside {
                let file_name = repo_path.rsplit('/').next().unwrap_or_default().to_owned();
                outside.insert(file_name, repo_path);
            }
        }
    }

    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (path, bytes) in &archive.files {
        // Where the file is in the listing of the package directory, or, for a file
        // from outside it, its repository path.
        let (repo_path, listed) = match path.as_str() {
            VCS_INFO => {
                out.notes.push(Note::VcsInfoGenerated);
                continue;
            }
            MANIFEST => {
                out.notes.push(Note::ManifestNormalized);
                continue;
            }
            ORIGINAL_MANIFEST => (repo_join(path_in_vcs, MANIFEST), Some(MANIFEST)),
            _ => match outside.get(path) {
                Some(from) => {
                    out.notes.push(Note::FromOutsidePackage(from.clone()));
                    (from.clone(), None)
                }
                None => (repo_join(path_in_vcs, path), Some(path.as_str())),
            },
        };
        let repo_blob = match listed {
            Some(key) => {
                seen.insert(key.to_owned());
                match listing.get(key) {
                    Some(file) => resolve(repo, commit, &repo_path, file, limits)?,
                    None => None,
                }
            }
            None => repo.file_at(commit, &repo_path, limits)?,
        };
        if path == LOCKFILE && repo_blob.as_ref().map_or(true, |b| !same(b, bytes)) {
            // cargo writes the lockfile it resolves at packaging time (for packages
            // with binaries, or all packages since cargo 1.84); it need not be in git.
            out.notes.push(Note::LockfileGenerated);
            continue;
        }
        let crate_file = facts(bytes);
        let innocent = innocent_cause(&repo_path, &ignore);
        match repo_blob {
            None => out.differences.push(Difference {
                path: path.clone(),
                repository_path: repo_path,
                kind: DifferenceKind::MissingFromRepository { crate_file },
                innocent,
            }),
            Some(blob) if same(&blob, bytes) => {}
            Some(blob) => {
                let (repository_file, diff) = match &blob {
                    Blob::Content(repo_bytes) => (
                        facts(repo_bytes),
                        unified_diff(&repo_path, path, repo_bytes, bytes, limits.max_diff_bytes),
                    ),
                    Blob::TooLarge { size } => (
                        FileFacts {
                            size: *size,
                            sha256: None,
                        },
                        None,
                    ),
                };
                out.differences.push(Difference {
                    path: path.clone(),
                    repository_path: repo_path,
                    kind: DifferenceKind::ContentDiffers {
                        crate_file,
                        repository_file,
                        diff,
                    },
                    innocent,
                });
            }
        }
    }

    let rules = PackageRules::new(original.as_ref().unwrap_or(&archive.manifest));
    for (path, file) in &listing {
        if seen.contains(path) {
            continue;
        }
        let repo_path = repo_join(path_in_vcs, path);
        let excluded = if file.kind == TreeFileKind::Submodule {
            Some(Exclusion::Submodule)
        } else {
            rules.exclusion(path, &listing)
        };
        out.differences.push(Difference {
            path: path.clone(),
            innocent: innocent_cause(&repo_path, &ignore),
            repository_path: repo_path,
            kind: DifferenceKind::OnlyInRepository { excluded },
        });
    }
    out.notes.dedup();
    Ok(out)
}

/// The content of a listed file, following symlinks the way `cargo package` does (it
/// archives the target's bytes).
fn resolve(
    repo: &SourceRepository,
    commit: ObjectId,
    repo_path: &str,
    file: &TreeFile,
    limits: &Limits,
) -> Result<Option<Blob>, GitError> {
    match file.kind {
        TreeFileKind::Submodule => Ok(None),
        TreeFileKind::File => repo.blob(file.id, limits).map(Some),
        TreeFileKind::Symlink => {
            let mut link_path = repo_path.to_owned();
            let mut blob = repo.blob(file.id, limits)?;
            for _ in 0..MAX_SYMLINK_HOPS {
                let Blob::Content(target) = &blob else {
                    return Ok(None);
                };
                let parent = link_path.rsplit_once('/').map_or("", |(dir, _)| dir);
                let Some(target_path) = join_normalized(parent, &String::from_utf8_lossy(target))
                else {
                    return Ok(None);
                };
                match repo.file_at(commit, &target_path, limits)? {
                    // `file_at` returns a link's own blob for a link; one more hop then.
                    Some(next) if next != blob => {
                        if is_symlink(repo, commit, &target_path, limits)? {
                            link_path = target_path;
                            blob = next;
                            continue;
                        }
                        return Ok(Some(next));
                    }
                    _ => return Ok(None),
                }
            }
            Ok(None)
        }
    }
}

fn is_symlink(
    repo: &SourceRepository,
    commit: ObjectId,
    path: &str,
    limits: &Limits,
) -> Result<bool, GitError> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let listing = repo.list_dir(commit, dir, limits.max_tree_entries)?;
    Ok(listing
        .unwrap_or_default()
        .iter()
        .any(|f| f.path == name && f.kind == TreeFileKind::Symlink))
}

fn same(blob: &Blob, bytes: &[u8]) -> bool {
    matches!(blob, Blob::Content(content) if content.as_slice() == bytes)
}

fn facts(bytes: &[u8]) -> FileFacts {
    FileFacts {
        size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        sha256: Some(hex::encode(sha2::Sha256::digest(bytes))),
    }
}

/// `dir/path`, or `path` when `dir` is the root.
fn repo_join(dir: &str, path: &str) -> String {
    if dir.is_empty() {
        path.to_owned()
    } else {
        format!("{dir}/{path}")
    }
}

/// `dir/relative` with `.` and `..` resolved; `None` if it leaves the repository or is
/// absolute.
pub(crate) fn join_normalized(dir: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') || relative.contains('\\') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for segment in relative.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// A unified diff of text files (UTF-8 without NUL), cut at `max_bytes`.
fn unified_diff(
    repo_path: &str,
    crate_path: &str,
    old: &[u8],
    new: &[u8],
    max_bytes: usize,
) -> Option<String> {
    let old = text(old)?;
    let new = text(new)?;
    let diff = similar::TextDiff::from_lines(old, new);
    let mut rendered = diff
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("repository/{repo_path}"),
            &format!("crate/{crate_path}"),
        )
        .to_string();
    if rendered.len() > max_bytes {
        let mut cut = max_bytes;
        while !rendered.is_char_boundary(cut) {
            cut = cut.saturating_sub(1);
        }
        rendered.truncate(cut);
        rendered.push_str("\n... (diff cut)\n");
    }
    Some(rendered)
}

fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The usual innocent causes (never for a `.rs` file: the compiler may read it).
fn innocent_cause(repo_path: &str, ignore: &IgnoreRules) -> Option<InnocentCause> {
    if repo_path.ends_with(".rs") {
        return None;
    }
    let name = repo_path.rsplit('/').next().unwrap_or(repo_path);
    let mut dirs = repo_path.split('/');
    dirs.next_back();
    if dirs.any(|d| d == "target") {
        return Some(InnocentCause::BuildArtifact);
    }
    let editor = [".swp", ".swo", ".swn", "~"]
        .iter()
        .any(|s| name.ends_with(s))
        || name == ".DS_Store"
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'));
    if editor {
        return Some(InnocentCause::EditorFile);
    }
    ignore
        .is_ignored(repo_path)
        .then_some(InnocentCause::IgnoredByGit)
}

/// The nearest manifest with `[workspace]` at or above `path_in_vcs`.
fn workspace_root(
    repo: &SourceRepository,
    commit: ObjectId,
    path_in_vcs: &str,
    limits: &Limits,
) -> Result<Option<Manifest>, GitError> {
    let mut dir = path_in_vcs.to_owned();
    loop {
        if let Some(Blob::Content(bytes)) =
            repo.file_at(commit, &repo_join(&dir, MANIFEST), limits)?
        {
            if let Ok(manifest) = Manifest::parse(&bytes) {
                if manifest.workspace().is_some() {
                    return Ok(Some(manifest));
                }
            }
        }
        if dir.is_empty() {
            return Ok(None);
        }
        dir = dir
            .rsplit_once('/')
            .map_or(String::new(), |(parent, _)| parent.to_owned());
    }
}

/// gitignore-style patterns with the directory they apply under (repository-relative).
#[derive(Debug, Default)]
struct Patterns {
    rules: Vec<(String, gix::glob::Pattern)>,
}

impl Patterns {
    fn add(&mut self, base: &str, pattern: gix::glob::Pattern) {
        self.rules.push((base.to_owned(), pattern));
    }

    /// Last matching pattern decides (a `!` pattern un-ignores), as in git.
    fn matches(&self, path: &str) -> bool {
        let mut verdict = false;
        for (base, pattern) in &self.rules {
            let relative = if base.is_empty() {
                path
            } else {
                match path
                    .strip_prefix(base.as_str())
                    .and_then(|r| r.strip_prefix('/'))
                {
                    Some(r) => r,
                    None => continue,
                }
            };
            if pattern_matches(pattern, relative) {
                verdict = !pattern.is_negative();
            }
        }
        verdict
    }
}

/// A pattern matches a file when it matches the file or one of its directories.
fn pattern_matches(pattern: &gix::glob::Pattern, relative: &str) -> bool {
    let one = |path: &str, is_dir: bool| {
        let basename = path.rfind('/').map(|i| i.saturating_add(1));
        pattern.matches_repo_relative_path(
            path.into(),
            basename,
            Some(is_dir),
            gix::glob::pattern::Case::Sensitive,
            gix::glob::wildmatch::Mode::NO_MATCH_SLASH_LITERAL,
        )
    };
    relative
        .match_indices('/')
        .any(|(i, _)| relative.get(..i).is_some_and(|dir| one(dir, true)))
        || one(relative, false)
}

/// The `.gitignore` files of the commit that apply to the package directory.
#[derive(Debug, Default)]
struct IgnoreRules {
    patterns: Patterns,
}

impl IgnoreRules {
    fn load(
        repo: &SourceRepository,
        commit: ObjectId,
        path_in_vcs: &str,
        listing: &BTreeMap<String, TreeFile>,
        limits: &Limits,
    ) -> Result<Self, GitError> {
        let mut rules = Self::default();
        // Ancestors first (root, then deeper), then the package's own, shallow first:
        // deeper files override, as in git.
        let mut bases = Vec::new();
        let mut dir = String::new();
        for segment in path_in_vcs.split('/').filter(|s| !s.is_empty()) {
            // Strict ancestors only: the package's own `.gitignore` is in the listing.
            bases.push(dir.clone());
            dir = repo_join(&dir, segment);
        }
        for base in &bases {
            if let Some(Blob::Content(bytes)) =
                repo.file_at(commit, &repo_join(base, ".gitignore"), limits)?
            {
                rules.add(base, &bytes);
            }
        }
        let mut own: Vec<&String> = listing
            .keys()
            .filter(|p| p.as_str() == ".gitignore" || p.ends_with("/.gitignore"))
            .collect();
        own.sort_by_key(|p| p.matches('/').count());
        for path in own {
            if let Some(file) = listing.get(path) {
                if let Blob::Content(bytes) = repo.blob(file.id, limits)? {
                    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                    rules.add(repo_join(path_in_vcs, dir).trim_end_matches('/'), &bytes);
                }
            }
        }
        Ok(rules)
    }

    fn add(&mut self, base: &str, bytes: &[u8]) {
        for (pattern, _line, _kind) in gix::ignore::parse(bytes, false) {
            self.patterns.add(base, pattern);
        }
    }

    fn is_ignored(&self, repo_path: &str) -> bool {
        self.patterns.matches(repo_path)
    }
}

/// `package.include` / `package.exclude` (gitignore-style, relative to the package).
#[derive(Debug)]
struct PackageRules {
    include: Patterns,
    exclude: Patterns,
    has_include: bool,
}

impl PackageRules {
    fn new(manifest: &Manifest) -> Self {
        let load = |key: &str| {
            let mut patterns = Patterns::default();
            for text in manifest.package_patterns(key) {
                if let Some(pattern) = gix::glob::Pattern::from_bytes(text.as_bytes()) {
                    patterns.add("", pattern);
                }
            }
            patterns
        };
        let include = load("include");
        Self {
            has_include: !include.rules.is_empty(),
            include,
            exclude: load("exclude"),
        }
    }

    /// Why `cargo package` leaves out the package file `path`, if a rule says so.
    fn exclusion(&self, path: &str, listing: &BTreeMap<String, TreeFile>) -> Option<Exclusion> {
        let mut dir = String::new();
        let mut segments: Vec<&str> = path.split('/').collect();
        segments.pop();
        for segment in segments {
            dir = repo_join(&dir, segment);
            if listing.contains_key(&repo_join(&dir, MANIFEST)) {
                return Some(Exclusion::NestedPackage);
            }
        }
        if path == LOCKFILE {
            return Some(Exclusion::Lockfile);
        }
        if self.has_include {
            return (!self.include.matches(path)).then_some(Exclusion::NotIncluded);
        }
        self.exclude.matches(path).then_some(Exclusion::Excluded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_inside_the_repository() {
        assert_eq!(
            join_normalized("crates/a", "../../README.md").as_deref(),
            Some("README.md")
        );
        assert_eq!(
            join_normalized("crates/a", "./docs/x.md").as_deref(),
            Some("crates/a/docs/x.md")
        );
        assert_eq!(join_normalized("", "../x"), None);
        assert_eq!(join_normalized("a", "/etc/passwd"), None);
    }

    #[test]
    fn innocent_causes_but_never_for_rust_sources() {
        let none = IgnoreRules::default();
        assert_eq!(
            innocent_cause("a/target/debug/x.o", &none),
            Some(InnocentCause::BuildArtifact)
        );
        assert_eq!(
            innocent_cause("a/src/.lib.rs.swp", &none),
            Some(InnocentCause::EditorFile)
        );
        assert_eq!(
            innocent_cause("a/notes.txt~", &none),
            Some(InnocentCause::EditorFile)
        );
        assert_eq!(innocent_cause("a/target/gen.rs", &none), None);
        assert_eq!(innocent_cause("a/src/lib.rs", &none), None);
        let mut ignore = IgnoreRules::default();
        ignore.add("", b"*.log\n/out/\n!keep.log\n");
        assert_eq!(
            innocent_cause("build.log", &ignore),
            Some(InnocentCause::IgnoredByGit)
        );
        assert_eq!(
            innocent_cause("out/data.bin", &ignore),
            Some(InnocentCause::IgnoredByGit)
        );
        assert_eq!(innocent_cause("keep.log", &ignore), None);
        assert_eq!(innocent_cause("src/out/data.bin", &ignore), None);
    }

    #[test]
    fn include_and_exclude_rules() {
        let manifest = Manifest::parse(
            b"[package]\nname='a'\nversion='1.0.0'\nexclude=['tests/fixtures', '*.png']\n",
        )
        .unwrap();
        let rules = PackageRules::new(&manifest);
        let listing = BTreeMap::new();
        assert_eq!(
            rules.exclusion("tests/fixtures/big.bin", &listing),
            Some(Exclusion::Excluded)
        );
        assert_eq!(
            rules.exclusion("docs/logo.png", &listing),
            Some(Exclusion::Excluded)
        );
        assert_eq!(rules.exclusion("src/lib.rs", &listing), None);
        let manifest = Manifest::parse(
            b"[package]\nname='a'\nversion='1.0.0'\ninclude=['/src', 'README.md']\n",
        )
        .unwrap();
        let rules = PackageRules::new(&manifest);
        assert_eq!(rules.exclusion("src/lib.rs", &listing), None);
        assert_eq!(
            rules.exclusion("benches/b.rs", &listing),
            Some(Exclusion::NotIncluded)
        );
    }
}
