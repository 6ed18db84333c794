//! The operator's files for the ceremony commands: written atomically through `tuf_fs`
//! (a temporary file in the same directory, given its mode before a byte is written,
//! fsynced, renamed over the target, the directory fsynced), so a reader or a crash sees
//! the old file or the new one, never half of one; read and removed with the path in
//! the error.

use std::fs;
use std::path::Path;

use anyhow::Context as _;
use tuf_fs::{AtomicWrite, Mode};

pub use tuf_fs::Existing;

/// Who may read the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Mode 0600: private keys. The temporary file is 0600 before the key is written to
    /// it, so the key is never readable by others, not even for an instant.
    OwnerOnly,
    /// Mode 0644: metadata, public keys, policy.
    Public,
}

/// Write `bytes` to `path` atomically with the given access; with [`Existing::Refuse`],
/// fail if `path` exists (checked atomically at the rename).
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    access: Access,
    existing: Existing,
) -> anyhow::Result<()> {
    let mode = match access {
        Access::OwnerOnly => Mode::OWNER_ONLY,
        Access::Public => Mode::PUBLIC,
    };
    AtomicWrite::new()
        .mode(mode)
        .existing(existing)
        .write(path, bytes)
        .with_context(|| match existing {
            Existing::Refuse if path.exists() => format!(
                "{} already exists; choose another name or move the old file away",
                path.display()
            ),
            _ => format!("writing {} atomically", path.display()),
        })
}

/// Create `dir` (and parents) if needed.
pub fn create_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))
}

/// Remove `path`, then fsync its directory.
pub fn remove(path: &Path) -> anyhow::Result<()> {
    fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    let dir = tuf_fs::parent_dir(path);
    tuf_fs::sync_dir(dir).with_context(|| format!("syncing directory {}", dir.display()))
}

/// Read a whole file, naming it in the error.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
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
