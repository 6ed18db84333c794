//! # tuf-cli
//!
//! The `tuf` command's library side: keys (files and PKCS#11 tokens), policy, durations,
//! detached signatures and exit codes. The repository on storage (publish, refresh, prune,
//! verify) is the [`tuf_repo`] crate; this crate is the command surface over it.
//!
//! | module | what |
//! |---|---|
//! | [`policy`] | `policy.json` and `keyholders.json` of a repository directory |
//! | [`detached`] | detached signature files (`tuf sign --detached`) |
//! | [`duration`] | durations (`7d`, `1d12h`) and expiry times |
//! | [`keys`] | private key files (PKCS#8 PEM, optionally encrypted, 0600), public key JSON, [`keys::KeySource`] |
//! | [`pkcs11`] | keys on hardware tokens through PKCS#11, named by RFC 7512 `pkcs11:` URIs |
//! | [`exit`] | the documented exit codes of `tuf`, and an error that carries one |
//! | [`files`] | the operator's files: atomic single-file writes with a mode (keys, staged metadata), reads and removals that name the path |
#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]
#![warn(missing_docs)]

pub mod detached;
pub mod duration;
pub mod exit;
pub mod files;
pub mod keys;
pub mod pkcs11;
pub mod policy;
