//! Signed release feeds (issue #18): what the publisher saw change in the index, as RSS 2.0
//! targets signed in the same consistent snapshot as the index files.
//!
//! Sans-IO like the rest of this crate: index bytes and feed bytes in, feed bytes out,
//! `now` given by the caller.
//!
//! * **Paths** ([`crate_feed_path`], [`UPDATES_PATH`]): `feeds/crates/<lowercased
//!   name>.xml` and `feeds/updates.xml`. An index path starts with `1/`, `2/`, `3/` or two
//!   characters then `/`, and `config.json` has no `/`, so `feeds/` (five characters) can
//!   never name an index file: [`is_feed_path`] and [`crate::index::CrateName::from_sparse_path`]
//!   never both accept a path.
//! * **Items** ([`FeedItem`]): a version published, yanked, un-yanked or deleted, with the
//!   crate, the version, the time (the index line's `pubtime` when the registry writes
//!   one, else the publish time; unknown for a feed built from an existing index without
//!   `pubtime`) and the `.crate` checksum. [`diff`] finds them from an index file's old
//!   and new bytes; [`backfill`] makes the publish items of an existing index file.
//! * **The rule** ([`FeedRule`], crates.io's): a feed keeps its latest
//!   [`FeedRule::latest`] items and at least every item of the last
//!   [`FeedRule::window`], up to a hard cap [`FeedRule::max_items`] that bounds the size
//!   of a target every reader downloads. [`merge`] applies it.
//! * **Bytes** ([`render`], [`parse`]): deterministic (the same items give the same bytes:
//!   the channel's dates come from its items, never from a clock), so a feed whose items
//!   did not change keeps its hash. Everything an item says is also in its `guid`
//!   (`tuf-feed/KIND/CRATE/VERSION/TIME/CKSUM`), which is stable and unique per event,
//!   so a feed read back gives exactly the items it was written from.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;

use crate::index::{CrateName, IndexError};

/// The registry-wide feed of recent updates.
pub const UPDATES_PATH: &str = "feeds/updates.xml";

/// The directory every feed target is under.
pub const FEEDS_DIR: &str = "feeds/";

/// The target path of `name`'s feed: `feeds/crates/<lowercased name>.xml` (lowercased
/// as the sparse path is, so the feed of `Serde` and `serde` is one, like its index file).
pub fn crate_feed_path(name: &CrateName) -> String {
    format!("feeds/crates/{}.xml", name.as_str().to_ascii_lowercase())
}

/// Whether `path` is a feed target (under `feeds/`), which is never an index path.
pub fn is_feed_path(path: &str) -> bool {
    path.starts_with(FEEDS_DIR)
}

/// The crate name (lowercased) of a crate feed's path, `None` for any other path.
pub fn crate_name_of_feed(path: &str) -> Option<&str> {
    path.strip_prefix("feeds/crates/")?.strip_suffix(".xml")
}

/// What happened to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    /// A new version (a line added to the index file).
    Publish,
    /// `yanked` went from false to true.
    Yank,
    /// `yanked` went from true to false.
    Unyank,
    /// The version's line, or the whole index file, was removed.
    Delete,
}

impl ItemKind {
    /// The word feeds and `--json` use: `publish`, `yank`, `unyank`, `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Yank => "yank",
            Self::Unyank => "unyank",
            Self::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "publish" => Self::Publish,
            "yank" => Self::Yank,
            "unyank" => Self::Unyank,
            "delete" => Self::Delete,
            _ => return None,
        })
    }

    fn past_tense(self) -> &'static str {
        match self {
            Self::Publish => "published",
            Self::Yank => "yanked",
            Self::Unyank => "un-yanked",
            Self::Delete => "deleted",
        }
    }
}

/// One event of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedItem {
    /// The crate, as its index line spells it.
    pub krate: String,
    /// The version, as its index line spells it (build metadata included).
    pub version: String,
    /// What happened.
    pub kind: ItemKind,
    /// When, to the second: the line's `pubtime` for a publish when the registry writes
    /// one, else the time of the publish that saw the change; `None` when unknown (the
    /// publish items of a feed built from an existing index without `pubtime`).
    pub time: Option<DateTime<Utc>>,
    /// The `.crate`'s SHA-256 (the line's `cksum`), 64 lowercase hex digits.
    pub cksum: String,
}

