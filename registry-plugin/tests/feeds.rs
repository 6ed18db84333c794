//! `cargo tuf feed` against a real 127.0.0.1 server: a signed feed is printed; a
//! tampered copy, a frozen (expired) timestamp and a rolled-back timestamp are refused
//! with a non-zero exit and nothing printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::{TimeDelta, Utc};
use support::*;
use tuf_core::feed::{self, FeedItem, FeedScope, ItemKind};
use tuf_core::metadata::TargetPath;

const FEED: &str = "feeds/crates/alpha.xml";

fn item(version: &str, kind: ItemKind, hours_ago: i64) -> FeedItem {
    let time = Utc::now() - TimeDelta::hours(hours_ago);
    FeedItem {
        krate: "alpha".to_owned(),
        version: version.to_owned(),
        kind,
        time: chrono::DateTime::from_timestamp(time.timestamp(), 0),
        cksum: "ab".repeat(32),
    }
}

/// The copy name of `path` holding `bytes`.
fn copy_name(path: &str, bytes: &[u8]) -> String {
    tuf_core::repo::target_copy_name(
        &TargetPath::parse(path).unwrap(),
        &tuf_core::hash::sha256(bytes),
    )
}

/// A registry signing alpha's index file and feed (its copy served under `targets/`), and
/// a user who pinned it.
fn setup() -> (Registry, User, Vec<u8>) {
    let mut registry = Registry::new(Server::start());
    let line = index_line("alpha", "0.1.0", &"ab".repeat(32), false) + "\n";
    registry
        .targets
        .insert(sparse_path("alpha"), line.into_bytes());
    let feed_bytes = feed::render(
        FeedScope::Crate("alpha"),
        &[
            item("0.2.0", ItemKind::Yank, 1),
            item("0.2.0", ItemKind::Publish, 3),
        ],
    );
    registry.targets.insert(FEED.to_owned(), feed_bytes.clone());
    registry.publish();
    registry.server.put(
        &format!("targets/{}", copy_name(FEED, &feed_bytes)),
        feed_bytes.clone(),
    );
    let user = User::new(&registry, &[]);
    user.init(&registry);
    (registry, user, feed_bytes)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn assert_refused(out: &std::process::Output, needles: &[&str]) {
    let all = text(out);
    assert!(!out.status.success(), "feed succeeded:\n{all}");
    assert!(
        stdout(out).is_empty(),
        "printed items of a refused feed:\n{all}"
    );
    for needle in needles {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
}

#[test]
fn a_signed_feed_is_printed_newest_first_and_since_filters_it() {
    let (_registry, user, _) = setup();
    let out = user.cargo_tuf(&["tuf", "feed", "alpha"]);
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("yank") && lines[0].contains("alpha 0.2.0"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("publish") && lines[1].contains(&"ab".repeat(32)),
        "{lines:?}"
    );

    let out = user.cargo_tuf(&["tuf", "feed", "alpha", "--since", "2h", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["kind"], "yank");
    // Nothing new: exit 0, nothing printed (cron mails nothing).
    let out = user.cargo_tuf(&["tuf", "feed", "alpha", "--since", "30m"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stdout.is_empty());
    // No feed signed for a crate: an authenticated absence, refused.
    let out = user.cargo_tuf(&["tuf", "feed", "beta"]);
    assert_refused(&out, &["signs no feeds/crates/beta.xml"]);
}

#[test]
fn a_tampered_feed_is_refused() {
    let (registry, user, feed_bytes) = setup();
    // Same length, one item changed: the hash check fails before anything is parsed.
    let forged = String::from_utf8(feed_bytes.clone())
        .unwrap()
        .replace("0.2.0", "0.2.9");
    assert_eq!(forged.len(), feed_bytes.len());
    registry.server.put(
        &format!("targets/{}", copy_name(FEED, &feed_bytes)),
        forged.into_bytes(),
    );
    let out = user.cargo_tuf(&["tuf", "feed", "alpha"]);
    assert_refused(
        &out,
        &["does not match its signed length and hash", "tampered"],
    );
}

#[test]
fn a_frozen_feed_is_refused() {
    let (mut registry, user, feed_bytes) = setup();
    registry.timestamp_expires_in = TimeDelta::hours(-1);
    registry.publish();
    registry.server.put(
        &format!("targets/{}", copy_name(FEED, &feed_bytes)),
        feed_bytes,
    );
    let out = user.cargo_tuf(&["tuf", "feed", "alpha"]);
    assert_refused(&out, &["timestamp", "expired", "freeze attack"]);
}

#[test]
fn a_rolled_back_feed_is_refused() {
    let (mut registry, user, _) = setup();
    // Version 2 with a newer feed, seen by the user; then the server goes back to version 1.
    let newer = feed::render(
        FeedScope::Crate("alpha"),
        &[item("0.3.0", ItemKind::Publish, 0)],
    );
    registry.targets.insert(FEED.to_owned(), newer.clone());
    registry.publish();
    registry
        .server
        .put(&format!("targets/{}", copy_name(FEED, &newer)), newer);
    let out = user.cargo_tuf(&["tuf", "feed", "alpha"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("alpha 0.3.0"));
    let old_timestamp = registry
        .server
        .get("metadata/1.timestamp.json")
        .expect("version 1 kept on the server");
    registry
        .server
        .put("metadata/timestamp.json", old_timestamp);
    let out = user.cargo_tuf(&["tuf", "feed", "alpha"]);
    assert_refused(&out, &["rollback", "older than"]);
}
