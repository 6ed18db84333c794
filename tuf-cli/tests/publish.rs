//! End-to-end publishing on real files: first and incremental publish, yank, delete,
//! the manifest, refresh and pruning.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use chrono::TimeDelta;
use common::*;
use tuf_core::metadata::versioned_file_name;
use tuf_core::repo::target_copy_name;
use tuf_repo::publish::{self, Changes, PublishKind};
use tuf_repo::verify::TargetCheck;

#[test]
fn first_publish_signs_every_bin_and_verifies() {
    let f = Fixture::new(40, 4);
    let report = f.publish(&Changes::Scan);
    assert_eq!(report.kind, PublishKind::First);
    assert_eq!(report.files_seen, 41);
    assert_eq!(report.bins_signed, 16);
    assert_eq!(report.copies_written, 41);
    assert_eq!(report.metadata_written, 16 + 2); // root and targets were written by init
    let verified = f.verify(TargetCheck::Copies);
    // 41 index files, and (release feeds on, docs/feeds.md) 40 crate feeds and the
    // registry's.
    assert_eq!((verified.bins, verified.targets), (16, 41 + 40 + 1));
    f.verify(TargetCheck::Index);
    // Every bin exists even when the index is tiny.
    let g = Fixture::new(1, 6);
    g.publish(&Changes::Scan);
    assert_eq!(g.verify(TargetCheck::Copies).bins, 64);
}

#[test]
fn publishing_a_version_resigns_one_bin_snapshot_and_timestamp() {
    let f = Fixture::new(40, 6);
    f.publish(&Changes::Scan);
    let name = crate_name(7);
    let path = sparse_path(&name);
    let before = f.view();
    let bin = before.bins().bin_of(&path);
    let bin_version = before
        .snapshot()
        .role_meta(&before.bins().bin_name(bin))
        .unwrap()
        .version;
    // The index file's bin, and those of the two feeds that change with it (docs/feeds.md).
    let bins = f.bins_of_change(&[&path]);
    write_crate(f.index(), &name, &versions(4));
    let report = f.publish_paths(&[&path]);
    assert_eq!(report.kind, PublishKind::Incremental);
    assert_eq!(
        (
            report.files_hashed,
            report.bins_signed,
            report.metadata_written
        ),
        (1, bins, bins + 2)
    );
    let after = f.view();
    assert_eq!(
        after.snapshot().version.get(),
        before.snapshot().version.get() + 1
    );
    assert_eq!(
        after.timestamp().version.get(),
        before.timestamp().version.get() + 1
    );
    let name_of_bin = after.bins().bin_name(bin);
    assert_eq!(
        after.snapshot().role_meta(&name_of_bin).unwrap().version,
        bin_version.next().unwrap()
    );
    let entry = after.target(&path).unwrap().unwrap();
    let bytes = fs::read(f.index().join(&path)).unwrap();
    assert_eq!(entry.sha256(), Some(tuf_core::hash::sha256(&bytes)));
    f.verify(TargetCheck::Copies);
    // Publishing the same state again signs nothing.
    let again = f.publish_paths(&[&path]);
    assert_eq!(again.metadata_written, 0);
    assert_eq!(f.view().timestamp().version, after.timestamp().version);
}

