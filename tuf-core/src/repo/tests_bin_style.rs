//! Bin styles: TAP 15 `succinct_roles` and classic `path_hash_prefixes` roles lay out the
//! same bins, the editor works on either, and this project's client reaches a target
//! through a classic hash-prefix bin.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::offline::OfflineRoles;
use super::tests::{entry, offline_roles_under, publish_first};
use super::*;
use crate::crypto::Ed25519Signer;
use crate::delegation::{find_target, Lookup};
use crate::limits::Limits;
use crate::metadata::{
    BinMismatch, DelegatedRole, Delegations, NotHashedBins, RoleName, SuccinctRoles, Threshold,
};
use crate::trusted::TrustedState;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn signer(seed: u8) -> Ed25519Signer {
    Ed25519Signer::from_seed(&[seed; 32]).unwrap()
}

fn bins(bit_length: u8) -> SuccinctRoles {
    let id = signer(3).key_id().clone();
    SuccinctRoles::new(
        vec![id],
        Threshold::new(1).unwrap(),
        bit_length,
        "crates-bin",
    )
}

fn paths() -> Vec<String> {
    let mut paths: Vec<String> = (0..600).map(|i| format!("cr/at/crate-{i}")).collect();
    paths.extend(["config.json", "se/rd/serde", "1/a", "3/a/abc"].map(String::from));
    paths
}

#[test]
fn hash_prefixes_of_a_bin() {
    assert_eq!(bins(4).hash_prefixes(0xa), ["a"]);
    assert_eq!(bins(12).hash_prefixes(0xa3f), ["a3f"]);
    assert_eq!(bins(8).hash_prefixes(0x07), ["07"]);
    assert_eq!(
        bins(1).hash_prefixes(0),
        ["0", "1", "2", "3", "4", "5", "6", "7"]
    );
    assert_eq!(
        bins(1).hash_prefixes(1),
        ["8", "9", "a", "b", "c", "d", "e", "f"]
    );
    assert_eq!(bins(3).hash_prefixes(5), ["a", "b"]);
    assert_eq!(
        bins(13).hash_prefixes(0x1fff),
        ["fff8", "fff9", "fffa", "fffb", "fffc", "fffd", "fffe", "ffff"]
    );
    assert_eq!(bins(13).hash_prefixes(1)[0], "0008");
    assert_eq!(bins(6).hash_prefixes(1), ["04", "05", "06", "07"]);
}

/// The classic roles send every path to exactly one role, the bin `bin_of` gives it, for
/// bit lengths that are and are not multiples of 4.
#[test]
fn classic_roles_give_every_path_the_succinct_bin() {
    for bit_length in 1..=13 {
        let bins = bins(bit_length);
        let roles = bins.to_delegated_roles().unwrap();
        assert_eq!(roles.len() as u64, bins.bin_count());
        // Each check hashes the path once per role: fewer paths for the big layouts.
        let sample = if bit_length > 8 { 40 } else { 604 };
        for path in paths().into_iter().take(sample) {
            let matching: Vec<&str> = roles
                .iter()
                .filter(|r| r.is_delegated_path(&path))
                .map(|r| r.name.as_str())
                .collect();
            assert_eq!(
                matching,
                [bins.role_for(&path).as_str()],
                "bit_length {bit_length}, {path}"
            );
        }
        for role in &roles {
            assert!(role.terminating);
            assert_eq!(role.keyids, bins.keyids);
        }
        assert_eq!(SuccinctRoles::from_delegated_roles(&roles).unwrap(), bins);
    }
}

fn refused(roles: &[DelegatedRole], expected: NotHashedBins) {
    let err = SuccinctRoles::from_delegated_roles(roles).unwrap_err();
    assert_eq!(err, expected);
    // The same refusal through `Delegations::hashed_bins`, and a message that says why.
    let delegations = Delegations {
        keys: BTreeMap::new(),
        roles: Some(roles.to_vec()),
        succinct_roles: None,
        extra: BTreeMap::new(),
    };
    assert_eq!(delegations.hashed_bins().unwrap_err(), expected);
    assert!(
        err.to_string()
            .starts_with("the delegated roles are not hashed bins: "),
        "{err}"
    );
}

fn role(name: &str) -> RoleName {
    RoleName::parse(name).unwrap()
}

fn bin_mismatch(bin: &str, mismatch: BinMismatch) -> NotHashedBins {
    NotHashedBins::Bin {
        role: role(bin),
        mismatch,
    }
}

