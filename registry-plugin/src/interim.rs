//! The interim verifier: reads a registry's signed metadata directly with `tuf-core`.
//!
//! **Interim.** This exists only until `tuf-client`'s `Updater` (built on
//! `tuf_core::trusted::TrustedState` and `tuf_core::delegation`) lands; then an adapter
//! over the `Updater` implements [`Verifier`] and this module is deleted, so the client
//! workflow of TUF §5 lives in one place. It therefore covers exactly the layout a
//! registry signed by this project has, and no more:
//!
//! * consistent snapshots: `N.root.json`, `timestamp.json`, `N.snapshot.json`,
//!   `N.targets.json`, `N.<bin>.json` under one metadata base URL;
//! * top-level `targets` delegating through TAP 15 `succinct_roles` to hashed bins (a
//!   target listed in top-level `targets` itself is honoured first, as TUF §5.6.7 orders
//!   the search), or to the same bins listed as classic roles with `path_hash_prefixes`
//!   (bin style `hash-prefixes`); any other delegation is refused with
//!   [`VerifyError::Layout`];
//! * targets named by sparse path (`se/rd/serde`) plus `config.json`.
//!
//! The steps follow TUF §5.3 (root rotation, up to `Limits::max_root_rotations`), §5.4
//! (timestamp: signatures, rollback of itself and of the snapshot version it names,
//! expiry), §5.5 (snapshot: length/hashes from the timestamp, signatures, version named
//! by the timestamp, no role's version going back, expiry), §5.6 (targets and bins:
//! length/hashes and version from the snapshot, signatures, expiry).
//!
//! Verified metadata is kept in memory and on disk (`$CARGO_HOME/tuf/<registry>/metadata`)
//! for rollback protection across runs and for offline use. The timestamp is re-checked
//! at most once per refresh interval; a bin is fetched once per snapshot version.

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tuf_core::index::CrateName;
use tuf_core::metadata::{
    check_length_and_hashes, Delegations, MetaFile, Role, RoleType, Root, SignedMetadata, Snapshot,
    SuccinctRoles, TargetFile, TargetPath, Targets, Timestamp,
};
use tuf_core::verify::{self, Authority, Verified};
use tuf_core::Limits;

use crate::fetch::{Fetched, Fetcher};
use crate::state::{write_atomic, RegistryDir};
use crate::verifier::{ExpectedFile, Verifier, VerifyError};

/// When the verifier may go to the network.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Fetch metadata; re-check the timestamp when the last check is older than
    /// `refresh_interval`.
    Online {
        /// Minimum time between two timestamp fetches.
        refresh_interval: Duration,
    },
    /// Never fetch metadata. Cached metadata is used while the timestamp was last checked
    /// online no longer than `max_staleness` ago *and* no cached role has expired.
    Offline {
        /// How old the last online check may be.
        max_staleness: chrono::Duration,
    },
}

