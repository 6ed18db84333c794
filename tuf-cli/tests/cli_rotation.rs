//! Key rotation and re-binning through the binary, followed by a real client
//! (`tuf_client::Updater` over HTTP on 127.0.0.1): the online key replaced after a
//! compromise (TUF §5.3.11), the targets keys replaced, the number of hashed bins changed
//! (TAP 15). Each runbook in `docs/operator.md` is the commands these tests run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use std::fs;

use chrono::Utc;
use cli_support::{ids, index_line, role, sparse_path, Env};
use predicates::prelude::*;
use serde_json::Value;
use tuf_client::{ClientError, HttpFetcher, Updater, UpdaterConfig};
use tuf_core::crypto::{signer_from_pkcs8_der, Signer};
use tuf_core::metadata::{sign_role, versioned_file_name, RoleType, SignedMetadata, Timestamp};
use tuf_core::Limits;
use tuf_test_support::http::Server;

/// Crates in the test index.
const CRATES: [&str; 12] = [
    "serde", "rand", "log", "tokio", "anyhow", "regex", "clap", "syn", "quote", "libc", "itoa",
    "memchr",
];

/// Every index path: the crates and `config.json`.
fn index_paths() -> Vec<String> {
    let mut paths: Vec<String> = CRATES.iter().map(|c| sparse_path(c)).collect();
    paths.push("config.json".to_owned());
    paths
}

/// Keys alice, bob, carol (root 2-of-3), tgt (targets), online; an index; `repo` with
/// 2^3 bins, signed and published; `trusted-root.json` is its root v1.
fn published(env: &Env) {
    for name in ["alice", "bob", "carol", "tgt", "online"] {
        env.plain_key(name);
    }
    env.init("repo", &["alice", "bob", "carol"])
        .args(["--root-threshold", "2", "--bit-length", "3"])
        .assert()
        .success();
    // The bins counted here are the index's: release feeds (on after `tuf init`) are
    // tested in cli_publish.rs and tuf-repo.
    env.tuf()
        .args(["-q", "feeds", "off", "repo"])
        .assert()
        .success();
    env.write_index_config();
    for name in CRATES {
        env.write_crate(name, index_line(name, "1.0.0"));
    }
    env.sign("root", "alice");
    env.sign("root", "bob");
    env.sign("targets", "tgt");
    env.publish("online.pem")
        .assert()
        .success()
        .stderr(predicate::str::contains("published (First)"));
    env.trust_root_v1();
    // A second publish, so timestamp and snapshot are past version 1.
    fs::write(
        env.path("index/se/rd/serde"),
        index_line("serde", "1.0.0") + &index_line("serde", "1.0.1"),
    )
    .unwrap();
    env.publish("online.pem")
        .assert()
        .success()
        .stderr(predicate::str::contains("published (Incremental)"));
}

/// The `signed` part of a published metadata file.
fn signed(env: &Env, name: &str) -> Value {
    let value: Value = serde_json::from_slice(&env.read(&format!("repo/metadata/{name}"))).unwrap();
    value["signed"].clone()
}

fn version(env: &Env, name: &str) -> u64 {
    signed(env, name)["version"].as_u64().unwrap()
}

