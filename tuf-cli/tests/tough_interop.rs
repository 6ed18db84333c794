//! A repository published by this project verifies with an independent TUF client,
//! awslabs' tough 0.18 (the last release on `ring`), and with this project's client
//! (`tuf_client::Updater`), both reading index files through their hashed bins.
//!
//! What tough can and cannot read of ours, found in its source (tough-0.18.0/src):
//!
//! * No TAP 15: `schema::Delegations` has only `keys` and `roles`, so a `succinct_roles`
//!   delegation is an unknown field and no bin is ever loaded. The repositories here use
//!   bin style `hash-prefixes` (`tuf init --bin-style hash-prefixes`): the same bins as
//!   classic TUF §4.5 roles with `path_hash_prefixes`, which tough follows
//!   (`PathHashPrefix::matches_target_name`).
//! * tough loads *every* delegated role when it loads the repository (`load_delegations`
//!   in lib.rs), not only the bin of the path asked for: 2^bit_length bin files per load.
//! * Consistent-snapshot target names differ. tough fetches `HASH.<whole path>`
//!   (`cache.rs`, `target_digest_and_filename`: `format!("{}.{}", hex(sha256),
//!   name.resolved())`, so `HASH.se/rd/serde`); python-tuf's ngclient and we use
//!   `dir/HASH.basename` (`se/rd/HASH.serde`). Both agree for a path without a `/`
//!   (`HASH.config.json`). We keep python-tuf's names, and serve tough through a rewrite
//!   of its names to ours, as a web server in front of the targets directory would do
//!   (nginx: `rewrite "^/targets/([0-9a-f]{64})\.(.+/)([^/]+)$" /targets/$2$1.$3 last;`).
//!   The rewrite only changes which URL is read: tough still checks the length and
//!   SHA-256 of what it gets against the bin that lists the target.
//!   `tough_without_the_rewrite_asks_for_names_we_do_not_write` pins the difference.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use std::pin::Pin;

use tough::{
    Bytes, FilesystemTransport, IntoVec, RepositoryLoader, TargetName, Transport, TransportError,
};
use tuf_client::{FileFetcher, Updater, UpdaterConfig};
use tuf_core::metadata::TargetPath;
use tuf_core::repo::{target_copy_name, BinStyle};
use tuf_examples::synth::{self, SynthConfig};
use tuf_repo::publish::{Changes, PublishKind};
use tuf_repo::verify::TargetCheck;
use url::Url;

/// tough's consistent-snapshot target names (`HASH.se/rd/serde`) mapped to the
/// python-tuf names we write (`se/rd/HASH.serde`), then read from disk by tough's own
/// `FilesystemTransport`. Every other URL is read as it is.
#[derive(Debug, Clone)]
struct PythonTufTargetNames {
    targets_base: String,
}

impl PythonTufTargetNames {
    fn rewrite(&self, url: Url) -> Url {
        let Some(name) = url.as_str().strip_prefix(&self.targets_base) else {
            return url;
        };
        let Some((digest, path)) = name.split_once('.') else {
            return url;
        };
        let sha256: Option<[u8; 32]> = hex::decode(digest)
            .ok()
            .and_then(|d| <[u8; 32]>::try_from(d).ok());
        match (sha256, TargetPath::parse(path)) {
            (Some(sha256), Ok(path)) => Url::parse(&format!(
                "{}{}",
                self.targets_base,
                target_copy_name(&path, &sha256)
            ))
            .unwrap(),
            _ => url,
        }
    }
}

/// `tough::transport::TransportStream`, which tough does not export.
type TransportStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<Bytes, TransportError>> + Send>>;

#[tough::async_trait]
impl Transport for PythonTufTargetNames {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        FilesystemTransport.fetch(self.rewrite(url)).await
    }
}

