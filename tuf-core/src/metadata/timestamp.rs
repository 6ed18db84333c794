//! The timestamp role (TUF §4.6).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Expires, MetaFile, Role, RoleType, SpecVersion, Version};
use crate::error::{Error, SchemaKind};
use crate::limits::Limits;

/// The `signed` part of `timestamp.json`: the current snapshot's version (and optionally
/// length and hashes), under the key `snapshot.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timestamp {
    #[serde(rename = "_type")]
    type_tag: String,
    /// Spec version.
    pub spec_version: SpecVersion,
    /// Metadata version.
    pub version: Version,
    /// Expiry.
    pub expires: Expires,
    /// Exactly one entry, `snapshot.json`.
    pub meta: BTreeMap<String, MetaFile>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Timestamp {
    /// A timestamp naming `snapshot`.
    pub fn new(version: Version, expires: Expires, snapshot: MetaFile) -> Self {
        Self {
            type_tag: RoleType::Timestamp.as_str().to_owned(),
            spec_version: SpecVersion::current(),
            version,
            expires,
            meta: BTreeMap::from([("snapshot.json".to_owned(), snapshot)]),
            extra: BTreeMap::new(),
        }
    }

    /// The snapshot entry. [`Role::check`] guarantees it exists in parsed metadata.
    pub fn snapshot_meta(&self) -> Option<&MetaFile> {
        self.meta.get("snapshot.json")
    }
}

impl Role for Timestamp {
    const TYPE: RoleType = RoleType::Timestamp;

    fn version(&self) -> Version {
        self.version
    }

    fn expires(&self) -> &Expires {
        &self.expires
    }

    fn check(&self, role_name: &str, _limits: &Limits) -> Result<(), Error> {
        // TUF §4.6: METAFILES of timestamp is exactly the snapshot entry.
        if self.meta.len() != 1 || self.snapshot_meta().is_none() {
            return Err(Error::Schema {
                role: role_name.to_owned(),
                kind: SchemaKind::MissingField,
                detail: format!(
                    "meta must hold exactly one entry, snapshot.json; found {:?}",
                    self.meta.keys().collect::<Vec<_>>()
                ),
            });
        }
        Ok(())
    }
}