fn snapshot_name(env: &Env) -> String {
    let snapshot = signed(env, "timestamp.json")["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap();
    versioned_file_name(snapshot, "snapshot")
}

/// `tuf root rotate repo` replacing the targets key `tgt` by `tgt2`.
fn rotate_targets_key_to_tgt2(env: &Env) -> assert_cmd::Command {
    let mut cmd = env.tuf();
    cmd.args(["root", "rotate", "repo"])
        .args(["--add-key", "targets=tgt2.pub.json"])
        .args(["--remove-key", "targets=tgt.pub.json"]);
    cmd
}

/// [`published`], served on 127.0.0.1, and a client `client` that has seen the whole
/// index; also the bin roles it went through.
fn published_and_followed(env: &Env) -> (Server, Updater<HttpFetcher>, Vec<String>) {
    published(env);
    let server = Server::serve_dir(&env.path("repo"));
    let mut updater = client(env, &server, "client");
    let roles = client_sees_index(env, &mut updater);
    (server, updater, roles)
}

/// A client trusting `trusted-root.json`, keeping its files in `env/NAME`.
fn client(env: &Env, server: &Server, name: &str) -> Updater<HttpFetcher> {
    let metadata = env.path(&format!("{name}/metadata"));
    fs::create_dir_all(&metadata).unwrap();
    fs::create_dir_all(env.path(&format!("{name}/targets"))).unwrap();
    fs::write(metadata.join("root.json"), env.read("trusted-root.json")).unwrap();
    let mut config = UpdaterConfig::new(&format!("{}/metadata/", server.base), metadata);
    config.targets_base_url = Some(format!("{}/targets/", server.base));
    config.target_dir = Some(env.path(&format!("{name}/targets")));
    Updater::new(config, HttpFetcher::new().unwrap()).unwrap()
}

/// The client refreshes, then finds every index file through its bin and downloads it,
/// byte for byte the file in the index. Returns the bin names it went through.
fn client_sees_index(env: &Env, updater: &mut Updater<HttpFetcher>) -> Vec<String> {
    updater.refresh(Utc::now()).unwrap();
    let mut roles = Vec::new();
    for path in index_paths() {
        let info = updater
            .target_info(&path, Utc::now())
            .unwrap()
            .unwrap_or_else(|| panic!("{path} is not listed"));
        let downloaded = fs::read(updater.download_target(&info).unwrap()).unwrap();
        assert_eq!(downloaded, env.read(&format!("index/{path}")), "{path}");
        roles.push(info.role);
    }
    roles
}

/// The online private key in `NAME.pem` (unencrypted PKCS#8 PEM).
fn private_key(env: &Env, name: &str) -> Box<dyn Signer> {
    let pem = fs::read_to_string(env.path(&format!("{name}.pem"))).unwrap();
    let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap();
    signer_from_pkcs8_der(&der, tuf_cli::keys::system_random()).unwrap()
}

/// The version of the root the client stored (`NAME/metadata/root.json`): the root it
/// trusts after its last refresh.
fn client_root_version(env: &Env, client: &str) -> u64 {
    let root: Value = serde_json::from_slice(&stored(env, client, "root").unwrap()).unwrap();
    root["signed"]["version"].as_u64().unwrap()
}

/// The client's stored copy of `role`, if any.
fn stored(env: &Env, client: &str, role: &str) -> Option<Vec<u8>> {
    fs::read(env.path(&format!("{client}/metadata/{role}.json"))).ok()
}

#[test]
fn online_key_compromise_rotation_client_follows_and_refuses_the_old_key() {
    let env = Env::new();
    let (server, mut before, _) = published_and_followed(&env);
    let old_timestamp = version(&env, "timestamp.json");
    let old_snapshot_name = snapshot_name(&env);
    let old_snapshot = version(&env, &old_snapshot_name);
    let old_bins: Value = signed(&env, &old_snapshot_name)["meta"].clone();

    // Runbook: a new online key, root v2 naming it for timestamp and snapshot, and
    // targets v2 delegating the bins to it, staged together.
    let new_online = env.plain_key("online2");
    env.tuf()
        .args(["root", "rotate", "repo", "--online-key", "online2.pub.json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("staged targets v2"));
    let staged_targets =
        cli_support::parse(&env.path("repo/staged/targets.json"), RoleType::Targets);
    let bins = &staged_targets.signed()["delegations"]["succinct_roles"];
    assert_eq!(bins["keyids"], serde_json::json!([new_online]));
    assert_eq!(bins["bit_length"], 3);
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 3);
    let staged = role(&report, "targets", "staged");
    assert_eq!(
        ids(&staged["thresholds"][0], "missing"),
        vec![env_key_id(&env, "tgt")]
    );
    let notes = staged["notes"].to_string();
    let online = env_key_id(&env, "online");
    assert!(
        notes.contains(&format!("bin key + {new_online} (online2)")),
        "{notes}"
    );
    assert!(
        notes.contains(&format!("bin key - {online} (online)")),
        "{notes}"
    );
    env.sign("root", "alice");
    env.sign("root", "bob");
    env.sign("targets", "tgt");

    // The compromised key cannot publish the new root: refused before anything is
    // committed (exit 5).
    env.publish("online.pem")
        .assert()
        .code(5)
        .stderr(predicate::str::contains("staged root v2"));
    assert!(!env.path("repo/metadata/2.root.json").exists());
    assert!(env.path("repo/staged/root.json").exists());

    // Committing the root alone warns that clients refuse the old timestamp until the
    // publish; refresh cannot fix that (it re-signs only what expires) and says so.
    env.root_commit()
        .assert()
        .success()
        .stderr(predicate::str::contains("replaces the online"));
    env.refresh("online2.pem")
        .args(["--within", "2d"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("publish to re-sign everything"));
    env.verify().assert().code(1);

    // The publish re-signs every bin, the snapshot and the timestamp with the new key,
    // versions continuing from the old state.
    env.publish("online2.pem")
        .assert()
        .success()
        .stderr(predicate::str::contains("committed staged targets v2"))
        .stderr(predicate::str::contains("published (Full)"))
        .stderr(predicate::str::contains("8 bin(s) signed"));
    assert_eq!(version(&env, "timestamp.json"), old_timestamp + 1);
    let new_snapshot_name = snapshot_name(&env);
    assert_eq!(version(&env, &new_snapshot_name), old_snapshot + 1);
    let new_bins = signed(&env, &new_snapshot_name)["meta"].clone();
    for (name, meta) in old_bins.as_object().unwrap() {
        let old = meta["version"].as_u64().unwrap();
        let new = new_bins[name]["version"].as_u64().unwrap();
        if name == "targets.json" {
            assert_eq!(new, 2);
        } else {
            assert_eq!(new, old + 1, "{name}");
        }
    }
    env.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("ok: root v2"));

    // A client that trusted the old state moves to root v2, drops its timestamp and
    // snapshot (TUF §5.3.11) and takes the new ones.
    let roles = client_sees_index(&env, &mut before);
    assert!(roles.iter().all(|r| r.starts_with("crates-bin-")));
    assert_eq!(client_root_version(&env, "client"), 2);
    let good_timestamp = stored(&env, "client", "timestamp").unwrap();

    // The attacker re-signs a higher timestamp with the old (compromised) key: refused by
    // a client that already moved, and by a new client starting from root v1; nothing of
    // it is stored.
    let limits = Limits::default();
    let mut forged: Timestamp = SignedMetadata::parse(
        &env.read("repo/metadata/timestamp.json"),
        RoleType::Timestamp,
        &limits,
    )
    .unwrap()
    .decode_unverified("timestamp", &limits)
    .unwrap();
    forged.version = forged.version.next().unwrap().next().unwrap();
    let old_key = private_key(&env, "online");
    fs::write(
        env.path("repo/metadata/timestamp.json"),
        sign_role(&forged, &[old_key.as_ref()]).unwrap(),
    )
    .unwrap();
    for (updater, name) in [
        (&mut before, "client"),
        (&mut client(&env, &server, "fresh"), "fresh"),
    ] {
        let error = updater.refresh(Utc::now()).unwrap_err();
        assert!(
            matches!(
                &error,
                ClientError::Core(tuf_core::Error::Threshold { role, valid: 0, .. })
                    if role == "timestamp"
            ),
            "{error:?}"
        );
        let kept = stored(&env, name, "timestamp");
        if name == "client" {
            assert_eq!(kept, Some(good_timestamp.clone()));
        } else {
            assert_eq!(kept, None);
        }
    }
    env.verify().assert().code(1);
    // And the old key is refused by the operator tools too.
    env.refresh("online.pem").assert().code(5);
}

/// The key id of `NAME.pub.json`.
fn env_key_id(env: &Env, name: &str) -> String {
    let key = env.read(&format!("{name}.pub.json"));
    let key: tuf_core::crypto::PublicKey = serde_json::from_slice(&key).unwrap();
    key.key_id().unwrap().to_string()
}

#[test]
fn targets_key_rotation_restages_targets_and_publish_waits_for_the_new_key() {
    let env = Env::new();
    let (_server, mut updater, _) = published_and_followed(&env);
    let tgt2 = env.plain_key("tgt2");
    let tgt = env_key_id(&env, "tgt");
    let timestamp = env.read("repo/metadata/timestamp.json");

    // Runbook: root v2 replaces the targets key; rotate stages targets v2 (unchanged but
    // for version and expiry) for the new key to sign.
    rotate_targets_key_to_tgt2(&env)
        .assert()
        .success()
        .stderr(predicate::str::contains("staged targets v2"));
    env.sign("root", "alice");
    env.sign("root", "bob");

    // Under threshold until the new key signs: status, root commit and publish say so
    // and change nothing. The old key's signature is refused outright.
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 3);
    let staged = role(&report, "targets", "staged");
    assert_eq!(staged["thresholds"][0]["authority"], "root v2");
    assert_eq!(ids(&staged["thresholds"][0], "missing"), vec![tgt2.clone()]);
    env.sign_cmd("targets", "tgt").assert().code(5);
    env.root_commit()
        .assert()
        .code(3)
        .stderr(predicate::str::contains("changes the targets keys"))
        .stderr(predicate::str::contains(tgt2.as_str()));
    env.publish("online.pem")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("staged targets v2"))
        .stderr(predicate::str::contains(tgt2.as_str()));
    assert!(!env.path("repo/metadata/2.root.json").exists());
    assert_eq!(env.read("repo/metadata/timestamp.json"), timestamp);

    env.sign("targets", "tgt2");
    let (report, code) = env.status_json(&["--warn-within", "1h"]);
    assert_eq!(code, 0, "{report:#}");
    env.publish("online.pem")
        .assert()
        .success()
        .stderr(predicate::str::contains("published (Full)"));
    assert!(env.path("repo/metadata/2.root.json").exists());
    let targets = cli_support::parse(&env.path("repo/metadata/2.targets.json"), RoleType::Targets);
    let signers: Vec<String> = targets
        .signatures()
        .iter()
        .map(|s| s.keyid.to_string())
        .collect();
    assert_eq!(signers, vec![tgt2]);
    assert_ne!(tgt, signers[0]);
    env.verify().assert().success();
    client_sees_index(&env, &mut updater);
    assert_eq!(client_root_version(&env, "client"), 2);
}

