//! The [`Verifier`] of the proxy: an adapter over `tuf-client`'s [`Updater`].
//!
//! Every trust rule lives in `tuf-core` (`trusted`, `delegation`) and the §5 workflow in
//! [`tuf_client::Updater`]; this module only decides *when* to run it and translates its
//! answers for the proxy:
//!
//! * **Online**: [`Updater::refresh`] (TUF §5.3 root chain, §5.4 timestamp, §5.5
//!   snapshot, §5.6 top-level targets) at most once per refresh interval, so one
//!   `cargo build` of hundreds of crates costs one timestamp fetch; after each refresh
//!   `metadata/checked.json` records when the timestamp was last verified online.
//! * **Offline**: [`Updater::load_local`] (the same checks on the stored metadata, no
//!   request), allowed only while `checked.json` is within the staleness bound; the
//!   bound is checked again on every lookup, so a long-running offline proxy stops
//!   answering when it passes.
//! * **Lookups**: [`Updater::lookup_target`] (§5.6.7) from many proxy threads at once;
//!   a hashed bin is fetched once per snapshot version (stored, then taken from the
//!   store while the snapshot still names that version) and verified once per refresh.
//!
//! State under `$CARGO_HOME/tuf/<registry>/metadata/` (the updater's
//! [`tuf_client::MetadataStore`], atomic writes): `root.json`, `timestamp.json`,
//! `snapshot.json`, `targets.json`, the bins (`delegated.crates-bin-3a.json`, ...), and
//! this module's `checked.json`. Delegated roles are stored under the `delegated.` prefix,
//! so none (not `checked`, nor `Checked` on a case-insensitive file system) shares a
//! file with this one.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tuf_client::{ClientError, FetchError, HttpFetcher, TargetInfo, Updater, UpdaterConfig};
use tuf_core::index::CrateName;
use tuf_core::trusted::TrustedState;
use tuf_core::Limits;

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
    /// Never fetch metadata. Stored metadata is used while the timestamp was last checked
    /// online no longer than `max_staleness` ago *and* no stored role has expired.
    Offline {
        /// How old the last online check may be.
        max_staleness: chrono::Duration,
    },
}

/// A registry's signed metadata, through `tuf-client`'s [`Updater`].
#[derive(Debug)]
pub struct UpdaterVerifier {
    /// Written only to start a new trusted state (refresh, local load); lookups share it.
    updater: RwLock<Updater<HttpFetcher>>,
    mode: Mode,
    checked_file: PathBuf,
    /// When this process last completed a refresh (or local load). Held while one runs,
    /// so concurrent requests that find the state stale wait for that one refresh.
    refreshed: Mutex<Option<Refreshed>>,
}

/// A completed refresh or local load.
#[derive(Debug)]
struct Refreshed {
    at: Instant,
    /// For a local load: the online check the stored metadata rests on, whose age every
    /// lookup checks against the staleness bound again.
    offline_basis: Option<Checked>,
}

/// `metadata/checked.json`: when the timestamp was last verified online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    /// When.
    pub checked_at: DateTime<Utc>,
    /// The timestamp version verified then.
    pub timestamp_version: u64,
}

const CHECKED_FILE: &str = "checked.json";

impl UpdaterVerifier {
    /// Open the pinned registry in `dir` with metadata at `metadata_url`: the trusted root
    /// must be there and signed by its own root keys (TUF §5.2), so a broken pin is
    /// reported before cargo runs. Nothing is fetched yet: the first
    /// [`Verifier::refresh_if_stale`] (or lookup) does. Call outside any async runtime
    /// (the HTTP client owns one).
    pub fn open(
        dir: &RegistryDir,
        metadata_url: &str,
        mode: Mode,
        limits: Limits,
    ) -> Result<Self, VerifyError> {
        dir.migrate_legacy_root()
            .map_err(|source| VerifyError::Io {
                what: format!(
                    "moving the trusted root into {}",
                    dir.metadata_dir().display()
                ),
                source,
            })?;
        let root_file = dir.root_file();
        let root = fs::read(&root_file).map_err(|source| VerifyError::Io {
            what: format!("reading the trusted root {}", root_file.display()),
            source,
        })?;
        TrustedState::new_from_root_with_limits(&root, Utc::now(), limits.clone())
            .map_err(core_error)?;
        let mut config = UpdaterConfig::new(metadata_url, dir.metadata_dir());
        config.limits = limits;
        let fetcher = HttpFetcher::new().map_err(|e| VerifyError::Fetch {
            what: "an HTTP client".to_owned(),
            url: metadata_url.to_owned(),
            reason: e.to_string(),
        })?;
        let updater = Updater::new(config, fetcher).map_err(verify_error)?;
        Ok(Self {
            updater: RwLock::new(updater),
            mode,
            checked_file: dir.metadata_dir().join(CHECKED_FILE),
            refreshed: Mutex::new(None),
        })
    }