fn dir_url(dir: &Path) -> Url {
    Url::from_directory_path(dir).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// tough's view of the repository at `repo_dir`, trusting `root`, keeping its state in
/// `datastore` (so a second load is an update, with tough's rollback checks).
fn tough_load(
    rt: &tokio::runtime::Runtime,
    root: &[u8],
    repo_dir: &Path,
    datastore: &Path,
    rewrite: bool,
) -> Result<tough::Repository, Box<tough::error::Error>> {
    let metadata = dir_url(&repo_dir.join("metadata"));
    let targets = dir_url(&repo_dir.join("targets"));
    let loader = RepositoryLoader::new(&root, metadata, targets.clone()).datastore(datastore);
    let loader = if rewrite {
        loader.transport(PythonTufTargetNames {
            targets_base: targets.to_string(),
        })
    } else {
        loader.transport(FilesystemTransport)
    };
    rt.block_on(loader.load()).map_err(Box::new)
}

/// The bytes tough gives for `path`: `Ok(None)` when no role lists it, `Err` when the
/// download fails or does not match its signed length and hash.
fn tough_read(
    rt: &tokio::runtime::Runtime,
    repo: &tough::Repository,
    path: &str,
) -> Result<Option<Vec<u8>>, Box<tough::error::Error>> {
    rt.block_on(async {
        match repo.read_target(&TargetName::new(path)?).await? {
            Some(stream) => Ok(Some(stream.into_vec().await?)),
            None => Ok(None),
        }
    })
    .map_err(Box::new)
}

/// The one delegated role tough's targets lists `path` in, and its `path_hash_prefixes`.
fn tough_holder(repo: &tough::Repository, path: &str) -> (String, Vec<String>) {
    let name = TargetName::new(path).unwrap();
    let roles = &repo.targets().signed.delegations.as_ref().unwrap().roles;
    let holders: Vec<_> = roles
        .iter()
        .filter(|r| {
            r.targets
                .as_ref()
                .is_some_and(|t| t.signed.targets.contains_key(&name))
        })
        .collect();
    assert_eq!(holders.len(), 1, "{path} is listed by one bin");
    let tough::schema::PathSet::PathHashPrefixes(prefixes) = &holders[0].paths else {
        panic!("{} is not a path_hash_prefixes role", holders[0].name);
    };
    (
        holders[0].name.clone(),
        prefixes.iter().map(|p| p.value().to_owned()).collect(),
    )
}

/// Whether `err` or an error in its `source` chain is a tough error that `is` accepts:
/// tough reports a bad target download as a transport error whose source is the reason.
fn caused_by(err: &tough::error::Error, is: impl Fn(&tough::error::Error) -> bool) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if e.downcast_ref::<tough::error::Error>().is_some_and(&is) {
            return true;
        }
        next = e.source();
    }
    false
}

/// This project's client over the repository's files, trusting its `1.root.json`.
fn our_client(f: &Fixture, dir: &Path) -> Updater<FileFetcher> {
    let metadata = dir.join("metadata");
    fs::create_dir_all(&metadata).unwrap();
    fs::create_dir_all(dir.join("targets")).unwrap();
    fs::write(metadata.join("root.json"), f.trusted_root()).unwrap();
    let mut config = UpdaterConfig::new(dir_url(&f.repo_dir().join("metadata")).as_str(), metadata);
    config.targets_base_url = Some(dir_url(&f.repo_dir().join("targets")).to_string());
    config.target_dir = Some(dir.join("targets"));
    Updater::new(config, FileFetcher).unwrap()
}

fn synthetic(crates: usize, bit_length: u8) -> (Fixture, SynthConfig) {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig::new(crates, 7);
    synth::write_tree(&config, &dir.path().join("index")).unwrap();
    let f = Fixture::over_index_styled(dir, bit_length, BinStyle::HashPrefixes);
    (f, config)
}

fn copy_of(f: &Fixture, path: &str) -> PathBuf {
    let bytes = fs::read(f.index().join(path)).unwrap();
    let sha256 = tuf_core::hash::sha256(&bytes);
    f.repo_dir()
        .join("targets")
        .join(target_copy_name(&TargetPath::parse(path).unwrap(), &sha256))
}

