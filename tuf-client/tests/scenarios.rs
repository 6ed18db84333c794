//! Scenario tests: a real HTTP server on 127.0.0.1 serving repositories generated here,
//! the client's accepted case and each attack, asserting the exact error code, the
//! requests made, and exactly what was stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{code, days, files_in, key, now, Client, Reply, Repo, Server};
use tuf_client::{ClientError, HttpFetcher, MetadataStore, Updater};

const TOP: [&str; 4] = [
    "root.json",
    "snapshot.json",
    "targets.json",
    "timestamp.json",
];

fn setup() -> (Server, Repo, Client) {
    let server = Server::start();
    let mut repo = Repo::new();
    repo.add_target("targets", "se/rd/serde", b"serde index file");
    repo.publish(&server);
    let client = Client::new(&repo.trusted_root());
    (server, repo, client)
}

// ---- first and repeated refresh ----

#[test]
fn first_refresh_requests_exactly_and_stores_what_was_served() {
    let (server, _repo, client) = setup();
    client.refresh(&server).unwrap();
    assert_eq!(
        server.take_requests(),
        [
            "/metadata/2.root.json",
            "/metadata/timestamp.json",
            "/metadata/1.snapshot.json",
            "/metadata/1.targets.json"
        ]
    );
    assert_eq!(client.files(), TOP);
    assert_eq!(
        client.stored("timestamp"),
        server.metadata("timestamp.json")
    );
    assert_eq!(
        client.stored("snapshot"),
        server.metadata("1.snapshot.json")
    );
    assert_eq!(client.stored("targets"), server.metadata("1.targets.json"));
    // Nothing new: the stored snapshot and targets are still what their parents name.
    client.refresh(&server).unwrap();
    assert_eq!(
        server.take_requests(),
        ["/metadata/2.root.json", "/metadata/timestamp.json"]
    );
}

#[test]
fn new_timestamp_only_fetches_what_changed() {
    let (server, mut repo, client) = setup();
    client.refresh(&server).unwrap();
    server.take_requests();
    repo.bump_online();
    repo.publish(&server);
    client.refresh(&server).unwrap();
    assert_eq!(
        server.take_requests(),
        [
            "/metadata/2.root.json",
            "/metadata/timestamp.json",
            "/metadata/2.snapshot.json"
        ]
    );
    assert_eq!(
        client.stored("snapshot"),
        server.metadata("2.snapshot.json")
    );
}

// ---- root (§5.3) ----

#[test]
fn root_rotation_chain_is_followed_and_stored() {
    let (server, mut repo, client) = setup();
    let k1 = repo.root_keys.remove(0);
    repo.root_keys.push(key(11));
    repo.push_root(&[&k1]);
    let k11 = repo.root_keys.remove(0);
    repo.root_keys.push(key(12));
    repo.push_root(&[&k11]);
    repo.publish(&server);
    client.refresh(&server).unwrap();
    let requests = server.take_requests();
    assert_eq!(
        requests[..4],
        [
            "/metadata/2.root.json",
            "/metadata/3.root.json",
            "/metadata/4.root.json",
            "/metadata/timestamp.json"
        ]
    );
    assert_eq!(client.stored("root"), server.metadata("3.root.json"));
}

#[test]
fn root_signed_only_by_new_keys_is_refused() {
    let (server, mut repo, client) = setup();
    repo.root_keys = vec![key(11)];
    repo.push_root(&[]); // not signed by the trusted root's key
    repo.publish(&server);
    assert_eq!(code(client.refresh(&server)), "threshold");
    assert_eq!(client.files(), ["root.json"]);
    assert_eq!(client.stored("root"), repo.trusted_root());
}

#[test]
fn root_with_wrong_version_is_refused() {
    let (server, repo, client) = setup();
    // 2.root.json is a copy of root 1: a replay.
    server.put_metadata("2.root.json", &repo.trusted_root());
    assert_eq!(code(client.refresh(&server)), "version-mismatch");
    assert_eq!(client.files(), ["root.json"]);
}

#[test]
fn expired_final_root_is_refused_after_storing_the_chain() {
    let (server, mut repo, client) = setup();
    repo.root_expires = days(-1);
    repo.push_root(&[]);
    repo.publish(&server);
    let err = client.refresh(&server).unwrap_err();
    assert!(
        matches!(&err, ClientError::Core(tuf_core::Error::Expired { role, .. }) if role == "root"),
        "{err}"
    );
    // Root 2 verified and is stored (roots are stored one by one); nothing else.
    assert_eq!(client.files(), ["root.json"]);
    assert_eq!(client.stored("root"), server.metadata("2.root.json"));
}

// ---- timestamp (§5.4) ----

