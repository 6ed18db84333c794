//! # tuf-client
//!
//! The I/O side of a TUF 1.0 client (TUF §5, written against 1.0.31) for Cargo
//! registries: everything [`tuf_core`] leaves out on purpose.
//!
//! | module | what |
//! |---|---|
//! | [`fetch`] | the [`Fetcher`] trait; [`HttpFetcher`] (reqwest, timeouts, a byte cap) and [`FileFetcher`] |
//! | [`store`] | [`MetadataStore`]: verified bytes on disk, atomic writes, safe file names for any role |
//! | [`updater`] | [`Updater`]: refresh, target lookup through delegations, target download and cache |
//! | [`error`] | [`ClientError`], with a stable [`ClientError::code`] |
//!
//! Verification is never done here: every rule lives in [`tuf_core::trusted`] and
//! [`tuf_core::delegation`]. The binary `tuf-conformance-client` drives an [`Updater`]
//! from the command line of the tuf-conformance suite. See `docs/client.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod fetch;
pub mod store;
pub mod updater;

pub use error::ClientError;
pub use fetch::{FetchError, Fetcher, FileFetcher, HttpFetcher};
pub use store::MetadataStore;
pub use updater::{TargetInfo, TimestampInfo, Updater, UpdaterConfig};