impl FeedItem {
    /// The item's `guid`: `tuf-feed/KIND/CRATE/VERSION/TIME/CKSUM` (TIME in RFC 3339 UTC
    /// seconds, or `unknown`). None of the fields can hold a `/` (crate names and
    /// versions have none, RFC 3339 has none), so it reads back unambiguously.
    pub fn guid(&self) -> String {
        format!(
            "tuf-feed/{}/{}/{}/{}/{}",
            self.kind.as_str(),
            self.krate,
            self.version,
            self.time.map_or_else(|| "unknown".to_owned(), rfc3339),
            self.cksum
        )
    }

    fn from_guid(guid: &str) -> Option<Self> {
        let mut parts = guid.strip_prefix("tuf-feed/")?.split('/');
        let kind = ItemKind::parse(parts.next()?)?;
        let krate = CrateName::parse(parts.next()?).ok()?;
        let version = parts.next()?;
        semver::Version::parse(version).ok()?;
        let time = match parts.next()? {
            "unknown" => None,
            t => Some(DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc)),
        };
        let cksum = parts.next()?;
        crate::index::Cksum::parse(cksum).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            krate: krate.as_str().to_owned(),
            version: version.to_owned(),
            kind,
            time,
            cksum: cksum.to_owned(),
        })
    }
}

/// How many items a feed keeps (crates.io's rule, with a cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedRule {
    /// The latest items always kept.
    pub latest: usize,
    /// Every item at most this old (by its time, against the publish's `now`) is kept
    /// too, beyond `latest`.
    pub window: TimeDelta,
    /// Never more than this many items: bounds what every reader downloads, should a
    /// crate or the registry see more events in `window` than that.
    pub max_items: usize,
}

/// A crate's feed: the latest 10 items and every item of the last 24 hours (crates.io's
/// `rss/crates/{name}.xml`), at most 1000 (~400 KB).
pub const CRATE_RULE: FeedRule = FeedRule {
    latest: 10,
    window: TimeDelta::hours(24),
    max_items: 1000,
};

/// The registry-wide feed: the latest 100 items and every item of the last hour, at most
/// 1000 (~440 KB). crates.io's `rss/updates.xml` keeps the latest 100 versions and every
/// one of the last 60 minutes (`src/worker/jobs/rss/sync_updates_feed.rs`), ~125 an hour
/// at its ~3000 releases a day. The feed is read back, merged, rendered and hashed on
/// every publish that changes it, so its size is that publish's cost: ~0.3 ms at 100
/// items, ~2.9 ms at 1000, ~9 ms at 3000 and ~30 ms at 10 000 (docs/benchmarks.md,
/// "Release feeds"): a day's worth would cost every hook publish ~9 ms.
pub const UPDATES_RULE: FeedRule = FeedRule {
    latest: 100,
    window: TimeDelta::hours(1),
    max_items: 1000,
};

/// A feed that cannot be read back, or an index file that cannot be read for its items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The feed is not RSS 2.0 (`feed-xml`).
    #[error("not an RSS 2.0 feed: {reason}")]
    Xml {
        /// The parser's message.
        reason: String,
    },
    /// An item's `guid` is missing or not one this module writes (`feed-item`).
    #[error("feed item {index} has no guid of the form tuf-feed/KIND/CRATE/VERSION/TIME/CKSUM")]
    Item {
        /// The item's position, from 0.
        index: usize,
    },
    /// More items than the rule's cap (`feed-too-many-items`).
    #[error("the feed has {found} items; expected at most {max}")]
    TooManyItems {
        /// Items found.
        found: usize,
        /// The cap.
        max: usize,
    },
    /// An index line without the fields a feed needs (`feed-index-line`).
    #[error("index line {line}: {reason}")]
    IndexLine {
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The index path is not a crate's sparse path (`feed-index-path`).
    #[error("not a crate's index path: {0}")]
    IndexPath(#[from] IndexError),
}

impl FeedError {
    /// A stable, kebab-case name of the error's kind.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Xml { .. } => "feed-xml",
            Self::Item { .. } => "feed-item",
            Self::TooManyItems { .. } => "feed-too-many-items",
            Self::IndexLine { .. } => "feed-index-line",
            Self::IndexPath(_) => "feed-index-path",
        }
    }
}

