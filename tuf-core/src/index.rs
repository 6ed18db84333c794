//! Cargo index model (being written on another branch; this stub keeps the crate building).

/// Errors of the index model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// Placeholder.
    #[error("index error")]
    Placeholder,
}

impl IndexError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        "index"
    }
}
