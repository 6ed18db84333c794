//! One crate against its repository: choose the commit, compare, decide the verdict.

use serde::Deserialize;

use crate::archive::CrateArchive;
use crate::compare::{compare, join_normalized};
use crate::consistency::check_manifest;
use crate::error::{Error, GitError, VcsInfoError};
use crate::manifest::Manifest;
use crate::report::{Commit, CommitSource, NoRepository, Problem, Report, Status};
use crate::source::{Blob, Reachability, SourceRepository};
use crate::targets::BuildTargets;
use crate::Limits;

/// Check a `.crate` (its bytes, already verified by the caller against the signed
/// index: this function trusts its identity, not its content) against `repository`.
///
/// `repository` is the opened source repository, or why there is none; see
/// [`CrateArchive::repository_url`] for the URL the crate declares.
pub fn check_crate(
    crate_bytes: &[u8],
    repository: Result<&SourceRepository, NoRepository>,
    limits: &Limits,
) -> Result<Report, Error> {
    let archive = CrateArchive::from_bytes(crate_bytes, limits)?;
    Ok(check_archive(&archive, repository, limits)?)
}

/// [`check_crate`] on an unpacked archive.
pub fn check_archive(
    archive: &CrateArchive,
    repository: Result<&SourceRepository, NoRepository>,
    limits: &Limits,
) -> Result<Report, GitError> {
    let mut report = Report {
        name: archive.name().to_owned(),
        version: archive.version().to_owned(),
        status: Status::NoRepository,
        repository: archive.repository_url().map(str::to_owned),
        read_from: None,
        no_repository: None,
        commit: None,
        dirty: false,
        reachability: None,
        targets: BuildTargets::discover(&archive.manifest, &archive.files),
        differences: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let original = archive
        .files
        .get("Cargo.toml.orig")
        .and_then(|bytes| Manifest::parse(bytes).ok());

    let vcs_info = match archive.files.get(".cargo_vcs_info.json") {
        None => None,
        Some(bytes) => match VcsInfo::parse(bytes) {
            Ok(info) => Some(info),
            Err(error) => {
                report.problems.push(Problem::BadVcsInfo {
                    detail: error.to_string(),
                });
                None
            }
        },
    };
    report.dirty = vcs_info.as_ref().is_some_and(|v| v.dirty);

    let repo = match repository {
        Ok(repo) => repo,
        Err(why) => {
            report.no_repository = Some(why);
            check_original(archive, original.as_ref(), None, &mut report);
            report.status = if report.problems.is_empty() {
                Status::NoRepository
            } else {
                Status::Mismatch
            };
            return Ok(report);
        }
    };
    report.read_from = Some(repo.location().to_owned());

    let chosen = match &vcs_info {
        Some(info) => Some((
            info.sha1.clone(),
            CommitSource::VcsInfo,
            info.path_in_vcs.clone(),
        )),
        None => infer_commit(repo, archive, limits)?,
    };
    let Some((sha1, source, path_in_vcs)) = chosen else {
        check_original(archive, original.as_ref(), None, &mut report);
        report.status = Status::NoCommit;
        return Ok(report);
    };
    let found = repo.find_commit(&sha1)?;
    report.commit = Some(Commit {
        sha1: sha1.clone(),
        source: source.clone(),
        path_in_vcs: path_in_vcs.clone(),
        found: found.is_some(),
    });
    let Some(commit) = found else {
        check_original(archive, original.as_ref(), None, &mut report);
        report.status = Status::Unreachable;
        return Ok(report);
    };
    let reachability = repo.reachability(commit, limits)?;
    report.reachability = Some(reachability);

    let compared = compare(archive, repo, commit, &path_in_vcs, limits)?;
    report.differences = compared.differences;
    report.problems.extend(compared.problems);
    report.notes = compared.notes;
    check_original(
        archive,
        original.as_ref(),
        compared.workspace_root.as_ref(),
        &mut report,
    );

    report.status = if !report.problems.is_empty() || report.findings().next().is_some() {
        Status::Mismatch
    } else if reachability == Reachability::Unreachable {
        Status::Unreachable
    } else if source == CommitSource::VcsInfo {
        Status::Verified
    } else {
        Status::Inferred
    };
    Ok(report)
}

fn check_original(
    archive: &CrateArchive,
    original: Option<&Manifest>,
    workspace_root: Option<&Manifest>,
    report: &mut Report,
) {
    match original {
        Some(original) => check_manifest(
            &archive.manifest,
            original,
            workspace_root,
            &mut report.problems,
            &mut report.notes,
        ),
        None => report.problems.push(Problem::NoOriginalManifest),
    }
}

/// `.cargo_vcs_info.json` as `cargo package` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsInfo {
    /// The commit `HEAD` was at.
    pub sha1: String,
    /// Whether the work tree had uncommitted changes (`--allow-dirty`).
    pub dirty: bool,
    /// The package directory relative to the repository root (`""` at the root).
    pub path_in_vcs: String,
}

