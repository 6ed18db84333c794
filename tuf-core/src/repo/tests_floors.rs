//! Version floors: signing the snapshot and bins above the next version (a name a
//! concurrent or crashed publisher took on create-only storage), and clients accepting it.

use std::collections::BTreeMap;

use chrono::TimeDelta;

use super::tests::{all_files, entry, first, index, keys, now, online_signers, Keys};
use super::*;
use crate::limits::Limits;
use crate::trusted::TrustedState;

fn version(n: u64) -> Version {
    Version::new(n).unwrap()
}

/// An edit of `state` putting `changes`, under `floors`, signed an hour after [`now`].
pub(super) fn edit_with_floors(
    keys: &Keys,
    state: &PublishedState,
    files: &BTreeMap<String, Vec<u8>>,
    changes: Vec<Change>,
    floors: &VersionFloors,
) -> Publication {
    let online: [&dyn Signer; 1] = [&keys.online];
    let mut edit = Edit::new(state, &Limits::default());
    edit.set_floors(floors);
    for change in changes {
        edit.apply(change);
    }
    for bin in edit.bins_to_load() {
        let name = state.bin_file(bin).unwrap();
        edit.load_bin(bin, &files[&name]).unwrap();
    }
    edit.finish(
        &Expiries::default(),
        &online_signers(&online),
        now() + TimeDelta::hours(1),
        None,
    )
    .unwrap()
}

/// A client that trusts `old` (root, timestamp, snapshot) updates to `new`: timestamp,
/// snapshot, targets, and the bin `bin_name` from the files of both publications.
fn client_update(
    root: &[u8],
    old: &Publication,
    new: &Publication,
    files: &BTreeMap<String, Vec<u8>>,
    bin_name: &str,
) -> Result<(), Error> {
    let at = now() + TimeDelta::hours(2);
    let mut client = TrustedState::new_from_root(root, at)?;
    let old_files = all_files(&[old]);
    client.load_local_timestamp(&old_files[TIMESTAMP_FILE], at)?;
    let new_files = all_files(&[new]);
    let _ = client.update_timestamp(&new_files[TIMESTAMP_FILE], at)?;
    // The snapshot trusted before, the reference for the rollback checks of §5.5.5.
    let _ = client.load_local_snapshot(&old_files[&old.state.snapshot_file()], at)?;
    client.update_snapshot(&files[&new.state.snapshot_file()], at)?;
    let _ = client.update_targets(&files[&new.state.targets_file()], at)?;
    let bin_version = client
        .role_meta(bin_name)
        .map(|m| m.version)
        .ok_or_else(|| Error::RepoState {
            what: bin_name.to_owned(),
            reason: "not in the snapshot".to_owned(),
        })?;
    let bin_file = versioned_name(bin_name, bin_version);
    let _ = client.update_delegated("targets", bin_name, &files[&bin_file], at)?;
    Ok(())
}

#[test]
fn an_edit_signs_the_snapshot_and_a_bin_at_their_floors_and_clients_accept_it() {
    let keys = keys();
    let (offline, first_pub) = first(&keys, index());
    let state = &first_pub.state;
    let files = all_files(&[&first_pub]);
    let bin = state.bins().bin_of("se/rd/serde");
    let bin_name = state.bins().bin_name(bin);
    // `2.snapshot.json` .. `6.snapshot.json` and `2..4.<bin>.json` were taken by
    // attempts that never published a timestamp.
    let mut floors = VersionFloors::new();
    floors.raise("snapshot", version(7));
    floors.raise(&bin_name, version(5));
    floors.raise(&bin_name, version(3)); // a lower floor leaves it at 5
    let publication = edit_with_floors(
        &keys,
        state,
        &files,
        vec![Change::Put(entry("se/rd/serde", b"line1\nline2\n"))],
        &floors,
    );
    let names: Vec<&str> = publication.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("5.{bin_name}.json").as_str(),
            "7.snapshot.json",
            "timestamp.json"
        ]
    );
    // The timestamp has no floor: it is one above the loaded one (its name is fixed; the
    // caller's compare-and-swap decides between publishers).
    assert_eq!(publication.state.timestamp().version.get(), 2);
    assert_eq!(publication.state.bin_version(bin).unwrap().get(), 5);
    // Untouched bins keep their version.
    let other = (bin + 1) % 16;
    assert_eq!(publication.state.bin_version(other).unwrap().get(), 1);
    // The superseded files are the loaded state's, not the skipped names.
    assert_eq!(
        publication.superseded,
        [format!("1.{bin_name}.json"), "1.snapshot.json".to_owned()]
    );

    // A client that trusted the first state takes the skip (TUF §5.4.3.2, §5.5.5 check
    // only that versions do not go down).
    let all = all_files(&[&first_pub, &publication]);
    client_update(&offline.root, &first_pub, &publication, &all, &bin_name).unwrap();

    // The next edit continues from the skipped versions, floors or not.
    let next = edit_with_floors(
        &keys,
        &publication.state,
        &all,
        vec![Change::Put(entry("se/rd/serde", b"line1\n"))],
        &VersionFloors::new(),
    );
    assert_eq!(next.state.bin_version(bin).unwrap().get(), 6);
    assert_eq!(next.state.snapshot().version.get(), 8);
}

