//! Cargo index model (being written).
