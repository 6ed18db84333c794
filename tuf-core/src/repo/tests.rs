use std::collections::BTreeMap;

use chrono::{TimeDelta, TimeZone, Utc};

use super::offline::{self, RepoKeys};
use super::*;
use crate::crypto::Ed25519Signer;
use crate::limits::Limits;
use crate::metadata::{RoleType, SignedMetadata, Snapshot, Timestamp};

pub(super) struct Keys {
    pub(super) root: Ed25519Signer,
    pub(super) targets: Ed25519Signer,
    pub(super) online: Ed25519Signer,
}

pub(super) fn keys() -> Keys {
    Keys {
        root: Ed25519Signer::from_seed(&[1; 32]).unwrap(),
        targets: Ed25519Signer::from_seed(&[2; 32]).unwrap(),
        online: Ed25519Signer::from_seed(&[3; 32]).unwrap(),
    }
}

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn policy() -> Policy {
    Policy {
        bit_length: 4,
        ..Policy::default()
    }
}

pub(super) fn entry(path: &str, content: &[u8]) -> TargetEntry {
    TargetEntry {
        path: TargetPath::parse(path).unwrap(),
        length: content.len() as u64,
        sha256: crate::hash::sha256(content),
    }
}

/// `online` as the keys of every online role: bins, snapshot and timestamp.
pub(super) fn online_signers<'a>(online: &'a [&'a dyn Signer]) -> OnlineSigners<'a> {
    OnlineSigners {
        bins: online,
        snapshot: online,
        timestamp: online,
    }
}

/// Root and targets v1 under [`policy`], one key each, `online` for every online role.
pub(super) fn offline_roles(
    root: &dyn Signer,
    targets: &dyn Signer,
    online: &dyn Signer,
) -> offline::OfflineRoles {
    offline_roles_under(&policy(), root, targets, online)
}

/// Root and targets v1 under `policy`, one key each, `online` for every online role.
pub(super) fn offline_roles_under(
    policy: &Policy,
    root: &dyn Signer,
    targets: &dyn Signer,
    online: &dyn Signer,
) -> offline::OfflineRoles {
    offline_roles_with_targets_version(policy, 1, root, targets, online)
}

/// Root v1 and targets v`targets_version` under `policy`, one key each, `online` for
/// every online role; at version 1 the same bytes as `offline::create`.
pub(super) fn offline_roles_with_targets_version(
    policy: &Policy,
    targets_version: u64,
    root: &dyn Signer,
    targets: &dyn Signer,
    online: &dyn Signer,
) -> offline::OfflineRoles {
    with_one_key_each(root, targets, online, |keys| {
        let root_meta = offline::root(
            keys,
            Version::new(1).unwrap(),
            expires_after(now(), policy.expiry.root, "root").unwrap(),
        )
        .unwrap();
        let targets_meta = offline::targets(
            policy,
            keys.bins,
            Version::new(targets_version).unwrap(),
            expires_after(now(), policy.expiry.targets, "targets").unwrap(),
        )
        .unwrap();
        offline::OfflineRoles {
            root: sign_role(&root_meta, keys.root).unwrap(),
            targets: sign_role(&targets_meta, keys.targets).unwrap(),
        }
    })
}

/// `f` of the keys of a repository with one key a role, `online` for every online role.
fn with_one_key_each<T>(
    root: &dyn Signer,
    targets: &dyn Signer,
    online: &dyn Signer,
    f: impl FnOnce(&RepoKeys<'_>) -> T,
) -> T {
    let (root, targets, online) = ([root], [targets], [online]);
    f(&RepoKeys {
        root: &root,
        targets: &targets,
        snapshot: &online,
        timestamp: &online,
        bins: &online,
    })
}

/// `full_publish` of `entries` over `root` and `targets` after `previous`, with the
/// default expiries, at [`now`].
pub(super) fn full_publish_now(
    root: &[u8],
    targets: &[u8],
    previous: Option<&PublishedState>,
    entries: Vec<TargetEntry>,
    signers: &OnlineSigners<'_>,
) -> Result<Publication, Error> {
    let input = FullInput {
        root,
        targets,
        previous,
        expiry: &Expiries::default(),
        now: now(),
        floors: None,
    };
    full_publish(&input, entries, signers, &Limits::default())
}

/// The first publish of `entries` over `offline`'s root and targets, every online role
/// signed by `online`.
pub(super) fn publish_first(
    offline: &offline::OfflineRoles,
    online: &dyn Signer,
    entries: Vec<TargetEntry>,
) -> Result<Publication, Error> {
    let online = [online];
    full_publish_now(
        &offline.root,
        &offline.targets,
        None,
        entries,
        &online_signers(&online),
    )
}

pub(super) fn first(
    keys: &Keys,
    entries: Vec<TargetEntry>,
) -> (offline::OfflineRoles, Publication) {
    let offline = offline_roles(&keys.root, &keys.targets, &keys.online);
    let publication = publish_first(&offline, &keys.online, entries).unwrap();
    (offline, publication)
}

fn file<'p>(publication: &'p Publication, name: &str) -> &'p [u8] {
    &publication
        .files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no file {name}"))
        .bytes
}

