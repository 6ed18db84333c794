//! Test support: a repository generator signing with tuf-core, and the workspace's
//! HTTP test server on 127.0.0.1 (from `tuf-test-support`).
#![allow(
    dead_code,
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use tuf_client::store::encode_component;
use tuf_client::{ClientError, HttpFetcher, MetadataStore, Updater, UpdaterConfig};
use tuf_core::crypto::{Ed25519Signer, Signer};
use tuf_core::metadata::versioned_file_name;
use tuf_core::metadata::{
    sign_role, DelegatedRole, Delegations, Expires, HexDigest, Length, MetaFile, PathPattern,
    RoleKeys, RoleName, Root, Snapshot, SuccinctRoles, TargetFile, TargetPath, Targets, Threshold,
    Timestamp, Version,
};
use tuf_core::Limits;
pub use tuf_test_support::http::{Reply, Server};

/// A client over a temporary metadata store and target directory: the trusted root
/// stored, the updater pointed at a test server.
pub struct Client {
    _dir: tempfile::TempDir,
    pub md: PathBuf,
    pub td: PathBuf,
}

impl Client {
    /// A client whose trusted root is `root`.
    pub fn new(root: &[u8]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("metadata");
        let td = dir.path().join("targets");
        std::fs::create_dir_all(&td).unwrap();
        MetadataStore::open(&md)
            .unwrap()
            .store("root", root)
            .unwrap();
        Self { _dir: dir, md, td }
    }

    /// An updater of `server`'s repository with `limits`.
    pub fn updater_with(&self, server: &Server, limits: Limits) -> Updater<HttpFetcher> {
        let mut config = UpdaterConfig::new(&server.metadata_url(), &self.md);
        config.targets_base_url = Some(server.targets_url());
        config.target_dir = Some(self.td.clone());
        config.limits = limits;
        Updater::new(config, HttpFetcher::new().unwrap()).unwrap()
    }

    /// An updater of `server`'s repository with the default limits.
    pub fn updater(&self, server: &Server) -> Updater<HttpFetcher> {
        self.updater_with(server, Limits::default())
    }

    pub fn refresh(&self, server: &Server) -> Result<(), ClientError> {
        self.updater(server).refresh(now())
    }

    pub fn stored(&self, role: &str) -> Vec<u8> {
        std::fs::read(MetadataStore::open(&self.md).unwrap().path_of(role)).unwrap()
    }

    pub fn files(&self) -> Vec<String> {
        files_in(&self.md)
    }
}

/// The code of the error `result` must be.
pub fn code(result: Result<impl std::fmt::Debug, ClientError>) -> &'static str {
    result.unwrap_err().code()
}

/// The fixed "now" of the scenario tests.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

pub fn days(n: i64) -> Expires {
    Expires::from_time(now() + chrono::Duration::days(n))
}

pub fn key(seed: u8) -> Ed25519Signer {
    Ed25519Signer::from_seed(&[seed; 32]).unwrap()
}

fn v(n: u64) -> Version {
    Version::new(n).unwrap()
}

/// A delegated targets role of the generated repository.
pub struct Delegated {
    pub targets: Targets,
    pub signer: Ed25519Signer,
}

/// A repository generated in the test, published to a [`Server`] with consistent
/// snapshots: `N.root.json`, `timestamp.json`, `V.snapshot.json`, `V.ROLE.json`,
/// `targets/dir/HASH.name`.
pub struct Repo {
    pub root_keys: Vec<Ed25519Signer>,
    pub timestamp_key: Ed25519Signer,
    pub snapshot_key: Ed25519Signer,
    pub targets_key: Ed25519Signer,
    /// Signed roots, version 1 first.
    pub roots: Vec<Vec<u8>>,
    pub root_expires: Expires,
    pub timestamp: Timestamp,
    pub snapshot: Snapshot,
    pub targets: Targets,
    pub delegated: BTreeMap<String, Delegated>,
    /// Target contents by path.
    pub target_files: BTreeMap<String, Vec<u8>>,
    /// Whether the timestamp lists the snapshot's length and hashes.
    pub timestamp_lists_hashes: bool,
    /// Consistent snapshots (versioned metadata names, hash-prefixed target names).
    pub consistent: bool,
}

