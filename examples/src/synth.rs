//! A synthetic Cargo sparse index shaped like crates.io, for benchmarks and tests.
//!
//! [`generate`] is sans-IO: it yields every file of the index (`config.json`, then one file per
//! crate at its sparse path, in path order) so tests can build a registry in memory.
//! [`write_tree`] streams the same files to disk, one at a time. The mutations ([`add_version`],
//! [`yank`], [`delete_crate`]) change a tree on disk the way a registry does on publish, yank and
//! delete, for incremental-publish benchmarks and tests. Same seed and size give a byte-identical
//! tree: every choice comes from ChaCha8 streams keyed by the seed (one stream per crate, so no
//! crate's contents depend on the draws made for another), mapped to values with
//! integer arithmetic only (no floating point, no `rand` distributions whose values may change
//! between releases).
//!
//! # Shape, and where it comes from
//!
//! - **Line format**: exactly what crates.io writes — `serde_json::to_writer` of its `Crate`
//!   struct plus `"\n"` (rust-lang/crates.io `crates/crates_io_index/src/{data,ser}.rs`): field
//!   order `name, vers, deps, cksum, features, features2?, yanked, links?, rust_version?,
//!   pubtime?, v?` (the `?` fields are left out when absent, so there is no `"links":null`); each
//!   dependency `name, req, features, optional, default_features, target, kind, package?`,
//!   dependencies sorted by name then kind (`normal` < `build` < `dev`). Features that use `dep:`
//!   or `pkg?/feat` go to `features2` and set `"v":2`, as crates.io does. `pubtime` appears on
//!   versions published after crates.io started writing it (late 2025). Checked against real
//!   files in rust-lang/crates.io-index (`se/rd/serde`, `re/qw/reqwest`, `mo/bc/mobc`, ...).
//! - **Sizes**: 200,000 crates and about 1.6 M versions by default (mean ~8 per crate,
//!   heavy-tailed: ~35% of crates have one version, ~1% have hundreds). crates.io had 26,612
//!   crates and 152,022 versions in June 2019 (5.7 per crate, edebill/modulecounts#42), the
//!   ratio has grown since, and some crates have hundreds of versions (8-p.info "Visualizing
//!   crates.io"; serde has ~300).
//! - **Line sizes**: a line with no dependencies is ~150 bytes; each dependency adds ~120; real
//!   files sampled from the index average 230 B (`moan`) to 3 KB (`reqwest`) per line, and the
//!   whole index was 176 MiB as a tarball for ~170 k versions in Oct 2019 (RFC 2789), i.e.
//!   roughly 0.9 KB per line. The generator lands near 0.8 KB per line.
//! - **Names**: lowercase words, dictionary or invented, joined with `-` or `_`, mostly 5–20
//!   characters; a few 1–3 character names so that every sparse path shape (`1/a`, `2/ab`,
//!   `3/a/abc`, `ab/cd/abcd`) appears even at 2,000 crates. Unique after lowercasing and
//!   treating `-` and `_` as equal, as crates.io requires; reserved names (`nul`, `con`, `std`,
//!   ...) are never used.
//! - **Dependencies**: drawn from the other generated crates with a heavy head (a few crates are
//!   depended on by a large share of all crates, like `serde`); normal and build dependencies
//!   only point at more popular crates, so the normal dependency graph has no cycles; every
//!   version requirement matches at least one generated version of the dependency; features only
//!   name features and dependencies that exist. So a resolver can run over the generated index.
//! - About 3% of versions are yanked; `-sys` crates carry `links`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Number of crates, i.e. index files besides `config.json`.
    pub crates: usize,
    /// Seed of every random choice: the same seed and `crates` give a byte-identical tree.
    pub seed: u64,
    /// The `dl` value of `config.json` (where cargo downloads `.crate` files).
    pub dl: String,
    /// The `api` value of `config.json`; `None` writes `null` (no web API).
    pub api: Option<String>,
}

impl SynthConfig {
    /// Crates in the reference load of the benchmarks (about crates.io's size).
    pub const DEFAULT_CRATES: usize = 200_000;
    /// `dl` used when none is given: a local registry server.
    pub const DEFAULT_DL: &'static str = "http://127.0.0.1:8000/api/v1/crates";

    /// A configuration with `crates` crates, the given seed, the default `dl` and no `api`.
    pub fn new(crates: usize, seed: u64) -> Self {
        Self {
            crates,
            seed,
            dl: Self::DEFAULT_DL.to_owned(),
            api: None,
        }
    }
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CRATES, 1)
    }
}

/// One file of the index: its path relative to the index root (`/`-separated) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFile {
    /// Path relative to the index root, e.g. `config.json` or `se/rd/serde`.
    pub path: String,
    /// The file's exact contents.
    pub contents: Vec<u8>,
}

/// What [`write_tree`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynthStats {
    /// Crates (index files other than `config.json`).
    pub crates: u64,
    /// Index lines, i.e. published versions, yanked ones included.
    pub versions: u64,
    /// Versions whose line says `"yanked":true`.
    pub yanked: u64,
    /// Files written, `config.json` included.
    pub files: u64,
    /// Bytes written, `config.json` included.
    pub bytes: u64,
    /// Bytes of the crate files alone.
    pub index_bytes: u64,
}

impl SynthStats {
    /// Mean bytes per index line (newline included); 0 when there are no versions.
    pub fn mean_line_bytes(&self) -> u64 {
        self.index_bytes.checked_div(self.versions).unwrap_or(0)
    }
}

/// Why writing or changing a synthetic index failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// A file system operation failed.
    #[error("could not {action} {path}")]
    Io {
        /// What was being done (`"create directory"`, `"write"`, ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// [`write_tree`] was given a directory that already has entries; mixing a new index with
    /// old files would give a tree that is not the one the seed describes.
    #[error("output directory {path} is not empty")]
    OutDirNotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// A crate name that cannot be a Cargo package name (so has no sparse path).
    #[error("invalid crate name {name:?}: expected 1 to 64 ASCII letters, digits, '-' or '_'")]
    InvalidCrateName {
        /// The name given.
        name: String,
    },
    /// The crate has no index file in the tree.
    #[error("crate {name:?} has no index file at {path}")]
    NoSuchCrate {
        /// The crate asked for.
        name: String,
        /// Where its file should be.
        path: PathBuf,
    },
    /// The crate's index file has no line with this version.
    #[error("crate {name:?} has no version {vers:?}")]
    NoSuchVersion {
        /// The crate.
        name: String,
        /// The version asked for.
        vers: String,
    },
    /// An index file is empty, so there is no version to base a new one on.
    #[error("index file {path} has no lines")]
    EmptyIndexFile {
        /// The file.
        path: PathBuf,
    },
    /// A line of an index file is not an index line.
    #[error("{path} line {line}: not a valid index line")]
    BadIndexLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A line of a crate's index file names another crate.
    #[error("{path} line {line}: expected crate {expected:?}, found {found:?}")]
    NameMismatch {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The crate whose file this is.
        expected: String,
        /// The name in the line.
        found: String,
    },
    /// A version is not `MAJOR.MINOR.PATCH[-pre][+build]` with numeric parts.
    #[error("{path} line {line}: version {vers:?} is not MAJOR.MINOR.PATCH")]
    BadVersion {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The version found.
        vers: String,
    },
    /// The highest version's patch number cannot be incremented.
    #[error("crate {name:?}: cannot bump the patch number of {vers:?}")]
    VersionOverflow {
        /// The crate.
        name: String,
        /// The highest version.
        vers: String,
    },
    /// The thread rendering crate files for [`write_tree`] panicked (a bug in this module);
    /// the tree on disk is incomplete.
    #[error("the synthetic index generator stopped before the last crate")]
    GeneratorStopped,
    /// A line does not have exactly one top-level `yanked` boolean to flip.
    #[error("{path} line {line}: expected one \"yanked\":true|false field")]
    NoYankedField {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
}

/// Every file of the synthetic index for `config`: `config.json` first, then one file per crate
/// in ascending path order.
///
/// Crate files are made one at a time as the iterator advances; only the crate names and a few
/// numbers per crate are held for the whole run.
pub fn generate(config: &SynthConfig) -> impl Iterator<Item = SynthFile> {
    let config_file = SynthFile {
        path: CONFIG_JSON.to_owned(),
        contents: config_json(config),
    };
    std::iter::once(config_file).chain(CrateFiles::new(Plan::new(config)).map(|c| c.file))
}

/// Writes the synthetic index for `config` under `out_dir` (created if missing; must be empty),
/// one file at a time, creating directories as needed, and says what it wrote.
pub fn write_tree(config: &SynthConfig, out_dir: &Path) -> Result<SynthStats, SynthError> {
    fs::create_dir_all(out_dir).map_err(io_error("create directory", out_dir))?;
    let mut entries = fs::read_dir(out_dir).map_err(io_error("read directory", out_dir))?;
    if entries.next().is_some() {
        return Err(SynthError::OutDirNotEmpty {
            path: out_dir.to_path_buf(),
        });
    }

    let mut stats = SynthStats::default();
    let config_path = out_dir.join(CONFIG_JSON);
    let config_bytes = config_json(config);
    fs::write(&config_path, &config_bytes).map_err(io_error("write", &config_path))?;
    stats.files = 1;
    stats.bytes = len_u64(&config_bytes);

    // Generation and writing overlap: the plan's crates are rendered on a second thread and
    // handed over through a short queue, so only a few files' bytes are in memory at once.
    let plan = Plan::new(config);
    let (sender, receiver) = std::sync::mpsc::sync_channel::<RenderedCrate>(64);
    std::thread::scope(|scope| {
        let generator = scope.spawn(move || {
            for rendered in CrateFiles::new(plan) {
                if sender.send(rendered).is_err() {
                    // The writer stopped on an error; it reports it.
                    break;
                }
            }
        });
        let written = write_crate_files(out_dir, receiver, &mut stats);
        let generated = generator.join();
        written?;
        generated.map_err(|_| SynthError::GeneratorStopped)
    })?;
    Ok(stats)
}

/// Writes the crate files arriving on `receiver` under `out_dir`, counting them in `stats`.
/// Returns at the first error, dropping `receiver` so the generator stops too.
fn write_crate_files(
    out_dir: &Path,
    receiver: std::sync::mpsc::Receiver<RenderedCrate>,
    stats: &mut SynthStats,
) -> Result<(), SynthError> {
    // Files come in path order, so all files of a directory come together: one
    // `create_dir_all` per directory, not per file.
    let mut current_dir: Option<PathBuf> = None;
    for rendered in receiver {
        let path = out_dir.join(&rendered.file.path);
        if let Some(parent) = path.parent() {
            if current_dir.as_deref() != Some(parent) {
                fs::create_dir_all(parent).map_err(io_error("create directory", parent))?;
                current_dir = Some(parent.to_path_buf());
            }
        }
        fs::write(&path, &rendered.file.contents).map_err(io_error("write", &path))?;
        let bytes = len_u64(&rendered.file.contents);
        stats.crates = stats.crates.saturating_add(1);
        stats.versions = stats.versions.saturating_add(rendered.versions);
        stats.yanked = stats.yanked.saturating_add(rendered.yanked);
        stats.files = stats.files.saturating_add(1);
        stats.bytes = stats.bytes.saturating_add(bytes);
        stats.index_bytes = stats.index_bytes.saturating_add(bytes);
    }
    Ok(())
}

/// The `k`-th crate name of a reproducible pick among the crates `config` generates, or `None`
/// when `k` is not below the number of crates.
///
/// `pick_crate(config, k)` is `pick_crates(config, k + 1)[k]`: picks are distinct for distinct
/// `k`, spread uniformly over all crates, and do not depend on how many are asked for.
pub fn pick_crate(config: &SynthConfig, k: usize) -> Option<String> {
    let count = k.checked_add(1)?;
    pick_crates(config, count).into_iter().nth(k)
}

/// The first `count` (at most the number of crates) names of the reproducible pick described at
/// [`pick_crate`], all distinct.
pub fn pick_crates(config: &SynthConfig, count: usize) -> Vec<String> {
    let key = derive_key(config.seed);
    let mut names = crate_names(&key, config.crates);
    let count = count.min(names.len());
    let mut rng = Rng::new(&key, PICK_STREAM);
    // A partial Fisher-Yates shuffle: the first `count` slots end up a uniform sample without
    // replacement, and slot `k` does not depend on `count`.
    for i in 0..count {
        let span = names.len().saturating_sub(i);
        let j = i.saturating_add(rng.below(span));
        // INVARIANT: i < count <= len and i <= j < len, so both indices are in range.
        names.swap(i, j);
    }
    names.truncate(count);
    names
}

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
/// The new line has no `pubtime`: this module has no clock.
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

// ---------------------------------------------------------------------------------------------
// Index lines: crates.io's wire shape.

/// One index line, with crates.io's field order and omission rules
/// (rust-lang/crates.io `crates/crates_io_index/src/data.rs`). Used to parse lines for the
/// mutations and, in tests, to check that [`write_line`] writes what `serde_json` would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IndexLine<'a> {
    name: Cow<'a, str>,
    vers: Cow<'a, str>,
    deps: Cow<'a, [IndexDep<'a>]>,
    cksum: Cow<'a, str>,
    features: Cow<'a, FeatureMap<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    features2: Option<Cow<'a, FeatureMap<'a>>>,
    yanked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    links: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rust_version: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pubtime: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<u32>,
}

