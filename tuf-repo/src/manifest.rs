//! The manifest: what was signed for each index file, with the file's size and mtime when
//! it was hashed, so a publish re-hashes only files whose stat changed.
//!
//! Two text files in the state directory, one line per file:
//!
//! * `manifest`: `tuf-manifest 1` then `PATH\tLENGTH\tMTIME_NS\tSHA256_HEX`, sorted by
//!   path; rewritten (atomically) by a publish that scans the whole index.
//! * `manifest.journal`: lines appended by publishes that were told what changed, so they
//!   stay proportional to the change: `+PATH\tLENGTH\tMTIME_NS\tSHA256_HEX` or `-PATH`.
//!   Folded into `manifest` by the next full scan.
//!
//! The manifest is a cache, never a source of trust: it is written only after the
//! timestamp that signs its hashes is durable, a line that does not parse (a torn last
//! line after a crash) is ignored, and an mtime of 0 means "unknown, re-hash". An mtime
//! within [`RACY_WINDOW_NS`] of the moment it was read is stored as 0: a file changed again
//! within the clock's granularity could otherwise keep a stale hash (git's "racy clean").

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::Error;
use crate::files;

/// Header of the manifest file.
const HEADER: &str = "tuf-manifest 1";

/// An mtime this close to "now" is not trusted to detect a later change.
pub const RACY_WINDOW_NS: i64 = 2_000_000_000;

/// What the manifest remembers of one index file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Length when hashed.
    pub length: u64,
    /// mtime in ns since the epoch when hashed; 0 when unknown.
    pub mtime_ns: i64,
    /// SHA-256 of the content that was signed.
    pub sha256: [u8; 32],
}

/// Index path → what was signed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The entries.
    pub entries: HashMap<String, ManifestEntry>,
}

impl Manifest {
    /// Read `manifest` and replay `manifest.journal` from `state_dir`. Missing files read
    /// as empty.
    pub fn load(state_dir: &Path) -> Result<Self, Error> {
        let manifest = files::read_optional(&state_dir.join("manifest"))?;
        let journal = files::read_optional(&state_dir.join("manifest.journal"))?;
        Ok(Self::parse(manifest.as_deref(), journal.as_deref()))
    }

    /// The manifest in the bytes of a `manifest` file with the bytes of a
    /// `manifest.journal` replayed on it (`None`: the file is absent). Never fails: a
    /// line that does not parse is ignored, a file without the header is empty.
    pub fn parse(manifest_file: Option<&[u8]>, journal_file: Option<&[u8]>) -> Self {
        let mut manifest = Self::default();
        if let Some(bytes) = manifest_file {
            let text = String::from_utf8_lossy(bytes);
            let mut lines = text.split_inclusive('\n');
            if lines.next().map(str::trim_end) == Some(HEADER) {
                for line in lines {
                    if let Some((path, entry)) = line.strip_suffix('\n').and_then(parse_entry) {
                        manifest.entries.insert(path.to_owned(), entry);
                    }
                }
            }
        }
        if let Some(bytes) = journal_file {
            let text = String::from_utf8_lossy(bytes);
            for line in text.split_inclusive('\n') {
                let Some(line) = line.strip_suffix('\n') else {
                    continue; // torn last line
                };
                if let Some(rest) = line.strip_prefix('+') {
                    if let Some((path, entry)) = parse_entry(rest) {
                        manifest.entries.insert(path.to_owned(), entry);
                    }
                } else if let Some(path) = line.strip_prefix('-') {
                    manifest.entries.remove(path);
                }
            }
        }
        manifest
    }

    /// The `manifest` file of these entries: the header, then one line per path, sorted.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let mut paths: Vec<&String> = self.entries.keys().collect();
        paths.sort_unstable();
        let mut out = String::with_capacity(self.entries.len() * 110 + 16);
        out.push_str(HEADER);
        out.push('\n');
        for path in paths {
            if let Some(entry) = self.entries.get(path) {
                push_entry(&mut out, path, entry);
            }
        }
        out.into_bytes()
    }

    /// Replace `manifest` with these entries (atomically) and empty the journal.
    pub fn save(&self, state_dir: &Path) -> Result<(), Error> {
        files::write_atomic(&state_dir.join("manifest"), &self.to_file_bytes())?;
        let journal = state_dir.join("manifest.journal");
        match fs::remove_file(&journal) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", journal)(e)),
        }
    }
}