#[test]
fn timestamp_rollback_is_refused() {
    let (server, mut repo, client) = setup();
    let old = server.metadata("timestamp.json");
    repo.bump_online();
    repo.publish(&server);
    client.refresh(&server).unwrap();
    let trusted = client.stored("timestamp");
    server.put_metadata("timestamp.json", &old);
    let err = client.refresh(&server).unwrap_err();
    assert!(
        matches!(&err, ClientError::Core(tuf_core::Error::Rollback { role, trusted: 2, new: 1 }) if role == "timestamp"),
        "{err}"
    );
    assert_eq!(client.stored("timestamp"), trusted);
}

#[test]
fn freeze_with_expired_timestamp_is_refused() {
    let (server, mut repo, client) = setup();
    client.refresh(&server).unwrap();
    let before = client.stored("timestamp");
    repo.bump_online();
    repo.timestamp.expires = days(-1);
    repo.publish(&server);
    assert_eq!(code(client.refresh(&server)), "expired");
    assert_eq!(client.stored("timestamp"), before);
}

#[test]
fn timestamp_signed_by_wrong_key_is_refused() {
    let (server, mut repo, client) = setup();
    repo.timestamp_key = key(66);
    repo.publish(&server);
    assert_eq!(code(client.refresh(&server)), "threshold");
    assert_eq!(client.files(), ["root.json"]);
}

#[test]
fn endless_timestamp_is_cut_at_the_cap() {
    let (server, _repo, client) = setup();
    server.put("/metadata/timestamp.json", Reply::Endless);
    assert_eq!(code(client.refresh(&server)), "too-large");
    assert_eq!(client.files(), ["root.json"]);
}

#[test]
fn missing_timestamp_fails_with_not_found() {
    let (server, _repo, client) = setup();
    server.remove("/metadata/timestamp.json");
    assert_eq!(code(client.refresh(&server)), "not-found");
    assert_eq!(client.files(), ["root.json"]);
}

#[test]
fn fast_forward_recovery_after_timestamp_key_rotation() {
    let (server, mut repo, client) = setup();
    // An attacker with the timestamp key fast-forwards the client to version 1000.
    repo.timestamp.version = tuf_core::metadata::Version::new(1000).unwrap();
    repo.publish(&server);
    client.refresh(&server).unwrap();
    // The repository rotates the timestamp key and goes on from version 2.
    repo.timestamp_key = key(77);
    repo.push_root(&[]);
    repo.timestamp.version = tuf_core::metadata::Version::new(2).unwrap();
    repo.bump_online();
    repo.publish(&server);
    client.refresh(&server).unwrap();
    assert_eq!(
        client.stored("timestamp"),
        server.metadata("timestamp.json")
    );
    assert_eq!(client.stored("root"), server.metadata("2.root.json"));
}

// ---- snapshot (§5.5) ----

#[test]
fn snapshot_hash_and_length_from_timestamp() {
    let (server, mut repo, client) = setup();
    repo.timestamp_lists_hashes = true;
    repo.publish(&server);
    let good = server.metadata("1.snapshot.json");
    // Same length, another byte: the hash does not match.
    let mut other = good.clone();
    let last = other.len() - 2;
    other[last] ^= 0x01;
    server.put_metadata("1.snapshot.json", &other);
    assert_eq!(code(client.refresh(&server)), "hash-mismatch");
    assert_eq!(client.files(), ["root.json", "timestamp.json"]);
    // Longer than the timestamp says: cut one byte past the length.
    let mut longer = good.clone();
    longer.extend_from_slice(&[b' '; 100]);
    server.put_metadata("1.snapshot.json", &longer);
    assert_eq!(code(client.refresh(&server)), "length-mismatch");
    assert_eq!(client.files(), ["root.json", "timestamp.json"]);
    server.put_metadata("1.snapshot.json", &good);
    client.refresh(&server).unwrap();
    assert_eq!(client.files(), TOP);
}

#[test]
fn mix_and_match_snapshot_version_is_refused() {
    let (server, mut repo, client) = setup();
    let old_snapshot = server.metadata("1.snapshot.json");
    repo.bump_online();
    repo.publish(&server);
    // The mirror serves the old snapshot under the new name.
    server.put_metadata("2.snapshot.json", &old_snapshot);
    let err = client.refresh(&server).unwrap_err();
    assert!(
        matches!(&err, ClientError::Core(tuf_core::Error::VersionMismatch { role, expected: 2, found: 1 }) if role == "snapshot"),
        "{err}"
    );
    assert_eq!(client.files(), ["root.json", "timestamp.json"]);
}

