//! The verifier (the adapter over `tuf-client`'s updater) on its own, against a real HTTP server: root rotation, target
//! lookup and authenticated absence (through succinct and hash-prefix bins alike), the
//! refresh interval, and a tampered bin.

// Helpers outside #[test] fns: a failure is a broken test setup.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use registry_plugin::state::{RegistryDir, RegistryName};
use registry_plugin::updater_verifier::{Mode, UpdaterVerifier};
use registry_plugin::verifier::{Verifier, VerifyError};
use support::*;
use tuf_core::crypto::Ed25519Signer;
use tuf_core::index::CrateName;
use tuf_core::repo::BinStyle;
use tuf_core::Limits;

fn setup() -> (tempfile::TempDir, Registry, User) {
    let work = tempfile::tempdir().unwrap();
    let (registry, _) = published_registry(work.path(), &[("alpha", "0.1.0")]);
    let user = User::new(&registry, &[]);
    user.init(&registry);
    (work, registry, user)
}

fn dir(user: &User) -> RegistryDir {
    RegistryDir::new(&user.home(), &RegistryName::parse(REGISTRY).unwrap())
}

/// Where the verifier's metadata store keeps role `role`.
fn stored_path(user: &User, role: &str) -> std::path::PathBuf {
    tuf_client::MetadataStore::open(dir(user).metadata_dir())
        .unwrap()
        .path_of(role)
}

fn open(user: &User, registry: &Registry, refresh_interval: Duration) -> UpdaterVerifier {
    UpdaterVerifier::open(
        &dir(user),
        &registry.metadata_url(),
        Mode::Online { refresh_interval },
        Limits::default(),
    )
    .unwrap()
}

fn name(s: &str) -> CrateName {
    CrateName::parse(s).unwrap()
}

#[test]
fn finds_signed_entries_and_authenticated_absence() {
    let (_work, registry, user) = setup();
    let verifier = open(&user, &registry, Duration::from_secs(300));
    let entry = verifier.index_entry(&name("alpha")).unwrap().unwrap();
    entry
        .check(&registry.targets[&sparse_path("alpha")])
        .unwrap();
    assert_eq!(verifier.index_entry(&name("nope")).unwrap(), None);
    verifier
        .config_entry()
        .unwrap()
        .check(&registry.targets["config.json"])
        .unwrap();
    // One refresh for all of that.
    assert_eq!(registry.server.count("metadata/timestamp.json"), 1);
}

/// A registry whose targets delegates to classic `path_hash_prefixes` bins (what
/// `tuf init --bin-style hash-prefixes` makes) answers every lookup as the same registry
/// with TAP 15 succinct bins does, and fetches only the bins of the crates looked up.
#[test]
fn a_hash_prefix_registry_answers_as_a_succinct_one() {
    let names: Vec<String> = (0..12).map(|i| format!("crate-{i}")).collect();
    let (listed, absent) = names.split_at(8);
    let answers = [BinStyle::Succinct, BinStyle::HashPrefixes].map(|style| {
        let mut registry = Registry::new(Server::start());
        registry.bin_style = style;
        for name in listed {
            let bytes = format!("{name} 1.0.0").into_bytes();
            registry.add(
                &Packaged {
                    name: name.clone(),
                    vers: "1.0.0".into(),
                    bytes,
                },
                false,
            );
        }
        registry.publish();
        let targets =
            String::from_utf8(registry.server.get("metadata/1.targets.json").unwrap()).unwrap();
        let classic = style == BinStyle::HashPrefixes;
        assert_eq!(targets.contains("path_hash_prefixes"), classic);
        assert_eq!(targets.contains("succinct_roles"), !classic);

        let user = User::new(&registry, &[]);
        user.init(&registry);
        registry.server.reset_counts();
        let verifier = open(&user, &registry, Duration::from_secs(300));
        let entries: Vec<_> = names
            .iter()
            .map(|n| verifier.index_entry(&name(n)).unwrap())
            .collect();
        for (n, entry) in names.iter().zip(&entries) {
            match entry {
                Some(entry) => entry.check(&registry.targets[&sparse_path(n)]).unwrap(),
                None => assert!(absent.contains(n), "{n}"),
            }
        }
        // config.json names this registry's server, so it is checked on its own.
        let config = verifier.config_entry().unwrap();
        config.check(&registry.targets["config.json"]).unwrap();
        // Each bin a lookup reached, once; no other.
        let bins = tuf_core::metadata::SuccinctRoles::new(
            Vec::new(),
            tuf_core::metadata::Threshold::new(1).unwrap(),
            BIT_LENGTH,
            "crates-bin",
        );
        let reached: std::collections::BTreeSet<String> = names
            .iter()
            .map(|n| bins.role_for(&sparse_path(n)))
            .chain([bins.role_for("config.json")])
            .collect();
        for bin in bins.bin_names() {
            let fetched = registry.server.count(&format!("metadata/1.{bin}.json"));
            assert_eq!(
                fetched,
                u64::from(reached.contains(&bin)),
                "{style:?} {bin}"
            );
        }
        entries
    });
    assert_eq!(answers[0], answers[1]);
}