/// Reads and verifies a registry's TUF metadata directly. See the module docs: to be
/// replaced by an adapter over `tuf-client`'s `Updater`.
#[derive(Debug)]
pub struct InterimVerifier {
    metadata_url: String,
    fetcher: Fetcher,
    metadata_dir: PathBuf,
    root_file: PathBuf,
    limits: Limits,
    mode: Mode,
    trusted: Mutex<Trusted>,
    bins: Mutex<HashMap<String, Arc<Verified<Targets>>>>,
    /// One lock per bin being loaded, so concurrent requests for crates of one bin fetch
    /// it once.
    bin_loads: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// The trusted top-level roles. `timestamp`, `snapshot` and `targets` are what was last
/// verified (possibly in an earlier run), kept for rollback checks.
#[derive(Debug)]
struct Trusted {
    root: Arc<Verified<Root>>,
    timestamp: Option<Arc<Verified<Timestamp>>>,
    snapshot: Option<Arc<Verified<Snapshot>>>,
    targets: Option<Arc<Verified<Targets>>>,
    /// When this process last completed a refresh.
    refreshed: Option<Instant>,
}

/// The roles a lookup needs, all verified and current.
#[derive(Debug, Clone)]
struct Current {
    snapshot: Arc<Verified<Snapshot>>,
    targets: Arc<Verified<Targets>>,
}

/// `metadata/checked.json`: when the timestamp was last verified online.
#[derive(Debug, Serialize, Deserialize)]
struct Checked {
    checked_at: DateTime<Utc>,
    timestamp_version: u64,
}

const CHECKED_FILE: &str = "checked.json";

impl InterimVerifier {
    /// Open the pinned registry in `dir`: load and self-verify the trusted root, and load
    /// the previously verified timestamp, snapshot and targets (each re-verified with the
    /// root; one that does not verify is dropped, as after a key rotation, TUF §5.3.11).
    pub fn open(
        dir: &RegistryDir,
        metadata_url: &str,
        fetcher: Fetcher,
        mode: Mode,
        limits: Limits,
    ) -> Result<Self, VerifyError> {
        let root_file = dir.root_file();
        let root_bytes = fs::read(&root_file).map_err(|source| VerifyError::Io {
            what: format!("reading the trusted root {}", root_file.display()),
            source,
        })?;
        let root = parse_and(&root_bytes, RoleType::Root, "root", &limits, |meta| {
            verify::verify_root_self_signed(meta, &limits)
        })?;
        let metadata_dir = dir.metadata_dir();
        let load = |name: &str| fs::read(metadata_dir.join(name)).ok();
        let timestamp = load("timestamp.json").and_then(|bytes| {
            let authority = Authority::from_root(&root, RoleType::Timestamp)?;
            parse_and(&bytes, RoleType::Timestamp, "timestamp", &limits, |m| {
                verify::verify(m, "timestamp", &authority, &limits)
            })
            .ok()
        });
        let snapshot = load("snapshot.json").and_then(|bytes| {
            let authority = Authority::from_root(&root, RoleType::Snapshot)?;
            parse_and(&bytes, RoleType::Snapshot, "snapshot", &limits, |m| {
                verify::verify(m, "snapshot", &authority, &limits)
            })
            .ok()
        });
        let targets = load("targets.json").and_then(|bytes| {
            let authority = Authority::from_root(&root, RoleType::Targets)?;
            parse_and(&bytes, RoleType::Targets, "targets", &limits, |m| {
                verify::verify(m, "targets", &authority, &limits)
            })
            .ok()
        });
        Ok(Self {
            metadata_url: metadata_url.to_owned(),
            fetcher,
            metadata_dir,
            root_file,
            limits,
            mode,
            trusted: Mutex::new(Trusted {
                root: Arc::new(root),
                timestamp: timestamp.map(Arc::new),
                snapshot: snapshot.map(Arc::new),
                targets: targets.map(Arc::new),
                refreshed: None,
            }),
            bins: Mutex::new(HashMap::new()),
            bin_loads: Mutex::new(HashMap::new()),
        })
    }

    /// The version of the trusted timestamp, if any (for messages).
    pub fn timestamp_version(&self) -> Option<u64> {
        lock(&self.trusted)
            .timestamp
            .as_ref()
            .map(|t| t.version.get())
    }

    fn current(&self) -> Result<Current, VerifyError> {
        self.refresh_if_stale()?;
        let trusted = lock(&self.trusted);
        match (&trusted.snapshot, &trusted.targets) {
            (Some(snapshot), Some(targets)) => Ok(Current {
                snapshot: Arc::clone(snapshot),
                targets: Arc::clone(targets),
            }),
            _ => Err(VerifyError::Layout {
                role: "snapshot".to_owned(),
                reason: "no verified snapshot and targets after a refresh".to_owned(),
            }),
        }
    }