#[test]
fn snapshot_rollback_of_targets_version_is_refused() {
    let (server, mut repo, client) = setup();
    repo.targets.version = tuf_core::metadata::Version::new(5).unwrap();
    repo.publish(&server);
    client.refresh(&server).unwrap();
    let trusted = client.stored("snapshot");
    repo.targets.version = tuf_core::metadata::Version::new(4).unwrap();
    repo.bump_online();
    repo.publish(&server);
    let err = client.refresh(&server).unwrap_err();
    assert!(
        matches!(&err, ClientError::Core(tuf_core::Error::Rollback { role, trusted: 5, new: 4 }) if role == "targets"),
        "{err}"
    );
    assert_eq!(client.stored("snapshot"), trusted);
}

#[test]
fn expired_snapshot_is_refused() {
    let (server, mut repo, client) = setup();
    repo.snapshot.expires = days(-1);
    repo.publish(&server);
    assert_eq!(code(client.refresh(&server)), "expired");
    assert_eq!(client.files(), ["root.json", "timestamp.json"]);
}

// ---- targets (§5.6) ----

#[test]
fn targets_missing_from_server_or_snapshot() {
    let (server, _repo, client) = setup();
    server.remove("/metadata/1.targets.json");
    assert_eq!(code(client.refresh(&server)), "not-found");
    assert_eq!(
        client.files(),
        ["root.json", "snapshot.json", "timestamp.json"]
    );
}

#[test]
fn targets_signed_by_wrong_key_is_refused() {
    let (server, mut repo, client) = setup();
    // Root 1 (trusted) keeps the old targets key; targets is signed with another.
    repo.targets_key = key(88);
    repo.publish(&server);
    assert_eq!(code(client.refresh(&server)), "threshold");
    assert_eq!(
        client.files(),
        ["root.json", "snapshot.json", "timestamp.json"]
    );
}

#[test]
fn expired_targets_is_refused() {
    let (server, mut repo, client) = setup();
    repo.targets.expires = days(-1);
    repo.publish(&server);
    assert_eq!(code(client.refresh(&server)), "expired");
    assert_eq!(
        client.files(),
        ["root.json", "snapshot.json", "timestamp.json"]
    );
}

// ---- delegations (§5.6.7) ----

#[test]
fn delegated_role_signed_by_wrong_key_is_refused() {
    let (server, mut repo, client) = setup();
    repo.delegate("targets", "crates", &["*"], false, key(30));
    repo.add_target("crates", "x", b"x");
    repo.delegated.get_mut("crates").unwrap().signer = key(31);
    repo.publish(&server);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    server.take_requests();
    assert_eq!(code(updater.target_info("x", now())), "threshold");
    assert_eq!(server.take_requests(), ["/metadata/1.crates.json"]);
    assert_eq!(client.files(), TOP);
}

#[test]
fn delegated_roles_load_on_demand_and_are_reused() {
    let (server, mut repo, client) = setup();
    repo.delegate("targets", "crates", &["*"], false, key(30));
    repo.add_target("crates", "x", b"x");
    repo.publish(&server);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    server.take_requests();
    let info = updater.target_info("x", now()).unwrap().unwrap();
    assert_eq!(info.role, "crates");
    assert_eq!(server.take_requests(), ["/metadata/1.crates.json"]);
    assert_eq!(client.stored("crates"), server.metadata("1.crates.json"));
    // Not found: authenticated, and no other role asked for.
    assert!(updater.target_info("y", now()).unwrap().is_none());
    // A new process: the stored copy is still what snapshot names, so no request.
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    server.take_requests();
    assert!(updater.target_info("x", now()).unwrap().is_some());
    assert!(server.take_requests().is_empty());
}

#[test]
fn diamond_delegation_uses_the_keys_of_this_lookups_delegator() {
    // targets → A (a/*) and B (b/*); both delegate to C. B lists C's real key, A a key
    // that never signed C.
    let (server, mut repo, client) = setup();
    repo.delegate("targets", "A", &["a/*"], false, key(40));
    repo.delegate("targets", "B", &["b/*"], false, key(41));
    repo.delegate("B", "C", &["*/*"], false, key(42));
    repo.delegate("A", "C", &["*/*"], false, key(43));
    repo.delegated.get_mut("C").unwrap().signer = key(42);
    repo.add_target("C", "a/evil", b"evil");
    repo.add_target("C", "b/good", b"good");
    repo.publish(&server);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    server.take_requests();
    let info = updater.target_info("b/good", now()).unwrap().unwrap();
    assert_eq!(info.role, "C");
    assert_eq!(
        server.take_requests(),
        ["/metadata/1.B.json", "/metadata/1.C.json"]
    );
    // Through A, the C already held must be checked against A's key for it: refused.
    assert_eq!(code(updater.target_info("a/evil", now())), "threshold");
    assert_eq!(server.take_requests(), ["/metadata/1.A.json"]);
    let mut stored = client.files();
    stored.retain(|f| !TOP.contains(&f.as_str()));
    assert_eq!(
        stored,
        [
            "delegated.%41.json",
            "delegated.%42.json",
            "delegated.%43.json"
        ]
    );
}

