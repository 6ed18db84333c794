//! Publisher state on the store (`state/`, never served): the content manifest, the
//! per-publish records of what a publish created or superseded, and pruning by them.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use tuf_core::metadata::TargetPath;

use crate::error::Error;
use crate::store::{ObjectKind, Store};

/// `state/manifest`: what is known of index files' contents, as facts about bytes, never
/// about what is signed: "the index file at PATH with version V (ETag, or local mtime)
/// has LENGTH and SHA-256". One compact text object, a line per file
/// (`PATH\tLENGTH\tVERSION\tSHA256HEX`): ~130 bytes a file, ~26 MB at 200k crates, read
/// once by a scan and written after it. Hook publishes never read or write it.
///
/// Because every line is a fact about immutable content (an ETag names one version of
/// an object), any manifest is safe to use, however stale, and concurrent scans may
/// overwrite each other's: a stale or lost line only costs re-hashing. What is signed is
/// always read from the bins.
pub(crate) const MANIFEST_KEY: &str = "state/manifest";

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Known {
    pub(crate) length: u64,
    pub(crate) version: String,
    pub(crate) sha256: [u8; 32],
}

/// Parse a manifest; lines that do not parse are skipped (they only cost re-hashing).
pub(crate) fn parse_manifest(bytes: &[u8]) -> HashMap<String, Known> {
    let text = String::from_utf8_lossy(bytes);
    let mut known = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split('\t');
        let (Some(path), Some(length), Some(version), Some(sha256), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let (Ok(length), Ok(sha256)) = (length.parse(), hex::decode(sha256)) else {
            continue;
        };
        let Ok(sha256) = <[u8; 32]>::try_from(sha256) else {
            continue;
        };
        known.insert(
            path.to_owned(),
            Known {
                length,
                version: version.to_owned(),
                sha256,
            },
        );
    }
    known
}

/// The manifest's bytes, sorted by path.
pub(crate) fn render_manifest(known: &HashMap<String, Known>) -> Vec<u8> {
    let mut paths: Vec<&String> = known.keys().collect();
    paths.sort_unstable();
    let mut out = String::with_capacity(known.len() * 130);
    for path in paths {
        let Some(k) = known.get(path) else { continue };
        // A version with a tab or newline cannot be written on one line: not recorded.
        if k.version.contains(['\t', '\n']) || path.contains(['\t', '\n']) {
            continue;
        }
        out.push_str(&format!(
            "{path}\t{}\t{}\t{}\n",
            k.length,
            k.version,
            hex::encode(k.sha256)
        ));
    }
    out.into_bytes()
}

/// Where pending records are: `state/pending/<publish id>`.
pub(crate) const PENDING: &str = "state/pending";
/// Where retired records are: `state/retired/<publish id>`.
pub(crate) const RETIRED: &str = "state/retired";

/// What one publish created or superseded, by key in the store (`metadata/…`,
/// `targets/…`). Written as `state/pending/<id>` before the publish uploads anything
/// (everything it may create), and, once its timestamp is out, as `state/retired/<id>`
/// (what it superseded, and what its lost attempts left), the pending one deleted.
/// One object per publish: publishers never contend on them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) keys: BTreeSet<String>,
}

impl Record {
    pub(crate) fn render(&self) -> Bytes {
        let mut out = String::from("tuf-publish-record 1\n");
        for key in &self.keys {
            out.push_str(key);
            out.push('\n');
        }
        Bytes::from(out)
    }

    pub(crate) fn parse(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let keys = text
            .lines()
            .skip(1)
            .filter(|key| is_prunable_key(key))
            .map(str::to_owned)
            .collect();
        Self { keys }
    }
}

/// Only versioned metadata and target copies are ever pruned: never a root, the
/// timestamp, publisher state, or a key that climbs out of its directory.
fn is_prunable_key(key: &str) -> bool {
    let safe = key
        .split('/')
        .all(|s| !s.is_empty() && s != "." && s != "..");
    let metadata = key.strip_prefix("metadata/").is_some_and(|name| {
        !name.contains('/') && name != "timestamp.json" && !name.ends_with(".root.json")
    });
    let copy = key.starts_with("targets/");
    safe && (metadata || copy)
}

/// The index path and hash a target copy key (`targets/se/rd/<hex>.serde`) is for.
pub(crate) fn copy_target(key: &str) -> Option<(TargetPath, [u8; 32])> {
    let name = key.strip_prefix("targets/")?;
    let (dir, file) = match name.rsplit_once('/') {
        Some((dir, file)) => (Some(dir), file),
        None => (None, name),
    };
    let (digest, base) = file.split_once('.')?;
    let sha256 = <[u8; 32]>::try_from(hex::decode(digest).ok()?).ok()?;
    let path = match dir {
        Some(dir) => format!("{dir}/{base}"),
        None => base.to_owned(),
    };
    Some((TargetPath::parse(&path).ok()?, sha256))
}

