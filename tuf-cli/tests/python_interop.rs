//! python-tuf's `ngclient.Updater` (the reference client, with TAP 15 `succinct_roles`)
//! reads a repository published by the `tuf` binary, served on 127.0.0.1, and refuses it
//! once tampered with. The client side is `test-vectors/python/verify_published.py`; each
//! run of it is one `Updater`, and this test asserts its exit status and message.
//!
//! Then the same for a repository the library publishes to object storage
//! (`tuf_repo::remote::publish` to the tests' S3 server, moto on 127.0.0.1), which
//! ngclient and this project's client (`tuf_client::Updater`) both read from the
//! bucket's URL over plain HTTP, as they would through a CDN (issue #12).
//!
//! The python comes from `$TUF_INTEROP_PYTHON`, or a venv made once (see `ngclient/`,
//! shared with `cli_pkcs11.rs`). No python3 or no PyPI is a failure that says so, not a
//! skipped test: CI and developers run the same check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;
mod ngclient;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use cli_support::{sparse_path, Env};
use ngclient::{interop_python, Ngclient};
use tuf_cli::keys::{generate, KeyType};
use tuf_client::{ClientError, HttpFetcher, Updater, UpdaterConfig};
use tuf_core::crypto::Signer;
use tuf_core::hash::sha256;
use tuf_core::index::CrateName;
use tuf_core::metadata::{versioned_file_name, SuccinctRoles, TargetPath, Threshold};
use tuf_core::repo::{offline::RepoKeys, target_copy_name, Policy};
use tuf_examples::synth::{self, SynthConfig};
use tuf_repo::publish::{Changes, OnlineKeys, PublishKind, PublishOptions, Repository};
use tuf_repo::remote::{self, Index, RemoteRepository};
use tuf_repo::store::{ObjectKind, Store, StoreConfig, StoreUrl};
use tuf_test_support::http::Server;
use tuf_test_support::s3::S3Server;

/// Every index file path under `index/`, sorted.
fn index_paths(index: &Path) -> Vec<String> {
    let mut paths = Vec::new();
    let mut dirs = vec![index.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(index).unwrap();
                paths.push(relative.to_str().unwrap().to_owned());
            }
        }
    }
    paths.sort();
    paths
}

/// `config.json`, and index files of every prefix shape (`1/`, `2/`, `3/x/`, `ab/cd/`).
fn pick(paths: &[String]) -> Vec<String> {
    let mut picked = vec!["config.json".to_owned()];
    for shape in ["1/", "2/", "3/"] {
        picked.extend(
            paths
                .iter()
                .filter(|p| p.starts_with(shape))
                .take(1)
                .cloned(),
        );
    }
    picked.extend(
        paths
            .iter()
            .filter(|p| p.split('/').count() == 3 && !p.starts_with("3/"))
            .take(5)
            .cloned(),
    );
    picked
}

/// The bin (its role `crates-bin-xx`, and its file `N.crates-bin-xx.json` as the
/// newest snapshot names it) that lists `target`; `read` gives a metadata file's bytes.
/// How many of the 256 bins (`bit_length: 8` below) a one-crate hook publish re-signs
/// with release feeds on (`Repository::init` turns them on): the index file's, the
/// crate feed's and the updates feed's, counted once each (docs/feeds.md).
fn bins_of_change(path: &str) -> usize {
    let bins = SuccinctRoles::new(Vec::new(), Threshold::new(1).unwrap(), 8, "bins");
    let name = CrateName::from_sparse_path(path).unwrap();
    [
        bins.bin_of(path),
        bins.bin_of(&tuf_core::feed::crate_feed_path(&name)),
        bins.bin_of(tuf_core::feed::UPDATES_PATH),
    ]
    .into_iter()
    .collect::<BTreeSet<u32>>()
    .len()
}

fn bin_listing(read: impl Fn(&str) -> Vec<u8>, target: &str) -> (String, String) {
    let read = |name: &str| -> serde_json::Value { serde_json::from_slice(&read(name)).unwrap() };
    let timestamp = read("timestamp.json");
    let snapshot_version = &timestamp["signed"]["meta"]["snapshot.json"]["version"];
    let snapshot = read(&versioned_file_name(
        snapshot_version.as_u64().unwrap(),
        "snapshot",
    ));
    for (file, meta) in snapshot["signed"]["meta"].as_object().unwrap() {
        let Some(role) = file.strip_suffix(".json") else {
            continue;
        };
        if !role.starts_with("crates-bin-") {
            continue;
        }
        let name = versioned_file_name(meta["version"].as_u64().unwrap(), role);
        if read(&name)["signed"]["targets"].get(target).is_some() {
            return (role.to_owned(), name);
        }
    }
    panic!("no bin lists {target}");
}