pub(super) fn index() -> Vec<TargetEntry> {
    vec![
        entry("config.json", b"{\"dl\":\"x\"}"),
        entry("se/rd/serde", b"line1\n"),
        entry("3/a/abc", b"abc\n"),
        entry("1/a", b"a\n"),
    ]
}

#[test]
fn the_roles_builder_at_targets_version_1_is_offline_create() {
    let keys = keys();
    let created = with_one_key_each(&keys.root, &keys.targets, &keys.online, |repo_keys| {
        offline::create(&policy(), repo_keys, now()).unwrap()
    });
    let built = offline_roles(&keys.root, &keys.targets, &keys.online);
    assert_eq!(built.root, created.root);
    assert_eq!(built.targets, created.targets);
}

#[test]
fn full_publish_emits_every_bin_in_order_and_verifies() {
    let keys = keys();
    let (offline, publication) = first(&keys, index());
    let names: Vec<&str> = publication.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), 2 + 16 + 2);
    assert_eq!(names[0], "1.root.json");
    assert_eq!(names[1], "1.targets.json");
    assert_eq!(names[2], "1.crates-bin-0.json");
    assert_eq!(names[17], "1.crates-bin-f.json");
    assert_eq!(names[18], "1.snapshot.json");
    assert_eq!(names[19], "timestamp.json");
    assert_eq!(publication.bins_signed(), 16);

    // Walk it as a client: timestamp → snapshot (length + hash) → targets → bin → target.
    let limits = Limits::default();
    let mut loader =
        StateLoader::new(&offline.root, file(&publication, "timestamp.json"), &limits).unwrap();
    assert_eq!(loader.snapshot_file().unwrap(), "1.snapshot.json");
    loader
        .add_snapshot(file(&publication, "1.snapshot.json"))
        .unwrap();
    assert_eq!(loader.targets_file().unwrap(), "1.targets.json");
    let state = loader.finish(&offline.targets).unwrap();
    assert_eq!(state.snapshot().meta.len(), 17);
    let bin = state.bins().bin_of("se/rd/serde");
    let bin_file = state.bin_file(bin).unwrap();
    let verified = state
        .verify_bin(bin, file(&publication, &bin_file), &limits)
        .unwrap();
    let target = &verified.targets[&TargetPath::parse("se/rd/serde").unwrap()];
    assert_eq!(target.length.get(), 6);
    assert_eq!(target.sha256(), Some(crate::hash::sha256(b"line1\n")));
    // The timestamp pins the snapshot's length and hash.
    let ts_meta = state.timestamp().snapshot_meta().unwrap();
    assert_eq!(
        ts_meta.length.unwrap().get(),
        file(&publication, "1.snapshot.json").len() as u64
    );
    // Bins are written canonically.
    let value: serde_json::Value = serde_json::from_slice(file(&publication, &bin_file)).unwrap();
    assert_eq!(
        crate::cjson::to_file_form(&value).unwrap(),
        file(&publication, &bin_file)
    );
}

