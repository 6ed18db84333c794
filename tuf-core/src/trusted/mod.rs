//! The client's trusted state: the metadata steps of TUF §5 ("detailed client workflow"),
//! one method per step, sans-IO.
//!
//! A [`TrustedState`] starts from a trusted root ([`TrustedState::new_from_root`], TUF
//! §5.2) and moves forward one verified file at a time. Every method takes the bytes as
//! received and the client's `now`; it either accepts them (the state moves on) or returns
//! an [`Error`] and leaves the state as it was. The caller owns fetching and storing; it
//! stores a file only after the step that took it returned `Ok`.
//!
//! Order (TUF §5.3 → §5.6), enforced ([`Error::OutOfOrder`] otherwise):
//!
//! ```text
//! new_from_root → update_root* → [load_local_timestamp] → update_timestamp
//!   → [load_local_snapshot] → update_snapshot (unless the local one is current)
//!   → update_targets → update_delegated*
//! ```
//!
//! ## Local metadata as a starting point
//!
//! Metadata the client stored earlier is loaded with the `load_local_*` steps (or, for
//! targets roles, the ordinary `update_*` steps). Local timestamp and snapshot are
//! *intermediate*: they are accepted when expired, because their only job is to be the
//! rollback baseline for the new ones (TUF §5.4.3, §5.5.5). Expiry is enforced on what
//! the update ends with: the final root before timestamp (§5.3.10), the timestamp before
//! snapshot is loaded (§5.4.4), the snapshot before any targets role (§5.5.6), each
//! targets role as it is loaded (§5.6.5). This is python-tuf's `TrustedMetadataSet`
//! behaviour, with the intermediate/final distinction made explicit in the method names.
//!
//! ## Strict and diagnostic mode
//!
//! A client uses [`Mode::Strict`]: the first broken rule refuses the step. A repository
//! verifier (`tuf verify`, `tuf status`) and the publisher's loader of the published state
//! use [`Mode::Diagnostic`]: the same steps and the same rule functions, but a rule past
//! which the checks below still mean something (expiry: an expired role whose signatures
//! verify still vouches for the files it names) is recorded as a [`Problem`] with its
//! [`Step`] and the step goes on; every other rule refuses the step as in strict mode.
//! A verifier that goes on past a refused delegated role (the other bins) does so by
//! checking each with [`TrustedState::check_delegated`], which keeps nothing.
//!
//! ## Delegated roles reached from several delegators
//!
//! The state holds one copy of each delegated role (one file per snapshot version), with
//! the set of delegators whose keys and threshold it has been verified against. A role
//! is only handed out through a delegator it was verified against
//! ([`TrustedState::delegated_via`]); reaching it through another delegator means calling
//! [`TrustedState::update_delegated`] again, which checks the signatures against *that*
//! delegator's keys. Different bytes for a role already held are refused
//! ([`Error::ConflictingMetadata`]). So a role trusted via `A` is never used as if `B` had
//! vouched for it (python-tuf and go-tuf key their cache by role name alone and do).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::crypto::PublicKey;
use crate::error::Error;
use crate::limits::Limits;
use crate::metadata::{
    check_length_and_hashes, KeyId, MetaFile, Role, RoleName, RoleType, Root, SignedMetadata,
    Snapshot, SuccinctRoles, Targets, Threshold, Timestamp,
};
use crate::verify::{self, Authority, Verified};

/// The name the top-level targets role is delegated from: root.
pub const ROOT_DELEGATOR: &str = "root";

/// Whether a [`TrustedState`] stops at the first broken rule or records those it can go
/// past (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A client: the first broken rule refuses the step, and the state stays as it was.
    #[default]
    Strict,
    /// A repository verifier: expiry is recorded ([`TrustedState::problems`]) and the walk
    /// goes on; any other broken rule refuses the step. Never for deciding what a client
    /// may use.
    Diagnostic,
}

/// The step of TUF §5 a problem was found at, which names the role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// Root version `version` (TUF §5.3).
    Root {
        /// The root's version.
        version: u64,
    },
    /// The timestamp (TUF §5.4).
    Timestamp,
    /// The snapshot (TUF §5.5).
    Snapshot,
    /// The top-level targets (TUF §5.6).
    Targets,
    /// Delegated targets role `role` (TUF §5.6.7; a hashed bin of TAP 15).
    Delegated {
        /// The role's name.
        role: String,
    },
}

impl Step {
    /// The step that loads targets role `role` (`targets` or a delegated role).
    pub fn of_targets_role(role: &str) -> Self {
        if role == RoleType::Targets.as_str() {
            Self::Targets
        } else {
            Self::Delegated {
                role: role.to_owned(),
            }
        }
    }

