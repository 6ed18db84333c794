//! Atomic file writes for the I/O side of the workspace (`tuf-client`, `tuf`, `cargo-tuf`,
//! the examples); `tuf-core` is sans-IO and does not use this crate.
//!
//! A file is written under a fresh temporary name in its own directory, then renamed over
//! its path, so a reader (or a crash) sees the old file or the new one, never a part.
//! [`AtomicWrite`] says how:
//!
//! * **mode**: the file's permission bits ([`Mode`]). The temporary file is created
//!   `0600` and given its final mode before a byte is written, so a private key is never
//!   readable by others, not even for an instant;
//! * **existing file**: replaced, or refused ([`Existing::Refuse`], checked atomically
//!   at the rename, so two writers cannot both create the file);
//! * **durability**: [`Durability::Now`] fsyncs the file before the rename and the
//!   directory after it; [`Durability::Deferred`] leaves both to the caller (a batch
//!   writer that makes many files durable at once); [`Durability::Never`] is for a cache
//!   whose every read checks it again, so a crash costs a download, never a check
//!   (issue #14: durability only where it protects something);
//! * **parent directories**: created when missing, if asked ([`AtomicWrite::create_parents`]).
//!
//! [`write_atomic`] (durable) and [`write_replaceable`] (never synced) are the two common
//! cases. A file name longer than [`MAX_FILE_NAME`] bytes is refused before anything is
//! written, with an error that says so rather than the rename's bare `ENAMETOOLONG`.
//!
//! Each write has its own temporary name (`.tuf-XXXXXX.tmp`, never ending in `.json`,
//! starting with `.` so index and metadata listings skip it), so concurrent writers of
//! one file do not collide; the last rename wins. A failed write removes its temporary
//! file; only a crash can leave one behind. Unix only (file modes).
//!
//! Errors are plain [`std::io::Error`]s: each caller maps them into its own error type,
//! naming the path.
//!
//! [`stdout`]: the binaries' requested output ([`outln!`], [`out!`]), for which a reader
//! that went away (`| head -1`) is not a crash.

#![forbid(unsafe_code)]

pub mod stdout;

use std::fs::{File, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// How every temporary file name starts (`.`: listings of the index and of metadata skip
/// it).
pub const TEMP_PREFIX: &str = ".tuf-";
/// How every temporary file name ends (never `.json`, so nothing takes it for metadata).
pub const TEMP_SUFFIX: &str = ".tmp";

/// The longest file name written, in bytes: most file systems allow 255 (ext4, XFS, btrfs,
/// APFS). A longer name is refused with [`io::ErrorKind::InvalidInput`] before a byte is
/// written.
pub const MAX_FILE_NAME: usize = 255;

/// Whether `name` is a temporary file name of this crate (`.tuf-XXXXXX.tmp`): only a crash
/// leaves one behind, so one older than any write takes is safe to delete.
pub fn is_temp_name(name: &str) -> bool {
    name.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
        && name.starts_with(TEMP_PREFIX)
        && name.ends_with(TEMP_SUFFIX)
}

/// How [`AtomicWrite`] writes: mode, what to do with an existing file, durability, and
/// whether missing parent directories are created. The default is [`Mode::PUBLIC`],
/// [`Existing::Replace`], [`Durability::Now`], parent directory required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtomicWrite {
    mode: Mode,
    existing: Existing,
    durability: Durability,
    create_parents: bool,
}

/// The permission bits a written file gets (not reduced by the umask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode(u32);

impl Mode {
    /// `0644`: metadata, public keys, index files.
    pub const PUBLIC: Self = Self(0o644);
    /// `0600`: private keys.
    pub const OWNER_ONLY: Self = Self(0o600);

    /// The permission bits `bits & 0o777`.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits & 0o777)
    }

    /// The permission bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
}

/// What a write does when its path already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it atomically.
    Replace,
    /// Refuse with [`io::ErrorKind::AlreadyExists`], leaving it untouched (checked
    /// atomically at the rename).
    Refuse,
}

/// When a write is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Before the write returns: fsync the file, rename, fsync the directory.
    Now,
    /// Later, by the caller (which fsyncs or syncfs-es the file and its directory). The
    /// write is atomic for readers but may be lost, or not yet renamed, after a crash.
    Deferred,
    /// Not at all: for a file checked again every time it is read (a cached delegated
    /// role, index file or target, verified against trusted metadata before each use).
    /// After a crash it may be old, empty or cut short; the reader's check refuses it and
    /// it is fetched again. Never for a rollback baseline (trusted root, timestamp,
    /// snapshot: TUF §5.3.8, §5.4.3, §5.5.5), which a crash must not take back silently.
    Never,
}