#[test]
fn a_floor_never_lowers_a_version_and_root_timestamp_floors_are_ignored() {
    let keys = keys();
    let (_, first_pub) = first(&keys, index());
    let state = &first_pub.state;
    let files = all_files(&[&first_pub]);
    let bin = state.bins().bin_of("1/a");
    let bin_name = state.bins().bin_name(bin);
    let mut floors = VersionFloors::new();
    floors.raise("snapshot", version(1));
    floors.raise(&bin_name, version(1));
    floors.raise("timestamp", version(50));
    floors.raise("root", version(50));
    floors.raise("targets", version(50));
    let publication = edit_with_floors(
        &keys,
        state,
        &files,
        vec![Change::Put(entry("1/a", b"b\n"))],
        &floors,
    );
    assert_eq!(publication.state.bin_version(bin).unwrap().get(), 2);
    assert_eq!(publication.state.snapshot().version.get(), 2);
    assert_eq!(publication.state.timestamp().version.get(), 2);
    assert_eq!(publication.state.root().version.get(), 1);
    assert_eq!(publication.state.targets().version.get(), 1);
}

#[test]
fn a_skipped_version_is_refused_when_the_file_holds_another() {
    // The floor changes the name and the version inside together: a bin file of the
    // version before the floor (the one a lost attempt created) is not the one the new
    // snapshot names, and is refused by the publisher's reader and by a client.
    let keys = keys();
    let (offline, first_pub) = first(&keys, index());
    let state = &first_pub.state;
    let files = all_files(&[&first_pub]);
    let bin = state.bins().bin_of("se/rd/serde");
    let bin_name = state.bins().bin_name(bin);
    let change = || vec![Change::Put(entry("se/rd/serde", b"other\n"))];
    let lost = edit_with_floors(&keys, state, &files, change(), &VersionFloors::new());
    let mut floors = VersionFloors::new();
    floors.raise(&bin_name, version(3));
    floors.raise("snapshot", version(3));
    let won = edit_with_floors(&keys, state, &files, change(), &floors);
    let lost_files = all_files(&[&lost]);
    let lost_bin = &lost_files[&versioned_file_name(2, &bin_name)];
    let err = won
        .state
        .verify_bin(bin, lost_bin, &Limits::default())
        .unwrap_err();
    assert_eq!(err.code(), "version-mismatch");

    // A client given the lost attempt's bin under the won snapshot's name refuses it.
    let mut all = all_files(&[&first_pub, &won]);
    all.insert(versioned_file_name(3, &bin_name), lost_bin.clone());
    let err = client_update(&offline.root, &first_pub, &won, &all, &bin_name).unwrap_err();
    assert_eq!(err.code(), "version-mismatch", "{err}");
}

#[test]
fn a_full_publish_signs_at_the_floors() {
    let keys = keys();
    let (offline, first_pub) = first(&keys, index());
    let online: [&dyn Signer; 1] = [&keys.online];
    let bin_name = first_pub.state.bins().bin_name(0);
    let mut floors = VersionFloors::new();
    floors.raise("snapshot", version(4));
    floors.raise(&bin_name, version(9));
    let input = FullInput {
        root: &offline.root,
        targets: &offline.targets,
        previous: Some(&first_pub.state),
        expiry: &Expiries::default(),
        now: now(),
        floors: Some(&floors),
    };
    let again = full_publish(
        &input,
        index(),
        &online_signers(&online),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(again.state.snapshot().version.get(), 4);
    assert_eq!(again.state.bin_version(0).unwrap().get(), 9);
    assert_eq!(again.state.bin_version(1).unwrap().get(), 2);
    assert_eq!(again.state.timestamp().version.get(), 2);
    // A first publish (nothing before) starts at the floors too.
    let input = FullInput {
        previous: None,
        ..input
    };
    let fresh = full_publish(
        &input,
        index(),
        &online_signers(&online),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(fresh.state.snapshot().version.get(), 4);
    assert_eq!(fresh.state.bin_version(0).unwrap().get(), 9);
    assert_eq!(fresh.state.bin_version(1).unwrap().get(), 1);
    assert_eq!(fresh.state.timestamp().version.get(), 1);
}
