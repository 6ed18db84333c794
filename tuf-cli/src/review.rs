//! What a key holder reviews before signing: role, version, expiry, the hash of the signed
//! bytes, keys and thresholds, and what a new root changes from the one it replaces.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use tuf_core::metadata::{KeyId, RoleKeys, RoleType, Root, SignedMetadata};

use crate::layout::Keyholders;
use crate::metadata_file::{signed_sha256, typed_root, typed_targets};

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