/// `bin` changed to list other bytes for `victim`, its signatures kept (so no longer
/// valid), and those bytes (a copy to serve under their hash name).
fn tampered_bin(bin: &[u8], victim: &str) -> (Vec<u8>, &'static [u8]) {
    let evil: &'static [u8] = b"{\"name\":\"evil\",\"vers\":\"6.6.6\"}\n";
    let mut bin: serde_json::Value = serde_json::from_slice(bin).unwrap();
    bin["signed"]["targets"][victim] = serde_json::json!({
        "length": evil.len(),
        "hashes": { "sha256": hex::encode(sha256(evil)) },
    });
    (serde_json::to_vec(&bin).unwrap(), evil)
}

/// A new ngclient refuses the bin `bin_role`, changed to list other bytes for `victim`
/// with its signature kept ([`tampered_bin`]), as unsigned; it keeps no copy of the bin
/// and downloads nothing.
fn ngclient_refuses_tampered_bin(ngclient: &Ngclient<'_>, victim: &str, bin_role: &str) {
    ngclient.refuses(
        "client-bin",
        "downloads-bin",
        &[victim],
        &format!("UnsignedMetadataError: {bin_role} was signed by 0/1 keys"),
    );
    assert!(
        !ngclient
            .env
            .path(&format!("client-bin/{bin_role}.json"))
            .exists(),
        "ngclient stored the tampered bin"
    );
}

