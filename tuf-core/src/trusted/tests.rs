//! Tests of the §5 steps: for each rule, the accepted case and the attack, asserting the
//! exact error code and that the state did not move.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::crypto::{Ed25519Signer, Signer};
use crate::metadata::{
    sign_role, DelegatedRole, Delegations, Expires, HexDigest, Length, PathPattern, RoleKeys,
    SuccinctRoles, TargetFile, TargetPath, Version,
};

thread_local! {
    /// How many times this test's thread worked out a [`classic_bins`] layout: a lookup
    /// must reuse the one worked out when the role was loaded.
    pub(crate) static CLASSIC_BIN_LAYOUTS_BUILT: std::cell::Cell<usize> =
        const { std::cell::Cell::new(0) };
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

pub(crate) fn signer(seed: u8) -> Ed25519Signer {
    Ed25519Signer::from_seed(&[seed; 32]).unwrap()
}

pub(crate) fn expires_in(days: i64) -> Expires {
    Expires::from_time(now() + Duration::days(days))
}

fn v(n: u64) -> Version {
    Version::new(n).unwrap()
}

/// A repository made in the test: keys per role and builders for each file.
pub(crate) struct TestRepo {
    pub root_keys: Vec<Ed25519Signer>,
    pub root_threshold: u64,
    pub timestamp_key: Ed25519Signer,
    pub snapshot_key: Ed25519Signer,
    pub targets_key: Ed25519Signer,
}

impl TestRepo {
    pub(crate) fn new() -> Self {
        Self {
            root_keys: vec![signer(1)],
            root_threshold: 1,
            timestamp_key: signer(2),
            snapshot_key: signer(3),
            targets_key: signer(4),
        }
    }

    pub(crate) fn root(&self, version: u64, expires_days: i64) -> Root {
        let mut keys = BTreeMap::new();
        let mut role = |signers: &[&Ed25519Signer], threshold: u64| {
            for s in signers {
                keys.insert(s.key_id().clone(), s.public_key().clone());
            }
            RoleKeys::new(
                signers.iter().map(|s| s.key_id().clone()).collect(),
                Threshold::new(threshold).unwrap(),
            )
        };
        let root_signers: Vec<&Ed25519Signer> = self.root_keys.iter().collect();
        let roles = BTreeMap::from([
            ("root".to_owned(), role(&root_signers, self.root_threshold)),
            ("timestamp".to_owned(), role(&[&self.timestamp_key], 1)),
            ("snapshot".to_owned(), role(&[&self.snapshot_key], 1)),
            ("targets".to_owned(), role(&[&self.targets_key], 1)),
        ]);
        Root::new(v(version), expires_in(expires_days), keys, roles, true)
    }

    /// Root `version`, signed by every current root key.
    pub(crate) fn root_bytes(&self, version: u64, expires_days: i64) -> Vec<u8> {
        let signers: Vec<&dyn Signer> = self.root_keys.iter().map(|s| s as &dyn Signer).collect();
        sign_role(&self.root(version, expires_days), &signers).unwrap()
    }

    pub(crate) fn timestamp_bytes(
        &self,
        version: u64,
        snapshot_version: u64,
        expires_days: i64,
        snapshot: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut meta = MetaFile::new(v(snapshot_version));
        if let Some(bytes) = snapshot {
            meta.length = Some(Length::new(bytes.len() as u64));
            meta.hashes = Some(BTreeMap::from([(
                "sha256".to_owned(),
                HexDigest::new(crate::hash::sha256(bytes).to_vec()),
            )]));
        }
        let timestamp = Timestamp::new(v(version), expires_in(expires_days), meta);
        sign_role(&timestamp, &[&self.timestamp_key]).unwrap()
    }

    pub(crate) fn snapshot_bytes(
        &self,
        version: u64,
        roles: &[(&str, u64)],
        expires_days: i64,
    ) -> Vec<u8> {
        let meta = roles
            .iter()
            .map(|(name, version)| (format!("{name}.json"), MetaFile::new(v(*version))))
            .collect();
        let snapshot = Snapshot::new(v(version), expires_in(expires_days), meta);
        sign_role(&snapshot, &[&self.snapshot_key]).unwrap()
    }

    pub(crate) fn snapshot_with(&self, snapshot: &Snapshot) -> Vec<u8> {
        sign_role(snapshot, &[&self.snapshot_key]).unwrap()
    }
}

/// Targets metadata with `files` and optional delegations, signed by `signer`.
pub(crate) fn targets_bytes(
    signer: &Ed25519Signer,
    version: u64,
    expires_days: i64,
    files: &[(&str, &[u8])],
    delegations: Option<Delegations>,
) -> Vec<u8> {
    let mut targets = Targets::new(v(version), expires_in(expires_days));
    for (path, bytes) in files {
        targets.targets.insert(
            TargetPath::parse(path).unwrap(),
            TargetFile::from_bytes(bytes),
        );
    }
    targets.delegations = delegations;
    sign_role(&targets, &[signer]).unwrap()
}

/// An explicit delegated role trusted for `patterns`, signed by `keys`.
pub(crate) fn delegated_role(
    name: &str,
    keys: &[&Ed25519Signer],
    patterns: &[&str],
    terminating: bool,
) -> DelegatedRole {
    DelegatedRole {
        name: RoleName::parse(name).unwrap(),
        keyids: keys.iter().map(|k| k.key_id().clone()).collect(),
        threshold: Threshold::new(1).unwrap(),
        terminating,
        paths: Some(patterns.iter().map(|p| PathPattern::new(p)).collect()),
        path_hash_prefixes: None,
        extra: BTreeMap::new(),
    }
}

pub(crate) fn delegations(keys: &[&Ed25519Signer], roles: Vec<DelegatedRole>) -> Delegations {
    Delegations {
        keys: keys
            .iter()
            .map(|k| (k.key_id().clone(), k.public_key().clone()))
            .collect(),
        roles: Some(roles),
        succinct_roles: None,
        extra: BTreeMap::new(),
    }
}

pub(crate) fn succinct(key: &Ed25519Signer, bit_length: u8, prefix: &str) -> Delegations {
    Delegations {
        keys: BTreeMap::from([(key.key_id().clone(), key.public_key().clone())]),
        roles: None,
        succinct_roles: Some(SuccinctRoles::new(
            vec![key.key_id().clone()],
            Threshold::new(1).unwrap(),
            bit_length,
            prefix,
        )),
        extra: BTreeMap::new(),
    }
}

/// A state that has loaded root 1, timestamp 1 → snapshot 1 → targets 1.
fn loaded(repo: &TestRepo, snapshot_roles: &[(&str, u64)], targets: &[u8]) -> TrustedState {
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    let snapshot = repo.snapshot_bytes(1, snapshot_roles, 7);
    assert_eq!(
        state
            .update_timestamp(&repo.timestamp_bytes(1, 1, 1, None), now())
            .unwrap(),
        TimestampUpdate::Updated
    );
    state.update_snapshot(&snapshot, now()).unwrap();
    state.update_targets(targets, now()).unwrap();
    state
}

fn code<T: std::fmt::Debug>(result: Result<T, Error>) -> &'static str {
    result.unwrap_err().code()
}