#[test]
fn targets_signed_by_the_old_key_before_a_rotation_do_not_count_after_it() {
    let env = Env::new();
    published(&env);
    env.plain_key("tgt2");
    // Targets v2 staged and signed by the current targets key...
    env.tuf()
        .args(["targets", "stage", "repo"])
        .assert()
        .success()
        .stderr(predicate::str::contains("staged targets v2"));
    env.tuf()
        .args(["targets", "stage", "repo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--replace"));
    env.sign("targets", "tgt");
    // ...then root v2 replaces that key: the staged targets is kept, and counts for
    // nothing under the new key.
    rotate_targets_key_to_tgt2(&env)
        .assert()
        .success()
        .stderr(predicate::str::contains("already staged"));
    env.sign("root", "alice");
    env.sign("root", "bob");
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 3);
    let count = &role(&report, "targets", "staged")["thresholds"][0];
    assert_eq!(ids(count, "signed"), Vec::<String>::new());
    assert_eq!(ids(count, "not_counted"), vec![env_key_id(&env, "tgt")]);
    env.publish("online.pem").assert().code(3);
    assert!(!env.path("repo/metadata/2.root.json").exists());
    assert!(!env.path("repo/metadata/2.targets.json").exists());
    env.sign("targets", "tgt2");
    // The root alone may be committed now, with a warning to publish at once.
    env.root_commit()
        .assert()
        .success()
        .stderr(predicate::str::contains("Run `tuf publish` now"));
    env.verify().assert().code(1);
    env.publish("online.pem")
        .assert()
        .success()
        .stderr(predicate::str::contains("committed staged targets v2"));
    env.verify().assert().success();
}

