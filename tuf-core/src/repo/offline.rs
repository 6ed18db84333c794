//! Create root and top-level targets for a new repository from signers.
//!
//! Real key holders stage and sign these offline (the `tuf init` / `tuf sign` ceremony);
//! these helpers make version 1 of both in one step, for tests, benchmarks, demos and a
//! single-operator registry. Each role's threshold is the number of keys given for it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::crypto::{PublicKey, Signer};
use crate::error::Error;
use crate::metadata::{
    sign_role, Delegations, Expires, KeyId, RoleKeys, Root, SuccinctRoles, Targets, Threshold,
    Version,
};

use super::{expires_after, BinStyle, Policy};

/// The keys of every role of a repository.
#[derive(Debug, Clone, Copy)]
pub struct RepoKeys<'a> {
    /// Root keys (sign root).
    pub root: &'a [&'a dyn Signer],
    /// Top-level targets keys (sign targets).
    pub targets: &'a [&'a dyn Signer],
    /// Snapshot keys (online).
    pub snapshot: &'a [&'a dyn Signer],
    /// Timestamp keys (online).
    pub timestamp: &'a [&'a dyn Signer],
    /// Bin keys (online).
    pub bins: &'a [&'a dyn Signer],
}

/// Signed version 1 of root and targets.
#[derive(Debug, Clone)]
pub struct OfflineRoles {
    /// `1.root.json`.
    pub root: Vec<u8>,
    /// `1.targets.json`.
    pub targets: Vec<u8>,
}

/// Create and sign version 1 of root (consistent snapshots on) and targets (delegating to
/// `2^policy.bit_length` hashed bins in `policy.bin_style`), expiring per `policy`.
pub fn create(
    policy: &Policy,
    keys: &RepoKeys<'_>,
    now: DateTime<Utc>,
) -> Result<OfflineRoles, Error> {
    let one = Version::new(1)?;
    let root = root(keys, one, expires_after(now, policy.expiry.root, "root")?)?;
    let targets = targets(
        policy,
        keys.bins,
        one,
        expires_after(now, policy.expiry.targets, "targets")?,
    )?;
    Ok(OfflineRoles {
        root: sign_role(&root, keys.root)?,
        targets: sign_role(&targets, keys.targets)?,
    })
}

/// A root naming `keys` for the four top-level roles, consistent snapshots on.
pub fn root(keys: &RepoKeys<'_>, version: Version, expires: Expires) -> Result<Root, Error> {
    let mut all = BTreeMap::new();
    let mut roles = BTreeMap::new();
    for (role, signers) in [
        ("root", keys.root),
        ("targets", keys.targets),
        ("snapshot", keys.snapshot),
        ("timestamp", keys.timestamp),
    ] {
        let (ids, threshold) = key_ids(role, signers, &mut all)?;
        roles.insert(role.to_owned(), RoleKeys::new(ids, threshold));
    }
    Ok(Root::new(version, expires, all, roles, true))
}

/// Top-level targets with no targets of its own, delegating everything to hashed bins
/// signed by `bin_keys`, in `policy.bin_style`.
pub fn targets(
    policy: &Policy,
    bin_keys: &[&dyn Signer],
    version: Version,
    expires: Expires,
) -> Result<Targets, Error> {
    let mut keys = BTreeMap::new();
    let (ids, threshold) = key_ids("bins", bin_keys, &mut keys)?;
    let bins = SuccinctRoles::new(ids, threshold, policy.bit_length, &policy.name_prefix);
    let (roles, succinct_roles) = match policy.bin_style {
        BinStyle::Succinct => (None, Some(bins)),
        BinStyle::HashPrefixes => (Some(bins.to_delegated_roles()?), None),
    };
    let mut targets = Targets::new(version, expires);
    targets.delegations = Some(Delegations {
        keys,
        roles,
        succinct_roles,
        extra: BTreeMap::new(),
    });
    Ok(targets)
}

fn key_ids(
    role: &str,
    signers: &[&dyn Signer],
    keys: &mut BTreeMap<KeyId, PublicKey>,
) -> Result<(Vec<KeyId>, Threshold), Error> {
    let mut ids: Vec<KeyId> = signers.iter().map(|s| s.key_id().clone()).collect();
    ids.sort();
    ids.dedup();
    for signer in signers {
        keys.insert(signer.key_id().clone(), signer.public_key().clone());
    }
    let count = u64::try_from(ids.len()).unwrap_or(u64::MAX);
    let threshold = Threshold::new(count).map_err(|_| Error::Invalid {
        role: role.to_owned(),
        reason: "at least one key is needed".to_owned(),
    })?;
    Ok((ids, threshold))
}
