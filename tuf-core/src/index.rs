//! Cargo index model (API skeleton; full checks and tests follow).

use serde::{Deserialize, Serialize};

/// Errors of the index model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The crate name is empty.
    #[error("crate name is empty; expected 1 to {max} characters")]
    CrateNameEmpty {
        /// The maximum length.
        max: usize,
    },
    /// Placeholder for the other rules.
    #[error("index line is not JSON: {reason}")]
    LineNotJson {
        /// Why.
        reason: String,
    },
}

impl IndexError {
    /// The stable, kebab-case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            IndexError::CrateNameEmpty { .. } => "crate-name-empty",
            IndexError::LineNotJson { .. } => "line-not-json",
        }
    }
}

/// A crate name checked against crates.io's rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CrateName(String);

impl CrateName {
    /// Checks `s` against crates.io's crate name rules.
    pub fn parse(s: &str) -> Result<Self, IndexError> {
        if s.is_empty() {
            return Err(IndexError::CrateNameEmpty { max: 64 });
        }
        Ok(CrateName(s.to_owned()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sparse index path relative to the index root, lowercase.
    pub fn sparse_path(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// Parses a sparse index path back into a crate name.
    pub fn from_sparse_path(path: &str) -> Result<Self, IndexError> {
        Self::parse(path)
    }
}

/// One line of an index file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexLine {
    /// Crate name as written in the line.
    pub name: String,
    /// Version string.
    pub vers: String,
    /// SHA-256 of the `.crate` file.
    pub cksum: Cksum,
    /// Whether the version is yanked.
    #[serde(default)]
    pub yanked: bool,
    /// Index format version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<u32>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The SHA-256 of a `.crate` file, written as 64 lowercase hex digits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cksum([u8; 32]);

impl Cksum {
    /// Parses 64 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, IndexError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|e| IndexError::LineNotJson {
            reason: e.to_string(),
        })?;
        Ok(Cksum(out))
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl TryFrom<String> for Cksum {
    type Error = IndexError;
    fn try_from(s: String) -> Result<Self, IndexError> {
        Cksum::parse(&s)
    }
}

impl From<Cksum> for String {
    fn from(c: Cksum) -> String {
        c.to_hex()
    }
}

/// Caps on an index file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexLimits {
    /// Maximum bytes of one index file.
    pub max_file_bytes: u64,
    /// Maximum number of lines in one index file.
    pub max_lines: usize,
    /// Maximum bytes of one line.
    pub max_line_bytes: usize,
}

impl Default for IndexLimits {
    fn default() -> Self {
        IndexLimits {
            max_file_bytes: 64 << 20,
            max_lines: 100_000,
            max_line_bytes: 1 << 20,
        }
    }
}

/// Parses a whole index file for `expected`.
pub fn parse_index_file(
    expected: &CrateName,
    bytes: &[u8],
    limits: &IndexLimits,
) -> Result<Vec<IndexLine>, IndexError> {
    let _ = (expected, limits);
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_index_line)
        .collect()
}

/// Parses one index line.
pub fn parse_index_line(line: &str) -> Result<IndexLine, IndexError> {
    serde_json::from_str(line).map_err(|e| IndexError::LineNotJson {
        reason: e.to_string(),
    })
}
