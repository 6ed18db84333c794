//! Private key files for tests, benchmarks and a single-operator registry: PKCS#8 DER,
//! mode 0600.
//!
//! The key ceremony issue owns the real format (passphrase encryption, public key JSON);
//! this is the minimum to create and run a repository end to end from keys on disk.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use tuf_core::crypto::{signer_from_pkcs8_der, Ed25519Signer, Signer};

use crate::error::Error;

/// Generate an ed25519 key and write it to `path` (which must not exist), mode 0600.
pub fn generate_ed25519(path: &Path) -> Result<Ed25519Signer, Error> {
    let key_err = |reason: String| Error::Key {
        path: path.to_owned(),
        reason,
    };
    let signer = Ed25519Signer::generate().map_err(|e| key_err(e.to_string()))?;
    let der = signer.to_pkcs8_der().map_err(|e| key_err(e.to_string()))?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(Error::io("create directory", dir))?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(Error::io("create", path))?;
    file.write_all(&der).map_err(Error::io("write", path))?;
    file.sync_all().map_err(Error::io("fsync", path))?;
    Ok(signer)
}

/// Load a PKCS#8 DER private key (ed25519 or ECDSA P-256).
pub fn load(path: &Path) -> Result<Box<dyn Signer>, Error> {
    let der = zeroize::Zeroizing::new(fs::read(path).map_err(Error::io("read", path))?);
    signer_from_pkcs8_der(&der).map_err(|e| Error::Key {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The keys of a single-operator repository in one directory: `root.pk8`,
/// `targets.pk8` (offline roles) and `online.pk8` (bins, snapshot, timestamp).
#[derive(Debug, Clone)]
pub struct KeyDir {
    /// Root key.
    pub root: std::sync::Arc<dyn Signer>,
    /// Targets key.
    pub targets: std::sync::Arc<dyn Signer>,
    /// Online key.
    pub online: std::sync::Arc<dyn Signer>,
}

impl KeyDir {
    /// Load the three keys from `dir`, generating any that is missing.
    pub fn open_or_generate(dir: &Path) -> Result<Self, Error> {
        let one = |name: &str| -> Result<std::sync::Arc<dyn Signer>, Error> {
            let path = dir.join(name);
            if !path.exists() {
                generate_ed25519(&path)?;
            }
            Ok(std::sync::Arc::from(load(&path)?))
        };
        Ok(Self {
            root: one("root.pk8")?,
            targets: one("targets.pk8")?,
            online: one("online.pk8")?,
        })
    }

    /// Load only the online key, `dir/online.pk8`: all a publish or refresh signs with.
    /// The offline keys need not be in `dir` (and should not be on a publishing server).
    pub fn open_online(dir: &Path) -> Result<std::sync::Arc<dyn Signer>, Error> {
        load(&dir.join("online.pk8")).map(std::sync::Arc::from)
    }

    /// Load the three keys from `dir`.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let one = |name: &str| load(&dir.join(name)).map(std::sync::Arc::from);
        Ok(Self {
            root: one("root.pk8")?,
            targets: one("targets.pk8")?,
            online: one("online.pk8")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_then_load_signs_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/online.pk8");
        let generated = generate_ed25519(&path).unwrap();
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.key_id(), generated.key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(generate_ed25519(&path).unwrap_err().code(), "io");
        fs::write(dir.path().join("bad"), b"nope").unwrap();
        assert_eq!(
            load(&dir.path().join("bad")).unwrap_err().code(),
            "bad-key-file"
        );
    }
}