#[test]
fn empty_bins_are_signed_too() {
    let keys = keys();
    let (_, publication) = first(&keys, Vec::new());
    assert_eq!(publication.bins_signed(), 16);
    let meta = SignedMetadata::parse(
        file(&publication, "1.crates-bin-7.json"),
        RoleType::Targets,
        &Limits::default(),
    )
    .unwrap();
    let bin: Targets = meta
        .decode_unverified("crates-bin-7", &Limits::default())
        .unwrap();
    assert!(bin.targets.is_empty());
}

#[test]
fn duplicate_target_is_refused() {
    let keys = keys();
    let offline = offline_roles(&keys.root, &keys.root, &keys.online);
    let mut entries = index();
    entries.push(entry("1/a", b"other\n"));
    let err = publish_first(&offline, &keys.online, entries).unwrap_err();
    assert_eq!(err.code(), "duplicate-target");
}

#[test]
fn unauthorised_online_key_is_refused_before_signing() {
    let keys = keys();
    let (offline, _) = first(&keys, index());
    let outsider = Ed25519Signer::from_seed(&[9; 32]).unwrap();
    let online: [&dyn Signer; 1] = [&keys.online];
    let wrong: [&dyn Signer; 1] = [&outsider];
    for signers in [
        OnlineSigners {
            bins: &wrong,
            snapshot: &online,
            timestamp: &online,
        },
        OnlineSigners {
            bins: &online,
            snapshot: &wrong,
            timestamp: &online,
        },
        OnlineSigners {
            bins: &online,
            snapshot: &online,
            timestamp: &wrong,
        },
        OnlineSigners {
            bins: &[],
            snapshot: &online,
            timestamp: &online,
        },
    ] {
        let err =
            full_publish_now(&offline.root, &offline.targets, None, index(), &signers).unwrap_err();
        assert_eq!(err.code(), "invalid", "{err}");
    }
}

#[test]
fn unauthorised_online_key_is_refused_even_when_nothing_is_due() {
    // Issue #11 item 6: an edit with no change and nothing expiring signs nothing, and
    // used to accept any key for it; a misconfigured publisher then passed its first runs.
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let state = &first_pub.state;
    let outsider = Ed25519Signer::from_seed(&[9; 32]).unwrap();
    let online: [&dyn Signer; 1] = [&keys.online];
    let wrong: [&dyn Signer; 1] = [&outsider];
    for (signers, role) in [
        (online_signers(&wrong), "bins"),
        (
            OnlineSigners {
                bins: &online,
                snapshot: &online,
                timestamp: &wrong,
            },
            "timestamp",
        ),
        (
            OnlineSigners {
                bins: &online,
                snapshot: &wrong,
                timestamp: &online,
            },
            "snapshot",
        ),
    ] {
        for refresh_before in [None, Some(now())] {
            let err = Edit::new(state, &Limits::default())
                .finish(&Expiries::default(), &signers, now(), refresh_before)
                .unwrap_err();
            assert!(
                matches!(&err, Error::Invalid { role: r, .. } if r == role),
                "{role}: {err}"
            );
        }
    }
    // The right key, nothing due: nothing is signed.
    let publication = Edit::new(state, &Limits::default())
        .finish(&Expiries::default(), &online_signers(&online), now(), None)
        .unwrap();
    assert!(publication.files.is_empty());
}

pub(super) fn edit_publish(
    keys: &Keys,
    state: &PublishedState,
    files: &BTreeMap<String, Vec<u8>>,
    changes: Vec<Change>,
) -> Publication {
    tests_floors::edit_with_floors(keys, state, files, changes, &VersionFloors::new())
}