    /// The role's name: `root`, `timestamp`, `snapshot`, `targets` or the delegated role.
    pub fn role(&self) -> &str {
        match self {
            Self::Root { .. } => "root",
            Self::Timestamp => "timestamp",
            Self::Snapshot => "snapshot",
            Self::Targets => "targets",
            Self::Delegated { role } => role,
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Root { version } => write!(f, "root v{version}"),
            other => f.write_str(other.role()),
        }
    }
}

/// A broken rule a [`Mode::Diagnostic`] state recorded and went past.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Where it was found.
    pub step: Step,
    /// The rule's error, as strict mode would have returned it.
    pub error: Error,
}

/// The top-level metadata of a [`TrustedState`], taken out of it with the marker kept
/// ([`TrustedState::into_top_level`]).
#[derive(Debug)]
pub struct TopLevel {
    /// The final root.
    pub root: Verified<Root>,
    /// The timestamp, if loaded.
    pub timestamp: Option<Verified<Timestamp>>,
    /// The snapshot, if loaded.
    pub snapshot: Option<Verified<Snapshot>>,
    /// The top-level targets, if loaded.
    pub targets: Option<Verified<Targets>>,
}

/// What [`TrustedState::update_timestamp`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum TimestampUpdate {
    /// The new timestamp was accepted; the caller stores it.
    Updated,
    /// The new timestamp has the version of the trusted one: nothing new (TUF §5.4.3.1,
    /// as python-tuf). The trusted one is kept; the caller stores nothing.
    Unchanged,
}

/// What [`TrustedState::load_local_snapshot`] found.
#[derive(Debug)]
#[must_use]
pub enum LocalSnapshot {
    /// The local snapshot is the one the timestamp names (version, and length and hashes
    /// when listed) and has not expired: no download is needed.
    Current,
    /// The local snapshot verified and is now the rollback baseline, but it is not the
    /// final one; `reason` says why. The caller fetches the snapshot the timestamp names.
    Intermediate {
        /// Why it cannot be the final snapshot (expired, other version, other bytes).
        reason: Error,
    },
}

/// The verified metadata a client trusts, and the §5 steps that move it forward.
#[derive(Debug, Clone)]
pub struct TrustedState {
    limits: Limits,
    mode: Mode,
    /// What a diagnostic state recorded, in the order found.
    problems: Vec<Problem>,
    /// The steps in `problems`: a rule re-checked at a later step (the final root at the
    /// timestamp steps, the snapshot at each targets role) is recorded once.
    recorded: BTreeSet<Step>,
    root: Verified<Root>,
    root_steps: u32,
    /// Set when a root update changed the timestamp or snapshot keys (TUF §5.3.11).
    rotated: Option<&'static str>,
    timestamp: Option<Verified<Timestamp>>,
    snapshot: Option<Verified<Snapshot>>,
    targets: Option<Verified<Targets>>,
    /// The top-level targets' [`classic_bins`], worked out when it was loaded.
    targets_classic_bins: Option<SuccinctRoles>,
    delegated: BTreeMap<String, DelegatedEntry>,
}

#[derive(Debug, Clone)]
struct DelegatedEntry {
    targets: Verified<Targets>,
    /// Its [`classic_bins`], worked out when it was first verified.
    classic_bins: Option<SuccinctRoles>,
    sha256: [u8; 32],
    verified_via: BTreeSet<String>,
}

impl TrustedState {
    /// Start from a trusted root (TUF §5.2): verified with its own root keys and
    /// threshold only. An expired root is accepted here: it is the starting point of the
    /// root chain, and expiry is checked on the root the chain ends with (§5.3.10).
    pub fn new_from_root(bytes: &[u8], now: DateTime<Utc>) -> Result<Self, Error> {
        Self::new_from_root_with_limits(bytes, now, Limits::default())
    }

    /// As [`TrustedState::new_from_root`], with explicit limits.
    pub fn new_from_root_with_limits(
        bytes: &[u8],
        now: DateTime<Utc>,
        limits: Limits,
    ) -> Result<Self, Error> {
        Self::new_from_root_in_mode(bytes, now, limits, Mode::Strict)
    }

    /// As [`TrustedState::new_from_root_with_limits`], in `mode`.
    pub fn new_from_root_in_mode(
        bytes: &[u8],
        _now: DateTime<Utc>,
        limits: Limits,
        mode: Mode,
    ) -> Result<Self, Error> {
        let meta = SignedMetadata::parse(bytes, RoleType::Root, &limits)?;
        let root = verify::verify_root_self_signed(&meta, &limits)?;
        Ok(Self {
            limits,
            mode,
            problems: Vec::new(),
            recorded: BTreeSet::new(),
            root,
            root_steps: 0,
            rotated: None,
            timestamp: None,
            snapshot: None,
            targets: None,
            targets_classic_bins: None,
            delegated: BTreeMap::new(),
        })
    }

