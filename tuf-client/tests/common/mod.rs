//! Test support: a real HTTP server on 127.0.0.1 (ephemeral port, std only) and a
//! repository generator signing with tuf-core.
#![allow(
    dead_code,
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tuf_client::store::encode_component;
use tuf_core::crypto::{Ed25519Signer, Signer};
use tuf_core::metadata::{
    sign_role, DelegatedRole, Delegations, Expires, HexDigest, Length, MetaFile, PathPattern,
    RoleKeys, RoleName, Root, Snapshot, SuccinctRoles, TargetFile, TargetPath, Targets, Threshold,
    Timestamp, Version,
};

/// What the server answers for a path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with these bytes.
    Body(Vec<u8>),
    /// 200 without a length, sending bytes until the client stops reading (at most
    /// 64 MiB, so the test always ends).
    Endless,
}

#[derive(Debug, Default)]
struct Shared {
    files: BTreeMap<String, Reply>,
    requests: Vec<String>,
}

/// A file server on 127.0.0.1; stops when dropped.
pub struct Server {
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl Server {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let shared = Arc::clone(&shared);
                        std::thread::spawn(move || handle(stream, &shared));
                    }
                }
            })
        };
        Self {
            base: format!("http://127.0.0.1:{port}"),
            shared,
            stop,
            thread: Some(thread),
            port,
        }
    }

    pub fn metadata_url(&self) -> String {
        format!("{}/metadata/", self.base)
    }

    pub fn targets_url(&self) -> String {
        format!("{}/targets/", self.base)
    }

    /// Serve `bytes` at `/metadata/{name}`.
    pub fn put_metadata(&self, name: &str, bytes: &[u8]) {
        self.put(&format!("/metadata/{name}"), Reply::Body(bytes.to_vec()));
    }

    pub fn metadata(&self, name: &str) -> Vec<u8> {
        match self
            .shared
            .lock()
            .unwrap()
            .files
            .get(&format!("/metadata/{name}"))
        {
            Some(Reply::Body(b)) => b.clone(),
            other => panic!("no metadata {name}: {other:?}"),
        }
    }

    pub fn put(&self, path: &str, reply: Reply) {
        self.shared
            .lock()
            .unwrap()
            .files
            .insert(path.to_owned(), reply);
    }

    pub fn remove(&self, path: &str) {
        self.shared.lock().unwrap().files.remove(path);
    }

    /// The request paths since the last call, with the `/metadata/` or `/targets/` prefix.
    pub fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut self.shared.lock().unwrap().requests)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn handle(stream: TcpStream, shared: &Mutex<Shared>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Skip headers (bounded).
    for _ in 0..100 {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut stream = reader.into_inner();
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let reply = {
        let mut shared = shared.lock().unwrap();
        shared.requests.push(path.clone());
        shared.files.get(&path).cloned()
    };
    match reply {
        None => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        Some(Reply::Body(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body));
        }
        Some(Reply::Endless) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..1024 {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
    }
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
            server.put_metadata(&format!("{}.root.json", i + 1), root);
        }
        let mut meta = BTreeMap::new();
        for (name, d) in &self.delegated {
            let bytes = self.sign_targets(name);
            let file = format!("{}.json", encode_component(name));
            server.put_metadata(&self.versioned(d.targets.version, &file), &bytes);
            meta.insert(format!("{name}.json"), MetaFile::new(d.targets.version));
        }
        let targets = self.sign_targets("targets");
        server.put_metadata(
            &self.versioned(self.targets.version, "targets.json"),
            &targets,
        );
        meta.insert(
            "targets.json".to_owned(),
            MetaFile::new(self.targets.version),
        );
        self.snapshot.meta = meta;
        let snapshot = sign_role(&self.snapshot, &[&self.snapshot_key]).unwrap();
        server.put_metadata(
            &self.versioned(self.snapshot.version, "snapshot.json"),
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

    fn versioned(&self, version: Version, file: &str) -> String {
        if self.consistent {
            format!("{version}.{file}")
        } else {
            file.to_owned()
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