#[test]
fn succinct_bins_only_the_targets_bin_is_requested() {
    let (server, mut repo, client) = setup();
    let bins = repo.delegate_bins(4, "bin", &key(50));
    let path = "se/rd/serde-json";
    let bin = bins.role_for(path);
    repo.add_target(&bin, path, b"content");
    repo.publish(&server);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    server.take_requests();
    assert_eq!(updater.target_info(path, now()).unwrap().unwrap().role, bin);
    assert_eq!(server.take_requests(), [format!("/metadata/1.{bin}.json")]);
}

#[test]
fn path_traversal_role_names_stay_inside_the_metadata_dir() {
    let (server, mut repo, client) = setup();
    let names = ["../x", "/x", "a/b", "?", "#", "..", "."];
    for (i, name) in names.iter().enumerate() {
        repo.delegate(
            "targets",
            name,
            &["*"],
            false,
            key(100 + u8::try_from(i).unwrap()),
        );
    }
    repo.publish(&server);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    server.take_requests();
    assert!(updater.target_info("nonexistent", now()).unwrap().is_none());
    assert_eq!(
        server.take_requests(),
        [
            "/metadata/1...%2Fx.json",
            "/metadata/1.%2Fx.json",
            "/metadata/1.a%2Fb.json",
            "/metadata/1.%3F.json",
            "/metadata/1.%23.json",
            "/metadata/1....json",
            "/metadata/1...json"
        ]
    );
    let parent = client.md.parent().unwrap();
    assert_eq!(files_in(parent), ["metadata", "targets"]);
    let mut stored = client.files();
    stored.retain(|f| !TOP.contains(&f.as_str()));
    assert_eq!(
        stored,
        [
            "delegated.%23.json",
            "delegated.%2E%2E.json",
            "delegated.%2E.json",
            "delegated.%2Fx.json",
            "delegated.%3F.json",
            "delegated...%2Fx.json",
            "delegated.a%2Fb.json"
        ]
    );
}

// ---- stored names and local baselines ----

#[test]
fn delegated_role_named_like_a_top_level_role_is_refused() {
    // On a case-insensitive file system `Timestamp.json` is `timestamp.json`: such a
    // role would overwrite the rollback baseline. The delegating targets is refused.
    for name in ["Timestamp", "ROOT", "Snapshot", "tarGets"] {
        let (server, mut repo, client) = setup();
        repo.delegate("targets", name, &["*"], false, key(30));
        repo.publish(&server);
        assert_eq!(code(client.refresh(&server)), "bad-delegation", "{name}");
        assert_eq!(
            client.files(),
            ["root.json", "snapshot.json", "timestamp.json"],
            "{name}"
        );
        assert_eq!(
            client.stored("timestamp"),
            server.metadata("timestamp.json")
        );
    }
}

#[test]
fn delegated_role_named_checked_leaves_other_files_alone() {
    // cargo-tuf keeps `checked.json` in the metadata directory; a role named `checked`
    // (or `Checked`, on a case-insensitive file system) must not land on it.
    let (server, mut repo, client) = setup();
    for (i, name) in ["checked", "Checked"].into_iter().enumerate() {
        repo.delegate(
            "targets",
            name,
            &[&format!("{i}/*")],
            false,
            key(60 + u8::try_from(i).unwrap()),
        );
        repo.add_target(name, &format!("{i}/x"), name.as_bytes());
    }
    repo.publish(&server);
    let other = br#"{"checked_at":"2025-06-01T00:00:00Z","timestamp_version":1}"#;
    std::fs::write(client.md.join("checked.json"), other).unwrap();
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    for (i, name) in ["checked", "Checked"].into_iter().enumerate() {
        let info = updater.target_info(&format!("{i}/x"), now()).unwrap();
        assert_eq!(info.unwrap().role, name);
    }
    assert_eq!(
        std::fs::read(client.md.join("checked.json")).unwrap(),
        other
    );
    let store = MetadataStore::open(&client.md).unwrap();
    let checked = store.path_of("checked");
    let upper = store.path_of("Checked");
    for path in [&checked, &upper] {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(!name.eq_ignore_ascii_case("checked.json"), "{name}");
    }
    assert!(!checked
        .to_str()
        .unwrap()
        .eq_ignore_ascii_case(upper.to_str().unwrap()));
    assert_eq!(
        std::fs::read(&checked).unwrap(),
        server.metadata("1.checked.json")
    );
    assert_eq!(
        std::fs::read(&upper).unwrap(),
        server.metadata("1.Checked.json")
    );
}