impl Repo {
    /// Root v1, timestamp/snapshot/targets v1, no targets.
    pub fn new() -> Self {
        let mut repo = Self {
            root_keys: vec![key(1)],
            timestamp_key: key(2),
            snapshot_key: key(3),
            targets_key: key(4),
            roots: Vec::new(),
            root_expires: days(365),
            timestamp: Timestamp::new(v(1), days(1), MetaFile::new(v(1))),
            snapshot: Snapshot::new(v(1), days(7), BTreeMap::new()),
            targets: Targets::new(v(1), days(30)),
            delegated: BTreeMap::new(),
            target_files: BTreeMap::new(),
            timestamp_lists_hashes: false,
            consistent: true,
        };
        let root = repo.root_typed(1);
        repo.roots.push(repo.sign_root(&root, &[]));
        repo
    }

    pub fn root_typed(&self, version: u64) -> Root {
        let mut keys = BTreeMap::new();
        let mut role = |signers: &[&Ed25519Signer]| {
            for s in signers {
                keys.insert(s.key_id().clone(), s.public_key().clone());
            }
            RoleKeys::new(
                signers.iter().map(|s| s.key_id().clone()).collect(),
                Threshold::new(1).unwrap(),
            )
        };
        let root_signers: Vec<&Ed25519Signer> = self.root_keys.iter().collect();
        let roles = BTreeMap::from([
            ("root".to_owned(), role(&root_signers)),
            ("timestamp".to_owned(), role(&[&self.timestamp_key])),
            ("snapshot".to_owned(), role(&[&self.snapshot_key])),
            ("targets".to_owned(), role(&[&self.targets_key])),
        ]);
        Root::new(
            v(version),
            self.root_expires.clone(),
            keys,
            roles,
            self.consistent,
        )
    }

    /// `root` signed by the current root keys and `extra`.
    pub fn sign_root(&self, root: &Root, extra: &[&Ed25519Signer]) -> Vec<u8> {
        let mut signers: Vec<&dyn Signer> =
            self.root_keys.iter().map(|k| k as &dyn Signer).collect();
        signers.extend(extra.iter().map(|k| *k as &dyn Signer));
        sign_role(root, &signers).unwrap()
    }

    /// The next root from the current fields, signed by the previous root keys
    /// (`old`) and the current ones.
    pub fn push_root(&mut self, old: &[&Ed25519Signer]) -> Vec<u8> {
        let version = self.roots.len() as u64 + 1;
        let root = self.root_typed(version);
        let bytes = self.sign_root(&root, old);
        self.roots.push(bytes.clone());
        bytes
    }

    pub fn trusted_root(&self) -> Vec<u8> {
        self.roots[0].clone()
    }

    pub fn add_target(&mut self, role: &str, path: &str, content: &[u8]) {
        let file = TargetFile::from_bytes(content);
        let path_key = TargetPath::parse(path).unwrap();
        if role == "targets" {
            self.targets.targets.insert(path_key, file);
        } else {
            self.delegated
                .get_mut(role)
                .unwrap()
                .targets
                .targets
                .insert(path_key, file);
        }
        self.target_files.insert(path.to_owned(), content.to_vec());
    }

    /// Delegate from `delegator` to a new role `name` for `patterns`, signed by `signer`.
    pub fn delegate(
        &mut self,
        delegator: &str,
        name: &str,
        patterns: &[&str],
        terminating: bool,
        signer: Ed25519Signer,
    ) {
        let role = DelegatedRole {
            name: RoleName::parse(name).unwrap(),
            keyids: vec![signer.key_id().clone()],
            threshold: Threshold::new(1).unwrap(),
            terminating,
            paths: Some(patterns.iter().map(|p| PathPattern::new(p)).collect()),
            path_hash_prefixes: None,
            extra: BTreeMap::new(),
        };
        let key = (signer.key_id().clone(), signer.public_key().clone());
        let parent = self.targets_mut(delegator);
        let delegations = parent.delegations.get_or_insert_with(|| Delegations {
            keys: BTreeMap::new(),
            roles: Some(Vec::new()),
            succinct_roles: None,
            extra: BTreeMap::new(),
        });
        delegations.keys.insert(key.0, key.1);
        delegations.roles.get_or_insert_with(Vec::new).push(role);
        self.delegated.entry(name.to_owned()).or_insert(Delegated {
            targets: Targets::new(v(1), days(30)),
            signer,
        });
    }