#[test]
fn yank_changes_the_hash_and_the_bin_end_to_end() {
    let f = Fixture::new(30, 4);
    f.publish(&Changes::Scan);
    let name = crate_name(5);
    let path = sparse_path(&name);
    let old = f.view().target(&path).unwrap().unwrap();
    let mut yanked = versions(3);
    yanked[1].1 = true;
    write_crate(f.index(), &name, &yanked);
    f.publish_paths(&[&path]);
    let view = f.view();
    let new = view.target(&path).unwrap().unwrap();
    assert_ne!(new.sha256(), old.sha256());
    // The verified copy holds the yanked line.
    let copy = f.repo.targets_dir().join(target_copy_name(
        &tuf_core::metadata::TargetPath::parse(&path).unwrap(),
        &new.sha256().unwrap(),
    ));
    let text = fs::read_to_string(copy).unwrap();
    assert!(text.lines().nth(1).unwrap().contains(r#""yanked":true"#));
    view.check_target(
        &tuf_core::metadata::TargetPath::parse(&path).unwrap(),
        &new,
        TargetCheck::Copies,
    )
    .unwrap();
    // The old copy stays for readers holding the old metadata, until pruned.
    let old_copy = f.repo.targets_dir().join(target_copy_name(
        &tuf_core::metadata::TargetPath::parse(&path).unwrap(),
        &old.sha256().unwrap(),
    ));
    assert!(old_copy.exists());
    assert_eq!(
        publish::prune(&f.repo, later(0), TimeDelta::hours(1)).unwrap(),
        0
    );
    assert!(publish::prune(&f.repo, later(2), TimeDelta::hours(1)).unwrap() >= 3);
    assert!(!old_copy.exists());
    f.verify(TargetCheck::Copies);
}

#[test]
fn deleting_a_crate_removes_its_target() {
    let f = Fixture::new(30, 4);
    f.publish(&Changes::Scan);
    let gone = sparse_path(&crate_name(11));
    let other = sparse_path(&crate_name(12));
    assert!(f.view().target(&gone).unwrap().is_some());
    fs::remove_file(f.index().join(&gone)).unwrap();
    // Through a scan (the manifest sees the file is gone) ... (its bin, and its feed's
    // and the updates feed's, which get the deletion items)
    let bins = f.bins_of_change(&[&gone]);
    let report = f.publish(&Changes::Scan);
    assert_eq!(report.bins_signed, bins);
    let view = f.view();
    assert!(
        view.target(&gone).unwrap().is_none(),
        "an authenticated 'no such crate'"
    );
    assert!(view.target(&other).unwrap().is_some());
    // 30 index files and 31 feeds: the deleted crate's stays, with its deletion.
    assert_eq!(f.verify(TargetCheck::Index).targets, 30 + 31);
    // ... and through the publish hook's list.
    let gone2 = sparse_path(&crate_name(13));
    fs::remove_file(f.index().join(&gone2)).unwrap();
    f.publish_paths(&[&gone2]);
    assert!(f.view().target(&gone2).unwrap().is_none());
    assert_eq!(f.verify(TargetCheck::Copies).targets, 29 + 31);
}

#[test]
fn scan_rehashes_only_files_whose_stat_changed() {
    let f = Fixture::new(50, 4);
    f.age_index();
    f.publish(&Changes::Scan);
    let second = f.publish(&Changes::Scan);
    assert_eq!(
        (
            second.files_seen,
            second.files_hashed,
            second.metadata_written
        ),
        (51, 0, 0)
    );
    let name = crate_name(3);
    let bins = f.bins_of_change(&[&sparse_path(&name)]);
    write_crate(f.index(), &name, &versions(5));
    let third = f.publish(&Changes::Scan);
    assert_eq!((third.files_hashed, third.bins_signed), (1, bins));
    // A touched file with the same content is re-hashed but signs nothing.
    let path = f.index().join(sparse_path(&crate_name(9)));
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    let fourth = f.publish(&Changes::Scan);
    assert!(fourth.files_hashed >= 1);
    assert_eq!(fourth.bins_signed, 0);
    f.verify(TargetCheck::Index);
}

#[test]
fn a_lost_manifest_leads_to_a_full_resign_that_drops_deleted_crates() {
    let f = Fixture::new(20, 4);
    f.publish(&Changes::Scan);
    let gone = sparse_path(&crate_name(4));
    fs::remove_file(f.index().join(&gone)).unwrap();
    fs::remove_file(f.repo.state_dir().join("manifest")).unwrap();
    let report = f.publish(&Changes::Scan);
    assert_eq!(report.kind, PublishKind::Full);
    assert_eq!(report.bins_signed, 16);
    assert!(f.view().target(&gone).unwrap().is_none());
    // 20 index files; 21 feeds (the deleted crate's, with its deletion, and the updates).
    assert_eq!(f.verify(TargetCheck::Copies).targets, 20 + 21);
}

#[test]
fn paths_that_are_not_index_files_are_refused() {
    let f = Fixture::new(5, 4);
    f.publish(&Changes::Scan);
    for bad in ["../etc/passwd", "README.md", "se/rd/Serde"] {
        let err = publish::publish(
            &f.repo,
            &f.online,
            &Changes::Paths(vec![bad.to_owned()]),
            &f.options(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "not-index-path", "{bad}");
    }
}

#[test]
fn refresh_resigns_only_what_expires_within_the_window() {
    let f = Fixture::new(20, 4);
    f.publish(&Changes::Scan);
    let v0 = f.view();
    let options = f.options();
    let none = publish::refresh(&f.repo, &f.online, TimeDelta::hours(1), &options).unwrap();
    assert_eq!(none.metadata_written, 0);
    let ts_only = publish::refresh(&f.repo, &f.online, TimeDelta::hours(30), &options).unwrap();
    assert_eq!((ts_only.metadata_written, ts_only.bins_signed), (1, 0));
    let all = publish::refresh(&f.repo, &f.online, TimeDelta::days(8), &options).unwrap();
    assert_eq!((all.bins_signed, all.metadata_written), (16, 18));
    let v1 = f.view();
    assert_eq!(v1.snapshot().version.get(), v0.snapshot().version.get() + 1);
    assert_eq!(
        v1.timestamp().version.get(),
        v0.timestamp().version.get() + 2
    );
    // 21 index files, 20 crate feeds and the updates feed.
    assert_eq!(f.verify(TargetCheck::Copies).targets, 21 + 21);
}

#[test]
fn pruning_keeps_files_for_the_grace_period_and_copies_named_again() {
    let f = Fixture::new(10, 4);
    f.publish(&Changes::Scan);
    let name = crate_name(2);
    let path = sparse_path(&name);
    let original = versions(3);
    let mut yanked = original.clone();
    yanked[0].1 = true;
    write_crate(f.index(), &name, &yanked);
    f.publish_paths(&[&path]);
    // Unyank: the content, and so the copy's name, is what it was before.
    write_crate(f.index(), &name, &original);
    f.publish_paths(&[&path]);
    let old_snapshot = f.repo.metadata_dir().join("1.snapshot.json");
    assert!(old_snapshot.exists());
    let pruned = publish::prune(&f.repo, later(2), TimeDelta::hours(1)).unwrap();
    assert!(pruned >= 4, "{pruned}");
    assert!(!old_snapshot.exists());
    // The copy retired by the yank is named again after the unyank: it is kept.
    f.verify(TargetCheck::Copies);
    // Roots are kept forever.
    assert!(f.repo.metadata_dir().join("1.root.json").exists());
}

#[test]
fn one_publisher_at_a_time() {
    let f = Fixture::new(3, 4);
    f.publish(&Changes::Scan);
    let _held = tuf_repo::lock::RepoLock::acquire(&f.repo.state_dir().join("lock")).unwrap();
    let mut options = f.options();
    options.lock_wait = std::time::Duration::from_millis(50);
    let err = publish::publish(&f.repo, &f.online, &Changes::Scan, &options).unwrap_err();
    assert_eq!(err.code(), "locked");
}

#[test]
fn without_target_copies_targets_verify_from_the_index() {
    let f = Fixture::new(10, 4);
    let mut options = f.options();
    options.target_copies = false;
    let report = publish::publish(&f.repo, &f.online, &Changes::Scan, &options).unwrap();
    assert_eq!(report.copies_written, 0);
    assert!(!f.repo.targets_dir().exists());
    f.verify(TargetCheck::Index);
}

#[test]
fn a_kept_state_is_not_used_once_timestamp_json_changed_on_disk() {
    let f = Fixture::new(20, 4);
    f.publish(&Changes::Scan);
    let name = crate_name(3);
    let path = sparse_path(&name);
    write_crate(f.index(), &name, &versions(5));
    // This process now keeps the state it signed, keyed by the timestamp it wrote.
    f.publish_paths(&[&path]);
    let file = f.repo.metadata_dir().join("timestamp.json");
    let good = fs::read(&file).unwrap();
    let tampered =
        String::from_utf8(good.clone())
            .unwrap()
            .replacen(r#""version":"#, r#""version":1"#, 1);
    assert_ne!(tampered.as_bytes(), good.as_slice());
    fs::write(&file, &tampered).unwrap();
    write_crate(f.index(), &name, &versions(6));
    let err = publish::publish(
        &f.repo,
        &f.online,
        &Changes::Paths(vec![path.clone()]),
        &f.options(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "threshold", "{err}");
    assert_eq!(fs::read(&file).unwrap(), tampered.as_bytes());
    // Restored, it is the state this process signed: the publish goes on from it.
    fs::write(&file, &good).unwrap();
    let bins = f.bins_of_change(&[&path]);
    let report = f.publish_paths(&[&path]);
    assert_eq!(report.bins_signed, bins);
    f.verify(TargetCheck::Copies);
}

/// Publish with target copies made as hard links (`--link-copies`).
fn publish_linked(f: &Fixture, changes: &Changes) -> publish::PublishReport {
    let mut options = f.options();
    options.link_copies = true;
    publish::publish(&f.repo, &f.online, changes, &options).unwrap()
}

/// Replace a crate's index file as a registry that writes atomically does: a new file,
/// renamed over the old one (a new inode).
fn replace_crate(index: &std::path::Path, name: &str, versions: &[(String, bool)]) {
    let path = index.join(sparse_path(name));
    let mut text = String::new();
    for (vers, yanked) in versions {
        text.push_str(&line(name, vers, *yanked));
        text.push('\n');
    }
    let temp = path.with_extension("tmp-replace");
    fs::write(&temp, text).unwrap();
    fs::rename(&temp, &path).unwrap();
}

fn inode(path: &std::path::Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).unwrap();
    (meta.dev(), meta.ino())
}

fn copy_of(f: &Fixture, path: &str) -> std::path::PathBuf {
    let entry = f.view().target(path).unwrap().unwrap();
    let path = tuf_core::metadata::TargetPath::parse(path).unwrap();
    f.repo
        .targets_dir()
        .join(target_copy_name(&path, &entry.sha256().unwrap()))
}

#[test]
fn linked_copies_are_the_index_files_and_outlive_replacement_by_rename() {
    let f = Fixture::new(20, 4);
    let report = publish_linked(&f, &Changes::Scan);
    assert_eq!((report.copies_written, report.copies_linked), (21, 21));
    assert!(report.modified_in_place.is_empty());
    for i in [0, 7, 19] {
        let path = sparse_path(&crate_name(i));
        assert_eq!(inode(&copy_of(&f, &path)), inode(&f.index().join(&path)));
    }
    // 21 index files, 20 crate feeds and the updates feed (feed copies are written).
    assert_eq!(f.verify(TargetCheck::Copies).targets, 21 + 21);

    // The registry replaces a file by rename: its new copy is a link to the new inode,
    // and the old copy keeps the old bytes, as signed in the previous snapshot.
    let name = crate_name(7);
    let path = sparse_path(&name);
    let old_copy = copy_of(&f, &path);
    let old_bytes = fs::read(f.index().join(&path)).unwrap();
    replace_crate(f.index(), &name, &versions(4));
    let report = publish_linked(&f, &Changes::Paths(vec![path.clone()]));
    assert_eq!((report.copies_written, report.copies_linked), (1, 1));
    assert!(report.modified_in_place.is_empty());
    assert_eq!(fs::read(&old_copy).unwrap(), old_bytes);
    let new_copy = copy_of(&f, &path);
    assert_ne!(new_copy, old_copy);
    assert_eq!(inode(&new_copy), inode(&f.index().join(&path)));
    f.verify(TargetCheck::Copies);
}

#[test]
fn an_index_file_rewritten_in_place_under_linked_copies_is_reported_and_copied() {
    let f = Fixture::new(10, 4);
    publish_linked(&f, &Changes::Scan);
    let name = crate_name(3);
    let path = sparse_path(&name);
    let old_copy = copy_of(&f, &path);
    let old_bytes = fs::read(&old_copy).unwrap();
    // In place: the same inode, so the copy linked to it changes with it.
    write_crate(f.index(), &name, &versions(5));
    let report = publish_linked(&f, &Changes::Paths(vec![path.clone()]));
    assert_eq!(report.modified_in_place, vec![path.clone()]);
    assert_eq!((report.copies_written, report.copies_linked), (1, 0));
    assert_ne!(
        fs::read(&old_copy).unwrap(),
        old_bytes,
        "the damage reported"
    );
    // The new copy was written, not linked: a later in-place rewrite cannot reach it.
    let new_copy = copy_of(&f, &path);
    assert_ne!(inode(&new_copy), inode(&f.index().join(&path)));
    assert_eq!(
        fs::read(&new_copy).unwrap(),
        fs::read(f.index().join(&path)).unwrap()
    );
    f.verify(TargetCheck::Copies);
    // The same through a scan, and through `tuf publish` it is a warning naming the file
    // (see cli tests); the JSON field is `modified_in_place`.
    write_crate(f.index(), &name, &versions(6));
    let report = publish_linked(&f, &Changes::Scan);
    assert_eq!(report.modified_in_place, vec![path]);
    f.verify(TargetCheck::Copies);
}

#[test]
fn a_scan_that_rehashes_linked_files_leaves_their_mtime_alone() {
    let f = Fixture::new(10, 4);
    publish_linked(&f, &Changes::Scan);
    let path = f.index().join(sparse_path(&crate_name(4)));
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    // Without the manifest every file is hashed again; every copy exists and is the
    // very inode hashed, so nothing is written, linked or touched.
    fs::remove_file(f.repo.state_dir().join("manifest")).unwrap();
    let report = publish_linked(&f, &Changes::Scan);
    assert_eq!(report.files_hashed, 11);
    assert_eq!((report.copies_written, report.copies_linked), (0, 0));
    assert!(report.modified_in_place.is_empty());
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    f.verify(TargetCheck::Copies);
}

#[test]
fn prune_removes_stale_temporary_files_at_most_hourly_and_nothing_else() {
    let f = Fixture::new(20, 3);
    f.publish(&Changes::Scan);
    // A first publish does not look (targets/ holds what it just wrote); prune does.
    let marker = f.repo.state_dir().join("temp-swept");
    assert!(!marker.exists());
    publish::prune(&f.repo, chrono::Utc::now(), TimeDelta::hours(1)).unwrap();
    assert!(marker.exists());
    let now = std::time::SystemTime::now();
    let two_hours_ago = now - std::time::Duration::from_secs(2 * 60 * 60);
    let metadata = f.repo.metadata_dir();
    let copies = f
        .repo
        .targets_dir()
        .join(sparse_path(&crate_name(1)))
        .parent()
        .unwrap()
        .to_owned();
    assert!(copies.is_dir(), "{copies:?}");
    let state = f.repo.state_dir();
    let make = |path: std::path::PathBuf, modified| {
        fs::write(&path, b"partial").unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        path
    };
    // Left by a crashed writer two hours ago: removed.
    let stale = [
        make(metadata.join(".tuf-aB3xZ9.tmp"), two_hours_ago),
        make(copies.join(".tuf-Qw12Er.tmp"), two_hours_ago),
        make(state.join(".tuf-Zx98Cv.tmp"), two_hours_ago),
    ];
    // Being written now, or not a temporary file: kept.
    let kept = [
        make(metadata.join(".tuf-fResh1.tmp"), now),
        make(copies.join(".tuf-fResh2.tmp"), now),
        make(metadata.join(".tuf-aB3xZ9.json"), two_hours_ago),
        make(metadata.join("notes.tmp"), two_hours_ago),
        make(copies.join("tuf-Qw12Er.tmp"), two_hours_ago),
    ];

    // Prune just looked (state/temp-swept): a scan does not walk targets/ again within
    // the hour.
    let name = crate_name(4);
    write_crate(f.index(), &name, &versions(3));
    f.publish(&Changes::Scan);
    assert!(stale.iter().all(|p| p.exists()));
    // A publish from the registry's hook never does, even when a sweep is due: its work
    // stays proportional to the change (refresh and scans sweep).
    fs::remove_file(state.join("temp-swept")).unwrap();
    write_crate(f.index(), &name, &versions(4));
    f.publish_paths(&[&sparse_path(&name)]);
    assert!(stale.iter().all(|p| p.exists()));

    // An hour on, prune (as every publish runs it, under the lock) looks again.
    let removed = publish::prune(&f.repo, later(2), TimeDelta::hours(1)).unwrap();
    assert!(removed >= stale.len(), "{removed}");
    for path in &stale {
        assert!(!path.exists(), "{path:?}");
    }
    for path in &kept {
        assert!(path.exists(), "{path:?}");
    }
    f.verify(TargetCheck::Copies);
}

#[test]
fn the_published_root_is_found_as_a_client_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = publish::Repository::new(dir.path().join("index"), dir.path());
    assert_eq!(repo.published_root().unwrap(), None);
    assert_eq!(repo.newest_root().unwrap_err().code(), "missing");
    let f = Fixture::new(4, 2);
    let v1 = f.trusted_root();
    assert_eq!(f.repo.published_root().unwrap(), Some((1, v1.clone())));
    // A client asks for 2.root.json and stops when it is missing: a 3.root.json after
    // the gap is never reached.
    fs::write(f.repo.metadata_dir().join("3.root.json"), b"{}").unwrap();
    assert_eq!(f.repo.published_root().unwrap(), Some((1, v1)));
    fs::write(f.repo.metadata_dir().join("2.root.json"), b"two").unwrap();
    assert_eq!(f.repo.published_root().unwrap(), Some((3, b"{}".to_vec())));
}

#[test]
fn files_retired_by_a_publish_that_stopped_after_its_timestamp_are_still_pruned() {
    // Stop a one-version publish after each of its file system steps in turn; keep the
    // case where the timestamp went out but `state/retired` was not written.
    let name = crate_name(5);
    let path = sparse_path(&name);
    let mut stopped_after_timestamp = false;
    let mut stopped_before_timestamp = false;
    for steps in 0..16 {
        let f = Fixture::new(10, 3);
        f.publish(&Changes::Scan);
        let before = f.view();
        let old_snapshot = f.repo.metadata_dir().join(versioned_file_name(
            before.snapshot().version.get(),
            "snapshot",
        ));
        write_crate(f.index(), &name, &versions(4));
        let mut options = f.options();
        options.fail_after_writes = Some(steps);
        let Err(err) = publish::publish(
            &f.repo,
            &f.online,
            &Changes::Paths(vec![path.clone()]),
            &options,
        ) else {
            break;
        };
        assert_eq!(err.code(), "injected", "{err}");
        let published = f.view().timestamp().version != before.timestamp().version;
        let retired = fs::read_to_string(f.repo.state_dir().join("retired")).unwrap_or_default();
        if published {
            stopped_after_timestamp = true;
            assert!(!retired.contains(".snapshot.json"), "{retired}");
        } else {
            stopped_before_timestamp = true;
            // What it staged names the published state's files: dropped, not retired.
            publish::refresh(&f.repo, &f.online, TimeDelta::hours(1), &f.options()).unwrap();
            assert!(!f.repo.state_dir().join("retiring").exists());
            publish::prune(&f.repo, later(2), TimeDelta::hours(1)).unwrap();
            f.verify(TargetCheck::Copies);
        }
        // The next publish finishes the interrupted retirement (or drops it, when that
        // timestamp never went out and the files it named are still the published ones).
        write_crate(f.index(), &crate_name(6), &versions(2));
        f.publish_paths(&[&sparse_path(&crate_name(6))]);
        assert!(!f.repo.state_dir().join("retiring").exists());
        publish::prune(&f.repo, later(2), TimeDelta::hours(1)).unwrap();
        assert!(
            !old_snapshot.exists(),
            "after {steps} steps: {old_snapshot:?}"
        );
        f.verify(TargetCheck::Copies);
    }
    assert!(stopped_after_timestamp && stopped_before_timestamp);
}