#[test]
fn tough_reads_index_files_through_hash_prefix_bins_and_follows_publishes() {
    let (f, config) = synthetic(120, 4);
    let first = f.publish(&Changes::Scan);
    assert_eq!(first.kind, PublishKind::First);
    assert_eq!(first.files_seen, 121);
    // This project's verifier reads the hash-prefix layout too.
    f.verify(TargetCheck::Copies);

    let rt = runtime();
    let store = tempfile::tempdir().unwrap();
    let tough = tough_load(&rt, &f.trusted_root(), &f.repo_dir(), store.path(), true).unwrap();
    let roles = &tough.targets().signed.delegations.as_ref().unwrap().roles;
    assert_eq!(roles.len(), 16);
    let view = f.view();
    let bins = view.bins().clone();

    let names = synth::pick_crates(&config, 6);
    let mut paths: Vec<String> = names.iter().map(|n| sparse_path(n)).collect();
    paths.push("config.json".to_owned());
    for path in &paths {
        let on_disk = fs::read(f.index().join(path)).unwrap();
        let read = tough_read(&rt, &tough, path).unwrap();
        assert_eq!(read.as_deref(), Some(on_disk.as_slice()), "{path}");
        // tough found it in the bin our layout puts it in, by that bin's hash prefix.
        let (role, prefixes) = tough_holder(&tough, path);
        let bin = bins.bin_of(path);
        assert_eq!(role, bins.bin_name(bin), "{path}");
        assert_eq!(prefixes, bins.hash_prefixes(bin));
        let digest = hex::encode(tuf_core::hash::sha256(path.as_bytes()));
        assert!(digest.starts_with(&prefixes[0]));
        // And this project's client agrees.
        assert_eq!(
            view.target(path).unwrap().unwrap().sha256(),
            Some(tuf_core::hash::sha256(&on_disk))
        );
    }
    // This project's client (tuf_client::Updater) reads the same repository, reaching
    // the index file through its classic bin and downloading it by its hash name.
    let client_dir = tempfile::tempdir().unwrap();
    let mut updater = our_client(&f, client_dir.path());
    for path in &paths {
        let info = updater
            .target_info(path, chrono::Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(info.role, bins.role_for(path));
        let downloaded = fs::read(updater.download_target(&info).unwrap()).unwrap();
        assert_eq!(downloaded, fs::read(f.index().join(path)).unwrap());
    }
    // A crate that does not exist: an authenticated "no such target" from tough too.
    assert_eq!(tough_read(&rt, &tough, "no/su/nosuchcrate").unwrap(), None);

    // A yank (one changed index file), published incrementally: tough, updating from
    // its stored state, sees the new bytes; a deleted crate is gone.
    let (yanked, deleted) = (&paths[0], &paths[1]);
    let old_yanked = fs::read(f.index().join(yanked)).unwrap();
    let text = String::from_utf8(old_yanked.clone()).unwrap();
    let new_text = text.replacen("\"yanked\":false", "\"yanked\":true", 1);
    assert_ne!(new_text, text, "{yanked} has an unyanked version");
    fs::write(f.index().join(yanked), &new_text).unwrap();
    fs::remove_file(f.index().join(deleted)).unwrap();
    let next = f.publish_paths(&[yanked.as_str(), deleted.as_str()]);
    assert_eq!(next.kind, PublishKind::Incremental);
    let tough = tough_load(&rt, &f.trusted_root(), &f.repo_dir(), store.path(), true).unwrap();
    assert_eq!(
        tough.timestamp().signed.version.get(),
        next.timestamp_version
    );
    assert_eq!(
        tough_read(&rt, &tough, yanked).unwrap().as_deref(),
        Some(new_text.as_bytes())
    );
    assert_eq!(tough_read(&rt, &tough, deleted).unwrap(), None);
    for path in &paths[2..] {
        let on_disk = fs::read(f.index().join(path)).unwrap();
        assert_eq!(
            tough_read(&rt, &tough, path).unwrap().as_deref(),
            Some(on_disk.as_slice())
        );
    }

    // A tampered target copy is refused by tough: same length, one byte changed; and a
    // longer file.
    let victim = &paths[2];
    let copy = copy_of(&f, victim);
    let good = fs::read(&copy).unwrap();
    let mut bad = good.clone();
    bad[0] ^= 0x20;
    fs::write(&copy, &bad).unwrap();
    let err = tough_read(&rt, &tough, victim).unwrap_err();
    assert!(
        caused_by(&err, |e| matches!(
            e,
            tough::error::Error::HashMismatch { .. }
        )),
        "{err}"
    );
    let mut longer = good.clone();
    longer.extend_from_slice(b"{\"name\":\"evil\"}\n");
    fs::write(&copy, &longer).unwrap();
    let err = tough_read(&rt, &tough, victim).unwrap_err();
    assert!(
        caused_by(&err, |e| matches!(
            e,
            tough::error::Error::MaxSizeExceeded { .. }
        )),
        "{err}"
    );
    fs::write(&copy, &good).unwrap();
    assert_eq!(
        tough_read(&rt, &tough, victim).unwrap().as_deref(),
        Some(good.as_slice())
    );
}

/// Without the name rewrite, tough reads `config.json` (no `/`: both conventions give
/// `HASH.config.json`) but asks for `HASH.se/rd/serde`-style names for index files, which
/// a python-tuf-layout repository does not have.
#[test]
fn tough_without_the_rewrite_asks_for_names_we_do_not_write() {
    let (f, config) = synthetic(20, 1);
    f.publish(&Changes::Scan);
    let rt = runtime();
    let store = tempfile::tempdir().unwrap();
    let tough = tough_load(&rt, &f.trusted_root(), &f.repo_dir(), store.path(), false).unwrap();
    let config_json = fs::read(f.index().join("config.json")).unwrap();
    assert_eq!(
        tough_read(&rt, &tough, "config.json").unwrap().as_deref(),
        Some(config_json.as_slice())
    );
    let path = sparse_path(&synth::pick_crates(&config, 1)[0]);
    let digest = hex::encode(tuf_core::hash::sha256(
        &fs::read(f.index().join(&path)).unwrap(),
    ));
    let err = tough_read(&rt, &tough, &path).unwrap_err();
    let tough::error::Error::Transport { url, source, .. } = &*err else {
        panic!("{err:?}");
    };
    assert_eq!(source.kind(), tough::TransportErrorKind::FileNotFound);
    assert!(
        url.as_str().ends_with(&format!("/targets/{digest}.{path}")),
        "{url}"
    );
    assert!(
        copy_of(&f, &path).exists(),
        "ours is {}",
        copy_of(&f, &path).display()
    );
}

/// The default bin count, 4096 bins, made with the `tuf` command: tough loads every bin
/// and reads index files through them.
#[test]
fn tough_reads_a_4096_bin_repository_made_by_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig::new(60, 3);
    let index = dir.path().join("index");
    synth::write_tree(&config, &index).unwrap();
    let repo = dir.path().join("repo");
    // The operator's ceremony: keys, init with classic hash-prefix bins, sign, publish.
    let tuf = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("tuf")
            .unwrap()
            .current_dir(dir.path())
            .args(args)
            .assert()
            .success();
    };
    for key in ["root", "targets", "online"] {
        tuf(&["key", "generate", &format!("{key}.pem"), "--unencrypted"]);
    }
    tuf(&[
        "init",
        "repo",
        "--root-key",
        "root.pub.json",
        "--targets-key",
        "targets.pub.json",
        "--online-key",
        "online.pub.json",
        "--bit-length",
        "12",
        "--bin-style",
        "hash-prefixes",
    ]);
    for (role, key) in [("root", "root.pem"), ("targets", "targets.pem")] {
        tuf(&["sign", "--repo", "repo", "--role", role, "--key", key]);
    }
    tuf(&[
        "publish",
        "repo",
        "--index",
        index.to_str().unwrap(),
        "--online-key",
        "online.pem",
    ]);
    let targets_json = fs::read(repo.join("metadata/1.targets.json")).unwrap();
    eprintln!(
        "1.targets.json at bit_length 12, hash-prefixes: {} bytes",
        targets_json.len()
    );

    let rt = runtime();
    let store = tempfile::tempdir().unwrap();
    let root = fs::read(repo.join("metadata/1.root.json")).unwrap();
    let tough = tough_load(&rt, &root, &repo, store.path(), true).unwrap();
    assert_eq!(
        tough
            .targets()
            .signed
            .delegations
            .as_ref()
            .unwrap()
            .roles
            .len(),
        4096
    );
    for name in synth::pick_crates(&config, 3) {
        let path = sparse_path(&name);
        let on_disk = fs::read(index.join(&path)).unwrap();
        assert_eq!(
            tough_read(&rt, &tough, &path).unwrap().as_deref(),
            Some(on_disk.as_slice()),
            "{path}"
        );
        let (role, prefixes) = tough_holder(&tough, &path);
        let digest = hex::encode(tuf_core::hash::sha256(path.as_bytes()));
        assert_eq!(role, format!("crates-bin-{}", &digest[..3]));
        assert_eq!(prefixes, [&digest[..3]]);
    }
}