impl VcsInfo {
    /// Parse and check: a 40-hex-digit SHA-1 and a clean relative `path_in_vcs`.
    pub fn parse(bytes: &[u8]) -> Result<Self, VcsInfoError> {
        #[derive(Deserialize)]
        struct Raw {
            git: Option<Git>,
            #[serde(default)]
            path_in_vcs: String,
        }
        #[derive(Deserialize)]
        struct Git {
            sha1: String,
            #[serde(default)]
            dirty: bool,
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| VcsInfoError::Json(e.to_string()))?;
        let git = raw.git.ok_or(VcsInfoError::NoGit)?;
        if git.sha1.len() != 40 || !git.sha1.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(VcsInfoError::BadSha1 { sha1: git.sha1 });
        }
        let path = raw.path_in_vcs.trim_end_matches('/');
        let clean = join_normalized("", path).filter(|p| p == path);
        let Some(path_in_vcs) = clean else {
            return Err(VcsInfoError::BadPathInVcs {
                path_in_vcs: raw.path_in_vcs,
            });
        };
        Ok(Self {
            sha1: git.sha1.to_ascii_lowercase(),
            dirty: git.dirty,
            path_in_vcs,
        })
    }
}

/// The tag names a release of `name` `version` is usually tagged with, most specific
/// first (a monorepo tags per crate; a single-crate repository by version).
pub fn tag_candidates(name: &str, version: &str) -> Vec<String> {
    let mut candidates: Vec<String> = ["-v", "-", "@", "_v", "/v", "/", "@v"]
        .iter()
        .map(|sep| format!("{name}{sep}{version}"))
        .collect();
    candidates.extend([
        format!("v{version}"),
        version.to_owned(),
        format!("release-{version}"),
    ]);
    candidates
}

/// Without `.cargo_vcs_info.json`: the commit of a tag naming this version, and the
/// package directory in it (the root, or the directory whose `Cargo.toml` names this
/// package).
fn infer_commit(
    repo: &SourceRepository,
    archive: &CrateArchive,
    limits: &Limits,
) -> Result<Option<(String, CommitSource, String)>, GitError> {
    let tags = repo.tags(limits)?;
    let candidates = tag_candidates(archive.name(), archive.version());
    let Some((tag, commit)) = candidates
        .iter()
        .find_map(|want| tags.iter().find(|(name, _)| name == want))
    else {
        return Ok(None);
    };
    let path = package_dir(repo, *commit, archive.name(), limits)?.unwrap_or_default();
    Ok(Some((
        commit.to_string(),
        CommitSource::Tag(tag.clone()),
        path,
    )))
}

/// The directory at `commit` whose `Cargo.toml` has `package.name = name`.
fn package_dir(
    repo: &SourceRepository,
    commit: gix::ObjectId,
    name: &str,
    limits: &Limits,
) -> Result<Option<String>, GitError> {
    let Some(files) = repo.list_dir(commit, "", limits.max_tree_entries)? else {
        return Ok(None);
    };
    let mut manifests: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| *p == "Cargo.toml" || p.ends_with("/Cargo.toml"))
        .filter(|p| !p.split('/').any(|segment| segment == "target"))
        .collect();
    // Shallow first: the root package wins over a fixture of the same name.
    manifests.sort_by_key(|p| p.matches('/').count());
    for path in manifests {
        if let Some(Blob::Content(bytes)) = repo.file_at(commit, path, limits)? {
            let Ok(manifest) = Manifest::parse(&bytes) else {
                continue;
            };
            if manifest.package_name() == Some(name) {
                let dir = path.strip_suffix("Cargo.toml").unwrap_or_default();
                return Ok(Some(dir.trim_end_matches('/').to_owned()));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcs_info_as_cargo_writes_it() {
        let info = VcsInfo::parse(
            br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567","dirty":true},"path_in_vcs":"crates/a"}"#,
        )
        .unwrap();
        assert_eq!(info.path_in_vcs, "crates/a");
        assert!(info.dirty);
        let root = VcsInfo::parse(
            br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567"},"path_in_vcs":""}"#,
        )
        .unwrap();
        assert_eq!((root.path_in_vcs.as_str(), root.dirty), ("", false));
    }

    #[test]
    fn bad_vcs_info_is_refused() {
        for bad in [
            &br#"{"git":{"sha1":"abc"},"path_in_vcs":""}"#[..],
            br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567"},"path_in_vcs":"../x"}"#,
            br#"{"git":{"sha1":"0123456789abcdef0123456789abcdef01234567"},"path_in_vcs":"/abs"}"#,
            br#"{"path_in_vcs":""}"#,
            b"not json",
        ] {
            assert!(
                VcsInfo::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let sha1 = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            VcsInfo::parse(br#"{"path_in_vcs":""}"#),
            Err(VcsInfoError::NoGit)
        );
        assert_eq!(
            VcsInfo::parse(br#"{"git":{"sha1":"abc"}}"#),
            Err(VcsInfoError::BadSha1 {
                sha1: "abc".to_owned()
            })
        );
        assert_eq!(
            VcsInfo::parse(
                format!(r#"{{"git":{{"sha1":"{sha1}"}},"path_in_vcs":"a/../b"}}"#).as_bytes()
            ),
            Err(VcsInfoError::BadPathInVcs {
                path_in_vcs: "a/../b".to_owned()
            })
        );
        assert!(matches!(
            VcsInfo::parse(b"not json"),
            Err(VcsInfoError::Json(_))
        ));
    }

    #[test]
    fn tag_candidates_most_specific_first() {
        let c = tag_candidates("foo", "1.2.3");
        assert_eq!(c.first().map(String::as_str), Some("foo-v1.2.3"));
        for want in ["foo-1.2.3", "foo@1.2.3", "v1.2.3", "1.2.3"] {
            assert!(c.iter().any(|x| x == want), "{want}");
        }
    }
}
