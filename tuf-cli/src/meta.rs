//! Reading, writing and describing metadata files, and counting signatures against the
//! keys that may give them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _};
use serde::Serialize;
use tuf_core::crypto::PublicKey;
use tuf_core::metadata::{KeyId, RoleKeys, RoleType, Root, SignedMetadata, Targets};
use tuf_core::verify::{valid_signers, Authority};
use tuf_core::{cjson, hash, Limits};

use crate::fsutil::{self, Access, Existing};
use crate::layout::Keyholders;

/// Read and parse a metadata file. With `role` `None`, the role comes from `signed._type`.
pub fn load(path: &Path, role: Option<RoleType>) -> anyhow::Result<SignedMetadata> {
    let bytes = fsutil::read(path)?;
    parse(&bytes, role).with_context(|| format!("{} is not valid TUF metadata", path.display()))
}

/// Parse metadata bytes; with `role` `None`, the role comes from `signed._type`.
pub fn parse(bytes: &[u8], role: Option<RoleType>) -> anyhow::Result<SignedMetadata> {
    let limits = Limits::default();
    let value = cjson::parse(bytes, limits.max_json_depth)?;
    let role = match role {
        Some(role) => role,
        None => {
            let found = value
                .get("signed")
                .and_then(|s| s.get("_type"))
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            role_type(found).with_context(|| {
                format!(
                    "`signed._type` is {found:?}, expected root, targets, snapshot or timestamp"
                )
            })?
        }
    };
    Ok(SignedMetadata::from_value(value, role, &limits)?)
}

/// A role type from its name.
pub fn role_type(name: &str) -> Option<RoleType> {
    [
        RoleType::Root,
        RoleType::Targets,
        RoleType::Snapshot,
        RoleType::Timestamp,
    ]
    .into_iter()
    .find(|r| r.as_str() == name)
}

/// The typed root of `meta`, naming `path` in errors.
pub fn typed_root(meta: &SignedMetadata, path: &Path) -> anyhow::Result<Root> {
    meta.decode_unverified("root", &Limits::default())
        .with_context(|| format!("{} is not a valid root", path.display()))
}

/// The typed targets of `meta`, naming `path` in errors.
pub fn typed_targets(meta: &SignedMetadata, path: &Path) -> anyhow::Result<Targets> {
    meta.decode_unverified("targets", &Limits::default())
        .with_context(|| format!("{} is not a valid targets", path.display()))
}

/// Hex SHA-256 of the canonical `signed` bytes: what every signature covers, and what a
/// key holder compares before signing.
pub fn signed_sha256(meta: &SignedMetadata) -> String {
    hex::encode(hash::sha256(meta.canonical_signed()))
}

/// Write `meta` to `path` atomically, as [`file_bytes`] gives it.
pub fn write(path: &Path, meta: &SignedMetadata, existing: Existing) -> anyhow::Result<()> {
    let bytes = file_bytes(meta, path)?;
    fsutil::write_atomic(path, &bytes, Access::Public, existing)
}

/// The file bytes of `meta` (to be written at `path`), after checking the `signed` part
/// reads back to the same canonical bytes (a signature over it stays valid).
pub fn file_bytes(meta: &SignedMetadata, path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = meta.to_file_bytes()?;
    let again = parse(&bytes, Some(meta.role_type()))?;
    if again.canonical_signed() != meta.canonical_signed() {
        bail!(
            "internal error: writing {} would change its signed bytes; nothing was written",
            path.display()
        );
    }
    Ok(bytes)
}

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