    /// The version of the trusted timestamp, once a refresh (or local load) succeeded.
    pub fn timestamp_version(&self) -> Option<u64> {
        read(&self.updater).trusted_timestamp().map(|t| t.version)
    }

    fn refresh_online(&self, updater: &mut Updater<HttpFetcher>) -> Result<(), VerifyError> {
        let now = Utc::now();
        updater.refresh(now).map_err(verify_error)?;
        let timestamp = updater
            .trusted_timestamp()
            .ok_or_else(|| VerifyError::Layout {
                role: "timestamp".to_owned(),
                reason: "no trusted timestamp after a refresh".to_owned(),
            })?;
        let checked = Checked {
            checked_at: now,
            timestamp_version: timestamp.version,
        };
        let bytes = serde_json::to_vec(&checked).map_err(|e| VerifyError::Io {
            what: format!("writing {}", self.checked_file.display()),
            source: io::Error::other(e),
        })?;
        write_atomic(&self.checked_file, &bytes).map_err(|source| VerifyError::Io {
            what: format!("writing {}", self.checked_file.display()),
            source,
        })
    }

    /// Load the stored metadata if the online check it rests on is within
    /// `max_staleness`; returns that check.
    fn load_offline(
        &self,
        updater: &mut Updater<HttpFetcher>,
        max_staleness: chrono::Duration,
    ) -> Result<Checked, VerifyError> {
        let now = Utc::now();
        let checked: Checked = fs::read(&self.checked_file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| VerifyError::Offline {
                reason: "no metadata has been verified online on this machine yet".to_owned(),
            })?;
        check_staleness(&checked, now, max_staleness)?;
        updater.load_local(now).map_err(verify_error)?;
        Ok(checked)
    }

    /// The signed entry of target `path` (an index file, `config.json`, or a feed), after
    /// [`Verifier::refresh_if_stale`]; `Ok(None)` is an authenticated absence.
    pub fn lookup(&self, path: &str) -> Result<Option<ExpectedFile>, VerifyError> {
        self.refresh_if_stale()?;
        let info = read(&self.updater)
            .lookup_target(path, Utc::now())
            .map_err(verify_error)?;
        info.as_ref().map(expected).transpose()
    }
}

impl Verifier for UpdaterVerifier {
    fn refresh_if_stale(&self) -> Result<(), VerifyError> {
        let mut refreshed = lock(&self.refreshed);
        match self.mode {
            Mode::Online { refresh_interval } => {
                if refreshed
                    .as_ref()
                    .is_some_and(|r| r.at.elapsed() < refresh_interval)
                {
                    return Ok(());
                }
                // Waits for lookups in flight (they hold the read lock, possibly while
                // fetching a bin), then has the updater to itself.
                self.refresh_online(&mut write(&self.updater))?;
                *refreshed = Some(Refreshed {
                    at: Instant::now(),
                    offline_basis: None,
                });
            }
            Mode::Offline { max_staleness } => {
                // The bound on every lookup, not only the first: a long-running offline
                // proxy must stop when it passes. (The expiry of every role a lookup
                // uses, the root's included, `Updater::lookup_target` checks.)
                if let Some(basis) = refreshed.as_ref().and_then(|r| r.offline_basis.as_ref()) {
                    return check_staleness(basis, Utc::now(), max_staleness);
                }
                let basis = self.load_offline(&mut write(&self.updater), max_staleness)?;
                *refreshed = Some(Refreshed {
                    at: Instant::now(),
                    offline_basis: Some(basis),
                });
            }
        }
        Ok(())
    }

    fn index_entry(&self, crate_name: &CrateName) -> Result<Option<ExpectedFile>, VerifyError> {
        self.lookup(&crate_name.sparse_path())
    }

    fn config_entry(&self) -> Result<ExpectedFile, VerifyError> {
        self.lookup("config.json")?
            .ok_or_else(|| VerifyError::Layout {
                role: "targets".to_owned(),
                reason: "config.json is not a signed target".to_owned(),
            })
    }
}

/// Whether metadata last checked online at `checked` may still be used offline at `now`.
fn check_staleness(
    checked: &Checked,
    now: DateTime<Utc>,
    max_staleness: chrono::Duration,
) -> Result<(), VerifyError> {
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
    Ok(())
}

/// What the proxy checks a file against: its signed length and every listed hash (TUF
/// §5.7.3). A registry target must list a SHA-256 among them: the proxy's ETag is that
/// hash.
fn expected(info: &TargetInfo) -> Result<ExpectedFile, VerifyError> {
    ExpectedFile::from_target(info.path.as_str(), &info.file).ok_or_else(|| VerifyError::Layout {
        role: info.role.clone(),
        reason: format!("target {} has no sha256 hash", info.path),
    })
}

