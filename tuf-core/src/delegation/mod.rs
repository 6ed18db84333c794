//! Target lookup through delegations (TUF §5.6.7), sans-IO.
//!
//! [`find_target`] walks the delegation graph held in a [`TrustedState`]:
//!
//! * pre-order depth-first, children in the order their delegator lists them (§5.6.7.1);
//! * a role is trusted for a path when one of its `paths` patterns matches it (shell-style,
//!   per `/`-separated segment, `*` and `?` never crossing a `/`, case-sensitive) or the
//!   SHA-256 of the path starts with one of its `path_hash_prefixes` (§5.6.7.2);
//! * a `terminating` role that matches ends the search after its own subtree
//!   (§5.6.7.2.1), as python-tuf does: the roles listed before it in the same delegator
//!   are still searched, nothing after it nor above it;
//! * TAP 15 succinct bins: a path is looked up only in its one bin (the bin is a
//!   terminating delegation), never in the other bins; classic roles laid out exactly as
//!   such bins (`path_hash_prefixes`, PEP 458) lead to the same one bin, which is named
//!   from the path's hash in one step ([`TrustedState`] works the layout out once, when
//!   it loads the delegating role);
//! * a role already visited in this lookup is skipped (cycles, diamonds), and at most
//!   [`Limits::max_delegations_visited`](crate::Limits) roles are visited, the top-level
//!   targets included; reaching the cap with roles left is an error
//!   ([`Error::TooMany`]) rather than a silent "not found";
//! * a role the trusted snapshot does not list is an error ([`Error::MissingRole`]) and
//!   is never requested.
//!
//! The walk does no I/O. When it reaches a role that is not yet trusted *through the
//! delegator that reached it*, it returns [`Lookup::Load`]; the caller fetches that role
//! (or takes its stored copy), hands it to [`TrustedState::update_delegated`] with that
//! delegator, and calls [`find_target`] again. The walk is deterministic, so the repeated
//! walk reaches the same point and goes on. Because a role is only used through a
//! delegator whose keys verified it ([`TrustedState::delegated_via`]), a role reachable
//! from two delegators is checked against the keys of the one that reached it in this
//! lookup, whatever earlier lookups loaded.
//!
//! A finished walk ([`Lookup::Found`] or [`Lookup::NotFound`]) reports every role it
//! read, with the metadata it read, so that a caller answering from a state verified
//! earlier can check each of them again for expiry (§5.6.5): an expired role must be
//! able to say neither "here it is" nor "there is no such target".

use std::collections::BTreeSet;

use crate::error::Error;
use crate::metadata::{TargetFile, TargetPath, Targets};
use crate::trusted::TrustedState;

/// The outcome of one walk of [`find_target`].
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'s> {
    /// The target, from the first role in search order that lists it.
    Found {
        /// The role whose metadata lists the target.
        role: String,
        /// The roles from `targets` down to `role`, in delegation order.
        chain: Vec<String>,
        /// What that role says of the target.
        target: &'s TargetFile,
        /// Every role the walk read, in visit order, `role` last.
        visited: Vec<Visited<'s>>,
    },
    /// No role trusted for the path lists it: an authenticated "no such target".
    NotFound {
        /// Every role the walk read, in visit order: each one vouches for the absence.
        visited: Vec<Visited<'s>>,
    },
    /// The walk needs `role` as delegated by `delegator`: load it with
    /// [`TrustedState::update_delegated`], then walk again.
    Load {
        /// The role that delegates (`targets` or a delegated role).
        delegator: String,
        /// The role to load.
        role: String,
    },
}

/// A role a finished walk read, and the trusted metadata it read for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Visited<'s> {
    /// The role's name (`targets` or a delegated role).
    pub role: String,
    /// The metadata the walk used for it.
    pub metadata: &'s Targets,
}

/// Walk the delegations held in `state` for `path` (TUF §5.6.7). Needs the top-level
/// targets loaded. See the module documentation for the rules.
pub fn find_target<'s>(state: &'s TrustedState, path: &TargetPath) -> Result<Lookup<'s>, Error> {
    let top = state.targets().ok_or_else(|| Error::OutOfOrder {
        step: "find_target",
        reason: "targets must be loaded first".to_owned(),
    })?;
    let limit = state.limits().max_delegations_visited;
    let mut to_visit = vec![Visit {
        role: "targets".to_owned(),
        delegator: "root".to_owned(),
        chain: Vec::new(),
    }];
    let mut visited: BTreeSet<String> = BTreeSet::new();
    // `visited` in visit order, with the metadata read: what the caller re-checks.
    let mut read: Vec<Visited<'s>> = Vec::new();
    while let Some(visit) = to_visit.pop() {
        if visited.contains(&visit.role) {
            continue;
        }
        if visited.len() >= limit {
            return Err(Error::TooMany {
                role: visit.role,
                what: "delegated roles visited in one lookup",
                found: visited.len().saturating_add(1),
                limit,
            });
        }
        let metadata: &Targets = if visit.delegator == "root" {
            top
        } else if let Some(held) = state.delegated_via(&visit.delegator, &visit.role) {
            held
        } else if state.role_meta(&visit.role).is_none() {
            return Err(Error::MissingRole { role: visit.role });
        } else {
            return Ok(Lookup::Load {
                delegator: visit.delegator,
                role: visit.role,
            });
        };
        let mut chain = visit.chain;
        chain.push(visit.role.clone());
        read.push(Visited {
            role: visit.role.clone(),
            metadata,
        });
        if let Some(target) = metadata.targets.get(path) {
            return Ok(Lookup::Found {
                role: visit.role,
                chain,
                target,
                visited: read,
            });
        }
        visited.insert(visit.role.clone());
        let (children, terminating) = match state.classic_bins(&visit.role) {
            // Classic roles that are exactly hash-prefix bins (checked when the role was
            // loaded): the search would end at the path's one bin, named from its hash
            // here rather than by hashing the path again for each of thousands of roles.
            Some(bins) => (vec![bins.role_for(path.as_str())], true),
            None => children_for(metadata, path),
        };
        if terminating {
            to_visit.clear();
        }
        // Reverse so that the first listed child is popped first (pre-order).
        to_visit.extend(children.into_iter().rev().map(|role| Visit {
            role,
            delegator: visit.role.clone(),
            chain: chain.clone(),
        }));
    }
    Ok(Lookup::NotFound { visited: read })
}

/// The roles `metadata` delegates `path` to, in listed order, up to and including the
/// first terminating one; and whether the list ended at a terminating one.
pub fn children_for(metadata: &Targets, path: &TargetPath) -> (Vec<String>, bool) {
    let Some(delegations) = &metadata.delegations else {
        return (Vec::new(), false);
    };
    if let Some(roles) = &delegations.roles {
        let mut children = Vec::new();
        for role in roles {
            if role.is_delegated_path(path.as_str()) {
                children.push(role.name.to_string());
                if role.terminating {
                    return (children, true);
                }
            }
        }
        return (children, false);
    }
    if let Some(bins) = &delegations.succinct_roles {
        // TAP 15: one bin per path, a terminating delegation.
        return (vec![bins.role_for(path.as_str())], true);
    }
    (Vec::new(), false)
}

#[derive(Debug)]
struct Visit {
    role: String,
    delegator: String,
    chain: Vec<String>,
}

#[cfg(test)]
mod tests;
