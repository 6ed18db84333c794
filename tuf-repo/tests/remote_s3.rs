//! `tuf_repo::remote` against a real S3-compatible server on 127.0.0.1
//! (`tuf_test_support::s3::S3Server`): the index and the published repository are
//! prefixes of one bucket, the offline roles in a local directory. Every publish is
//! followed by a verification as a client makes it: `verify::verify_published` over the
//! store, and this project's client (`tuf_client::Updater`) reading the bucket over
//! anonymous HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{TimeDelta, Utc};
use ring::rand::SystemRandom;
use tuf_client::{HttpFetcher, Updater, UpdaterConfig};
use tuf_core::crypto::{Ed25519Signer, Signer};
use tuf_core::feed::{FeedItem, ItemKind, UPDATES_PATH};
use tuf_core::index::CrateName;
use tuf_core::repo::{offline::RepoKeys, Policy};
use tuf_core::Limits;
use tuf_repo::publish::{
    Changes, OnlineKeys, PublishKind, PublishOptions, PublishReport, Repository,
};
use tuf_repo::remote::{self, Index, RemoteRepository};
use tuf_repo::store::{Location, ObjectKind, RequestCounts, Store, StoreConfig};
use tuf_repo::verify::{verify_published, RepoView, TargetCheck, VerifyReport};
use tuf_repo::Error;
use tuf_test_support::s3::S3Server;

struct Fixture {
    server: &'static S3Server,
    bucket: String,
    dir: tempfile::TempDir,
    index: Arc<Store>,
    repo: RemoteRepository,
    online: OnlineKeys,
}

fn open(server: &S3Server, bucket: &str, prefix: &str) -> Arc<Store> {
    let Location::Url(url) = Location::parse(&format!("s3://{bucket}/{prefix}")).unwrap() else {
        panic!("not a URL");
    };
    let config = StoreConfig {
        s3_endpoint: Some(server.endpoint()),
        options: server.object_store_options(bucket),
        ..StoreConfig::default()
    };
    Arc::new(Store::open(&url, &config).unwrap_or_else(|e| panic!("{e}")))
}

fn line(name: &str, vers: &str, yanked: bool) -> String {
    let cksum = hex::encode(tuf_core::hash::sha256(format!("{name}-{vers}").as_bytes()));
    format!(
        r#"{{"name":"{name}","vers":"{vers}","deps":[],"cksum":"{cksum}","features":{{}},"yanked":{yanked}}}"#
    ) + "\n"
}

fn sparse(name: &str) -> String {
    CrateName::parse(name).unwrap().sparse_path()
}

impl Fixture {
    /// A bucket with `crates` crates under `index/`, a local repository directory with
    /// root and targets v1 (16 bins), publishing to `tuf/`.
    fn new(crates: usize) -> Self {
        let server = S3Server::shared();
        let bucket = server.create_bucket("remote");
        let dir = tempfile::tempdir().unwrap();
        let local = Repository::new(dir.path().join("no-index"), dir.path().join("repo"));
        let (root, targets) = (
            Ed25519Signer::generate(&SystemRandom::new()).unwrap(),
            Ed25519Signer::generate(&SystemRandom::new()).unwrap(),
        );
        let online = Arc::new(Ed25519Signer::generate(&SystemRandom::new()).unwrap());
        let online_signer: [&dyn Signer; 1] = [online.as_ref()];
        local
            .init(
                &Policy {
                    bit_length: 4,
                    ..Policy::default()
                },
                &RepoKeys {
                    root: &[&root],
                    targets: &[&targets],
                    snapshot: &online_signer,
                    timestamp: &online_signer,
                    bins: &online_signer,
                },
                Utc::now(),
            )
            .unwrap();
        let index = open(server, &bucket, "index");
        let store = open(server, &bucket, "tuf");
        let repo =
            RemoteRepository::new(dir.path().join("repo"), store, Index::Store(index.clone()));
        let f = Self {
            server,
            bucket,
            dir,
            index,
            repo,
            online: OnlineKeys::single(online),
        };
        f.put("config.json", r#"{"dl":"https://example.invalid/dl"}"#);
        for i in 0..crates {
            f.set_crate(&format!("crate{i}"), &["0.1.0"]);
        }
        f
    }

    /// Another publisher: its own stores and repository value, same bucket and keys.
    fn another_publisher(&self) -> RemoteRepository {
        RemoteRepository::new(
            self.dir.path().join("repo"),
            open(self.server, &self.bucket, "tuf"),
            Index::Store(open(self.server, &self.bucket, "index")),
        )
    }

    fn put(&self, key: &str, text: &str) {
        self.index
            .put(key, Bytes::from(text.to_owned()), ObjectKind::Index)
            .unwrap();
    }

    fn set_crate(&self, name: &str, versions: &[&str]) -> String {
        let text: String = versions.iter().map(|v| line(name, v, false)).collect();
        self.put(&sparse(name), &text);
        sparse(name)
    }

    fn root_v1(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("repo/metadata/1.root.json")).unwrap()
    }