/// One journal record.
#[derive(Debug, Clone, Copy)]
pub enum JournalRecord<'a> {
    /// The file at this path was signed with this entry.
    Put(&'a str, &'a ManifestEntry),
    /// The file at this path is no longer a target.
    Remove(&'a str),
}

/// Append records to `manifest.journal` in one write. Not fsynced: losing it costs only
/// a re-hash (the timestamp it follows is already durable).
pub fn append_journal(state_dir: &Path, records: &[JournalRecord<'_>]) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    let out = journal_bytes(records);
    let path = state_dir.join("manifest.journal");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    file.write_all(&out).map_err(Error::io("append", &path))
}

/// The lines [`append_journal`] appends for `records`.
pub fn journal_bytes(records: &[JournalRecord<'_>]) -> Vec<u8> {
    let mut out = String::new();
    for record in records {
        match record {
            JournalRecord::Put(path, entry) => {
                out.push('+');
                push_entry(&mut out, path, entry);
            }
            JournalRecord::Remove(path) => {
                out.push('-');
                out.push_str(path);
                out.push('\n');
            }
        }
    }
    out.into_bytes()
}

/// mtime in ns of `meta`, or 0 (unknown) when it is within [`RACY_WINDOW_NS`] of `now_ns`
/// or out of range.
pub fn mtime_for_manifest(meta: &fs::Metadata, now_ns: i64) -> i64 {
    let mtime = mtime_ns(meta);
    if mtime == 0 || now_ns.saturating_sub(mtime) < RACY_WINDOW_NS {
        0
    } else {
        mtime
    }
}

/// mtime of `meta` in ns since the epoch, 0 when out of range.
pub fn mtime_ns(meta: &fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime()
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(meta.mtime_nsec()))
        .unwrap_or(0)
}

fn push_entry(out: &mut String, path: &str, entry: &ManifestEntry) {
    use std::fmt::Write as _;
    // INVARIANT: writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{path}\t{}\t{}\t{}",
        entry.length,
        entry.mtime_ns,
        hex::encode(entry.sha256)
    );
}

fn parse_entry(line: &str) -> Option<(&str, ManifestEntry)> {
    let mut fields = line.split('\t');
    let path = fields.next()?;
    let length = fields.next()?.parse().ok()?;
    let mtime_ns = fields.next()?.parse().ok()?;
    let mut sha256 = [0u8; 32];
    hex::decode_to_slice(fields.next()?, &mut sha256).ok()?;
    if path.is_empty() || fields.next().is_some() {
        return None;
    }
    Some((
        path,
        ManifestEntry {
            length,
            mtime_ns,
            sha256,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8) -> ManifestEntry {
        ManifestEntry {
            length: u64::from(n),
            mtime_ns: 1_700_000_000_000_000_000 + i64::from(n),
            sha256: [n; 32],
        }
    }

    #[test]
    fn save_load_and_journal_replay() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Manifest::load(dir.path()).unwrap().entries.is_empty());
        let mut manifest = Manifest::default();
        manifest.entries.insert("se/rd/serde".into(), entry(1));
        manifest.entries.insert("config.json".into(), entry(2));
        manifest.save(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), manifest);

        append_journal(
            dir.path(),
            &[
                JournalRecord::Put("1/a", &entry(3)),
                JournalRecord::Remove("config.json"),
                JournalRecord::Put("se/rd/serde", &entry(4)),
            ],
        )
        .unwrap();
        // A torn last line is ignored.
        let mut journal = OpenOptions::new()
            .append(true)
            .open(dir.path().join("manifest.journal"))
            .unwrap();
        journal.write_all(b"+2/ab\t1\t2\tabc").unwrap();
        let loaded = Manifest::load(dir.path()).unwrap();
        assert_eq!(loaded.entries.len(), 2);
        assert_eq!(loaded.entries["1/a"], entry(3));
        assert_eq!(loaded.entries["se/rd/serde"], entry(4));

        // Saving folds the journal in.
        loaded.save(dir.path()).unwrap();
        assert!(!dir.path().join("manifest.journal").exists());
        assert_eq!(Manifest::load(dir.path()).unwrap(), loaded);
    }

    #[test]
    fn malformed_lines_are_ignored() {
        assert!(parse_entry("a\t1\t2\tzz").is_none());
        assert!(parse_entry("a\t1\t2").is_none());
        assert!(parse_entry(&format!("\t1\t2\t{}", "00".repeat(32))).is_none());
        assert!(parse_entry(&format!("a\tx\t2\t{}", "00".repeat(32))).is_none());
        assert!(parse_entry(&format!("a\t1\t2\t{}", "00".repeat(32))).is_some());
    }
}
