//! python-tuf's `ngclient.Updater` (the reference client, with TAP 15 `succinct_roles`)
//! reads a repository published by the `tuf` binary, served on 127.0.0.1, and refuses it
//! once tampered with. The client side is `test-vectors/python/verify_published.py`; each
//! run of it is one `Updater`, and this test asserts its exit status and message.
//!
//! The python comes from `$TUF_INTEROP_PYTHON`, or a venv made once (see `ngclient/`,
//! shared with `cli_pkcs11.rs`). No python3 or no PyPI is a failure that says so, not a
//! skipped test: CI and developers run the same check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;
mod ngclient;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cli_support::{sparse_path, Env};
use ngclient::{interop_python, Ngclient};
use tuf_core::hash::sha256;
use tuf_core::metadata::TargetPath;
use tuf_core::repo::target_copy_name;
use tuf_examples::synth::{self, SynthConfig};
use tuf_test_support::http::Server;

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

/// The bin file (`N.crates-bin-xx.json`, as the newest snapshot lists it) that lists
/// `target`.
fn bin_listing(repo: &Path, target: &str) -> (String, PathBuf) {
    let metadata = repo.join("metadata");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&fs::read(metadata.join(name)).unwrap()).unwrap()
    };
    let timestamp = read("timestamp.json");
    let snapshot_version = &timestamp["signed"]["meta"]["snapshot.json"]["version"];
    let snapshot = read(&format!("{snapshot_version}.snapshot.json"));
    for (file, meta) in snapshot["signed"]["meta"].as_object().unwrap() {
        let Some(role) = file.strip_suffix(".json") else {
            continue;
        };
        if !role.starts_with("crates-bin-") {
            continue;
        }
        let name = format!("{}.{file}", meta["version"]);
        if read(&name)["signed"]["targets"].get(target).is_some() {
            return (role.to_owned(), metadata.join(name));
        }
    }
    panic!("no bin lists {target}");
}

#[test]
fn python_tuf_ngclient_reads_what_tuf_publishes_and_refuses_tampering() {
    let started = Instant::now();
    let python = interop_python();
    let venv_ready = started.elapsed();

    // A repository made by the `tuf` binary as key holders and an operator would:
    // encrypted root keys (2 of 2), a targets key, an online key; 256 succinct bins.
    let env = Env::new();
    env.key("alice");
    env.key("bob");
    env.plain_key("tgt");
    env.plain_key("online");
    env.init("repo", &["alice", "bob"])
        .args(["--root-threshold", "2", "--bit-length", "8"])
        .assert()
        .success();
    env.sign("root", "alice");
    env.sign("root", "bob");
    env.root_commit().assert().success();
    env.sign("targets", "tgt");
    let synth_config = SynthConfig::new(300, 1);
    synth::write_tree(&synth_config, &env.path("index")).unwrap();
    env.publish("online.pem").assert().success();
    env.trust_root_v1();
    let server = Server::serve_dir(&env.path("repo"));
    let ngclient = Ngclient {
        python: &python,
        server: &server,
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
    let (bin_role, bin_file) = bin_listing(&env.path("repo"), victim);
    let evil = b"{\"name\":\"evil\",\"vers\":\"6.6.6\"}\n";
    let evil_sha256 = sha256(evil);
    let mut bin: serde_json::Value = serde_json::from_slice(&fs::read(&bin_file).unwrap()).unwrap();
    bin["signed"]["targets"][victim] = serde_json::json!({
        "length": evil.len(),
        "hashes": { "sha256": hex::encode(evil_sha256) },
    });
    fs::write(&bin_file, serde_json::to_vec(&bin).unwrap()).unwrap();
    let evil_copy = env.path("repo/targets").join(target_copy_name(
        &TargetPath::parse(victim).unwrap(),
        &evil_sha256,
    ));
    fs::write(&evil_copy, evil).unwrap();
    ngclient.refuses(
        "client-bin",
        "downloads-bin",
        &[victim],
        &format!("UnsignedMetadataError: {bin_role} was signed by 0/1 keys"),
    );
    assert!(
        !env.path(&format!("client-bin/{bin_role}.json")).exists(),
        "ngclient stored the tampered bin"
    );

    eprintln!(
        "python interop: python ready in {:.1} s, whole test {:.1} s",
        venv_ready.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