pub(super) fn all_files(publications: &[&Publication]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for publication in publications {
        for f in &publication.files {
            files.insert(f.name.clone(), f.bytes.clone());
        }
    }
    files
}

#[test]
fn incremental_publish_resigns_one_bin_then_snapshot_then_timestamp() {
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let files = all_files(&[&first_pub]);
    let state = &first_pub.state;
    let changed = entry("se/rd/serde", b"line1\nline2\n");
    let bin = state.bins().bin_of("se/rd/serde");
    let publication = edit_publish(&keys, state, &files, vec![Change::Put(changed.clone())]);
    let names: Vec<&str> = publication.files.iter().map(|f| f.name.as_str()).collect();
    let bin_name = state.bins().bin_name(bin);
    assert_eq!(
        names,
        [
            format!("2.{bin_name}.json").as_str(),
            "2.snapshot.json",
            "timestamp.json"
        ]
    );
    assert_eq!(
        publication.superseded,
        [format!("1.{bin_name}.json"), "1.snapshot.json".to_owned()]
    );
    assert_eq!(
        publication.superseded_targets,
        [entry("se/rd/serde", b"line1\n")]
    );
    let new_state = &publication.state;
    assert_eq!(new_state.bin_version(bin).unwrap().get(), 2);
    assert_eq!(new_state.snapshot().version.get(), 2);
    assert_eq!(new_state.timestamp().version.get(), 2);
    // Other bins keep version 1.
    let other = (bin + 1) % 16;
    assert_eq!(new_state.bin_version(other).unwrap().get(), 1);
    // The new bin verifies under the new state and lists the new hash.
    let all = all_files(&[&first_pub, &publication]);
    let verified = new_state
        .verify_bin(
            bin,
            &all[&versioned_file_name(2, &bin_name)],
            &Limits::default(),
        )
        .unwrap();
    assert_eq!(
        verified.targets[&changed.path].sha256(),
        Some(changed.sha256)
    );
    // The timestamp names the new snapshot's exact bytes.
    let ts = SignedMetadata::parse(
        &all["timestamp.json"],
        RoleType::Timestamp,
        &Limits::default(),
    )
    .unwrap();
    let ts: Timestamp = ts
        .decode_unverified("timestamp", &Limits::default())
        .unwrap();
    let meta = ts.snapshot_meta().unwrap();
    crate::metadata::check_length_and_hashes(
        "snapshot",
        &all["2.snapshot.json"],
        meta.length,
        meta.hashes.as_ref(),
    )
    .unwrap();
}

#[test]
fn unchanged_content_publishes_nothing() {
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let files = all_files(&[&first_pub]);
    let publication = edit_publish(
        &keys,
        &first_pub.state,
        &files,
        vec![
            Change::Put(entry("se/rd/serde", b"line1\n")),
            Change::Remove(TargetPath::parse("no/ne/none").unwrap()),
        ],
    );
    assert!(publication.is_empty());
    assert!(publication.superseded.is_empty());
}

#[test]
fn remove_drops_the_target_and_reports_its_old_entry() {
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let files = all_files(&[&first_pub]);
    let path = TargetPath::parse("3/a/abc").unwrap();
    let publication = edit_publish(
        &keys,
        &first_pub.state,
        &files,
        vec![Change::Remove(path.clone())],
    );
    assert_eq!(publication.bins_signed(), 1);
    assert_eq!(publication.superseded_targets, [entry("3/a/abc", b"abc\n")]);
    let bin = first_pub.state.bins().bin_of("3/a/abc");
    let all = all_files(&[&first_pub, &publication]);
    let name = publication.state.bin_file(bin).unwrap();
    let verified = publication
        .state
        .verify_bin(bin, &all[&name], &Limits::default())
        .unwrap();
    assert!(!verified.targets.contains_key(&path));
}

