//! The snapshot role (TUF §4.4) and the `METAFILES` entry it shares with timestamp.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Expires, Hashes, Length, Role, RoleType, SpecVersion, Version};
use crate::error::Error;
use crate::limits::Limits;

/// The `signed` part of `snapshot.json`: the version (and optionally length and hashes)
/// of every targets metadata file, keyed `ROLE.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "_type")]
    type_tag: String,
    /// Spec version.
    pub spec_version: SpecVersion,
    /// Metadata version.
    pub version: Version,
    /// Expiry.
    pub expires: Expires,
    /// `ROLE.json` → what the snapshot says of that role's file.
    pub meta: BTreeMap<String, MetaFile>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// What a timestamp or snapshot says of one metadata file (TUF §4.4 "METAFILES").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaFile {
    /// The file's metadata version.
    pub version: Version,
    /// Its length in bytes, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Length>,
    /// Its hashes, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Hashes>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MetaFile {
    /// An entry with only a version (what this project writes in snapshot for bins: the
    /// version is enough to pin a file when consistent snapshots are on).
    pub fn new(version: Version) -> Self {
        Self {
            version,
            length: None,
            hashes: None,
            extra: BTreeMap::new(),
        }
    }
}

impl Snapshot {
    /// A snapshot with the given fields.
    pub fn new(version: Version, expires: Expires, meta: BTreeMap<String, MetaFile>) -> Self {
        Self {
            type_tag: RoleType::Snapshot.as_str().to_owned(),
            spec_version: SpecVersion::current(),
            version,
            expires,
            meta,
            extra: BTreeMap::new(),
        }
    }

    /// The entry for targets role `role` (looked up as `ROLE.json`).
    pub fn role_meta(&self, role: &str) -> Option<&MetaFile> {
        self.meta.get(&format!("{role}.json"))
    }
}

impl Role for Snapshot {
    const TYPE: RoleType = RoleType::Snapshot;

    fn version(&self) -> Version {
        self.version
    }

    fn expires(&self) -> &Expires {
        &self.expires
    }

    fn check(&self, _role_name: &str, _limits: &Limits) -> Result<(), Error> {
        // The count of entries is bounded by the file size limit; there is no per-entry
        // rule beyond the field types.
        Ok(())
    }

    fn canonical_direct(&self) -> Option<Vec<u8>> {
        super::fast::write_snapshot(self)
    }
}