// ---- root (§5.2, §5.3) ----

#[test]
fn trusted_root_is_self_verified_and_may_be_expired() {
    let repo = TestRepo::new();
    let state = TrustedState::new_from_root(&repo.root_bytes(1, -10), now()).unwrap();
    assert_eq!(state.root().version.get(), 1);
    let mut stranger = TestRepo::new();
    stranger.root_keys = vec![signer(9)];
    let mut root = repo.root(1, 365);
    root.extra.insert("x".into(), serde_json::json!(1));
    let wrong = sign_role(&root, &[&signer(9)]).unwrap();
    assert_eq!(
        code(TrustedState::new_from_root(&wrong, now())),
        "threshold"
    );
    assert_eq!(
        code(TrustedState::new_from_root(b"{}", now())),
        "missing-field"
    );
}

#[test]
fn root_rotation_needs_old_and_new_thresholds() {
    let mut repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    let old = repo.root_keys.remove(0);
    repo.root_keys.push(signer(10));
    let root2 = repo.root(2, 365);
    // Only the new key: the trusted root's threshold is not met.
    let only_new = sign_role(&root2, &[&repo.root_keys[0]]).unwrap();
    assert_eq!(code(state.update_root(&only_new, now())), "threshold");
    // Only the old key: the new root's own threshold is not met.
    let only_old = sign_role(&root2, &[&old]).unwrap();
    assert_eq!(code(state.update_root(&only_old, now())), "threshold");
    assert_eq!(state.root().version.get(), 1);
    let both = sign_role(&root2, &[&old, &repo.root_keys[0]]).unwrap();
    assert_eq!(state.update_root(&both, now()).unwrap().version.get(), 2);
    // Now only the new key is needed for root 3.
    state.update_root(&repo.root_bytes(3, 365), now()).unwrap();
    assert_eq!(state.root().version.get(), 3);
}