    /// Delegate from top-level targets to `2^bit_length` succinct bins signed by `signer`.
    pub fn delegate_bins(
        &mut self,
        bit_length: u8,
        prefix: &str,
        signer: &Ed25519Signer,
    ) -> SuccinctRoles {
        let bins = SuccinctRoles::new(
            vec![signer.key_id().clone()],
            Threshold::new(1).unwrap(),
            bit_length,
            prefix,
        );
        self.targets.delegations = Some(Delegations {
            keys: BTreeMap::from([(signer.key_id().clone(), signer.public_key().clone())]),
            roles: None,
            succinct_roles: Some(bins.clone()),
            extra: BTreeMap::new(),
        });
        for name in bins.bin_names() {
            self.delegated.insert(
                name,
                Delegated {
                    targets: Targets::new(v(1), days(30)),
                    signer: Ed25519Signer::from_pkcs8_der(&signer.to_pkcs8_der().unwrap()).unwrap(),
                },
            );
        }
        bins
    }

    pub fn targets_mut(&mut self, role: &str) -> &mut Targets {
        if role == "targets" {
            &mut self.targets
        } else {
            &mut self.delegated.get_mut(role).unwrap().targets
        }
    }

    pub fn sign_targets(&self, role: &str) -> Vec<u8> {
        if role == "targets" {
            sign_role(&self.targets, &[&self.targets_key]).unwrap()
        } else {
            let d = &self.delegated[role];
            sign_role(&d.targets, &[&d.signer]).unwrap()
        }
    }

    /// Write every file to the server: all roots, every targets role, snapshot (listing
    /// them at their versions), timestamp, and the target files under their hash names.
    pub fn publish(&mut self, server: &Server) {
        for (i, root) in self.roots.iter().enumerate() {
            server.put_metadata(&versioned_file_name(i as u64 + 1, "root"), root);
        }
        let mut meta = BTreeMap::new();
        for (name, d) in &self.delegated {
            let bytes = self.sign_targets(name);
            let file = self.versioned(d.targets.version, &encode_component(name));
            server.put_metadata(&file, &bytes);
            meta.insert(format!("{name}.json"), MetaFile::new(d.targets.version));
        }
        let targets = self.sign_targets("targets");
        server.put_metadata(&self.versioned(self.targets.version, "targets"), &targets);
        meta.insert(
            "targets.json".to_owned(),
            MetaFile::new(self.targets.version),
        );
        self.snapshot.meta = meta;
        let snapshot = sign_role(&self.snapshot, &[&self.snapshot_key]).unwrap();
        server.put_metadata(
            &self.versioned(self.snapshot.version, "snapshot"),
            &snapshot,
        );
        let mut snapshot_meta = MetaFile::new(self.snapshot.version);
        if self.timestamp_lists_hashes {
            snapshot_meta.length = Some(Length::new(snapshot.len() as u64));
            snapshot_meta.hashes = Some(BTreeMap::from([(
                "sha256".to_owned(),
                HexDigest::new(tuf_core::hash::sha256(&snapshot).to_vec()),
            )]));
        }
        self.timestamp.meta = BTreeMap::from([("snapshot.json".to_owned(), snapshot_meta)]);
        let timestamp = sign_role(&self.timestamp, &[&self.timestamp_key]).unwrap();
        server.put_metadata("timestamp.json", &timestamp);
        for (path, content) in &self.target_files {
            let sha = hex::encode(tuf_core::hash::sha256(content));
            let (dir, name) = match path.rsplit_once('/') {
                Some((dir, name)) => (format!("{dir}/"), name),
                None => (String::new(), path.as_str()),
            };
            let served = if self.consistent {
                format!("/targets/{dir}{sha}.{name}")
            } else {
                format!("/targets/{path}")
            };
            server.put(&served, Reply::Body(content.clone()));
        }
    }

    fn versioned(&self, version: Version, role: &str) -> String {
        if self.consistent {
            versioned_file_name(version.get(), role)
        } else {
            format!("{role}.json")
        }
    }

    /// Bump snapshot and timestamp versions (a new publish of the online roles).
    pub fn bump_online(&mut self) {
        self.snapshot.version = self.snapshot.version.next().unwrap();
        self.timestamp.version = self.timestamp.version.next().unwrap();
    }
}

/// The names of the files in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
