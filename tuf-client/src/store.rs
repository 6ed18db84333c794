//! The local metadata store, and the safe encoding of names into file names and URLs.
//!
//! The store keeps one file per role, holding exactly the bytes that were received and
//! verified (the caller stores only after the trusted-state step accepted them): the
//! top-level roles as `root.json`, `timestamp.json`, `snapshot.json`, `targets.json`;
//! every other (delegated) role as `delegated.ENCODED.json`, where ENCODED is
//! [`encode_name`] with upper-case letters escaped too. So no delegated role shares a
//! file with a top-level role, with a file another component keeps in the directory
//! (cargo-tuf's `checked.json`), or with another delegated role, even on a
//! case-insensitive file system (macOS, Windows), where `Root.json` *is* `root.json`.
//! The files stay flat in one directory, as the tuf-conformance suite expects of a
//! client's metadata directory.
//!
//! Delegated roles stored by earlier versions as `ENCODED.json` are no longer read; such
//! a role is fetched again once (it is a cache of what the snapshot names, not a rollback
//! baseline: the snapshot's versions are, TUF §5.5.5), and the old file can be deleted.
//!
//! Writes are atomic: a temporary file in the same directory, rename over the old file.
//! A reader sees the old file or the new one, never a mix, and no temporary file
//! survives a failed write.
//!
//! Durability only where it protects something (issue #14). The top-level roles are
//! written durably (fsync of the file before the rename, of the directory after): the
//! trusted root (TUF §5.2, §5.3.8), and the timestamp and snapshot, the rollback
//! baselines (§5.4.3, §5.5.5) that a crash must not quietly take back to an older
//! version. The top-level targets is not a baseline here (the snapshot's version of it
//! is, §5.5.5, and a stored copy that no longer loads is fetched again, like a bin), but
//! it is written as rarely as the root keys sign, so it keeps the fsync at no cost worth
//! saving. Delegated roles (the hashed bins, thousands of files) are written without
//! fsync: each is a cache of what the trusted snapshot names, verified again from its
//! bytes every time it is read (signatures, the snapshot's version, expiry: §5.6), so a
//! crash that leaves one empty, cut short or old (as a rename without fsync may, on some
//! file systems) costs a download, never safety: online it is fetched again, offline the
//! lookup fails with the reason. [`write_cache`] writes cached targets the same way for
//! the same reason (their length and hashes are checked again before use, §5.7.3).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::ClientError;
use crate::fetch::{read_capped, CappedError};

/// A directory of trusted metadata, one file per role.
#[derive(Debug, Clone)]
pub struct MetadataStore {
    dir: PathBuf,
}

impl MetadataStore {
    /// The store in `dir`, created if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, ClientError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| ClientError::io(&dir, e))?;
        Ok(Self { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `role`, always directly inside the directory, whatever the
    /// role name: `ROLE.json` for the four top-level roles, `delegated.ENCODED.json` for
    /// any other name (see the module documentation). `"targets"` is the top-level
    /// targets role: no delegated role can have that name (tuf-core refuses top-level
    /// names, in any case, for delegated roles).
    pub fn path_of(&self, role: &str) -> PathBuf {
        if is_top_level(role) {
            self.dir.join(format!("{role}.json"))
        } else {
            self.dir.join(format!(
                "{DELEGATED_PREFIX}{}.json",
                encode_name_ignoring_case(role)
            ))
        }
    }

    /// The stored bytes of `role`; `None` if there is no such file. A file larger than
    /// `max_bytes` cannot be valid metadata under the limits: it is reported
    /// ([`ClientError::UnusableStored`], with [`tuf_core::Error::TooLarge`]) rather than
    /// treated as absent, so no caller mistakes an unusable rollback baseline for a
    /// missing one.
    pub fn load(&self, role: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, ClientError> {
        let path = self.path_of(role);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ClientError::io(&path, e)),
        };
        let size = file.metadata().map(|m| m.len()).ok();
        match read_capped(file, max_bytes) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(CappedError::TooLarge) => Err(ClientError::UnusableStored {
                role: role.to_owned(),
                source: Box::new(tuf_core::Error::TooLarge {
                    role: role.to_owned(),
                    found: size.unwrap_or_else(|| max_bytes.saturating_add(1)),
                    limit: max_bytes,
                }),
                path,
            }),
            Err(CappedError::Io(e)) => Err(ClientError::io(&path, e)),
        }
    }

