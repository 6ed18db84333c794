//! # tuf-repo
//!
//! A Cargo registry's TUF repository on storage: the file side of publishing, as a library.
//! The `tuf` command (crate `tuf-cli`) is the command surface over it (arguments, prompts,
//! keys, output); a registry can call the same [`publish::publish`] from its own code.
//! [`tuf_core`] (sans-IO) decides what to sign; this crate owns the storage and the order
//! of writes.
//!
//! | module | what |
//! |---|---|
//! | [`publish`] | publish (first, incremental, full), refresh, prune; the repository layout |
//! | [`remote`] | publish, refresh and prune a repository on object storage, with several publishers at once |
//! | [`published`] | the published state read through a [`published::MetadataReader`], and the signing of a publish: shared by every backend |
//! | [`verify`] | verify a published repository offline from a trusted root, as a client would |
//! | [`feeds`] | signed release feeds: each changed crate's RSS feed and the registry's, signed with the index |
//! | [`hashing`] | walk and hash index files on every core; hash-named target copies |
//! | [`manifest`] | path → length, mtime, SHA-256 of what was signed, so a publish re-hashes only what changed |
//! | [`progress`] | the [`progress::Progress`] callback long work reports to (the caller draws it) |
//! | [`store`] | object storage (S3, GCS, Azure, `file://`) as a synchronous [`store::Store`]: create-only, compare-and-swap, server-side copies, CDN headers |
//! | [`files`] | atomic writes (temp + rename) made durable in ordered batches; reads of files that may be absent |
//! | [`lock`] | the repository lock (one publisher at a time) |
//! | [`error`] | the library's [`Error`] |
//!
//! The layout and publish protocol are described in `docs/repository.md`.
//!
//! # Example
//!
//! A registry with one crate: create the repository, publish the whole index, then
//! publish one changed file as a registry's publish hook would, and verify the result as
//! a client would.
//!
//! ```
//! use std::sync::Arc;
//!
//! use chrono::Utc;
//! use ring::rand::SystemRandom;
//! use tuf_core::crypto::{Ed25519Signer, Signer};
//! use tuf_core::repo::{offline::RepoKeys, Policy};
//! use tuf_core::Limits;
//! use tuf_repo::publish::{publish, Changes, OnlineKeys, PublishOptions, Repository};
//! use tuf_repo::verify::{verify_repository, TargetCheck};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let index = dir.path().join("index");
//! std::fs::create_dir_all(index.join("se/rd"))?;
//! std::fs::write(index.join("config.json"), r#"{"dl":"https://example.invalid/dl"}"#)?;
//! let line = |vers: &str| {
//!     let cksum = "ab".repeat(32);
//!     format!(r#"{{"name":"serde","vers":"{vers}","deps":[],"cksum":"{cksum}","features":{{}},"yanked":false}}"#)
//! };
//! std::fs::write(index.join("se/rd/serde"), line("1.0.0") + "\n")?;
//!
//! // Offline keys sign root and targets once; the online key signs bins, snapshot and
//! // timestamp on every publish. (Real keys live in files or on a hardware token.)
//! let (root, targets, online) = (
//!     Ed25519Signer::generate(&SystemRandom::new())?,
//!     Ed25519Signer::generate(&SystemRandom::new())?,
//!     Arc::new(Ed25519Signer::generate(&SystemRandom::new())?),
//! );
//! let online_signer: [&dyn Signer; 1] = [online.as_ref()];
//! let repo = Repository::new(&index, dir.path().join("repo"));
//! repo.init(
//!     &Policy { bit_length: 4, ..Policy::default() },
//!     &RepoKeys {
//!         root: &[&root],
//!         targets: &[&targets],
//!         snapshot: &online_signer,
//!         timestamp: &online_signer,
//!         bins: &online_signer,
//!     },
//!     Utc::now(),
//! )?;
//! let keys = OnlineKeys::single(online);
//!
//! // The first publish signs every index file.
//! let first = publish(&repo, &keys, &Changes::Scan, &PublishOptions::new(Utc::now()))?;
//! assert_eq!(first.files_hashed, 2);
//!
//! // A new version of serde: the hook names the one file that changed.
//! std::fs::write(index.join("se/rd/serde"), line("1.0.0") + "\n" + &line("1.0.1") + "\n")?;
//! let changed = Changes::Paths(vec!["se/rd/serde".to_owned()]);
//! let next = publish(&repo, &keys, &changed, &PublishOptions::new(Utc::now()))?;
//! // With the release feeds (on for a new repository, docs/feeds.md): serde's feed and
//! // the registry's change too, and with 16 bins the three paths' hashes fall in three
//! // (bins 2, 11 and 5 by their first four bits).
//! assert_eq!((next.files_hashed, next.feeds_written, next.feed_items), (1, 2, 2));
//! assert_eq!(next.bins_signed, 3);
//!
//! // A client's view: from root v1, every role and every copy checks out.
//! let root_v1 = std::fs::read(repo.metadata_dir().join("1.root.json"))?;
//! let report = verify_repository(&repo, &root_v1, Utc::now(), TargetCheck::Copies, &Limits::default())?;
//! assert_eq!(report.targets, 4); // config.json, se/rd/serde and the two feeds
//! # Ok(())
//! # }
//! ```
//!
//! # On object storage
//!
//! The same publish with the published repository (and here the index) in a bucket:
//! [`remote::publish`] is safe with any number of publishers at once (compare-and-swap
//! on `timestamp.json`, create-only versioned files; `docs/repository.md`, "Publishing
//! to object storage"). The offline roles stay in the local directory `repo`.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use chrono::Utc;
//! use tuf_repo::publish::{Changes, OnlineKeys, PublishOptions};
//! use tuf_repo::remote::{self, Index, RemoteRepository};
//! use tuf_repo::store::{Location, Store, StoreConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let online: Arc<dyn tuf_core::crypto::Signer> =
//! #     Arc::new(tuf_core::crypto::Ed25519Signer::generate(&ring::rand::SystemRandom::new())?);
//! // Credentials and region from the environment (AWS_ACCESS_KEY_ID, ...).
//! let open = |given: &str| -> Result<Arc<Store>, tuf_repo::Error> {
//!     match Location::parse(given)? {
//!         Location::Url(url) => Ok(Arc::new(Store::open(&url, &StoreConfig::default())?)),
//!         Location::Local(_) => Err(tuf_repo::Error::BadLocation {
//!             given: given.to_owned(),
//!             reason: "not an object-store URL".to_owned(),
//!         }),
//!     }
//! };
//! let repository = RemoteRepository::new(
//!     "repo",
//!     open("s3://registry/tuf")?,
//!     Index::Store(open("s3://registry/index")?),
//! );
//! // The registry's publish hook: these keys of the index changed.
//! let changed = Changes::Paths(vec!["se/rd/serde".to_owned()]);
//! let report = remote::publish(
//!     &repository,
//!     &OnlineKeys::single(online),
//!     &changed,
//!     &PublishOptions::new(Utc::now()),
//! )?;
//! println!("timestamp v{} after {} attempt(s)", report.timestamp_version, report.attempts);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
// A library does not print: results are returned, progress goes to a callback.
#![deny(clippy::print_stdout)]
#![warn(missing_docs)]

pub mod error;
pub mod feeds;
pub mod files;
pub mod hashing;
pub mod lock;
pub mod manifest;
pub mod progress;
pub mod publish;
pub mod published;
pub mod remote;
pub mod store;
pub mod verify;

pub use error::Error;