    /// The signed entry of `path`: top-level targets first, then its succinct bin.
    fn lookup(&self, current: &Current, path: &str) -> Result<Option<ExpectedFile>, VerifyError> {
        let target_path = TargetPath::parse(path).map_err(|source| VerifyError::Metadata {
            role: "targets".to_owned(),
            source,
        })?;
        if let Some(file) = current.targets.targets.get(&target_path) {
            return expected(file, "targets", path).map(Some);
        }
        let delegations =
            current
                .targets
                .delegations
                .as_ref()
                .ok_or_else(|| VerifyError::Layout {
                    role: "targets".to_owned(),
                    reason: "delegates to no bins".to_owned(),
                })?;
        // TAP 15 succinct_roles, or the same bins as classic path_hash_prefixes roles
        // (bin style hash-prefixes); any other delegation is refused.
        let succinct = delegations.hashed_bins().map_err(|e| VerifyError::Layout {
            role: "targets".to_owned(),
            reason: format!(
                "does not delegate to hashed bins ({e}); the interim verifier follows \
                     only this project's bin layout"
            ),
        })?;
        let bin_name = succinct.role_for(path);
        let bin = self.bin(current, delegations, &succinct, &bin_name)?;
        check_expiry(&bin, &bin_name, Utc::now())?;
        bin.targets
            .get(&target_path)
            .map(|file| expected(file, &bin_name, path))
            .transpose()
    }

    /// The verified bin `name` at the version the snapshot lists: from memory, from
    /// disk, or fetched (TUF §5.6 for a delegated role).
    fn bin(
        &self,
        current: &Current,
        delegations: &Delegations,
        succinct: &SuccinctRoles,
        name: &str,
    ) -> Result<Arc<Verified<Targets>>, VerifyError> {
        let file_name = format!("{name}.json");
        let meta = current
            .snapshot
            .meta
            .get(&file_name)
            .ok_or_else(|| VerifyError::Layout {
                role: "snapshot".to_owned(),
                reason: format!("does not list the bin {file_name}"),
            })?;
        let cached_bin = || {
            lock(&self.bins)
                .get(name)
                .filter(|bin| bin.version == meta.version)
                .cloned()
        };
        if let Some(bin) = cached_bin() {
            return Ok(bin);
        }
        let load_lock = Arc::clone(lock(&self.bin_loads).entry(name.to_owned()).or_default());
        let _loading = lock(&load_lock);
        if let Some(bin) = cached_bin() {
            return Ok(bin);
        }
        let authority = Authority::from_succinct(delegations, succinct);
        let check = |bytes: &[u8]| -> Result<Verified<Targets>, VerifyError> {
            check_meta_file(name, bytes, meta)?;
            let bin = parse_and(bytes, RoleType::Targets, name, &self.limits, |m| {
                verify::verify::<Targets>(m, name, &authority, &self.limits)
            })?;
            check_version(name, "snapshot", meta.version.get(), bin.version.get())?;
            Ok(bin)
        };
        let cached = fs::read(self.metadata_dir.join(&file_name))
            .ok()
            .and_then(|bytes| check(&bytes).ok());
        let bin = match cached {
            Some(bin) => bin,
            None => {
                if let Mode::Offline { .. } = self.mode {
                    return Err(VerifyError::Offline {
                        reason: format!("bin {name} (version {}) is not cached", meta.version),
                    });
                }
                let remote = format!("{}.{file_name}", meta.version);
                let limit = meta
                    .length
                    .map_or(self.limits.max_targets_bytes, |l| l.get());
                let bytes = self.fetch_required(&remote, limit)?;
                let bin = check(&bytes)?;
                check_expiry(&bin, name, Utc::now())?;
                self.persist(&file_name, &bytes)?;
                bin
            }
        };
        let bin = Arc::new(bin);
        lock(&self.bins).insert(name.to_owned(), Arc::clone(&bin));
        Ok(bin)
    }