#[test]
fn rebin_changes_the_number_of_bins_and_clients_follow() {
    let env = Env::new();
    let (server, mut updater, old_roles) = published_and_followed(&env);
    assert!(old_roles.iter().all(|r| r.len() == "crates-bin-0".len()));
    let old_snapshot_name = snapshot_name(&env);
    let old_meta = signed(&env, &old_snapshot_name)["meta"].clone();
    let policy = env.read("repo/policy.json");

    // Refused: no change, or out of range.
    for bits in ["3", "0", "17"] {
        env.tuf()
            .args(["targets", "rebin", "repo", "--bit-length", bits])
            .assert()
            .code(2);
    }
    assert!(!env.path("repo/staged/targets.json").exists());

    // Runbook: stage targets v2 with 2^5 bins; the targets key holders sign; publish.
    env.tuf()
        .args(["targets", "rebin", "repo", "--bit-length", "5"])
        .assert()
        .success()
        .stdout(predicate::str::contains("delegates to 32 hashed bins"))
        .stderr(predicate::str::contains("bins: 8 -> 32"));
    assert_eq!(env.read("repo/policy.json"), policy);
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 3);
    assert_eq!(
        role(&report, "targets", "staged")["notes"],
        serde_json::json!([
            "changes from published targets v1: bins 8 crates-bin-* -> 32 crates-bin-*"
        ])
    );
    env.publish("online.pem")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("staged targets v2"));
    assert_eq!(env.read("repo/policy.json"), policy);
    env.sign("targets", "tgt");
    env.publish("online.pem")
        .assert()
        .success()
        .stderr(predicate::str::contains("published (Full)"))
        .stderr(predicate::str::contains("32 bin(s) signed"));
    let policy: Value = serde_json::from_slice(&env.read("repo/policy.json")).unwrap();
    assert_eq!(policy["bins"]["bit_length"], 5);

    // The snapshot lists the 32 new bins, and still every role the old one listed, at no
    // lower version (TUF §5.5.5).
    let new_snapshot_name = snapshot_name(&env);
    let new_meta = signed(&env, &new_snapshot_name)["meta"].clone();
    assert_eq!(new_meta.as_object().unwrap().len(), 1 + 32 + 8);
    for (name, meta) in old_meta.as_object().unwrap() {
        assert!(
            new_meta[name]["version"].as_u64().unwrap() >= meta["version"].as_u64().unwrap(),
            "{name}"
        );
    }
    // The old bins are retired, kept on disk for the grace period.
    let retired = String::from_utf8(env.read("repo/state/retired")).unwrap();
    for name in old_meta.as_object().unwrap().keys() {
        if let Some(role) = name.strip_suffix(".json").filter(|r| *r != "targets") {
            let file = versioned_file_name(old_meta[name]["version"].as_u64().unwrap(), role);
            assert!(retired.contains(&file), "{file} not retired");
            assert!(env.path(&format!("repo/metadata/{file}")).exists());
        }
    }

    // Clients see nothing but new metadata: every index file through the new bins.
    env.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("32 bin(s)"));
    let new_roles = client_sees_index(&env, &mut updater);
    assert!(new_roles.iter().all(|r| r.len() == "crates-bin-00".len()));
    let mut fresh = client(&env, &server, "fresh");
    client_sees_index(&env, &mut fresh);

    // Incremental publishes continue on the new layout.
    fs::write(
        env.path("index/ra/nd/rand"),
        index_line("rand", "1.0.0").replace("\"yanked\":false", "\"yanked\":true"),
    )
    .unwrap();
    env.publish("online.pem")
        .args(["--changed", "ra/nd/rand"])
        .assert()
        .success()
        .stderr(predicate::str::contains("1 bin(s) signed"));
    client_sees_index(&env, &mut updater);
}

