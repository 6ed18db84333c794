//! The Cargo index model: crate names, their sparse index paths, and index files.
//!
//! A Cargo registry's sparse index is one file per crate, named by the crate's
//! sparse path (`1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`), holding one JSON object
//! per published version. This module turns those untrusted bytes into checked
//! types; it does no I/O.
//!
//! - [`CrateName`] — a name that passes crates.io's rules, and its sparse path
//!   ([`CrateName::sparse_path`], [`CrateName::from_sparse_path`]).
//! - [`IndexLine`] — one version's line: `name`, `vers`, `cksum`, `yanked`, `v`
//!   typed; every other field kept as received so a line round-trips.
//! - [`parse_index_file`] — a whole file for one expected crate, under
//!   [`IndexLimits`], with every line required to name that crate;
//!   [`check_index_file`] — the same checks, with the same errors, keeping
//!   nothing (what a publisher runs before it signs a file).
//! - [`RegistryConfig`] — the registry's `config.json`.
//! - [`check_index_target`] — would a verifier accept these bytes at this path
//!   of the index (`config.json` or a crate's sparse path)? The one check the
//!   publisher makes before signing a file; the verifier makes the same through
//!   [`parse_index_file`] and [`RegistryConfig::parse`].
//!
//! # Rules and where they come from
//!
//! - **Crate names** follow crates.io's `Crate::validate_crate_name`
//!   (`crates/crates_io_database/src/models/krate.rs`): 1 to 64 characters, the
//!   first an ASCII letter, the rest ASCII letters, digits, `-` or `_`. The checks
//!   run in crates.io's order (length, empty, first character, the rest). The name
//!   keeps its case. Cargo itself allows any Unicode alphanumeric name for other
//!   registries (cargo book, "Registry Index", *Index files*); this model is
//!   deliberately narrower. crates.io's reserved-name list is a database table,
//!   not a syntax rule, and is not applied here.
//! - **Sparse paths** follow the cargo book, "Registry Index", *Index files*: the
//!   lowercased name under `1/`, `2/`, `3/{first char}/` or
//!   `{first two}/{next two}/`. [`CrateName::from_sparse_path`] accepts exactly the
//!   paths [`CrateName::sparse_path`] produces.
//! - **Index lines** follow cargo's `IndexPackage`
//!   (`crates/cargo-util-schemas/src/index.rs`): `vers` is parsed with the `semver`
//!   crate, as cargo does, so a line this module accepts is a version cargo can
//!   read; `yanked` absent means `false`; `v` absent means schema 1.
//! - **Line splitting** follows cargo's `Summaries::parse`
//!   (`src/cargo/sources/registry/index/mod.rs`): lines end at `\n`; a final `\n`
//!   ends the last line and starts no new one.
//!
//! # Decisions (where this model is stricter than cargo, and why)
//!
//! Cargo *skips* an index line it cannot parse. A verifier must not: a line we
//! skipped but some cargo version read would never have been checked. So every
//! rule here rejects the whole file instead.
//!
//! - A line whose `name` is not the expected crate (ASCII case-insensitively,
//!   because cargo looks crates up case-insensitively) is rejected. `-` and `_`
//!   are *not* interchangeable here: crates.io treats them as one name for
//!   collisions, but they give different sparse paths, so a file can only
//!   legitimately hold its own spelling.
//! - `cksum` must be exactly 64 lowercase hex digits. Cargo compares it as a
//!   string with the lowercase hex SHA-256 of the download, so anything else could
//!   never match anyway.
//! - A JSON key repeated in a line, at any depth, is rejected: parsers differ on
//!   which copy wins, and that difference is exactly where a forged field hides.
//! - Two lines with the same version (build metadata included, as in cargo's
//!   version map) are rejected: cargo keeps the last one, a checker might look at
//!   the first.
//! - `yanked` and `v` must be a boolean and an unsigned 32-bit integer when
//!   present; `null` is refused (cargo reads it as absent; crates.io never writes
//!   it), so a parsed line always serializes back to the same JSON.
//! - Lines of JSON whitespace only (space, tab, `\r`) are skipped, like cargo
//!   (which fails to parse and skips them). CRLF line ends are accepted: the `\r`
//!   is JSON whitespace, and cargo reads such lines the same way.
//! - A line with an unknown schema version `v` (cargo 1.51+ ignores `v` above the
//!   highest it knows: 2, or 3 with `-Zbindeps`) is kept, and its `v` exposed:
//!   it still must name the right crate and carry a well-formed `cksum`, since
//!   another cargo version might read it.
//! - An empty file parses to no lines (a crate with no versions).
//! - Limits ([`IndexLimits`]) are checked on the raw bytes before any UTF-8 or
//!   JSON work.
//!
//! Hashes of index files are always taken over the bytes as received; nothing
//! here re-serializes a line to check it.

mod error;
mod file;
mod line;
mod name;
mod target;

pub use error::IndexError;
pub use file::{check_index_file, parse_index_file, IndexLimits};
pub use line::{check_index_line, parse_index_line, Cksum, IndexLine};
pub use name::{CrateName, MAX_CRATE_NAME_LEN};
pub use target::{check_index_target, RegistryConfig, CONFIG_PATH};