/// The fields of an index line a feed reads. The bytes were checked as the verifier
/// checks them before they were signed (`index::check_index_target`), so this reads only
/// what it needs, without building the rest.
#[derive(Deserialize)]
struct LineFields {
    name: String,
    vers: String,
    cksum: String,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    pubtime: Option<String>,
}

/// The versions of an index file in file order (oldest first, as registries append).
fn read_lines(bytes: &[u8]) -> Result<Vec<LineFields>, FeedError> {
    let mut lines = Vec::new();
    for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            continue;
        }
        let fields: LineFields =
            serde_json::from_slice(line).map_err(|e| FeedError::IndexLine {
                line: number.saturating_add(1),
                reason: e.to_string(),
            })?;
        lines.push(fields);
    }
    Ok(lines)
}

/// A line's `pubtime`, to the second, if it has a readable one.
fn pubtime(line: &LineFields) -> Option<DateTime<Utc>> {
    let text = line.pubtime.as_deref()?;
    let time = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    Some(to_second(time))
}

fn to_second(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The items of one index file's change, newest first: for each version of `new` not in
/// `old` a publish (at its `pubtime`, else `now`), for each whose `yanked` changed a yank
/// or un-yank (at `now`), and for each version of `old` not in `new` a deletion (at
/// `now`); `new` is `None` when the file was removed. Publishes come out in reverse file
/// order (the newest line first).
pub fn diff(
    old: Option<&[u8]>,
    new: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<Vec<FeedItem>, FeedError> {
    let now = to_second(now);
    let old_lines = old.map(read_lines).transpose()?.unwrap_or_default();
    let new_lines = new.map(read_lines).transpose()?.unwrap_or_default();
    let old_by_version: BTreeMap<&str, &LineFields> =
        old_lines.iter().map(|l| (l.vers.as_str(), l)).collect();
    let new_versions: HashSet<&str> = new_lines.iter().map(|l| l.vers.as_str()).collect();
    // Chronological first, reversed at the end.
    let mut items = Vec::new();
    for line in &old_lines {
        if !new_versions.contains(line.vers.as_str()) {
            items.push(item(line, ItemKind::Delete, Some(now)));
        }
    }
    for line in &new_lines {
        match old_by_version.get(line.vers.as_str()) {
            None => items.push(item(line, ItemKind::Publish, pubtime(line).or(Some(now)))),
            Some(old) if old.yanked != line.yanked => {
                let kind = if line.yanked {
                    ItemKind::Yank
                } else {
                    ItemKind::Unyank
                };
                items.push(item(line, kind, Some(now)));
            }
            // Same version, other checksum: a registry never does this (cargo would
            // refuse the download), but a reader must hear of it.
            Some(old) if old.cksum != line.cksum => {
                items.push(item(old, ItemKind::Delete, Some(now)));
                items.push(item(line, ItemKind::Publish, Some(now)));
            }
            Some(_) => {}
        }
    }
    items.reverse();
    Ok(items)
}

/// The publish items of an existing index file, for a feed that starts from an index
/// published before feeds were on (see docs/feeds.md): one per version, newest line first,
/// at its `pubtime` or unknown. Yanks before that are not known as events and are not
/// made up.
pub fn backfill(bytes: &[u8]) -> Result<Vec<FeedItem>, FeedError> {
    let lines = read_lines(bytes)?;
    Ok(lines
        .iter()
        .rev()
        .map(|line| item(line, ItemKind::Publish, pubtime(line)))
        .collect())
}

fn item(line: &LineFields, kind: ItemKind, time: Option<DateTime<Utc>>) -> FeedItem {
    FeedItem {
        krate: line.name.clone(),
        version: line.vers.clone(),
        kind,
        time,
        cksum: line.cksum.clone(),
    }
}

/// The items of a feed after a publish: `new` (newest first) before `existing` (as the
/// feed held them), an existing item that `new` repeats (same `guid`) dropped, then the
/// rule: the first `latest` items, and after them every item whose time is within
/// `window` of `now`, at most `max_items`. Items are in the order events were published,
/// newest first; that order never changes once written.
pub fn merge(
    new: Vec<FeedItem>,
    existing: Vec<FeedItem>,
    rule: &FeedRule,
    now: DateTime<Utc>,
) -> Vec<FeedItem> {
    let fresh: HashSet<String> = new.iter().map(FeedItem::guid).collect();
    let cutoff = now.checked_sub_signed(rule.window);
    let mut out = new;
    out.extend(
        existing
            .into_iter()
            .filter(|item| !fresh.contains(&item.guid())),
    );
    let mut kept = 0usize;
    out.retain(|item| {
        let recent = match (item.time, cutoff) {
            (Some(time), Some(cutoff)) => time >= cutoff,
            _ => false,
        };
        let keep = kept < rule.max_items && (kept < rule.latest || recent);
        if keep {
            kept += 1;
        }
        keep
    });
    out
}

/// Which feed a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedScope<'a> {
    /// One crate's feed (its name, lowercased as in the path).
    Crate(&'a str),
    /// The registry-wide feed.
    Updates,
}

/// The RSS 2.0 bytes of a feed of `items` (in order). Deterministic: the channel's
/// `lastBuildDate` is its newest item time, and nothing else depends on when it is written.
pub fn render(scope: FeedScope<'_>, items: &[FeedItem]) -> Vec<u8> {
    let mut channel = rss::Channel::default();
    match scope {
        FeedScope::Crate(name) => {
            channel.set_title(format!("{name}: releases"));
            channel.set_link(format!("feeds/crates/{name}.xml"));
            channel.set_description(format!(
                "Versions of {name} published, yanked, un-yanked and deleted, as signed by \
                 the registry's TUF publisher"
            ));
        }
        FeedScope::Updates => {
            channel.set_title("Registry updates");
            channel.set_link(UPDATES_PATH);
            channel.set_description(
                "Versions published, yanked, un-yanked and deleted in the registry, as signed \
                 by its TUF publisher",
            );
        }
    }
    if let Some(newest) = items.iter().filter_map(|i| i.time).max() {
        channel.set_last_build_date(newest.to_rfc2822());
    }
    channel.set_items(items.iter().map(rss_item).collect::<Vec<_>>());
    // Writing into a `Vec` cannot fail; an empty feed would be the only outcome if the
    // writer ever did.
    channel.write_to(Vec::new()).unwrap_or_default()
}

fn rss_item(item: &FeedItem) -> rss::Item {
    let mut out = rss::Item::default();
    out.set_title(format!(
        "{} {} {}",
        item.krate,
        item.version,
        item.kind.past_tense()
    ));
    out.set_description(format!(
        "{} {} {}; .crate SHA-256 {}",
        item.krate,
        item.version,
        item.kind.past_tense(),
        item.cksum
    ));
    let mut guid = rss::Guid::default();
    guid.set_value(item.guid());
    guid.set_permalink(false);
    out.set_guid(guid);
    if let Some(time) = item.time {
        out.set_pub_date(time.to_rfc2822());
    }
    out.set_categories(vec![rss::Category {
        name: item.kind.as_str().to_owned(),
        domain: None,
    }]);
    out
}

/// The items of a feed [`render`] wrote, in order; at most `max_items` of them.
pub fn parse(bytes: &[u8], max_items: usize) -> Result<Vec<FeedItem>, FeedError> {
    let channel = rss::Channel::read_from(bytes).map_err(|e| FeedError::Xml {
        reason: e.to_string(),
    })?;
    let items = channel.items();
    if items.len() > max_items {
        return Err(FeedError::TooManyItems {
            found: items.len(),
            max: max_items,
        });
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.guid()
                .and_then(|g| FeedItem::from_guid(g.value()))
                .ok_or(FeedError::Item { index })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn line(vers: &str, cksum: &str, yanked: bool, pubtime: Option<&str>) -> String {
        let pubtime = pubtime.map_or(String::new(), |t| format!(r#","pubtime":"{t}""#));
        format!(
            r#"{{"name":"Serde","vers":"{vers}","deps":[],"cksum":"{cksum}","features":{{}},"yanked":{yanked}{pubtime}}}"#
        ) + "\n"
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn kinds(items: &[FeedItem]) -> Vec<(ItemKind, &str)> {
        items.iter().map(|i| (i.kind, i.version.as_str())).collect()
    }

    #[test]
    fn paths_never_collide_with_index_paths() {
        let name = CrateName::parse("Serde").unwrap();
        assert_eq!(crate_feed_path(&name), "feeds/crates/serde.xml");
        for path in [crate_feed_path(&name).as_str(), UPDATES_PATH] {
            assert!(is_feed_path(path));
            assert!(CrateName::from_sparse_path(path).is_err());
            assert_ne!(path, crate::index::CONFIG_PATH);
        }
        assert!(!is_feed_path(&name.sparse_path()));
        // A crate named `feeds` lives at `fe/ed/feeds`.
        let feeds = CrateName::parse("feeds").unwrap();
        assert!(!is_feed_path(&feeds.sparse_path()));
    }

    #[test]
    fn diff_finds_publish_yank_unyank_and_delete() {
        let now = at("2026-01-02T03:04:05.678Z");
        let v1 = line("1.0.0", A, false, Some("2025-12-01T00:00:00Z"));
        let v2 = line("1.1.0", B, false, None);
        let published = diff(
            Some(v1.as_bytes()),
            Some((v1.clone() + &v2).as_bytes()),
            now,
        )
        .unwrap();
        assert_eq!(kinds(&published), [(ItemKind::Publish, "1.1.0")]);
        assert_eq!(published[0].time, Some(at("2026-01-02T03:04:05Z")));
        assert_eq!(published[0].cksum, B);
        assert_eq!(published[0].krate, "Serde");

        let first = diff(None, Some(v1.as_bytes()), now).unwrap();
        assert_eq!(
            first[0].time,
            Some(at("2025-12-01T00:00:00Z")),
            "pubtime wins"
        );

        let yanked = line("1.0.0", A, true, Some("2025-12-01T00:00:00Z"));
        let items = diff(
            Some((v1.clone() + &v2).as_bytes()),
            Some((yanked.clone() + &v2).as_bytes()),
            now,
        )
        .unwrap();
        assert_eq!(kinds(&items), [(ItemKind::Yank, "1.0.0")]);
        let items = diff(
            Some((yanked + &v2).as_bytes()),
            Some((v1.clone() + &v2).as_bytes()),
            now,
        )
        .unwrap();
        assert_eq!(kinds(&items), [(ItemKind::Unyank, "1.0.0")]);
        let items = diff(
            Some((v1.clone() + &v2).as_bytes()),
            Some(v1.as_bytes()),
            now,
        )
        .unwrap();
        assert_eq!(kinds(&items), [(ItemKind::Delete, "1.1.0")]);
        let items = diff(Some((v1 + &v2).as_bytes()), None, now).unwrap();
        assert_eq!(
            kinds(&items),
            [(ItemKind::Delete, "1.1.0"), (ItemKind::Delete, "1.0.0")]
        );
        // Unchanged: nothing.
        let same = line("1.0.0", A, false, None);
        assert!(diff(Some(same.as_bytes()), Some(same.as_bytes()), now)
            .unwrap()
            .is_empty());
    }

    fn publish_item(version: usize, time: Option<DateTime<Utc>>) -> FeedItem {
        FeedItem {
            krate: "serde".to_owned(),
            version: format!("1.0.{version}"),
            kind: ItemKind::Publish,
            time,
            cksum: A.to_owned(),
        }
    }

    #[test]
    fn merge_keeps_the_latest_ten_and_every_item_of_the_last_day() {
        let now = at("2026-01-02T00:00:00Z");
        // 30 items, newest first, one an hour: items 0..=24 are within 24 h (the 24th
        // exactly at the edge, kept), 25.. are older.
        let items: Vec<FeedItem> = (0..30)
            .map(|i| publish_item(i, Some(now - TimeDelta::hours(i64::try_from(i).unwrap()))))
            .collect();
        let kept = merge(Vec::new(), items.clone(), &CRATE_RULE, now);
        assert_eq!(kept.len(), 25);
        assert_eq!(kept.last().unwrap().version, "1.0.24");
        // All older than a day: exactly ten.
        let later = now + TimeDelta::days(3);
        let kept = merge(Vec::new(), items.clone(), &CRATE_RULE, later);
        assert_eq!(kinds(&kept).len(), 10);
        assert_eq!(kept[9].version, "1.0.9");
        // Unknown times count only among the latest ten.
        let unknown: Vec<FeedItem> = (0..12).map(|i| publish_item(i, None)).collect();
        assert_eq!(merge(Vec::new(), unknown, &CRATE_RULE, now).len(), 10);
        // The cap wins over the window.
        let rule = FeedRule {
            max_items: 12,
            ..CRATE_RULE
        };
        assert_eq!(merge(Vec::new(), items.clone(), &rule, now).len(), 12);
        // New items first; a repeated one is not doubled.
        let new = vec![publish_item(99, Some(now)), items[0].clone()];
        let kept = merge(new, items, &CRATE_RULE, later);
        assert_eq!(kept[0].version, "1.0.99");
        assert_eq!(kept[1].version, "1.0.0");
        assert_eq!(kept[2].version, "1.0.1");
        assert_eq!(kept.len(), 10);
    }

    #[test]
    fn the_updates_feed_keeps_the_latest_hundred_and_the_last_hour_at_most_a_thousand() {
        let now = at("2026-01-02T00:00:00Z");
        // 200 items, one a minute, newest first: items 0..=60 are within the hour (the
        // 60th exactly at the edge, kept), so the latest 100 decide.
        let minutes = |n: usize| -> Vec<FeedItem> {
            (0..n)
                .map(|i| {
                    let ago = TimeDelta::minutes(i64::try_from(i).unwrap());
                    publish_item(i, Some(now - ago))
                })
                .collect()
        };
        assert_eq!(
            merge(Vec::new(), minutes(200), &UPDATES_RULE, now).len(),
            100
        );
        // 200 in the last hour (one every 15 s): all kept; the one just past the hour is not.
        let seconds: Vec<FeedItem> = (0..241)
            .map(|i| {
                let ago = TimeDelta::seconds(15 * i64::try_from(i).unwrap());
                publish_item(i, Some(now - ago))
            })
            .collect();
        let kept = merge(Vec::new(), seconds.clone(), &UPDATES_RULE, now);
        assert_eq!(kept.len(), 241);
        let kept = merge(
            Vec::new(),
            seconds,
            &UPDATES_RULE,
            now + TimeDelta::seconds(1),
        );
        assert_eq!(kept.len(), 240);
        // A burst beyond the cap: 1000 kept, the newest.
        let burst: Vec<FeedItem> = (0..1500).map(|i| publish_item(i, Some(now))).collect();
        let kept = merge(Vec::new(), burst, &UPDATES_RULE, now);
        assert_eq!(kept.len(), 1000);
        assert_eq!(kept[999].version, "1.0.999");
    }

    #[test]
    fn render_is_deterministic_and_reads_back() {
        let now = at("2026-01-02T00:00:00Z");
        let items = vec![
            FeedItem {
                kind: ItemKind::Yank,
                version: "1.0.0+build.5".to_owned(),
                ..publish_item(0, Some(now))
            },
            publish_item(1, None),
        ];
        let bytes = render(FeedScope::Crate("serde"), &items);
        assert_eq!(bytes, render(FeedScope::Crate("serde"), &items));
        assert_eq!(parse(&bytes, 10).unwrap(), items);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("<lastBuildDate>Fri, 2 Jan 2026 00:00:00 +0000</lastBuildDate>"));
        assert!(text.contains(
            r#"<guid isPermaLink="false">tuf-feed/yank/serde/1.0.0+build.5/2026-01-02T00:00:00Z/"#
        ));
        assert_eq!(
            parse(&bytes, 1),
            Err(FeedError::TooManyItems { found: 2, max: 1 })
        );
        let forged = text.replace("tuf-feed/yank/", "tuf-feed/steal/");
        assert_eq!(
            parse(forged.as_bytes(), 10),
            Err(FeedError::Item { index: 0 })
        );
        assert_eq!(parse(b"not xml", 10).unwrap_err().code(), "feed-xml");
        assert!(parse(&render(FeedScope::Updates, &[]), 10)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn backfill_is_every_version_newest_first() {
        let file =
            line("1.0.0", A, false, Some("2025-01-01T00:00:00Z")) + &line("1.1.0", B, true, None);
        let items = backfill(file.as_bytes()).unwrap();
        assert_eq!(
            kinds(&items),
            [(ItemKind::Publish, "1.1.0"), (ItemKind::Publish, "1.0.0")]
        );
        assert_eq!(items[0].time, None);
        assert_eq!(items[1].time, Some(at("2025-01-01T00:00:00Z")));
    }
}
