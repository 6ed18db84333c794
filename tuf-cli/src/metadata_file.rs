//! Metadata files on disk for the ceremony commands: read and parsed (the role from
//! `signed._type` when not given), typed with the path in the error, and written back
//! only if the signed bytes stay the same (a signature over them stays valid).

use std::path::Path;

use anyhow::{bail, Context as _};
use tuf_core::metadata::{RoleType, Root, SignedMetadata, Targets};
use tuf_core::{cjson, hash, Limits};

use crate::files::{self, Access, Existing};

/// Read and parse a metadata file. With `role` `None`, the role comes from `signed._type`.
pub fn load(path: &Path, role: Option<RoleType>) -> anyhow::Result<SignedMetadata> {
    let bytes = files::read(path)?;
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
    files::write_atomic(path, &bytes, Access::Public, existing)
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