    fn refresh_online(&self, trusted: &mut Trusted) -> Result<(), VerifyError> {
        let now = Utc::now();
        self.update_root(trusted)?;
        check_expiry(&trusted.root, "root", now)?;
        let consistent = trusted.root.consistent_snapshot();

        // TUF §5.4: timestamp.
        let bytes = self.fetch_required("timestamp.json", self.limits.max_timestamp_bytes)?;
        let timestamp_authority = authority(&trusted.root, RoleType::Timestamp)?;
        let new_timestamp = parse_and(
            &bytes,
            RoleType::Timestamp,
            "timestamp",
            &self.limits,
            |m| verify::verify::<Timestamp>(m, "timestamp", &timestamp_authority, &self.limits),
        )?;
        let new_snapshot_meta = snapshot_meta(&new_timestamp)?.clone();
        if let Some(old) = &trusted.timestamp {
            if new_timestamp.version < old.version {
                return Err(VerifyError::Rollback {
                    role: "timestamp".to_owned(),
                    trusted: old.version.get(),
                    found: new_timestamp.version.get(),
                });
            }
            let old_snapshot_version = snapshot_meta(old)?.version;
            if new_snapshot_meta.version < old_snapshot_version {
                return Err(VerifyError::Rollback {
                    role: "snapshot (as named by timestamp)".to_owned(),
                    trusted: old_snapshot_version.get(),
                    found: new_snapshot_meta.version.get(),
                });
            }
        }
        check_expiry(&new_timestamp, "timestamp", now)?;
        let timestamp_version = new_timestamp.version.get();
        let unchanged = trusted
            .timestamp
            .as_ref()
            .is_some_and(|old| old.version == new_timestamp.version);
        if !unchanged {
            self.persist("timestamp.json", &bytes)?;
            trusted.timestamp = Some(Arc::new(new_timestamp));
        }

        // TUF §5.5: snapshot.
        let snapshot = match &trusted.snapshot {
            Some(old) if old.version == new_snapshot_meta.version => Arc::clone(old),
            old => {
                let remote = versioned(consistent, new_snapshot_meta.version.get(), "snapshot");
                let limit = new_snapshot_meta
                    .length
                    .map_or(self.limits.max_snapshot_bytes, |l| l.get());
                let bytes = self.fetch_required(&remote, limit)?;
                check_meta_file("snapshot", &bytes, &new_snapshot_meta)?;
                let snapshot_authority = authority(&trusted.root, RoleType::Snapshot)?;
                let new = parse_and(&bytes, RoleType::Snapshot, "snapshot", &self.limits, |m| {
                    verify::verify::<Snapshot>(m, "snapshot", &snapshot_authority, &self.limits)
                })?;
                check_version(
                    "snapshot",
                    "timestamp",
                    new_snapshot_meta.version.get(),
                    new.version.get(),
                )?;
                if let Some(old) = old {
                    for (name, old_meta) in &old.meta {
                        let found = new.meta.get(name).map_or(0, |m| m.version.get());
                        if found < old_meta.version.get() {
                            return Err(VerifyError::Rollback {
                                role: format!("{name} (as listed by snapshot)"),
                                trusted: old_meta.version.get(),
                                found,
                            });
                        }
                    }
                }
                self.persist("snapshot.json", &bytes)?;
                Arc::new(new)
            }
        };
        check_expiry(&snapshot, "snapshot", now)?;
        trusted.snapshot = Some(Arc::clone(&snapshot));

        // TUF §5.6: top-level targets.
        let targets_meta =
            snapshot
                .meta
                .get("targets.json")
                .ok_or_else(|| VerifyError::Layout {
                    role: "snapshot".to_owned(),
                    reason: "does not list targets.json".to_owned(),
                })?;
        let targets = match &trusted.targets {
            Some(old) if old.version == targets_meta.version => Arc::clone(old),
            _ => {
                let remote = versioned(consistent, targets_meta.version.get(), "targets");
                let limit = targets_meta
                    .length
                    .map_or(self.limits.max_targets_bytes, |l| l.get());
                let bytes = self.fetch_required(&remote, limit)?;
                check_meta_file("targets", &bytes, targets_meta)?;
                let targets_authority = authority(&trusted.root, RoleType::Targets)?;
                let new = parse_and(&bytes, RoleType::Targets, "targets", &self.limits, |m| {
                    verify::verify::<Targets>(m, "targets", &targets_authority, &self.limits)
                })?;
                check_version(
                    "targets",
                    "snapshot",
                    targets_meta.version.get(),
                    new.version.get(),
                )?;
                self.persist("targets.json", &bytes)?;
                Arc::new(new)
            }
        };
        check_expiry(&targets, "targets", now)?;
        trusted.targets = Some(targets);

        // Bins the new snapshot lists at another version are stale.
        lock(&self.bins).retain(|name, bin| {
            snapshot
                .meta
                .get(&format!("{name}.json"))
                .is_some_and(|m| m.version == bin.version)
        });
        let checked = Checked {
            checked_at: now,
            timestamp_version,
        };
        let checked = serde_json::to_vec(&checked).map_err(|e| VerifyError::Io {
            what: "writing checked.json".to_owned(),
            source: std::io::Error::other(e),
        })?;
        self.persist(CHECKED_FILE, &checked)?;
        Ok(())
    }

