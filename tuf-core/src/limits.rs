//! Caps on every size and count an attacker controls.
//!
//! TUF §5 asks clients to bound downloads ("endless data" attack, §1.5.2); a cap on each
//! count the verifier loops over keeps a hostile file from turning into unbounded work.
//! Each default carries a one-line reason. Binaries may raise them from configuration.

/// Every cap in one place. `Limits::default()` is what clients and tools use unless told
/// otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Max bytes of a root file. Root lists keys for the top-level roles only: 512 KiB holds
    /// hundreds of RSA-4096 keys.
    pub max_root_bytes: u64,
    /// Max bytes of `timestamp.json` when the snapshot names no length for it (TUF §5.4:
    /// "some upper limit"): it holds one meta entry, so 16 KiB is generous.
    pub max_timestamp_bytes: u64,
    /// Max bytes of a snapshot when the timestamp names no length: 4096 bins plus targets at
    /// ~45 bytes an entry is ~185 KB; 32 MiB leaves room for 500k delegated roles.
    pub max_snapshot_bytes: u64,
    /// Max bytes of a targets or delegated targets file when the snapshot names no length:
    /// one bin of a 200k-crate index at 4096 bins is ~10 KB; 64 MiB covers an unbinned
    /// registry of that size.
    pub max_targets_bytes: u64,
    /// Max entries in `signatures`: a root may be signed by a large quorum, never by more
    /// than a few dozen keys in practice.
    pub max_signatures: usize,
    /// Max keys in a root or a delegation's `keys`: 1024 is far above any real quorum.
    pub max_keys: usize,
    /// Max explicit delegated roles in one targets file (succinct bins are counted by
    /// `max_succinct_bins`): 10k keeps the per-file work bounded.
    pub max_delegated_roles: usize,
    /// Max `bit_length` of TAP 15 succinct roles: 2^16 bins is 16x our default and keeps the
    /// bin list a client may build bounded.
    pub max_succinct_bit_length: u8,
    /// Max roles visited in one target lookup (TUF §5.6.7.1 suggests 32).
    pub max_delegations_visited: usize,
    /// Max root versions followed in one update (TUF §5.3: a fixed number of rotations so a
    /// rogue mirror cannot make a client walk forever); python-tuf uses 256.
    pub max_root_rotations: u32,
    /// Max JSON nesting depth: TUF metadata nests under 10 levels; custom fields get room.
    pub max_json_depth: usize,
    /// Max bytes of a downloaded target (an index file): crates.io's largest index files
    /// are a few MB; 50 MiB is cargo's own cap on a `.crate` body.
    pub max_target_bytes: u64,
    /// Caps on a Cargo index file's bytes, lines and line length (see
    /// [`IndexLimits`](crate::index::IndexLimits) for each default's reason).
    pub index: crate::index::IndexLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_root_bytes: 512 * 1024,
            max_timestamp_bytes: 16 * 1024,
            max_snapshot_bytes: 32 * 1024 * 1024,
            max_targets_bytes: 64 * 1024 * 1024,
            max_signatures: 64,
            max_keys: 1024,
            max_delegated_roles: 10_000,
            max_succinct_bit_length: 16,
            max_delegations_visited: 32,
            max_root_rotations: 256,
            max_json_depth: 64,
            max_target_bytes: 50 * 1024 * 1024,
            index: crate::index::IndexLimits::default(),
        }
    }
}