#[test]
fn changes_in_two_bins_and_last_change_wins() {
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let files = all_files(&[&first_pub]);
    let state = &first_pub.state;
    // Find two new paths in different bins.
    let a = "ab/cd/abcd";
    let b = (0..100)
        .map(|i| format!("ab/cd/abcd{i}"))
        .find(|p| state.bins().bin_of(p) != state.bins().bin_of(a))
        .unwrap();
    let publication = edit_publish(
        &keys,
        state,
        &files,
        vec![
            Change::Put(entry(a, b"1")),
            Change::Put(entry(&b, b"1")),
            Change::Put(entry(a, b"2")),
        ],
    );
    assert_eq!(publication.bins_signed(), 2);
    let all = all_files(&[&first_pub, &publication]);
    let bin = state.bins().bin_of(a);
    let verified = publication
        .state
        .verify_bin(
            bin,
            &all[&publication.state.bin_file(bin).unwrap()],
            &Limits::default(),
        )
        .unwrap();
    assert_eq!(
        verified.targets[&TargetPath::parse(a).unwrap()].sha256(),
        Some(crate::hash::sha256(b"2"))
    );
}

#[test]
fn edit_needs_its_bins_loaded() {
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let online: [&dyn Signer; 1] = [&keys.online];
    let signers = online_signers(&online);
    let mut edit = Edit::new(&first_pub.state, &Limits::default());
    edit.apply(Change::Put(entry("1/a", b"x")));
    assert_eq!(edit.bins_to_load().len(), 1);
    let err = edit
        .finish(&Expiries::default(), &signers, now(), None)
        .unwrap_err();
    assert_eq!(err.code(), "repo-state");
}

#[test]
fn a_bin_file_of_the_wrong_version_or_bin_is_refused() {
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let files = all_files(&[&first_pub]);
    let state = &first_pub.state;
    let bin = state.bins().bin_of("1/a");
    let second = edit_publish(
        &keys,
        state,
        &files,
        vec![Change::Put(entry("1/a", b"new"))],
    );
    let all = all_files(&[&first_pub, &second]);
    // The old version of the bin against the new state.
    let err = second
        .state
        .verify_bin(bin, &all[&state.bin_file(bin).unwrap()], &Limits::default())
        .unwrap_err();
    // The client's rule (TUF §5.6.4), with the client's error.
    assert_eq!(err.code(), "version-mismatch");
    // Another bin's file given for this bin.
    let other = (bin + 1) % 16;
    let err = state
        .verify_bin(
            other,
            &all[&state.bin_file(bin).unwrap()],
            &Limits::default(),
        )
        .unwrap_err();
    // TAP 15: it lists paths of the other bin.
    assert_eq!(err.code(), "misplaced", "{err}");
    // A bin signed by the wrong key.
    let outsider = Ed25519Signer::from_seed(&[9; 32]).unwrap();
    let forged = sign_bin(
        state.bin_version(bin).unwrap(),
        &Expires::from_time(now()),
        BTreeMap::new(),
        &[&outsider],
    )
    .unwrap();
    assert_eq!(
        state
            .verify_bin(bin, &forged, &Limits::default())
            .unwrap_err()
            .code(),
        "threshold"
    );
}