    fn options(&self) -> PublishOptions {
        PublishOptions::new(Utc::now())
    }

    fn publish(&self, changes: &Changes) -> PublishReport {
        remote::publish(&self.repo, &self.online, changes, &self.options())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn paths(paths: &[&str]) -> Changes {
        Changes::Paths(paths.iter().map(|p| (*p).to_owned()).collect())
    }

    /// Verify the published repository through the store, copies included.
    fn verify(&self) -> VerifyReport {
        verify_published(
            self.repo.files(),
            &self.root_v1(),
            Utc::now(),
            TargetCheck::Copies,
            &Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The signed entry of `path`, through its bin, as a client reaches it.
    fn signed(&self, path: &str) -> Option<[u8; 32]> {
        let view = RepoView::load_from(
            self.repo.files(),
            &self.root_v1(),
            Utc::now(),
            &Limits::default(),
        )
        .unwrap();
        view.target(path).unwrap().map(|t| t.sha256().unwrap())
    }

    /// This project's client, trusting root v1, reading the bucket over HTTP.
    fn client(&self, dir: &Path) -> Updater<HttpFetcher> {
        let metadata = dir.join("metadata");
        std::fs::create_dir_all(&metadata).unwrap();
        std::fs::write(metadata.join("root.json"), self.root_v1()).unwrap();
        let base = self.server.object_url(&self.bucket, "tuf");
        let mut config = UpdaterConfig::new(&format!("{base}/metadata/"), metadata);
        config.targets_base_url = Some(format!("{base}/targets/"));
        std::fs::create_dir_all(dir.join("targets")).unwrap();
        config.target_dir = Some(dir.join("targets"));
        Updater::new(config, HttpFetcher::new().unwrap()).unwrap()
    }

    /// How many bins a publish changing the index files at `paths` re-signs with release
    /// feeds on (docs/feeds.md): each file's bin, its crate feed's and the updates feed's,
    /// each bin once; fixed by the paths' hashes.
    fn bins_of_change(&self, paths: &[&str]) -> usize {
        let view = RepoView::load_from(
            self.repo.files(),
            &self.root_v1(),
            Utc::now(),
            &Limits::default(),
        )
        .unwrap();
        let bins = view.bins();
        let mut changed: std::collections::BTreeSet<u32> = paths
            .iter()
            .flat_map(|path| {
                let name = CrateName::from_sparse_path(path).unwrap();
                [
                    bins.bin_of(path),
                    bins.bin_of(&tuf_core::feed::crate_feed_path(&name)),
                ]
            })
            .collect();
        changed.insert(bins.bin_of(UPDATES_PATH));
        changed.len()
    }

    fn index_bytes(&self, path: &str) -> Vec<u8> {
        self.index.get(path).unwrap().unwrap().bytes.to_vec()
    }
}

/// The client refreshes and downloads `path` by its hash name: the index's bytes.
fn client_sees(f: &Fixture, updater: &mut Updater<HttpFetcher>, path: &str) -> bool {
    updater
        .refresh(Utc::now())
        .unwrap_or_else(|e| panic!("{e}"));
    match updater.target_info(path, Utc::now()).unwrap() {
        Some(info) => {
            let got = std::fs::read(updater.download_target(&info).unwrap()).unwrap();
            assert_eq!(got, f.index_bytes(path), "{path}");
            true
        }
        None => false,
    }
}

/// The signed feed at `path` as this project's client reads it: refreshed, fetched by
/// its hash name and checked against the signed length and hash.
fn client_feed(updater: &mut Updater<HttpFetcher>, path: &str) -> Vec<FeedItem> {
    updater
        .refresh(Utc::now())
        .unwrap_or_else(|e| panic!("{e}"));
    let info = updater
        .target_info(path, Utc::now())
        .unwrap()
        .unwrap_or_else(|| panic!("{path} is not signed"));
    let bytes = std::fs::read(updater.download_target(&info).unwrap()).unwrap();
    tuf_core::feed::parse(&bytes, tuf_core::feed::UPDATES_RULE.max_items).unwrap()
}

fn events(items: &[FeedItem]) -> Vec<(ItemKind, &str, &str)> {
    items
        .iter()
        .map(|i| (i.kind, i.krate.as_str(), i.version.as_str()))
        .collect()
}

#[test]
fn first_hook_scan_yank_delete_and_refresh_each_verify_as_a_client_sees_them() {
    let f = Fixture::new(6);
    let first = f.publish(&Changes::Scan);
    assert_eq!(first.kind, PublishKind::First);
    assert_eq!((first.files_seen, first.files_hashed), (7, 7));
    assert_eq!(first.copies_written, 7);
    assert_eq!(first.bins_signed, 16);
    // 7 index files, and (release feeds on, docs/feeds.md) 6 crate feeds and the
    // updates feed.
    assert_eq!(f.verify().targets, 7 + 7);
    let client_dir = tempfile::tempdir().unwrap();
    let mut client = f.client(client_dir.path());
    assert!(client_sees(&f, &mut client, &sparse("crate0")));
    assert!(client_sees(&f, &mut client, "config.json"));

    // A hook publish: one new version, only that key read.
    let path = f.set_crate("crate1", &["0.1.0", "0.2.0"]);
    let bins = f.bins_of_change(&[&path]);
    let hook = f.publish(&Fixture::paths(&[&path]));
    assert_eq!(hook.kind, PublishKind::Incremental);
    assert_eq!(
        (
            hook.files_hashed,
            hook.bins_signed,
            hook.copies_written,
            hook.feeds_written
        ),
        (1, bins, 1, 2)
    );
    f.verify();
    assert!(client_sees(&f, &mut client, &path));

    // A scan: one changed, one added, one deleted.
    let changed = f.set_crate("crate2", &["0.1.0", "0.3.0"]);
    let added = f.set_crate("newcrate", &["1.0.0"]);
    let deleted = sparse("crate3");
    assert!(f.index.delete(&deleted).unwrap());
    // Their bins, their feeds' and the updates feed's (docs/feeds.md), each once.
    let bins = f.bins_of_change(&[&changed, &added, &deleted]);
    let scan = f.publish(&Changes::Scan);
    assert_eq!(scan.kind, PublishKind::Incremental);
    // Read: the changed and the added file, and crate1, which the hook published
    // (hooks leave the content manifest alone); the rest are known by ETag from the
    // manifest the first scan wrote, and signed as such.
    assert_eq!((scan.files_seen, scan.files_hashed), (7, 3));
    assert_eq!(scan.bins_signed, bins);
    // 7 index files; 8 feeds: newcrate's is new, crate3's stays with its deletion.
    assert_eq!(f.verify().targets, 7 + 8);
    assert!(client_sees(&f, &mut client, &changed));
    assert!(client_sees(&f, &mut client, &added));
    assert!(!client_sees(&f, &mut client, &deleted));
    // Nothing changed: a scan reads nothing and signs nothing.
    let again = f.publish(&Changes::Scan);
    assert_eq!((again.files_hashed, again.bins_signed), (0, 0));

    // A yank and a deletion through the hook.
    let yanked = sparse("crate4");
    f.put(&yanked, &line("crate4", "0.1.0", true));
    let gone = sparse("crate5");
    assert!(f.index.delete(&gone).unwrap());
    let hook = f.publish(&Fixture::paths(&[&yanked, &gone]));
    assert!(hook.bins_signed >= 1);
    f.verify();
    assert!(client_sees(&f, &mut client, &yanked));
    assert!(String::from_utf8(f.index_bytes(&yanked))
        .unwrap()
        .contains(r#""yanked":true"#));
    assert!(!client_sees(&f, &mut client, &gone));
    assert_eq!(f.signed(&gone), None);

    // Refresh: everything due within a year is re-signed, by compare-and-swap.
    let before = f.verify();
    let refreshed = remote::refresh(&f.repo, &f.online, TimeDelta::days(30), &f.options())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refreshed.kind, PublishKind::Refresh);
    assert_eq!(refreshed.bins_signed, 16);
    let after = f.verify();
    assert_eq!(after.timestamp_version, before.timestamp_version + 1);
    assert!(client_sees(&f, &mut client, &changed));
}

#[test]
fn a_one_change_hook_publish_makes_exactly_these_requests() {
    let f = Fixture::new(3);
    f.publish(&Changes::Scan);
    let path = f.set_crate("crate1", &["0.1.0", "0.2.0"]);
    // With release feeds on (docs/feeds.md): the index file's bin, the crate feed's and
    // the updates feed's, each once (3 distinct bins here, by the paths' hashes).
    let bins = f.bins_of_change(&[&path]);
    assert_eq!(bins, 3);
    // A fresh publisher process: new store values, counters at zero.
    let repo = f.another_publisher();
    let report = remote::publish(&repo, &f.online, &Fixture::paths(&[&path]), &f.options())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((report.bins_signed, report.feeds_written), (bins, 2));
    let published = repo.store().requests();
    let index = repo.index().store().unwrap().requests();
    // Reads: timestamp.json, the snapshot it names, the three bins; the feeds read back
    // the index file's previous copy, the crate's feed and the updates feed (checked
    // against their signed length and hash). HEADs: the newest root (once per
    // repository value: are the offline roles on the store?), the new copy
    // (object_store's copy answers no ETag), the pending record before its delete (S3
    // answers a DELETE alike whether or not the key was there).
    // Writes: the pending record, the three bins, the snapshot, the two feed copies
    // (create-only), timestamp.json (compare-and-swap), the retired record; the
    // pending record deleted. The index copy is server-side: a create-only multipart
    // copy (create and complete counted as `other`).
    assert_eq!(
        (published.get, published.head, published.list),
        (2 + bins as u64 + 3, 3, 0),
        "{published:?}"
    );
    assert_eq!(published.other, 2, "{published:?}");
    assert_eq!(
        (published.put, published.delete),
        (4 + bins as u64 + 2, 1),
        "{published:?}"
    );
    assert_eq!(published.copy, 1, "{published:?}");
    // The index: one GET of the changed key.
    assert_eq!(
        index,
        RequestCounts {
            get: 1,
            ..RequestCounts::default()
        }
    );
    f.verify();
    assert_eq!(
        f.signed(&path),
        Some(tuf_core::hash::sha256(&f.index_bytes(&path)))
    );
}

#[test]
fn two_publishers_racing_for_rounds_publish_every_change() {
    let f = Fixture::new(2);
    f.publish(&Changes::Scan);
    const ROUNDS: usize = 6;
    let publishers = [f.another_publisher(), f.another_publisher()];
    // Both start each round together, so their publishes overlap.
    let start = std::sync::Barrier::new(2);
    let attempts: Vec<u32> = std::thread::scope(|scope| {
        let threads: Vec<_> = publishers
            .iter()
            .enumerate()
            .map(|(who, repo)| {
                let (f, start) = (&f, &start);
                scope.spawn(move || {
                    let mut attempts = 0;
                    for round in 0..ROUNDS {
                        let name = format!("racer{who}n{round}");
                        let path = f.set_crate(&name, &["1.0.0"]);
                        start.wait();
                        let changes = Fixture::paths(&[&path]);
                        let report = remote::publish(repo, &f.online, &changes, &f.options())
                            .unwrap_or_else(|e| panic!("publisher {who} round {round}: {e}"));
                        attempts += report.attempts;
                    }
                    attempts
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    // They did race: some publish lost at least once and was redone.
    let total: u32 = attempts.iter().sum();
    assert!(
        total > 2 * u32::try_from(ROUNDS).unwrap(),
        "attempts {attempts:?}"
    );
    // Every change of both publishers is signed, and the repository verifies.
    for who in 0..2 {
        for round in 0..ROUNDS {
            let path = sparse(&format!("racer{who}n{round}"));
            assert_eq!(
                f.signed(&path),
                Some(tuf_core::hash::sha256(&f.index_bytes(&path))),
                "{path}"
            );
        }
    }
    // 3 + 2 * ROUNDS index files, and (release feeds on) a feed per crate and the
    // updates feed.
    assert_eq!(f.verify().targets, 3 + 2 * ROUNDS + (2 + 2 * ROUNDS + 1));
}

#[test]
fn a_name_taken_by_a_crashed_attempt_is_skipped_and_a_lost_race_is_bounded() {
    let f = Fixture::new(2);
    f.publish(&Changes::Scan);
    // A publisher that crashed after creating `2.snapshot.json` (never named by any
    // timestamp): the next publish cannot use that name.
    f.repo
        .store()
        .put_new(
            "metadata/2.snapshot.json",
            Bytes::from_static(b"left by a crashed publisher"),
            ObjectKind::Immutable,
        )
        .unwrap();
    let path = f.set_crate("crate0", &["0.1.0", "0.2.0"]);
    let mut once = f.options();
    once.max_attempts = 1;
    let err = remote::publish(&f.repo, &f.online, &Fixture::paths(&[&path]), &once).unwrap_err();
    assert!(
        matches!(&err, Error::LostRace { attempts: 1, url } if url.contains(&f.bucket)),
        "{err}"
    );
    assert_eq!(err.code(), "lost-race");
    // Nothing of it is visible: the published state is the first one.
    assert_eq!(f.verify().snapshot_version, 1);
    assert_ne!(
        f.signed(&path),
        Some(tuf_core::hash::sha256(&f.index_bytes(&path)))
    );

    // With retries, the publish signs above the taken names and goes out.
    let report = f.publish(&Fixture::paths(&[&path]));
    assert!(report.snapshot_version >= 3, "{}", report.snapshot_version);
    let verified = f.verify();
    assert_eq!(verified.snapshot_version, report.snapshot_version);
    assert_eq!(
        f.signed(&path),
        Some(tuf_core::hash::sha256(&f.index_bytes(&path)))
    );
}

#[test]
fn prune_deletes_what_a_lost_attempt_left_and_keeps_what_is_named() {
    let f = Fixture::new(2);
    f.publish(&Changes::Scan);
    let store = f.repo.store().clone();
    store
        .put_new(
            "metadata/2.snapshot.json",
            Bytes::from_static(b"taken"),
            ObjectKind::Immutable,
        )
        .unwrap();
    let path = f.set_crate("crate0", &["0.1.0", "0.9.0"]);
    let bins = f.bins_of_change(&[&path]);
    let mut once = f.options();
    once.max_attempts = 1;
    let lost = remote::publish(&f.repo, &f.online, &Fixture::paths(&[&path]), &once);
    assert!(matches!(lost, Err(Error::LostRace { .. })));
    // The lost attempt left its bin and its copy, and its pending record lists them.
    let pending = store.list("state/pending").unwrap();
    assert_eq!(pending.len(), 1);
    let listed: BTreeMap<String, u64> = store
        .list("")
        .unwrap()
        .into_iter()
        .map(|m| (m.key, m.size))
        .collect();
    let orphan_bin = listed
        .keys()
        .find(|k| k.starts_with("metadata/2.crates-bin-"))
        .cloned()
        .expect("the lost attempt's bin");
    let copy = format!(
        "targets/{}",
        tuf_core::repo::target_copy_name(
            &tuf_core::metadata::TargetPath::parse(&path).unwrap(),
            &tuf_core::hash::sha256(&f.index_bytes(&path))
        )
    );
    assert!(listed.contains_key(&copy), "{listed:?}");

    // Within the grace period nothing is deleted.
    assert_eq!(
        remote::prune(&f.repo, Utc::now(), TimeDelta::hours(1)).unwrap(),
        0
    );
    // After it: the orphan bins (the index file's, and with release feeds on its feed's
    // and the updates feed's), the never-named copies (the index file's and the two
    // feeds') and the taken snapshot name (no timestamp names it) go; the published
    // state stays.
    let later = Utc::now() + TimeDelta::seconds(5);
    let deleted = remote::prune(&f.repo, later, TimeDelta::zero()).unwrap();
    assert_eq!(deleted, bins + 3 + 1, "{:?}", store.list("").unwrap());
    assert!(store.head(&orphan_bin).unwrap().is_none());
    assert!(store.head(&copy).unwrap().is_none());
    assert!(store.head("metadata/2.snapshot.json").unwrap().is_none());
    assert!(store.list("state/pending").unwrap().is_empty());
    assert_eq!(f.verify().snapshot_version, 1);
    // The next publish of that change uploads its copy again and verifies.
    f.publish(&Fixture::paths(&[&path]));
    f.verify();

    // Superseded files go after the grace period too, named ones stay.
    let before: Vec<String> = store
        .list("metadata")
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    let deleted = remote::prune(
        &f.repo,
        Utc::now() + TimeDelta::seconds(5),
        TimeDelta::zero(),
    )
    .unwrap();
    assert!(deleted >= 2, "{deleted}: {before:?}");
    f.verify();
}

#[test]
fn feeds_on_a_store_follow_publish_yank_and_delete_and_read_back_verified() {
    // `Repository::init` (as `tuf init`) turned release feeds on in the operator's
    // directory: the remote publisher reads the setting there (docs/feeds.md).
    let f = Fixture::new(3);
    let first = f.publish(&Changes::Scan);
    assert_eq!((first.feeds_written, first.feed_items), (3 + 1, 3));
    // 4 index files, 3 crate feeds and the updates feed, copies checked on the store.
    assert_eq!(f.verify().targets, 4 + 4);
    let client_dir = tempfile::tempdir().unwrap();
    let mut client = f.client(client_dir.path());
    let crate1 = "feeds/crates/crate1.xml";
    assert_eq!(
        events(&client_feed(&mut client, crate1)),
        [(ItemKind::Publish, "crate1", "0.1.0")]
    );

    // A hook publish of a new version, then a yank: the crate's feed and the updates
    // feed change, each a new hash-named copy.
    let path = f.set_crate("crate1", &["0.1.0", "0.2.0"]);
    let hook = f.publish(&Fixture::paths(&[&path]));
    assert_eq!((hook.feeds_written, hook.feed_items), (2, 2));
    f.put(
        &path,
        &(line("crate1", "0.1.0", true) + &line("crate1", "0.2.0", false)),
    );
    let yank = f.publish(&Fixture::paths(&[&path]));
    assert_eq!((yank.feeds_written, yank.feed_items), (2, 2));
    // A deletion found by a scan.
    assert!(f.index.delete(&sparse("crate2")).unwrap());
    let scan = f.publish(&Changes::Scan);
    assert_eq!((scan.feeds_written, scan.feed_items), (2, 2));
    // 3 index files; the deleted crate's feed stays, with its deletion.
    assert_eq!(f.verify().targets, 3 + 4);
    assert_eq!(
        events(&client_feed(&mut client, crate1)),
        [
            (ItemKind::Yank, "crate1", "0.1.0"),
            (ItemKind::Publish, "crate1", "0.2.0"),
            (ItemKind::Publish, "crate1", "0.1.0"),
        ]
    );
    assert_eq!(
        events(&client_feed(&mut client, "feeds/crates/crate2.xml")),
        [
            (ItemKind::Delete, "crate2", "0.1.0"),
            (ItemKind::Publish, "crate2", "0.1.0"),
        ]
    );
    // The updates feed: what this publisher saw happen (the first publish's items have
    // no known time: the index has no `pubtime`).
    assert_eq!(
        events(&client_feed(&mut client, UPDATES_PATH)),
        [
            (ItemKind::Delete, "crate2", "0.1.0"),
            (ItemKind::Yank, "crate1", "0.1.0"),
            (ItemKind::Publish, "crate1", "0.2.0"),
        ]
    );
    // Nothing changed: a scan writes no feed.
    let again = f.publish(&Changes::Scan);
    assert_eq!((again.feeds_written, again.feed_items), (0, 0));
    // Superseded feed copies are pruned like the other targets; the named ones stay.
    let pruned = remote::prune(
        &f.repo,
        Utc::now() + TimeDelta::seconds(5),
        TimeDelta::zero(),
    )
    .unwrap();
    assert!(pruned >= 6, "{pruned}");
    f.verify();

    // A published feed copy altered on the store: the next publish of that crate does
    // not build on it (a feed never loses an item silently), and nothing is published.
    let view =
        RepoView::load_from(f.repo.files(), &f.root_v1(), Utc::now(), &Limits::default()).unwrap();
    let signed_feed = view.target(crate1).unwrap().unwrap();
    let copy = format!(
        "targets/{}",
        tuf_core::repo::target_copy_name(
            &tuf_core::metadata::TargetPath::parse(crate1).unwrap(),
            &signed_feed.sha256().unwrap()
        )
    );
    f.repo
        .store()
        .put(&copy, Bytes::from_static(b"<rss/>"), ObjectKind::Immutable)
        .unwrap();
    let before = f.signed(&path);
    let path = f.set_crate("crate1", &["0.1.0", "0.2.0", "0.3.0"]);
    let err =
        remote::publish(&f.repo, &f.online, &Fixture::paths(&[&path]), &f.options()).unwrap_err();
    assert_eq!(err.code(), "target", "{err}");
    assert_eq!(f.signed(&path), before);
}

#[test]
fn two_publishers_racing_with_feeds_on_neither_double_nor_lose_an_item() {
    let f = Fixture::new(1);
    f.publish(&Changes::Scan);
    const ROUNDS: usize = 5;
    let publishers = [f.another_publisher(), f.another_publisher()];
    let start = std::sync::Barrier::new(2);
    // Both publish a change to the same crate in each round as well as their own, so
    // both touch the same crate feed and the updates feed in every race.
    let attempts: Vec<u32> = std::thread::scope(|scope| {
        let threads: Vec<_> = publishers
            .iter()
            .enumerate()
            .map(|(who, repo)| {
                let (f, start) = (&f, &start);
                scope.spawn(move || {
                    let mut attempts = 0;
                    for round in 0..ROUNDS {
                        let own = f.set_crate(&format!("racer{who}n{round}"), &["1.0.0"]);
                        start.wait();
                        let changes = Fixture::paths(&[&own]);
                        let report = remote::publish(repo, &f.online, &changes, &f.options())
                            .unwrap_or_else(|e| panic!("publisher {who} round {round}: {e}"));
                        attempts += report.attempts;
                    }
                    attempts
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let total: u32 = attempts.iter().sum();
    assert!(
        total > 2 * u32::try_from(ROUNDS).unwrap(),
        "attempts {attempts:?}"
    );
    f.verify();
    let client_dir = tempfile::tempdir().unwrap();
    let mut client = f.client(client_dir.path());
    // Every racer's publish is in the updates feed exactly once (a lost attempt's redo
    // diffed against the feed and index the winner had just published), and nothing
    // else (the first publish's item has no known time).
    let updates = client_feed(&mut client, UPDATES_PATH);
    let mut seen: Vec<(ItemKind, &str, &str)> = events(&updates);
    seen.sort_unstable();
    let mut expected: Vec<(ItemKind, String)> = (0..2)
        .flat_map(|who| {
            (0..ROUNDS).map(move |round| (ItemKind::Publish, format!("racer{who}n{round}")))
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(
        seen.iter()
            .map(|(k, c, v)| {
                assert_eq!(*v, "1.0.0");
                (*k, (*c).to_owned())
            })
            .collect::<Vec<_>>(),
        expected
    );
    for who in 0..2 {
        for round in 0..ROUNDS {
            let name = format!("racer{who}n{round}");
            assert_eq!(
                events(&client_feed(
                    &mut client,
                    &format!("feeds/crates/{name}.xml")
                )),
                [(ItemKind::Publish, name.as_str(), "1.0.0")]
            );
        }
    }
}