#[test]
fn root_version_must_be_exactly_next() {
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    assert_eq!(
        code(state.update_root(&repo.root_bytes(3, 365), now())),
        "version-mismatch"
    );
    assert_eq!(
        code(state.update_root(&repo.root_bytes(1, 365), now())),
        "version-mismatch"
    );
    assert_eq!(state.root().version.get(), 1);
    state.update_root(&repo.root_bytes(2, 365), now()).unwrap();
}

#[test]
fn intermediate_root_may_be_expired_but_final_may_not() {
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, -5), now()).unwrap();
    state.update_root(&repo.root_bytes(2, -1), now()).unwrap();
    let timestamp = repo.timestamp_bytes(1, 1, 1, None);
    let err = state
        .clone()
        .update_timestamp(&timestamp, now())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Expired { role, .. } if role == "root"),
        "{err}"
    );
    assert_eq!(
        code(state.clone().load_local_timestamp(&timestamp, now())),
        "expired"
    );
    state.update_root(&repo.root_bytes(3, 30), now()).unwrap();
    assert_eq!(
        state.update_timestamp(&timestamp, now()).unwrap(),
        TimestampUpdate::Updated
    );
}

#[test]
fn root_steps_are_capped_and_stop_after_timestamp() {
    let repo = TestRepo::new();
    let limits = Limits {
        max_root_rotations: 2,
        ..Limits::default()
    };
    let mut state =
        TrustedState::new_from_root_with_limits(&repo.root_bytes(1, 365), now(), limits).unwrap();
    state.update_root(&repo.root_bytes(2, 365), now()).unwrap();
    state.update_root(&repo.root_bytes(3, 365), now()).unwrap();
    assert_eq!(
        code(state.update_root(&repo.root_bytes(4, 365), now())),
        "too-many"
    );
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(1, 1, 1, None), now())
        .unwrap();
    assert_eq!(
        code(state.update_root(&repo.root_bytes(4, 365), now())),
        "out-of-order"
    );
}

// ---- timestamp (§5.4) ----

#[test]
fn timestamp_checks() {
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    // Signed by the snapshot key: not the timestamp role's.
    let timestamp = Timestamp::new(v(5), expires_in(1), MetaFile::new(v(5)));
    let wrong = sign_role(&timestamp, &[&repo.snapshot_key]).unwrap();
    assert_eq!(code(state.update_timestamp(&wrong, now())), "threshold");
    // Wrong type of metadata.
    assert_eq!(
        code(state.update_timestamp(&repo.snapshot_bytes(1, &[], 1), now())),
        "wrong-type"
    );
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(5, 5, 1, None), now())
        .unwrap();
    // Rollback of the timestamp version.
    let err = state
        .update_timestamp(&repo.timestamp_bytes(4, 5, 1, None), now())
        .unwrap_err();
    assert!(matches!(&err, Error::Rollback { role, trusted: 5, new: 4 } if role == "timestamp"));
    // Same version: nothing new, the trusted one is kept.
    assert_eq!(
        state
            .update_timestamp(&repo.timestamp_bytes(5, 9, 1, None), now())
            .unwrap(),
        TimestampUpdate::Unchanged
    );
    assert_eq!(state.snapshot_meta().unwrap().version.get(), 5);
    // Rollback of the snapshot version it names.
    let err = state
        .update_timestamp(&repo.timestamp_bytes(6, 4, 1, None), now())
        .unwrap_err();
    assert!(matches!(&err, Error::Rollback { role, trusted: 5, new: 4 } if role == "snapshot"));
    // Freeze: an expired new timestamp.
    assert_eq!(
        code(state.update_timestamp(&repo.timestamp_bytes(6, 5, -1, None), now())),
        "expired"
    );
    assert_eq!(state.timestamp().unwrap().version.get(), 5);
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(6, 6, 1, None), now())
        .unwrap();
    assert_eq!(state.timestamp().unwrap().version.get(), 6);
}

