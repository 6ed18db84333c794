//! A `.crate` file: a gzipped tar of `{name}-{version}/...`, read into memory with caps.

use std::collections::BTreeMap;
use std::io::Read as _;

use crate::error::ArchiveError;
use crate::manifest::Manifest;
use crate::Limits;

/// The files of a `.crate`, by path relative to the package root (`src/lib.rs`), with
/// its normalised manifest parsed.
#[derive(Debug, Clone)]
pub struct CrateArchive {
    /// The top directory every entry is under (`name-version`).
    pub prefix: String,
    /// File contents by path relative to the package root.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The normalised `Cargo.toml` cargo wrote into the archive.
    pub manifest: Manifest,
}

impl CrateArchive {
    /// Unpack `bytes` (the `.crate` file) in memory.
    ///
    /// Refuses: more than [`Limits::max_unpacked_bytes`] unpacked, more than
    /// [`Limits::max_files`] files, an entry outside one top directory, `..` or an
    /// absolute path, an entry that is neither a file nor a directory (cargo writes only
    /// those), a path that is not UTF-8, and an archive without a `Cargo.toml` whose
    /// package name and version match the top directory.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Self, ArchiveError> {
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(limits.max_unpacked_bytes.saturating_add(1))
            .read_to_end(&mut unpacked)
            .map_err(|e| ArchiveError::Gzip(e.to_string()))?;
        if u64::try_from(unpacked.len()).unwrap_or(u64::MAX) > limits.max_unpacked_bytes {
            return Err(ArchiveError::TooLarge {
                limit: limits.max_unpacked_bytes,
            });
        }
        let mut archive = tar::Archive::new(unpacked.as_slice());
        let mut prefix: Option<String> = None;
        let mut files = BTreeMap::new();
        let entries = archive
            .entries()
            .map_err(|e| ArchiveError::Tar(e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| ArchiveError::Tar(e.to_string()))?;
            let raw_path = entry.path_bytes().into_owned();
            let path = String::from_utf8(raw_path).map_err(|e| {
                ArchiveError::NonUtf8Path(String::from_utf8_lossy(e.as_bytes()).into_owned())
            })?;
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                continue;
            }
            if !(kind.is_file() || kind == tar::EntryType::Continuous) {
                return Err(ArchiveError::UnsupportedEntry { path });
            }
            let (top, rest) =
                split_top(&path).ok_or_else(|| ArchiveError::BadPath { path: path.clone() })?;
            match &prefix {
                None => prefix = Some(top.to_owned()),
                Some(p) if p == top => {}
                Some(p) => {
                    return Err(ArchiveError::SeveralTopDirectories {
                        first: p.clone(),
                        other: top.to_owned(),
                    })
                }
            }
            if files.len() >= limits.max_files {
                return Err(ArchiveError::TooManyFiles {
                    limit: limits.max_files,
                });
            }
            let mut content = Vec::new();
            entry
                .read_to_end(&mut content)
                .map_err(|e| ArchiveError::Tar(e.to_string()))?;
            if files.insert(rest.to_owned(), content).is_some() {
                return Err(ArchiveError::DuplicatePath {
                    path: rest.to_owned(),
                });
            }
        }
        let prefix = prefix.ok_or(ArchiveError::Empty)?;
        let manifest_bytes = files.get("Cargo.toml").ok_or(ArchiveError::NoManifest)?;
        let manifest = Manifest::parse(manifest_bytes).map_err(|e| ArchiveError::BadManifest {
            file: "Cargo.toml",
            detail: e.to_string(),
        })?;
        let expected = format!(
            "{}-{}",
            manifest.package_name().unwrap_or_default(),
            manifest.package_version().unwrap_or_default()
        );
        if expected != prefix {
            return Err(ArchiveError::PrefixMismatch {
                prefix,
                manifest: expected,
            });
        }
        Ok(Self {
            prefix,
            files,
            manifest,
        })
    }

    /// The crate's name, from its normalised manifest.
    pub fn name(&self) -> &str {
        self.manifest.package_name().unwrap_or_default()
    }

    /// The crate's version, from its normalised manifest.
    pub fn version(&self) -> &str {
        self.manifest.package_version().unwrap_or_default()
    }

    /// The `repository` URL of the crate's manifest, if any.
    pub fn repository_url(&self) -> Option<&str> {
        self.manifest.package_str("repository")
    }
}

/// `top/rest` with `rest` a relative path without `.`, `..` or empty segments.
fn split_top(path: &str) -> Option<(&str, &str)> {
    let (top, rest) = path.split_once('/')?;
    let clean = |segment: &str| !segment.is_empty() && segment != "." && segment != "..";
    if !clean(top) || rest.split('/').any(|s| !clean(s)) || path.contains('\\') {
        return None;
    }
    Some((top, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_under_one_clean_top_directory() {
        assert_eq!(
            split_top("a-1.0.0/src/lib.rs"),
            Some(("a-1.0.0", "src/lib.rs"))
        );
        assert_eq!(split_top("a-1.0.0/../x"), None);
        assert_eq!(split_top("/etc/passwd"), None);
        assert_eq!(split_top("a-1.0.0"), None);
        assert_eq!(split_top("a-1.0.0/src//lib.rs"), None);
    }
}