#[test]
fn unusable_stored_timestamp_stops_the_refresh() {
    // The stored timestamp is the rollback baseline (TUF §5.4.3). Overwritten by other
    // metadata (what a delegated role named `Timestamp` did on a case-insensitive file
    // system), it is not quietly dropped: the refresh stops, names the file, and
    // neither fetches a timestamp nor touches the file.
    let (server, mut repo, client) = setup();
    client.refresh(&server).unwrap();
    let targets = client.stored("targets");
    for (what, bytes) in [
        ("other metadata", targets.clone()),
        ("not JSON", b"\x00garbage".to_vec()),
        ("too large", vec![b' '; 17 * 1024]),
    ] {
        std::fs::write(client.md.join("timestamp.json"), &bytes).unwrap();
        server.take_requests();
        let err = client.refresh(&server).unwrap_err();
        assert_eq!(err.code(), "unusable-stored", "{what}: {err}");
        assert!(err.to_string().contains("timestamp.json"), "{what}: {err}");
        assert_eq!(server.take_requests(), ["/metadata/2.root.json"], "{what}");
        assert_eq!(client.stored("timestamp"), bytes, "{what}");
    }
    // Deleting the file is the explicit way to go on without the baseline.
    std::fs::remove_file(client.md.join("timestamp.json")).unwrap();
    repo.bump_online();
    repo.publish(&server);
    client.refresh(&server).unwrap();
    assert_eq!(
        client.stored("timestamp"),
        server.metadata("timestamp.json")
    );
}

#[test]
fn unusable_stored_snapshot_stops_the_refresh() {
    // The stored snapshot is the rollback baseline of the targets versions (TUF §5.5.5).
    let (server, mut repo, client) = setup();
    client.refresh(&server).unwrap();
    repo.bump_online();
    repo.publish(&server);
    // Signed by the timestamp key, not the snapshot key: present but not a snapshot.
    let not_a_snapshot = client.stored("timestamp");
    std::fs::write(client.md.join("snapshot.json"), &not_a_snapshot).unwrap();
    server.take_requests();
    let err = client.refresh(&server).unwrap_err();
    assert_eq!(err.code(), "unusable-stored", "{err}");
    assert!(err.to_string().contains("snapshot.json"), "{err}");
    assert_eq!(
        server.take_requests(),
        ["/metadata/2.root.json", "/metadata/timestamp.json"]
    );
    assert_eq!(client.stored("snapshot"), not_a_snapshot);
}

// ---- targets download (§5.7) ----

fn download_setup() -> (
    Server,
    Repo,
    Client,
    Updater<HttpFetcher>,
    tuf_client::TargetInfo,
) {
    let (server, repo, client) = setup();
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    let info = updater.target_info("se/rd/serde", now()).unwrap().unwrap();
    server.take_requests();
    (server, repo, client, updater, info)
}

#[test]
fn target_download_uses_hash_prefixed_name_and_cache() {
    let (server, _repo, client, updater, info) = download_setup();
    let path = updater.fetch_target(&info).unwrap();
    let sha = hex::encode(tuf_core::hash::sha256(b"serde index file"));
    assert_eq!(
        server.take_requests(),
        [format!("/targets/se/rd/{sha}.serde")]
    );
    assert_eq!(path, client.td.join("se%2Frd%2Fserde"));
    assert_eq!(std::fs::read(&path).unwrap(), b"serde index file");
    assert_eq!(files_in(&client.td), ["se%2Frd%2Fserde"]);
    // Cached: reused without a request.
    assert_eq!(updater.fetch_target(&info).unwrap(), path);
    assert!(server.take_requests().is_empty());
}

fn serve_target(server: &Server, body: &[u8]) {
    let sha = hex::encode(tuf_core::hash::sha256(b"serde index file"));
    server.put(
        &format!("/targets/se/rd/{sha}.serde"),
        Reply::Body(body.to_vec()),
    );
}

fn assert_nothing_in(dir: &Path) {
    assert_eq!(files_in(dir), Vec::<String>::new());
}