#[test]
fn expired_local_timestamp_is_a_rollback_baseline() {
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    state
        .load_local_timestamp(&repo.timestamp_bytes(5, 5, -3, None), now())
        .unwrap();
    // Expired and final: snapshot cannot be loaded on it.
    assert_eq!(
        code(
            state
                .clone()
                .update_snapshot(&repo.snapshot_bytes(5, &[], 7), now())
        ),
        "expired"
    );
    assert_eq!(
        code(
            state
                .clone()
                .update_timestamp(&repo.timestamp_bytes(4, 5, 1, None), now())
        ),
        "rollback"
    );
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(6, 5, 1, None), now())
        .unwrap();
    state
        .update_snapshot(&repo.snapshot_bytes(5, &[], 7), now())
        .unwrap();
}

#[test]
fn fast_forward_recovery_after_timestamp_key_rotation() {
    let mut repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    // The attacker had the timestamp key and pushed version 1000; the repository rotates
    // the timestamp key and restarts its versions.
    let inflated = repo.timestamp_bytes(1000, 1000, 1, None);
    repo.timestamp_key = signer(20);
    state.update_root(&repo.root_bytes(2, 365), now()).unwrap();
    assert!(state.fast_forward_recovery_needed());
    let err = state.load_local_timestamp(&inflated, now()).unwrap_err();
    assert!(
        matches!(&err, Error::KeysRotated { role } if role == "timestamp"),
        "{err}"
    );
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(2, 2, 1, None), now())
        .unwrap();
    assert_eq!(
        code(state.load_local_snapshot(&repo.snapshot_bytes(1000, &[], 1), now())),
        "keys-rotated"
    );
    state
        .update_snapshot(&repo.snapshot_bytes(2, &[], 1), now())
        .unwrap();
}

#[test]
fn no_recovery_without_rotation() {
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    state.update_root(&repo.root_bytes(2, 365), now()).unwrap();
    assert!(!state.fast_forward_recovery_needed());
    state
        .load_local_timestamp(&repo.timestamp_bytes(1000, 1000, 1, None), now())
        .unwrap();
    assert_eq!(
        code(state.update_timestamp(&repo.timestamp_bytes(2, 2, 1, None), now())),
        "rollback"
    );
}

#[test]
fn snapshot_key_rotation_also_discards_local_timestamp() {
    let mut repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    repo.snapshot_key = signer(21);
    state.update_root(&repo.root_bytes(2, 365), now()).unwrap();
    let err = state
        .load_local_timestamp(&repo.timestamp_bytes(7, 7, 1, None), now())
        .unwrap_err();
    assert!(
        matches!(&err, Error::KeysRotated { role } if role == "snapshot"),
        "{err}"
    );
}

// ---- snapshot (§5.5) ----

#[test]
fn snapshot_checks() {
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    assert_eq!(
        code(state.update_snapshot(&repo.snapshot_bytes(1, &[], 7), now())),
        "out-of-order"
    );
    let snapshot = repo.snapshot_bytes(3, &[("targets", 1)], 7);
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(3, 3, 1, Some(&snapshot)), now())
        .unwrap();
    // Hashes and length from the timestamp.
    let other = repo.snapshot_bytes(3, &[("targets", 2)], 7);
    assert_eq!(code(state.update_snapshot(&other, now())), "hash-mismatch");
    let mut longer = snapshot.clone();
    longer.push(b' ');
    assert_eq!(
        code(state.update_snapshot(&longer, now())),
        "length-mismatch"
    );
    assert!(state.snapshot().is_none());
    state.update_snapshot(&snapshot, now()).unwrap();
    assert_eq!(state.snapshot().unwrap().version.get(), 3);
}

#[test]
fn snapshot_version_must_be_the_timestamps() {
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(3, 3, 1, None), now())
        .unwrap();
    let err = state
        .update_snapshot(&repo.snapshot_bytes(2, &[], 7), now())
        .unwrap_err();
    assert!(
        matches!(&err, Error::VersionMismatch { role, expected: 3, found: 2 } if role == "snapshot")
    );
    assert_eq!(
        code(state.update_snapshot(&repo.snapshot_bytes(3, &[], -1), now())),
        "expired"
    );
    assert_eq!(
        code(state.update_snapshot(&repo.timestamp_bytes(3, 3, 1, None), now())),
        "wrong-type"
    );
    let mut wrong_key = TestRepo::new();
    wrong_key.snapshot_key = signer(30);
    assert_eq!(
        code(state.update_snapshot(&wrong_key.snapshot_bytes(3, &[], 7), now())),
        "threshold"
    );
    assert!(state.snapshot().is_none());
}

