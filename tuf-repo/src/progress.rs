//! Progress of long work (hashing the index, signing and writing bins, verifying), told
//! to whoever drives the library through [`Progress`]. The library draws nothing: the
//! `tuf` binary turns these calls into progress bars on a terminal, tests and cron get
//! [`Silent`].
//!
//! Calls are batched by the library so that reporting costs nothing measurable: in the
//! parallel loops one [`Progress::advance`] per chunk of files or per bin, never one per
//! file through a lock.

use std::fmt;

/// A stage of long work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Looking at (stat, and hash when changed) the index files of a scan.
    Scanning,
    /// Reading and verifying the published bins (refresh).
    ReadingBins,
    /// Signing bins, snapshot and timestamp.
    Signing,
    /// Writing metadata files and making them durable.
    Writing,
    /// Verifying bins and the targets they list, counted in index files (`--index`).
    Verifying,
    /// Verifying bins and the targets they list, counted in bins.
    VerifyingBins,
}

impl Stage {
    /// What the stage does, for a progress line (`hashing index files`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Scanning => "scanning index files",
            Self::ReadingBins => "reading bins",
            Self::Signing => "signing bins",
            Self::Writing => "writing metadata",
            Self::Verifying | Self::VerifyingBins => "verifying",
        }
    }

    /// What one unit of [`Progress::advance`] counts (`files`, `bins`).
    pub fn unit(self) -> &'static str {
        match self {
            Self::Scanning | Self::Writing | Self::Verifying => "files",
            Self::ReadingBins | Self::Signing | Self::VerifyingBins => "bins",
        }
    }
}

/// Receives progress. Implementations must be cheap and must not fail: progress is
/// advice, never part of the result.
pub trait Progress: fmt::Debug + Send + Sync {
    /// A stage begins. `total` is the number of units it will count, `None` when it is
    /// not known in advance (a full publish signs every bin inside `tuf-core`).
    fn start(&self, stage: Stage, total: Option<u64>);
    /// `done` more units of the current stage are finished.
    fn advance(&self, done: u64);
    /// The current stage is over (successfully or not).
    fn finish(&self);
}

/// Progress that goes nowhere (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _stage: Stage, _total: Option<u64>) {}
    fn advance(&self, _done: u64) {}
    fn finish(&self) {}
}

/// Ends the stage when dropped, so an early return through `?` still finishes it.
#[derive(Debug)]
pub(crate) struct StageGuard<'a>(&'a dyn Progress);

impl<'a> StageGuard<'a> {
    /// Start `stage` on `progress`.
    pub(crate) fn start(progress: &'a dyn Progress, stage: Stage, total: Option<u64>) -> Self {
        progress.start(stage, total);
        Self(progress)
    }

    /// Advance the stage.
    pub(crate) fn advance(&self, done: usize) {
        self.0.advance(u64::try_from(done).unwrap_or(u64::MAX));
    }
}

impl Drop for StageGuard<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// How many items a parallel loop handles between two [`Progress::advance`] calls: large
/// enough that reporting is free, small enough that every core gets several chunks.
pub(crate) fn chunk_len(items: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    (items / threads.saturating_mul(8)).clamp(1, 256)
}

/// A count as progress units.
pub(crate) fn units(count: usize) -> Option<u64> {
    u64::try_from(count).ok()
}