/// A file written under a temporary name beside its path, not yet in place. Dropping it
/// removes the temporary file.
#[derive(Debug)]
pub struct Staged {
    temp: NamedTempFile,
    path: PathBuf,
    existing: Existing,
    durability: Durability,
}

impl Default for AtomicWrite {
    fn default() -> Self {
        Self::new()
    }
}

impl AtomicWrite {
    /// Public mode, replace an existing file, durable before returning.
    pub const fn new() -> Self {
        Self {
            mode: Mode::PUBLIC,
            existing: Existing::Replace,
            durability: Durability::Now,
            create_parents: false,
        }
    }

    /// Give the file `mode`.
    #[must_use]
    pub const fn mode(self, mode: Mode) -> Self {
        Self { mode, ..self }
    }

    /// Do `existing` with a file already at the path.
    #[must_use]
    pub const fn existing(self, existing: Existing) -> Self {
        Self { existing, ..self }
    }

    /// Make the write durable as `durability` says.
    #[must_use]
    pub const fn durability(self, durability: Durability) -> Self {
        Self { durability, ..self }
    }

    /// Create the parent directory (and its parents) when missing, instead of failing
    /// with [`io::ErrorKind::NotFound`]. Created directories are not fsynced: a caller
    /// that needs them durable syncs them itself.
    #[must_use]
    pub const fn create_parents(self) -> Self {
        Self {
            create_parents: true,
            ..self
        }
    }

    /// Write `bytes` to `path` atomically. The parent directory must exist.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.stage(path, bytes)?.persist()
    }

    /// Write `bytes` under a temporary name beside `path` (with its mode, fsynced when
    /// durable now); [`Staged::persist`] puts it in place. For a caller that does
    /// something between the two steps.
    pub fn stage(&self, path: &Path, bytes: &[u8]) -> io::Result<Staged> {
        let name_len = path.file_name().map_or(0, |n| n.len());
        if name_len > MAX_FILE_NAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("file name is {name_len} bytes, more than {MAX_FILE_NAME}"),
            ));
        }
        if self.create_parents {
            std::fs::create_dir_all(parent_dir(path))?;
        }
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .permissions(Permissions::from_mode(Mode::OWNER_ONLY.bits()))
            .tempfile_in(parent_dir(path))?;
        // The mode first, then the bytes: a secret is never in a file others may read.
        temp.as_file()
            .set_permissions(Permissions::from_mode(self.mode.bits()))?;
        let mut file = temp.as_file();
        file.write_all(bytes)?;
        if self.durability == Durability::Now {
            file.sync_all()?;
        }
        Ok(Staged {
            temp,
            path: path.to_owned(),
            existing: self.existing,
            durability: self.durability,
        })
    }
}

impl Staged {
    /// The path the file will be renamed to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rename the file into place (refusing an existing file when so configured), then,
    /// when durable now, fsync the directory. On error the temporary file is removed.
    pub fn persist(self) -> io::Result<()> {
        let persisted = match self.existing {
            Existing::Replace => self.temp.persist(&self.path),
            Existing::Refuse => self.temp.persist_noclobber(&self.path),
        };
        // The error gives the temporary file back; dropping it removes it.
        persisted.map_err(|e| e.error)?;
        if self.durability == Durability::Now {
            sync_dir(parent_dir(&self.path))?;
        }
        Ok(())
    }
}

/// Write `bytes` to `path` atomically and durably, mode `0644`, replacing a file there.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    AtomicWrite::new().write(path, bytes)
}

/// Write `bytes` to `path` atomically but never fsynced ([`Durability::Never`]), mode
/// `0644`, replacing a file there: for a cache whose every read checks it again, so that
/// it is fetched again after a crash.
pub fn write_replaceable(path: &Path, bytes: &[u8]) -> io::Result<()> {
    AtomicWrite::new()
        .durability(Durability::Never)
        .write(path, bytes)
}

