//! Counting a file's signatures against the keys that may give them: under each
//! authority that must approve it (a root rotation answers to the old root and to
//! itself), who signed, who still can, and which signatures do not count.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use serde::Serialize;
use tuf_core::crypto::PublicKey;
use tuf_core::metadata::{KeyId, RoleKeys, RoleType, Root, SignedMetadata};
use tuf_core::verify::{valid_signers, Authority};

use crate::layout::Keyholders;

/// Keys that may sign a role, and the threshold: one of possibly several authorities (a
/// root rotation answers to the old root and to itself).
#[derive(Debug, Clone)]
pub struct Signers {
    /// What this authority is (`root v1 (published)`).
    pub label: String,
    /// Every key the authority knows.
    pub keys: BTreeMap<KeyId, PublicKey>,
    /// The role's key ids and threshold.
    pub role: RoleKeys,
}

impl Signers {
    /// The keys `root` gives to the top-level role `role`.
    pub fn from_root(root: &Root, role: RoleType, label: String) -> anyhow::Result<Self> {
        let role_keys = root
            .role_keys(role)
            .with_context(|| format!("{label} has no {role} role"))?;
        Ok(Self {
            label,
            keys: root.keys.clone(),
            role: role_keys.clone(),
        })
    }

    /// Whether `keyid` is one of the role's keys.
    pub fn authorises(&self, keyid: &KeyId) -> bool {
        self.role.keyids.contains(keyid)
    }

    /// Count `meta`'s signatures against this authority.
    pub fn count(&self, meta: &SignedMetadata, names: &Keyholders) -> ThresholdCount {
        let authority = Authority::new(&self.keys, &self.role.keyids, self.role.threshold);
        let valid: BTreeSet<&KeyId> = valid_signers(meta, &authority);
        let authorised: BTreeSet<&KeyId> = self.role.keyids.iter().collect();
        let name = |id: &KeyId| KeyRef {
            keyid: id.to_string(),
            holder: names.get(id).cloned(),
        };
        let signed: Vec<KeyRef> = valid.iter().map(|id| name(id)).collect();
        let missing = authorised
            .iter()
            .filter(|id| !valid.contains(*id))
            .map(|id| name(id))
            .collect();
        let not_counted = meta
            .signatures()
            .iter()
            .filter(|s| !valid.contains(&s.keyid))
            .map(|s| name(&s.keyid))
            .collect();
        let threshold = self.role.threshold.get();
        ThresholdCount {
            authority: self.label.clone(),
            threshold,
            met: u64::try_from(signed.len()).unwrap_or(u64::MAX) >= threshold,
            signed,
            missing,
            not_counted,
        }
    }
}

/// A key id and, if known, its holder's name.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRef {
    /// Key id.
    pub keyid: String,
    /// Holder name from `keyholders.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

impl std::fmt::Display for KeyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.holder {
            Some(holder) => write!(f, "{} ({holder})", self.keyid),
            None => f.write_str(&self.keyid),
        }
    }
}

/// Signatures of one file counted under one authority.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdCount {
    /// Which authority (`root v1 (published)`).
    pub authority: String,
    /// Signatures needed.
    pub threshold: u64,
    /// Whether the threshold is met.
    pub met: bool,
    /// Authorised keys with a valid signature.
    pub signed: Vec<KeyRef>,
    /// Authorised keys without one: who can still sign.
    pub missing: Vec<KeyRef>,
    /// Signatures present that do not count here (other keys, or invalid).
    pub not_counted: Vec<KeyRef>,
}