#[test]
fn online_key_rotated_by_hand_needs_targets_staged_with_the_new_bin_key() {
    let env = Env::new();
    let (_server, mut updater, _) = published_and_followed(&env);
    let new_online = env.plain_key("online2");
    // Root v2 swaps the timestamp and snapshot keys role by role: no targets is staged.
    env.tuf()
        .args(["root", "rotate", "repo"])
        .args(["--add-key", "timestamp=online2.pub.json"])
        .args(["--add-key", "snapshot=online2.pub.json"])
        .args(["--remove-key", "timestamp=online.pub.json"])
        .args(["--remove-key", "snapshot=online.pub.json"])
        .assert()
        .success();
    assert!(!env.path("repo/staged/targets.json").exists());
    env.sign("root", "alice");
    env.sign("root", "bob");
    // The new key is not the bins' key of the published targets: refused (exit 5)
    // before anything is committed, saying what to stage.
    env.publish("online2.pem")
        .assert()
        .code(5)
        .stderr(predicate::str::contains("not the bins' key"))
        .stderr(predicate::str::contains("tuf targets stage"));
    assert!(!env.path("repo/metadata/2.root.json").exists());

    env.tuf()
        .args(["targets", "stage", "repo", "--bin-key", "online2.pub.json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("replaces the old bin key"));
    let staged = cli_support::parse(&env.path("repo/staged/targets.json"), RoleType::Targets);
    let delegations = &staged.signed()["delegations"];
    assert_eq!(
        delegations["succinct_roles"]["keyids"],
        serde_json::json!([new_online])
    );
    // The old bin key is dropped from the delegation's keys.
    assert_eq!(delegations["keys"].as_object().unwrap().len(), 1);
    env.sign("targets", "tgt");
    env.publish("online2.pem")
        .assert()
        .success()
        .stderr(predicate::str::contains("published (Full)"));
    env.verify().assert().success();
    client_sees_index(&env, &mut updater);
    assert_eq!(client_root_version(&env, "client"), 2);
}

#[test]
fn a_failed_publish_publishes_nothing_of_the_new_root_and_keeps_it_staged() {
    let env = Env::new();
    let (_server, mut updater, _) = published_and_followed(&env);
    let timestamp = env.read("repo/metadata/timestamp.json");
    env.plain_key("online2");
    env.tuf()
        .args(["root", "rotate", "repo", "--online-key", "online2.pub.json"])
        .assert()
        .success();
    env.sign("root", "alice");
    env.sign("root", "bob");
    env.sign("targets", "tgt");
    // A new crate whose hash-named copy cannot be written (its directory is a file):
    // the root commit checks pass, then the engine fails while scanning the index.
    env.write_crate("zzzz", index_line("zzzz", "0.1.0"));
    env.write("repo/targets/zz", b"not a directory");

    env.publish("online2.pem")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "root v2 was not published and stays staged",
        ));
    assert!(!env.path("repo/metadata/2.root.json").exists());
    assert!(env.path("repo/staged/root.json").exists());
    assert_eq!(env.read("repo/metadata/timestamp.json"), timestamp);
    // Clients go on with root v1 and the published state.
    client_sees_index(&env, &mut updater);
    assert_eq!(client_root_version(&env, "client"), 1);

    // Fixed, the rerun publishes root v2 with the state signed under it.
    fs::remove_file(env.path("repo/targets/zz")).unwrap();
    env.publish("online2.pem")
        .assert()
        .success()
        .stderr(predicate::str::contains("published root v2"))
        .stderr(predicate::str::contains("published (Full)"));
    assert!(!env.path("repo/staged/root.json").exists());
    env.verify().assert().success();
    client_sees_index(&env, &mut updater);
    assert_eq!(client_root_version(&env, "client"), 2);
}