#[test]
fn snapshot_rollback_of_targets_roles() {
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
    state
        .load_local_timestamp(&repo.timestamp_bytes(1, 1, 1, None), now())
        .unwrap();
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(2, 2, 1, None), now())
        .unwrap();
    let local = repo.snapshot_bytes(1, &[("targets", 4), ("a", 2)], 7);
    let status = state.load_local_snapshot(&local, now()).unwrap();
    assert!(matches!(
        status,
        LocalSnapshot::Intermediate {
            reason: Error::VersionMismatch { .. }
        }
    ));
    // `a` removed.
    let removed = repo.snapshot_bytes(2, &[("targets", 4)], 7);
    let err = state.update_snapshot(&removed, now()).unwrap_err();
    assert!(
        matches!(&err, Error::RoleRemoved { role } if role == "a"),
        "{err}"
    );
    // targets lowered.
    let lowered = repo.snapshot_bytes(2, &[("targets", 3), ("a", 2)], 7);
    let err = state.update_snapshot(&lowered, now()).unwrap_err();
    assert!(matches!(&err, Error::Rollback { role, trusted: 4, new: 3 } if role == "targets"));
    assert_eq!(state.snapshot().unwrap().version.get(), 1);
    let good = repo.snapshot_bytes(2, &[("targets", 4), ("a", 3), ("b", 1)], 7);
    state.update_snapshot(&good, now()).unwrap();
    assert_eq!(state.snapshot().unwrap().version.get(), 2);
}

#[test]
fn local_snapshot_current_or_intermediate() {
    let repo = TestRepo::new();
    let snapshot = repo.snapshot_bytes(2, &[("targets", 1)], 7);
    let timestamp = repo.timestamp_bytes(2, 2, 1, Some(&snapshot));
    let fresh_with = |timestamp: &[u8]| {
        let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
        let _ = state.update_timestamp(timestamp, now()).unwrap();
        state
    };
    let fresh = || fresh_with(&timestamp);
    let mut state = fresh();
    assert!(matches!(
        state.load_local_snapshot(&snapshot, now()).unwrap(),
        LocalSnapshot::Current
    ));
    assert_eq!(
        code(state.load_local_snapshot(&snapshot, now())),
        "out-of-order"
    );
    state
        .update_targets(&targets_bytes(&repo.targets_key, 1, 30, &[], None), now())
        .unwrap();
    // Expired local snapshot: intermediate, and targets cannot load on it.
    let expired = repo.snapshot_bytes(2, &[("targets", 1)], -1);
    let mut state = fresh_with(&repo.timestamp_bytes(2, 2, 1, None));
    let status = state.load_local_snapshot(&expired, now()).unwrap();
    assert!(matches!(
        status,
        LocalSnapshot::Intermediate {
            reason: Error::Expired { .. }
        }
    ));
    assert_eq!(
        code(state.update_targets(&targets_bytes(&repo.targets_key, 1, 30, &[], None), now())),
        "expired"
    );
    // Same version, other bytes than the timestamp names: intermediate.
    let other = repo.snapshot_bytes(2, &[("targets", 1)], 8);
    let mut state = fresh();
    let status = state.load_local_snapshot(&other, now()).unwrap();
    assert!(matches!(
        status,
        LocalSnapshot::Intermediate {
            reason: Error::HashMismatch { .. }
        }
    ));
    state.update_snapshot(&snapshot, now()).unwrap();
}

// ---- targets (§5.6) ----