#[test]
fn tampered_target_leaves_no_file() {
    let (server, _repo, client, updater, info) = download_setup();
    serve_target(&server, b"serde INDEX file");
    assert_eq!(code(updater.fetch_target(&info)), "hash-mismatch");
    assert_nothing_in(&client.td);
    serve_target(&server, b"serde index file, and more");
    assert_eq!(code(updater.fetch_target(&info)), "length-mismatch");
    assert_nothing_in(&client.td);
    serve_target(&server, b"short");
    assert_eq!(code(updater.fetch_target(&info)), "length-mismatch");
    assert_nothing_in(&client.td);
    server.put(
        &format!(
            "/targets/se/rd/{}.serde",
            hex::encode(tuf_core::hash::sha256(b"serde index file"))
        ),
        Reply::Endless,
    );
    assert_eq!(code(updater.fetch_target(&info)), "length-mismatch");
    assert_nothing_in(&client.td);
}

#[test]
fn unknown_hash_algorithm_fails_and_a_bad_cache_is_replaced() {
    let (_server, _repo, client, updater, mut info) = download_setup();
    // A corrupt cached copy is not used; a download replaces it.
    std::fs::write(client.td.join("se%2Frd%2Fserde"), b"serde index fil3").unwrap();
    assert!(updater.cached_target(&info).unwrap().is_none());
    updater.fetch_target(&info).unwrap();
    assert_eq!(
        std::fs::read(client.td.join("se%2Frd%2Fserde")).unwrap(),
        b"serde index file"
    );
    std::fs::remove_file(client.td.join("se%2Frd%2Fserde")).unwrap();
    info.file.hashes.insert(
        "blake3".to_owned(),
        tuf_core::metadata::HexDigest::new(vec![0; 32]),
    );
    assert_eq!(code(updater.download_target(&info)), "unsupported-hash");
    assert_nothing_in(&client.td);
}

#[test]
fn repository_without_consistent_snapshots() {
    let server = Server::start();
    let mut repo = Repo::new();
    repo.consistent = false;
    let root = repo.root_typed(1);
    repo.roots[0] = repo.sign_root(&root, &[]);
    repo.delegate("targets", "a/b", &["*"], false, key(33));
    repo.add_target("a/b", "x", b"content of x");
    repo.publish(&server);
    let client = Client::new(&repo.trusted_root());
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    let info = updater.target_info("x", now()).unwrap().unwrap();
    updater.fetch_target(&info).unwrap();
    assert_eq!(
        server.take_requests(),
        [
            "/metadata/2.root.json",
            "/metadata/timestamp.json",
            "/metadata/snapshot.json",
            "/metadata/targets.json",
            "/metadata/a%2Fb.json",
            "/targets/x"
        ]
    );
    assert_eq!(std::fs::read(client.td.join("x")).unwrap(), b"content of x");
}

#[test]
fn sha512_target_hashes_are_checked() {
    let (_server, _repo, client, updater, mut info) = download_setup();
    let good = tuf_core::hash::sha512(b"serde index file").to_vec();
    info.file.hashes.insert(
        "sha512".to_owned(),
        tuf_core::metadata::HexDigest::new(good),
    );
    updater.fetch_target(&info).unwrap();
    std::fs::remove_file(client.td.join("se%2Frd%2Fserde")).unwrap();
    info.file.hashes.insert(
        "sha512".to_owned(),
        tuf_core::metadata::HexDigest::new(vec![7; 64]),
    );
    let err = updater.download_target(&info).unwrap_err();
    assert!(
        matches!(&err, ClientError::Core(tuf_core::Error::HashMismatch { algorithm, .. }) if algorithm == "sha512"),
        "{err}"
    );
    assert_nothing_in(&client.td);
}

// ---- the local store only (offline use) ----

/// A repository of 16 succinct bins with one target in each of `paths`' bins, published.
fn bins_setup(paths: &[&str]) -> (Server, Repo, Client) {
    let (server, mut repo, client) = setup();
    let bins = repo.delegate_bins(4, "bin", &key(50));
    for path in paths {
        repo.add_target(&bins.role_for(path), path, path.as_bytes());
    }
    repo.publish(&server);
    (server, repo, client)
}

#[test]
fn load_local_uses_only_the_store() {
    let (server, _repo, client) = bins_setup(&["al/ph/alpha", "be/ta/beta"]);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    assert!(updater.target_info("al/ph/alpha", now()).unwrap().is_some());
    server.take_requests();

    let mut offline = client.updater(&server);
    offline.load_local(now()).unwrap();
    assert_eq!(offline.trusted_timestamp().unwrap().version, 1);
    let info = offline
        .lookup_target("al/ph/alpha", now())
        .unwrap()
        .unwrap();
    assert_eq!(info.file.length.get(), 11);
    assert_eq!(
        offline
            .lookup_target("se/rd/serde", now())
            .unwrap()
            .unwrap()
            .role,
        "targets"
    );
    // beta's bin was never stored: no request, a distinct error, and nothing stored.
    let before = client.files();
    assert_eq!(
        code(offline.lookup_target("be/ta/beta", now())),
        "not-stored"
    );
    assert!(server.take_requests().is_empty());
    assert_eq!(client.files(), before);
}