#[test]
fn refresh_resigns_only_what_expires_within_the_window() {
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let files = all_files(&[&first_pub]);
    let state = &first_pub.state;
    let online: [&dyn Signer; 1] = [&keys.online];
    let signers = online_signers(&online);
    let refresh = |at: DateTime<Utc>, window: TimeDelta| {
        let mut edit = Edit::new(state, &Limits::default());
        let bins: Vec<u32> = edit.all_bins().collect();
        for bin in bins {
            edit.load_bin(bin, &files[&state.bin_file(bin).unwrap()])
                .unwrap();
        }
        edit.finish(&Expiries::default(), &signers, at, Some(at + window))
            .unwrap()
    };
    // Nothing expires within an hour of signing.
    assert!(refresh(now(), TimeDelta::hours(1)).is_empty());
    // 20 hours later with a 6 hour window: only the timestamp (1 day).
    let later = refresh(now() + TimeDelta::hours(20), TimeDelta::hours(6));
    let names: Vec<&str> = later.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["timestamp.json"]);
    assert_eq!(later.state.timestamp().version.get(), 2);
    assert_eq!(later.state.snapshot().version.get(), 1);
    // Six days later with a two-day window: every bin, the snapshot and the timestamp.
    let week = refresh(now() + TimeDelta::days(6), TimeDelta::days(2));
    assert_eq!(week.bins_signed(), 16);
    assert_eq!(week.files.len(), 18);
    assert_eq!(week.state.snapshot().version.get(), 2);
    let snapshot = SignedMetadata::parse(
        &week.files[16].bytes,
        RoleType::Snapshot,
        &Limits::default(),
    )
    .unwrap();
    let snapshot: Snapshot = snapshot
        .decode_unverified("snapshot", &Limits::default())
        .unwrap();
    assert!(
        snapshot
            .meta
            .values()
            .filter(|m| m.version.get() == 2)
            .count()
            == 16
    );
}

#[test]
fn state_loader_checks_the_links() {
    let keys = keys();
    let (offline, publication) = first(&keys, index());
    let limits = Limits::default();
    let mut loader =
        StateLoader::new(&offline.root, file(&publication, "timestamp.json"), &limits).unwrap();
    // A snapshot of other bytes than the timestamp names.
    let mut tampered = file(&publication, "1.snapshot.json").to_vec();
    tampered.push(b' ');
    assert_eq!(
        loader.add_snapshot(&tampered).unwrap_err().code(),
        "length-mismatch"
    );
    // A timestamp not signed by the timestamp key.
    let root_signers: [&dyn Signer; 1] = [&keys.root];
    let ts = SignedMetadata::parse(
        file(&publication, "timestamp.json"),
        RoleType::Timestamp,
        &limits,
    )
    .unwrap();
    let ts: Timestamp = ts.decode_unverified("timestamp", &limits).unwrap();
    let forged = sign_role(&ts, &root_signers).unwrap();
    assert_eq!(
        StateLoader::new(&offline.root, &forged, &limits)
            .unwrap_err()
            .code(),
        "threshold"
    );
    // Targets given before the snapshot.
    let loader =
        StateLoader::new(&offline.root, file(&publication, "timestamp.json"), &limits).unwrap();
    assert_eq!(
        loader.finish(&offline.targets).unwrap_err().code(),
        "repo-state"
    );
}

#[test]
fn state_loader_refuses_a_canonical_snapshot_signed_by_another_key() {
    // A timestamp signed by the right key that names (length and hash) a snapshot in
    // canonical form signed by the root key: the snapshot's own signature must still be
    // checked (the direct reader declines, the general path refuses it).
    let keys = keys();
    let (offline, publication) = first(&keys, index());
    let limits = Limits::default();
    let snapshot_meta = SignedMetadata::parse(
        file(&publication, "1.snapshot.json"),
        RoleType::Snapshot,
        &limits,
    )
    .unwrap();
    let snapshot: Snapshot = snapshot_meta
        .decode_unverified("snapshot", &limits)
        .unwrap();
    let wrong: [&dyn Signer; 1] = [&keys.root];
    let forged_snapshot = sign_role(&snapshot, &wrong).unwrap();
    let ts_meta = SignedMetadata::parse(
        file(&publication, "timestamp.json"),
        RoleType::Timestamp,
        &limits,
    )
    .unwrap();
    let mut ts: Timestamp = ts_meta.decode_unverified("timestamp", &limits).unwrap();
    ts.meta.insert(
        "snapshot.json".to_owned(),
        state::snapshot_meta(
            snapshot.version,
            u64::try_from(forged_snapshot.len()).unwrap(),
            crate::hash::sha256(&forged_snapshot),
        ),
    );
    let online: [&dyn Signer; 1] = [&keys.online];
    let timestamp = sign_role(&ts, &online).unwrap();
    let mut loader = StateLoader::new(&offline.root, &timestamp, &limits).unwrap();
    assert_eq!(
        loader.add_snapshot(&forged_snapshot).unwrap_err().code(),
        "threshold"
    );
    // The same bytes signed by the snapshot key load, through the direct reader.
    let good = sign_role(&snapshot, &online).unwrap();
    assert_eq!(good, file(&publication, "1.snapshot.json"));
}

