//! `policy.json` (how the publish engine lays out and re-signs the repository) and
//! `keyholders.json` (key id → holder name): operator-edited files of the repository
//! directory (see the binary's `layout` module and `docs/operator.md`).

use std::collections::BTreeMap;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};
use tuf_core::metadata::KeyId;
use tuf_core::repo::BinStyle;

use crate::duration::parse_duration;

/// Key id → key-holder name (from the public key file's name), for messages only.
pub type Keyholders = BTreeMap<KeyId, String>;

/// Parse `keyholders.json`.
pub fn parse_keyholders(bytes: &[u8]) -> anyhow::Result<Keyholders> {
    Ok(serde_json::from_slice(bytes)?)
}

/// `policy.json`: how the publish engine lays out and re-signs the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Format of this file; 1.
    pub format: u32,
    /// Write `N.role.json` files and keep every version for a grace period (TUF §7).
    pub consistent_snapshot: bool,
    /// Hashed bins (TAP 15 succinct roles).
    pub bins: BinsPolicy,
    /// How long after signing each role expires (`365d`, `12h`, ...).
    pub expiry: ExpiryPolicy,
}

/// The hashed-bin layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinsPolicy {
    /// `2^bit_length` bins; 12 (4096 bins) by default.
    pub bit_length: u8,
    /// Bin names are `{name_prefix}-{hex}`; `crates-bin` by default.
    pub name_prefix: String,
    /// How targets delegates to the bins: `succinct` (TAP 15, the default) or
    /// `hash-prefixes` (classic roles with `path_hash_prefixes`, for clients without
    /// TAP 15). Absent in files written before it existed: `succinct`.
    #[serde(default)]
    pub style: BinStyle,
}

/// Expiry periods per role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryPolicy {
    /// Root (offline): 365d.
    pub root: String,
    /// Top-level targets (offline): 365d.
    pub targets: String,
    /// Each bin (online): 7d.
    pub bins: String,
    /// Snapshot (online): 7d.
    pub snapshot: String,
    /// Timestamp (online): 1d.
    pub timestamp: String,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            format: 1,
            consistent_snapshot: true,
            bins: BinsPolicy {
                bit_length: 12,
                name_prefix: "crates-bin".to_owned(),
                style: BinStyle::Succinct,
            },
            expiry: ExpiryPolicy {
                root: "365d".to_owned(),
                targets: "365d".to_owned(),
                bins: "7d".to_owned(),
                snapshot: "7d".to_owned(),
                timestamp: "1d".to_owned(),
            },
        }
    }
}

impl Policy {
    /// Parse `policy.json` and [`check`](Self::check) it.
    pub fn parse(bytes: &[u8]) -> anyhow::Result<Self> {
        let policy: Self = serde_json::from_slice(bytes).context("not a valid policy")?;
        policy.check()?;
        Ok(policy)
    }

    /// Check every field can be used.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.format != 1 {
            bail!(
                "policy format {} is not supported (this tuf reads format 1)",
                self.format
            );
        }
        let max_bits = tuf_core::Limits::default().max_succinct_bit_length;
        if !(1..=max_bits).contains(&self.bins.bit_length) {
            bail!(
                "bins.bit_length is {}; it must be 1..={max_bits}",
                self.bins.bit_length
            );
        }
        if self.bins.name_prefix.is_empty() {
            bail!("bins.name_prefix is empty");
        }
        let max_roles = tuf_core::Limits::default().max_delegated_roles;
        if self.bins.style == BinStyle::HashPrefixes && (1usize << self.bins.bit_length) > max_roles
        {
            bail!(
                "bins.bit_length {} with style hash-prefixes lists {} delegated roles; \
                 clients accept at most {max_roles} (use a smaller bit_length or style succinct)",
                self.bins.bit_length,
                1u64 << self.bins.bit_length
            );
        }
        for (role, text) in [
            ("root", &self.expiry.root),
            ("targets", &self.expiry.targets),
            ("bins", &self.expiry.bins),
            ("snapshot", &self.expiry.snapshot),
            ("timestamp", &self.expiry.timestamp),
        ] {
            parse_duration(text).with_context(|| format!("expiry.{role}"))?;
        }
        Ok(())
    }

    /// The policy as written to disk.
    pub fn to_file_bytes(&self) -> anyhow::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