    /// Store `bytes` as `role`, atomically; durably for the top-level roles only (see
    /// the module documentation).
    pub fn store(&self, role: &str, bytes: &[u8]) -> Result<(), ClientError> {
        let path = self.path_of(role);
        if is_top_level(role) {
            write_atomic(&path, bytes)
        } else {
            write_cache(&path, bytes)
        }
    }

    /// Delete the stored `role`, if any.
    pub fn remove(&self, role: &str) -> Result<(), ClientError> {
        let path = self.path_of(role);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::io(&path, e)),
        }
    }
}

/// Whether `role` is one of the four top-level roles, stored under its own name and
/// durably.
fn is_top_level(role: &str) -> bool {
    matches!(role, "root" | "timestamp" | "snapshot" | "targets")
}

/// Write `bytes` to `path` atomically and durably ([`tuf_fs::write_atomic`]: a temporary
/// file in the same directory, fsync, rename, fsync of the directory; a name longer than
/// [`tuf_fs::MAX_FILE_NAME`] is refused). On any failure the temporary file is removed.
/// The temporary file's name never ends in `.json`, so a reader listing the directory for
/// metadata does not mistake it for a role.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    tuf_fs::write_atomic(path, bytes).map_err(|e| ClientError::io(path, e))
}

/// [`write_atomic`] without the fsyncs ([`tuf_fs::write_replaceable`]), for files verified
/// again whenever they are read (delegated roles, cached targets): after a crash the file
/// may be the old one, empty or cut short, which the reader's check refuses, so it is
/// fetched again.
pub fn write_cache(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    tuf_fs::write_replaceable(path, bytes).map_err(|e| ClientError::io(path, e))
}

/// Percent-encode `name` into a string of `A-Za-z0-9_.-~` and `%XX` only, so it is one
/// safe path segment (no `/`, `\`, NUL, `?`, `#`, ...). The whole names `.` and `..` are
/// encoded as `%2E` and `%2E%2E`. The encoding is reversible ([`decode_name`]) and
/// injective, and equal to Python's `urllib.parse.quote(name, safe="")` except for those
/// two names.
pub fn encode_name(name: &str) -> String {
    match name {
        "." => return "%2E".to_owned(),
        ".." => return "%2E%2E".to_owned(),
        _ => {}
    }
    encode_component(name)
}

/// What every delegated role's file name starts with. No top-level role's file and no
/// file of cargo-tuf starts with it, in any case.
const DELEGATED_PREFIX: &str = "delegated.";

/// [`encode_name`] with the upper-case letters escaped as well (`Root` → `%52oot`): the
/// result has no upper-case letters but in `%XX` escapes, whose hex digits are always
/// upper case, so two different names never give file names that are equal ignoring
/// case.
fn encode_name_ignoring_case(name: &str) -> String {
    let encoded = encode_name(name);
    let mut out = String::with_capacity(encoded.len());
    let mut bytes = encoded.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            // An escape `encode_name` made: its two hex digits stay as they are.
            out.push('%');
            out.extend(bytes.by_ref().take(2).map(char::from));
        } else if byte.is_ascii_uppercase() {
            push_escape(&mut out, byte);
        } else {
            out.push(char::from(byte));
        }
    }
    out
}

/// Percent-encode everything in `s` but `A-Za-z0-9_.-~` (RFC 3986 unreserved): how role
/// names go into URLs.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'~') {
            out.push(char::from(byte));
        } else {
            push_escape(&mut out, byte);
        }
    }
    out
}

