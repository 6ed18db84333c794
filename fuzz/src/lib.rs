//! Shared set-up of the `update_*` fuzz targets: a trusted state at the step each target
//! exercises, built from fixed keys, so fuzzed bytes reach that step's checks.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use tuf_core::crypto::{Ed25519Signer, Signer};
use tuf_core::metadata::{
    sign_role, DelegatedRole, Delegations, Expires, MetaFile, PathPattern, RoleKeys, RoleName,
    Root, Snapshot, SuccinctRoles, Targets, Threshold, Timestamp, Version,
};
use tuf_core::trusted::TrustedState;

/// The fixed clock of the fuzz targets.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

fn key(seed: u8) -> Ed25519Signer {
    Ed25519Signer::from_seed(&[seed; 32]).unwrap()
}

fn v(n: u64) -> Version {
    Version::new(n).unwrap()
}

fn expires() -> Expires {
    Expires::parse("2030-01-01T00:00:00Z").unwrap()
}

fn root() -> Vec<u8> {
    let keys: Vec<Ed25519Signer> = (1..=4).map(key).collect();
    let all = keys
        .iter()
        .map(|k| (k.key_id().clone(), k.public_key().clone()))
        .collect();
    let roles = ["root", "timestamp", "snapshot", "targets"]
        .iter()
        .zip(&keys)
        .map(|(role, k)| {
            (
                (*role).to_owned(),
                RoleKeys::new(vec![k.key_id().clone()], Threshold::new(1).unwrap()),
            )
        })
        .collect();
    sign_role(&Root::new(v(1), expires(), all, roles, true), &[&keys[0]]).unwrap()
}

/// A state that has loaded root v1 only.
pub fn state_at_root() -> TrustedState {
    static STATE: OnceLock<TrustedState> = OnceLock::new();
    STATE.get_or_init(build_root).clone()
}

fn build_root() -> TrustedState {
    TrustedState::new_from_root(&root(), now()).unwrap()
}

/// A state with a timestamp naming snapshot v1 (no length or hashes, so any bytes reach
/// the snapshot parser).
pub fn state_at_timestamp() -> TrustedState {
    static STATE: OnceLock<TrustedState> = OnceLock::new();
    STATE.get_or_init(build_timestamp).clone()
}

fn build_timestamp() -> TrustedState {
    let mut state = state_at_root();
    let timestamp = Timestamp::new(v(1), expires(), MetaFile::new(v(1)));
    let _ = state
        .update_timestamp(&sign_role(&timestamp, &[&key(2)]).unwrap(), now())
        .unwrap();
    state
}

/// A state with a snapshot listing `targets` and delegated roles `a` and `bin-0`..`bin-3`.
pub fn state_at_snapshot() -> TrustedState {
    static STATE: OnceLock<TrustedState> = OnceLock::new();
    STATE.get_or_init(build_snapshot).clone()
}

fn build_snapshot() -> TrustedState {
    let mut state = state_at_timestamp();
    let meta = ["targets", "a", "bin-0", "bin-1", "bin-2", "bin-3"]
        .iter()
        .map(|r| (format!("{r}.json"), MetaFile::new(v(1))))
        .collect();
    let snapshot = Snapshot::new(v(1), expires(), meta);
    state
        .update_snapshot(&sign_role(&snapshot, &[&key(3)]).unwrap(), now())
        .unwrap();
    state
}

/// A state with targets delegating to `a` (explicit) and, through `a`, to bins `bin-*`.
pub fn state_at_targets() -> TrustedState {
    static STATE: OnceLock<TrustedState> = OnceLock::new();
    STATE.get_or_init(build_targets).clone()
}

fn build_targets() -> TrustedState {
    let mut state = state_at_snapshot();
    let delegate = key(5);
    let mut targets = Targets::new(v(1), expires());
    targets.delegations = Some(Delegations {
        keys: BTreeMap::from([(delegate.key_id().clone(), delegate.public_key().clone())]),
        roles: Some(vec![DelegatedRole {
            name: RoleName::parse("a").unwrap(),
            keyids: vec![delegate.key_id().clone()],
            threshold: Threshold::new(1).unwrap(),
            terminating: false,
            paths: Some(vec![PathPattern::new("*")]),
            path_hash_prefixes: None,
            extra: BTreeMap::new(),
        }]),
        succinct_roles: None,
        extra: BTreeMap::new(),
    });
    state
        .update_targets(&sign_role(&targets, &[&key(4)]).unwrap(), now())
        .unwrap();
    let mut a = Targets::new(v(1), expires());
    a.delegations = Some(Delegations {
        keys: BTreeMap::from([(delegate.key_id().clone(), delegate.public_key().clone())]),
        roles: None,
        succinct_roles: Some(SuccinctRoles::new(
            vec![delegate.key_id().clone()],
            Threshold::new(1).unwrap(),
            2,
            "bin",
        )),
        extra: BTreeMap::new(),
    });
    state
        .update_delegated("targets", "a", &sign_role(&a, &[&delegate]).unwrap(), now())
        .unwrap();
    state
}
