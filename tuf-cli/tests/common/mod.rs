//! A tiny crates.io-shaped index and a repository over it, for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use tuf_core::crypto::Signer;
use tuf_core::index::CrateName;
use tuf_core::repo::{offline::RepoKeys, BinStyle, Policy};
use tuf_repo::publish::{self, Changes, OnlineKeys, PublishOptions, PublishReport, Repository};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
    pub keys: Keys,
    pub online: OnlineKeys,
}

/// A single operator's keys, made for one test: root, targets, and the online key (bins,
/// snapshot, timestamp), which is also written as `online.pem` for a `tuf publish`.
pub struct Keys {
    pub root: Arc<dyn Signer>,
    pub targets: Arc<dyn Signer>,
    pub online: Arc<dyn Signer>,
}

impl Keys {
    /// Three new ed25519 keys; the online one also as an unencrypted PKCS#8 PEM file
    /// (mode 0600) at `online_pem`, the format of `tuf key generate --unencrypted`.
    pub fn generate(online_pem: &Path) -> Self {
        let new = || -> Arc<dyn Signer> {
            Arc::from(
                tuf_cli::keys::generate(tuf_cli::keys::KeyType::Ed25519)
                    .unwrap()
                    .0,
            )
        };
        let (online, der) = tuf_cli::keys::generate(tuf_cli::keys::KeyType::Ed25519).unwrap();
        let pem = tuf_cli::keys::private_pem(&der, None).unwrap();
        tuf_cli::files::write_atomic(
            online_pem,
            pem.as_bytes(),
            tuf_cli::files::Access::OwnerOnly,
            tuf_cli::files::Existing::Refuse,
        )
        .unwrap();
        Self {
            root: new(),
            targets: new(),
            online: Arc::from(online),
        }
    }
}

pub fn crate_name(i: usize) -> String {
    format!("crate{i:04}x")
}

pub fn sparse_path(name: &str) -> String {
    CrateName::parse(name).unwrap().sparse_path()
}

pub fn line(name: &str, vers: &str, yanked: bool) -> String {
    let cksum = hex::encode(tuf_core::hash::sha256(format!("{name}-{vers}").as_bytes()));
    format!(
        r#"{{"name":"{name}","vers":"{vers}","deps":[],"cksum":"{cksum}","features":{{}},"yanked":{yanked}}}"#
    )
}

/// Write the index file of `name` with `versions` (each `(vers, yanked)`).
pub fn write_crate(index: &Path, name: &str, versions: &[(String, bool)]) {
    let path = index.join(sparse_path(name));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = String::new();
    for (vers, yanked) in versions {
        text.push_str(&line(name, vers, *yanked));
        text.push('\n');
    }
    fs::write(path, text).unwrap();
}

pub fn versions(n: usize) -> Vec<(String, bool)> {
    (0..n).map(|v| (format!("0.{v}.0"), false)).collect()
}

impl Fixture {
    /// An index of `crates` crates (1–3 versions each) and a repository with
    /// `2^bit_length` bins, initialised but not published.
    pub fn new(crates: usize, bit_length: u8) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index");
        fs::create_dir_all(&index).unwrap();
        fs::write(
            index.join("config.json"),
            r#"{"dl":"https://example.invalid/dl"}"#,
        )
        .unwrap();
        for i in 0..crates {
            write_crate(&index, &crate_name(i), &versions(1 + i % 3));
        }
        Self::over_index(dir, bit_length)
    }

    /// A repository with `2^bit_length` bins over the index already in `dir/index`,
    /// initialised but not published.
    pub fn over_index(dir: tempfile::TempDir, bit_length: u8) -> Self {
        Self::over_index_styled(dir, bit_length, BinStyle::Succinct)
    }

    /// As [`Self::over_index`], with targets delegating to the bins in `style`.
    pub fn over_index_styled(dir: tempfile::TempDir, bit_length: u8, style: BinStyle) -> Self {
        let index = dir.path().join("index");
        let repo = Repository::new(index, dir.path().join("repo"));
        let keys = Keys::generate(&dir.path().join("online.pem"));
        let root: [&dyn Signer; 1] = [keys.root.as_ref()];
        let targets: [&dyn Signer; 1] = [keys.targets.as_ref()];
        let online: [&dyn Signer; 1] = [keys.online.as_ref()];
        let policy = Policy {
            bit_length,
            bin_style: style,
            ..Policy::default()
        };
        repo.init(
            &policy,
            &RepoKeys {
                root: &root,
                targets: &targets,
                snapshot: &online,
                timestamp: &online,
                bins: &online,
            },
            Utc::now(),
        )
        .unwrap();
        let online = OnlineKeys::single(Arc::clone(&keys.online));
        Self {
            dir,
            repo,
            keys,
            online,
        }
    }

    pub fn index(&self) -> &Path {
        self.repo.index_dir()
    }

    /// The online key as a file, for `tuf publish --online-key`.
    pub fn online_key_file(&self) -> PathBuf {
        self.dir.path().join("online.pem")
    }

    pub fn repo_dir(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn trusted_root(&self) -> Vec<u8> {
        fs::read(self.repo.metadata_dir().join("1.root.json")).unwrap()
    }

    pub fn options(&self) -> PublishOptions {
        PublishOptions::new(Utc::now())
    }

    pub fn publish(&self, changes: &Changes) -> PublishReport {
        publish::publish(&self.repo, &self.online, changes, &self.options()).unwrap()
    }

    pub fn publish_paths(&self, paths: &[&str]) -> PublishReport {
        self.publish(&Changes::Paths(
            paths.iter().map(|p| (*p).to_owned()).collect(),
        ))
    }

    /// Set every index file's mtime an hour back, so the manifest can trust it.
    pub fn age_index(&self) {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        age_tree(self.index(), past);
    }

    pub fn verify(&self, check: tuf_repo::verify::TargetCheck) -> tuf_repo::verify::VerifyReport {
        tuf_repo::verify::verify_repository(
            &self.repo,
            &self.trusted_root(),
            Utc::now(),
            check,
            &tuf_core::Limits::default(),
        )
        .unwrap()
    }

    /// How many bins a publish changing the index files at `paths` re-signs, with the
    /// release feeds on as `tuf init` leaves them (docs/feeds.md): each file's bin, its
    /// crate feed's and the updates feed's, each bin once. Fixed by the paths' hashes.
    pub fn bins_of_change(&self, paths: &[&str]) -> usize {
        let view = self.view();
        let bins = view.bins();
        let mut changed: std::collections::BTreeSet<u32> = paths
            .iter()
            .flat_map(|path| {
                let name = CrateName::from_sparse_path(path).unwrap();
                [
                    bins.bin_of(path),
                    bins.bin_of(&tuf_core::feed::crate_feed_path(&name)),
                ]
            })
            .collect();
        changed.insert(bins.bin_of(tuf_core::feed::UPDATES_PATH));
        changed.len()
    }

    pub fn view(&self) -> tuf_repo::verify::RepoView {
        tuf_repo::verify::RepoView::load(
            &self.repo,
            &self.trusted_root(),
            Utc::now(),
            &tuf_core::Limits::default(),
        )
        .unwrap()
    }
}

fn age_tree(dir: &Path, when: std::time::SystemTime) {
    for item in fs::read_dir(dir).unwrap() {
        let item = item.unwrap();
        if item.file_type().unwrap().is_dir() {
            age_tree(&item.path(), when);
        } else {
            fs::File::options()
                .write(true)
                .open(item.path())
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
    }
}

pub fn later(hours: i64) -> chrono::DateTime<Utc> {
    Utc::now() + TimeDelta::hours(hours)
}
