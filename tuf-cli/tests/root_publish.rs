//! A new root published with the online roles ([`PublishOptions::new_root`]): checked
//! against the newest root before anything is written, and written in the last batch,
//! just before `timestamp.json`, so a client that finds `N+1.root.json` (TUF §5.3) finds a
//! timestamp signed under it, but for the time between two renames.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::fs;
use std::sync::Arc;

use common::*;
use serde_json::Value;
use tuf_core::crypto::Signer;
use tuf_core::metadata::{
    sign_role, versioned_file_name, Expires, RoleType, Root, SignedMetadata, Version,
};
use tuf_core::Limits;
use tuf_repo::publish::{self, Changes, NewRoot, OnlineKeys, PublishKind, PublishOptions};
use tuf_repo::verify::TargetCheck;

/// Root v1 of the fixture, typed.
fn root_v1(f: &Fixture) -> Root {
    SignedMetadata::parse(&f.trusted_root(), RoleType::Root, &Limits::default())
        .unwrap()
        .decode_unverified("root", &Limits::default())
        .unwrap()
}

/// The file of root `version`: root v1 with `online` (if any) as the timestamp and
/// snapshot key, signed by `signers`.
fn next_root_file(
    f: &Fixture,
    version: u64,
    online: Option<&dyn Signer>,
    signers: &[&dyn Signer],
) -> Vec<u8> {
    let mut root = root_v1(f);
    root.version = Version::new(version).unwrap();
    root.expires = Expires::from_time(later(24 * 365));
    if let Some(key) = online {
        root.keys
            .insert(key.key_id().clone(), key.public_key().clone());
        for role in ["timestamp", "snapshot"] {
            root.roles.get_mut(role).unwrap().keyids = vec![key.key_id().clone()];
        }
    }
    sign_role(&root, signers).unwrap()
}

/// [`next_root_file`], parsed.
fn next_root(
    f: &Fixture,
    version: u64,
    online: Option<&dyn Signer>,
    signers: &[&dyn Signer],
) -> NewRoot {
    NewRoot::parse(
        next_root_file(f, version, online, signers),
        &Limits::default(),
    )
    .unwrap()
}

/// A new online key: a key root v1 does not know.
fn fresh_key(f: &Fixture) -> Arc<dyn Signer> {
    Keys::generate(&f.dir.path().join("online2.pem")).online
}

fn options(new_root: &NewRoot) -> PublishOptions {
    let mut options = PublishOptions::new(chrono::Utc::now());
    options.new_root = Some(new_root.clone());
    options
}

fn metadata(f: &Fixture, name: &str) -> Option<Vec<u8>> {
    fs::read(f.repo.metadata_dir().join(name)).ok()
}

/// Every file snapshot `version` names (the snapshot itself, targets and every bin) is on
/// disk.
fn snapshot_complete(f: &Fixture, version: u64) -> bool {
    let Some(bytes) = metadata(f, &versioned_file_name(version, "snapshot")) else {
        return false;
    };
    let snapshot: Value = serde_json::from_slice(&bytes).unwrap();
    snapshot["signed"]["meta"]
        .as_object()
        .unwrap()
        .iter()
        .all(|(name, meta)| {
            let version = meta["version"].as_u64().unwrap();
            metadata(f, &format!("{version}.{name}")).is_some()
        })
}

