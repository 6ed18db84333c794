//! The index a remote publish signs: a local directory or keys on a [`Store`], listed
//! with a version per file (an ETag, or a local mtime) and read, checked and hashed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
use tuf_core::index::check_index_target;
use tuf_core::metadata::TargetPath;
use tuf_core::repo::TargetEntry;

use crate::error::Error;
use crate::hashing::{self, Hashed, ReadRules, Refusal};
use crate::store::Store;

/// Where the index is.
#[derive(Debug, Clone)]
pub enum Index {
    /// A directory on this machine.
    Local(PathBuf),
    /// Keys under a store's prefix: the sparse paths and `config.json`.
    Store(Arc<Store>),
}

/// One index file found by a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub(crate) size: u64,
    /// What changes whenever the file's bytes may have: the ETag on a store, the mtime
    /// (ns) of a local file; `None` when it cannot be trusted (a local mtime too recent
    /// to be sure of, see [`crate::manifest::mtime_for_manifest`]).
    pub(crate) version: Option<String>,
}

/// One index file as read now.
#[derive(Debug, Clone)]
pub(crate) enum Read {
    /// Nothing there (a deleted crate).
    Missing,
    /// Not signable (see [`Refusal`]).
    Refused(Refusal),
    /// Checked and hashed: its entry, the exact bytes hashed, and their version (the
    /// ETag of the very GET that returned them, never a listing's). Shared, not owned:
    /// a scan keeps each read for a retry and for its copy's upload, and at 200k crates
    /// every copy of the bytes is another 1.4 GB held until the upload.
    File {
        entry: TargetEntry,
        bytes: Bytes,
        version: Option<String>,
    },
}

impl Index {
    /// Where the index is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Local(dir) => dir.display().to_string(),
            Self::Store(store) => store.url().to_string(),
        }
    }

    /// The store holding the index, if it is on one.
    pub fn store(&self) -> Option<&Arc<Store>> {
        match self {
            Self::Store(store) => Some(store),
            Self::Local(_) => None,
        }
    }

    /// Every index file with its size and version, and the names that are not index
    /// files (skipped).
    pub(crate) fn list(
        &self,
        now_ns: i64,
    ) -> Result<(HashMap<TargetPath, Listed>, Vec<String>), Error> {
        match self {
            Self::Local(dir) => {
                let (paths, skipped) = hashing::walk_index(dir)?;
                let listed = paths
                    .into_par_iter()
                    .filter_map(|path| {
                        // The link itself: a symbolic link is listed, then refused when read.
                        let meta = std::fs::symlink_metadata(dir.join(path.as_str())).ok()?;
                        let mtime = crate::manifest::mtime_for_manifest(&meta, now_ns);
                        let listed = Listed {
                            size: meta.len(),
                            version: (mtime != 0).then(|| mtime.to_string()),
                        };
                        Some((path, listed))
                    })
                    .collect();
                Ok((listed, skipped))
            }
            Self::Store(store) => {
                let mut listed = HashMap::new();
                let mut skipped = Vec::new();
                for meta in store.list("")? {
                    match hashing::check_index_path(&meta.key) {
                        Ok(path) => {
                            listed.insert(
                                path,
                                Listed {
                                    size: meta.size,
                                    version: meta.etag,
                                },
                            );
                        }
                        // Dot-files (`.git`, editors' temporaries) are not the index's.
                        Err(_) if meta.key.split('/').any(|s| s.starts_with('.')) => {}
                        Err(_) => skipped.push(meta.key),
                    }
                }
                skipped.sort_unstable();
                Ok((listed, skipped))
            }
        }
    }

    /// Read, check (as the verifier will) and hash `paths`, concurrently.
    pub(crate) fn read(
        &self,
        paths: &[TargetPath],
        rules: ReadRules<'_>,
        now_ns: i64,
    ) -> Result<Vec<(TargetPath, Read)>, Error> {
        match self {
            Self::Local(dir) => Ok(hashing::read_files(dir, paths, rules, now_ns)?
                .into_iter()
                .map(|(path, hashed, bytes)| {
                    let read = match (hashed, bytes) {
                        (Hashed::File(file), Some(bytes)) => Read::File {
                            version: (file.manifest.mtime_ns != 0)
                                .then(|| file.manifest.mtime_ns.to_string()),
                            entry: file.entry,
                            bytes: Bytes::from(bytes),
                        },
                        (Hashed::Refused(refusal), _) => Read::Refused(refusal),
                        _ => Read::Missing,
                    };
                    (path, read)
                })
                .collect()),
            Self::Store(store) => {
                let keys: Vec<String> = paths.iter().map(|p| p.as_str().to_owned()).collect();
                let objects = store.get_many(&keys)?;
                paths
                    .par_iter()
                    .zip(objects.into_par_iter())
                    .map(|(path, object)| {
                        let Some(object) = object else {
                            return Ok((path.clone(), Read::Missing));
                        };
                        Ok((path.clone(), check_and_hash(path, object, rules)?))
                    })
                    .collect()
            }
        }
    }
}

/// The checks [`crate::hashing`] makes of a local file, on an object's bytes.
fn check_and_hash(
    path: &TargetPath,
    object: crate::store::Object,
    rules: ReadRules<'_>,
) -> Result<Read, Error> {
    let length = u64::try_from(object.bytes.len()).unwrap_or(u64::MAX);
    if length > rules.max_bytes {
        return Err(Error::TargetTooLarge {
            path: Path::new(path.as_str()).to_owned(),
            found: length,
            limit: rules.max_bytes,
        });
    }
    if let Err(e) = check_index_target(path.as_str(), &object.bytes, rules.index_limits) {
        return Ok(Read::Refused(Refusal::Content(e)));
    }
    let sha256 = tuf_core::hash::sha256(&object.bytes);
    Ok(Read::File {
        entry: TargetEntry {
            path: path.clone(),
            length,
            sha256,
        },
        bytes: object.bytes,
        version: object.etag,
    })
}