#[test]
fn a_classic_delegation_that_is_not_exactly_the_bins_is_refused() {
    let good = bins(4).to_delegated_roles().unwrap();
    refused(&[], NotHashedBins::NoRoles);
    refused(&good[..15], NotHashedBins::RoleCount { count: 15 });
    refused(&good[..1], NotHashedBins::RoleCount { count: 1 });

    let mut swapped = good.clone();
    swapped.swap(3, 4);
    refused(
        &swapped,
        NotHashedBins::OutOfOrder {
            bin: 3,
            expected: "crates-bin-3".to_owned(),
            found: role("crates-bin-4"),
        },
    );

    let mut open = good.clone();
    open[2].terminating = false;
    refused(
        &open,
        bin_mismatch("crates-bin-2", BinMismatch::NotTerminating),
    );

    let mut wide = good.clone();
    wide[2].path_hash_prefixes = Some(vec!["2".to_owned(), "3".to_owned()]);
    refused(
        &wide,
        bin_mismatch(
            "crates-bin-2",
            BinMismatch::HashPrefixes {
                expected: bins(4).hash_prefixes(2),
            },
        ),
    );

    let mut by_paths = good.clone();
    by_paths[2].path_hash_prefixes = None;
    by_paths[2].paths = Some(vec![]);
    refused(&by_paths, bin_mismatch("crates-bin-2", BinMismatch::Paths));

    let mut other_key = good.clone();
    other_key[5].keyids = vec![signer(9).key_id().clone()];
    refused(
        &other_key,
        bin_mismatch("crates-bin-5", BinMismatch::KeysOrThreshold),
    );

    let mut extra = good.clone();
    extra[0]
        .extra
        .insert("x-custom".to_owned(), serde_json::Value::Bool(true));
    refused(
        &extra,
        bin_mismatch("crates-bin-0", BinMismatch::UnknownFields),
    );

    let mut renamed = bins(4);
    renamed.name_prefix = "other".to_owned();
    let mut mixed = good.clone();
    mixed[7] = renamed.to_delegated_roles().unwrap().remove(7);
    refused(
        &mixed,
        NotHashedBins::OutOfOrder {
            bin: 7,
            expected: "crates-bin-7".to_owned(),
            found: role("other-7"),
        },
    );

    let mut unnamed = good.clone();
    unnamed[0].name = role("bins");
    refused(&unnamed, NotHashedBins::NotPrefixBin { role: role("bins") });
}

#[test]
fn hashed_bins_needs_exactly_one_form() {
    let succinct = bins(4);
    let both = Delegations {
        keys: BTreeMap::new(),
        roles: Some(succinct.to_delegated_roles().unwrap()),
        succinct_roles: Some(succinct.clone()),
        extra: BTreeMap::new(),
    };
    assert_eq!(both.hashed_bins().unwrap_err(), NotHashedBins::NotOneForm);
    let neither = Delegations {
        roles: None,
        succinct_roles: None,
        ..both.clone()
    };
    assert_eq!(
        neither.hashed_bins().unwrap_err(),
        NotHashedBins::NotOneForm
    );
    let only_succinct = Delegations {
        roles: None,
        ..both
    };
    assert_eq!(only_succinct.hashed_bins().unwrap(), succinct);
}

struct Repo {
    offline: OfflineRoles,
    publication: Publication,
}

fn publish(style: BinStyle, bit_length: u8, entries: Vec<TargetEntry>) -> Repo {
    let (root, targets, online) = (signer(1), signer(2), signer(3));
    let policy = Policy {
        bit_length,
        bin_style: style,
        ..Policy::default()
    };
    let offline = offline_roles_under(&policy, &root, &targets, &online);
    let publication = publish_first(&offline, &online, entries).unwrap();
    Repo {
        offline,
        publication,
    }
}

fn index() -> Vec<TargetEntry> {
    paths()
        .iter()
        .map(|p| entry(p, format!("{{\"name\":\"{p}\"}}\n").as_bytes()))
        .collect()
}

fn files(publication: &Publication) -> BTreeMap<String, Vec<u8>> {
    publication
        .files
        .iter()
        .map(|f| (f.name.clone(), f.bytes.clone()))
        .collect()
}

fn targets_value(repo: &Repo) -> serde_json::Value {
    serde_json::from_slice::<serde_json::Value>(&repo.offline.targets).unwrap()["signed"].clone()
}