fn snapshot_version(f: &Fixture) -> u64 {
    let timestamp: Value = serde_json::from_slice(&metadata(f, "timestamp.json").unwrap()).unwrap();
    timestamp["signed"]["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap()
}

#[test]
fn an_online_key_rotation_writes_the_root_just_before_the_timestamp() {
    let f = Fixture::new(40, 4);
    f.publish(&Changes::Scan);
    let name = crate_name(7);
    write_crate(f.index(), &name, &versions(4));
    f.publish_paths(&[&sparse_path(&name)]);
    let old_timestamp = metadata(&f, "timestamp.json").unwrap();
    let new_snapshot = snapshot_version(&f) + 1;

    // Root v2 names a new timestamp and snapshot key (the bins keep theirs: targets is
    // unchanged), so the state verifies only under root v1 and every bin is re-signed.
    let new_online = fresh_key(&f);
    let root = next_root(&f, 2, Some(new_online.as_ref()), &[f.keys.root.as_ref()]);
    let keys = OnlineKeys {
        bins: vec![Arc::clone(&f.keys.online)],
        snapshot: vec![Arc::clone(&new_online)],
        timestamp: vec![Arc::clone(&new_online)],
    };

    // Stopped at every write step, then run again with one more step: root v2 is on disk
    // only once the new snapshot and every bin it names are, and the timestamp only once
    // root v2 is. A client (here `verify`, from root v1) fails only in the window between
    // the root's rename and the timestamp's: an injection at the timestamp's temporary
    // file or at its rename, nowhere else. (Each window is closed by removing root v2, so
    // every step starts without it; a rerun would take it as its own and go on.)
    let mut window_steps = Vec::new();
    for step in 0.. {
        let mut options = options(&root);
        options.fail_after_writes = Some(step);
        let result = publish::publish(&f.repo, &keys, &Changes::Scan, &options);
        let root_written = metadata(&f, "2.root.json").is_some();
        let timestamp_written = metadata(&f, "timestamp.json").unwrap() != old_timestamp;
        if root_written {
            assert!(snapshot_complete(&f, new_snapshot), "step {step}");
        }
        if timestamp_written {
            assert!(root_written, "step {step}: timestamp before root");
        }
        let view = tuf_repo::verify::RepoView::load(
            &f.repo,
            &f.trusted_root(),
            chrono::Utc::now(),
            &Limits::default(),
        );
        match &result {
            Err(e) => assert_eq!(e.code(), "injected", "step {step}: {e}"),
            Ok(report) => {
                assert_eq!(report.kind, PublishKind::Full);
                assert_eq!(report.root_committed, Some(2));
                assert_eq!(report.roles_signed, ["bins", "snapshot", "timestamp"]);
            }
        }
        if root_written && !timestamp_written {
            let error = view.err().unwrap_or_else(|| panic!("step {step}"));
            assert_eq!(error.code(), "threshold", "step {step}: {error}");
            window_steps.push(step);
            fs::remove_file(f.repo.metadata_dir().join("2.root.json")).unwrap();
        } else {
            let view = view.unwrap_or_else(|e| panic!("step {step}: {e}"));
            let expected = if root_written { 2 } else { 1 };
            assert_eq!(view.root().version.get(), expected, "step {step}");
        }
        if timestamp_written {
            break;
        }
    }
    assert!(
        matches!(window_steps.as_slice(), [a, b] if *b == a + 1),
        "{window_steps:?}"
    );
    f.verify(TargetCheck::Copies);
    assert_eq!(f.view().root().version.get(), 2);
}

#[test]
fn a_new_root_keeping_the_online_keys_goes_with_an_incremental_publish() {
    let f = Fixture::new(20, 3);
    f.publish(&Changes::Scan);
    let file = next_root_file(&f, 2, None, &[f.keys.root.as_ref()]);
    let root = NewRoot::parse(file.clone(), &Limits::default()).unwrap();
    let name = crate_name(2);
    // The changed index file's bin, and those of the two feeds that change with it
    // (release feeds are on, docs/feeds.md).
    let bins = f.bins_of_change(&[&sparse_path(&name)]);
    write_crate(f.index(), &name, &versions(5));
    let report = publish::publish(
        &f.repo,
        &f.online,
        &Changes::Paths(vec![sparse_path(&name)]),
        &options(&root),
    )
    .unwrap();
    // The state verified under root v2 as it was: only the changed bins are re-signed.
    assert_eq!(report.kind, PublishKind::Incremental);
    assert_eq!(report.bins_signed, bins);
    assert_eq!(report.root_committed, Some(2));
    assert_eq!(report.roles_signed, ["bins", "snapshot", "timestamp"]);
    // Bins, snapshot, timestamp: the root is committed, not signed here.
    assert_eq!(report.metadata_written, bins + 2);
    // Written as the key holders signed it, byte for byte.
    assert_eq!(metadata(&f, "2.root.json").unwrap(), file);
    f.verify(TargetCheck::Copies);
    assert_eq!(f.view().root().version.get(), 2);

    // The same root again (a rerun) is taken as published; another root v2 is refused.
    let rerun = publish::publish(&f.repo, &f.online, &Changes::Scan, &options(&root)).unwrap();
    assert_eq!(rerun.root_committed, None);
    let other = next_root(&f, 2, Some(fresh_key(&f).as_ref()), &[f.keys.root.as_ref()]);
    let err = publish::publish(&f.repo, &f.online, &Changes::Scan, &options(&other)).unwrap_err();
    assert_eq!(err.code(), "version-mismatch", "{err}");
    assert_eq!(metadata(&f, "2.root.json").unwrap(), file);
}

#[test]
fn a_new_root_that_does_not_follow_the_newest_is_refused_before_anything_is_written() {
    let f = Fixture::new(20, 3);
    f.publish(&Changes::Scan);
    let before = metadata(&f, "timestamp.json").unwrap();
    let stranger = fresh_key(&f);
    for (root, code) in [
        // A version skipped: a client walks roots one at a time (TUF §5.3.5).
        (
            next_root(&f, 3, None, &[f.keys.root.as_ref()]),
            "version-mismatch",
        ),
        // Not signed by root v1's root key (TUF §5.3.4).
        (next_root(&f, 2, None, &[stranger.as_ref()]), "threshold"),
    ] {
        let err =
            publish::publish(&f.repo, &f.online, &Changes::Scan, &options(&root)).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(metadata(&f, "2.root.json").is_none());
        assert!(metadata(&f, "3.root.json").is_none());
        assert_eq!(metadata(&f, "timestamp.json").unwrap(), before);
    }
    // The root that follows publishes.
    let root = next_root(&f, 2, None, &[f.keys.root.as_ref()]);
    publish::publish(&f.repo, &f.online, &Changes::Scan, &options(&root)).unwrap();
    assert_eq!(f.view().root().version.get(), 2);
}