#[test]
fn load_local_needs_stored_unexpired_metadata() {
    let (server, _repo, client) = bins_setup(&["al/ph/alpha"]);
    // Only the root is stored.
    let mut updater = client.updater(&server);
    let err = updater.load_local(now()).unwrap_err();
    assert!(
        matches!(&err, ClientError::NotStored { role } if role == "timestamp"),
        "{err}"
    );
    assert_eq!(code(updater.lookup_target("al/ph/alpha", now())), "config");
    updater.refresh(now()).unwrap();
    server.take_requests();

    // §5.4.4: the stored timestamp (1 day) has expired two days later.
    let later = now() + chrono::Duration::days(2);
    let err = updater.load_local(later).unwrap_err();
    assert!(
        matches!(
            &err,
            ClientError::Core(tuf_core::Error::Expired { role, version: 1, .. }) if role == "timestamp"
        ),
        "{err}"
    );
    // A failed load keeps no state.
    assert_eq!(code(updater.lookup_target("al/ph/alpha", now())), "config");
    // §5.3.10: the root (365 days) first.
    let much_later = now() + chrono::Duration::days(400);
    let err = updater.load_local(much_later).unwrap_err();
    assert!(
        matches!(&err, ClientError::Core(tuf_core::Error::Expired { role, .. }) if role == "root"),
        "{err}"
    );
    assert!(server.take_requests().is_empty());
    updater.load_local(now()).unwrap();
}