#[test]
fn targets_checks() {
    let repo = TestRepo::new();
    let good = targets_bytes(&repo.targets_key, 2, 30, &[("a/b", b"x")], None);
    let mut snapshot = Snapshot::new(v(1), expires_in(7), BTreeMap::new());
    let mut entry = MetaFile::new(v(2));
    entry.length = Some(Length::new(good.len() as u64));
    snapshot.meta.insert("targets.json".into(), entry);
    let snapshot_bytes = repo.snapshot_with(&snapshot);
    let fresh = |snapshot_bytes: &[u8]| {
        let mut state = TrustedState::new_from_root(&repo.root_bytes(1, 365), now()).unwrap();
        let _ = state
            .update_timestamp(&repo.timestamp_bytes(1, 1, 1, None), now())
            .unwrap();
        state.update_snapshot(snapshot_bytes, now()).unwrap();
        state
    };
    let mut state = fresh(&snapshot_bytes);
    let wrong_version = targets_bytes(&repo.targets_key, 3, 30, &[("a/b", b"y")], None);
    let err = state.update_targets(&wrong_version, now()).unwrap_err();
    assert!(
        matches!(&err, Error::VersionMismatch { role, expected: 2, found: 3 } if role == "targets")
    );
    let padded = {
        let mut b = good.clone();
        b.push(b'\n');
        b
    };
    assert_eq!(
        code(state.update_targets(&padded, now())),
        "length-mismatch"
    );
    let wrong_key = targets_bytes(&signer(40), 2, 30, &[("a/b", b"x")], None);
    assert_eq!(code(state.update_targets(&wrong_key, now())), "threshold");
    assert!(state.targets().is_none());
    state.update_targets(&good, now()).unwrap();
    assert_eq!(code(state.update_targets(&good, now())), "out-of-order");

    // Expired targets; and a snapshot without a targets entry.
    let expired = targets_bytes(&repo.targets_key, 1, -1, &[], None);
    let mut state = fresh(&repo.snapshot_bytes(1, &[("targets", 1)], 7));
    assert_eq!(code(state.update_targets(&expired, now())), "expired");
    let mut state = fresh(&repo.snapshot_bytes(1, &[], 7));
    assert_eq!(code(state.update_targets(&expired, now())), "missing-role");
}

// ---- delegated targets (§5.6, §5.6.7) ----

#[test]
fn delegated_role_verified_with_delegators_keys() {
    let repo = TestRepo::new();
    let (a_key, outsider) = (signer(50), signer(51));
    let top = targets_bytes(
        &repo.targets_key,
        1,
        30,
        &[],
        Some(delegations(
            &[&a_key],
            vec![delegated_role("a", &[&a_key], &["*"], false)],
        )),
    );
    let mut state = loaded(&repo, &[("targets", 1), ("a", 1), ("b", 1)], &top);
    let by_outsider = targets_bytes(&outsider, 1, 30, &[("x", b"1")], None);
    assert_eq!(
        code(state.update_delegated("targets", "a", &by_outsider, now())),
        "threshold"
    );
    assert!(state.delegated("a").is_none());
    let b = targets_bytes(&a_key, 1, 30, &[], None);
    assert_eq!(
        code(state.update_delegated("targets", "b", &b, now())),
        "not-delegated"
    );
    assert_eq!(
        code(state.update_delegated("nobody", "a", &b, now())),
        "not-delegated"
    );
    assert_eq!(
        code(state.update_delegated("targets", "root", &b, now())),
        "not-delegated"
    );
    let expired = targets_bytes(&a_key, 1, -1, &[], None);
    assert_eq!(
        code(state.update_delegated("targets", "a", &expired, now())),
        "expired"
    );
    let a = targets_bytes(&a_key, 1, 30, &[("x", b"1")], None);
    state.update_delegated("targets", "a", &a, now()).unwrap();
    assert!(state.delegated_via("targets", "a").is_some());
    assert!(state.delegated_via("b", "a").is_none());
}

#[test]
fn succinct_bins_are_delegated_by_number() {
    let repo = TestRepo::new();
    let bin_key = signer(60);
    let top = targets_bytes(
        &repo.targets_key,
        1,
        30,
        &[],
        Some(succinct(&bin_key, 4, "bin")),
    );
    let mut state = loaded(&repo, &[("targets", 1), ("bin-3", 1), ("bin-10", 1)], &top);
    let bin = targets_bytes(&bin_key, 1, 30, &[], None);
    state
        .update_delegated("targets", "bin-3", &bin, now())
        .unwrap();
    // Not a bin name of this layout (two hex digits for 16 bins is wrong).
    assert_eq!(
        code(state.update_delegated("targets", "bin-10", &bin, now())),
        "not-delegated"
    );
    let missing = targets_bytes(&bin_key, 1, 30, &[], None);
    assert_eq!(
        code(state.update_delegated("targets", "bin-4", &missing, now())),
        "missing-role"
    );
}

