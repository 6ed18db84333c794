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
//! | [`progress`] | the [`progress::Progress`] callback long work reports to (the binary draws it) |
//! | [`fsio`] | atomic writes (temp + rename) made durable in ordered batches; the repository lock |
//! | [`repo_cmd`] | hidden `tuf x-repo` commands over these modules, for tests and benchmarks |
//! | [`policy`] | `policy.json` and `keyholders.json` of a repository directory |
//! | [`detached`] | detached signature files (`tuf sign --detached`) |
//! | [`duration`] | durations (`7d`, `1d12h`) and expiry times |
//! | [`keys`] | private key files (PKCS#8 PEM, optionally encrypted, 0600), public key JSON, [`keys::KeySource`] |
//! | [`pkcs11`] | keys on hardware tokens through PKCS#11, named by RFC 7512 `pkcs11:` URIs |
//! | [`exit`] | the documented exit codes of `tuf`, and an error that carries one |
//! | [`fsutil`] | atomic single-file writes with a mode (keys, staged metadata) |
//! | [`error`] | the library's [`Error`] |
//!
//! The layout and publish protocol are described in `docs/repository.md`.
#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]
#![warn(missing_docs)]

pub mod detached;
pub mod duration;
pub mod error;
pub mod exit;
pub mod fsio;
pub mod fsutil;
pub mod hashing;
pub mod keys;
pub mod manifest;
pub mod pkcs11;
pub mod policy;
pub mod progress;
pub mod publish;
pub mod repo_cmd;
pub mod verify;

pub use error::Error;