/// Push `%XX` for `byte`, upper-case hex.
fn push_escape(out: &mut String, byte: u8) {
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0f)]));
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The name [`encode_name`] encoded into `encoded`; `None` for anything
/// [`encode_name`] does not produce.
pub fn decode_name(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut input = encoded.bytes();
    while let Some(byte) = input.next() {
        if byte == b'%' {
            let hi = hex_value(input.next()?)?;
            let lo = hex_value(input.next()?)?;
            bytes.push((hi << 4) | lo);
        } else {
            bytes.push(byte);
        }
    }
    let name = String::from_utf8(bytes).ok()?;
    (encode_name(&name) == encoded).then_some(name)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_encode_to_one_safe_segment_and_back() {
        let cases = [
            ("targets", "targets"),
            ("crates-bin-a3f", "crates-bin-a3f"),
            ("../x", "..%2Fx"),
            ("/x", "%2Fx"),
            ("a/b", "a%2Fb"),
            ("?", "%3F"),
            ("#", "%23"),
            (".", "%2E"),
            ("..", "%2E%2E"),
            ("...", "..."),
            ("a b%", "a%20b%25"),
            ("\\", "%5C"),
            ("é", "%C3%A9"),
        ];
        for (name, encoded) in cases {
            assert_eq!(encode_name(name), encoded, "{name:?}");
            assert_eq!(decode_name(encoded).as_deref(), Some(name), "{encoded:?}");
        }
        // Not produced by the encoder: refused, so decoding is the exact inverse.
        for bad in ["%2f", "a/b", "%", "%4", "%ZZ", ".", "..", "%41"] {
            assert_eq!(decode_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hostile_role_names_stay_inside_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetadataStore::open(dir.path().join("md")).unwrap();
        for role in ["../x", "/x", "a/b", "?", "#", ".", "..", "..\\x"] {
            store.store(role, role.as_bytes()).unwrap();
            let path = store.path_of(role);
            assert_eq!(path.parent().unwrap(), store.dir());
            assert_eq!(store.load(role, 100).unwrap().unwrap(), role.as_bytes());
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(fs::read_dir(store.dir()).unwrap().count(), 8);
    }

    #[test]
    fn delegated_roles_never_share_a_file_ignoring_case() {
        // On a case-insensitive file system (macOS, Windows) `Root.json` is `root.json`:
        // a delegated role must not land on a top-level role's file, on a file another
        // component keeps here (cargo-tuf's `checked.json`), or on another delegated
        // role's file.
        let dir = tempfile::tempdir().unwrap();
        let store = MetadataStore::open(dir.path()).unwrap();
        let top_level = ["root", "timestamp", "snapshot", "targets"];
        let delegated = [
            "Root",
            "ROOT",
            "Timestamp",
            "Snapshot",
            "Targets",
            "checked",
            "Checked",
            "A",
            "a",
            "crates-bin-a3f",
            "delegated",
        ];
        let mut seen: Vec<String> = ["checked.json".to_owned()].into();
        for role in top_level.iter().chain(&delegated) {
            let path = store.path_of(role);
            assert_eq!(path.parent().unwrap(), store.dir());
            let name = path
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_ascii_lowercase();
            assert!(!seen.contains(&name), "{role:?} shares {name}");
            seen.push(name);
        }
        for role in top_level {
            assert_eq!(store.path_of(role), dir.path().join(format!("{role}.json")));
        }
    }

    #[test]
    fn store_is_atomic_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetadataStore::open(dir.path()).unwrap();
        store.store("timestamp", b"one").unwrap();
        store.store("timestamp", b"two").unwrap();
        assert_eq!(store.load("timestamp", 10).unwrap().unwrap(), b"two");
        // Too large for the limit: reported, not passed off as absent.
        let err = store.load("timestamp", 2).unwrap_err();
        assert!(
            matches!(
                &err,
                ClientError::UnusableStored { role, source, .. } if role == "timestamp"
                    && matches!(**source, tuf_core::Error::TooLarge { found: 3, limit: 2, .. })
            ),
            "{err}"
        );
        assert_eq!(store.load("snapshot", 10).unwrap(), None);
        // A name too long for a file fails before anything is written.
        let long = "/".repeat(100);
        assert_eq!(store.store(&long, b"x").unwrap_err().code(), "io");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["timestamp.json"]);
        store.remove("timestamp").unwrap();
        store.remove("timestamp").unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
