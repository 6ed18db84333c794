//! # tuf-provenance
//!
//! Check that a `.crate` is what its source repository holds. TUF (through the rest of
//! this workspace) proves cargo got the bytes the registry published; this crate asks
//! the next question: are those bytes the files of the commit the crate names, in the
//! repository it names? A stolen publish token, or a release packaged from a local tree
//! nobody reviewed, shows up here as a mismatch or an unreachable commit.
//!
//! Input is a `.crate` the caller has already verified against the signed index (the
//! `cargo tuf provenance` command takes it from cargo's cache only after its SHA-256
//! matched the verified `cksum`) and a source repository. Everything is read in memory
//! with caps ([`Limits`]); the only I/O is opening, cloning and fetching the repository
//! through `gix` (no git CLI), in [`source`].
//!
//! The check, in order ([`check_archive`]):
//! 1. **Which commit**: `.cargo_vcs_info.json` (`git.sha1`, `path_in_vcs`, `dirty`),
//!    else a tag naming the version ([`check::tag_candidates`]), reported as inferred.
//! 2. **Reachable?** A commit no branch or tag leads to is reported.
//! 3. **Compare** every file with the tree at `path_in_vcs`, knowing what
//!    `cargo package` changes ([`compare`]): `Cargo.toml.orig` against the repository's
//!    `Cargo.toml`, and the normalised `Cargo.toml` against `Cargo.toml.orig`
//!    ([`consistency`]); `Cargo.lock` and `.cargo_vcs_info.json` generated; `readme` and
//!    `license-file` from outside the package directory; `include`/`exclude`.
//! 4. **What it builds**, from the `.crate` alone ([`targets`]).
//!
//! ## Modules
//!
//! | module | what |
//! |---|---|
//! | [`archive`] | the `.crate` unpacked in memory, with caps |
//! | [`manifest`] | the fields of a `Cargo.toml` that matter here |
//! | [`targets`] | library and binaries, by cargo's discovery rules |
//! | [`source`] | the repository through gix: open, clone/fetch into a cache, trees, tags, reachability |
//! | [`check`] | commit choice and the verdict |
//! | [`compare`] | file by file, with the innocent causes |
//! | [`consistency`] | normalised manifest against `Cargo.toml.orig` |
//! | [`report`] | the verdict, one line, diffs, JSON |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod archive;
pub mod check;
pub mod compare;
pub mod consistency;
pub mod error;
pub mod limits;
pub mod manifest;
pub mod report;
pub mod source;
pub mod targets;

pub use archive::CrateArchive;
pub use check::{check_archive, check_crate, VcsInfo};
pub use error::{ArchiveError, Error, GitError, VcsInfoError};
pub use limits::Limits;
pub use report::{
    Commit, CommitSource, Difference, DifferenceKind, Exclusion, FileFacts, InnocentCause,
    NoRepository, Note, Problem, Report, Status,
};
pub use source::{Reachability, SourceRepository};
pub use targets::{Binary, BuildTargets, Library};