    /// TUF §5.3: follow `N+1.root.json` until there is none, each signed by the old and
    /// the new root; persist each; drop timestamp/snapshot trust when their keys changed.
    fn update_root(&self, trusted: &mut Trusted) -> Result<(), VerifyError> {
        for _ in 0..self.limits.max_root_rotations {
            let next = trusted.root.version.get().saturating_add(1);
            let remote = format!("{next}.root.json");
            let bytes = match self.fetch(&remote, self.limits.max_root_bytes)? {
                Fetched::Found(bytes) => bytes,
                Fetched::NotFound => return Ok(()),
            };
            let new = parse_and(&bytes, RoleType::Root, "root", &self.limits, |m| {
                verify::verify_root_rotation(m, &trusted.root, &self.limits)
            })?;
            check_version("root", "the rotation sequence", next, new.version.get())?;
            write_atomic(&self.root_file, &bytes).map_err(|source| VerifyError::Io {
                what: format!("writing {}", self.root_file.display()),
                source,
            })?;
            let keys_changed = |role| trusted.root.role_keys(role) != new.role_keys(role);
            if keys_changed(RoleType::Timestamp) {
                trusted.timestamp = None;
            }
            if keys_changed(RoleType::Snapshot) {
                trusted.snapshot = None;
            }
            trusted.root = Arc::new(new);
        }
        Ok(())
    }

    fn refresh_offline(
        &self,
        trusted: &mut Trusted,
        max_staleness: chrono::Duration,
    ) -> Result<(), VerifyError> {
        let now = Utc::now();
        let path = self.metadata_dir.join(CHECKED_FILE);
        let checked: Checked = fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| VerifyError::Offline {
                reason: "no metadata has been verified online on this machine yet".to_owned(),
            })?;
        let age = now.signed_duration_since(checked.checked_at);
        if age > max_staleness {
            return Err(VerifyError::Offline {
                reason: format!(
                    "the cached metadata was last checked online at {} ({} hours ago), \
                     more than the bound of {} hours",
                    checked.checked_at.to_rfc3339(),
                    age.num_hours(),
                    max_staleness.num_hours()
                ),
            });
        }
        let missing = || VerifyError::Offline {
            reason: "the cached metadata is incomplete".to_owned(),
        };
        check_expiry(&trusted.root, "root", now)?;
        check_expiry(
            trusted.timestamp.as_deref().ok_or_else(missing)?,
            "timestamp",
            now,
        )?;
        check_expiry(
            trusted.snapshot.as_deref().ok_or_else(missing)?,
            "snapshot",
            now,
        )?;
        check_expiry(
            trusted.targets.as_deref().ok_or_else(missing)?,
            "targets",
            now,
        )?;
        Ok(())
    }

    fn fetch(&self, remote: &str, limit: u64) -> Result<Fetched, VerifyError> {
        let url = format!("{}{remote}", self.metadata_url);
        self.fetcher
            .get(&url, limit)
            .map_err(|e| VerifyError::Fetch {
                what: remote.to_owned(),
                url,
                reason: e.to_string(),
            })
    }

    fn fetch_required(&self, remote: &str, limit: u64) -> Result<Vec<u8>, VerifyError> {
        match self.fetch(remote, limit)? {
            Fetched::Found(bytes) => Ok(bytes),
            Fetched::NotFound => Err(VerifyError::Fetch {
                what: remote.to_owned(),
                url: format!("{}{remote}", self.metadata_url),
                reason: "the server has no such file (HTTP 404)".to_owned(),
            }),
        }
    }

    fn persist(&self, name: &str, bytes: &[u8]) -> Result<(), VerifyError> {
        let path = self.metadata_dir.join(name);
        write_atomic(&path, bytes).map_err(|source| VerifyError::Io {
            what: format!("writing {}", path.display()),
            source,
        })
    }
}

