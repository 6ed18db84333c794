//! # tuf-core
//!
//! A sans-IO implementation of [The Update Framework] (TUF) specification **1.0.x**
//! (written against 1.0.31) and TAP 15 (succinct hashed bins), shaped for Cargo package
//! registries: the targets are sparse index files, and each `.crate` is covered through the
//! `cksum` of its verified index line.
//!
//! Sans-IO: everything takes bytes in and gives bytes out; time comes in as a `now`
//! parameter. There is no filesystem, network, clock or environment access in this crate;
//! the `tuf` and `cargo-tuf` binaries own those.
//!
//! ## Modules
//!
//! | module | what |
//! |---|---|
//! | [`cjson`] | strict JSON parsing and OLPC canonical JSON output |
//! | [`crypto`] | public keys, schemes (ed25519, ECDSA P-256, RSA-PSS), key ids, [`crypto::Signer`] |
//! | [`hash`] | SHA-256 / SHA-512 |
//! | [`metadata`] | wire types of root, timestamp, snapshot, targets, delegations, and newtypes |
//! | [`verify`] | threshold verification; the only maker of [`verify::Verified`] |
//! | [`trusted`] | the client state machine of TUF §5: one method per update step |
//! | [`delegation`] | target lookup through delegations (TUF §5.6.7, TAP 15 bins) |
//! | [`index`] | the Cargo index model: crate names, sparse paths, index lines |
//! | [`repo`] | the repository editor: hashed bins, full and incremental publish, refresh |
//! | [`limits`] | caps on every size and count an attacker controls |
//! | [`feed`] | signed release feeds: index changes as RSS 2.0 items, their paths and rule |
//! | [`error`] | the crate's [`Error`] |
//!
//! ## Deviations and choices
//!
//! * Canonical JSON follows the reference implementation (securesystemslib) where the
//!   `olpc-cjson` crate differs: strings are not Unicode-normalised and keys sort by code
//!   point (see [`cjson`]).
//! * A key id declared in metadata is the name the metadata uses for the key, even when it
//!   is not the SHA-256 of the key object; this crate only ever emits ids it computed
//!   (see [`crypto`]).
//! * Signed metadata with a float or a repeated object key is refused.
//!
//! ## Example: verify a signed root
//!
//! ```
//! use tuf_core::crypto::{Ed25519Signer, Signer};
//! use tuf_core::metadata::{sign_role, Expires, KeyId, RoleKeys, RoleType, Root, SignedMetadata, Threshold, Version};
//! use tuf_core::{verify, Limits};
//! use std::collections::BTreeMap;
//!
//! # fn main() -> Result<(), tuf_core::Error> {
//! let key = Ed25519Signer::from_seed(&[42; 32])?;
//! let keys = BTreeMap::from([(key.key_id().clone(), key.public_key().clone())]);
//! let one = Threshold::new(1)?;
//! let roles = ["root", "timestamp", "snapshot", "targets"]
//!     .map(|r| (r.to_owned(), RoleKeys::new(vec![key.key_id().clone()], one)))
//!     .into_iter()
//!     .collect();
//! let expires = Expires::parse("2030-01-01T00:00:00Z")?;
//! let root = Root::new(Version::new(1)?, expires, keys, roles, true);
//! let bytes = sign_role(&root, &[&key])?;
//!
//! // A client: parse the bytes, then verify them with the root's own keys.
//! let limits = Limits::default();
//! let received = SignedMetadata::parse(&bytes, RoleType::Root, &limits)?;
//! let verified = verify::verify_root_self_signed(&received, &limits)?;
//! assert_eq!(verified.version.get(), 1);
//!
//! // One changed byte in `signed` and the threshold is no longer met.
//! let tampered = String::from_utf8(bytes.clone()).unwrap().replace("2030", "2031");
//! let received = SignedMetadata::parse(tampered.as_bytes(), RoleType::Root, &limits)?;
//! assert_eq!(verify::verify_root_self_signed(&received, &limits).unwrap_err().code(), "threshold");
//! # Ok(())
//! # }
//! ```
//!
//! [The Update Framework]: https://theupdateframework.github.io/specification/latest/
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cjson;
pub mod crypto;
pub mod delegation;
pub mod error;
pub mod feed;
pub mod hash;
pub mod index;
pub mod limits;
pub mod metadata;
pub mod repo;
pub mod trusted;
pub mod verify;

pub use error::Error;
pub use limits::Limits;