#[test]
fn a_bad_changed_path_publishes_nothing_of_the_new_root_and_a_rerun_finishes() {
    let env = Env::new();
    let (_server, mut updater, _) = published_and_followed(&env);
    let timestamp = env.read("repo/metadata/timestamp.json");
    // Root v2 adds a root key: the published state verifies under it, so the publish
    // is incremental and reads the --changed paths.
    env.plain_key("dave");
    env.tuf()
        .args(["root", "rotate", "repo", "--add-key", "root=dave.pub.json"])
        .assert()
        .success();
    env.sign("root", "alice");
    env.sign("root", "bob");

    env.publish("online.pem")
        .args(["--changed", "not/an/index/path"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not/an/index/path"))
        .stderr(predicate::str::contains(
            "root v2 was not published and stays staged",
        ));
    assert!(!env.path("repo/metadata/2.root.json").exists());
    assert!(env.path("repo/staged/root.json").exists());
    assert_eq!(env.read("repo/metadata/timestamp.json"), timestamp);

    env.write_crate("serde", index_line("serde", "2.0.0"));
    env.publish("online.pem")
        .args(["--changed", &sparse_path("serde")])
        .assert()
        .success()
        .stderr(predicate::str::contains("published root v2"))
        .stderr(predicate::str::contains("published (Incremental)"));
    assert!(!env.path("repo/staged/root.json").exists());
    client_sees_index(&env, &mut updater);
    assert_eq!(client_root_version(&env, "client"), 2);

    // A publish stopped after writing root v2 but before removing the staged copy: the
    // rerun (publish or root commit) sees it is published and goes on.
    for rerun in [env.publish("online.pem"), env.root_commit()] {
        let mut rerun = rerun;
        fs::copy(
            env.path("repo/metadata/2.root.json"),
            env.path("repo/staged/root.json"),
        )
        .unwrap();
        rerun
            .assert()
            .success()
            .stderr(predicate::str::contains("already published"));
        assert!(!env.path("repo/staged/root.json").exists());
    }
    env.verify().assert().success();
}
