//! Verify a published repository offline from a trusted root, the way a client walks it
//! (TUF §5): root rotations, timestamp, snapshot (against the timestamp's length and
//! hashes), targets, then bins and targets, checking signatures, versions and expiry.
//!
//! [`RepoView`] is the verified top of the repository; [`RepoView::target`] reaches one
//! index file through its bin, [`verify_repository`] checks everything.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use tuf_core::metadata::{
    check_length_and_hashes, Role, RoleType, Root, SignedMetadata, Snapshot, SuccinctRoles,
    TargetFile, TargetPath, Targets, Timestamp,
};
use tuf_core::repo::{target_copy_name, versioned_name, TIMESTAMP_FILE};
use tuf_core::verify::{self, Authority};
use tuf_core::Limits;

use crate::error::Error;
use crate::fsio;
use crate::publish::Repository;

/// Where the bytes of targets are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetCheck {
    /// Metadata only.
    None,
    /// The hash-named copies under `REPO/targets/` (what a TUF client downloads).
    Copies,
    /// The index files at their plain paths under the index directory.
    Index,
}

/// Counts from a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    /// Root version reached.
    pub root_version: u64,
    /// Timestamp version.
    pub timestamp_version: u64,
    /// Snapshot version.
    pub snapshot_version: u64,
    /// Bins verified.
    pub bins: usize,
    /// Targets listed (and checked, unless [`TargetCheck::None`]).
    pub targets: usize,
}

/// The verified top-level metadata of a repository.
#[derive(Debug, Clone)]
pub struct RepoView {
    repository: Repository,
    limits: Limits,
    now: DateTime<Utc>,
    root: Root,
    timestamp: Timestamp,
    snapshot: Snapshot,
    targets: Targets,
    bins: SuccinctRoles,
}

impl RepoView {
    /// Walk from `trusted_root` through every newer `N.root.json`, then `timestamp.json`,
    /// the snapshot and the top-level targets, verifying each at `now`.
    pub fn load(
        repository: &Repository,
        trusted_root: &[u8],
        now: DateTime<Utc>,
        limits: &Limits,
    ) -> Result<Self, Error> {
        let dir = repository.metadata_dir();
        let meta = SignedMetadata::parse(trusted_root, RoleType::Root, limits)
            .map_err(Error::tuf("trusted root"))?;
        let mut root = verify::verify_root_self_signed(&meta, limits)
            .map_err(Error::tuf("trusted root"))?
            .into_inner();
        for _ in 0..limits.max_root_rotations {
            let next = root.version.get().saturating_add(1);
            let name = format!("{next}.root.json");
            let Some(bytes) = fsio::read_optional(&dir.join(&name))? else {
                break;
            };
            let meta =
                SignedMetadata::parse(&bytes, RoleType::Root, limits).map_err(Error::tuf(&name))?;
            let new = verify::verify_root_rotation(&meta, &root, limits)
                .map_err(Error::tuf(&name))?
                .into_inner();
            if new.version.get() != next {
                return Err(rollback(&name, next, new.version.get()));
            }
            root = new;
        }
        not_expired(&root, "root", now)?;

        let timestamp: Timestamp = top(
            &root,
            &read(&dir, TIMESTAMP_FILE)?,
            RoleType::Timestamp,
            limits,
        )?;
        not_expired(&timestamp, "timestamp", now)?;
        let entry = timestamp.snapshot_meta().ok_or_else(|| Error::Missing {
            path: dir.join(TIMESTAMP_FILE),
            reason: "no snapshot.json entry".to_owned(),
        })?;
        let snapshot_name = versioned_name("snapshot", entry.version);
        let snapshot_bytes = read(&dir, &snapshot_name)?;
        check_length_and_hashes(
            "snapshot",
            &snapshot_bytes,
            entry.length,
            entry.hashes.as_ref(),
        )
        .map_err(Error::tuf(&snapshot_name))?;
        let snapshot: Snapshot = top(&root, &snapshot_bytes, RoleType::Snapshot, limits)?;
        if snapshot.version != entry.version {
            return Err(rollback(
                &snapshot_name,
                entry.version.get(),
                snapshot.version.get(),
            ));
        }
        not_expired(&snapshot, "snapshot", now)?;

        let targets_version = snapshot
            .role_meta("targets")
            .map(|m| m.version)
            .ok_or_else(|| Error::Missing {
                path: dir.join(&snapshot_name),
                reason: "no targets.json entry".to_owned(),
            })?;
        let targets_name = versioned_name("targets", targets_version);
        let targets: Targets = top(
            &root,
            &read(&dir, &targets_name)?,
            RoleType::Targets,
            limits,
        )?;
        if targets.version != targets_version {
            return Err(rollback(
                &targets_name,
                targets_version.get(),
                targets.version.get(),
            ));
        }
        not_expired(&targets, "targets", now)?;
        // TAP 15 succinct_roles, or the same bins as classic path_hash_prefixes roles.
        let bins = targets
            .delegations
            .as_ref()
            .ok_or_else(|| "no delegations".to_owned())
            .and_then(|d| d.hashed_bins())
            .map_err(|e| Error::Missing {
                path: dir.join(&targets_name),
                reason: format!("targets does not delegate to hashed bins: {e}"),
            })?;
        Ok(Self {
            repository: repository.clone(),
            limits: limits.clone(),
            now,
            root,
            timestamp,
            snapshot,
            targets,
            bins,
        })
    }

