//! Finding, checking and hashing index files, and writing their hash-named target copies.
//!
//! Work per file is one `open`, one `fstat`, one read into a reused per-thread buffer,
//! the check a verifier makes ([`tuf_core::index::check_index_target`]) and one SHA-256;
//! files run on every core (rayon). No index bytes are kept after a file is hashed.
//!
//! # What is never signed
//!
//! A file is signed only if a verifier would accept it: a file the check refuses, a
//! symbolic link, or anything that is not a regular file comes back as
//! [`Hashed::Refused`], before any copy of it is written. Symbolic links are never
//! followed, in a path's directories or at its end: each file is opened relative to the
//! index directory with `openat2(RESOLVE_NO_SYMLINKS)` (Linux 5.6+) or, failing that,
//! one `openat(O_NOFOLLOW)` per path component, so nothing can swap a link in between a
//! check and the open. Whatever writes the index therefore cannot make the publisher
//! sign, or copy into the public `targets/`, a file outside it.

use std::fs::{self, File};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use tuf_core::index::{check_index_target, CrateName, IndexError, IndexLimits, CONFIG_PATH};
use tuf_core::metadata::TargetPath;
use tuf_core::repo::{target_copy_name, TargetEntry};

use crate::error::Error;
use crate::manifest::{mtime_for_manifest, ManifestEntry};
use crate::progress::{chunk_len, Progress};

/// An index file as hashed now.
#[derive(Debug, Clone)]
pub struct HashedFile {
    /// Its target entry (path, length, SHA-256).
    pub entry: TargetEntry,
    /// What the manifest should remember of it.
    pub manifest: ManifestEntry,
    /// The target copy this hash wrote, if it wrote one (to be made durable).
    pub copy_written: Option<PathBuf>,
    /// How the copy was made, when one was.
    pub copy_kind: CopyKind,
}

/// How a target copy was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyKind {
    /// None was made (no copies, or it existed already).
    None,
    /// The bytes were written to a new file.
    Written,
    /// A hard link to the index file.
    Linked,
    /// Links were asked for, but the index file already had another link and changed:
    /// the registry rewrote it in place, which changes every copy linked to it. The bytes
    /// were written instead, so this copy stays as signed.
    WrittenModifiedInPlace,
}

/// What reading one index file gave.
#[derive(Debug, Clone)]
pub enum Hashed {
    /// No file at the path (a deleted crate).
    Missing,
    /// The file may not be signed: nothing was copied, and its previously signed
    /// version (if any) stays.
    Refused(Refusal),
    /// The file was checked, hashed and (if asked) copied.
    File(HashedFile),
}

/// Why an index file was not signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The path, or a directory on it, is a symbolic link: the publisher follows none
    /// (`symlink`).
    #[error("it is (or is under) a symbolic link; the publisher follows no symbolic links")]
    Symlink,
    /// The path is not a regular file (a directory, a FIFO, a device)
    /// (`not-regular-file`).
    #[error("it is not a regular file")]
    NotRegularFile,
    /// A verifier would refuse the file's content; the code is the check's
    /// ([`IndexError::code`]).
    #[error("a verifier would refuse it: {0}")]
    Content(IndexError),
}

impl Refusal {
    /// A stable kebab-case code: `symlink`, `not-regular-file`, or the content
    /// check's code (`line-not-json`, `line-wrong-crate`, `config-not-json`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Symlink => "symlink",
            Self::NotRegularFile => "not-regular-file",
            Self::Content(e) => e.code(),
        }
    }
}

/// An index file that was not signed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedFile {
    /// Its index path.
    pub path: TargetPath,
    /// Why.
    pub refusal: Refusal,
}

/// How index files are read and checked.
#[derive(Debug, Clone, Copy)]
pub struct ReadRules<'a> {
    /// The largest file accepted (`Limits::max_target_bytes`); a larger one fails the
    /// whole publish, as a client would refuse it.
    pub max_bytes: u64,
    /// The caps of the index check, as the verifier applies them.
    pub index_limits: &'a IndexLimits,
}

/// Where and whether to write hash-named copies of targets.
#[derive(Debug, Clone, Copy)]
pub struct CopyTo<'a> {
    /// The targets directory.
    pub dir: &'a Path,
    /// Hard-link the index file as its copy instead of writing its bytes again. Only for
    /// a registry that replaces index files by rename and never rewrites one in place
    /// (docs/repository.md, "Linked copies").
    pub link: bool,
}

