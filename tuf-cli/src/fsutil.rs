//! Atomic file writes: a temporary file in the same directory, written, fsynced, renamed
//! over the target, and the directory fsynced. A reader (or a crash) sees the old file or
//! the new one, never half of one.

use std::fs::{self, File, Permissions};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use anyhow::Context as _;

/// Who may read the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Mode 0600: private keys. The temporary file is created 0600, so the key is never
    /// readable by others, not even for an instant.
    OwnerOnly,
    /// Mode 0644: metadata, public keys, policy.
    Public,
}

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it atomically.
    Replace,
    /// Refuse: the write fails if the path exists (checked atomically at the rename).
    Refuse,
}

/// Write `bytes` to `path` atomically with the given access.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    access: Access,
    existing: Existing,
) -> anyhow::Result<()> {
    let dir = parent_dir(path);
    let mode = match access {
        Access::OwnerOnly => 0o600,
        Access::Public => 0o644,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tuf-tmp-")
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().set_permissions(Permissions::from_mode(mode)))
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing a temporary file for {}", path.display()))?;
    match existing {
        Existing::Replace => tmp.persist(path).map(|_| ()).map_err(|e| e.error),
        Existing::Refuse => tmp.persist_noclobber(path).map(|_| ()).map_err(|e| e.error),
    }
    .with_context(|| match existing {
        Existing::Refuse if path.exists() => format!(
            "{} already exists; choose another name or move the old file away",
            path.display()
        ),
        _ => format!("moving the new file into place at {}", path.display()),
    })?;
    sync_dir(dir)
}

/// Create `dir` (and parents) if needed.
pub fn create_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))
}

/// Remove `path`, then fsync its directory.
pub fn remove(path: &Path) -> anyhow::Result<()> {
    fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    sync_dir(parent_dir(path))
}

/// Read a whole file, naming it in the error.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;

    #[test]
    fn writes_with_mode_and_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.pem");
        write_atomic(&key, b"secret", Access::OwnerOnly, Existing::Refuse).unwrap();
        assert_eq!(fs::metadata(&key).unwrap().mode() & 0o777, 0o600);
        let err = write_atomic(&key, b"other", Access::OwnerOnly, Existing::Refuse).unwrap_err();
        assert!(format!("{err:#}").contains("already exists"), "{err:#}");
        assert_eq!(fs::read(&key).unwrap(), b"secret");
        let public = dir.path().join("p.json");
        write_atomic(&public, b"1", Access::Public, Existing::Replace).unwrap();
        write_atomic(&public, b"2", Access::Public, Existing::Replace).unwrap();
        assert_eq!(fs::read(&public).unwrap(), b"2");
        assert_eq!(fs::metadata(&public).unwrap().mode() & 0o777, 0o644);
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2);
    }
}