/// A description of what a key holder is about to sign: role, version, expiry, the hash
/// of the signed bytes, keys and thresholds, and what changed from `previous` (a root).
pub fn describe(
    meta: &SignedMetadata,
    path: &Path,
    previous: Option<&Root>,
    names: &Keyholders,
) -> anyhow::Result<String> {
    let mut out = String::new();
    let holder = |id: &KeyId| match names.get(id) {
        Some(name) => format!("{id} ({name})"),
        None => id.to_string(),
    };
    match meta.role_type() {
        RoleType::Root => {
            let root = typed_root(meta, path)?;
            writeln!(out, "root version {} ({})", root.version, path.display())?;
            writeln!(out, "  sha256 of signed bytes: {}", signed_sha256(meta))?;
            writeln!(out, "  expires: {}", root.expires)?;
            writeln!(
                out,
                "  consistent_snapshot: {}, spec_version: {}",
                root.consistent_snapshot(),
                root.spec_version
            )?;
            for (role, keys) in &root.roles {
                writeln!(
                    out,
                    "  {role}: {} of {} key(s)",
                    keys.threshold,
                    keys.keyids.len()
                )?;
                for id in &keys.keyids {
                    let kind = root
                        .keys
                        .get(id)
                        .map_or("(not in keys!)".to_owned(), |k| k.keytype.clone());
                    writeln!(out, "    {} {kind}", holder(id))?;
                }
            }
            if let Some(old) = previous {
                writeln!(out, "  changes from root version {}:", old.version)?;
                let changes = root_changes(old, &root, &holder);
                if changes.is_empty() {
                    writeln!(out, "    none but version and expiry")?;
                }
                for change in changes {
                    writeln!(out, "    {change}")?;
                }
            }
        }
        RoleType::Targets => {
            let targets = typed_targets(meta, path)?;
            writeln!(
                out,
                "targets version {} ({})",
                targets.version,
                path.display()
            )?;
            writeln!(out, "  sha256 of signed bytes: {}", signed_sha256(meta))?;
            writeln!(out, "  expires: {}", targets.expires)?;
            writeln!(out, "  targets listed directly: {}", targets.targets.len())?;
            if let Some(delegations) = &targets.delegations {
                // Hashed bins in either form are summed up in one line, not one per bin.
                let hashed = delegations.hashed_bins().ok();
                if let Some(bins) = &hashed {
                    let style = if delegations.succinct_roles.is_some() {
                        ""
                    } else {
                        " (path_hash_prefixes roles)"
                    };
                    writeln!(
                        out,
                        "  delegates to {} hashed bins {}-*{style}: {} of {} key(s)",
                        bins.bin_count(),
                        bins.name_prefix,
                        bins.threshold,
                        bins.keyids.len()
                    )?;
                    for id in &bins.keyids {
                        writeln!(out, "    {}", holder(id))?;
                    }
                }
                let explicit = if hashed.is_some() {
                    None
                } else {
                    delegations.roles.as_ref()
                };
                for role in explicit.into_iter().flatten() {
                    writeln!(
                        out,
                        "  delegates to {}: {} of {} key(s)",
                        role.name,
                        role.threshold,
                        role.keyids.len()
                    )?;
                }
            }
        }
        other => {
            writeln!(out, "{other} ({})", path.display())?;
            writeln!(out, "  sha256 of signed bytes: {}", signed_sha256(meta))?;
        }
    }
    let present: Vec<String> = meta.signatures().iter().map(|s| holder(&s.keyid)).collect();
    if present.is_empty() {
        writeln!(out, "  signatures present: none")?;
    } else {
        writeln!(out, "  signatures present: {}", present.join(", "))?;
    }
    Ok(out)
}

/// What changed in the keys and thresholds from `old` to `new`, one line each.
fn root_changes(old: &Root, new: &Root, holder: &dyn Fn(&KeyId) -> String) -> Vec<String> {
    let mut changes = Vec::new();
    if old.expires != new.expires {
        changes.push(format!("expires {} -> {}", old.expires, new.expires));
    }
    let roles: BTreeSet<&String> = old.roles.keys().chain(new.roles.keys()).collect();
    for role in roles {
        let before = old.roles.get(role);
        let after = new.roles.get(role);
        let ids = |r: Option<&RoleKeys>| -> BTreeSet<KeyId> {
            r.map(|r| r.keyids.iter().cloned().collect())
                .unwrap_or_default()
        };
        let (was, now) = (ids(before), ids(after));
        for added in now.difference(&was) {
            changes.push(format!("{role}: + {}", holder(added)));
        }
        for removed in was.difference(&now) {
            changes.push(format!("{role}: - {}", holder(removed)));
        }
        let threshold = |r: Option<&RoleKeys>| r.map(|r| r.threshold.get());
        if threshold(before) != threshold(after) {
            changes.push(format!(
                "{role}: threshold {} -> {}",
                threshold(before).map_or("none".to_owned(), |t| t.to_string()),
                threshold(after).map_or("none".to_owned(), |t| t.to_string())
            ));
        }
    }
    if old.consistent_snapshot() != new.consistent_snapshot() {
        changes.push(format!(
            "consistent_snapshot {} -> {}",
            old.consistent_snapshot(),
            new.consistent_snapshot()
        ));
    }
    changes
}