    /// The verified root.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The verified timestamp.
    pub fn timestamp(&self) -> &Timestamp {
        &self.timestamp
    }

    /// The verified snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The bin layout.
    pub fn bins(&self) -> &SuccinctRoles {
        &self.bins
    }

    /// Verify bin number `bin`: signed by the delegation's keys, of the version the
    /// snapshot names, not expired, and listing only paths that hash to it.
    pub fn bin(&self, bin: u32) -> Result<Targets, Error> {
        let name = self.bins.bin_name(bin);
        let version = self
            .snapshot
            .role_meta(&name)
            .map(|m| m.version)
            .ok_or_else(|| Error::Missing {
                path: self
                    .repository
                    .metadata_dir()
                    .join(versioned_name("snapshot", self.snapshot.version)),
                reason: format!("the snapshot does not list {name}"),
            })?;
        let file = versioned_name(&name, version);
        let bytes = read(&self.repository.metadata_dir(), &file)?;
        let meta = SignedMetadata::parse(&bytes, RoleType::Targets, &self.limits)
            .map_err(Error::tuf(&file))?;
        let delegations = self
            .targets
            .delegations
            .as_ref()
            .ok_or_else(|| Error::Missing {
                path: PathBuf::from("targets"),
                reason: "no delegations".to_owned(),
            })?;
        let authority = Authority::from_succinct(delegations, &self.bins);
        let bin_targets = verify::verify::<Targets>(&meta, &name, &authority, &self.limits)
            .map_err(Error::tuf(&file))?
            .into_inner();
        if bin_targets.version != version {
            return Err(rollback(&file, version.get(), bin_targets.version.get()));
        }
        not_expired(&bin_targets, &name, self.now)?;
        if let Some(stray) = bin_targets
            .targets
            .keys()
            .find(|p| self.bins.bin_of(p.as_str()) != bin)
        {
            return Err(Error::Target {
                path: stray.to_string(),
                reason: format!(
                    "listed by {name} but it hashes to {}",
                    self.bins.role_for(stray.as_str())
                ),
            });
        }
        Ok(bin_targets)
    }