/// Whether `path` names an index file: `config.json` or a crate's sparse path.
pub fn check_index_path(path: &str) -> Result<TargetPath, Error> {
    let not = |reason: String| Error::NotIndexPath {
        path: path.to_owned(),
        reason,
    };
    if path != CONFIG_PATH {
        CrateName::from_sparse_path(path).map_err(|e| not(e.to_string()))?;
    }
    TargetPath::parse(path).map_err(|e| not(e.to_string()))
}

/// The index paths a publish hook named: each checked ([`check_index_path`]), sorted,
/// each once.
pub fn check_index_paths(paths: &[String]) -> Result<Vec<TargetPath>, Error> {
    let mut paths: Vec<TargetPath> = paths
        .iter()
        .map(|p| check_index_path(p))
        .collect::<Result<_, _>>()?;
    paths.sort_unstable();
    paths.dedup();
    Ok(paths)
}

/// Every index path under `index` with something at it (relative `/`-separated paths,
/// sorted), and the files that are not at index paths (skipped, reported to the
/// operator). Names starting with `.` are not looked at (`.git`, temporary files).
/// Symbolic links are not followed: a link to a directory is not descended into (it is
/// skipped, or, at an index path, found and then refused when read).
pub fn walk_index(index: &Path) -> Result<(Vec<TargetPath>, Vec<String>), Error> {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let mut stack = vec![(index.to_owned(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for item in fs::read_dir(&dir).map_err(Error::io("read directory", &dir))? {
            let item = item.map_err(Error::io("read directory", &dir))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else {
                skipped.push(format!("{prefix}{}", name.to_string_lossy()));
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let rel = format!("{prefix}{name}");
            // Not followed: a symbolic link's own type.
            let kind = item.file_type().map_err(Error::io("stat", item.path()))?;
            if kind.is_dir() {
                stack.push((item.path(), format!("{rel}/")));
                continue;
            }
            // Anything at an index path is found, a symbolic link or other non-file
            // included: reading it refuses it (reported, the signed version kept), as
            // for a path the registry names (`--changed`).
            match check_index_path(&rel) {
                Ok(path) => found.push(path),
                Err(_) => skipped.push(rel),
            }
        }
    }
    found.sort_unstable();
    skipped.sort_unstable();
    Ok((found, skipped))
}

/// Check and hash `paths` under `index` on every core (see [`Hashed`]). With `copy`,
/// each accepted file's hash-named copy is written (or, when it exists, its mtime is set
/// to now so pruning knows it is named again).
pub fn hash_files(
    index: &Path,
    paths: &[TargetPath],
    copy: Option<CopyTo<'_>>,
    rules: ReadRules<'_>,
    now_ns: i64,
) -> Result<Vec<(TargetPath, Hashed)>, Error> {
    each_file(index, paths, |dir, path, buf| {
        Ok((path.clone(), hash_one(dir, path, copy, rules, now_ns, buf)?))
    })
}

/// `f` of every path, on every core, each thread with a reused read buffer.
fn each_file<T: Send>(
    index: &Path,
    paths: &[TargetPath],
    f: impl Fn(&IndexDir, &TargetPath, &mut Vec<u8>) -> Result<T, Error> + Sync + Send,
) -> Result<Vec<T>, Error> {
    let dir = IndexDir::open(index)?;
    paths
        .par_iter()
        .map_init(
            || Vec::with_capacity(64 * 1024),
            |buf, path| f(&dir, path, buf),
        )
        .collect()
}

/// A file [`read_files`] read: its path, what hashing it gave, and (for an accepted
/// file) exactly the bytes hashed.
pub type ReadFile = (TargetPath, Hashed, Option<Vec<u8>>);

/// [`hash_files`] without copies, keeping each accepted file's bytes (exactly the bytes
/// hashed): for a publisher that uploads the copies itself (object storage).
pub fn read_files(
    index: &Path,
    paths: &[TargetPath],
    rules: ReadRules<'_>,
    now_ns: i64,
) -> Result<Vec<ReadFile>, Error> {
    each_file(index, paths, |dir, path, buf| {
        let hashed = hash_one(dir, path, None, rules, now_ns, buf)?;
        let bytes = matches!(hashed, Hashed::File(_)).then(|| buf.clone());
        Ok((path.clone(), hashed, bytes))
    })
}

/// One file of a scan: hashed now, or carried over from the manifest because its length
/// and mtime are as recorded.
#[derive(Debug, Clone)]
pub enum Scanned {
    /// Its stat changed (or it is new): hashed now.
    Hashed(HashedFile),
    /// Its stat is as the manifest recorded: the manifest's hash stands.
    Unchanged(TargetEntry, ManifestEntry),
    /// It changed (or is new) and may not be signed.
    Refused(RefusedFile),
}

/// Stat every path; check and hash (and copy) only those whose length or mtime differ
/// from `manifest` or whose recorded mtime is unknown (0). Files that vanished are left
/// out. `progress` hears of every chunk of files done ([`Stage::Scanning`] is started
/// and finished by the caller).
pub fn scan_files(
    index: &Path,
    paths: &[TargetPath],
    manifest: &crate::manifest::Manifest,
    copy: Option<CopyTo<'_>>,
    rules: ReadRules<'_>,
    now_ns: i64,
    progress: &dyn Progress,
) -> Result<Vec<Scanned>, Error> {
    let dir = IndexDir::open(index)?;
    let scan_one = |buf: &mut Vec<u8>, path: &TargetPath| -> Result<Option<Scanned>, Error> {
        if let Some(known) = manifest.entries.get(path.as_str()) {
            let full = index.join(path.as_str());
            // The link itself, not what it points to: a symbolic link put in place of
            // a signed file is read (and refused), never taken as unchanged.
            if let Ok(meta) = fs::symlink_metadata(&full) {
                if known.mtime_ns != 0
                    && meta.len() == known.length
                    && crate::manifest::mtime_ns(&meta) == known.mtime_ns
                {
                    let entry = TargetEntry {
                        path: path.clone(),
                        length: known.length,
                        sha256: known.sha256,
                    };
                    return Ok(Some(Scanned::Unchanged(entry, *known)));
                }
            }
        }
        Ok(match hash_one(&dir, path, copy, rules, now_ns, buf)? {
            Hashed::Missing => None,
            Hashed::Refused(refusal) => Some(Scanned::Refused(RefusedFile {
                path: path.clone(),
                refusal,
            })),
            Hashed::File(hashed) => Some(Scanned::Hashed(hashed)),
        })
    };
    // Chunks, so progress is told once per chunk rather than once per file.
    let results: Result<Vec<Vec<Scanned>>, Error> = paths
        .par_chunks(chunk_len(paths.len()))
        .map_init(
            || Vec::with_capacity(64 * 1024),
            |buf, chunk| {
                let mut done = Vec::with_capacity(chunk.len());
                for path in chunk {
                    done.extend(scan_one(buf, path)?);
                }
                progress.advance(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
                Ok(done)
            },
        )
        .collect();
    Ok(results?.into_iter().flatten().collect())
}

fn hash_one(
    index: &IndexDir,
    path: &TargetPath,
    copy: Option<CopyTo<'_>>,
    rules: ReadRules<'_>,
    now_ns: i64,
    buf: &mut Vec<u8>,
) -> Result<Hashed, Error> {
    let max_bytes = rules.max_bytes;
    let full = index.path.join(path.as_str());
    let mut file = match index.open_file(path).map_err(Error::io("open", &full))? {
        Opened::File(file) => file,
        Opened::Missing => return Ok(Hashed::Missing),
        Opened::Symlink => return Ok(Hashed::Refused(Refusal::Symlink)),
    };
    // Stat before reading: if the file changes while it is read, its mtime moves past
    // the one recorded here and the next scan hashes it again.
    let meta = file.metadata().map_err(Error::io("stat", &full))?;
    if !meta.is_file() {
        return Ok(Hashed::Refused(Refusal::NotRegularFile));
    }
    if meta.len() > max_bytes {
        return Err(Error::TargetTooLarge {
            path: full,
            found: meta.len(),
            limit: max_bytes,
        });
    }
    buf.clear();
    // Read at most one byte past the limit: the length signed is what was read.
    file.by_ref()
        .take(max_bytes.saturating_add(1))
        .read_to_end(buf)
        .map_err(Error::io("read", &full))?;
    let length = u64::try_from(buf.len()).unwrap_or(u64::MAX);
    if length > max_bytes {
        return Err(Error::TargetTooLarge {
            path: full,
            found: length,
            limit: max_bytes,
        });
    }
    // The verifier's check, on exactly the bytes to be hashed, before any copy of them
    // is written: a refused file is neither signed nor published.
    if let Err(e) = check_index_target(path.as_str(), buf, rules.index_limits) {
        return Ok(Hashed::Refused(Refusal::Content(e)));
    }
    let sha256 = tuf_core::hash::sha256(buf);
    let (copy_written, copy_kind) = match copy {
        Some(CopyTo { dir, link: false }) => {
            let written = write_copy(dir, path, &sha256, buf)?;
            let kind = if written.is_some() {
                CopyKind::Written
            } else {
                CopyKind::None
            };
            (written, kind)
        }
        Some(CopyTo { dir, link: true }) => {
            link_copy(dir, path, &sha256, &full, &file, &meta, buf)?
        }
        None => (None, CopyKind::None),
    };
    Ok(Hashed::File(HashedFile {
        entry: TargetEntry {
            path: path.clone(),
            length,
            sha256,
        },
        manifest: ManifestEntry {
            length,
            mtime_ns: mtime_for_manifest(&meta, now_ns),
            sha256,
        },
        copy_written,
        copy_kind,
    }))
}

/// The index directory, opened once: every index file is opened relative to it.
#[derive(Debug)]
struct IndexDir {
    path: PathBuf,
    fd: OwnedFd,
}

/// What opening an index path found.
#[derive(Debug)]
enum Opened {
    File(File),
    /// Nothing at the path, or a directory on it is not a directory.
    Missing,
    /// The path or a directory on it is a symbolic link.
    Symlink,
}

impl IndexDir {
    /// Open the index directory itself (the operator's `--index`, which may be a link).
    fn open(path: &Path) -> Result<Self, Error> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open", path)(e.into()))?;
        Ok(Self {
            path: path.to_owned(),
            fd,
        })
    }

    /// Open index path `path` (relative, `/`-separated, no `..`: a [`TargetPath`])
    /// for reading without following a symbolic link anywhere on it. `O_NONBLOCK` so
    /// that a FIFO put at an index path does not block the open; it is refused as not
    /// a regular file.
    fn open_file(&self, path: &TargetPath) -> std::io::Result<Opened> {
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
        #[cfg(target_os = "linux")]
        {
            // One call, however deep the path. Not available before Linux 5.6 (or
            // under a seccomp filter that does not know it): fall back.
            let resolve = rustix::fs::ResolveFlags::NO_SYMLINKS | rustix::fs::ResolveFlags::BENEATH;
            match rustix::fs::openat2(&self.fd, path.as_str(), flags, Mode::empty(), resolve) {
                Ok(fd) => return Ok(Opened::File(File::from(fd))),
                Err(Errno::NOENT | Errno::NOTDIR) => return Ok(Opened::Missing),
                Err(Errno::LOOP) => return Ok(Opened::Symlink),
                Err(Errno::NOSYS | Errno::PERM) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.open_by_components(path, flags)
    }

    /// [`IndexDir::open_file`] by one `openat(O_NOFOLLOW)` per component.
    fn open_by_components(&self, path: &TargetPath, flags: OFlags) -> std::io::Result<Opened> {
        let components: Vec<&str> = path.as_str().split('/').collect();
        let Some((name, dirs)) = components.split_last() else {
            return Ok(Opened::Missing);
        };
        let mut parent: Option<OwnedFd> = None;
        for dir in dirs {
            let at = parent.as_ref().map_or(self.fd.as_fd(), AsFd::as_fd);
            let opened = rustix::fs::openat(
                at,
                *dir,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            );
            match opened {
                Ok(fd) => parent = Some(fd),
                Err(e) => return classify(at, dir, e),
            }
        }
        let at = parent.as_ref().map_or(self.fd.as_fd(), AsFd::as_fd);
        match rustix::fs::openat(at, *name, flags | OFlags::NOFOLLOW, Mode::empty()) {
            Ok(fd) => Ok(Opened::File(File::from(fd))),
            Err(e) => classify(at, name, e),
        }
    }
}

/// What a failed `openat(O_NOFOLLOW)` of `name` in `at` means. Systems differ in the
/// error for a symbolic link (`ELOOP` on Linux, `EMLINK` on FreeBSD, `ENOTDIR` with
/// `O_DIRECTORY` on some), so the entry's own type decides.
fn classify(at: std::os::fd::BorrowedFd<'_>, name: &str, error: Errno) -> std::io::Result<Opened> {
    match error {
        Errno::NOENT => Ok(Opened::Missing),
        Errno::LOOP | Errno::MLINK | Errno::NOTDIR => {
            match rustix::fs::statat(at, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) if rustix::fs::FileType::from_raw_mode(stat.st_mode).is_symlink() => {
                    Ok(Opened::Symlink)
                }
                Ok(_) if error == Errno::NOTDIR => Ok(Opened::Missing),
                Ok(_) => Err(error.into()),
                Err(Errno::NOENT) => Ok(Opened::Missing),
                Err(e) => Err(e.into()),
            }
        }
        other => Err(other.into()),
    }
}

/// Make the copy a hard link to the index file just hashed: no bytes written, one new
/// name for the same inode. Sound only while the registry replaces index files by rename
/// (a new inode each time), so that an inode, once hashed, never changes.
///
/// * The link is made by path and then checked to be the inode that was read (and that
///   inode unchanged since it was stat-ed before the read); if the file was replaced or
///   rewritten meanwhile, the link is removed and the hashed bytes are written instead.
/// * An index file that changed (it is being hashed) but already has another link was
///   rewritten in place: its earlier copy, a link to it, no longer holds the bytes that
///   were signed for it. The new copy is written, not linked, and the caller warns.
/// * An existing copy is the same bytes (its name is their hash): if it is another inode
///   its mtime is refreshed, as [`write_copy`] does; if it is this very inode, not (that
///   would change the index file's mtime, and the next scan would hash it again).
fn link_copy(
    dir: &Path,
    path: &TargetPath,
    sha256: &[u8; 32],
    source: &Path,
    file: &File,
    before: &fs::Metadata,
    bytes: &[u8],
) -> Result<(Option<PathBuf>, CopyKind), Error> {
    use std::os::unix::fs::MetadataExt;
    let copy = dir.join(target_copy_name(path, sha256));
    let same_inode = |m: &fs::Metadata| m.dev() == before.dev() && m.ino() == before.ino();
    let unchanged = |m: &fs::Metadata| {
        same_inode(m)
            && m.len() == before.len()
            && crate::manifest::mtime_ns(m) == crate::manifest::mtime_ns(before)
    };
    let written = |kind| -> Result<(Option<PathBuf>, CopyKind), Error> {
        let made = write_copy(dir, path, sha256, bytes)?;
        Ok(match made {
            Some(copy) => (Some(copy), kind),
            None => (None, CopyKind::None),
        })
    };
    if before.nlink() > 1 {
        return match fs::symlink_metadata(&copy) {
            // Already this inode's copy (a scan that re-hashed an unchanged file).
            Ok(existing) if same_inode(&existing) => Ok((None, CopyKind::None)),
            _ => written(CopyKind::WrittenModifiedInPlace),
        };
    }
    let linked = match fs::hard_link(source, &copy) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = copy.parent().unwrap_or(dir);
            fs::create_dir_all(parent).map_err(Error::io("create directory", parent))?;
            fs::hard_link(source, &copy)
        }
        other => other,
    };
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = fs::symlink_metadata(&copy).map_err(Error::io("stat", &copy))?;
            if !same_inode(&existing) {
                touch(&copy)?;
            }
            return Ok((None, CopyKind::None));
        }
        // EXDEV (18 on Linux and the BSDs); `ErrorKind::CrossesDevices` needs Rust 1.85.
        Err(e) if e.raw_os_error() == Some(18) => {
            return Err(Error::CopyLink {
                index: source.to_owned(),
                copy,
                reason: "the index and the repository's targets/ are on different file \
                         systems, and a hard link cannot cross them: put them on one, or \
                         publish without --link-copies"
                    .to_owned(),
            });
        }
        Err(e) => return Err(Error::io("link", copy)(e)),
    }
    // The name linked is the inode that was read, unchanged since before the read?
    let now_linked = fs::symlink_metadata(&copy).map_err(Error::io("stat", &copy))?;
    let now_read = file.metadata().map_err(Error::io("stat", source))?;
    if unchanged(&now_linked) && unchanged(&now_read) {
        return Ok((Some(copy), CopyKind::Linked));
    }
    fs::remove_file(&copy).map_err(Error::io("remove", &copy))?;
    written(CopyKind::Written)
}

