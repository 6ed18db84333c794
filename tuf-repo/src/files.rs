//! The repository's files on a local disk: atomic, ordered, durable writes, and reads of
//! files that may not exist yet.
//!
//! Every file is written to a temporary name in its own directory and renamed into place
//! (`tuf_fs`), so a reader sees the old file or the new one, never a part. Durability comes in
//! batches: the files of a batch are made durable together (one `syncfs(2)` for a large
//! batch, an `fsync` each for a small one, then their directories), and only then is the
//! next batch written. A publish is two batches: everything but `timestamp.json` (and a
//! new root), then the new root, if any, and `timestamp.json`. So after a crash at any
//! point the disk holds the old timestamp or a new one whose every file is complete.

use std::collections::HashSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use tuf_fs::{AtomicWrite, Durability, Existing};

use crate::error::Error;

/// Above this many files a batch is made durable with one `syncfs` instead of an `fsync`
/// per file (4096 fsyncs cost seconds; one syncfs costs one flush).
const SYNCFS_ABOVE: usize = 64;

/// Writes files in durable batches, counting steps so a test can stop it at any one.
#[derive(Debug, Default)]
pub struct BatchWriter {
    pending_files: Vec<PathBuf>,
    /// Directories to fsync. A hash set, probed before inserting: a full sign adopts one
    /// copy per index file (200k at crates.io scale), and ordered inserts of `PathBuf`s
    /// compare long paths component by component (~7% of a linked full sign's profile).
    pending_dirs: HashSet<PathBuf>,
    steps: usize,
    sync_time: std::time::Duration,
    fail_after: Option<usize>,
}

impl BatchWriter {
    /// A writer that fails with [`Error::Injected`] before step `fail_after + 1` (a test
    /// hook that simulates a crash between any two file system steps).
    pub fn new(fail_after: Option<usize>) -> Self {
        Self {
            fail_after,
            ..Self::default()
        }
    }

    /// File system steps done so far (each temp write and each rename is one).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Write `bytes` to `path` atomically (temp file + rename); made durable by the next
    /// [`BatchWriter::commit`]. Parent directories are created.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        self.write_as(path, bytes, Existing::Replace)
    }

    /// [`BatchWriter::write`] of a file that must not exist yet: refused (`AlreadyExists`)
    /// if it does, checked atomically at the rename, leaving the existing file untouched.
    pub fn write_new(&mut self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        self.write_as(path, bytes, Existing::Refuse)
    }

    fn write_as(&mut self, path: &Path, bytes: &[u8], existing: Existing) -> Result<(), Error> {
        let dir = path.parent().unwrap_or(Path::new("."));
        if !self.pending_dirs.contains(dir) {
            fs::create_dir_all(dir).map_err(Error::io("create directory", dir))?;
        }
        self.step()?;
        let staged = AtomicWrite::new()
            .durability(Durability::Deferred)
            .existing(existing)
            .stage(path, bytes)
            .map_err(Error::io("write a temporary file for", path))?;
        self.step()?;
        // An injected failure drops `staged`, which removes the temporary file.
        staged.persist().map_err(Error::io("rename", path))?;
        self.pending_files.push(path.to_owned());
        self.note_dir(dir);
        Ok(())
    }

    /// Have the next commit also make durable a file written elsewhere (a target copy
    /// written while hashing).
    pub fn adopt(&mut self, path: &Path) {
        if let Some(dir) = path.parent() {
            self.note_dir(dir);
        }
        self.pending_files.push(path.to_owned());
    }

    fn note_dir(&mut self, dir: &Path) {
        if !self.pending_dirs.contains(dir) {
            self.pending_dirs.insert(dir.to_owned());
        }
    }

    /// Time spent waiting for durability (fsync, syncfs) so far.
    pub fn sync_time(&self) -> std::time::Duration {
        self.sync_time
    }

    /// Make every file written since the last commit durable, with its directory entry.
    pub fn commit(&mut self) -> Result<(), Error> {
        let start = std::time::Instant::now();
        let result = self.commit_inner();
        self.sync_time += start.elapsed();
        result
    }

    fn commit_inner(&mut self) -> Result<(), Error> {
        if self.pending_files.is_empty() {
            return Ok(());
        }
        self.step()?;
        let files = std::mem::take(&mut self.pending_files);
        let dirs = std::mem::take(&mut self.pending_dirs);
        if files.len() > SYNCFS_ABOVE && syncfs(&files[0]).is_ok() {
            return Ok(());
        }
        // Issued together, the fsyncs of a batch share journal commits instead of waiting
        // for one each.
        use rayon::prelude::*;
        files.par_iter().try_for_each(|file| {
            File::open(file)
                .and_then(|f| f.sync_all())
                .map_err(Error::io("fsync", file))
        })?;
        dirs.par_iter()
            .try_for_each(|dir| tuf_fs::sync_dir(dir).map_err(Error::io("fsync directory", dir)))?;
        Ok(())
    }

    fn step(&mut self) -> Result<(), Error> {
        if self.fail_after.is_some_and(|n| self.steps >= n) {
            return Err(Error::Injected { writes: self.steps });
        }
        self.steps += 1;
        Ok(())
    }
}

/// Write `bytes` to `path` atomically and durably on its own (`tuf_fs`: temp file,
/// fsync, rename, fsync of the directory). For state files outside a publish batch.
/// Parent directories are created.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    AtomicWrite::new()
        .create_parents()
        .write(path, bytes)
        .map_err(Error::io("write", path))
}

#[cfg(target_os = "linux")]
fn syncfs(any_file: &Path) -> std::io::Result<()> {
    let file = File::open(any_file)?;
    rustix::fs::syncfs(&file).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn syncfs(_any_file: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("syncfs is Linux only"))
}

/// Read a whole file, `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_writes_are_atomic_and_injection_stops_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = BatchWriter::new(None);
        writer
            .write(&dir.path().join("a/b/c.json"), b"one")
            .unwrap();
        writer.commit().unwrap();
        assert_eq!(fs::read(dir.path().join("a/b/c.json")).unwrap(), b"one");
        assert_eq!(fs::read_dir(dir.path().join("a/b")).unwrap().count(), 1);

        // Fail at the rename: the old content stays, the temp file is removed.
        let mut writer = BatchWriter::new(Some(1));
        let err = writer
            .write(&dir.path().join("a/b/c.json"), b"two")
            .unwrap_err();
        assert_eq!(err.code(), "injected");
        assert_eq!(fs::read(dir.path().join("a/b/c.json")).unwrap(), b"one");
        assert_eq!(fs::read_dir(dir.path().join("a/b")).unwrap().count(), 1);
        let mut writer = BatchWriter::new(None);
        writer
            .write(&dir.path().join("a/b/c.json"), b"three")
            .unwrap();
        writer.commit().unwrap();
        assert_eq!(fs::read(dir.path().join("a/b/c.json")).unwrap(), b"three");
        assert_eq!(fs::read_dir(dir.path().join("a/b")).unwrap().count(), 1);
    }

    #[test]
    fn large_batches_commit_with_syncfs() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = BatchWriter::new(None);
        for i in 0..100 {
            writer
                .write(&dir.path().join(format!("{i}.json")), b"x")
                .unwrap();
        }
        writer.commit().unwrap();
        assert_eq!(writer.steps(), 201);
    }
}
