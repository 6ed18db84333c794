//! tuf-core (work in progress; the full crate documentation lands with the foundation).
#![forbid(unsafe_code)]

pub mod index;