impl Verifier for InterimVerifier {
    fn refresh_if_stale(&self) -> Result<(), VerifyError> {
        let mut trusted = lock(&self.trusted);
        let fresh = |interval| trusted.refreshed.is_some_and(|t| t.elapsed() < interval);
        match self.mode {
            Mode::Online { refresh_interval } => {
                if fresh(refresh_interval) {
                    return Ok(());
                }
                self.refresh_online(&mut trusted)?;
            }
            Mode::Offline { max_staleness } => {
                if trusted.refreshed.is_some() {
                    return Ok(());
                }
                self.refresh_offline(&mut trusted, max_staleness)?;
            }
        }
        trusted.refreshed = Some(Instant::now());
        Ok(())
    }

    fn index_entry(&self, crate_name: &CrateName) -> Result<Option<ExpectedFile>, VerifyError> {
        let current = self.current()?;
        self.lookup(&current, &crate_name.sparse_path())
    }

    fn config_entry(&self) -> Result<ExpectedFile, VerifyError> {
        let current = self.current()?;
        self.lookup(&current, "config.json")?
            .ok_or_else(|| VerifyError::Layout {
                role: "targets".to_owned(),
                reason: "config.json is not a signed target".to_owned(),
            })
    }
}

/// Parse `bytes` as `role_type` and run `verify` on it, mapping errors to `role`.
fn parse_and<T>(
    bytes: &[u8],
    role_type: RoleType,
    role: &str,
    limits: &Limits,
    verify: impl FnOnce(&SignedMetadata) -> Result<Verified<T>, tuf_core::Error>,
) -> Result<Verified<T>, VerifyError> {
    let metadata_error = |source| VerifyError::Metadata {
        role: role.to_owned(),
        source,
    };
    let meta = SignedMetadata::parse(bytes, role_type, limits).map_err(metadata_error)?;
    verify(&meta).map_err(metadata_error)
}

fn authority(root: &Root, role: RoleType) -> Result<Authority<'_>, VerifyError> {
    Authority::from_root(root, role).ok_or_else(|| VerifyError::Layout {
        role: "root".to_owned(),
        reason: format!("has no {role} role"),
    })
}

fn snapshot_meta(timestamp: &Timestamp) -> Result<&MetaFile, VerifyError> {
    timestamp
        .snapshot_meta()
        .ok_or_else(|| VerifyError::Layout {
            role: "timestamp".to_owned(),
            reason: "does not name snapshot.json".to_owned(),
        })
}

/// `N.role.json` with consistent snapshots, else `role.json` (TUF §5.5.1, §5.6.1).
fn versioned(consistent: bool, version: u64, role: &str) -> String {
    if consistent {
        format!("{version}.{role}.json")
    } else {
        format!("{role}.json")
    }
}

fn check_meta_file(role: &str, bytes: &[u8], meta: &MetaFile) -> Result<(), VerifyError> {
    check_length_and_hashes(
        &format!("{role}.json"),
        bytes,
        meta.length,
        meta.hashes.as_ref(),
    )
    .map_err(|source| VerifyError::Metadata {
        role: role.to_owned(),
        source,
    })
}

fn check_version(role: &str, referrer: &str, expected: u64, found: u64) -> Result<(), VerifyError> {
    if expected != found {
        return Err(VerifyError::VersionMismatch {
            role: role.to_owned(),
            referrer: referrer.to_owned(),
            expected,
            found,
        });
    }
    Ok(())
}

fn check_expiry<T: Role>(
    role: &Verified<T>,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    let role = role.signed();
    if role.expires().is_expired_at(now) {
        return Err(VerifyError::Expired {
            role: name.to_owned(),
            version: role.version().get(),
            expires: role.expires().to_string(),
        });
    }
    Ok(())
}

fn expected(file: &TargetFile, role: &str, path: &str) -> Result<ExpectedFile, VerifyError> {
    let sha256 = file.sha256().ok_or_else(|| VerifyError::Layout {
        role: role.to_owned(),
        reason: format!("target {path} has no sha256 hash"),
    })?;
    Ok(ExpectedFile {
        length: file.length.get(),
        sha256,
    })
}

/// Lock, ignoring poisoning: every update of the guarded state is a whole-value swap, so
/// a panic elsewhere cannot leave it half-written.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
