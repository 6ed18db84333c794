//! A crate's source repository, read through `gix` (no git CLI): open a local clone,
//! or clone and fetch into a cache; find a commit, its reachability, tags, and the
//! files of a directory at a commit, all with caps.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use gix::bstr::ByteSlice as _;
use gix::ObjectId;
use sha2::Digest as _;

use crate::error::GitError;
use crate::Limits;

/// An opened source repository.
#[derive(Debug)]
pub struct SourceRepository {
    repo: gix::Repository,
    /// Where it came from (a URL or a local path), for reports.
    location: String,
}

/// A file of a tree at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Path relative to the directory that was listed.
    pub path: String,
    /// The blob (or, for a submodule, the commit) id.
    pub id: ObjectId,
    /// What kind of entry.
    pub kind: TreeFileKind,
}

/// The kind of a tree entry that is not a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeFileKind {
    /// A regular file (executable or not).
    File,
    /// A symbolic link; its blob holds the target.
    Symlink,
    /// A submodule (a commit of another repository).
    Submodule,
}

/// Whether a commit can be reached from a branch or a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reachability {
    /// Some branch or tag leads to it.
    Reachable,
    /// No branch or tag leads to it (it may be on a pull-request ref, or left behind
    /// by a force-push).
    Unreachable,
    /// The walk stopped at [`Limits::max_commits_walked`].
    Unknown,
}

