//! Caps on everything a crate or a source repository controls.

use std::time::Duration;

/// Every size, count and time a `.crate` or a source repository controls, in one place.
///
/// The `.crate` was verified against the signed index before it reaches this crate, so
/// its *identity* is trusted; its *content*, and everything in the source repository, is
/// still attacker-controlled (a repository URL is whatever the crate's author wrote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest unpacked `.crate` (all files together). crates.io caps the compressed
    /// upload at 10 MiB; 256 MiB of unpacked text is past any real crate and bounds a
    /// gzip bomb.
    pub max_unpacked_bytes: u64,
    /// Most files in a `.crate`, or in the package directory of the repository tree.
    /// The largest crates.io crates hold a few thousand files.
    pub max_files: usize,
    /// Largest blob read from the repository; a larger one is compared by size and
    /// object id only. 64 MiB is past any source file cargo would package.
    pub max_blob_bytes: u64,
    /// Most tree entries visited when looking for a package inside a repository whose
    /// commit was inferred (monorepos): bounds the walk of an unknown tree.
    pub max_tree_entries: usize,
    /// Most commits walked to decide whether a commit is reachable from a branch or tag;
    /// past it reachability is reported as unknown. Large histories (the Linux kernel)
    /// are around 1.3 million commits.
    pub max_commits_walked: usize,
    /// Longest clone or fetch: a slow or hostile server is cut off, not waited for.
    pub max_network_time: Duration,
    /// Largest unified diff kept per file, so one huge generated file does not flood
    /// the report; the rest is cut with a note.
    pub max_diff_bytes: usize,
    /// Most tags considered when inferring a commit.
    pub max_tags: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_unpacked_bytes: 256 * 1024 * 1024,
            max_files: 20_000,
            max_blob_bytes: 64 * 1024 * 1024,
            max_tree_entries: 500_000,
            max_commits_walked: 2_000_000,
            max_network_time: Duration::from_secs(300),
            max_diff_bytes: 64 * 1024,
            max_tags: 100_000,
        }
    }
}