    /// Root N+1 (TUF §5.3). Signed by a threshold of the trusted root's root keys and of
    /// its own (§5.3.4); version exactly N+1 (§5.3.5). An expired intermediate root is
    /// accepted (§5.3.7 applies to the final root, checked by the timestamp steps). At
    /// most [`Limits::max_root_rotations`] steps per state (§5.3.3). Not after a
    /// timestamp is loaded.
    pub fn update_root(
        &mut self,
        bytes: &[u8],
        _now: DateTime<Utc>,
    ) -> Result<&Verified<Root>, Error> {
        if self.timestamp.is_some() {
            return Err(out_of_order(
                "update_root",
                "root cannot change after timestamp",
            ));
        }
        if self.root_steps >= self.limits.max_root_rotations {
            return Err(Error::TooMany {
                role: "root".to_owned(),
                what: "root rotations",
                found: usize::try_from(self.root_steps).unwrap_or(usize::MAX),
                limit: usize::try_from(self.limits.max_root_rotations).unwrap_or(usize::MAX),
            });
        }
        let meta = SignedMetadata::parse(bytes, RoleType::Root, &self.limits)?;
        // §5.3.4: a threshold of the trusted root's keys, then of the new root's own.
        let new_root = verify::verify_root_rotation(&meta, &self.root, &self.limits)?;
        // §5.3.5: exactly N+1, no skipping and no replay.
        let expected = self.root.version.next()?;
        if new_root.version != expected {
            return Err(Error::VersionMismatch {
                role: "root".to_owned(),
                expected: expected.get(),
                found: new_root.version.get(),
            });
        }
        // §5.3.11: note a rotation of the timestamp or snapshot keys; the local timestamp
        // and snapshot then stop being a rollback baseline.
        for role in [RoleType::Timestamp, RoleType::Snapshot] {
            if role_keys(&self.root, role) != role_keys(&new_root, role) {
                self.rotated.get_or_insert(role.as_str());
            }
        }
        self.root = new_root;
        self.root_steps = self.root_steps.saturating_add(1);
        Ok(&self.root)
    }

    /// Whether a root update since this state started rotated the timestamp or snapshot
    /// keys (TUF §5.3.11): the caller deletes its stored timestamp and snapshot, and the
    /// `load_local_*` steps refuse them with [`Error::KeysRotated`].
    pub fn fast_forward_recovery_needed(&self) -> bool {
        self.rotated.is_some()
    }