/// A record found by [`list_records`], with the store's time of its last write.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) key: String,
    pub(crate) written: DateTime<Utc>,
}

/// Every pending and retired record.
pub(crate) fn list_records(store: &Store) -> Result<Vec<Found>, Error> {
    let mut found = Vec::new();
    for dir in [PENDING, RETIRED] {
        found.extend(store.list(dir)?.into_iter().map(|meta| Found {
            key: meta.key,
            written: meta.last_modified,
        }));
    }
    Ok(found)
}

/// Write `record` under `key`.
pub(crate) fn write(store: &Store, key: &str, record: &Record) -> Result<(), Error> {
    store.put(key, record.render(), ObjectKind::State)
}

/// Delete, of the keys the old records name, those no state can still need:
///
/// * not named by the current state (`named`),
/// * not named by any record younger than `grace` (a publish in flight, or one that
///   superseded it less than `grace` ago: a client that read the timestamp before may
///   still fetch it),
/// * and written more than `grace` ago (a publisher that found a copy there rewrites it,
///   so a copy relied on again is young).
///
/// Then the old records themselves. Returns how many objects were deleted.
pub(crate) fn prune(
    store: &Store,
    now: DateTime<Utc>,
    grace: TimeDelta,
    named: &dyn Fn(&str) -> Result<bool, Error>,
) -> Result<usize, Error> {
    let cutoff = now
        .checked_sub_signed(grace)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let records = list_records(store)?;
    if records.is_empty() {
        return Ok(0);
    }
    let keys: Vec<String> = records.iter().map(|r| r.key.clone()).collect();
    let bodies = store.get_many(&keys)?;
    let mut protected = BTreeSet::new();
    let mut candidates = BTreeSet::new();
    let mut old_records = Vec::new();
    for (found, body) in records.iter().zip(bodies) {
        let Some(body) = body else { continue };
        let record = Record::parse(&body.bytes);
        if found.written > cutoff {
            protected.extend(record.keys);
        } else {
            candidates.extend(record.keys);
            old_records.push(found.key.clone());
        }
    }
    let mut doomed = Vec::new();
    for key in candidates.difference(&protected) {
        if named(key)? {
            continue;
        }
        match store.head(key)? {
            Some(meta) if meta.last_modified <= cutoff => doomed.push(key.clone()),
            _ => {}
        }
    }
    let deleted = store.delete_many(doomed)?;
    store.delete_many(old_records)?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_keeps_only_prunable_keys() {
        let text = "tuf-publish-record 1\nmetadata/3.snapshot.json\nmetadata/2.root.json\n\
                    metadata/timestamp.json\ntargets/se/rd/ab.serde\nstate/manifest\n\
                    targets/../x\nmetadata/a/b.json\n";
        let record = Record::parse(text.as_bytes());
        let keys: Vec<&str> = record.keys.iter().map(String::as_str).collect();
        assert_eq!(keys, ["metadata/3.snapshot.json", "targets/se/rd/ab.serde"]);
        assert_eq!(Record::parse(&record.render()), record);
    }

    #[test]
    fn a_copy_key_names_its_path_and_hash() {
        let hex = "ab".repeat(32);
        let (path, sha) = copy_target(&format!("targets/se/rd/{hex}.serde")).unwrap();
        assert_eq!((path.as_str(), sha), ("se/rd/serde", [0xab; 32]));
        let (path, _) = copy_target(&format!("targets/{hex}.config.json")).unwrap();
        assert_eq!(path.as_str(), "config.json");
        assert!(copy_target("targets/se/rd/nothex.serde").is_none());
        assert!(copy_target("metadata/1.snapshot.json").is_none());
    }

    #[test]
    fn the_manifest_round_trips_and_skips_what_does_not_parse() {
        let mut known = HashMap::new();
        known.insert(
            "se/rd/serde".to_owned(),
            Known {
                length: 7,
                version: "\"abc\"".to_owned(),
                sha256: [1; 32],
            },
        );
        let bytes = render_manifest(&known);
        assert_eq!(parse_manifest(&bytes), known);
        let mut bad = bytes.clone();
        bad.extend_from_slice(b"x\t1\tv\tnothex\nshort\n");
        assert_eq!(parse_manifest(&bad), known);
    }
}