#[test]
fn timestamp_is_rechecked_only_after_the_interval() {
    let (_work, registry, user) = setup();
    let verifier = open(&user, &registry, Duration::from_secs(3600));
    for _ in 0..5 {
        verifier.refresh_if_stale().unwrap();
    }
    assert_eq!(registry.server.count("metadata/timestamp.json"), 1);
    let eager = open(&user, &registry, Duration::ZERO);
    for _ in 0..3 {
        eager.refresh_if_stale().unwrap();
    }
    assert_eq!(registry.server.count("metadata/timestamp.json"), 4);
}

#[test]
fn root_rotation_needs_old_and_new_root_keys() {
    let (_work, registry, user) = setup();
    let new_key = Ed25519Signer::from_seed(&[9; 32]).unwrap();
    let old_key = registry.original_root_key();
    let root_file = dir(&user).root_file();

    // Signed by the new key only: refused, the trusted root stays version 1.
    let only_new = registry.root_bytes_with(2, &new_key, &[&new_key]);
    registry.server.put("metadata/2.root.json", only_new);
    let verifier = open(&user, &registry, Duration::ZERO);
    let error = verifier.refresh_if_stale().unwrap_err();
    assert!(
        matches!(&error, VerifyError::Metadata { role, .. } if role == "root"),
        "{error}"
    );
    assert_eq!(error.code(), "threshold");
    assert_eq!(std::fs::read(&root_file).unwrap(), registry.root_bytes_v1());

    // Signed by old and new: followed and persisted.
    let both = registry.root_bytes_with(2, &new_key, &[old_key, &new_key]);
    registry.server.put("metadata/2.root.json", both.clone());
    let verifier = open(&user, &registry, Duration::ZERO);
    verifier.refresh_if_stale().unwrap();
    assert_eq!(std::fs::read(&root_file).unwrap(), both);
    assert!(verifier.index_entry(&name("alpha")).unwrap().is_some());
}

#[test]
fn a_bin_changed_after_signing_is_refused() {
    let (_work, registry, user) = setup();
    let bin_path = (0..16)
        .map(|b| format!("metadata/1.crates-bin-{b:x}.json"))
        .find(|p| {
            registry
                .server
                .get(p)
                .is_some_and(|bytes| String::from_utf8_lossy(&bytes).contains("al/ph/alpha"))
        })
        .unwrap();
    let bytes = String::from_utf8(registry.server.get(&bin_path).unwrap()).unwrap();
    // Point alpha's entry at other content by changing its length.
    let needle = "\"length\":";
    let at = bytes.find(needle).unwrap() + needle.len();
    let tampered = format!("{}9{}", &bytes[..at], &bytes[at..]);
    registry.server.put(&bin_path, tampered);

    let verifier = open(&user, &registry, Duration::ZERO);
    let error = verifier.index_entry(&name("alpha")).unwrap_err();
    assert_eq!(error.code(), "threshold", "{error}");
    // Nothing unverified was kept: the bin is not in the verified cache.
    let bin = bin_path
        .trim_start_matches("metadata/1.")
        .trim_end_matches(".json");
    assert!(!stored_path(&user, bin).exists());
}

