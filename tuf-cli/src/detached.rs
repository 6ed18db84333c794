//! Detached signature files (`tuf sign --detached`): a key holder's signature over a
//! staged file, made away from the repository and merged by `tuf sign --merge`.

use serde::{Deserialize, Serialize};
use tuf_core::metadata::Signature;

/// `_type` of a detached signature file.
pub const DETACHED_TYPE: &str = "tuf-detached-signature";

/// A signature made away from the repository, with what it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetachedSignature {
    /// Always [`DETACHED_TYPE`].
    #[serde(rename = "_type")]
    pub type_tag: String,
    /// Role of the signed file.
    pub role: String,
    /// Version of the signed file.
    pub version: u64,
    /// Hex SHA-256 of the canonical `signed` bytes the signature covers.
    pub signed_sha256: String,
    /// The signature, as it goes into `signatures`.
    pub signature: Signature,
}

impl DetachedSignature {
    /// Parse a detached signature file (its `_type` and what it covers are checked by
    /// the caller against the staged file).
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The file as `tuf sign --detached` writes it: pretty JSON and a newline.
    pub fn to_file_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
