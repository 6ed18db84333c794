//! The root role (TUF §4.3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Expires, KeyId, Role, RoleType, SpecVersion, Threshold, Version};
use crate::crypto::PublicKey;
use crate::error::{Error, SchemaKind};
use crate::limits::Limits;

/// The `signed` part of `root.json`: the keys and thresholds of the top-level roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Root {
    #[serde(rename = "_type")]
    type_tag: String,
    /// Spec version the metadata follows.
    pub spec_version: SpecVersion,
    /// Whether the repository writes consistent snapshots (TUF §7). Absent reads as false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_snapshot: Option<bool>,
    /// Metadata version.
    pub version: Version,
    /// Expiry.
    pub expires: Expires,
    /// Every key a top-level role uses, by the id the metadata names it with.
    pub keys: BTreeMap<KeyId, PublicKey>,
    /// Key ids and threshold per top-level role.
    pub roles: BTreeMap<String, RoleKeys>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The keys and threshold of one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleKeys {
    /// Key ids allowed to sign for the role. A key listed twice counts once.
    pub keyids: Vec<KeyId>,
    /// Distinct keys needed.
    pub threshold: Threshold,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl RoleKeys {
    /// Keys and threshold.
    pub fn new(keyids: Vec<KeyId>, threshold: Threshold) -> Self {
        Self {
            keyids,
            threshold,
            extra: BTreeMap::new(),
        }
    }
}

impl Root {
    /// A root with the given fields and no unknown ones.
    pub fn new(
        version: Version,
        expires: Expires,
        keys: BTreeMap<KeyId, PublicKey>,
        roles: BTreeMap<String, RoleKeys>,
        consistent_snapshot: bool,
    ) -> Self {
        Self {
            type_tag: RoleType::Root.as_str().to_owned(),
            spec_version: SpecVersion::current(),
            consistent_snapshot: Some(consistent_snapshot),
            version,
            expires,
            keys,
            roles,
            extra: BTreeMap::new(),
        }
    }

    /// Keys and threshold of the top-level role `name`. [`Role::check`] guarantees the
    /// four top-level roles are present in a parsed root.
    pub fn role_keys(&self, name: RoleType) -> Option<&RoleKeys> {
        self.roles.get(name.as_str())
    }

    /// Whether consistent snapshots are on.
    pub fn consistent_snapshot(&self) -> bool {
        self.consistent_snapshot.unwrap_or(false)
    }
}

impl Role for Root {
    const TYPE: RoleType = RoleType::Root;

    fn version(&self) -> Version {
        self.version
    }

    fn expires(&self) -> &Expires {
        &self.expires
    }

    fn check(&self, role_name: &str, limits: &Limits) -> Result<(), Error> {
        if self.keys.len() > limits.max_keys {
            return Err(Error::TooMany {
                role: role_name.to_owned(),
                what: "keys",
                found: self.keys.len(),
                limit: limits.max_keys,
            });
        }
        for required in ["root", "timestamp", "snapshot", "targets"] {
            if !self.roles.contains_key(required) {
                return Err(Error::Schema {
                    role: role_name.to_owned(),
                    kind: SchemaKind::MissingField,
                    detail: format!("roles has no entry for the {required} role"),
                });
            }
        }
        for (name, role) in &self.roles {
            check_role_keys(role_name, name, role, limits)?;
        }
        Ok(())
    }
}

/// Shared by root roles and delegations: a role's key list is bounded.
///
/// A key id that `keys` does not define, and a threshold above the number of distinct
/// keys, are not parse errors: such a role simply cannot reach its threshold, and
/// verification says so when the role is used (python-tuf behaves the same way).
pub(crate) fn check_role_keys(
    metadata_role: &str,
    _role: &str,
    keys: &RoleKeys,
    limits: &Limits,
) -> Result<(), Error> {
    check_keyids(metadata_role, &keys.keyids, limits)
}

pub(crate) fn check_keyids(
    metadata_role: &str,
    keyids: &[KeyId],
    limits: &Limits,
) -> Result<(), Error> {
    if keyids.len() > limits.max_keys {
        return Err(Error::TooMany {
            role: metadata_role.to_owned(),
            what: "key ids of a role",
            found: keyids.len(),
            limit: limits.max_keys,
        });
    }
    Ok(())
}