    /// Reach `path` through its bin: its verified entry, or `None` when the bin does not
    /// list it (an authenticated "no such crate").
    pub fn target(&self, path: &str) -> Result<Option<TargetFile>, Error> {
        let path = TargetPath::parse(path).map_err(Error::tuf(path))?;
        let bin = self.bin(self.bins.bin_of(path.as_str()))?;
        Ok(bin.targets.get(&path).cloned())
    }

    /// Check the bytes of `path` (a copy or an index file, per `check`) against `entry`.
    pub fn check_target(
        &self,
        path: &TargetPath,
        entry: &TargetFile,
        check: TargetCheck,
    ) -> Result<(), Error> {
        let file = match check {
            TargetCheck::None => return Ok(()),
            TargetCheck::Index => self.repository.index_dir().join(path.as_str()),
            TargetCheck::Copies => {
                let sha256 = entry.sha256().ok_or_else(|| Error::Target {
                    path: path.to_string(),
                    reason: "no sha256 hash".to_owned(),
                })?;
                self.repository
                    .targets_dir()
                    .join(target_copy_name(path, &sha256))
            }
        };
        let bytes = fsio::read_optional(&file)?.ok_or_else(|| Error::Target {
            path: path.to_string(),
            reason: format!("{} is missing", file.display()),
        })?;
        check_length_and_hashes(
            path.as_str(),
            &bytes,
            Some(entry.length),
            Some(&entry.hashes),
        )
        .map_err(Error::tuf(path.as_str()))
    }
}

/// Verify the whole repository: the top-level chain, every bin, and every target's bytes
/// per `check`.
pub fn verify_repository(
    repository: &Repository,
    trusted_root: &[u8],
    now: DateTime<Utc>,
    check: TargetCheck,
    limits: &Limits,
) -> Result<VerifyReport, Error> {
    let view = RepoView::load(repository, trusted_root, now, limits)?;
    let bins: Vec<u32> = (0..view.bins.bin_count())
        .filter_map(|b| u32::try_from(b).ok())
        .collect();
    let counts: Vec<usize> = bins
        .par_iter()
        .map(|&bin| {
            let targets = view.bin(bin)?;
            for (path, entry) in &targets.targets {
                view.check_target(path, entry, check)?;
            }
            Ok(targets.targets.len())
        })
        .collect::<Result<_, Error>>()?;
    Ok(VerifyReport {
        root_version: view.root.version.get(),
        timestamp_version: view.timestamp.version.get(),
        snapshot_version: view.snapshot.version.get(),
        bins: counts.len(),
        targets: counts.iter().sum(),
    })
}

fn top<T: Role>(root: &Root, bytes: &[u8], role: RoleType, limits: &Limits) -> Result<T, Error> {
    let meta = SignedMetadata::parse(bytes, role, limits).map_err(Error::tuf(role.as_str()))?;
    let authority = Authority::from_root(root, role).ok_or_else(|| Error::Missing {
        path: PathBuf::from("root"),
        reason: format!("root has no {role} role"),
    })?;
    Ok(
        verify::verify::<T>(&meta, role.as_str(), &authority, limits)
            .map_err(Error::tuf(role.as_str()))?
            .into_inner(),
    )
}

fn not_expired<T: Role>(meta: &T, role: &str, now: DateTime<Utc>) -> Result<(), Error> {
    if meta.expires().is_expired_at(now) {
        return Err(Error::Expired {
            role: role.to_owned(),
            expires: meta.expires().to_string(),
        });
    }
    Ok(())
}

fn rollback(what: &str, expected: u64, found: u64) -> Error {
    Error::Tuf {
        what: what.to_owned(),
        source: tuf_core::Error::RepoState {
            what: what.to_owned(),
            reason: format!("expected version {expected}, found {found}"),
        },
    }
}

fn read(dir: &std::path::Path, name: &str) -> Result<Vec<u8>, Error> {
    let path = dir.join(name);
    fsio::read_optional(&path)?.ok_or_else(|| Error::Missing {
        path,
        reason: "named by verified metadata but not on disk".to_owned(),
    })
}