/// One dependency of an index line (crates.io's `Dependency`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IndexDep<'a> {
    name: Cow<'a, str>,
    req: Cow<'a, str>,
    features: Vec<Cow<'a, str>>,
    optional: bool,
    default_features: bool,
    target: Option<Cow<'a, str>>,
    kind: Option<DepKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    package: Option<Cow<'a, str>>,
}

/// Dependency kind; the declaration order is crates.io's sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DepKind {
    Normal,
    Build,
    Dev,
}

impl DepKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Build => "build",
            Self::Dev => "dev",
        }
    }
}

type FeatureMap<'a> = BTreeMap<Cow<'a, str>, Vec<Cow<'a, str>>>;

/// Appends `line` as compact JSON, byte for byte what `serde_json::to_writer` writes for
/// [`IndexLine`] (checked by a test), without the trailing newline. Hand-written because it
/// cannot fail and is on the hot path: the generator writes 1.6 M lines from the same pieces,
/// with each series' `deps` and `features` serialized once (see [`Epoch`]).
fn write_line(out: &mut Vec<u8>, line: &IndexLine<'_>) {
    out.extend_from_slice(b"{\"name\":");
    push_json_str(out, &line.name);
    out.extend_from_slice(b",\"vers\":");
    push_json_str(out, &line.vers);
    write_deps(out, &line.deps);
    out.extend_from_slice(b",\"cksum\":");
    push_json_str(out, &line.cksum);
    write_features(out, &line.features, line.features2.as_deref());
    write_line_end(
        out,
        line.yanked,
        line.links.as_deref(),
        line.rust_version.as_deref(),
        line.pubtime.as_deref(),
        line.v,
    );
}

/// `,"deps":[...]`
fn write_deps(out: &mut Vec<u8>, deps: &[IndexDep<'_>]) {
    out.extend_from_slice(b",\"deps\":[");
    for (i, dep) in deps.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_dep(out, dep);
    }
    out.push(b']');
}

/// `,"features":{...}` and, when present, `,"features2":{...}`.
fn write_features(
    out: &mut Vec<u8>,
    features: &FeatureMap<'_>,
    features2: Option<&FeatureMap<'_>>,
) {
    out.extend_from_slice(b",\"features\":");
    write_feature_map(out, features);
    if let Some(features2) = features2 {
        out.extend_from_slice(b",\"features2\":");
        write_feature_map(out, features2);
    }
}

/// `,"yanked":...` and the optional fields after it, then the closing brace.
fn write_line_end(
    out: &mut Vec<u8>,
    yanked: Option<bool>,
    links: Option<&str>,
    rust_version: Option<&str>,
    pubtime: Option<&str>,
    v: Option<u32>,
) {
    out.extend_from_slice(b",\"yanked\":");
    out.extend_from_slice(match yanked {
        Some(true) => b"true",
        Some(false) => b"false",
        None => b"null",
    });
    for (key, value) in [
        (&b",\"links\":"[..], links),
        (b",\"rust_version\":", rust_version),
        (b",\"pubtime\":", pubtime),
    ] {
        if let Some(value) = value {
            out.extend_from_slice(key);
            push_json_str(out, value);
        }
    }
    if let Some(v) = v {
        out.extend_from_slice(b",\"v\":");
        push_u64(out, u64::from(v));
    }
    out.push(b'}');
}

fn write_dep(out: &mut Vec<u8>, dep: &IndexDep<'_>) {
    out.extend_from_slice(b"{\"name\":");
    push_json_str(out, &dep.name);
    out.extend_from_slice(b",\"req\":");
    push_json_str(out, &dep.req);
    out.extend_from_slice(b",\"features\":");
    write_str_array(out, &dep.features);
    out.extend_from_slice(b",\"optional\":");
    out.extend_from_slice(bool_json(dep.optional));
    out.extend_from_slice(b",\"default_features\":");
    out.extend_from_slice(bool_json(dep.default_features));
    out.extend_from_slice(b",\"target\":");
    match &dep.target {
        Some(target) => push_json_str(out, target),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"kind\":");
    match dep.kind {
        Some(kind) => push_json_str(out, kind.as_str()),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(package) = &dep.package {
        out.extend_from_slice(b",\"package\":");
        push_json_str(out, package);
    }
    out.push(b'}');
}

fn write_feature_map(out: &mut Vec<u8>, map: &FeatureMap<'_>) {
    out.push(b'{');
    for (i, (name, values)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, name);
        out.push(b':');
        write_str_array(out, values);
    }
    out.push(b'}');
}

fn write_str_array(out: &mut Vec<u8>, items: &[Cow<'_, str>]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, item);
    }
    out.push(b']');
}

fn bool_json(value: bool) -> &'static [u8] {
    if value {
        b"true"
    } else {
        b"false"
    }
}

/// A JSON string with serde_json's escapes: `"` and `\`, the short forms of control
/// characters that have one, `\u00XX` (lowercase hex) for the others; everything else as is.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let plain = !s
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\');
    if plain {
        // Nearly every string here: copy it whole.
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    for &byte in s.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0f)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Sixteen lowercase hex digits.
fn push_hex_u64(out: &mut Vec<u8>, word: u64) {
    for byte in word.to_be_bytes() {
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0x0f)]);
    }
}

/// Decimal digits, as `u64::to_string` writes them, without allocating.
fn push_u64(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = value;
    // INVARIANT: a u64 has at most 20 decimal digits, so `len` stays below 20.
    while let Some(slot) = digits.get_mut(len) {
        *slot = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits.iter().take(len).rev());
}

const CONFIG_JSON: &str = "config.json";

fn config_json(config: &SynthConfig) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"dl\":");
    push_json_str(&mut out, &config.dl);
    out.extend_from_slice(b",\"api\":");
    match &config.api {
        Some(api) => push_json_str(&mut out, api),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}\n");
    out
}