#[test]
fn offline_answers_from_the_store_without_requests() {
    let (_work, registry, user) = setup();
    let online = open(&user, &registry, Duration::from_secs(300));
    online.index_entry(&name("alpha")).unwrap().unwrap();
    online.config_entry().unwrap();
    let offline = |hours| {
        UpdaterVerifier::open(
            &dir(&user),
            &registry.metadata_url(),
            Mode::Offline {
                max_staleness: chrono::Duration::hours(hours),
            },
            Limits::default(),
        )
        .unwrap()
    };
    registry.server.reset_counts();
    let verifier = offline(24);
    let entry = verifier.index_entry(&name("alpha")).unwrap().unwrap();
    entry
        .check(&registry.targets[&sparse_path("alpha")])
        .unwrap();
    verifier.config_entry().unwrap();
    // A crate in a bin never stored: offline cannot say whether it exists.
    let bins = tuf_core::metadata::SuccinctRoles::new(
        Vec::new(),
        tuf_core::metadata::Threshold::new(1).unwrap(),
        BIT_LENGTH,
        "crates-bin",
    );
    let unstored = (0..100)
        .map(|i| format!("other-{i}"))
        .find(|n| {
            let bin = bins.role_for(&sparse_path(n));
            !stored_path(&user, &bin).exists()
        })
        .unwrap();
    let error = verifier.index_entry(&name(&unstored)).unwrap_err();
    assert_eq!(error.code(), "offline", "{error}");
    assert_eq!(registry.server.count_prefix(""), 0);
}

#[test]
fn an_offline_verifier_stops_answering_when_the_staleness_bound_passes() {
    // A long-running `cargo tuf proxy --offline`: the bound is checked on every lookup,
    // not only on the first.
    let (_work, registry, user) = setup();
    let online = open(&user, &registry, Duration::from_secs(300));
    online.index_entry(&name("alpha")).unwrap().unwrap();
    // The last online check was 1 hour minus 3 seconds ago; the bound is 1 hour.
    let checked_file = dir(&user).metadata_dir().join("checked.json");
    let mut checked: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&checked_file).unwrap()).unwrap();
    let almost_an_hour_ago =
        chrono::Utc::now() - chrono::Duration::hours(1) + chrono::Duration::seconds(3);
    checked["checked_at"] = serde_json::Value::String(almost_an_hour_ago.to_rfc3339());
    std::fs::write(&checked_file, serde_json::to_vec(&checked).unwrap()).unwrap();
    let offline = UpdaterVerifier::open(
        &dir(&user),
        &registry.metadata_url(),
        Mode::Offline {
            max_staleness: chrono::Duration::hours(1),
        },
        Limits::default(),
    )
    .unwrap();
    registry.server.reset_counts();
    assert!(offline.index_entry(&name("alpha")).unwrap().is_some());

    std::thread::sleep(Duration::from_secs(4));
    let error = offline.index_entry(&name("alpha")).unwrap_err();
    assert_eq!(error.code(), "offline", "{error}");
    assert!(
        error.to_string().contains("more than the bound of 1 hours"),
        "{error}"
    );
    let error = offline.config_entry().unwrap_err();
    assert_eq!(error.code(), "offline", "{error}");
    assert_eq!(registry.server.count_prefix(""), 0);
}

#[test]
fn a_root_pinned_beside_registry_json_is_moved_into_the_metadata_store() {
    let (_work, registry, user) = setup();
    let legacy = dir(&user).path().join("root.json");
    std::fs::rename(dir(&user).root_file(), &legacy).unwrap();
    let verifier = open(&user, &registry, Duration::ZERO);
    assert!(verifier.index_entry(&name("alpha")).unwrap().is_some());
    assert!(!legacy.exists());
    assert_eq!(
        std::fs::read(dir(&user).root_file()).unwrap(),
        registry.root_bytes_v1()
    );
}
