//! A repository published by `tuf_repo::publish` verifies with this project's client
//! (`tuf_client::Updater`) over HTTP, reaching index files through their bins: a first
//! publish of a synthetic crates.io-shaped index, then a yank and a deletion published
//! incrementally, each seen by the client after a refresh.
//!
//! The server is the workspace's std-only test server on 127.0.0.1 (`tuf-test-support`,
//! as in `tuf-client/tests/`), serving the repository directory from disk, so the client
//! reads exactly the files the publisher wrote.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;

use chrono::Utc;
use common::*;
use tuf_client::{HttpFetcher, TargetInfo, Updater, UpdaterConfig};
use tuf_examples::synth::{self, SynthConfig};
use tuf_repo::publish::{Changes, PublishKind};
use tuf_test_support::http::Server;

/// A client trusting the repository's `1.root.json`, fetching from `server`.
fn client(f: &Fixture, server: &Server, dir: &Path) -> Updater<HttpFetcher> {
    let metadata = dir.join("metadata");
    fs::create_dir_all(&metadata).unwrap();
    fs::write(metadata.join("root.json"), f.trusted_root()).unwrap();
    let mut config = UpdaterConfig::new(&format!("{}/metadata/", server.base), metadata);
    config.targets_base_url = Some(format!("{}/targets/", server.base));
    // The updater writes into the target directory but does not create it.
    fs::create_dir_all(dir.join("targets")).unwrap();
    config.target_dir = Some(dir.join("targets"));
    Updater::new(config, HttpFetcher::new().unwrap()).unwrap()
}

fn lookup(updater: &mut Updater<HttpFetcher>, path: &str) -> Option<TargetInfo> {
    updater.target_info(path, Utc::now()).unwrap()
}

#[test]
fn published_synthetic_index_verifies_with_tuf_client_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let synth_config = SynthConfig::new(300, 11);
    let stats = synth::write_tree(&synth_config, &dir.path().join("index")).unwrap();
    assert_eq!(stats.crates, 300);
    // 256 bins: the default 4096 work the same way but cost ~10 s in a debug build.
    let f = Fixture::over_index(dir, 8);
    let first = f.publish(&Changes::Scan);
    assert_eq!(first.kind, PublishKind::First);
    assert_eq!(first.files_seen, 301);

    let server = Server::serve_dir(&f.repo_dir());
    let client_dir = tempfile::tempdir().unwrap();
    let mut updater = client(&f, &server, client_dir.path());
    updater.refresh(Utc::now()).unwrap();
    let requests = server.take_requests();
    assert!(requests.contains(&"/metadata/timestamp.json".to_owned()));
    assert!(requests.iter().any(|r| r.ends_with(".snapshot.json")));
    assert!(!requests.iter().any(|r| r.contains("crates-bin")));

    // An index file, reached through its bin (and only that bin), downloaded by its
    // consistent-snapshot name, byte for byte the file in the index.
    let names = synth::pick_crates(&synth_config, 2);
    let (name, gone) = (&names[0], &names[1]);
    let path = sparse_path(name);
    let info = lookup(&mut updater, &path).expect("the crate is listed");
    assert!(info.role.starts_with("crates-bin-"), "{}", info.role);
    let on_disk = fs::read(f.index().join(&path)).unwrap();
    let downloaded = fs::read(updater.download_target(&info).unwrap()).unwrap();
    assert_eq!(downloaded, on_disk);
    let requests = server.take_requests();
    let bins: Vec<_> = requests
        .iter()
        .filter(|r| r.contains("crates-bin"))
        .collect();
    assert_eq!(bins.len(), 1, "{requests:?}");
    assert!(bins[0].ends_with(&format!(".{}.json", info.role)));
    assert!(
        requests.iter().any(|r| r.starts_with("/targets/")
            && r.ends_with(&format!(".{}", name))
            && r.contains(&hex::encode(info.file.sha256().unwrap()))),
        "{requests:?}"
    );
    // config.json is a target too.
    let config = lookup(&mut updater, "config.json").expect("config.json is listed");
    assert_eq!(
        fs::read(updater.download_target(&config).unwrap()).unwrap(),
        fs::read(f.index().join("config.json")).unwrap()
    );

    // A yank, published incrementally: after a refresh the client sees the new bytes.
    let vers = synth::crate_versions(f.index(), name).unwrap();
    let yanked = vers
        .iter()
        .find(|v| synth::yank(f.index(), name, v).unwrap())
        .expect("a version not yet yanked");
    let report = f.publish_paths(&[&path]);
    assert_eq!(report.kind, PublishKind::Incremental);
    // The index file's bin, and (release feeds are on, docs/feeds.md) the bins of the
    // crate's feed and the updates feed: the two feeds changed with it.
    assert_eq!(report.feeds_written, 2);
    assert_eq!(report.bins_signed, f.bins_of_change(&[&path]));
    updater.refresh(Utc::now()).unwrap();
    let after = lookup(&mut updater, &path).expect("still listed");
    assert_ne!(after.file.hashes, info.file.hashes);
    let new_bytes = fs::read(f.index().join(&path)).unwrap();
    assert_ne!(new_bytes, on_disk);
    let downloaded = fs::read(updater.download_target(&after).unwrap()).unwrap();
    assert_eq!(downloaded, new_bytes);
    let text = String::from_utf8(downloaded).unwrap();
    assert!(text
        .lines()
        .any(|l| l.contains(&format!(r#""vers":"{yanked}""#)) && l.contains(r#""yanked":true"#)));

    // A deleted crate: listed before, then an authenticated "no such crate" (its bin,
    // verified, does not list it) — not a transport or verification error.
    let gone_path = sparse_path(gone);
    assert!(lookup(&mut updater, &gone_path).is_some());
    synth::delete_crate(f.index(), gone).unwrap();
    let report = f.publish_paths(&[&gone_path]);
    // Its bin, and its feed's and the updates feed's (the deletion items).
    assert_eq!(report.feeds_written, 2);
    assert_eq!(report.bins_signed, f.bins_of_change(&[&gone_path]));
    updater.refresh(Utc::now()).unwrap();
    server.take_requests();
    assert_eq!(lookup(&mut updater, &gone_path), None);
    let requests = server.take_requests();
    assert_eq!(
        requests.iter().filter(|r| r.contains("crates-bin")).count(),
        1,
        "the lookup reads the crate's bin: {requests:?}"
    );
    // A name that never existed, likewise.
    assert_eq!(lookup(&mut updater, &sparse_path("nosuchcrate")), None);
    // The yanked crate is still there, with the bytes last published.
    assert_eq!(lookup(&mut updater, &path), Some(after));
}
