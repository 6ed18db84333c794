//! Signed release feeds on a local repository (docs/feeds.md): items from real publishes,
//! the rule at its edges through the publisher's `now`, an independent RSS parser, and a
//! publish stopped before its timestamp.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tuf_core::crypto::{Ed25519Signer, Signer};
use tuf_core::feed::{self, FeedItem, ItemKind};
use tuf_core::repo::{offline::RepoKeys, Policy};
use tuf_core::Limits;
use tuf_repo::feeds;
use tuf_repo::publish::{publish, Changes, OnlineKeys, PublishKind, PublishOptions, Repository};
use tuf_repo::verify::{verify_repository, RepoView, TargetCheck};

struct Fixture {
    _dir: tempfile::TempDir,
    repo: Repository,
    keys: OnlineKeys,
}

fn cksum(name: &str, vers: &str) -> String {
    hex::encode(tuf_core::hash::sha256(format!("{name}-{vers}").as_bytes()))
}

fn line(name: &str, vers: &str, yanked: bool, pubtime: Option<&str>) -> String {
    let cksum = cksum(name, vers);
    let pubtime = pubtime.map_or(String::new(), |t| format!(r#","pubtime":"{t}""#));
    format!(
        r#"{{"name":"{name}","vers":"{vers}","deps":[],"cksum":"{cksum}","features":{{}},"yanked":{yanked}{pubtime}}}"#
    ) + "\n"
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const T0: &str = "2026-03-01T12:00:00Z";

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index");
        fs::create_dir_all(&index).unwrap();
        fs::write(
            index.join("config.json"),
            r#"{"dl":"https://example.invalid/dl"}"#,
        )
        .unwrap();
        let repo = Repository::new(&index, dir.path().join("repo"));
        let (root, targets) = (
            Ed25519Signer::generate(&ring::rand::SystemRandom::new()).unwrap(),
            Ed25519Signer::generate(&ring::rand::SystemRandom::new()).unwrap(),
        );
        let online = Arc::new(Ed25519Signer::generate(&ring::rand::SystemRandom::new()).unwrap());
        let online_signer: [&dyn Signer; 1] = [online.as_ref()];
        repo.init(
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
            at(T0) - TimeDelta::days(1),
        )
        .unwrap();
        Self {
            _dir: dir,
            repo,
            keys: OnlineKeys::single(online),
        }
    }

    fn write(&self, path: &str, text: &str) {
        let file = self.repo.index_dir().join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }

    fn publish_at(
        &self,
        changes: &Changes,
        now: DateTime<Utc>,
    ) -> tuf_repo::publish::PublishReport {
        publish(&self.repo, &self.keys, changes, &PublishOptions::new(now)).unwrap()
    }

    fn hook(&self, path: &str, now: DateTime<Utc>) -> tuf_repo::publish::PublishReport {
        self.publish_at(&Changes::Paths(vec![path.to_owned()]), now)
    }

    fn view(&self, now: DateTime<Utc>) -> RepoView {
        let root = fs::read(self.repo.metadata_dir().join("1.root.json")).unwrap();
        RepoView::load(&self.repo, &root, now, &Limits::default()).unwrap()
    }

    /// The feed at `path` as a client reaches it: through its bin, by its hash name,
    /// length and hash checked.
    fn feed_bytes(&self, path: &str, now: DateTime<Utc>) -> Option<Vec<u8>> {
        let view = self.view(now);
        let entry = view.target(path).unwrap()?;
        let target = tuf_core::metadata::TargetPath::parse(path).unwrap();
        view.check_target(&target, &entry, TargetCheck::Copies)
            .unwrap();
        let name = tuf_core::repo::target_copy_name(&target, &entry.sha256().unwrap());
        Some(fs::read(self.repo.targets_dir().join(name)).unwrap())
    }

    fn items(&self, path: &str, now: DateTime<Utc>) -> Vec<FeedItem> {
        let bytes = self.feed_bytes(path, now).expect("feed signed");
        feed::parse(&bytes, 10_000).unwrap()
    }
}

fn summary(items: &[FeedItem]) -> Vec<(ItemKind, String, String)> {
    items
        .iter()
        .map(|i| (i.kind, i.krate.clone(), i.version.clone()))
        .collect()
}

fn s(kind: ItemKind, krate: &str, vers: &str) -> (ItemKind, String, String) {
    (kind, krate.to_owned(), vers.to_owned())
}

#[test]
fn publishes_yanks_unyanks_and_deletions_reach_the_feeds_in_order() {
    let f = Fixture::new();
    let t0 = at(T0);
    f.write(
        "se/rd/serde",
        &line("serde", "1.0.0", false, Some("2026-02-01T00:00:00Z")),
    );
    let first = f.publish_at(&Changes::Scan, t0);
    assert_eq!(first.kind, PublishKind::First);
    assert_eq!(first.feeds_written, 2);
    let items = f.items("feeds/crates/serde.xml", t0);
    assert_eq!(summary(&items), [s(ItemKind::Publish, "serde", "1.0.0")]);
    assert_eq!(
        items[0].time,
        Some(at("2026-02-01T00:00:00Z")),
        "the line's pubtime"
    );
    assert_eq!(items[0].cksum, cksum("serde", "1.0.0"));

    // A new version (no pubtime: the publish time), through the hook.
    let t1 = t0 + TimeDelta::minutes(1);
    let v100 = line("serde", "1.0.0", false, Some("2026-02-01T00:00:00Z"));
    f.write(
        "se/rd/serde",
        &(v100.clone() + &line("serde", "1.0.1", false, None)),
    );
    let report = f.hook("se/rd/serde", t1);
    assert_eq!((report.feeds_written, report.feed_items), (2, 2));
    // Yank 1.0.1, un-yank it, then delete 1.0.0's line.
    let t2 = t1 + TimeDelta::minutes(1);
    f.write(
        "se/rd/serde",
        &(v100.clone() + &line("serde", "1.0.1", true, None)),
    );
    f.hook("se/rd/serde", t2);
    let t3 = t2 + TimeDelta::minutes(1);
    f.write(
        "se/rd/serde",
        &(v100 + &line("serde", "1.0.1", false, None)),
    );
    f.hook("se/rd/serde", t3);
    let t4 = t3 + TimeDelta::minutes(1);
    f.write("se/rd/serde", &line("serde", "1.0.1", false, None));
    f.hook("se/rd/serde", t4);
    // Another crate, then serde's file removed.
    let t5 = t4 + TimeDelta::minutes(1);
    f.write("3/r/rng", &line("rng", "0.9.0", false, None));
    f.hook("3/r/rng", t5);
    let t6 = t5 + TimeDelta::minutes(1);
    fs::remove_file(f.repo.index_dir().join("se/rd/serde")).unwrap();
    f.hook("se/rd/serde", t6);

    let items = f.items("feeds/crates/serde.xml", t6);
    assert_eq!(
        summary(&items),
        [
            s(ItemKind::Delete, "serde", "1.0.1"),
            s(ItemKind::Delete, "serde", "1.0.0"),
            s(ItemKind::Unyank, "serde", "1.0.1"),
            s(ItemKind::Yank, "serde", "1.0.1"),
            s(ItemKind::Publish, "serde", "1.0.1"),
            s(ItemKind::Publish, "serde", "1.0.0"),
        ]
    );
    let times: Vec<_> = items.iter().map(|i| i.time.unwrap()).collect();
    assert_eq!(times[..5], [t6, t4, t3, t2, t1]);
    let updates = f.items("feeds/updates.xml", t6);
    assert_eq!(
        summary(&updates)[..3],
        [
            s(ItemKind::Delete, "serde", "1.0.1"),
            s(ItemKind::Publish, "rng", "0.9.0"),
            s(ItemKind::Delete, "serde", "1.0.0"),
        ]
    );
    assert_eq!(updates.len(), 7);
    // rng's feed holds only rng.
    assert_eq!(
        summary(&f.items("feeds/crates/rng.xml", t6)),
        [s(ItemKind::Publish, "rng", "0.9.0")]
    );
    // A client's whole view checks out, feeds included, in copies and against the index.
    let root = fs::read(f.repo.metadata_dir().join("1.root.json")).unwrap();
    for check in [TargetCheck::Copies, TargetCheck::Index] {
        let report = verify_repository(&f.repo, &root, t6, check, &Limits::default()).unwrap();
        assert_eq!(report.targets, 5, "config.json, rng, and three feeds");
    }
}

#[test]
fn a_one_version_publish_touches_one_crate_feed_and_the_updates_feed() {
    let f = Fixture::new();
    let t0 = at(T0);
    for name in ["serde", "rng", "tokio", "clap"] {
        let path = tuf_core::index::CrateName::parse(name)
            .unwrap()
            .sparse_path();
        f.write(&path, &line(name, "1.0.0", false, None));
    }
    let first = f.publish_at(&Changes::Scan, t0);
    assert_eq!(first.feeds_written, 5);
    let before = |name: &str| {
        f.view(t0)
            .target(&format!("feeds/crates/{name}.xml"))
            .unwrap()
    };
    let rng_before = before("rng");
    f.write(
        "se/rd/serde",
        &(line("serde", "1.0.0", false, None) + &line("serde", "1.1.0", false, None)),
    );
    let t1 = t0 + TimeDelta::minutes(1);
    let report = f.hook("se/rd/serde", t1);
    assert_eq!(report.feeds_written, 2);
    assert!(
        report.bins_signed <= 3,
        "the index file's, the crate feed's and the updates feed's bins"
    );
    assert_eq!(
        f.view(t1).target("feeds/crates/rng.xml").unwrap(),
        rng_before
    );
    // Touching a file without a change writes no feed.
    let t2 = t1 + TimeDelta::minutes(1);
    let report = f.hook("se/rd/serde", t2);
    assert_eq!((report.feeds_written, report.bins_signed), (0, 0));
}

#[test]
fn the_crate_feed_keeps_ten_items_and_every_item_of_the_last_day() {
    let f = Fixture::new();
    let t0 = at(T0);
    let mut text = String::new();
    f.write("se/rd/serde", "");
    f.publish_at(&Changes::Scan, t0);
    // 15 versions, one every 2 hours from t0. At the last, t0 + 28 h, the window starts
    // at t0 + 4 h: 1.0.2 is exactly 24 h old and stays, 1.0.1 and 1.0.0 (beyond the
    // latest ten and older) go: 13 items. A day later only the latest ten stay.
    for v in 0..15 {
        text.push_str(&line("serde", &format!("1.0.{v}"), false, None));
        f.write("se/rd/serde", &text);
        f.hook("se/rd/serde", t0 + TimeDelta::hours(2 * v));
    }
    let newest = t0 + TimeDelta::hours(28);
    let items = f.items("feeds/crates/serde.xml", newest);
    assert_eq!(items.len(), 13);
    assert_eq!(items.last().unwrap().version, "1.0.2");
    // One more version a day later: the day's window now holds only it; ten stay.
    text.push_str(&line("serde", "2.0.0", false, None));
    f.write("se/rd/serde", &text);
    let later = newest + TimeDelta::hours(24) + TimeDelta::seconds(1);
    f.hook("se/rd/serde", later);
    let items = f.items("feeds/crates/serde.xml", later);
    assert_eq!(items.len(), 10);
    assert_eq!(items[0].version, "2.0.0");
    assert_eq!(items[9].version, "1.0.6");
}

#[test]
fn an_independent_parser_reads_the_feeds() {
    let f = Fixture::new();
    let t0 = at(T0);
    f.write(
        "se/rd/serde",
        &(line("serde", "1.0.0", false, Some("2026-02-01T00:00:00Z"))
            + &line("serde", "1.0.1+build.7", true, None)),
    );
    f.publish_at(&Changes::Scan, t0);
    for (path, title) in [
        ("feeds/crates/serde.xml", "serde: releases"),
        ("feeds/updates.xml", "Registry updates"),
    ] {
        let bytes = f.feed_bytes(path, t0).unwrap();
        let parsed = feed_rs::parser::parse(bytes.as_slice()).unwrap();
        assert_eq!(parsed.feed_type, feed_rs::model::FeedType::RSS2);
        assert_eq!(parsed.title.unwrap().content, title);
        let ours = feed::parse(&bytes, 100).unwrap();
        assert_eq!(parsed.entries.len(), ours.len());
        for (entry, item) in parsed.entries.iter().zip(&ours) {
            assert_eq!(entry.id, item.guid());
            assert_eq!(entry.published, item.time);
            assert!(entry
                .title
                .as_ref()
                .unwrap()
                .content
                .contains(&item.version));
        }
    }
    // Backfill: every version as a publish; the one without pubtime has no date and stays
    // out of the updates feed, which orders by time.
    assert_eq!(f.items("feeds/crates/serde.xml", t0).len(), 2);
    assert_eq!(f.items("feeds/updates.xml", t0).len(), 1);
}

#[test]
fn a_publish_stopped_before_its_timestamp_leaves_feeds_as_published_and_the_next_redoes_them() {
    let f = Fixture::new();
    let t0 = at(T0);
    f.write("se/rd/serde", &line("serde", "1.0.0", false, None));
    f.publish_at(&Changes::Scan, t0);
    let published_feed = f.feed_bytes("feeds/crates/serde.xml", t0).unwrap();
    f.write(
        "se/rd/serde",
        &(line("serde", "1.0.0", false, None) + &line("serde", "1.0.1", false, None)),
    );
    let t1 = t0 + TimeDelta::minutes(1);
    // Stop at each step of the metadata writes: feed copies are written, bins maybe, the
    // timestamp never.
    for steps in 0..4 {
        let mut options = PublishOptions::new(t1);
        options.fail_after_writes = Some(steps);
        let error = publish(
            &f.repo,
            &f.keys,
            &Changes::Paths(vec!["se/rd/serde".to_owned()]),
            &options,
        )
        .unwrap_err();
        assert_eq!(error.code(), "injected");
        // What clients see: the old feed, consistent with the old index file.
        assert_eq!(
            f.feed_bytes("feeds/crates/serde.xml", t1).unwrap(),
            published_feed
        );
        let view = f.view(t1);
        let index = view.target("se/rd/serde").unwrap().unwrap();
        assert_eq!(
            index.length.get(),
            u64::try_from(line("serde", "1.0.0", false, None).len()).unwrap()
        );
    }
    // A scan (as cron runs) redoes the change: one publish item, not lost, not doubled.
    let t2 = t1 + TimeDelta::minutes(1);
    let report = f.publish_at(&Changes::Scan, t2);
    assert_eq!(report.feeds_written, 2);
    let items = f.items("feeds/crates/serde.xml", t2);
    assert_eq!(
        summary(&items),
        [
            s(ItemKind::Publish, "serde", "1.0.1"),
            s(ItemKind::Publish, "serde", "1.0.0")
        ]
    );
    assert_eq!(items[0].time, Some(t2));
}

#[test]
fn feeds_switched_on_later_start_from_the_current_index() {
    let f = Fixture::new();
    let t0 = at(T0);
    let state = f.repo.state_dir();
    feeds::set_enabled(&state, false).unwrap();
    f.write("se/rd/serde", &line("serde", "1.0.0", false, None));
    let first = f.publish_at(&Changes::Scan, t0);
    assert_eq!(first.feeds_written, 0);
    assert!(f.view(t0).target("feeds/updates.xml").unwrap().is_none());
    assert!(!feeds::enabled(&state).unwrap());
    // Switched on: the next publish (a hook's, here) signs every feed from the index.
    feeds::set_enabled(&state, true).unwrap();
    f.write("3/r/rng", &line("rng", "0.1.0", false, None));
    let t1 = t0 + TimeDelta::minutes(1);
    let report = f.hook("3/r/rng", t1);
    assert_eq!(report.kind, PublishKind::Full);
    assert_eq!(report.feeds_written, 3);
    assert_eq!(
        summary(&f.items("feeds/crates/serde.xml", t1)),
        [s(ItemKind::Publish, "serde", "1.0.0")]
    );
    // And then incrementally.
    f.write(
        "3/r/rng",
        &(line("rng", "0.1.0", false, None) + &line("rng", "0.2.0", false, None)),
    );
    let t2 = t1 + TimeDelta::minutes(1);
    let report = f.hook("3/r/rng", t2);
    assert_eq!(
        (report.kind, report.feeds_written),
        (PublishKind::Incremental, 2)
    );
    assert_eq!(f.items("feeds/crates/rng.xml", t2).len(), 2);

    // Switched off: the next publish (a hook's) is a full one that signs no feed, so a
    // reader is told there is none (an authenticated absence) rather than shown one
    // that no longer changes.
    feeds::set_enabled(&state, false).unwrap();
    f.write(
        "3/r/rng",
        &(line("rng", "0.1.0", false, None) + &line("rng", "0.3.0", false, None)),
    );
    let t3 = t2 + TimeDelta::minutes(1);
    let report = f.hook("3/r/rng", t3);
    assert_eq!((report.kind, report.feeds_written), (PublishKind::Full, 0));
    let view = f.view(t3);
    for feed in [
        "feeds/updates.xml",
        "feeds/crates/serde.xml",
        "feeds/crates/rng.xml",
    ] {
        assert!(view.target(feed).unwrap().is_none(), "{feed}");
    }
    assert!(view.target("3/r/rng").unwrap().is_some());
    // And the next publish is incremental again: nothing left to drop.
    f.write("3/r/rng", &line("rng", "0.4.0", false, None));
    let report = f.hook("3/r/rng", t3 + TimeDelta::minutes(1));
    assert_eq!(
        (report.kind, report.feeds_written, report.bins_signed),
        (PublishKind::Incremental, 0, 1)
    );
}

#[test]
fn a_full_publish_keeps_every_feed_and_adds_what_changed() {
    let f = Fixture::new();
    let t0 = at(T0);
    f.write("se/rd/serde", &line("serde", "1.0.0", false, None));
    f.write("3/r/rng", &line("rng", "0.1.0", false, None));
    f.publish_at(&Changes::Scan, t0);
    let rng_feed = f.feed_bytes("feeds/crates/rng.xml", t0).unwrap();
    // The manifest lost: the next scan is a full publish.
    fs::remove_file(f.repo.state_dir().join("manifest")).unwrap();
    f.write(
        "se/rd/serde",
        &(line("serde", "1.0.0", false, None) + &line("serde", "1.0.1", false, None)),
    );
    let t1 = t0 + TimeDelta::minutes(1);
    let report = f.publish_at(&Changes::Scan, t1);
    assert_eq!(report.kind, PublishKind::Full);
    assert_eq!(f.feed_bytes("feeds/crates/rng.xml", t1).unwrap(), rng_feed);
    assert_eq!(
        summary(&f.items("feeds/crates/serde.xml", t1)),
        [
            s(ItemKind::Publish, "serde", "1.0.1"),
            s(ItemKind::Publish, "serde", "1.0.0")
        ]
    );
    assert_eq!(f.items("feeds/updates.xml", t1)[0].version, "1.0.1");
}