#[test]
fn a_torn_stored_bin_is_fetched_again_not_trusted() {
    // Bins are stored without fsync (a cache of what the snapshot names, verified again
    // when read, TUF §5.6), so a crash may leave one empty or cut short. Such a copy is
    // never trusted: offline the lookup fails with the reason and fetches nothing; online
    // the bin is fetched again and replaces it.
    let (server, _repo, client) = bins_setup(&["al/ph/alpha"]);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    let bin = updater
        .target_info("al/ph/alpha", now())
        .unwrap()
        .unwrap()
        .role;
    let file = MetadataStore::open(&client.md).unwrap().path_of(&bin);
    let good = std::fs::read(&file).unwrap();
    for (what, torn, offline_code) in [
        ("empty", Vec::new(), "json"),
        ("cut short", good[..good.len() / 2].to_vec(), "json"),
    ] {
        std::fs::write(&file, &torn).unwrap();
        let mut offline = client.updater(&server);
        offline.load_local(now()).unwrap();
        server.take_requests();
        assert_eq!(
            code(offline.lookup_target("al/ph/alpha", now())),
            offline_code,
            "{what}"
        );
        assert!(server.take_requests().is_empty(), "{what}");
        assert_eq!(std::fs::read(&file).unwrap(), torn, "{what}");

        let mut online = client.updater(&server);
        online.refresh(now()).unwrap();
        server.take_requests();
        let info = online.target_info("al/ph/alpha", now()).unwrap().unwrap();
        assert_eq!(info.role, bin, "{what}");
        assert_eq!(
            server.take_requests(),
            [format!("/metadata/1.{bin}.json")],
            "{what}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), good, "{what}");
    }
}

#[test]
fn load_local_refuses_a_snapshot_the_timestamp_does_not_name() {
    let (server, mut repo, client) = setup();
    client.refresh(&server).unwrap();
    let old_snapshot = client.stored("snapshot");
    repo.bump_online();
    repo.publish(&server);
    client.refresh(&server).unwrap();
    // The stored snapshot goes back to version 1 while the stored timestamp names 2.
    MetadataStore::open(&client.md)
        .unwrap()
        .store("snapshot", &old_snapshot)
        .unwrap();
    let mut updater = client.updater(&server);
    assert_eq!(code(updater.load_local(now())), "version-mismatch");
    server.take_requests();
    // Online, the same store is repaired: the named snapshot is fetched.
    updater.refresh(now()).unwrap();
    assert_eq!(
        server.take_requests(),
        [
            "/metadata/2.root.json",
            "/metadata/timestamp.json",
            "/metadata/2.snapshot.json"
        ]
    );
}

// ---- lookups from many threads ----

#[test]
fn lookups_recheck_expiry_at_their_now() {
    let (server, _repo, client) = bins_setup(&["al/ph/alpha"]);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    assert!(updater
        .lookup_target("al/ph/alpha", now())
        .unwrap()
        .is_some());
    // The timestamp verified at `now()` expires after a day: a long-lived updater must
    // not go on answering from it.
    let later = now() + chrono::Duration::days(2);
    let err = updater.lookup_target("al/ph/alpha", later).unwrap_err();
    assert!(
        matches!(&err, ClientError::Core(tuf_core::Error::Expired { role, .. }) if role == "timestamp"),
        "{err}"
    );
}

#[test]
fn lookups_recheck_the_roots_expiry_at_their_now() {
    // A root that expires before the timestamp (12 hours against a day): an updater
    // verified before then must not go on answering after it (§5.3.10), online or from
    // the store.
    let (server, mut repo, client) = bins_setup(&["al/ph/alpha"]);
    let twelve_hours = now() + chrono::Duration::hours(12);
    repo.root_expires = tuf_core::metadata::Expires::from_time(twelve_hours);
    repo.push_root(&[]);
    repo.publish(&server);
    let eighteen_hours = now() + chrono::Duration::hours(18);
    let root_expired = |err: &ClientError| matches!(err, ClientError::Core(tuf_core::Error::Expired { role, version: 2, .. }) if role == "root");

    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    assert!(updater
        .lookup_target("al/ph/alpha", now())
        .unwrap()
        .is_some());
    let err = updater
        .lookup_target("al/ph/alpha", eighteen_hours)
        .unwrap_err();
    assert!(root_expired(&err), "{err}");
    // An absence is not vouched for by an expired root either.
    let err = updater
        .lookup_target("ab/se/absent", eighteen_hours)
        .unwrap_err();
    assert!(root_expired(&err), "{err}");

    let mut offline = client.updater(&server);
    offline.load_local(now()).unwrap();
    assert!(offline
        .lookup_target("al/ph/alpha", now())
        .unwrap()
        .is_some());
    let err = offline
        .lookup_target("al/ph/alpha", eighteen_hours)
        .unwrap_err();
    assert!(root_expired(&err), "{err}");
}

#[test]
fn absence_is_not_vouched_for_by_a_bin_that_expired_since_it_was_loaded() {
    // A long-running offline proxy: the state is loaded once and lookups come later. The
    // bin an absent crate hashes to expires after 12 hours, before the timestamp (a day).
    let present = "al/ph/alpha";
    let (server, mut repo, client) = bins_setup(&[present]);
    let bins = repo
        .targets
        .delegations
        .clone()
        .unwrap()
        .succinct_roles
        .unwrap();
    let absent = (0..100)
        .map(|i| format!("ab/se/absent-{i}"))
        .find(|path| bins.role_for(path) != bins.role_for(present))
        .unwrap();
    let bin = bins.role_for(&absent);
    let twelve_hours = now() + chrono::Duration::hours(12);
    repo.targets_mut(&bin).expires = tuf_core::metadata::Expires::from_time(twelve_hours);
    repo.publish(&server);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    assert!(updater.lookup_target(&absent, now()).unwrap().is_none());
    assert!(updater.lookup_target(present, now()).unwrap().is_some());
    server.take_requests();

    let mut offline = client.updater(&server);
    offline.load_local(now()).unwrap();
    // Before the bin expires, its silence is an authenticated "no such target"; this
    // lookup loads the bin from the store, verified (and unexpired) at six hours.
    let six_hours = now() + chrono::Duration::hours(6);
    assert!(offline.lookup_target(&absent, six_hours).unwrap().is_none());
    // After, the bin held since six hours may no longer say so (§5.6.5).
    let eighteen_hours = now() + chrono::Duration::hours(18);
    let err = offline.lookup_target(&absent, eighteen_hours).unwrap_err();
    assert!(
        matches!(
            &err,
            ClientError::Core(tuf_core::Error::Expired { role, version: 1, .. }) if *role == bin
        ),
        "{err}"
    );
    // The other bin has not expired: a present target is still answered.
    assert!(offline
        .lookup_target(present, eighteen_hours)
        .unwrap()
        .is_some());
    assert!(server.take_requests().is_empty());
}

#[test]
fn concurrent_lookups_fetch_each_bin_once() {
    let paths: Vec<String> = (0..64).map(|i| format!("cr/at/crate-{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (server, _repo, client) = bins_setup(&refs);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    server.take_requests();
    let updater = &updater;
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .iter()
            .chain(paths.iter())
            .map(|path| {
                scope.spawn(move || {
                    let info = updater.lookup_target(path, now()).unwrap().unwrap();
                    assert_eq!(info.file.length.get(), u64::try_from(path.len()).unwrap());
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
    let mut requests = server.take_requests();
    let total = requests.len();
    requests.sort();
    requests.dedup();
    assert_eq!(total, requests.len(), "a bin was fetched twice");
    assert!(requests.iter().all(|r| r.starts_with("/metadata/1.bin-")));
    assert!(requests.len() <= 16);
}
