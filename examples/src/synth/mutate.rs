//! Mutations of an index on disk: publish a version, yank, un-yank, delete a crate.

use std::borrow::Cow;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::content::derived_cksum;
use super::line::{write_line, IndexLine};
use super::names::sparse_path;
use super::versions::version_triple;
use super::{io_error, SynthError};

/// The versions in a crate's index file, in file (publish) order.
pub fn crate_versions(dir: &Path, crate_name: &str) -> Result<Vec<String>, SynthError> {
    let file = IndexFile::read(dir, crate_name)?;
    Ok(file
        .lines
        .into_iter()
        .map(|line| line.parsed.vers.into_owned())
        .collect())
}

/// Publishes a new version of `crate_name`: appends a line to its index file whose version is
/// the highest `MAJOR.MINOR.PATCH` in the file with the patch number incremented (so it is new
/// and the newest), copying dependencies and features from the last line, not yanked, with a
/// checksum derived from name and version. Returns the new version.
///
/// The new line has no `pubtime` (this module has no clock), and fields of the last line that
/// this module does not model are not copied; existing lines are left byte for byte.
pub fn add_version(dir: &Path, crate_name: &str) -> Result<String, SynthError> {
    let file = IndexFile::read(dir, crate_name)?;
    let mut highest: Option<(u64, u64, u64)> = None;
    for line in &file.lines {
        let triple = version_triple(&line.parsed.vers).ok_or_else(|| SynthError::BadVersion {
            path: file.path.clone(),
            line: line.number,
            vers: line.parsed.vers.to_string(),
        })?;
        highest = highest.max(Some(triple));
    }
    let (Some((major, minor, patch)), Some(last)) = (highest, file.lines.last()) else {
        return Err(SynthError::EmptyIndexFile { path: file.path });
    };
    let patch = patch
        .checked_add(1)
        .ok_or_else(|| SynthError::VersionOverflow {
            name: crate_name.to_owned(),
            vers: format!("{major}.{minor}.{patch}"),
        })?;
    let vers = format!("{major}.{minor}.{patch}");

    let mut line = last.parsed.clone();
    line.cksum = Cow::Owned(derived_cksum(&line.name, &vers));
    line.vers = Cow::Owned(vers.clone());
    line.yanked = Some(false);
    line.pubtime = None;

    let mut bytes = Vec::new();
    // Every line ends with a newline in files this module writes and on crates.io; a file
    // edited by hand might not, and the new line must not be glued to the last one.
    if !file.text.is_empty() && !file.text.ends_with('\n') {
        bytes.push(b'\n');
    }
    write_line(&mut bytes, &line);
    bytes.push(b'\n');
    let mut handle = fs::OpenOptions::new()
        .append(true)
        .open(&file.path)
        .map_err(io_error("open", &file.path))?;
    handle
        .write_all(&bytes)
        .map_err(io_error("append to", &file.path))?;
    Ok(vers)
}

/// Yanks version `vers` of `crate_name`: rewrites its line with `"yanked":true`, leaving every
/// other byte of the file as it was. Returns `false` (and writes nothing) if it was already
/// yanked. The file is replaced atomically (temporary file, then rename).
pub fn yank(dir: &Path, crate_name: &str, vers: &str) -> Result<bool, SynthError> {
    set_yanked(dir, crate_name, vers, true)
}

/// Un-yanks version `vers` of `crate_name`; the inverse of [`yank`], with the same rules.
pub fn unyank(dir: &Path, crate_name: &str, vers: &str) -> Result<bool, SynthError> {
    set_yanked(dir, crate_name, vers, false)
}

/// Deletes `crate_name` from the index: removes its index file (directories stay).
pub fn delete_crate(dir: &Path, crate_name: &str) -> Result<(), SynthError> {
    let path = crate_path(dir, crate_name)?;
    fs::remove_file(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            SynthError::NoSuchCrate {
                name: crate_name.to_owned(),
                path: path.clone(),
            }
        } else {
            io_error("remove", &path)(source)
        }
    })
}

fn crate_path(dir: &Path, crate_name: &str) -> Result<PathBuf, SynthError> {
    let relative = sparse_path(crate_name).ok_or_else(|| SynthError::InvalidCrateName {
        name: crate_name.to_owned(),
    })?;
    Ok(dir.join(relative))
}

/// A crate's index file, read and parsed.
struct IndexFile {
    path: PathBuf,
    text: String,
    lines: Vec<ParsedLine>,
}

struct ParsedLine {
    /// 1-based line number.
    number: usize,
    parsed: IndexLine<'static>,
}

impl IndexFile {
    /// Reads and parses `crate_name`'s file, checking that every line names that crate.
    fn read(dir: &Path, crate_name: &str) -> Result<Self, SynthError> {
        let path = crate_path(dir, crate_name)?;
        let text = fs::read_to_string(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                SynthError::NoSuchCrate {
                    name: crate_name.to_owned(),
                    path: path.clone(),
                }
            } else {
                io_error("read", &path)(source)
            }
        })?;
        let mut lines = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let number = index.saturating_add(1);
            if raw.trim().is_empty() {
                continue;
            }
            let parsed: IndexLine<'static> =
                serde_json::from_str(raw).map_err(|source| SynthError::BadIndexLine {
                    path: path.clone(),
                    line: number,
                    source,
                })?;
            if !parsed.name.eq_ignore_ascii_case(crate_name) {
                return Err(SynthError::NameMismatch {
                    path,
                    line: number,
                    expected: crate_name.to_owned(),
                    found: parsed.name.into_owned(),
                });
            }
            lines.push(ParsedLine { number, parsed });
        }
        Ok(Self { path, text, lines })
    }
}

fn set_yanked(dir: &Path, crate_name: &str, vers: &str, yanked: bool) -> Result<bool, SynthError> {
    let file = IndexFile::read(dir, crate_name)?;
    let target = file
        .lines
        .iter()
        .find(|line| line.parsed.vers == vers)
        .ok_or_else(|| SynthError::NoSuchVersion {
            name: crate_name.to_owned(),
            vers: vers.to_owned(),
        })?;
    if target.parsed.yanked == Some(yanked) {
        return Ok(false);
    }
    let (from, to): (&str, &str) = if yanked {
        (",\"yanked\":false", ",\"yanked\":true")
    } else {
        (",\"yanked\":true", ",\"yanked\":false")
    };
    // Edit the text rather than re-serialize the line, so fields this module does not model
    // and every other byte stay as they were. Inside JSON strings every `"` is escaped, so
    // `,"yanked":` can only be the top-level key.
    let mut out = String::with_capacity(file.text.len().saturating_add(1));
    for (index, raw) in file.text.split_inclusive('\n').enumerate() {
        if index.saturating_add(1) != target.number {
            out.push_str(raw);
            continue;
        }
        if raw.matches(",\"yanked\":").count() != 1 || raw.matches(from).count() != 1 {
            return Err(SynthError::NoYankedField {
                path: file.path,
                line: target.number,
            });
        }
        out.push_str(&raw.replacen(from, to, 1));
    }
    // A reader sees the old file or the new one, never a part; durability is not needed
    // (a synthetic registry is regenerated, not recovered).
    tuf_fs::AtomicWrite::new()
        .durability(tuf_fs::Durability::Deferred)
        .write(&file.path, out.as_bytes())
        .map_err(io_error("write atomically", &file.path))?;
    Ok(true)
}