/// fsync directory `dir`, so that renames into it are durable. A file system that cannot
/// sync a directory (`EINVAL`) is not an error: there is nothing more to be done there.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir)?.sync_all() {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// The directory `path` is in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::fs;
    use std::os::unix::fs::MetadataExt as _;

    use super::*;

    #[test]
    fn temp_names_are_recognised_and_nothing_else() {
        for name in [".tuf-aB3xZ9.tmp", ".tuf-123456789.tmp"] {
            assert!(is_temp_name(name), "{name}");
        }
        for name in [
            ".tuf-.tmp",
            "tuf-aB3xZ9.tmp",
            ".tuf-aB3xZ9.json",
            ".tuf-aB3xZ9.tmp.json",
            "1.root.json",
            ".tmp",
        ] {
            assert!(!is_temp_name(name), "{name}");
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["a.json"]);
        let deferred = AtomicWrite::new().durability(Durability::Deferred);
        deferred.write(&path, b"three").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"three");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn mode_is_honoured_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        AtomicWrite::new()
            .mode(Mode::OWNER_ONLY)
            .write(&key, b"secret")
            .unwrap();
        assert_eq!(fs::metadata(&key).unwrap().mode() & 0o777, 0o600);
        let public = dir.path().join("key.pub");
        write_atomic(&public, b"public").unwrap();
        assert_eq!(fs::metadata(&public).unwrap().mode() & 0o777, 0o644);
        // Replacing a public file with a private one gives the new mode.
        AtomicWrite::new()
            .mode(Mode::OWNER_ONLY)
            .write(&public, b"now private")
            .unwrap();
        assert_eq!(fs::metadata(&public).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn staged_file_has_its_mode_before_its_bytes_are_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let staged = AtomicWrite::new()
            .mode(Mode::OWNER_ONLY)
            .stage(&path, b"secret")
            .unwrap();
        assert!(!path.exists());
        let temp = names(dir.path());
        assert_eq!(temp.len(), 1);
        assert!(is_temp_name(&temp[0]), "{temp:?}");
        let temp_path = dir.path().join(&temp[0]);
        assert_eq!(fs::metadata(&temp_path).unwrap().mode() & 0o777, 0o600);
        staged.persist().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        assert_eq!(names(dir.path()), ["key.pem"]);
    }

    #[test]
    fn dropping_a_staged_file_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"old").unwrap();
        let staged = AtomicWrite::new().stage(&path, b"new").unwrap();
        assert_eq!(names(dir.path()).len(), 2);
        drop(staged);
        assert_eq!(names(dir.path()), ["a.json"]);
        assert_eq!(fs::read(&path).unwrap(), b"old");
    }

    #[test]
    fn no_clobber_refuses_and_leaves_both_files_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let refuse = AtomicWrite::new()
            .mode(Mode::OWNER_ONLY)
            .existing(Existing::Refuse);
        refuse.write(&path, b"first").unwrap();
        let err = refuse.write(&path, b"second").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(names(dir.path()), ["key.pem"]);
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a directory fails after the temporary file was written.
        let path = dir.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"x").unwrap();
        assert!(write_atomic(&path, b"bytes").is_err());
        assert_eq!(names(dir.path()), ["taken"]);
        // A missing directory fails before anything is written.
        let missing = dir.path().join("missing/a.json");
        let err = write_atomic(&missing, b"bytes").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(names(dir.path()), ["taken"]);
    }

    #[test]
    fn concurrent_writers_of_one_file_all_succeed_and_one_wins_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bin.json");
        std::thread::scope(|scope| {
            for i in 0..16u8 {
                let path = &path;
                scope.spawn(move || write_atomic(path, &[i; 4096]).unwrap());
            }
        });
        let bytes = fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|b| *b == bytes[0]));
        assert_eq!(names(dir.path()), ["bin.json"]);
    }

    #[test]
    fn concurrent_no_clobber_writers_exactly_one_creates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let refuse = AtomicWrite::new().existing(Existing::Refuse);
        let created = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let path = &path;
                    scope.spawn(move || refuse.write(path, &[i; 64]))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(Result::is_ok)
                .count()
        });
        assert_eq!(created, 1);
        assert_eq!(names(dir.path()), ["key.pem"]);
    }

    #[test]
    fn replaceable_writes_replace_whole_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("index")).unwrap();
        let path = dir.path().join("index/se%2Frd%2Fserde");
        write_replaceable(&path, b"one").unwrap();
        write_replaceable(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(&dir.path().join("index")), ["se%2Frd%2Fserde"]);
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o644);
    }

    #[test]
    fn without_create_parents_a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/a.json");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!dir.path().join("missing").exists());
        AtomicWrite::new()
            .create_parents()
            .write(&path, b"x")
            .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn names_longer_than_the_limit_are_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let longest = dir.path().join("a".repeat(MAX_FILE_NAME));
        write_atomic(&longest, b"fits").unwrap();
        let too_long = dir.path().join("a".repeat(MAX_FILE_NAME + 1));
        for durability in [Durability::Now, Durability::Deferred, Durability::Never] {
            let err = AtomicWrite::new()
                .durability(durability)
                .write(&too_long, b"x")
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{durability:?}");
            assert!(err.to_string().contains("more than 255"), "{err}");
        }
        assert_eq!(names(dir.path()), ["a".repeat(MAX_FILE_NAME)]);
    }

    #[test]
    fn bare_file_names_are_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("a.json")), Path::new("."));
        assert_eq!(parent_dir(Path::new("d/a.json")), Path::new("d"));
    }
}