/// Write the copy of `bytes` at its hash name unless it exists; an existing copy holds
/// the same bytes (its name is their hash, and it was written by rename), so only its
/// mtime is refreshed.
///
/// The common case (a new copy in an existing directory) costs one create, one write and
/// one no-clobber rename: the directory is created only when the create says it is
/// missing, and an existing copy is found by the rename refusing to replace it, not by
/// probing first (at 200k files every saved path walk counts; docs/benchmarks.md).
pub(crate) fn write_copy(
    dir: &Path,
    path: &TargetPath,
    sha256: &[u8; 32],
    bytes: &[u8],
) -> Result<Option<PathBuf>, Error> {
    let copy = dir.join(target_copy_name(path, sha256));
    // Made durable by the publish batch that adopts it.
    let writer = tuf_fs::AtomicWrite::new()
        .existing(tuf_fs::Existing::Refuse)
        .durability(tuf_fs::Durability::Deferred);
    let staged = match writer.stage(&copy, bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = copy.parent().unwrap_or(dir);
            fs::create_dir_all(parent).map_err(Error::io("create directory", parent))?;
            writer.stage(&copy, bytes)
        }
        other => other,
    }
    .map_err(Error::io("write", &copy))?;
    match staged.persist() {
        Ok(()) => Ok(Some(copy)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            touch(&copy)?;
            Ok(None)
        }
        Err(e) => Err(Error::io("write", copy)(e)),
    }
}

