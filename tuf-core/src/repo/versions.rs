//! Version floors: sign a role above the next version when the next one is taken.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::metadata::Version;

/// The lowest version the editor may give each role it signs: the snapshot (`"snapshot"`)
/// and the bins (by role name, `"crates-bin-a3f"`). A role is signed at the larger of
/// its previous version plus one and its floor.
///
/// Why: on object storage, versioned files (`N.snapshot.json`, `N.crates-bin-a3f.json`)
/// are created create-only, and a publisher that lost a race or crashed may have created
/// `N+1` already, with other bytes, without any timestamp naming it. Such a name can never
/// be reused (overwriting it could change a file a client is reading), so the next publish
/// must skip it. TUF allows that: clients check these versions only for rollback, never
/// for a step of one — a bin's version must not go down from the trusted snapshot to the
/// new one (TUF §5.5.5: "less than or equal to its version number in the new snapshot"),
/// the snapshot's version must not go down from the trusted timestamp to the new one
/// (§5.4.3.2), and each file must hold the version its referrer names (§5.5.4, §5.6.4).
/// Only root moves one version at a time (§5.3.5), and the timestamp is unversioned on
/// disk (§5.4.1), so neither has a floor here: a floor given for `root`, `targets` or
/// `timestamp` is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFloors(BTreeMap<String, Version>);

impl VersionFloors {
    /// No floors: every role is signed at its previous version plus one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raise the floor of `role` to `version`; a lower floor leaves it as it is.
    pub fn raise(&mut self, role: &str, version: Version) {
        let floor = self.0.entry(role.to_owned()).or_insert(version);
        if *floor < version {
            *floor = version;
        }
    }

    /// The floor of `role`, if one was raised.
    pub fn get(&self, role: &str) -> Option<Version> {
        self.0.get(role).copied()
    }

    /// Whether no floor was raised.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The version to sign `role` at after `previous` (`None`: never signed): the larger
    /// of `previous + 1` (or 1) and the floor.
    pub(crate) fn next(&self, role: &str, previous: Option<Version>) -> Result<Version, Error> {
        let next = match previous {
            Some(previous) => previous.next()?,
            None => Version::new(1)?,
        };
        Ok(match self.get(role) {
            Some(floor) if floor > next => floor,
            _ => next,
        })
    }
}