#[test]
fn diamond_role_is_verified_per_delegator() {
    // targets → A, B; A and B both delegate to C, A with the wrong key for it.
    let repo = TestRepo::new();
    let (a_key, b_key, c_key, wrong) = (signer(70), signer(71), signer(72), signer(73));
    let top = targets_bytes(
        &repo.targets_key,
        1,
        30,
        &[],
        Some(delegations(
            &[&a_key, &b_key],
            vec![
                delegated_role("A", &[&a_key], &["*"], false),
                delegated_role("B", &[&b_key], &["*"], false),
            ],
        )),
    );
    let a = targets_bytes(
        &a_key,
        1,
        30,
        &[],
        Some(delegations(
            &[&wrong],
            vec![delegated_role("C", &[&wrong], &["*"], false)],
        )),
    );
    let b = targets_bytes(
        &b_key,
        1,
        30,
        &[],
        Some(delegations(
            &[&c_key],
            vec![delegated_role("C", &[&c_key], &["*"], false)],
        )),
    );
    let c = targets_bytes(&c_key, 1, 30, &[("evil", b"x")], None);
    let mut state = loaded(&repo, &[("targets", 1), ("A", 1), ("B", 1), ("C", 1)], &top);
    state.update_delegated("targets", "A", &a, now()).unwrap();
    state.update_delegated("targets", "B", &b, now()).unwrap();
    state.update_delegated("B", "C", &c, now()).unwrap();
    assert!(state.delegated_via("B", "C").is_some());
    // Held via B, but A's keys for C do not sign it: not usable via A.
    assert!(state.delegated_via("A", "C").is_none());
    let err = state.update_delegated("A", "C", &c, now()).unwrap_err();
    assert_eq!(err.code(), "threshold");
    assert!(state.delegated_via("A", "C").is_none());
    // Another C than the one held is refused.
    let other_c = targets_bytes(&c_key, 1, 30, &[("other", b"x")], None);
    assert_eq!(
        code(state.update_delegated("B", "C", &other_c, now())),
        "conflicting-metadata"
    );
}

// ---- diagnostic mode ----

/// Root 1 (expired), timestamp, snapshot and targets all expired, in `mode`; the steps
/// run as far as they go.
fn walk_expired(repo: &TestRepo, mode: Mode, top: &[u8]) -> (TrustedState, Result<(), Error>) {
    let mut state = TrustedState::new_from_root_in_mode(
        &repo.root_bytes(1, -1),
        now(),
        Limits::default(),
        mode,
    )
    .unwrap();
    let snapshot = repo.snapshot_bytes(1, &[("targets", 1), ("bin-3", 1)], -1);
    let walked = state
        .update_timestamp(&repo.timestamp_bytes(1, 1, -1, None), now())
        .map(|_| ())
        .and_then(|()| state.update_snapshot(&snapshot, now()))
        .and_then(|()| state.update_targets(top, now()).map(|_| ()));
    (state, walked)
}

#[test]
fn diagnostic_mode_records_expiry_once_per_step_and_goes_on() {
    let repo = TestRepo::new();
    let bin_key = signer(60);
    let top = targets_bytes(
        &repo.targets_key,
        1,
        -1,
        &[],
        Some(succinct(&bin_key, 4, "bin")),
    );

    // Strict: the expired final root refuses the timestamp; nothing moved.
    let (strict, walked) = walk_expired(&repo, Mode::Strict, &top);
    assert!(matches!(walked, Err(Error::Expired { ref role, .. }) if role == "root"));
    assert!(strict.timestamp().is_none());
    assert!(strict.problems().is_empty());

    // Diagnostic: the same rules, each expiry recorded once with its step, and the walk
    // reaches targets (the re-checks of root, timestamp and snapshot add nothing).
    let (state, walked) = walk_expired(&repo, Mode::Diagnostic, &top);
    walked.unwrap();
    let steps: Vec<(String, &str)> = state
        .problems()
        .iter()
        .map(|p| (p.step.to_string(), p.error.code()))
        .collect();
    assert_eq!(
        steps,
        [
            ("root v1".to_owned(), "expired"),
            ("timestamp".to_owned(), "expired"),
            ("snapshot".to_owned(), "expired"),
            ("targets".to_owned(), "expired"),
        ]
    );
    assert!(state.targets().is_some());

    // A bin checked without being kept: its expiry is its own problem; the snapshot's is
    // not repeated, also once the recorded problems were taken out.
    let mut state = state;
    assert_eq!(state.take_problems().len(), 4);
    let bin = targets_bytes(&bin_key, 1, -1, &[], None);
    let (_, found) = state
        .check_delegated("targets", "bin-3", &bin, now())
        .unwrap();
    let found: Vec<String> = found.iter().map(|p| p.step.to_string()).collect();
    assert_eq!(found, ["bin-3"]);
    assert!(state.delegated("bin-3").is_none());
}

