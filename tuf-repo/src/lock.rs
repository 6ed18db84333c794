//! The repository lock: one publisher at a time per repository directory (`flock(2)`,
//! released when the holder exits, however it exits).

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use crate::error::Error;

/// An exclusive lock on a repository, held until dropped (or the process dies).
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
}

impl RepoLock {
    /// Take the lock at `path`, waiting up to `wait` for another holder to finish.
    ///
    /// Waiting also rides out a lock that is only apparently held: a child process forked
    /// by another thread of this process briefly shares every open file (the lock file
    /// included) until it execs.
    pub fn acquire_within(path: &Path, wait: std::time::Duration) -> Result<Self, Error> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match Self::acquire(path) {
                Err(Error::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                other => return other,
            }
        }
    }

    /// Take the lock at `path` without waiting.
    pub fn acquire(path: &Path) -> Result<Self, Error> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(Error::io("create directory", dir))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(Error::io("open lock", path))?;
        // flock(2): released when the file is closed, including when the process dies.
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Self { _file: file }),
            Err(rustix::io::Errno::WOULDBLOCK) => Err(Error::Locked {
                path: path.to_owned(),
            }),
            Err(e) => Err(Error::io("lock", path)(e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let held = RepoLock::acquire(&path).unwrap();
        assert_eq!(RepoLock::acquire(&path).unwrap_err().code(), "locked");
        drop(held);
        RepoLock::acquire(&path).unwrap();
    }
}