/// Set an existing copy's mtime to now: it is named again, and `prune` keeps a retired
/// copy whose mtime is newer than its retirement.
fn touch(copy: &Path) -> Result<(), Error> {
    File::options()
        .write(true)
        .open(copy)
        .and_then(|existing| existing.set_modified(std::time::SystemTime::now()))
        .map_err(Error::io("touch", copy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths() {
        for ok in ["config.json", "1/a", "2/ab", "3/a/abc", "se/rd/serde"] {
            check_index_path(ok).unwrap();
        }
        for bad in ["README", "se/rd/Serde", "x/yz/serde", "../1/a", "1/a/", ""] {
            assert_eq!(
                check_index_path(bad).unwrap_err().code(),
                "not-index-path",
                "{bad}"
            );
        }
    }

    const CKSUM: &str = "d867001db0e2b6e0496f9fac96930e2d42233ecd3ca0413e0753d4c7695d289c";

    /// A valid index file of crate `name`.
    fn crate_file(name: &str) -> String {
        format!("{{\"name\":\"{name}\",\"vers\":\"1.0.0\",\"cksum\":\"{CKSUM}\"}}\n")
    }

    fn rules(max_bytes: u64) -> ReadRules<'static> {
        static LIMITS: std::sync::OnceLock<IndexLimits> = std::sync::OnceLock::new();
        ReadRules {
            max_bytes,
            index_limits: LIMITS.get_or_init(IndexLimits::default),
        }
    }

    fn hashed(result: &Hashed) -> &HashedFile {
        match result {
            Hashed::File(file) => file,
            other => panic!("not hashed: {other:?}"),
        }
    }

    #[test]
    fn walk_hash_and_copy() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index");
        let serde = crate_file("serde");
        for (path, content) in [
            ("config.json", "{\"dl\":\"x\"}"),
            ("1/a", &crate_file("a")),
            ("se/rd/serde", &serde),
            ("README.md", "x"),
            (".git/HEAD", "x"),
        ] {
            let full = index.join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        let (paths, skipped) = walk_index(&index).unwrap();
        let names: Vec<&str> = paths.iter().map(TargetPath::as_str).collect();
        assert_eq!(names, ["1/a", "config.json", "se/rd/serde"]);
        assert_eq!(skipped, ["README.md"]);

        let copies = dir.path().join("targets");
        let mut with_missing = paths.clone();
        with_missing.push(TargetPath::parse("2/ab").unwrap());
        let copy = Some(CopyTo {
            dir: &copies,
            link: false,
        });
        let results = hash_files(&index, &with_missing, copy, rules(1 << 20), 0).unwrap();
        assert!(matches!(results[3].1, Hashed::Missing));
        let serde_hashed = hashed(&results[2].1);
        assert_eq!(
            serde_hashed.entry.sha256,
            tuf_core::hash::sha256(serde.as_bytes())
        );
        let copy_path = copies.join(target_copy_name(
            &serde_hashed.entry.path,
            &serde_hashed.entry.sha256,
        ));
        assert_eq!(fs::read(&copy_path).unwrap(), serde.as_bytes());
        assert_eq!(
            serde_hashed.copy_written.as_deref(),
            Some(copy_path.as_path())
        );
        // A second hash finds the copy in place.
        let again = hash_files(&index, &paths, copy, rules(1 << 20), 0).unwrap();
        assert!(again.iter().all(|(_, h)| hashed(h).copy_written.is_none()));
        // Over the size limit.
        let err = hash_files(&index, &paths, None, rules(1), 0).unwrap_err();
        assert_eq!(err.code(), "target-too-large");
    }

    #[test]
    fn files_a_verifier_would_refuse_are_refused_before_any_copy() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index");
        for (path, content) in [
            ("config.json", "{\"dl\":7}".to_owned()),
            ("3/x/xyz", crate_file("serde")),
            ("se/rd/serde", format!("{}not json\n", crate_file("serde"))),
            ("1/a", crate_file("a")),
        ] {
            let full = index.join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        let (paths, _) = walk_index(&index).unwrap();
        let copies = dir.path().join("targets");
        let copy = Some(CopyTo {
            dir: &copies,
            link: false,
        });
        let results = hash_files(&index, &paths, copy, rules(1 << 20), 0).unwrap();
        let codes: Vec<(&str, &str)> = results
            .iter()
            .map(|(path, result)| {
                let code = match result {
                    Hashed::Refused(refusal) => refusal.code(),
                    Hashed::File(_) => "ok",
                    Hashed::Missing => "missing",
                };
                (path.as_str(), code)
            })
            .collect();
        assert_eq!(
            codes,
            [
                ("1/a", "ok"),
                ("3/x/xyz", "line-wrong-crate"),
                ("config.json", "config-bad-dl"),
                ("se/rd/serde", "line-not-json"),
            ]
        );
        // Only the accepted file was copied.
        let copied: Vec<_> = walk_index(&copies).unwrap().1;
        assert_eq!(copied.len(), 1, "{copied:?}");
    }

    #[test]
    fn symbolic_links_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index");
        let outside = dir.path().join("outside");
        fs::create_dir_all(index.join("3/a")).unwrap();
        fs::create_dir_all(index.join("se/rd")).unwrap();
        fs::create_dir_all(outside.join("dir")).unwrap();
        fs::write(outside.join("abd"), crate_file("abd")).unwrap();
        fs::write(outside.join("dir/bcd"), crate_file("bcd")).unwrap();
        fs::write(index.join("1"), b"").unwrap();
        std::os::unix::fs::symlink(outside.join("abd"), index.join("3/a/abd")).unwrap();
        std::os::unix::fs::symlink(outside.join("dir"), index.join("3/b")).unwrap();
        // A link inside the index is not followed either.
        fs::write(index.join("3/a/abc"), crate_file("abc")).unwrap();
        std::os::unix::fs::symlink("abc", index.join("3/a/abe")).unwrap();
        fs::create_dir_all(index.join("se/rd/serde")).unwrap();

        let opened = IndexDir::open(&index).unwrap();
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
        for (path, expected) in [
            ("3/a/abc", "file"),
            ("3/a/abd", "symlink"),
            ("3/a/abe", "symlink"),
            ("3/b/bcd", "symlink"),
            ("3/c/cde", "missing"),
            ("1/a", "missing"),
            ("se/rd/serde", "file"),
        ] {
            let path = TargetPath::parse(path).unwrap();
            let kind = |o: std::io::Result<Opened>| match o.unwrap() {
                Opened::File(_) => "file",
                Opened::Missing => "missing",
                Opened::Symlink => "symlink",
            };
            assert_eq!(kind(opened.open_file(&path)), expected, "{path}");
            assert_eq!(
                kind(opened.open_by_components(&path, flags)),
                expected,
                "by components: {path}"
            );
        }

        let (paths, skipped) = walk_index(&index).unwrap();
        let names: Vec<&str> = paths.iter().map(TargetPath::as_str).collect();
        assert_eq!(names, ["3/a/abc", "3/a/abd", "3/a/abe"]);
        assert_eq!(skipped, ["1", "3/b"]);
        let copies = dir.path().join("targets");
        for link in [false, true] {
            let copy = Some(CopyTo { dir: &copies, link });
            let mut asked = paths.clone();
            asked.push(TargetPath::parse("3/b/bcd").unwrap());
            asked.push(TargetPath::parse("se/rd/serde").unwrap());
            let results = hash_files(&index, &asked, copy, rules(1 << 20), 0).unwrap();
            let codes: Vec<&str> = results
                .iter()
                .map(|(_, r)| match r {
                    Hashed::Refused(refusal) => refusal.code(),
                    Hashed::File(_) => "ok",
                    Hashed::Missing => "missing",
                })
                .collect();
            assert_eq!(
                codes,
                ["ok", "symlink", "symlink", "symlink", "not-regular-file"],
                "link: {link}"
            );
        }
    }

    /// The file read, stat-ed before the read, for [`link_copy`].
    fn opened(path: &Path) -> (File, fs::Metadata, Vec<u8>) {
        let file = File::open(path).unwrap();
        let meta = file.metadata().unwrap();
        let bytes = fs::read(path).unwrap();
        (file, meta, bytes)
    }

    #[test]
    fn a_file_replaced_between_read_and_link_gets_a_written_copy() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("serde");
        fs::write(&index, b"old\n").unwrap();
        let (file, before, bytes) = opened(&index);
        // The registry renames a new file over it after the read, before the link.
        fs::write(dir.path().join("new"), b"new!\n").unwrap();
        fs::rename(dir.path().join("new"), &index).unwrap();
        let path = TargetPath::parse("se/rd/serde").unwrap();
        let sha = tuf_core::hash::sha256(&bytes);
        let copies = dir.path().join("targets");
        let (copy, kind) = link_copy(&copies, &path, &sha, &index, &file, &before, &bytes).unwrap();
        let copy = copy.unwrap();
        assert_eq!(kind, CopyKind::Written);
        assert_eq!(fs::read(&copy).unwrap(), b"old\n");
        assert_ne!(
            fs::metadata(&copy).unwrap().ino(),
            fs::metadata(&index).unwrap().ino()
        );
        // Rewritten in place after the read (same inode, new mtime and length): the same.
        fs::remove_file(&copy).unwrap();
        let (file, before, bytes) = opened(&index);
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&index, b"rewritten\n").unwrap();
        let sha = tuf_core::hash::sha256(&bytes);
        let (copy, kind) = link_copy(&copies, &path, &sha, &index, &file, &before, &bytes).unwrap();
        assert_eq!(kind, CopyKind::Written);
        assert_eq!(fs::read(copy.unwrap()).unwrap(), b"new!\n");
        // Untouched between read and link: a link.
        let (file, before, bytes) = opened(&index);
        let sha = tuf_core::hash::sha256(&bytes);
        let (copy, kind) = link_copy(&copies, &path, &sha, &index, &file, &before, &bytes).unwrap();
        assert_eq!(kind, CopyKind::Linked);
        assert_eq!(
            fs::metadata(copy.unwrap()).unwrap().ino(),
            fs::metadata(&index).unwrap().ino()
        );
    }

    #[test]
    fn linking_across_file_systems_is_refused_with_what_to_do() {
        use std::os::unix::fs::MetadataExt;
        // Needs two file systems: the temporary directory and /dev/shm (tmpfs) on Linux.
        let shm = Path::new("/dev/shm");
        let dir = tempfile::tempdir().unwrap();
        let other = match tempfile::tempdir_in(shm) {
            Ok(other)
                if fs::metadata(shm).unwrap().dev() != fs::metadata(dir.path()).unwrap().dev() =>
            {
                other
            }
            _ => {
                eprintln!(
                    "skipped: {} and /dev/shm are one file system here",
                    dir.path().display()
                );
                return;
            }
        };
        let index = dir.path().join("serde");
        fs::write(&index, b"s\n").unwrap();
        let (file, before, bytes) = opened(&index);
        let path = TargetPath::parse("se/rd/serde").unwrap();
        let sha = tuf_core::hash::sha256(&bytes);
        let err = link_copy(other.path(), &path, &sha, &index, &file, &before, &bytes).unwrap_err();
        assert_eq!(err.code(), "copy-link");
        assert!(err.to_string().contains("different file systems"), "{err}");
    }
}
