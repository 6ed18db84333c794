//! # registry-plugin (`cargo tuf`)
//!
//! The cargo side of TUF for Cargo registries. Cargo has no verification hook, so this
//! crate stands between cargo and a registry as a local sparse-registry server (the
//! *proxy*): cargo is pointed at it by source replacement, and every `config.json`, index
//! file and `.crate` it hands to cargo has first been checked against TUF metadata
//! (TUF 1.0.x, with TAP 15 succinct hashed bins or the same bins as classic
//! `path_hash_prefixes` roles, through [`tuf_client`]'s updater; the trust rules are
//! [`tuf_core`]'s).
//!
//! What reaches cargo, and what was checked first:
//!
//! * `config.json`: its length and every hash its signed target entry lists (a SHA-256
//!   among them) match (TUF §5.7.3); `dl` rewritten so downloads come back through the
//!   proxy.
//! * an index file (`se/rd/serde`): its length and every listed hash match its signed
//!   entry, and every line names the crate asked for ([`tuf_core::index::parse_index_file`]). A crate with no
//!   signed entry is an authenticated "no such crate": HTTP 404.
//! * a `.crate`: its SHA-256 equals the `cksum` of the verified index line for that version,
//!   and it is no larger than a cap; nothing is sent before the whole file has been checked.
//!
//! A refusal is an HTTP error whose body says what was refused, which check failed and what
//! to do; see [`proxy`] for why the status code is the one cargo prints bodies for.
//!
//! ## Modules
//!
//! | module | what |
//! |---|---|
//! | [`verifier`] | the [`verifier::Verifier`] trait: the proxy's only view of TUF |
//! | [`updater_verifier`] | the verifier: an adapter over `tuf-client`'s `Updater` (refresh interval, offline bound, error kinds) |
//! | [`proxy`] | the verifying sparse-registry server |
//! | [`fetch`] | bounded HTTP downloads from the upstream registry |
//! | [`state`] | what `cargo tuf init` pins under `$CARGO_HOME/tuf/<registry>/`, atomic writes |
//! | [`cmd`] | one module per subcommand |
#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]
#![warn(missing_docs)]

pub mod cmd;
pub mod fetch;
pub mod proxy;
pub mod state;
pub mod updater_verifier;
pub mod verifier;