/// Same bins, same bin files, only targets.json differs; the editor loads either.
#[test]
fn both_styles_publish_the_same_bins() {
    for bit_length in [3, 4] {
        let succinct = publish(BinStyle::Succinct, bit_length, index());
        let classic = publish(BinStyle::HashPrefixes, bit_length, index());

        let delegations = &targets_value(&classic)["delegations"];
        assert!(delegations.get("succinct_roles").is_none());
        let roles = delegations["roles"].as_array().unwrap();
        assert_eq!(roles.len(), 1 << bit_length);
        assert_eq!(roles[1]["name"], "crates-bin-1");
        assert_eq!(roles[1]["terminating"], true);
        assert_eq!(
            roles[1]["path_hash_prefixes"],
            serde_json::json!(bins(bit_length).hash_prefixes(1))
        );
        assert!(targets_value(&succinct)["delegations"]
            .get("roles")
            .is_none());

        let a = files(&succinct.publication);
        let b = files(&classic.publication);
        let bin_files = |f: &BTreeMap<String, Vec<u8>>| -> Vec<(String, Vec<u8>)> {
            f.iter()
                .filter(|(name, _)| name.contains(".crates-bin-"))
                .map(|(n, bytes)| (n.clone(), bytes.clone()))
                .collect()
        };
        assert_eq!(bin_files(&a).len(), 1 << bit_length);
        assert_eq!(bin_files(&a), bin_files(&b), "bins are byte-identical");
        assert_eq!(
            succinct.publication.state.bins(),
            classic.publication.state.bins()
        );

        // The state loads from the classic targets as from the succinct one.
        let limits = Limits::default();
        let mut loader =
            StateLoader::new(&classic.offline.root, &b["timestamp.json"], &limits).unwrap();
        let snapshot = loader.snapshot_file().unwrap();
        loader.add_snapshot(&b[&snapshot]).unwrap();
        let state = loader.finish(&classic.offline.targets).unwrap();
        assert_eq!(state.bins(), succinct.publication.state.bins());
    }
}

/// An incremental publish on a classic repository re-signs the one bin of the change.
#[test]
fn incremental_publish_on_hash_prefix_bins() {
    let repo = publish(BinStyle::HashPrefixes, 4, index());
    let state = &repo.publication.state;
    let mut all = files(&repo.publication);
    let online = signer(3);
    let online: [&dyn Signer; 1] = [&online];
    let signers = OnlineSigners {
        bins: &online,
        snapshot: &online,
        timestamp: &online,
    };
    let mut edit = Edit::new(state, &Limits::default());
    edit.apply(Change::Put(entry("se/rd/serde", b"yanked\n")));
    for bin in edit.bins_to_load() {
        edit.load_bin(bin, &all[&state.bin_file(bin).unwrap()])
            .unwrap();
    }
    let next = edit
        .finish(
            &Expiries::default(),
            &signers,
            now() + TimeDelta::hours(1),
            None,
        )
        .unwrap();
    assert_eq!(next.bins_signed(), 1);
    let bin = state.bins().bin_of("se/rd/serde");
    let name = next.state.bin_file(bin).unwrap();
    assert_eq!(name, format!("2.{}.json", state.bins().bin_name(bin)));
    all.extend(files(&next));
    let verified = next
        .state
        .verify_bin(bin, &all[&name], &Limits::default())
        .unwrap();
    assert_eq!(
        verified.targets[&TargetPath::parse("se/rd/serde").unwrap()].sha256(),
        Some(crate::hash::sha256(b"yanked\n"))
    );
}

/// This project's client follows `path_hash_prefixes`: the lookup goes to the one classic
/// role whose prefixes match, and finds the target there; a path with no target is an
/// authenticated "not found" from its bin.
#[test]
fn our_client_reaches_a_target_through_a_hash_prefix_bin() {
    let repo = publish(BinStyle::HashPrefixes, 4, index());
    let all = files(&repo.publication);
    let later = now() + TimeDelta::minutes(1);
    let mut trusted = TrustedState::new_from_root(&repo.offline.root, later).unwrap();
    let _ = trusted
        .update_timestamp(&all["timestamp.json"], later)
        .unwrap();
    trusted
        .update_snapshot(&all["1.snapshot.json"], later)
        .unwrap();
    trusted
        .update_targets(&repo.offline.targets, later)
        .unwrap();
    let bins = repo.publication.state.bins().clone();
    for (path, want) in [("se/rd/serde", true), ("no/su/nosuchcrate", false)] {
        let path = TargetPath::parse(path).unwrap();
        let mut loads = Vec::new();
        let found = loop {
            match find_target(&trusted, &path).unwrap() {
                Lookup::Load { delegator, role } => {
                    assert_eq!(delegator, "targets");
                    let version = trusted.role_meta(&role).unwrap().version;
                    let bytes = &all[&versioned_name(&role, version)];
                    trusted
                        .update_delegated(&delegator, &role, bytes, later)
                        .unwrap();
                    loads.push(role);
                }
                other => break other,
            }
        };
        assert_eq!(loads, [bins.role_for(path.as_str())], "only its own bin");
        match (found, want) {
            (Lookup::Found { role, target, .. }, true) => {
                assert_eq!(role, bins.role_for(path.as_str()));
                let content = format!("{{\"name\":\"{path}\"}}\n");
                assert_eq!(
                    target.sha256(),
                    Some(crate::hash::sha256(content.as_bytes()))
                );
            }
            (Lookup::NotFound { .. }, false) => {}
            (other, _) => panic!("{path}: {other:?}"),
        }
    }
}