/// The sparse-index path of a crate name: `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`, lowercase.
/// `None` for a name Cargo would not accept (which also keeps `..` and `/` out of paths).
// TODO: use tuf_core::index once merged: `CrateName::parse(name)?.sparse_path()`.
fn sparse_path(name: &str) -> Option<String> {
    let valid = (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    Some(match lower.len() {
        1 => format!("1/{lower}"),
        2 => format!("2/{lower}"),
        3 => format!("3/{}/{lower}", lower.get(..1)?),
        _ => format!("{}/{}/{lower}", lower.get(..2)?, lower.get(2..4)?),
    })
}

/// crates.io's limit on name length.
const MAX_NAME_LEN: usize = 64;

// ---------------------------------------------------------------------------------------------
// The plan: what is decided for all crates before any file is made.

/// Stream ids of the seeded ChaCha8 generator. Names use stream 0; crate `rank` uses
/// `2 * rank + 1` for its version history and `2 * rank + 2` for everything else, so a crate's
/// history can be replayed alone (dependants need its latest versions) and no crate's contents
/// depend on any other crate's draws.
const NAMES_STREAM: u64 = 0;
const PICK_STREAM: u64 = u64::MAX;
const LANE_VERSIONS: u64 = 1;
const LANE_CONTENT: u64 = 2;

fn crate_stream(rank: usize, lane: u64) -> u64 {
    // Wrapping is harmless: ids stay distinct for any crate count that fits in memory.
    u64::try_from(rank)
        .unwrap_or(u64::MAX)
        .wrapping_mul(2)
        .wrapping_add(lane)
}

/// Names by rank (rank 0 is the most depended-on crate), where each crate's latest release
/// series stands, and the crates in path order.
struct Plan {
    key: [u8; 32],
    names: Vec<String>,
    heads: Vec<SeriesHead>,
    by_path: Vec<(String, usize)>,
}

impl Plan {
    fn new(config: &SynthConfig) -> Self {
        let key = derive_key(config.seed);
        let names = crate_names(&key, config.crates);
        let heads = names
            .iter()
            .enumerate()
            .map(|(rank, name)| {
                let mut rng = Rng::new(&key, crate_stream(rank, LANE_VERSIONS));
                SeriesHead::of(&version_history(&mut rng, is_sys(name)))
            })
            .collect();
        let mut by_path: Vec<(String, usize)> = names
            .iter()
            .enumerate()
            .filter_map(|(rank, name)| Some((sparse_path(name)?, rank)))
            .collect();
        by_path.sort_unstable();
        Self {
            key,
            names,
            heads,
            by_path,
        }
    }
}

/// Where a crate's releases stand: the latest major version, the range of minors released
/// under it, and the latest patch of the latest minor. Enough to write a version requirement
/// that some release matches.
#[derive(Debug, Clone, Copy, Default)]
struct SeriesHead {
    major: u64,
    minor_lo: u64,
    minor_hi: u64,
    patch_hi: u64,
}

impl SeriesHead {
    fn of(history: &[Semver]) -> Self {
        let releases = || history.iter().filter(|v| v.pre.is_none());
        let major = releases().map(|v| v.major).max().unwrap_or(0);
        let in_major = || releases().filter(move |v| v.major == major);
        let minor_lo = in_major().map(|v| v.minor).min().unwrap_or(0);
        let minor_hi = in_major().map(|v| v.minor).max().unwrap_or(0);
        let in_minor = || in_major().filter(move |v| v.minor == minor_hi);
        Self {
            major,
            minor_lo,
            minor_hi,
            patch_hi: in_minor().map(|v| v.patch).max().unwrap_or(0),
        }
    }
}

/// A crate file and what it holds.
struct RenderedCrate {
    file: SynthFile,
    versions: u64,
    yanked: u64,
}

/// The crate files of a plan, in path order, made one at a time.
struct CrateFiles {
    plan: Plan,
    next: usize,
}

impl CrateFiles {
    fn new(plan: Plan) -> Self {
        Self { plan, next: 0 }
    }
}

impl Iterator for CrateFiles {
    type Item = RenderedCrate;

    fn next(&mut self) -> Option<RenderedCrate> {
        let (path, rank) = self.plan.by_path.get_mut(self.next)?;
        // Each entry is visited once; take its path instead of copying it.
        let (path, rank) = (std::mem::take(path), *rank);
        self.next = self.next.saturating_add(1);
        Some(render_crate(&self.plan, rank, path))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.plan.by_path.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

// ---------------------------------------------------------------------------------------------
// Names.

/// `count` crate names, unique after lowercasing and treating `-` and `_` alike, in rank order.
fn crate_names(key: &[u8; 32], count: usize) -> Vec<String> {
    let mut rng = Rng::new(key, NAMES_STREAM);
    let mut taken: HashSet<String> = HashSet::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    let mut left = count;
    // A few short names, at least one of each length whenever there is room, so every sparse
    // path shape appears even in small test registries. crates.io has every 1-letter name,
    // hundreds of 2-letter ones and thousands of 3-letter ones.
    let one = take(&mut left, (count / 10_000).clamp(1, 26));
    let two = take(&mut left, (count / 500).clamp(1, 600));
    let three = take(&mut left, (count / 80).clamp(1, 20_000));

    let mut letters: Vec<u8> = LETTERS.to_vec();
    shuffle(&mut rng, &mut letters);
    for &letter in letters.iter().take(one) {
        let name = char::from(letter).to_string();
        taken.insert(canonical(&name));
        names.push(name);
    }
    for (len, wanted) in [(2, two), (3, three)] {
        let mut made = 0;
        while made < wanted {
            let name = short_name(&mut rng, len);
            if !is_reserved(&name) && taken.insert(canonical(&name)) {
                names.push(name);
                made += 1;
            }
        }
    }
    for serial in 0..left {
        let mut attempt = 0u32;
        let name = loop {
            attempt = attempt.saturating_add(1);
            let candidate = if attempt <= 100 {
                long_name(&mut rng)
            } else {
                // The word space is large, so this is near impossible; it still must end.
                format!("{}-{serial}-{attempt}", long_name(&mut rng))
            };
            if (4..=MAX_NAME_LEN).contains(&candidate.len())
                && !is_reserved(&candidate)
                && taken.insert(canonical(&candidate))
            {
                break candidate;
            }
        };
        names.push(name);
    }
    shuffle(&mut rng, &mut names);
    names
}

fn take(left: &mut usize, wanted: usize) -> usize {
    let got = wanted.min(*left);
    *left -= got;
    got
}

/// crates.io compares names case-insensitively and with `-` and `_` treated alike.
fn canonical(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

fn is_reserved(name: &str) -> bool {
    // Windows device names cannot be files there; the rest are reserved by crates.io.
    const RESERVED: &[&str] = &[
        "con",
        "prn",
        "aux",
        "nul",
        "alloc",
        "core",
        "std",
        "test",
        "proc_macro",
        "proc-macro",
    ];
    let device = name.len() == 4
        && (name.starts_with("com") || name.starts_with("lpt"))
        && name.ends_with(|c: char| c.is_ascii_digit());
    device || RESERVED.contains(&name)
}

fn is_sys(name: &str) -> bool {
    name.ends_with("-sys") || name.ends_with("_sys")
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn short_name(rng: &mut Rng, len: usize) -> String {
    let mut name = String::with_capacity(len);
    name.push(char::from(*rng.pick(LETTERS).unwrap_or(&b'a')));
    for _ in 1..len {
        name.push(char::from(*rng.pick(ALNUM).unwrap_or(&b'a')));
    }
    name
}

/// One to three words joined by `-` (or `_` in about a quarter of names), sometimes with a
/// conventional suffix: `http-body`, `serde_json`, `tokio-util`, `proc-macro2`, `libz-sys`.
fn long_name(rng: &mut Rng) -> String {
    let words = 1 + rng.weighted(&[30, 60, 10]);
    let sep = if rng.chance(280_000) { '_' } else { '-' };
    let mut name = String::with_capacity(24);
    for i in 0..words {
        if i > 0 {
            name.push(sep);
        }
        push_word(rng, &mut name);
    }
    if rng.chance(80_000) {
        let suffix = *rng.pick(NAME_SUFFIXES).unwrap_or(&"rs");
        if !suffix.starts_with(|c: char| c.is_ascii_digit()) {
            name.push(sep);
        }
        name.push_str(suffix);
    }
    name
}

fn push_word(rng: &mut Rng, name: &mut String) {
    if rng.chance(550_000) {
        name.push_str(rng.pick(WORDS).unwrap_or(&"util"));
        return;
    }
    // An invented word like `tokio`, `serde`, `axum`: consonant-vowel syllables.
    const CONSONANTS: &[u8] = b"bcdfghjklmnprstvwxz";
    const VOWELS: &[u8] = b"aeiouy";
    const FINALS: &[u8] = b"nrsxkml";
    let syllables = 2 + rng.below(2);
    for _ in 0..syllables {
        name.push(char::from(*rng.pick(CONSONANTS).unwrap_or(&b't')));
        name.push(char::from(*rng.pick(VOWELS).unwrap_or(&b'o')));
    }
    if rng.chance(350_000) {
        name.push(char::from(*rng.pick(FINALS).unwrap_or(&b'n')));
    }
}

#[rustfmt::skip]
const NAME_SUFFIXES: &[&str] = &[
    "rs", "sys", "cli", "derive", "macros", "core", "utils", "2", "ng", "lite", "impl", "types",
];

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "async", "http", "json", "serde", "parser", "parse", "derive", "macro", "util", "utils", "sys",
    "cli", "web", "api", "client", "server", "db", "sql", "log", "logger", "wasm", "bind",
    "config", "crypto", "hash", "tokio", "future", "futures", "stream", "buf", "bytes", "codec",
    "proto", "grpc", "rpc", "net", "tcp", "udp", "tls", "ssl", "io", "fs", "file", "path", "time",
    "date", "chrono", "uuid", "rand", "random", "math", "num", "float", "int", "big", "vec", "map",
    "set", "tree", "graph", "list", "queue", "cache", "pool", "sync", "lock", "atomic", "thread",
    "task", "runtime", "exec", "event", "bus", "channel", "signal", "process", "shell", "term",
    "color", "style", "text", "str", "string", "fmt", "format", "print", "render", "draw", "image",
    "gpu", "gfx", "vk", "gl", "audio", "sound", "midi", "video", "game", "engine", "ecs",
    "physics", "ui", "gui", "tui", "widget", "window", "input", "key", "mouse", "font", "svg",
    "pdf", "csv", "xml", "yaml", "toml", "ini", "env", "arg", "args", "flag", "opt", "error",
    "result", "fail", "trace", "tracing", "metric", "metrics", "stats", "bench", "mock", "fake",
    "fixture", "assert", "check", "lint", "build", "gen", "code", "lexer", "token", "ast",
    "syntax", "lang", "compiler", "vm", "jit", "ir", "eval", "script", "lua", "python", "js",
    "node", "ruby", "java", "ffi", "bindings", "native", "embedded", "hal", "board", "chip", "usb",
    "serial", "spi", "i2c", "gpio", "pwm", "rtos", "kernel", "os", "boot", "memory", "arena",
    "slab", "heap", "stack", "ring", "ptr", "cell", "rc", "arc", "iter", "zip", "tar", "gzip",
    "zstd", "lz4", "compress", "archive", "store", "storage", "kv", "redis", "mongo", "postgres",
    "mysql", "sqlite", "orm", "query", "schema", "migrate", "model", "entity", "auth", "oauth",
    "jwt", "session", "cookie", "cors", "router", "route", "handler", "middleware", "proxy",
    "gateway", "dns", "mail", "smtp", "chat", "bot", "discord", "slack", "matrix", "irc", "chain",
    "wallet", "coin", "ledger", "solana", "substrate", "zk", "proof", "merkle", "sign", "signer",
    "cert", "acme", "cloud", "aws", "azure", "k8s", "docker", "deploy", "git", "diff", "patch",
    "semver", "version", "cargo", "crate", "quick", "fast", "tiny", "mini", "micro", "simple",
    "easy", "smart", "super", "hyper", "ultra", "open", "free", "lib", "kit", "rust", "base64",
    "sha2", "x11",
];

// ---------------------------------------------------------------------------------------------
// Versions.

/// A semver version as this generator makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Semver {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Option<(&'static str, u64)>,
    build: Option<&'static str>,
}

impl Semver {
    fn release(major: u64, minor: u64, patch: u64, build: Option<&'static str>) -> Self {
        Self {
            major,
            minor,
            patch,
            pre: None,
            build,
        }
    }
}

impl Semver {
    /// `MAJOR.MINOR.PATCH[-TAG.N][+BUILD]`; only digits, letters, `.`, `-` and `+`, so it
    /// never needs JSON escaping.
    fn write_to(&self, out: &mut Vec<u8>) {
        push_u64(out, self.major);
        out.push(b'.');
        push_u64(out, self.minor);
        out.push(b'.');
        push_u64(out, self.patch);
        if let Some((tag, n)) = self.pre {
            out.push(b'-');
            out.extend_from_slice(tag.as_bytes());
            out.push(b'.');
            push_u64(out, n);
        }
        if let Some(build) = self.build {
            out.push(b'+');
            out.extend_from_slice(build.as_bytes());
        }
    }
}

const PRE_TAGS: &[&str] = &["alpha", "beta", "rc"];
/// Upstream library versions that `-sys` crates put in build metadata (`0.1.5+1.2.13`).
#[rustfmt::skip]
const UPSTREAM: &[&str] = &[
    "1.2.13", "3.0.13", "1.1.1w", "3.45.0", "2.11.1", "1.0.20", "0.9.16", "7.88.1", "1.5.6",
];

/// Upper bound on versions per crate (the largest crates.io crates have a few thousand).
const MAX_VERSIONS: u64 = 3_000;

/// A crate's versions in publish order: increasing, mostly patch bumps, some minor and major
/// bumps, some pre-release runs (`-alpha.1`, `-rc.2`) before a release.
fn version_history(rng: &mut Rng, sys: bool) -> Vec<Semver> {
    // Heavy-tailed count, mean ~8: almost 40% of crates are published once; one in a hundred
    // has hundreds of versions. A mixture of geometric laws keeps this integer-only.
    let count = match rng.weighted(&[250, 500, 180, 60, 10]) {
        0 => 1,
        1 => 1 + rng.geometric(3, MAX_VERSIONS),
        2 => 1 + rng.geometric(12, MAX_VERSIONS),
        3 => 1 + rng.geometric(25, MAX_VERSIONS),
        _ => 1 + rng.geometric(180, MAX_VERSIONS),
    };
    let build = if sys && rng.chance(250_000) {
        rng.pick(UPSTREAM).copied()
    } else {
        None
    };
    let start = match rng.weighted(&[500, 100, 40, 180, 60, 40, 80]) {
        0 => (0, 1, 0),
        1 => (0, 0, 1),
        2 => (0, 0, 0),
        3 => (1, 0, 0),
        4 => (0, 2, 0),
        5 => (0, 3, 0),
        _ => (0, 1, 0),
    };
    let mut current = Semver::release(start.0, start.1, start.2, build);
    let mut history = Vec::with_capacity(usize::try_from(count).unwrap_or(1));
    history.push(current);
    // The release a pre-release run leads to, and the run's current tag and number.
    let mut pending: Option<(Semver, usize, u64)> = None;
    // Numbers are bounded by MAX_VERSIONS, so the saturating adds never saturate.
    while u64::try_from(history.len()).unwrap_or(u64::MAX) < count {
        if let Some((target, tag, n)) = pending {
            if rng.chance(550_000) {
                let (tag, n) = if tag + 1 < PRE_TAGS.len() && rng.chance(300_000) {
                    (tag + 1, 1)
                } else {
                    (tag, n.saturating_add(1))
                };
                history.push(Semver {
                    pre: PRE_TAGS.get(tag).map(|t| (*t, n)),
                    ..target
                });
                pending = Some((target, tag, n));
            } else {
                history.push(target);
                current = target;
                pending = None;
            }
            continue;
        }
        let next_minor = Semver::release(
            current.major,
            current.minor.saturating_add(1),
            0,
            current.build,
        );
        let next_major = Semver::release(current.major.saturating_add(1), 0, 0, current.build);
        match rng.weighted(&[680, 240, 30, 50]) {
            0 => {
                current.patch = current.patch.saturating_add(1);
                history.push(current);
            }
            1 => {
                current = next_minor;
                history.push(current);
            }
            2 => {
                current = next_major;
                history.push(current);
            }
            _ => {
                let target = if rng.chance(300_000) {
                    next_major
                } else {
                    next_minor
                };
                let tag = rng.below(PRE_TAGS.len());
                history.push(Semver {
                    pre: PRE_TAGS.get(tag).map(|t| (*t, 1)),
                    ..target
                });
                pending = Some((target, tag, 1));
            }
        }
    }
    history
}

/// `MAJOR.MINOR.PATCH` of a version string, ignoring pre-release and build metadata.
fn version_triple(vers: &str) -> Option<(u64, u64, u64)> {
    let core = vers.split('+').next()?;
    let core = core.split('-').next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((major, minor, patch))
}

// ---------------------------------------------------------------------------------------------
// Crate contents.

#[rustfmt::skip]
const DEP_FEATURES: &[&str] = &[
    "derive", "std", "full", "alloc", "serde", "macros", "rt-multi-thread", "sync", "fs", "json",
    "v4", "rustls-tls", "cargo", "env-filter", "time", "io-util", "net", "fmt", "small_rng",
    "preserve_order", "blocking", "sink",
];
#[rustfmt::skip]
const CRATE_FEATURES: &[&str] = &[
    "std", "alloc", "serde", "derive", "full", "async", "tokio", "rt", "macros", "nightly",
    "unstable", "log", "tracing", "json", "tls", "rustls", "native-tls", "simd", "no_std",
    "parallel", "rayon", "cli", "bench", "test-utils", "experimental", "compat", "chrono", "time",
    "uuid", "backtrace", "color", "wasm", "ffi", "vendored", "static", "runtime", "client",
    "server", "blocking", "fs", "net", "sync", "schema", "codegen",
];
const TARGETS: &[&str] = &[
    "cfg(windows)",
    "cfg(unix)",
    "cfg(target_arch = \"wasm32\")",
    "cfg(not(target_arch = \"wasm32\"))",
    "cfg(target_os = \"linux\")",
    "cfg(target_os = \"macos\")",
    "cfg(any(target_os = \"macos\", target_os = \"ios\"))",
    "x86_64-pc-windows-msvc",
];
#[rustfmt::skip]
const RUST_VERSIONS: &[&str] = &[
    "1.31", "1.36", "1.46", "1.56", "1.56.1", "1.57", "1.60", "1.61", "1.63", "1.64.0", "1.65",
    "1.66", "1.67", "1.70", "1.70.0", "1.71", "1.72", "1.74", "1.75", "1.76", "1.78", "1.79",
    "1.80", "1.81", "1.82", "1.83", "1.85", "1.86", "1.88",
];

/// Share of versions yanked, in parts per million.
const YANKED_PPM: u64 = 30_000;

/// How a dependency's version requirement is written (kept across a crate's versions).
#[derive(Debug, Clone, Copy)]
enum ReqStyle {
    /// `^1.2`, `^0.4`
    CaretMinor,
    /// `^1.2.3`
    CaretPatch,
    /// `^1` (for 0.x: `^0.4`)
    CaretMajor,
    /// `=1.2.0`
    Exact,
    /// `~1.2`
    Tilde,
    /// `*`
    Any,
    /// `>=1.2, <2` (for 0.x: `>=0.4, <0.5`)
    Range,
}

/// A dependency as a crate declares it across its versions.
struct PoolDep {
    rank: usize,
    alias: Option<String>,
    kind: DepKind,
    optional: bool,
    default_features: bool,
    features: Vec<&'static str>,
    target: Option<&'static str>,
    style: ReqStyle,
}

/// What a feature enables, resolved against each epoch's dependencies.
#[derive(Debug, Clone, Copy)]
enum FeatureRef {
    /// Another feature of the crate (by index).
    Feature(usize),
    /// `dep/feature` (`dep?/feature` in new-syntax epochs) for a normal dependency.
    DepFeature(usize, &'static str),
    /// An optional dependency (`dep:name` in new-syntax epochs).
    OptionalDep(usize),
}

struct PoolFeature {
    name: &'static str,
    refs: Vec<FeatureRef>,
}

/// What all versions of one minor series share, its `deps` and `features` already serialized
/// (as [`write_deps`] and [`write_features`] write them): most of a line's bytes, made once
/// per series instead of once per version.
struct Epoch {
    deps_json: Vec<u8>,
    features_json: Vec<u8>,
    has_features2: bool,
    rust_version: Option<&'static str>,
}

/// Seconds since the Unix epoch of a UTC civil date (Howard Hinnant's `days_from_civil`).
const fn unix_time(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

/// crates.io opened in November 2014; the synthetic history ends in spring 2026.
const HISTORY_START: i64 = unix_time(2014, 11, 11);
const HISTORY_END: i64 = unix_time(2026, 3, 31);
/// crates.io started writing `pubtime` on new versions around this date (its own writer's
/// test uses 2025-11-18); older lines have none.
const PUBTIME_SINCE: i64 = unix_time(2025, 11, 18);

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (Hinnant's `civil_from_days`).
fn format_pubtime(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Makes the index file of the crate at `rank`.
fn render_crate(plan: &Plan, rank: usize, path: String) -> RenderedCrate {
    let Some(name) = plan.names.get(rank) else {
        // Unreachable: ranks come from the plan itself. An empty file is the harmless answer.
        return RenderedCrate {
            file: SynthFile {
                path,
                contents: Vec::new(),
            },
            versions: 0,
            yanked: 0,
        };
    };
    let sys = is_sys(name);
    let history = version_history(
        &mut Rng::new(&plan.key, crate_stream(rank, LANE_VERSIONS)),
        sys,
    );
    let mut rng = Rng::new(&plan.key, crate_stream(rank, LANE_CONTENT));
    let count = history.len();

    // Epochs: a new one starts whenever major.minor changes (pre-releases included).
    let mut epoch_of = Vec::with_capacity(count);
    let mut epochs_len = 0usize;
    let mut previous: Option<(u64, u64)> = None;
    for version in &history {
        let series = (version.major, version.minor);
        if previous != Some(series) {
            epochs_len = epochs_len.saturating_add(1);
            previous = Some(series);
        }
        epoch_of.push(epochs_len.saturating_sub(1));
    }

    let pool = dep_pool(&mut rng, plan, rank, count);
    let features = feature_pool(&mut rng, plan, &pool, count);
    // About a third of crates declare an MSRV, from some epoch on, raising it now and then.
    let msrv = rng
        .chance(330_000)
        .then(|| (rng.below(epochs_len), rng.below(RUST_VERSIONS.len())));
    // About a fifth of crates with features switch to `dep:` / `?/` syntax at some epoch.
    let new_syntax_from = if !features.is_empty() && rng.chance(200_000) {
        rng.below(epochs_len)
    } else {
        usize::MAX
    };
    let links = (sys && rng.chance(700_000)).then(|| {
        name.trim_end_matches("-sys")
            .trim_end_matches("_sys")
            .to_owned()
    });

    let draft = CrateDraft {
        plan,
        pool,
        features,
        epochs: epochs_len,
        new_syntax_from,
        msrv,
    };
    let mut epochs: Vec<Epoch> = Vec::new();
    let mut rendering_of = Vec::with_capacity(epochs_len);
    let mut last_key: Option<EpochKey> = None;
    for k in 0..epochs_len {
        let key = draft.key(k);
        if last_key != Some(key) {
            epochs.push(draft.epoch(key));
            last_key = Some(key);
        }
        rendering_of.push(epochs.len().saturating_sub(1));
    }

    // Publish times: the first version some time in the registry's history (more crates are
    // recent), the others spread over what is left of it.
    let span = u64::try_from(HISTORY_END - HISTORY_START).unwrap_or(0);
    let first = rng.below_u64(span).max(rng.below_u64(span));
    let mut published = HISTORY_START.saturating_add(i64::try_from(first).unwrap_or(0));
    let left = u64::try_from(HISTORY_END.saturating_sub(published)).unwrap_or(0);
    let mean_gap_x2 = left
        .saturating_mul(2)
        .checked_div(u64::try_from(count).unwrap_or(1))
        .unwrap_or(0);

    let mut contents = Vec::with_capacity(count.saturating_mul(800));
    let mut yanked = 0u64;
    for (i, version) in history.iter().enumerate() {
        if i > 0 {
            let gap = i64::try_from(rng.below_u64(mean_gap_x2.saturating_add(1))).unwrap_or(0);
            published = published.saturating_add(gap).min(HISTORY_END);
        }
        let rendering = epoch_of.get(i).and_then(|&k| rendering_of.get(k));
        let Some(epoch) = rendering.and_then(|&r| epochs.get(r)) else {
            continue;
        };
        let is_yanked = rng.chance(YANKED_PPM);
        yanked = yanked.saturating_add(u64::from(is_yanked));
        // The pieces of `write_line`, in its order; a test checks the result against serde.
        contents.extend_from_slice(b"{\"name\":");
        push_json_str(&mut contents, name);
        contents.extend_from_slice(b",\"vers\":\"");
        version.write_to(&mut contents);
        contents.push(b'"');
        contents.extend_from_slice(&epoch.deps_json);
        contents.extend_from_slice(b",\"cksum\":\"");
        for _ in 0..4 {
            push_hex_u64(&mut contents, rng.next());
        }
        contents.push(b'"');
        contents.extend_from_slice(&epoch.features_json);
        let pubtime = (published >= PUBTIME_SINCE).then(|| format_pubtime(published));
        write_line_end(
            &mut contents,
            Some(is_yanked),
            links.as_deref(),
            epoch.rust_version,
            pubtime.as_deref(),
            epoch.has_features2.then_some(2),
        );
        contents.push(b'\n');
    }
    RenderedCrate {
        file: SynthFile { path, contents },
        versions: u64::try_from(count).unwrap_or(u64::MAX),
        yanked,
    }
}

/// The dependencies a crate declares over its life. Larger crates (more versions) have more;
/// normal and build dependencies only point at more popular crates (lower rank), which keeps
/// the normal dependency graph acyclic like a real registry's.
fn dep_pool(rng: &mut Rng, plan: &Plan, rank: usize, versions: usize) -> Vec<PoolDep> {
    let wanted = if rng.chance(25_000) {
        // Frameworks and applications with dozens of dependencies.
        10 + rng.geometric(20, 110)
    } else {
        let (none_ppm, base, mean, cap) = match versions {
            1 => (450_000, 1, 2, 60),
            2..=5 => (150_000, 1, 3, 60),
            6..=30 => (80_000, 1, 4, 80),
            _ => (50_000, 2, 6, 100),
        };
        if rng.chance(none_ppm) {
            0
        } else {
            base + rng.geometric(mean, cap)
        }
    };
    let crates = plan.names.len();
    let mut pool: Vec<PoolDep> = Vec::new();
    for _ in 0..wanted {
        let kind = match rng.weighted(&[700, 80, 220]) {
            0 => DepKind::Normal,
            1 => DepKind::Build,
            _ => DepKind::Dev,
        };
        let dep_rank = if kind == DepKind::Dev {
            let r = rng.power_rank(crates);
            if r == rank {
                continue;
            }
            r
        } else if rank == 0 {
            continue;
        } else {
            rng.power_rank(rank)
        };
        let Some(real_name) = plan.names.get(dep_rank) else {
            continue;
        };
        let alias = rng
            .chance(15_000)
            .then(|| format!("{}_crate", real_name.replace('-', "_")));
        // One declaration per (name, kind), as Cargo requires. Pools are small (a few
        // dozen at most), so a scan beats hashing owned keys.
        let name = alias.as_deref().unwrap_or(real_name);
        if pool
            .iter()
            .any(|d| d.kind == kind && dep_name(plan, d) == Some(name))
        {
            continue;
        }
        let mut features: Vec<&'static str> = Vec::new();
        if rng.chance(250_000) {
            for _ in 0..1 + rng.below(3) {
                if let Some(feature) = rng.pick(DEP_FEATURES) {
                    if !features.contains(feature) {
                        features.push(feature);
                    }
                }
            }
        }
        let style = match rng.weighted(&[450, 300, 150, 30, 30, 10, 30]) {
            0 => ReqStyle::CaretMinor,
            1 => ReqStyle::CaretPatch,
            2 => ReqStyle::CaretMajor,
            3 => ReqStyle::Exact,
            4 => ReqStyle::Tilde,
            5 => ReqStyle::Any,
            _ => ReqStyle::Range,
        };
        pool.push(PoolDep {
            rank: dep_rank,
            alias,
            kind,
            optional: kind == DepKind::Normal && rng.chance(150_000),
            default_features: !rng.chance(120_000),
            features,
            target: if rng.chance(80_000) {
                rng.pick(TARGETS).copied()
            } else {
                None
            },
            style,
        });
    }
    pool
}

/// The features a crate defines over its life (none for most small crates). Names never equal
/// a dependency's name, which Cargo rejects.
fn feature_pool(rng: &mut Rng, plan: &Plan, pool: &[PoolDep], versions: usize) -> Vec<PoolFeature> {
    let featureful_ppm = match versions {
        1 => 300_000,
        2..=5 => 500_000,
        6..=30 => 700_000,
        _ => 850_000,
    };
    if !rng.chance(featureful_ppm) {
        return Vec::new();
    }
    let mut names: Vec<&'static str> = Vec::new();
    if rng.chance(700_000) {
        names.push("default");
    }
    let wanted = 1 + rng.geometric(3, 24);
    for _ in 0..wanted {
        if let Some(&feature) = rng.pick(CRATE_FEATURES) {
            let clashes = pool.iter().any(|dep| dep_name(plan, dep) == Some(feature));
            if !clashes && !names.contains(&feature) {
                names.push(feature);
            }
        }
    }
    let normal: Vec<usize> = (0..pool.len())
        .filter(|&i| pool.get(i).is_some_and(|d| d.kind == DepKind::Normal))
        .collect();
    let optional: Vec<usize> = (0..pool.len())
        .filter(|&i| pool.get(i).is_some_and(|d| d.optional))
        .collect();
    let count = names.len();
    names
        .iter()
        .enumerate()
        .map(|(i, &name)| {
            let mut refs = Vec::new();
            let wanted = if name == "default" {
                1 + rng.below(2)
            } else {
                rng.below(4)
            };
            for _ in 0..wanted {
                let choice = if name == "default" {
                    0
                } else {
                    rng.weighted(&[40, 35, 25])
                };
                let feature_ref = match choice {
                    0 => {
                        let other = rng.below(count);
                        // `default` is feature 0 when present; nothing enables it.
                        (other != i && names.get(other) != Some(&"default"))
                            .then_some(FeatureRef::Feature(other))
                    }
                    1 => rng.pick(&normal).and_then(|&dep| {
                        rng.pick(DEP_FEATURES)
                            .map(|&feature| FeatureRef::DepFeature(dep, feature))
                    }),
                    _ => rng.pick(&optional).map(|&dep| FeatureRef::OptionalDep(dep)),
                };
                refs.extend(feature_ref);
            }
            PoolFeature { name, refs }
        })
        .collect()
}

/// What is decided once per crate, from which each epoch is rendered.
struct CrateDraft<'a> {
    plan: &'a Plan,
    pool: Vec<PoolDep>,
    features: Vec<PoolFeature>,
    epochs: usize,
    /// First epoch whose features use `dep:` / `?/` (`usize::MAX`: none).
    new_syntax_from: usize,
    /// First epoch with a `rust_version`, and its index in [`RUST_VERSIONS`].
    msrv: Option<(usize, usize)>,
}

/// The effective name of a dependency: its alias when renamed.
fn dep_name<'a>(plan: &'a Plan, dep: &'a PoolDep) -> Option<&'a str> {
    dep.alias
        .as_deref()
        .or_else(|| plan.names.get(dep.rank).map(String::as_str))
}

/// Everything an epoch's rendering depends on. Consecutive epochs often have the same key
/// (requirements move every [`REQ_AGE_STEP`] series, dependency lists grow slowly), and then
/// share one rendering: a crate with hundreds of versions renders a few dozen, not hundreds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EpochKey {
    dep_count: usize,
    feature_count: usize,
    /// How many series back the requirements point, in steps of [`REQ_AGE_STEP`].
    req_age: usize,
    new_syntax: bool,
    rust_version: Option<&'static str>,
}

/// Requirements are raised every this many minor series of the depending crate.
const REQ_AGE_STEP: usize = 4;

impl<'a> CrateDraft<'a> {
    /// What epoch `k` is made of. Early epochs have part of the dependencies and features
    /// (about half in the first, all in the last); their requirements point at older series.
    fn key(&self, k: usize) -> EpochKey {
        let age = self.epochs.saturating_sub(k).saturating_sub(1);
        let grown = |total: usize| {
            let share = total.saturating_mul(age) / self.epochs.saturating_mul(2).max(1);
            total.saturating_sub(share)
        };
        let rust_version = self.msrv.and_then(|(from, base)| {
            (k >= from).then(|| {
                let index = base.saturating_add(k.saturating_sub(from) / 3);
                RUST_VERSIONS
                    .get(index.min(RUST_VERSIONS.len().saturating_sub(1)))
                    .copied()
            })?
        });
        EpochKey {
            dep_count: grown(self.pool.len()),
            feature_count: grown(self.features.len()),
            req_age: age / REQ_AGE_STEP,
            new_syntax: k >= self.new_syntax_from,
            rust_version,
        }
    }

    /// The dependencies, features and MSRV of an epoch with this key, serialized.
    fn epoch(&'a self, key: EpochKey) -> Epoch {
        let Self {
            plan,
            pool,
            features,
            ..
        } = self;
        let plan = *plan;
        let EpochKey {
            dep_count,
            feature_count,
            req_age,
            new_syntax,
            rust_version,
        } = key;

        let mut deps: Vec<IndexDep<'a>> = pool
            .iter()
            .take(dep_count)
            .filter_map(|dep| {
                let real_name = plan.names.get(dep.rank)?;
                let head = plan.heads.get(dep.rank).copied().unwrap_or_default();
                Some(IndexDep {
                    name: Cow::Borrowed(dep.alias.as_deref().unwrap_or(real_name)),
                    req: Cow::Owned(requirement(dep.style, head, req_age)),
                    features: dep.features.iter().map(|f| Cow::Borrowed(*f)).collect(),
                    optional: dep.optional,
                    default_features: dep.default_features,
                    target: dep.target.map(Cow::Borrowed),
                    kind: Some(dep.kind),
                    package: dep
                        .alias
                        .as_ref()
                        .map(|_| Cow::Borrowed(real_name.as_str())),
                })
            })
            .collect();
        deps.sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));

        let name_of = |index: usize| -> Option<&'a str> { dep_name(plan, pool.get(index)?) };
        let mut all_features: FeatureMap<'a> = BTreeMap::new();
        for (i, feature) in features.iter().enumerate().take(feature_count) {
            let mut values: Vec<Cow<'a, str>> = Vec::new();
            for feature_ref in &feature.refs {
                let value = match *feature_ref {
                    FeatureRef::Feature(other) if other < feature_count && other != i => {
                        features.get(other).map(|f| Cow::Borrowed(f.name))
                    }
                    FeatureRef::DepFeature(dep, feat) if dep < dep_count => {
                        let weak = new_syntax && pool.get(dep).is_some_and(|d| d.optional);
                        name_of(dep).map(|name| {
                            Cow::Owned(format!("{name}{}/{feat}", if weak { "?" } else { "" }))
                        })
                    }
                    FeatureRef::OptionalDep(dep) if dep < dep_count => name_of(dep).map(|name| {
                        if new_syntax {
                            Cow::Owned(format!("dep:{name}"))
                        } else {
                            Cow::Borrowed(name)
                        }
                    }),
                    _ => None,
                };
                if let Some(value) = value {
                    if !values.contains(&value) {
                        values.push(value);
                    }
                }
            }
            all_features.insert(Cow::Borrowed(feature.name), values);
        }
        // crates.io moves features using the new syntax to `features2` so that cargo older than
        // 1.19 can still read `features`.
        let (new, old): (FeatureMap<'a>, FeatureMap<'a>) =
            all_features.into_iter().partition(|(_, values)| {
                values
                    .iter()
                    .any(|v| v.starts_with("dep:") || v.contains("?/"))
            });

        let features2 = (!new.is_empty()).then_some(new);
        let mut deps_json = Vec::new();
        write_deps(&mut deps_json, &deps);
        let mut features_json = Vec::new();
        write_features(&mut features_json, &old, features2.as_ref());
        Epoch {
            deps_json,
            features_json,
            has_features2: features2.is_some(),
            rust_version,
        }
    }
}

/// A version requirement in `style` that some release of the dependency matches: it names the
/// dependency's latest major series, at a minor `back` series back at most.
fn requirement(style: ReqStyle, head: SeriesHead, back: usize) -> String {
    let SeriesHead {
        major,
        minor_lo,
        minor_hi,
        patch_hi,
    } = head;
    let back = u64::try_from(back).unwrap_or(u64::MAX);
    // Within 0.x the minor is the breaking part; never name minor 0 of a 0.x crate that went
    // on to 0.1+, since its first release may be 0.0.1 and `^0.0.0` would match nothing.
    let floor = if major == 0 && minor_hi > 0 {
        minor_lo.max(1)
    } else {
        minor_lo
    };
    let minor = minor_hi.saturating_sub(back).max(floor);
    // A patch that was released in that series: the latest minor's latest (people write the
    // version they built with), else `.0`, which starts every series after the first one (and
    // the first series whenever it is not 0.0).
    let patch = if minor == minor_hi { patch_hi } else { 0 };
    let zero_zero = major == 0 && minor == 0;
    match style {
        _ if zero_zero => format!("^0.0.{patch}"),
        ReqStyle::CaretMinor => format!("^{major}.{minor}"),
        ReqStyle::CaretPatch => format!("^{major}.{minor}.{patch}"),
        ReqStyle::CaretMajor if major > 0 => format!("^{major}"),
        ReqStyle::CaretMajor => format!("^0.{minor}"),
        ReqStyle::Exact => format!("={major}.{minor}.{patch}"),
        ReqStyle::Tilde => format!("~{major}.{minor}"),
        ReqStyle::Any => "*".to_owned(),
        ReqStyle::Range if major > 0 => {
            format!(">={major}.{minor}, <{}", major.saturating_add(1))
        }
        ReqStyle::Range => format!(">=0.{minor}, <0.{}", minor.saturating_add(1)),
    }
}

fn hex64(words: [u64; 4]) -> String {
    words.iter().map(|w| format!("{w:016x}")).collect()
}

/// A checksum for a version added by [`add_version`]: a function of name and version only, so
/// the same mutation gives the same bytes.
fn derived_cksum(name: &str, vers: &str) -> String {
    // FNV-1a over "name@vers", expanded with SplitMix64.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name
        .bytes()
        .chain(std::iter::once(b'@'))
        .chain(vers.bytes())
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut state = hash;
    hex64([
        splitmix64(&mut state),
        splitmix64(&mut state),
        splitmix64(&mut state),
        splitmix64(&mut state),
    ])
}

// ---------------------------------------------------------------------------------------------
// Randomness.

/// The ChaCha8 key for a seed. Expanded with SplitMix64 rather than `SeedableRng::seed_from_u64`
/// so the mapping is written down here and cannot change with a dependency.
fn derive_key(seed: u64) -> [u8; 32] {
    let mut state = seed;
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    key
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Integer-only draws from one ChaCha8 stream. The ChaCha8 output is fixed by its
/// specification; every mapping to values is below, so the tree for a seed never changes
/// unless this file does.
struct Rng(ChaCha8Rng);

/// Probabilities are in parts per million.
const PPM: u64 = 1_000_000;

impl Rng {
    fn new(key: &[u8; 32], stream: u64) -> Self {
        let mut inner = ChaCha8Rng::from_seed(*key);
        inner.set_stream(stream);
        Self(inner)
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (0 when `n` is 0), by Lemire's multiply-high; the bias is at most
    /// `n / 2^64`, far below anything a benchmark can see.
    fn below_u64(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next()) * u128::from(n);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        usize::try_from(self.below_u64(n)).unwrap_or(0)
    }

    fn chance(&mut self, ppm: u64) -> bool {
        self.below_u64(PPM) < ppm
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> Option<&'t T> {
        items.get(self.below(items.len()))
    }

    /// An index into `weights`, each chosen with probability weight / sum.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total = weights.iter().fold(0u64, |sum, w| sum.saturating_add(*w));
        let mut roll = self.below_u64(total);
        for (i, weight) in weights.iter().enumerate() {
            if roll < *weight {
                return i;
            }
            roll -= weight;
        }
        weights.len().saturating_sub(1)
    }

    /// Failures before the first success of trials with probability `1 / (mean + 1)`: a
    /// geometric law with the given mean, cut at `cap`.
    fn geometric(&mut self, mean: u64, cap: u64) -> u64 {
        let mut failures = 0;
        while failures < cap && self.below_u64(mean.saturating_add(1)) != 0 {
            failures += 1;
        }
        failures
    }

    /// A rank in `0..n` with a heavy head: `n * x^5` for uniform `x`, so about 14% of draws
    /// land in the top 10 of 200,000 and 35% in the top 1,000, like dependencies on crates.io
    /// where a few crates (serde, syn, libc, ...) are used by most.
    fn power_rank(&mut self, n: usize) -> usize {
        let x = self.next() >> 32;
        let mut p = x;
        for _ in 0..4 {
            // Both factors are below 2^32, so the product fits in 64 bits.
            p = (p * x) >> 32;
        }
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        let rank = (u128::from(p) * u128::from(n)) >> 32;
        usize::try_from(rank).unwrap_or(0)
    }
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i.saturating_add(1));
        // INVARIANT: j <= i < len.
        items.swap(i, j);
    }
}

// ---------------------------------------------------------------------------------------------
// Files on disk.

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SynthError {
    let path = path.to_path_buf();
    move |source| SynthError::Io {
        action,
        path,
        source,
    }
}

fn len_u64(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
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
    write_atomically(&file.path, out.as_bytes())?;
    Ok(true)
}

/// Replaces `path` with `bytes` so that a reader sees the old file or the new one, never a
/// part: write a temporary file in the same directory, then rename it over.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.synth-tmp"));
    fs::write(&temp, bytes).map_err(io_error("write", &temp))?;
    fs::rename(&temp, path).map_err(io_error("rename into place", path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::OnceLock;

    fn small(crates: usize, seed: u64) -> SynthConfig {
        SynthConfig::new(crates, seed)
    }

    fn files(config: &SynthConfig) -> Vec<SynthFile> {
        generate(config).collect()
    }

    /// One 2,000-crate registry, generated and parsed once for all the tests that only read
    /// it (debug builds parse slowly).
    struct Sample {
        config: SynthConfig,
        files: Vec<SynthFile>,
        /// Every index line: the raw text and its parse.
        lines: Vec<(String, IndexLine<'static>)>,
        /// Crate name -> its versions in file order.
        versions: HashMap<String, Vec<String>>,
    }

    fn sample() -> &'static Sample {
        static SAMPLE: OnceLock<Sample> = OnceLock::new();
        SAMPLE.get_or_init(|| {
            let config = small(2_000, 5);
            let files = files(&config);
            let mut lines = Vec::new();
            let mut versions: HashMap<String, Vec<String>> = HashMap::new();
            for file in files.iter().skip(1) {
                for raw in std::str::from_utf8(&file.contents).unwrap().lines() {
                    let parsed: IndexLine<'static> = serde_json::from_str(raw).unwrap();
                    versions
                        .entry(parsed.name.to_string())
                        .or_default()
                        .push(parsed.vers.to_string());
                    lines.push((raw.to_owned(), parsed));
                }
            }
            Sample {
                config,
                files,
                lines,
                versions,
            }
        })
    }

    #[test]
    fn sparse_paths_follow_cargo() {
        assert_eq!(sparse_path("a").as_deref(), Some("1/a"));
        assert_eq!(sparse_path("AB").as_deref(), Some("2/ab"));
        assert_eq!(sparse_path("abc").as_deref(), Some("3/a/abc"));
        assert_eq!(sparse_path("Serde").as_deref(), Some("se/rd/serde"));
        assert_eq!(sparse_path("cfg-if").as_deref(), Some("cf/g-/cfg-if"));
        for bad in ["", "../etc", "a/b", "a.b", "é", &"x".repeat(65)] {
            assert_eq!(sparse_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = files(&small(600, 7));
        assert_eq!(a, files(&small(600, 7)));
        assert_ne!(a, files(&small(600, 8)));
    }

    #[test]
    fn config_json_has_dl_and_api() {
        let mut config = small(3, 1);
        config.dl = "http://127.0.0.1:4321/dl".to_owned();
        let first = generate(&config).next().unwrap();
        assert_eq!(first.path, "config.json");
        assert_eq!(
            first.contents,
            b"{\"dl\":\"http://127.0.0.1:4321/dl\",\"api\":null}\n"
        );
        config.api = Some("http://127.0.0.1:4321".to_owned());
        let first = generate(&config).next().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&first.contents).unwrap();
        assert_eq!(value["api"], "http://127.0.0.1:4321");
    }

    #[test]
    fn every_path_shape_appears_and_matches_the_name() {
        let files = &sample().files;
        assert_eq!(files.len(), 2_001);
        let paths: Vec<&str> = files.iter().skip(1).map(|f| f.path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort_unstable();
        assert_eq!(paths, sorted, "files come in path order");
        // Directory shape: lengths of the directory segments.
        let shapes: HashSet<Vec<usize>> = paths
            .iter()
            .map(|p| {
                let mut segments: Vec<usize> = p.split('/').map(str::len).collect();
                segments.pop();
                segments
            })
            .collect();
        for expected in [vec![1], vec![1, 1], vec![2, 2]] {
            assert!(shapes.contains(&expected), "no {expected:?} in {shapes:?}");
        }
        let lengths: HashSet<usize> = paths
            .iter()
            .map(|p| p.rsplit('/').next().unwrap().len())
            .collect();
        for len in 1..=3 {
            assert!(lengths.contains(&len), "no {len}-character name");
        }
        for file in files.iter().skip(1) {
            let text = std::str::from_utf8(&file.contents).unwrap();
            for line in text.lines() {
                let parsed: IndexLine<'_> = serde_json::from_str(line).unwrap();
                assert_eq!(
                    sparse_path(&parsed.name).as_deref(),
                    Some(file.path.as_str())
                );
            }
        }
    }

    #[test]
    fn names_are_unique_and_look_like_crates_io() {
        let names = crate_names(&derive_key(3), 20_000);
        assert_eq!(names.len(), 20_000);
        let canonical_names: HashSet<String> = names.iter().map(|n| canonical(n)).collect();
        assert_eq!(
            canonical_names.len(),
            names.len(),
            "unique modulo case and -/_"
        );
        let mut lengths = [0usize; 4];
        for name in &names {
            assert!(sparse_path(name).is_some(), "{name:?}");
            assert!(
                name.starts_with(|c: char| c.is_ascii_lowercase()),
                "{name:?}"
            );
            assert!(!is_reserved(name), "{name:?}");
            lengths[name.len().min(4) - 1] += 1;
        }
        assert_eq!(lengths[..3], [2, 40, 250]);
        let typical = names.iter().filter(|n| (5..=20).contains(&n.len())).count();
        assert!(
            typical * 100 >= names.len() * 85,
            "{typical} of {}",
            names.len()
        );
        assert!(names.iter().any(|n| n.contains('-')));
        assert!(names.iter().any(|n| n.contains('_')));
        // At the smallest sizes every shape still appears.
        let tiny = crate_names(&derive_key(3), 3);
        let mut tiny_lengths: Vec<usize> = tiny.iter().map(String::len).collect();
        tiny_lengths.sort_unstable();
        assert_eq!(tiny_lengths, [1, 2, 3]);
    }

    #[test]
    fn every_line_is_a_crates_io_line() {
        let sample = sample();
        let hex =
            |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        for file in sample.files.iter().skip(1) {
            assert!(file.contents.ends_with(b"\n"), "{}", file.path);
        }
        for (line, parsed) in &sample.lines {
            // Byte-identical to serde_json of crates.io's struct: same field order, same
            // omissions, same escapes. `write_line` must agree too.
            assert_eq!(&serde_json::to_string(parsed).unwrap(), line);
            let mut written = Vec::new();
            write_line(&mut written, parsed);
            assert_eq!(written, line.as_bytes());
            // The typed parse needed name, vers, deps, cksum and features; cargo also reads
            // `yanked`, which crates.io always writes.
            assert!(parsed.yanked.is_some(), "{line}");
            assert!(hex(&parsed.cksum), "{line}");
            assert!(version_triple(&parsed.vers).is_some(), "{line}");
            assert_eq!(parsed.v.is_some(), parsed.features2.is_some(), "{line}");
            let mut sorted = parsed.deps.to_vec();
            sorted.sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));
            assert_eq!(sorted, parsed.deps.to_vec(), "deps sorted in {line}");
            let mut declared = HashSet::new();
            for dep in parsed.deps.iter() {
                assert!(
                    declared.insert((&dep.name, dep.kind)),
                    "duplicate dep in {line}"
                );
                let real = dep.package.as_deref().unwrap_or(&dep.name);
                assert!(
                    sample.versions.contains_key(real),
                    "{real} is not a generated crate"
                );
                assert_ne!(real, parsed.name, "self-dependency in {line}");
            }
        }
        for (name, versions) in &sample.versions {
            let unique: HashSet<&String> = versions.iter().collect();
            assert_eq!(unique.len(), versions.len(), "duplicate version of {name}");
        }
    }

    /// The releases (not pre-releases) among `versions`.
    fn releases(versions: &[String]) -> Vec<(u64, u64, u64)> {
        versions
            .iter()
            .filter(|v| !v.split('+').next().unwrap().contains('-'))
            .map(|v| version_triple(v).unwrap())
            .collect()
    }

    /// Whether a requirement this module writes is met by one of `releases`.
    fn matches(req: &str, releases: &[(u64, u64, u64)]) -> bool {
        let nums =
            |s: &str| -> Vec<u64> { s.split('.').map(|p| p.trim().parse().unwrap()).collect() };
        if req == "*" {
            return !releases.is_empty();
        }
        if let Some(rest) = req.strip_prefix(">=") {
            let (lo, hi) = rest.split_once(", <").unwrap();
            let pad = |v: &[u64]| (v[0], *v.get(1).unwrap_or(&0), *v.get(2).unwrap_or(&0));
            let (lo, hi) = (pad(&nums(lo)), pad(&nums(hi)));
            return releases.iter().any(|r| *r >= lo && *r < hi);
        }
        let (op, rest) = req.split_at(1);
        let n = nums(rest);
        releases
            .iter()
            .any(|&(ma, mi, pa)| match (op, n.as_slice()) {
                ("=", [a, b, c]) => (ma, mi, pa) == (*a, *b, *c),
                ("~", [a, b]) => (ma, mi) == (*a, *b),
                ("^", [a]) => ma == *a,
                ("^", [0, b]) => ma == 0 && mi == *b,
                ("^", [a, b]) => ma == *a && mi >= *b,
                ("^", [0, 0, c]) => (ma, mi, pa) == (0, 0, *c),
                ("^", [0, b, c]) => ma == 0 && mi == *b && pa >= *c,
                ("^", [a, b, c]) => ma == *a && (mi, pa) >= (*b, *c),
                _ => panic!("unexpected requirement {req}"),
            })
    }

    #[test]
    fn requirements_resolve_and_normal_deps_are_acyclic() {
        let sample = sample();
        let rank: HashMap<String, usize> =
            crate_names(&derive_key(sample.config.seed), sample.config.crates)
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, i))
                .collect();
        let releases: HashMap<&str, Vec<(u64, u64, u64)>> = sample
            .versions
            .iter()
            .map(|(name, versions)| (name.as_str(), releases(versions)))
            .collect();
        let mut checked = 0;
        for (line, parsed) in &sample.lines {
            for dep in parsed.deps.iter() {
                let real = dep.package.as_deref().unwrap_or(&dep.name);
                assert!(
                    matches(&dep.req, &releases[real]),
                    "{real} {} in {line}",
                    dep.req
                );
                if dep.kind != Some(DepKind::Dev) {
                    assert!(rank[real] < rank[parsed.name.as_ref()], "may cycle: {line}");
                }
                checked += 1;
            }
        }
        assert!(checked > 10_000, "{checked}");
        assert!(!matches("^9.9", &[(1, 0, 0)]), "the matcher can say no");
    }

    #[test]
    fn features_name_only_what_exists() {
        let mut with_features2 = 0;
        for (line, parsed) in &sample().lines {
            let mut all = parsed.features.clone().into_owned();
            if let Some(features2) = &parsed.features2 {
                with_features2 += 1;
                all.extend(features2.clone().into_owned());
            }
            let normal_dep = |name: &str| {
                parsed
                    .deps
                    .iter()
                    .find(|d| d.name == name && d.kind == Some(DepKind::Normal))
            };
            for (feature, values) in &all {
                assert!(
                    parsed.deps.iter().all(|d| d.name != *feature),
                    "feature {feature} shadows a dependency in {line}"
                );
                for value in values {
                    if let Some(name) = value.strip_prefix("dep:") {
                        assert!(
                            normal_dep(name).is_some_and(|d| d.optional),
                            "{value}: {line}"
                        );
                    } else if let Some((name, _)) = value.split_once('/') {
                        let name = name.trim_end_matches('?');
                        assert!(normal_dep(name).is_some(), "{value}: {line}");
                    } else {
                        let optional = normal_dep(value).is_some_and(|d| d.optional);
                        assert!(
                            all.contains_key(value.as_ref()) || optional,
                            "{value}: {line}"
                        );
                    }
                }
            }
        }
        assert!(with_features2 > 0);
    }

    #[test]
    fn shape_is_like_crates_io() {
        let sample = sample();
        let crates = sample.versions.len() as f64;
        let lines = sample.lines.len() as f64;
        let mean_versions = lines / crates;
        assert!((6.0..11.0).contains(&mean_versions), "{mean_versions}");
        let yanked = sample
            .lines
            .iter()
            .filter(|(_, l)| l.yanked == Some(true))
            .count() as f64;
        assert!(
            (0.02..0.04).contains(&(yanked / lines)),
            "{}",
            yanked / lines
        );
        let bytes: usize = sample.lines.iter().map(|(raw, _)| raw.len() + 1).sum();
        let mean_line = bytes as f64 / lines;
        assert!((600.0..1_100.0).contains(&mean_line), "{mean_line}");
        let single = sample.versions.values().filter(|v| v.len() == 1).count() as f64;
        assert!(
            (0.28..0.45).contains(&(single / crates)),
            "{}",
            single / crates
        );
        assert!(
            sample.versions.values().any(|v| v.len() >= 200),
            "none with hundreds"
        );
        let text: String = sample.lines.iter().map(|(raw, _)| raw.as_str()).collect();
        for needle in [
            "\"rust_version\":",
            "\"pubtime\":",
            "\"links\":",
            "\"features2\":",
            "\"package\":",
            "-alpha.",
            "\"target\":\"cfg(",
            "\"kind\":\"dev\"",
            "\"kind\":\"build\"",
            "\"optional\":true",
            "\"yanked\":true",
        ] {
            assert!(text.contains(needle), "no line has {needle}");
        }
    }

    #[test]
    fn write_tree_writes_what_generate_yields() {
        let config = small(150, 2);
        let dir = tempfile::tempdir().unwrap();
        let stats = write_tree(&config, dir.path()).unwrap();
        let mut expected = SynthStats::default();
        for file in generate(&config) {
            let on_disk = fs::read(dir.path().join(&file.path)).unwrap();
            assert_eq!(on_disk, file.contents, "{}", file.path);
            expected.files += 1;
            expected.bytes += file.contents.len() as u64;
            if file.path != CONFIG_JSON {
                expected.crates += 1;
                expected.index_bytes += file.contents.len() as u64;
                let text = String::from_utf8(file.contents).unwrap();
                expected.versions += text.lines().count() as u64;
                expected.yanked += text.matches("\"yanked\":true").count() as u64;
            }
        }
        assert_eq!(stats, expected);
        assert_eq!(stats.files, 151);
        assert_eq!(stats.mean_line_bytes(), stats.index_bytes / stats.versions);
        // A second run into the same directory is refused rather than mixed with the first.
        assert!(matches!(
            write_tree(&config, dir.path()),
            Err(SynthError::OutDirNotEmpty { .. })
        ));
    }

    #[test]
    fn picks_are_reproducible_distinct_and_exist() {
        let config = small(500, 4);
        let picks = pick_crates(&config, 50);
        assert_eq!(picks.len(), 50);
        assert_eq!(picks.iter().collect::<HashSet<_>>().len(), 50);
        assert_eq!(picks, pick_crates(&config, 50));
        assert_eq!(pick_crate(&config, 7).as_ref(), Some(&picks[7]));
        assert_eq!(&pick_crates(&config, 10)[..], &picks[..10]);
        let names: HashSet<String> = crate_names(&derive_key(4), 500).into_iter().collect();
        assert!(picks.iter().all(|p| names.contains(p)));
        assert_eq!(pick_crates(&config, 10_000).len(), 500);
        assert_eq!(pick_crate(&config, 500), None);
        assert_eq!(pick_crate(&small(0, 4), 0), None);
    }

    fn tree(crates: usize) -> (tempfile::TempDir, SynthConfig) {
        let config = small(crates, 9);
        let dir = tempfile::tempdir().unwrap();
        write_tree(&config, dir.path()).unwrap();
        (dir, config)
    }

    #[test]
    fn add_version_appends_a_patch_bump() {
        let (dir, config) = tree(40);
        let name = pick_crate(&config, 0).unwrap();
        let path = dir.path().join(sparse_path(&name).unwrap());
        let before = fs::read(&path).unwrap();
        let versions = crate_versions(dir.path(), &name).unwrap();
        let (ma, mi, pa) = versions
            .iter()
            .map(|v| version_triple(v).unwrap())
            .max()
            .unwrap();

        let added = add_version(dir.path(), &name).unwrap();
        assert_eq!(added, format!("{ma}.{mi}.{}", pa + 1));
        let after = fs::read(&path).unwrap();
        assert_eq!(
            &after[..before.len()],
            &before[..],
            "existing lines untouched"
        );
        let new_line = std::str::from_utf8(&after[before.len()..]).unwrap();
        assert!(new_line.ends_with('\n') && new_line.matches('\n').count() == 1);
        let parsed: IndexLine<'_> = serde_json::from_str(new_line.trim_end()).unwrap();
        assert_eq!(parsed.vers, added);
        assert_eq!(parsed.name, name);
        assert_eq!(parsed.yanked, Some(false));
        assert_eq!(parsed.cksum, derived_cksum(&name, &added));
        assert_eq!(serde_json::to_string(&parsed).unwrap(), new_line.trim_end());
        assert_eq!(
            crate_versions(dir.path(), &name).unwrap().last(),
            Some(&added)
        );
        // The next one bumps past the one just added.
        let again = add_version(dir.path(), &name).unwrap();
        assert_eq!(again, format!("{ma}.{mi}.{}", pa + 2));
        // Other crates are untouched.
        for file in generate(&config).filter(|f| f.path != sparse_path(&name).unwrap()) {
            assert_eq!(
                fs::read(dir.path().join(&file.path)).unwrap(),
                file.contents
            );
        }
    }

    #[test]
    fn yank_flips_one_line_and_unyank_restores() {
        let (dir, config) = tree(40);
        let name = (0..40)
            .map(|k| pick_crate(&config, k).unwrap())
            .find(|n| crate_versions(dir.path(), n).unwrap().len() > 2)
            .unwrap();
        let path = dir.path().join(sparse_path(&name).unwrap());
        let before = fs::read_to_string(&path).unwrap();
        let (index, vers) = before
            .lines()
            .enumerate()
            .find(|(_, line)| line.contains("\"yanked\":false"))
            .map(|(i, line)| {
                let parsed: IndexLine<'_> = serde_json::from_str(line).unwrap();
                (i, parsed.vers.into_owned())
            })
            .unwrap();

        assert!(yank(dir.path(), &name, &vers).unwrap());
        let after = fs::read_to_string(&path).unwrap();
        assert_eq!(before.lines().count(), after.lines().count());
        for (i, (old, new)) in before.lines().zip(after.lines()).enumerate() {
            if i == index {
                assert_eq!(new, old.replacen("\"yanked\":false", "\"yanked\":true", 1));
            } else {
                assert_eq!(new, old);
            }
        }
        assert!(!yank(dir.path(), &name, &vers).unwrap(), "already yanked");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            after,
            "no-op writes nothing"
        );
        assert!(unyank(dir.path(), &name, &vers).unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
        let leftovers = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".synth-tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
        assert!(matches!(
            yank(dir.path(), &name, "999.0.0"),
            Err(SynthError::NoSuchVersion { .. })
        ));
    }

    #[test]
    fn delete_removes_the_file_only() {
        let (dir, config) = tree(40);
        let name = pick_crate(&config, 2).unwrap();
        let path = dir.path().join(sparse_path(&name).unwrap());
        delete_crate(dir.path(), &name).unwrap();
        assert!(!path.exists());
        assert!(path.parent().unwrap().exists());
        assert!(matches!(
            delete_crate(dir.path(), &name),
            Err(SynthError::NoSuchCrate { .. })
        ));
        assert!(matches!(
            add_version(dir.path(), &name),
            Err(SynthError::NoSuchCrate { .. })
        ));
        let other = pick_crate(&config, 3).unwrap();
        assert!(crate_versions(dir.path(), &other).is_ok());
    }

    #[test]
    fn mutations_refuse_bad_names_and_foreign_lines() {
        let (dir, config) = tree(20);
        for bad in ["../config.json", "a/b", ""] {
            assert!(matches!(
                add_version(dir.path(), bad),
                Err(SynthError::InvalidCrateName { .. })
            ));
            assert!(matches!(
                delete_crate(dir.path(), bad),
                Err(SynthError::InvalidCrateName { .. })
            ));
        }
        // A file holding another crate's lines is an error, not a silent edit.
        let name = pick_crate(&config, 0).unwrap();
        let other = pick_crate(&config, 1).unwrap();
        let path = dir.path().join(sparse_path(&name).unwrap());
        fs::copy(dir.path().join(sparse_path(&other).unwrap()), &path).unwrap();
        assert!(matches!(
            add_version(dir.path(), &name),
            Err(SynthError::NameMismatch { .. })
        ));
        fs::write(&path, "not json\n").unwrap();
        assert!(matches!(
            yank(dir.path(), &name, "1.0.0"),
            Err(SynthError::BadIndexLine { line: 1, .. })
        ));
        fs::write(&path, "").unwrap();
        assert!(matches!(
            add_version(dir.path(), &name),
            Err(SynthError::EmptyIndexFile { .. })
        ));
    }

    #[test]
    fn json_strings_escape_like_serde_json() {
        for s in [
            "plain",
            "q\"uote",
            "back\\slash",
            "nl\nx",
            "tab\tcr\r",
            "\u{1}\u{1f}\u{7f}",
            "é✓",
        ] {
            let mut out = Vec::new();
            push_json_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
        for n in [0u64, 7, 10, 1234, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn versions_print_as_semver() {
        let mut out = Vec::new();
        Semver {
            major: 1,
            minor: 20,
            patch: 3,
            pre: Some(("rc", 2)),
            build: Some("1.2.13"),
        }
        .write_to(&mut out);
        assert_eq!(out, b"1.20.3-rc.2+1.2.13");
        assert_eq!(version_triple("0.1.5+1.2.13"), Some((0, 1, 5)));
        assert_eq!(version_triple("1.0.0-alpha.1"), Some((1, 0, 0)));
        assert_eq!(version_triple("1.0"), None);
        assert_eq!(version_triple("1.0.0.0"), None);
    }

    #[test]
    fn pubtime_formats_civil_dates() {
        assert_eq!(format_pubtime(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_pubtime(1_763_456_303), "2025-11-18T08:58:23Z");
        assert_eq!(
            format_pubtime(unix_time(2024, 2, 29) + 3_661),
            "2024-02-29T01:01:01Z"
        );
    }
}
