//! # tuf-cli
//!
//! The file side of the `tuf` command for a Cargo registry's TUF repository: it owns the
//! disk, the clock and the keys; [`tuf_core`] (sans-IO) decides what to sign.
//!
//! | module | what |
//! |---|---|
//! | [`publish`] | publish (first, incremental, full), refresh, prune; the repository layout |
//! | [`verify`] | verify a published repository offline from a trusted root, as a client would |
//! | [`hashing`] | walk and hash index files on every core; hash-named target copies |
//! | [`manifest`] | path → length, mtime, SHA-256 of what was signed, so a publish re-hashes only what changed |
//! | [`fsio`] | atomic writes (temp + rename) made durable in ordered batches; the repository lock |
//! | [`repo_cmd`] | hidden `tuf x-repo` commands over these modules, for tests and benchmarks |
//! | [`keyfile`] | private key files (PKCS#8 DER, 0600) for tests, benchmarks and a single operator |
//! | [`error`] | the library's [`Error`] |
//!
//! The layout and publish protocol are described in `docs/repository.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod fsio;
pub mod hashing;
pub mod keyfile;
pub mod manifest;
pub mod publish;
pub mod repo_cmd;
pub mod verify;

pub use error::Error;