    /// Load the timestamp the client stored earlier, as the rollback baseline for the new
    /// one (TUF §5.4.3). Signed by the final root's timestamp keys; expiry is *not*
    /// checked (an expired local timestamp is still a baseline). Checks the final root's
    /// expiry first (§5.3.10).
    pub fn load_local_timestamp(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<(), Error> {
        if self.timestamp.is_some() || self.snapshot.is_some() {
            return Err(out_of_order(
                "load_local_timestamp",
                "a timestamp is already loaded",
            ));
        }
        let mut found = Vec::new();
        let result = self.check_final_root(now, &mut found).and_then(|()| {
            if let Some(role) = self.rotated {
                return Err(Error::KeysRotated {
                    role: role.to_owned(),
                });
            }
            self.verify_top_level::<Timestamp>(bytes)
        });
        self.record(found);
        self.timestamp = Some(result?);
        Ok(())
    }

    /// The timestamp from the repository (TUF §5.4): the final root must not be expired
    /// (§5.3.10); signed by root's timestamp keys (§5.4.2); against a trusted timestamp,
    /// its version never lower and the same version meaning nothing new (§5.4.3.1), the
    /// snapshot version it names never lower (§5.4.3.2); not expired (§5.4.4).
    pub fn update_timestamp(
        &mut self,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<TimestampUpdate, Error> {
        if self.snapshot.is_some() {
            return Err(out_of_order(
                "update_timestamp",
                "timestamp cannot change after snapshot",
            ));
        }
        let mut found = Vec::new();
        let result = self.timestamp_step(bytes, now, &mut found);
        self.record(found);
        Ok(match result? {
            Some(new) => {
                self.timestamp = Some(new);
                TimestampUpdate::Updated
            }
            None => TimestampUpdate::Unchanged,
        })
    }

    /// The rules of [`TrustedState::update_timestamp`]; `None` for nothing new.
    fn timestamp_step(
        &self,
        bytes: &[u8],
        now: DateTime<Utc>,
        found: &mut Vec<Problem>,
    ) -> Result<Option<Verified<Timestamp>>, Error> {
        self.check_final_root(now, found)?;
        let new = self.verify_top_level::<Timestamp>(bytes)?;
        if let Some(trusted) = &self.timestamp {
            if new.version < trusted.version {
                return Err(Error::Rollback {
                    role: "timestamp".to_owned(),
                    trusted: trusted.version.get(),
                    new: new.version.get(),
                });
            }
            if new.version == trusted.version {
                return Ok(None);
            }
            let trusted_snapshot = snapshot_meta(trusted)?.version;
            let new_snapshot = snapshot_meta(&new)?.version;
            if new_snapshot < trusted_snapshot {
                return Err(Error::Rollback {
                    role: "snapshot".to_owned(),
                    trusted: trusted_snapshot.get(),
                    new: new_snapshot.get(),
                });
            }
        }
        self.soft(
            found,
            Step::Timestamp,
            check_expiry("timestamp", &*new, now),
        )?;
        Ok(Some(new))
    }

    /// Load the snapshot the client stored earlier (TUF §5.5, local copy). Signed by
    /// root's snapshot keys. It becomes the rollback baseline whether or not it is
    /// current; its length and hashes are not checked against the timestamp to be loaded
    /// (it verified when it was stored, and the timestamp may have moved on), only to
    /// decide whether it is [`LocalSnapshot::Current`].
    pub fn load_local_snapshot(
        &mut self,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<LocalSnapshot, Error> {
        if self.snapshot.is_some() {
            return Err(out_of_order(
                "load_local_snapshot",
                "a snapshot is already loaded",
            ));
        }
        let mut found = Vec::new();
        let ready = self
            .snapshot_step_ready("load_local_snapshot", now, &mut found)
            .cloned();
        self.record(found);
        let expected = ready?;
        if let Some(role) = self.rotated {
            return Err(Error::KeysRotated {
                role: role.to_owned(),
            });
        }
        let snapshot = self.verify_snapshot(bytes)?;
        let current = check_snapshot_is(&expected, &snapshot, bytes)
            .and_then(|()| check_expiry("snapshot", &*snapshot, now));
        self.snapshot = Some(snapshot);
        Ok(match current {
            Ok(()) => LocalSnapshot::Current,
            Err(reason) => LocalSnapshot::Intermediate { reason },
        })
    }

    /// The snapshot from the repository (TUF §5.5): the trusted timestamp must not be
    /// expired; length and hashes as the timestamp lists them (§5.5.2); signed by root's
    /// snapshot keys (§5.5.3); version equal to the timestamp's (§5.5.4); against a
    /// trusted snapshot, no targets role removed and none with a lower version (§5.5.5);
    /// not expired (§5.5.6).
    pub fn update_snapshot(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<(), Error> {
        let mut found = Vec::new();
        let result = self.snapshot_step(bytes, now, &mut found);
        self.record(found);
        self.snapshot = Some(result?);
        Ok(())
    }

    /// The rules of [`TrustedState::update_snapshot`].
    fn snapshot_step(
        &self,
        bytes: &[u8],
        now: DateTime<Utc>,
        found: &mut Vec<Problem>,
    ) -> Result<Verified<Snapshot>, Error> {
        let expected = self.snapshot_step_ready("update_snapshot", now, found)?;
        check_length_and_hashes("snapshot", bytes, expected.length, expected.hashes.as_ref())?;
        let new = self.verify_snapshot(bytes)?;
        if new.version != expected.version {
            return Err(Error::VersionMismatch {
                role: "snapshot".to_owned(),
                expected: expected.version.get(),
                found: new.version.get(),
            });
        }
        if let Some(trusted) = &self.snapshot {
            for (file, old) in &trusted.meta {
                let role = file.strip_suffix(".json").unwrap_or(file);
                let Some(now_listed) = new.meta.get(file) else {
                    return Err(Error::RoleRemoved {
                        role: role.to_owned(),
                    });
                };
                if now_listed.version < old.version {
                    return Err(Error::Rollback {
                        role: role.to_owned(),
                        trusted: old.version.get(),
                        new: now_listed.version.get(),
                    });
                }
            }
        }
        self.soft(found, Step::Snapshot, check_expiry("snapshot", &*new, now))?;
        Ok(new)
    }

    /// The top-level targets role (TUF §5.6), from the repository or a local copy: the
    /// snapshot must be final (not expired, the timestamp's version; §5.5.4, §5.5.6); the
    /// snapshot lists `targets.json` (§5.6.1) and its length and hashes when given
    /// (§5.6.2); signed by root's targets keys (§5.6.3); version equal to the snapshot's
    /// (§5.6.4); not expired (§5.6.5).
    pub fn update_targets(
        &mut self,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<&Verified<Targets>, Error> {
        if self.targets.is_some() {
            return Err(out_of_order("update_targets", "targets is already loaded"));
        }
        let mut found = Vec::new();
        let result = Authority::from_root(&self.root, RoleType::Targets)
            .ok_or_else(|| missing_root_role(RoleType::Targets))
            .and_then(|authority| {
                self.verify_targets_role("targets", &authority, bytes, now, &mut found)
            });
        self.record(found);
        let targets = result?;
        self.targets_classic_bins = classic_bins(&targets);
        Ok(&*self.targets.insert(targets))
    }

    /// A delegated targets role `role_name`, as delegated by `delegator` (TUF §5.6 and
    /// §5.6.7): `delegator` is loaded and delegates to `role_name` (an explicit role or
    /// one of its succinct bins); the snapshot lists the role, with its version, and its
    /// length and hashes when given; signed by a threshold of the keys *`delegator`*
    /// lists for it; not expired.
    ///
    /// When the role is already held (reached before through another delegator), the
    /// bytes must be the same and only the signatures are checked again, against
    /// `delegator`'s keys for it.
    pub fn update_delegated(
        &mut self,
        delegator: &str,
        role_name: &str,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<&Targets, Error> {
        let sha256 = crate::hash::sha256(bytes);
        let mut found = Vec::new();
        let verified = match self.delegated.get(role_name) {
            Some(held) if held.sha256 != sha256 => {
                // Checked after the delegation, as before: a role not delegated is that.
                self.delegated_authority(delegator, role_name)?;
                return Err(Error::ConflictingMetadata {
                    role: role_name.to_owned(),
                });
            }
            Some(_) => {
                let authority = self.delegated_authority(delegator, role_name)?;
                let meta = SignedMetadata::parse(bytes, RoleType::Targets, &self.limits)?;
                verify::check_threshold(&meta, role_name, &authority)?;
                None
            }
            None => {
                let result = self.delegated_step(delegator, role_name, bytes, now, &mut found);
                self.record(found);
                Some(result?)
            }
        };
        let entry = match verified {
            Some(targets) => self
                .delegated
                .entry(role_name.to_owned())
                .or_insert(DelegatedEntry {
                    classic_bins: classic_bins(&targets),
                    targets,
                    sha256,
                    verified_via: BTreeSet::new(),
                }),
            None => self
                .delegated
                .get_mut(role_name)
                .ok_or_else(|| not_delegated(delegator, role_name))?,
        };
        entry.verified_via.insert(delegator.to_owned());
        Ok(&entry.targets)
    }

    /// The rules of [`TrustedState::update_delegated`] for delegated role `role_name` as
    /// `delegator` delegates it, without keeping it: for a repository verifier that checks
    /// thousands of hashed bins in parallel and drops each once checked. Returns the
    /// verified role and what a diagnostic state went past for it (nothing in strict mode,
    /// where the first broken rule is the error).
    pub fn check_delegated(
        &self,
        delegator: &str,
        role_name: &str,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(Verified<Targets>, Vec<Problem>), Error> {
        let mut found = Vec::new();
        let verified = self.delegated_step(delegator, role_name, bytes, now, &mut found)?;
        Ok((verified, found))
    }

    /// §5.6 and §5.6.7 for delegated role `role_name` as `delegator` delegates it.
    fn delegated_step(
        &self,
        delegator: &str,
        role_name: &str,
        bytes: &[u8],
        now: DateTime<Utc>,
        found: &mut Vec<Problem>,
    ) -> Result<Verified<Targets>, Error> {
        let authority = self.delegated_authority(delegator, role_name)?;
        self.verify_targets_role(role_name, &authority, bytes, now, found)
    }

    /// The authority trusted `delegator` gives `role_name` (TUF §5.6.7): a delegated
    /// role, never a top-level name.
    fn delegated_authority(
        &self,
        delegator: &str,
        role_name: &str,
    ) -> Result<Authority<'_>, Error> {
        let name = RoleName::parse(role_name)?;
        if name.is_top_level_ignoring_case() {
            return Err(not_delegated(delegator, role_name));
        }
        let delegator_targets = self
            .trusted_targets(delegator)
            .ok_or_else(|| not_delegated(delegator, role_name))?;
        delegated_authority(delegator_targets, self.classic_bins(delegator), role_name)
            .ok_or_else(|| not_delegated(delegator, role_name))
    }

    /// The mode this state was made in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// What a [`Mode::Diagnostic`] state went past, in the order found (always empty in
    /// strict mode).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Take the recorded problems out (see [`TrustedState::problems`]). A step's problem
    /// taken out is still not recorded again when a later step re-checks its rule.
    pub fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }

    /// The top-level metadata, marker kept, for a caller that goes on with it alone (the
    /// publisher's loader keeps it in its published state).
    pub fn into_top_level(self) -> TopLevel {
        TopLevel {
            root: self.root,
            timestamp: self.timestamp,
            snapshot: self.snapshot,
            targets: self.targets,
        }
    }

    /// The trusted root (the final one once the chain is done).
    pub fn root(&self) -> &Verified<Root> {
        &self.root
    }

    /// The trusted timestamp, if loaded.
    pub fn timestamp(&self) -> Option<&Verified<Timestamp>> {
        self.timestamp.as_ref()
    }

    /// The trusted snapshot, if loaded (it may be intermediate; see
    /// [`TrustedState::load_local_snapshot`]).
    pub fn snapshot(&self) -> Option<&Verified<Snapshot>> {
        self.snapshot.as_ref()
    }

    /// The trusted top-level targets, if loaded.
    pub fn targets(&self) -> Option<&Verified<Targets>> {
        self.targets.as_ref()
    }

    /// Delegated role `role`, if it has been verified against the keys `delegator` lists
    /// for it (`delegator` is `targets` or a delegated role). `None` means the caller
    /// must call [`TrustedState::update_delegated`] for this delegator first.
    pub fn delegated_via(&self, delegator: &str, role: &str) -> Option<&Verified<Targets>> {
        self.delegated
            .get(role)
            .filter(|entry| entry.verified_via.contains(delegator))
            .map(|entry| &entry.targets)
    }

    /// Delegated role `role` as held, whichever delegator it was verified through.
    pub fn delegated(&self, role: &str) -> Option<&Verified<Targets>> {
        self.delegated.get(role).map(|entry| &entry.targets)
    }

    /// The targets role `role` as trusted: `targets` or a held delegated role.
    pub fn trusted_targets(&self, role: &str) -> Option<&Verified<Targets>> {
        if role == RoleType::Targets.as_str() {
            self.targets()
        } else {
            self.delegated(role)
        }
    }

    /// The hashed-bin layout of trusted targets role `role`'s classic delegated roles, when
    /// they are exactly hash-prefix bins ([`classic_bins`]); worked out once, when the
    /// role was loaded, so that a lookup ([`crate::delegation::find_target`]) takes a
    /// path's bin from its hash instead of testing every role's prefixes.
    pub(crate) fn classic_bins(&self, role: &str) -> Option<&SuccinctRoles> {
        if role == RoleType::Targets.as_str() {
            self.targets_classic_bins.as_ref()
        } else {
            self.delegated.get(role)?.classic_bins.as_ref()
        }
    }

    /// What the trusted timestamp says of the snapshot.
    pub fn snapshot_meta(&self) -> Option<&MetaFile> {
        self.timestamp.as_ref().and_then(|t| t.snapshot_meta())
    }

    /// What the trusted snapshot says of targets role `role`.
    pub fn role_meta(&self, role: &str) -> Option<&MetaFile> {
        self.snapshot.as_ref().and_then(|s| s.role_meta(role))
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// In strict mode, `rule`'s error; in diagnostic mode, record it in `found` (once per
    /// step) and go on. For the rules a verifier can go past: expiry.
    fn soft(
        &self,
        found: &mut Vec<Problem>,
        step: Step,
        rule: Result<(), Error>,
    ) -> Result<(), Error> {
        let Err(error) = rule else {
            return Ok(());
        };
        match self.mode {
            Mode::Strict => Err(error),
            Mode::Diagnostic => {
                if !self.recorded.contains(&step) && !found.iter().any(|p| p.step == step) {
                    found.push(Problem { step, error });
                }
                Ok(())
            }
        }
    }

    /// Keep what a step went past (nothing in strict mode).
    fn record(&mut self, found: Vec<Problem>) {
        for problem in found {
            if self.recorded.insert(problem.step.clone()) {
                self.problems.push(problem);
            }
        }
    }

    fn check_final_root(&self, now: DateTime<Utc>, found: &mut Vec<Problem>) -> Result<(), Error> {
        // §5.3.10: the root the chain ended with must not be expired.
        let step = Step::Root {
            version: self.root.version.get(),
        };
        self.soft(found, step, check_expiry("root", &*self.root, now))
    }

    fn snapshot_step_ready(
        &self,
        step: &'static str,
        now: DateTime<Utc>,
        found: &mut Vec<Problem>,
    ) -> Result<&MetaFile, Error> {
        if self.targets.is_some() {
            return Err(out_of_order(step, "snapshot cannot change after targets"));
        }
        let timestamp = self
            .timestamp
            .as_ref()
            .ok_or_else(|| out_of_order(step, "timestamp must be loaded first"))?;
        // §5.4.4 for the timestamp the update ended with.
        self.soft(
            found,
            Step::Timestamp,
            check_expiry("timestamp", &**timestamp, now),
        )?;
        snapshot_meta(timestamp)
    }

    fn verify_top_level<T: Role>(&self, bytes: &[u8]) -> Result<Verified<T>, Error> {
        let meta = SignedMetadata::parse(bytes, T::TYPE, &self.limits)?;
        let authority =
            Authority::from_root(&self.root, T::TYPE).ok_or_else(|| missing_root_role(T::TYPE))?;
        verify::verify(&meta, T::TYPE.as_str(), &authority, &self.limits)
    }

    /// A snapshot signed by root's snapshot keys (§5.5.3). A snapshot of thousands of
    /// bins is read without `serde_json::Value` when it is in the canonical form this
    /// workspace writes ([`verify::verify_snapshot_direct`], proven to agree with the
    /// general path); anything else, or any failure, takes the general path and its error.
    fn verify_snapshot(&self, bytes: &[u8]) -> Result<Verified<Snapshot>, Error> {
        let direct = Authority::from_root(&self.root, RoleType::Snapshot)
            .and_then(|authority| verify::verify_snapshot_direct(&authority, bytes, &self.limits));
        match direct {
            Some(snapshot) => Ok(snapshot),
            None => self.verify_top_level::<Snapshot>(bytes),
        }
    }

    /// §5.6.1–§5.6.5 for any targets role, top-level or delegated.
    fn verify_targets_role(
        &self,
        role_name: &str,
        authority: &Authority<'_>,
        bytes: &[u8],
        now: DateTime<Utc>,
        found: &mut Vec<Problem>,
    ) -> Result<Verified<Targets>, Error> {
        let snapshot = self.final_snapshot(now, found)?;
        let targets = check_listed_role(snapshot, role_name, authority, bytes, &self.limits)?;
        self.soft(
            found,
            Step::of_targets_role(role_name),
            check_expiry(role_name, &*targets, now),
        )?;
        Ok(targets)
    }

    /// The snapshot, checked as the final one: the timestamp's version, not expired.
    fn final_snapshot(
        &self,
        now: DateTime<Utc>,
        found: &mut Vec<Problem>,
    ) -> Result<&Snapshot, Error> {
        let step = "update_targets";
        let snapshot = self
            .snapshot
            .as_ref()
            .ok_or_else(|| out_of_order(step, "snapshot must be loaded first"))?;
        let timestamp = self
            .timestamp
            .as_ref()
            .ok_or_else(|| out_of_order(step, "timestamp must be loaded first"))?;
        let expected = snapshot_meta(timestamp)?;
        if snapshot.version != expected.version {
            return Err(Error::VersionMismatch {
                role: "snapshot".to_owned(),
                expected: expected.version.get(),
                found: snapshot.version.get(),
            });
        }
        self.soft(
            found,
            Step::Snapshot,
            check_expiry("snapshot", &**snapshot, now),
        )?;
        Ok(snapshot)
    }
}

/// TUF §5.6.1–§5.6.4 for targets role `role_name` (top-level or delegated) against the
/// final `snapshot`: the snapshot lists it (§5.6.1), its length and hashes when listed
/// (§5.6.2), signed by a threshold of `authority` (§5.6.3), of the version the snapshot
/// lists (§5.6.4). Expiry (§5.6.5) is the caller's, as it may go past it. The one
/// implementation, used by [`TrustedState`] and by the publisher's
/// [`crate::repo::PublishedState::verify_bin`].
pub(crate) fn check_listed_role(
    snapshot: &Snapshot,
    role_name: &str,
    authority: &Authority<'_>,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Verified<Targets>, Error> {
    let expected = snapshot
        .role_meta(role_name)
        .ok_or_else(|| Error::MissingRole {
            role: role_name.to_owned(),
        })?;
    check_length_and_hashes(role_name, bytes, expected.length, expected.hashes.as_ref())?;
    let meta = SignedMetadata::parse(bytes, RoleType::Targets, limits)?;
    let targets: Verified<Targets> = verify::verify(&meta, role_name, authority, limits)?;
    if targets.version != expected.version {
        return Err(Error::VersionMismatch {
            role: role_name.to_owned(),
            expected: expected.version.get(),
            found: targets.version.get(),
        });
    }
    Ok(targets)
}

/// The classic delegated `roles` of `targets` as hashed bins, when they are exactly what
/// [`SuccinctRoles::to_delegated_roles`] makes of some bins (the PEP 458 layout with
/// `path_hash_prefixes`, [`crate::metadata::Delegations::hashed_bins`]): every role
/// terminating and trusted for exactly the paths of its bin, in bin order. The search of
/// TUF §5.6.7.2 then always ends at the one role of the path's bin, which
/// [`SuccinctRoles::role_for`] names from one hash. `None` for `succinct_roles` (already
/// one hash away) and for any other delegations (searched role by role).
fn classic_bins(targets: &Targets) -> Option<SuccinctRoles> {
    let delegations = targets.delegations.as_ref()?;
    match (&delegations.roles, &delegations.succinct_roles) {
        (Some(_), None) => {
            #[cfg(test)]
            tests::CLASSIC_BIN_LAYOUTS_BUILT.with(|built| built.set(built.get() + 1));
            delegations.hashed_bins().ok()
        }
        _ => None,
    }
}

/// The authority `delegator` gives `role_name`: an explicit delegated role of that name,
/// or one of its succinct bins.
///
/// With `classic`, the delegator's classic roles as bins ([`classic_bins`]), a bin's role
/// is found from its name in one step instead of a search through thousands of roles.
fn delegated_authority<'a>(
    delegator: &'a Targets,
    classic: Option<&SuccinctRoles>,
    role_name: &str,
) -> Option<Authority<'a>> {
    let delegations = delegator.delegations.as_ref()?;
    if let Some(roles) = &delegations.roles {
        // INVARIANT of `classic_bins`: role number n is bin n; the name is checked anyway.
        let by_bin = classic
            .and_then(|bins| bins.bin_number(role_name))
            .and_then(|bin| usize::try_from(bin).ok())
            .and_then(|bin| roles.get(bin))
            .filter(|role| role.name.as_str() == role_name);
        if let Some(role) = by_bin {
            return Some(Authority::from_delegated_role(delegations, role));
        }
        if let Some(role) = roles.iter().find(|r| r.name.as_str() == role_name) {
            return Some(Authority::from_delegated_role(delegations, role));
        }
    }
    if let Some(bins) = &delegations.succinct_roles {
        if bins.bin_number(role_name).is_some() {
            return Some(Authority::from_succinct(delegations, bins));
        }
    }
    None
}

/// The keys (by id, with the key itself) and threshold a root gives `role`, to compare
/// two roots (TUF §5.3.11).
fn role_keys(
    root: &Root,
    role: RoleType,
) -> Option<(BTreeMap<&KeyId, Option<&PublicKey>>, Threshold)> {
    let keys = root.role_keys(role)?;
    let ids = keys
        .keyids
        .iter()
        .map(|id| (id, root.keys.get(id)))
        .collect();
    Some((ids, keys.threshold))
}

fn snapshot_meta(timestamp: &Timestamp) -> Result<&MetaFile, Error> {
    // INVARIANT: `Timestamp::check` guarantees the entry in parsed metadata; this error
    // is for a timestamp built in code without it.
    timestamp.snapshot_meta().ok_or_else(|| Error::MissingRole {
        role: "snapshot".to_owned(),
    })
}

/// Whether `snapshot` (as `bytes`) is the one `expected` names.
fn check_snapshot_is(expected: &MetaFile, snapshot: &Snapshot, bytes: &[u8]) -> Result<(), Error> {
    if snapshot.version != expected.version {
        return Err(Error::VersionMismatch {
            role: "snapshot".to_owned(),
            expected: expected.version.get(),
            found: snapshot.version.get(),
        });
    }
    check_length_and_hashes("snapshot", bytes, expected.length, expected.hashes.as_ref())
}

/// Refuse `metadata` of `role` that has expired at `now` (TUF §5.3.10, §5.4.4, §5.5.6,
/// §5.6.5): [`Error::Expired`] naming the role, its version and its expiry. Public so a
/// client re-checking trusted metadata later (at lookup time) applies the same rule.
pub fn check_expiry<T: Role>(role: &str, metadata: &T, now: DateTime<Utc>) -> Result<(), Error> {
    if metadata.expires().is_expired_at(now) {
        return Err(Error::Expired {
            role: role.to_owned(),
            version: metadata.version().get(),
            expires: metadata.expires().to_string(),
        });
    }
    Ok(())
}

fn out_of_order(step: &'static str, reason: &str) -> Error {
    Error::OutOfOrder {
        step,
        reason: reason.to_owned(),
    }
}

fn not_delegated(delegator: &str, role: &str) -> Error {
    Error::NotDelegated {
        delegator: delegator.to_owned(),
        role: role.to_owned(),
    }
}

fn missing_root_role(role: RoleType) -> Error {
    Error::Invalid {
        role: "root".to_owned(),
        reason: format!("root has no {role} role"),
    }
}

#[cfg(test)]
pub(crate) mod tests;
