//! The plan: what is decided for all crates before any file is made.

use super::content::render_crate;
use super::names::{crate_names, is_sys, sparse_path};
use super::rng::{derive_key, Rng};
use super::versions::{version_history, Semver};
use super::{SynthConfig, SynthFile};

/// Stream ids of the seeded ChaCha8 generator. Names use stream 0; crate `rank` uses
/// `2 * rank + 1` for its version history and `2 * rank + 2` for everything else, so a crate's
/// history can be replayed alone (dependants need its latest versions) and no crate's contents
/// depend on any other crate's draws.
pub(super) const NAMES_STREAM: u64 = 0;
pub(super) const PICK_STREAM: u64 = u64::MAX;
pub(super) const LANE_VERSIONS: u64 = 1;
pub(super) const LANE_CONTENT: u64 = 2;

pub(super) fn crate_stream(rank: usize, lane: u64) -> u64 {
    // Wrapping is harmless: ids stay distinct for any crate count that fits in memory.
    u64::try_from(rank)
        .unwrap_or(u64::MAX)
        .wrapping_mul(2)
        .wrapping_add(lane)
}

/// Names by rank (rank 0 is the most depended-on crate), where each crate's latest release
/// series stands, and the crates in path order.
pub(super) struct Plan {
    pub(super) key: [u8; 32],
    pub(super) names: Vec<String>,
    pub(super) heads: Vec<SeriesHead>,
    by_path: Vec<(String, usize)>,
}

impl Plan {
    pub(super) fn new(config: &SynthConfig) -> Self {
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
pub(super) struct SeriesHead {
    pub(super) major: u64,
    pub(super) minor_lo: u64,
    pub(super) minor_hi: u64,
    pub(super) patch_hi: u64,
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
pub(super) struct RenderedCrate {
    pub(super) file: SynthFile,
    pub(super) versions: u64,
    pub(super) yanked: u64,
}

/// The crate files of a plan, in path order, made one at a time.
pub(super) struct CrateFiles {
    plan: Plan,
    pub(super) next: usize,
}

impl CrateFiles {
    pub(super) fn new(plan: Plan) -> Self {
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