#[test]
fn python_tuf_ngclient_reads_what_tuf_publishes_and_refuses_tampering() {
    let started = Instant::now();
    let python = interop_python();
    let venv_ready = started.elapsed();

    // A repository made by the `tuf` binary as key holders and an operator would:
    // encrypted root keys (2 of 2), a targets key, an online key; 256 succinct bins.
    let env = Env::new();
    env.signed_two_holder_repo(8);
    let synth_config = SynthConfig::new(300, 1);
    synth::write_tree(&synth_config, &env.path("index")).unwrap();
    env.publish("online.pem").assert().success();
    env.trust_root_v1();
    let server = Server::serve_dir(&env.path("repo"));
    let ngclient = Ngclient {
        python: &python,
        base_url: server.base.clone(),
        env: &env,
    };

    // 1. A refresh from the trusted root; index files of every shape found through
    // their bins (and only theirs) and downloaded by their hash names; names never
    // published have no target info.
    let picked = pick(&index_paths(&env.path("index")));
    assert!(picked.len() >= 6, "{picked:?}");
    let picked: Vec<&str> = picked.iter().map(String::as_str).collect();
    server.take_requests();
    ngclient.accepts(
        "client",
        "downloads-1",
        &picked,
        &["no/ta/notacrate", "zz/zz/zzzz-not-published"],
    );
    let bins: BTreeSet<String> = server
        .take_requests()
        .into_iter()
        .filter(|r| r.contains(".crates-bin-"))
        .collect();
    assert!(
        !bins.is_empty() && bins.len() <= picked.len() + 2,
        "ngclient should read the bins of the names it looked up, not all 256: {bins:?}"
    );

    // 2. An incremental publish: a yank in one crate, a new version of another. The
    // client that ran before follows it from the metadata it stored.
    let names = synth::pick_crates(&synth_config, 2);
    let vers = synth::crate_versions(&env.path("index"), &names[0]).unwrap();
    assert!(vers
        .iter()
        .any(|v| synth::yank(&env.path("index"), &names[0], v).unwrap()));
    synth::add_version(&env.path("index"), &names[1]).unwrap();
    let (yanked, added) = (sparse_path(&names[0]), sparse_path(&names[1]));
    env.publish("online.pem")
        .args(["--changed", &yanked, "--changed", &added])
        .assert()
        .success()
        .stderr(predicates::str::contains("published (Incremental)"));
    ngclient.accepts(
        "client",
        "downloads-2",
        &[&yanked, &added, picked[1], picked[picked.len() - 1]],
        &[],
    );

    // 3. A hash-named target copy changed on the server: refused, nothing downloaded.
    let victim = picked[picked.len() - 2];
    let copy = env.path("repo/targets").join(target_copy_name(
        &TargetPath::parse(victim).unwrap(),
        &sha256(&env.read(&format!("index/{victim}"))),
    ));
    let good_copy = fs::read(&copy).unwrap();
    let mut bad_copy = good_copy.clone();
    bad_copy[0] ^= 0x01;
    fs::write(&copy, &bad_copy).unwrap();
    ngclient.refuses(
        "client-copy",
        "downloads-copy",
        &[victim],
        "LengthOrHashMismatchError",
    );
    fs::write(&copy, &good_copy).unwrap();

    // 4. A bin changed on the server to list other bytes for a target (and those bytes
    // served under their hash name), its signature kept: refused as unsigned, the bin
    // not stored, nothing downloaded.
    let victim = picked[picked.len() - 3];
    let metadata = env.path("repo/metadata");
    let (bin_role, bin_name) = bin_listing(|name| fs::read(metadata.join(name)).unwrap(), victim);
    let bin_file = metadata.join(bin_name);
    let (bad_bin, evil) = tampered_bin(&fs::read(&bin_file).unwrap(), victim);
    fs::write(&bin_file, bad_bin).unwrap();
    let evil_copy = env.path("repo/targets").join(target_copy_name(
        &TargetPath::parse(victim).unwrap(),
        &sha256(evil),
    ));
    fs::write(&evil_copy, evil).unwrap();
    ngclient_refuses_tampered_bin(&ngclient, victim, &bin_role);

    eprintln!(
        "python interop: python ready in {:.1} s, whole test {:.1} s",
        venv_ready.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// This project's client (`tuf_client::Updater`) trusting `trusted-root.json`, its
/// metadata in the scratch directory's `CLIENT/metadata` and downloads in
/// `CLIENT/targets`, updating from the repository at `base_url` (`metadata/`,
/// `targets/` under it).
fn tuf_client(env: &Env, client: &str, base_url: &str) -> Updater<HttpFetcher> {
    let metadata = env.path(&format!("{client}/metadata"));
    fs::create_dir_all(&metadata).unwrap();
    fs::copy(env.path("trusted-root.json"), metadata.join("root.json")).unwrap();
    let mut config = UpdaterConfig::new(&format!("{base_url}/metadata/"), metadata);
    config.targets_base_url = Some(format!("{base_url}/targets/"));
    config.target_dir = Some(env.path(&format!("{client}/targets")));
    fs::create_dir_all(env.path(&format!("{client}/targets"))).unwrap();
    Updater::new(config, HttpFetcher::new().unwrap()).unwrap()
}

/// Our client refreshes, finds each of `expect` through its bin and downloads it by its
/// hash-prefixed name (the bucket has no other): the bytes of `index/PATH`; each of
/// `absent` has no target info.
fn tuf_client_accepts(
    env: &Env,
    client: &mut Updater<HttpFetcher>,
    expect: &[&str],
    absent: &[&str],
) {
    client.refresh(Utc::now()).unwrap_or_else(|e| panic!("{e}"));
    for path in expect {
        let info = client
            .target_info(path, Utc::now())
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .unwrap_or_else(|| panic!("our client finds no target info for {path}"));
        let file = client
            .download_target(&info)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            fs::read(file).unwrap(),
            env.read(&format!("index/{path}")),
            "{path}"
        );
    }
    for path in absent {
        assert!(
            client.target_info(path, Utc::now()).unwrap().is_none(),
            "{path}"
        );
    }
}

#[test]
fn python_tuf_and_tuf_client_update_from_an_s3_bucket_and_refuse_a_tampered_bin() {
    let python = interop_python();
    // The operator's directory: root and targets v1 (256 succinct bins) and the keys,
    // made by the library (`Repository::init`); the library publishes to an S3 bucket (moto on 127.0.0.1)
    // from the local index with the online key.
    let env = Env::new();
    let synth_config = SynthConfig::new(300, 1);
    synth::write_tree(&synth_config, &env.path("index")).unwrap();
    let new_key = || -> Arc<dyn Signer> { Arc::from(generate(KeyType::Ed25519).unwrap().0) };
    let (root_key, targets_key, online_key) = (new_key(), new_key(), new_key());
    let online_signer: [&dyn Signer; 1] = [online_key.as_ref()];
    Repository::new(env.path("index"), env.path("repo"))
        .init(
            &Policy {
                bit_length: 8,
                ..Policy::default()
            },
            &RepoKeys {
                root: &[root_key.as_ref()],
                targets: &[targets_key.as_ref()],
                snapshot: &online_signer,
                timestamp: &online_signer,
                bins: &online_signer,
            },
            Utc::now(),
        )
        .unwrap();
    env.trust_root_v1();
    let server = S3Server::shared();
    let bucket = server.create_bucket("interop");
    let config = StoreConfig {
        s3_endpoint: Some(server.endpoint()),
        options: server.object_store_options(&bucket),
        ..StoreConfig::default()
    };
    let url = StoreUrl::parse(&format!("s3://{bucket}/tuf")).unwrap();
    let store = Arc::new(Store::open(&url, &config).unwrap_or_else(|e| panic!("{e}")));
    let repo = RemoteRepository::new(
        env.path("repo"),
        store.clone(),
        Index::Local(env.path("index")),
    );
    let online = OnlineKeys::single(online_key);
    let publish = |changes: Changes| {
        remote::publish(&repo, &online, &changes, &PublishOptions::new(Utc::now()))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    // Both clients read the bucket anonymously over plain HTTP (its policy allows GET).
    let base_url = server.object_url(&bucket, "tuf");
    let ngclient = Ngclient {
        python: &python,
        base_url: base_url.clone(),
        env: &env,
    };
    let mut ours = tuf_client(&env, "ours", &base_url);

    // 1. The first publish: both clients refresh from root v1 and download index files
    // of every shape by their hash-prefixed names; unpublished names have no info.
    assert_eq!(publish(Changes::Scan).kind, PublishKind::First);
    let picked = pick(&index_paths(&env.path("index")));
    let picked: Vec<&str> = picked.iter().map(String::as_str).collect();
    let absent = ["no/ta/notacrate", "zz/zz/zzzz-not-published"];
    ngclient.accepts("client", "downloads-1", &picked, &absent);
    tuf_client_accepts(&env, &mut ours, &picked, &absent);

    // 2. A hook publish of a new version; 3. of a yank. The clients follow from the
    // metadata they stored.
    let names = synth::pick_crates(&synth_config, 2);
    synth::add_version(&env.path("index"), &names[1]).unwrap();
    let added = sparse_path(&names[1]);
    let hook = publish(Changes::Paths(vec![added.clone()]));
    assert_eq!(
        (hook.kind, hook.bins_signed),
        (PublishKind::Incremental, bins_of_change(&added))
    );
    ngclient.accepts("client", "downloads-2", &[&added, picked[1]], &[]);
    tuf_client_accepts(&env, &mut ours, &[&added, picked[1]], &[]);
    let vers = synth::crate_versions(&env.path("index"), &names[0]).unwrap();
    assert!(vers
        .iter()
        .any(|v| synth::yank(&env.path("index"), &names[0], v).unwrap()));
    let yanked = sparse_path(&names[0]);
    let yank = publish(Changes::Paths(vec![yanked.clone()]));
    assert_eq!(
        (yank.kind, yank.bins_signed),
        (PublishKind::Incremental, bins_of_change(&yanked))
    );
    assert!(String::from_utf8(env.read(&format!("index/{yanked}")))
        .unwrap()
        .contains(r#""yanked":true"#));
    ngclient.accepts("client", "downloads-3", &[&yanked], &[]);
    tuf_client_accepts(&env, &mut ours, &[&yanked], &[]);

    // 4. A bin overwritten in the bucket to list other bytes for a target (those bytes
    // uploaded under their hash name), its signature kept: new clients of both kinds
    // refuse it as unsigned, keep no copy of it, and download nothing.
    let victim = picked[picked.len() - 3];
    let get = |key: &str| store.get(key).unwrap().unwrap().bytes.to_vec();
    let (bin_role, bin_name) = bin_listing(|name| get(&format!("metadata/{name}")), victim);
    let (bad_bin, evil) = tampered_bin(&get(&format!("metadata/{bin_name}")), victim);
    store
        .put(
            &format!("metadata/{bin_name}"),
            bad_bin.into(),
            ObjectKind::Immutable,
        )
        .unwrap();
    let evil_name = target_copy_name(&TargetPath::parse(victim).unwrap(), &sha256(evil));
    store
        .put(
            &format!("targets/{evil_name}"),
            evil.into(),
            ObjectKind::Immutable,
        )
        .unwrap();
    ngclient_refuses_tampered_bin(&ngclient, victim, &bin_role);
    let mut fresh = tuf_client(&env, "ours-bin", &base_url);
    fresh.refresh(Utc::now()).unwrap_or_else(|e| panic!("{e}"));
    let refused = fresh.target_info(victim, Utc::now());
    assert!(
        matches!(
            &refused,
            Err(ClientError::Core(tuf_core::Error::Threshold { role, valid: 0, threshold: 1 }))
                if *role == bin_role
        ),
        "{refused:?}"
    );
    let stored: Vec<String> = fs::read_dir(env.path("ours-bin/metadata"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !stored.iter().any(|name| name.contains(&bin_role)),
        "our client stored the tampered bin: {stored:?}"
    );
    assert_eq!(
        fs::read_dir(env.path("ours-bin/targets")).unwrap().count(),
        0
    );
}