impl SourceRepository {
    /// Open the repository at `path` (a work tree or a bare repository), reading no
    /// global or user git configuration.
    pub fn open(path: &Path) -> Result<Self, GitError> {
        let repo =
            gix::open_opts(path, gix::open::Options::isolated()).map_err(|e| GitError::Open {
                path: path.display().to_string(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            repo,
            location: path.display().to_string(),
        })
    }

    /// The clone of `url` under `cache`: cloned (bare) on first use, fetched on later
    /// ones unless `offline` (then the cached clone is used as it is). Only `https://`
    /// and `file://` URLs are fetched (see [`GitError::UnsupportedUrl`]); a `file://`
    /// URL goes through gix's file transport, which runs `git-upload-pack` on the local
    /// side the way git itself does.
    pub fn cached_clone(
        url: &str,
        cache: &Path,
        offline: bool,
        limits: &Limits,
    ) -> Result<Self, GitError> {
        let normalized = normalize_url(url)?;
        let dir = cache.join(cache_dir_name(&normalized));
        if dir.exists() {
            let mut opened = Self::open(&dir)?;
            opened.location = normalized.clone();
            if !offline {
                opened.fetch(&normalized, limits)?;
            }
            return Ok(opened);
        }
        if offline {
            return Err(GitError::Fetch {
                url: normalized,
                detail: "offline, and no clone in the cache".to_owned(),
            });
        }
        std::fs::create_dir_all(cache).map_err(|e| GitError::Cache {
            path: cache.display().to_string(),
            detail: e.to_string(),
        })?;
        // Clone beside the final place and rename: an interrupted clone never looks
        // like a finished one to the next run.
        let partial = cache.join(format!(
            "{}.partial-{}",
            cache_dir_name(&normalized),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&partial);
        let (url, destination) = (normalized.clone(), partial.clone());
        let result = with_deadline(&normalized, limits.max_network_time, move |interrupt| {
            let mut prepare = gix::clone::PrepareFetch::new(
                url.as_str(),
                &destination,
                gix::create::Kind::Bare,
                gix::create::Options::default(),
                gix::open::Options::isolated(),
            )
            .map_err(|e| e.to_string())?;
            prepare
                .fetch_only(gix::progress::Discard, interrupt)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        if let Err(timed_out @ GitError::TimedOut { .. }) = result {
            // The abandoned clone may still be writing there; leave it (its name has
            // this process's id, and the next clone of the URL starts afresh).
            return Err(timed_out);
        }
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &dir).map_err(|e| GitError::Cache {
            path: dir.display().to_string(),
            detail: e.to_string(),
        })?;
        let mut opened = Self::open(&dir)?;
        opened.location = normalized;
        Ok(opened)
    }

    fn fetch(&self, url: &str, limits: &Limits) -> Result<(), GitError> {
        // The fetch runs on its own thread with its own handle (a `gix::Repository`
        // is not shared across threads), so a stalled server cannot hold this one.
        let git_dir = self.repo.git_dir().to_owned();
        with_deadline(url, limits.max_network_time, move |interrupt| {
            let repo = gix::open_opts(git_dir, gix::open::Options::isolated())
                .map_err(|e| e.to_string())?;
            let remote = repo
                .find_remote("origin")
                .map_err(|e| e.to_string())?
                .with_fetch_tags(gix::remote::fetch::Tags::All);
            let outcome = remote
                .connect(gix::remote::Direction::Fetch)
                .map_err(|e| e.to_string())?
                .prepare_fetch(gix::progress::Discard, Default::default())
                .map_err(|e| e.to_string())?
                .receive(gix::progress::Discard, interrupt);
            outcome.map(|_| ()).map_err(|e| e.to_string())
        })
    }

    /// Where the repository came from.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The commit named by `hex` (a full SHA-1), if the repository has it.
    pub fn find_commit(&self, hex: &str) -> Result<Option<ObjectId>, GitError> {
        let Ok(id) = ObjectId::from_hex(hex.as_bytes()) else {
            return Ok(None);
        };
        match self.repo.try_find_object(id).map_err(read_error)? {
            Some(object) if object.kind == gix::object::Kind::Commit => Ok(Some(id)),
            _ => Ok(None),
        }
    }

    /// Every tag name with the commit it peels to (annotated tags followed), at most
    /// [`Limits::max_tags`].
    pub fn tags(&self, limits: &Limits) -> Result<Vec<(String, ObjectId)>, GitError> {
        let platform = self.repo.references().map_err(read_error)?;
        let mut tags = Vec::new();
        for reference in platform.tags().map_err(read_error)? {
            let Ok(mut reference) = reference else {
                continue;
            };
            let name = reference.name().shorten().to_str_lossy().into_owned();
            let Ok(id) = reference.peel_to_id_in_place() else {
                continue;
            };
            let Some(commit) = self.peel_to_commit(id.detach()) else {
                continue;
            };
            tags.push((name, commit));
            if tags.len() >= limits.max_tags {
                break;
            }
        }
        Ok(tags)
    }

    fn peel_to_commit(&self, id: ObjectId) -> Option<ObjectId> {
        let object = self.repo.find_object(id).ok()?;
        object.peel_to_commit().ok().map(|c| c.id)
    }

    /// Whether `commit` is an ancestor of (or is) a branch or a tag.
    pub fn reachability(
        &self,
        commit: ObjectId,
        limits: &Limits,
    ) -> Result<Reachability, GitError> {
        let platform = self.repo.references().map_err(read_error)?;
        let mut tips = Vec::new();
        for reference in platform.all().map_err(read_error)? {
            let Ok(mut reference) = reference else {
                continue;
            };
            let name = reference.name().as_bstr().to_owned();
            let counts = name.starts_with(b"refs/heads/")
                || name.starts_with(b"refs/tags/")
                || name.starts_with(b"refs/remotes/");
            if !counts {
                continue;
            }
            let Ok(id) = reference.peel_to_id_in_place() else {
                continue;
            };
            if let Some(tip) = self.peel_to_commit(id.detach()) {
                if tip == commit {
                    return Ok(Reachability::Reachable);
                }
                tips.push(tip);
            }
        }
        if tips.is_empty() {
            return Ok(Reachability::Unreachable);
        }
        let walk = self.repo.rev_walk(tips).all().map_err(read_error)?;
        for (walked, info) in walk.enumerate() {
            if walked >= limits.max_commits_walked {
                return Ok(Reachability::Unknown);
            }
            let info = info.map_err(read_error)?;
            if info.id == commit {
                return Ok(Reachability::Reachable);
            }
        }
        Ok(Reachability::Unreachable)
    }

    /// The files under `dir` (`""` for the root) of `commit`'s tree, recursively, with
    /// paths relative to `dir`; `None` when `dir` is not a directory there.
    pub fn list_dir(
        &self,
        commit: ObjectId,
        dir: &str,
        max_entries: usize,
    ) -> Result<Option<Vec<TreeFile>>, GitError> {
        let Some(tree) = self.tree_at(commit, dir)? else {
            return Ok(None);
        };
        let mut files = Vec::new();
        let mut visited = 0usize;
        let mut stack = vec![(String::new(), tree)];
        while let Some((prefix, tree_id)) = stack.pop() {
            let object = self.repo.find_object(tree_id).map_err(read_error)?;
            for entry in gix::objs::TreeRefIter::from_bytes(&object.data) {
                let entry = entry.map_err(read_error)?;
                visited = visited.saturating_add(1);
                if visited > max_entries {
                    return Err(GitError::TreeTooLarge {
                        path: dir.to_owned(),
                        limit: max_entries,
                    });
                }
                let name = entry.filename.to_str_lossy();
                let path = if prefix.is_empty() {
                    name.into_owned()
                } else {
                    format!("{prefix}/{name}")
                };
                let id = entry.oid.to_owned();
                use gix::objs::tree::EntryKind;
                let kind = match entry.mode.kind() {
                    EntryKind::Tree => {
                        stack.push((path, id));
                        continue;
                    }
                    EntryKind::Blob | EntryKind::BlobExecutable => TreeFileKind::File,
                    EntryKind::Link => TreeFileKind::Symlink,
                    EntryKind::Commit => TreeFileKind::Submodule,
                };
                files.push(TreeFile { path, id, kind });
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Some(files))
    }

    /// The tree id of `dir` in `commit`, if it is a directory.
    fn tree_at(&self, commit: ObjectId, dir: &str) -> Result<Option<ObjectId>, GitError> {
        let commit = self
            .repo
            .find_object(commit)
            .map_err(read_error)?
            .try_into_commit()
            .map_err(read_error)?;
        let root = commit.tree_id().map_err(read_error)?.detach();
        if dir.is_empty() {
            return Ok(Some(root));
        }
        let tree = self.repo.find_object(root).map_err(read_error)?.into_tree();
        match tree.lookup_entry_by_path(dir).map_err(read_error)? {
            Some(entry) if entry.mode().is_tree() => Ok(Some(entry.object_id())),
            _ => Ok(None),
        }
    }

    /// The blob at `path` of `commit`'s tree, if it is a file there.
    pub fn file_at(
        &self,
        commit: ObjectId,
        path: &str,
        limits: &Limits,
    ) -> Result<Option<Blob>, GitError> {
        let commit = self
            .repo
            .find_object(commit)
            .map_err(read_error)?
            .try_into_commit()
            .map_err(read_error)?;
        let tree = commit.tree().map_err(read_error)?;
        match tree.lookup_entry_by_path(path).map_err(read_error)? {
            Some(entry) if entry.mode().is_blob() || entry.mode().is_link() => {
                self.blob(entry.object_id(), limits).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// A blob's content, or only its size when over [`Limits::max_blob_bytes`].
    pub fn blob(&self, id: ObjectId, limits: &Limits) -> Result<Blob, GitError> {
        let header = self.repo.find_header(id).map_err(read_error)?;
        let size = header.size();
        if size > limits.max_blob_bytes {
            return Ok(Blob::TooLarge { size });
        }
        let object = self.repo.find_object(id).map_err(read_error)?;
        Ok(Blob::Content(object.detach().data))
    }
}

/// A blob read from the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blob {
    /// Its bytes.
    Content(Vec<u8>),
    /// Larger than [`Limits::max_blob_bytes`]; not read.
    TooLarge {
        /// Its size in bytes.
        size: u64,
    },
}

fn read_error(e: impl std::fmt::Display) -> GitError {
    GitError::Read(e.to_string())
}

/// `https://host/path` (a trailing `/` and `.git` dropped, so two spellings share one
/// clone) or `file://...`; a plain local path becomes `file://`.
fn normalize_url(url: &str) -> Result<String, GitError> {
    let trimmed = url.trim().trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("https://") {
        // Forges serve `/owner/repo/tree/main/sub` pages under repository URLs; cargo
        // users often write those. Keep the first two path segments for known forges.
        let rest = trimmed.get("https://".len()..).unwrap_or_default();
        let mut parts = rest.split('/');
        let host = parts.next().unwrap_or_default();
        let known_forge = ["github.com", "gitlab.com", "codeberg.org", "bitbucket.org"]
            .contains(&host.to_ascii_lowercase().as_str());
        let path: Vec<&str> = if known_forge {
            parts.take(2).collect()
        } else {
            parts.collect()
        };
        let path = path.join("/");
        let path = path.strip_suffix(".git").unwrap_or(&path);
        return Ok(format!("https://{host}/{path}"));
    }
    if lower.starts_with("file://") {
        return Ok(trimmed.to_owned());
    }
    if Path::new(trimmed).is_absolute() {
        return Ok(format!("file://{trimmed}"));
    }
    Err(GitError::UnsupportedUrl {
        url: url.to_owned(),
    })
}

/// A readable, collision-free directory name for a URL: its host and last segment,
/// then 16 hex digits of its SHA-256.
fn cache_dir_name(url: &str) -> String {
    let readable: String = url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let digest = sha2::Sha256::digest(url.as_bytes());
    let short = hex::encode(digest.get(..8).unwrap_or_default());
    format!("{readable}-{short}")
}

/// Run `work` on a thread of its own and wait at most `limit` for it. At the limit its
/// interrupt flag is raised (gix stops between reads), and after a short grace the
/// thread is abandoned: a read blocked on a silent server never returns to check the
/// flag, and the HTTP client has a connect timeout but no read timeout.
fn with_deadline(
    url: &str,
    limit: Duration,
    work: impl FnOnce(&AtomicBool) -> Result<(), String> + Send + 'static,
) -> Result<(), GitError> {
    /// How long an interrupted clone or fetch gets to stop by itself.
    const GRACE: Duration = Duration::from_secs(2);
    let interrupt = Arc::new(AtomicBool::new(false));
    let (done, wait) = mpsc::channel();
    let flag = Arc::clone(&interrupt);
    std::thread::spawn(move || {
        let _ = done.send(work(&flag));
    });
    let result = match wait.recv_timeout(limit) {
        Ok(result) => result,
        Err(_) => {
            interrupt.store(true, Ordering::SeqCst);
            let _ = wait.recv_timeout(GRACE);
            return Err(GitError::TimedOut {
                url: url.to_owned(),
                seconds: limit.as_secs(),
            });
        }
    };
    result.map_err(|detail| GitError::Fetch {
        url: url.to_owned(),
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized_and_only_https_and_file_are_fetched() {
        assert_eq!(
            normalize_url("https://github.com/o/r/tree/main/crates/x").unwrap(),
            "https://github.com/o/r"
        );
        assert_eq!(
            normalize_url("https://github.com/o/r.git/").unwrap(),
            "https://github.com/o/r"
        );
        assert_eq!(
            normalize_url("https://git.example/a/b/c.git").unwrap(),
            "https://git.example/a/b/c"
        );
        assert_eq!(normalize_url("/srv/repo").unwrap(), "file:///srv/repo");
        for refused in [
            "http://github.com/o/r",
            "git://x/y",
            "ssh://git@x/y",
            "git@github.com:o/r",
            "relative/path",
        ] {
            assert!(
                matches!(normalize_url(refused), Err(GitError::UnsupportedUrl { .. })),
                "{refused}"
            );
        }
    }

    #[test]
    fn cache_names_differ_per_url() {
        let a = cache_dir_name("https://github.com/o/r");
        let b = cache_dir_name("https://gitlab.com/o/r");
        assert_ne!(a, b);
        assert!(a.starts_with("r-"));
    }
}