#[test]
fn second_full_publish_continues_versions() {
    let keys = keys();
    let (offline, first_pub) = first(&keys, index());
    let online: [&dyn Signer; 1] = [&keys.online];
    let signers = online_signers(&online);
    let again = full_publish_now(
        &offline.root,
        &offline.targets,
        Some(&first_pub.state),
        index(),
        &signers,
    )
    .unwrap();
    assert_eq!(again.state.snapshot().version.get(), 2);
    assert_eq!(again.state.timestamp().version.get(), 2);
    assert_eq!(again.state.bin_version(0).unwrap().get(), 2);
    // Every old bin and the old snapshot are superseded; root and targets are not.
    assert_eq!(again.superseded.len(), 17);
    assert!(!again
        .superseded
        .iter()
        .any(|n| n.contains("root") || n.contains("targets")));
}

#[test]
fn target_copy_names_follow_python_tuf() {
    let digest = [0xab; 32];
    let hex = "ab".repeat(32);
    assert_eq!(
        target_copy_name(&TargetPath::parse("se/rd/serde").unwrap(), &digest),
        format!("se/rd/{hex}.serde")
    );
    assert_eq!(
        target_copy_name(&TargetPath::parse("config.json").unwrap(), &digest),
        format!("{hex}.config.json")
    );
}

#[test]
fn state_loader_checks_the_targets_length_the_snapshot_lists() {
    // The loader used to skip TUF §5.6.2 (a client checks the targets' length and hashes
    // when the snapshot lists them); it now takes the client's step, which does.
    let keys = keys();
    let (offline, publication) = first(&keys, index());
    let limits = Limits::default();
    let snapshot_meta = SignedMetadata::parse(
        file(&publication, "1.snapshot.json"),
        RoleType::Snapshot,
        &limits,
    )
    .unwrap();
    let snapshot: Snapshot = snapshot_meta
        .decode_unverified("snapshot", &limits)
        .unwrap();
    let ts_meta = SignedMetadata::parse(
        file(&publication, "timestamp.json"),
        RoleType::Timestamp,
        &limits,
    )
    .unwrap();
    let ts: Timestamp = ts_meta.decode_unverified("timestamp", &limits).unwrap();
    let online: [&dyn Signer; 1] = [&keys.online];
    let loader_with_targets_length = |length: u64| {
        let mut listed = snapshot.clone();
        let entry = listed.meta.get_mut("targets.json").unwrap();
        entry.length = Some(crate::metadata::Length::new(length));
        let snapshot_bytes = sign_role(&listed, &online).unwrap();
        let mut ts = ts.clone();
        ts.meta.insert(
            "snapshot.json".to_owned(),
            state::snapshot_meta(
                listed.version,
                u64::try_from(snapshot_bytes.len()).unwrap(),
                crate::hash::sha256(&snapshot_bytes),
            ),
        );
        let timestamp = sign_role(&ts, &online).unwrap();
        let mut loader = StateLoader::new(&offline.root, &timestamp, &limits).unwrap();
        loader.add_snapshot(&snapshot_bytes).unwrap();
        loader
    };
    let length = u64::try_from(offline.targets.len()).unwrap();
    let wrong = loader_with_targets_length(length + 1);
    assert_eq!(
        wrong.finish(&offline.targets).unwrap_err().code(),
        "length-mismatch"
    );
    let right = loader_with_targets_length(length);
    right.finish(&offline.targets).unwrap();
}