#[test]
fn diagnostic_mode_still_refuses_what_it_cannot_go_past() {
    // A bad signature, a wrong version, bytes other than listed: the step is refused
    // in diagnostic mode too, and the state does not move.
    let repo = TestRepo::new();
    let mut state = TrustedState::new_from_root_in_mode(
        &repo.root_bytes(1, 365),
        now(),
        Limits::default(),
        Mode::Diagnostic,
    )
    .unwrap();
    let forged = {
        let timestamp = Timestamp::new(v(1), expires_in(1), MetaFile::new(v(1)));
        sign_role(&timestamp, &[&signer(99)]).unwrap()
    };
    assert_eq!(code(state.update_timestamp(&forged, now())), "threshold");
    assert!(state.timestamp().is_none());
    let snapshot = repo.snapshot_bytes(2, &[("targets", 1)], 7);
    let _ = state
        .update_timestamp(&repo.timestamp_bytes(1, 1, 1, Some(&snapshot)), now())
        .unwrap();
    assert_eq!(
        code(state.update_snapshot(&snapshot, now())),
        "version-mismatch"
    );
    assert!(state.snapshot().is_none());
    assert!(state.problems().is_empty());
}

#[test]
fn check_delegated_applies_update_delegateds_rules_in_strict_mode() {
    let repo = TestRepo::new();
    let bin_key = signer(60);
    let top = targets_bytes(
        &repo.targets_key,
        1,
        30,
        &[],
        Some(succinct(&bin_key, 4, "bin")),
    );
    let state = loaded(&repo, &[("targets", 1), ("bin-3", 1)], &top);
    let good = targets_bytes(&bin_key, 1, 30, &[], None);
    let (_, found) = state
        .check_delegated("targets", "bin-3", &good, now())
        .unwrap();
    assert!(found.is_empty());
    let expired = targets_bytes(&bin_key, 1, -1, &[], None);
    assert_eq!(
        code(state.check_delegated("targets", "bin-3", &expired, now())),
        "expired"
    );
    let forged = targets_bytes(&signer(61), 1, 30, &[], None);
    assert_eq!(
        code(state.check_delegated("targets", "bin-3", &forged, now())),
        "threshold"
    );
    let wrong_version = targets_bytes(&bin_key, 2, 30, &[], None);
    assert_eq!(
        code(state.check_delegated("targets", "bin-3", &wrong_version, now())),
        "version-mismatch"
    );
    assert_eq!(
        code(state.check_delegated("targets", "bin-4", &good, now())),
        "missing-role"
    );
}

#[test]
fn a_bin_listing_a_path_of_another_bin_breaks_tap_15() {
    let bins = SuccinctRoles::new(Vec::new(), Threshold::new(1).unwrap(), 4, "bin");
    let (home, away) = ("a/b", "x/y/z");
    let home_bin = bins.bin_of(home);
    assert_ne!(bins.bin_of(away), home_bin, "pick paths of two bins");
    let mut bin = Targets::new(v(1), expires_in(1));
    bin.targets.insert(
        TargetPath::parse(home).unwrap(),
        TargetFile::from_bytes(b"1"),
    );
    assert_eq!(bins.misplaced_targets(home_bin, &bin).count(), 0);
    bin.targets.insert(
        TargetPath::parse(away).unwrap(),
        TargetFile::from_bytes(b"2"),
    );
    let misplaced: Vec<Error> = bins.misplaced_targets(home_bin, &bin).collect();
    assert_eq!(misplaced.len(), 1);
    assert!(matches!(
        &misplaced[0],
        Error::MisplacedTarget { role, path, belongs_to }
            if *role == bins.bin_name(home_bin) && path == away && *belongs_to == bins.role_for(away)
    ));
    assert_eq!(misplaced[0].code(), "misplaced");
}
