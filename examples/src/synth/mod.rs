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
//!   heavy-tailed: ~39% of crates have one version, ~0.7% have 100 or more, the largest about
//!   1,300). crates.io had 26,612
//!   crates and 152,022 versions in June 2019 (5.7 per crate, edebill/modulecounts#42), the
//!   ratio has grown since, and some crates have hundreds of versions (8-p.info "Visualizing
//!   crates.io"; serde has ~300).
//! - **Line sizes**: a line with no dependencies is ~150 bytes; each dependency adds ~120; real
//!   files sampled from the index average 230 B (`moan`) to 3 KB (`reqwest`) per line, and the
//!   whole index was 176 MiB as a tarball for ~170 k versions in Oct 2019 (RFC 2789), i.e.
//!   roughly 0.9 KB per line. The generator's lines average ~890 bytes (median ~690, 90th
//!   percentile ~1.7 KB, largest ~15 KB), with ~5 dependencies per line.
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
//!
//! At the default size the tree is 200,001 files and ~1.44 GB; `synth-index` writes it with
//! 4–6 s of user and 4–9 s of system CPU time (tmpfs / ext4) on the 2-core reference machine,
//! 9–16 s wall while shared, holding ~45 MB. Creating 200,000 files is most of the cost.
//!
//! # Modules
//!
//! - `plan`: what is fixed for all crates up front (names, where each crate's releases stand,
//!   path order) and the iterator that renders crate files one at a time.
//! - `names`: crate names and their sparse paths. `versions`: version histories.
//! - `content`: dependencies, features, MSRV, publish times; rendering a crate's file.
//! - `line`: crates.io's line format and a writer equal to `serde_json`'s.
//! - `rng`: seeded ChaCha8 streams and integer-only draws.
//! - `mutate`: publish / yank / un-yank / delete on a tree on disk.

use std::fs;
use std::path::{Path, PathBuf};

mod content;
mod line;
mod mutate;
mod names;
mod plan;
mod rng;
#[cfg(test)]
mod tests;
mod versions;

pub use mutate::{add_version, crate_versions, delete_crate, unyank, yank};

use line::{config_json, CONFIG_JSON};
use names::crate_names;
use plan::{CrateFiles, Plan, RenderedCrate, PICK_STREAM};
use rng::{derive_key, Rng};

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

pub(super) fn io_error(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> SynthError {
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