/// The updater's error as the proxy reports it: rollback, version mismatch and expiry
/// get their own kinds (their own advice), fetch and disk failures theirs, and every
/// other verification failure is [`VerifyError::Metadata`] naming the role.
fn verify_error(error: ClientError) -> VerifyError {
    match error {
        ClientError::Core(core) => core_error(core),
        ClientError::Fetch(fetch) => fetch_error(&fetch),
        ClientError::Io { path, source } => VerifyError::Io {
            what: path.display().to_string(),
            source,
        },
        ClientError::NoTrustedRoot { path } => VerifyError::Io {
            what: format!(
                "reading the trusted root {} (pin the registry with `cargo tuf init`)",
                path.display()
            ),
            source: io::Error::from(io::ErrorKind::NotFound),
        },
        ClientError::NotStored { role } => VerifyError::Offline {
            reason: format!("the cached metadata is incomplete: no usable stored {role} metadata"),
        },
        other => VerifyError::Layout {
            role: "client".to_owned(),
            reason: other.to_string(),
        },
    }
}

fn core_error(error: tuf_core::Error) -> VerifyError {
    use tuf_core::Error;
    match error {
        // TUF §5.4.3, §5.5.5.
        Error::Rollback { role, trusted, new } => VerifyError::Rollback {
            role,
            trusted,
            found: new,
        },
        // TUF §5.3.10, §5.4.4, §5.5.6, §5.6.5.
        Error::Expired {
            role,
            version,
            expires,
        } => VerifyError::Expired {
            role,
            version,
            expires,
        },
        // TUF §5.3.5, §5.5.4, §5.6.4.
        Error::VersionMismatch {
            role,
            expected,
            found,
        } => {
            let referrer = match role.as_str() {
                "root" => "the root chain (N+1)",
                "snapshot" => "timestamp",
                _ => "snapshot",
            };
            VerifyError::VersionMismatch {
                role,
                referrer: referrer.to_owned(),
                expected,
                found,
            }
        }
        // TUF §5.6.1: a role the snapshot does not list is never requested.
        Error::MissingRole { role } => VerifyError::Layout {
            role: "snapshot".to_owned(),
            reason: format!("does not list the role {role}"),
        },
        // The role the error names in its own field (tuf-core's `Error::role`); an error
        // that names none (JSON syntax, a key) is about the signed metadata in general.
        other => VerifyError::Metadata {
            role: other.role().unwrap_or("signed").to_owned(),
            source: other,
        },
    }
}

fn fetch_error(error: &FetchError) -> VerifyError {
    let (url, reason) = match error {
        FetchError::NotFound { url } => (
            url.clone(),
            "the server has no such file (HTTP 404, or 403 as S3-like stores answer)".to_owned(),
        ),
        FetchError::TooLarge { url, max_bytes } => (
            url.clone(),
            format!("more than the limit of {max_bytes} bytes"),
        ),
        FetchError::Status { url, status } => {
            (url.clone(), format!("server answered HTTP {status}"))
        }
        FetchError::Transport { url, reason } => (url.clone(), reason.clone()),
        other => (String::new(), other.to_string()),
    };
    VerifyError::Fetch {
        what: url.rsplit('/').next().unwrap_or_default().to_owned(),
        url,
        reason,
    }
}

/// Lock, ignoring poisoning: the guarded value is replaced whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The updater for a lookup. A panic elsewhere cannot leave it half-changed: its trusted
/// state moves only through `TrustedState` steps that change nothing when they fail.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_kind_and_numbers() {
        let rollback = core_error(tuf_core::Error::Rollback {
            role: "timestamp".into(),
            trusted: 2,
            new: 1,
        });
        assert_eq!(
            rollback.to_string(),
            "rollback: timestamp version 1 is older than version 2 already trusted"
        );
        let expired = core_error(tuf_core::Error::Expired {
            role: "timestamp".into(),
            version: 2,
            expires: "2026-01-01T00:00:00Z".into(),
        });
        assert_eq!(
            expired.to_string(),
            "timestamp metadata version 2 expired at 2026-01-01T00:00:00Z"
        );
        let threshold = core_error(tuf_core::Error::Threshold {
            role: "crates-bin-3".into(),
            valid: 0,
            threshold: 1,
        });
        assert!(matches!(&threshold, VerifyError::Metadata { role, .. } if role == "crates-bin-3"));
        assert_eq!(threshold.code(), "threshold");
        let missing = verify_error(ClientError::Fetch(FetchError::NotFound {
            url: "http://m/metadata/timestamp.json".into(),
        }));
        assert!(
            matches!(&missing, VerifyError::Fetch { what, .. } if what == "timestamp.json"),
            "{missing}"
        );
    }
}
