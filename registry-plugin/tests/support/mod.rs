//! Test support: tiny crates packaged with the real `cargo`, a sparse registry laid out
//! from them and served by the workspace's test server (`tuf-test-support`, which counts
//! requests), and a minimal test-only signer.
//!
//! The signer is deliberately small and test-only: it writes exactly the layout the
//! registry signing engine (`tuf-core::repo`, `tuf publish`) will write — consistent
//! snapshots, top-level `targets` delegating through TAP 15 `succinct_roles` to bins, one
//! target per index file plus `config.json` — and is to be replaced by that engine.
// Test scaffolding: a failure here is a broken test setup and should stop the test loudly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use chrono::Utc;
use tuf_core::crypto::{Ed25519Signer, Signer};
use tuf_core::index::CrateName;
use tuf_core::metadata::{
    sign_role, versioned_file_name, Delegations, Expires, HexDigest, MetaFile, RoleKeys, Root,
    Snapshot, SuccinctRoles, TargetFile, TargetPath, Targets, Threshold, Timestamp, Version,
};
use tuf_core::repo::BinStyle;
pub use tuf_test_support::http::Server;

// ---------------------------------------------------------------------------------------
// Crates

/// A packaged crate: name, version, `.crate` bytes.
#[derive(Clone, Debug)]
pub struct Packaged {
    pub name: String,
    pub vers: String,
    pub bytes: Vec<u8>,
}

/// The real cargo binary (the one running these tests).
pub fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// A `Command` for a cargo-family binary with the environment cleaned of the outer
/// build's variables, using `home` as CARGO_HOME and `target` as target dir.
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>, home: &Path, target: &Path) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let key_str = key.to_string_lossy();
        if (key_str.starts_with("CARGO") && key_str != "CARGO")
            || key_str.starts_with("RUSTC")
            || key_str.starts_with("RUSTFLAGS")
            || key_str == "RUST_LOG"
        {
            command.env_remove(&key);
        }
    }
    command
        .env("CARGO", cargo_bin())
        .env("CARGO_HOME", home)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_NET_RETRY", "0")
        .env("CARGO_HTTP_TIMEOUT", "60");
    command
}

/// Package crates `(name, version)` with real `cargo package`, in one workspace (so the
/// names must differ). Each crate's lib has `pub fn hello() -> &'static str` naming it.
pub fn package_crates(work: &Path, crates: &[(&str, &str)]) -> Vec<Packaged> {
    package_crates_saying(work, crates, |name, vers| format!("{name} {vers}"))
}

/// [`package_crates`], with `hello()` returning `says(name, version)`: the same name and
/// version with other content (a crate an attacker would plant).
pub fn package_crates_saying(
    work: &Path,
    crates: &[(&str, &str)],
    says: impl Fn(&str, &str) -> String,
) -> Vec<Packaged> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let ws = work.join(format!(
        "ws{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&ws).unwrap();
    let members: Vec<String> = crates.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    std::fs::write(
        ws.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();
    for (name, vers) in crates {
        let dir = ws.join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"{vers}\"\nedition = \"2021\"\n\
                 description = \"test crate\"\nlicense = \"MIT\"\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("src/lib.rs"),
            format!(
                "pub fn hello() -> &'static str {{ {:?} }}\n",
                says(name, vers)
            ),
        )
        .unwrap();
    }
    let home = work.join("package-home");
    let target = ws.join("target");
    let output = clean_command(cargo_bin(), &home, &target)
        .current_dir(&ws)
        .args([
            "package",
            "--workspace",
            "--no-verify",
            "--allow-dirty",
            "--offline",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo package: {}", text(&output));
    crates
        .iter()
        .map(|(name, vers)| Packaged {
            name: (*name).to_owned(),
            vers: (*vers).to_owned(),
            bytes: std::fs::read(target.join("package").join(format!("{name}-{vers}.crate")))
                .unwrap(),
        })
        .collect()
}

/// stdout and stderr of a process, for assertions and failure messages.
pub fn text(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One index line as crates.io writes it (no dependencies, no features).
pub fn index_line(name: &str, vers: &str, cksum: &str, yanked: bool) -> String {
    format!(
        "{{\"name\":\"{name}\",\"vers\":\"{vers}\",\"deps\":[],\"cksum\":\"{cksum}\",\
         \"features\":{{}},\"yanked\":{yanked}}}"
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(tuf_core::hash::sha256(bytes))
}

// ---------------------------------------------------------------------------------------
// Registry + test-only signer

/// Bits of the succinct bins: 16 bins, enough to exercise several bins per test.
pub const BIT_LENGTH: u8 = 4;

/// A [`Registry`] on a new [`Server`] with `crates` packaged under `work`, none yanked,
/// published once.
pub fn published_registry(work: &Path, crates: &[(&str, &str)]) -> (Registry, Vec<Packaged>) {
    let packaged = package_crates(work, crates);
    let mut registry = Registry::new(Server::start());
    for p in &packaged {
        registry.add(p, false);
    }
    registry.publish();
    (registry, packaged)
}

/// A sparse registry served by a [`Server`] and signed with a minimal test-only signer.
///
/// Server layout: `index/` (sparse index), `crates/{crate}/{crate}-{version}.crate`,
/// `metadata/` (TUF, consistent snapshots).
pub struct Registry {
    pub server: Server,
    keys: [Ed25519Signer; 5],
    /// Signed targets: sparse path (or `config.json`) → bytes. `publish` signs these and
    /// puts them on the server.
    pub targets: BTreeMap<String, Vec<u8>>,
    /// Index lines per crate, as published.
    pub lines: BTreeMap<String, Vec<String>>,
    /// Version of every role written by the last `publish`.
    pub version: u64,
    /// Timestamp expiry used by the next `publish`, relative to now.
    pub timestamp_expires_in: chrono::Duration,
    /// How the next `publish`'s targets delegates to the bins: TAP 15 `succinct_roles`, or
    /// classic roles with `path_hash_prefixes` (the same bins, the same bin files).
    pub bin_style: BinStyle,
    /// Hashes the next `publish` lists for a target besides its SHA-256, by target path:
    /// `(algorithm, digest)`, whatever the bytes are.
    pub extra_hashes: BTreeMap<String, Vec<(String, Vec<u8>)>>,
}

impl Registry {
    pub fn new(server: Server) -> Registry {
        let keys = [1u8, 2, 3, 4, 5].map(|seed| Ed25519Signer::from_seed(&[seed; 32]).unwrap());
        let mut registry = Registry {
            server,
            keys,
            targets: BTreeMap::new(),
            lines: BTreeMap::new(),
            version: 0,
            timestamp_expires_in: chrono::Duration::days(1),
            bin_style: BinStyle::Succinct,
            extra_hashes: BTreeMap::new(),
        };
        let config = format!(
            "{{\"dl\":\"{}crates/{{crate}}/{{crate}}-{{version}}.crate\"}}",
            registry.base()
        );
        registry
            .targets
            .insert("config.json".into(), config.into_bytes());
        let root = registry.root_bytes();
        registry.server.put("metadata/1.root.json", root);
        registry
    }

    pub fn index_url(&self) -> String {
        format!("sparse+{}index/", self.base())
    }

    pub fn metadata_url(&self) -> String {
        format!("{}metadata/", self.base())
    }

    /// The server's URL with a trailing `/`.
    fn base(&self) -> String {
        format!("{}/", self.server.base)
    }

    fn root_key(&self) -> &Ed25519Signer {
        &self.keys[0]
    }

    /// Root version 1: one key per top-level role, threshold 1, consistent snapshots.
    pub fn root_bytes(&self) -> Vec<u8> {
        self.root_bytes_with(1, self.root_key(), &[self.root_key()])
    }

    /// Root `version` whose root key is `root_key` (other roles keep their keys), signed
    /// by `signers`.
    pub fn root_bytes_with(
        &self,
        version: u64,
        root_key: &Ed25519Signer,
        signers: &[&Ed25519Signer],
    ) -> Vec<u8> {
        let one = Threshold::new(1).unwrap();
        let role_keys: Vec<(&str, &Ed25519Signer)> = vec![
            ("root", root_key),
            ("targets", &self.keys[1]),
            ("snapshot", &self.keys[2]),
            ("timestamp", &self.keys[3]),
        ];
        let keys = role_keys
            .iter()
            .map(|(_, k)| (k.key_id().clone(), k.public_key().clone()))
            .collect();
        let roles = role_keys
            .iter()
            .map(|(r, k)| {
                (
                    (*r).to_owned(),
                    RoleKeys::new(vec![k.key_id().clone()], one),
                )
            })
            .collect();
        let expires = Expires::from_time(Utc::now() + chrono::Duration::days(365));
        let root = Root::new(Version::new(version).unwrap(), expires, keys, roles, true);
        let signers: Vec<&dyn Signer> = signers.iter().map(|s| *s as &dyn Signer).collect();
        sign_role(&root, &signers).unwrap()
    }

    /// The current root key (version 1's).
    pub fn original_root_key(&self) -> &Ed25519Signer {
        self.root_key()
    }

    /// Add a packaged crate version: its `.crate` on the server and its line in the index.
    pub fn add(&mut self, packaged: &Packaged, yanked: bool) {
        let cksum = sha256_hex(&packaged.bytes);
        self.server.put(
            &format!("crates/{0}/{0}-{1}.crate", packaged.name, packaged.vers),
            packaged.bytes.clone(),
        );
        self.lines
            .entry(packaged.name.clone())
            .or_default()
            .push(index_line(&packaged.name, &packaged.vers, &cksum, yanked));
        self.sync_index_target(&packaged.name);
    }

    /// Remove a crate from the signed index (the server keeps whatever it has).
    pub fn delete(&mut self, name: &str) {
        self.lines.remove(name);
        self.targets.remove(&sparse_path(name));
    }

    fn sync_index_target(&mut self, name: &str) {
        let mut file = String::new();
        for line in &self.lines[name] {
            file.push_str(line);
            file.push('\n');
        }
        self.targets.insert(sparse_path(name), file.into_bytes());
    }

    /// Sign everything at version `self.version + 1` and put index files, config.json and
    /// metadata on the server. Earlier metadata versions stay on the server.
    pub fn publish(&mut self) {
        self.version += 1;
        let version = Version::new(self.version).unwrap();
        let expires = Expires::from_time(Utc::now() + chrono::Duration::days(7));
        let [_, targets_key, snapshot_key, timestamp_key, bin_key] = &self.keys;

        for (path, bytes) in &self.targets {
            self.server.put(&format!("index/{path}"), bytes.clone());
        }

        let succinct = SuccinctRoles::new(
            vec![bin_key.key_id().clone()],
            Threshold::new(1).unwrap(),
            BIT_LENGTH,
            "crates-bin",
        );
        let mut bins: BTreeMap<String, Targets> = succinct
            .bin_names()
            .map(|name| (name, Targets::new(version, expires.clone())))
            .collect();
        for (path, bytes) in &self.targets {
            let bin = bins.get_mut(&succinct.role_for(path)).unwrap();
            let mut file = TargetFile::from_bytes(bytes);
            for (algorithm, digest) in self.extra_hashes.get(path).into_iter().flatten() {
                file.hashes
                    .insert(algorithm.clone(), HexDigest::new(digest.clone()));
            }
            bin.targets.insert(TargetPath::parse(path).unwrap(), file);
        }
        let mut meta = BTreeMap::new();
        for (name, bin) in &bins {
            let bytes = sign_role(bin, &[bin_key]).unwrap();
            let file = versioned_file_name(self.version, name);
            self.server.put(&format!("metadata/{file}"), bytes);
            meta.insert(format!("{name}.json"), MetaFile::new(version));
        }

        let mut top = Targets::new(version, expires.clone());
        let (roles, succinct_roles) = match self.bin_style {
            BinStyle::Succinct => (None, Some(succinct)),
            BinStyle::HashPrefixes => (Some(succinct.to_delegated_roles().unwrap()), None),
        };
        top.delegations = Some(Delegations {
            keys: BTreeMap::from([(bin_key.key_id().clone(), bin_key.public_key().clone())]),
            roles,
            succinct_roles,
            extra: BTreeMap::new(),
        });
        let targets_bytes = sign_role(&top, &[targets_key]).unwrap();
        let file = versioned_file_name(self.version, "targets");
        self.server.put(&format!("metadata/{file}"), targets_bytes);
        meta.insert("targets.json".into(), MetaFile::new(version));

        let snapshot = Snapshot::new(version, expires, meta);
        let snapshot_bytes = sign_role(&snapshot, &[snapshot_key]).unwrap();
        let mut snapshot_meta = MetaFile::new(version);
        let file = TargetFile::from_bytes(&snapshot_bytes);
        snapshot_meta.length = Some(file.length);
        snapshot_meta.hashes = Some(file.hashes);
        let file = versioned_file_name(self.version, "snapshot");
        self.server.put(&format!("metadata/{file}"), snapshot_bytes);

        let timestamp = Timestamp::new(
            version,
            Expires::from_time(Utc::now() + self.timestamp_expires_in),
            snapshot_meta,
        );
        let timestamp_bytes = sign_role(&timestamp, &[timestamp_key]).unwrap();
        let file = versioned_file_name(self.version, "timestamp");
        self.server
            .put(&format!("metadata/{file}"), timestamp_bytes.clone());
        self.server.put("metadata/timestamp.json", timestamp_bytes);
    }
}

pub fn sparse_path(name: &str) -> String {
    CrateName::parse(name).unwrap().sparse_path()
}

// ---------------------------------------------------------------------------------------
// A user: a fresh CARGO_HOME, a project, and `cargo tuf`

/// A currently free loopback port (free when asked; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A cargo user on this machine: a fresh `CARGO_HOME`, a project depending on crates of
/// the registry `tufreg`, and a target dir, all in one temp dir.
pub struct User {
    pub dir: tempfile::TempDir,
}

pub const REGISTRY: &str = "tufreg";

impl User {
    /// A user whose project depends on `deps` (`name = "req"`) from `registry`.
    pub fn new(registry: &Registry, deps: &[(&str, &str)]) -> User {
        let dir = tempfile::tempdir().unwrap();
        let user = User { dir };
        std::fs::write(user.dir.path().join("root.json"), registry.root_bytes_v1()).unwrap();
        let project = user.project();
        std::fs::create_dir_all(project.join("src")).unwrap();
        std::fs::create_dir_all(project.join(".cargo")).unwrap();
        let mut manifest = String::from(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
        );
        let mut main = String::from("fn main() {\n");
        for (name, req) in deps {
            manifest.push_str(&format!(
                "{name} = {{ version = \"{req}\", registry = \"{REGISTRY}\" }}\n"
            ));
            main.push_str(&format!(
                "    println!(\"{{}}\", {}::hello());\n",
                name.replace('-', "_")
            ));
        }
        main.push_str("}\n");
        std::fs::write(project.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(project.join("src/main.rs"), main).unwrap();
        std::fs::write(
            project.join(".cargo/config.toml"),
            format!(
                "[registries.{REGISTRY}]\nindex = \"{}\"\n",
                registry.index_url()
            ),
        )
        .unwrap();
        user
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("cargo-home")
    }

    pub fn project(&self) -> PathBuf {
        self.dir.path().join("app")
    }

    /// Run `cargo-tuf` with `args` in the project directory.
    pub fn cargo_tuf(&self, args: &[&str]) -> Output {
        clean_command(
            env!("CARGO_BIN_EXE_cargo-tuf"),
            &self.home(),
            &self.dir.path().join("target"),
        )
        .current_dir(self.project())
        .args(args)
        .output()
        .unwrap()
    }

    /// `cargo tuf init` for `registry` with an ephemeral proxy port.
    pub fn init(&self, registry: &Registry) {
        self.init_with_port(registry, 0);
    }

    /// `cargo tuf init` for `registry`, pinning the proxy `port` (0: ephemeral).
    pub fn init_with_port(&self, registry: &Registry, port: u16) {
        let out = self.try_init(
            registry,
            &["--registry", REGISTRY, "--port", &port.to_string()],
        );
        assert!(out.status.success(), "init: {}", text(&out));
    }

    /// `cargo tuf init` with `registry`'s index and metadata URLs, the root pinned from
    /// `root.json` in the user's directory, and `extra` arguments; its output.
    pub fn try_init(&self, registry: &Registry, extra: &[&str]) -> Output {
        let root = self.dir.path().join("root.json");
        let (index_url, metadata_url) = (registry.index_url(), registry.metadata_url());
        let mut args = vec!["tuf", "init", "--index-url", &index_url];
        args.extend([
            "--metadata-url",
            &metadata_url,
            "--root",
            root.to_str().unwrap(),
        ]);
        args.extend_from_slice(extra);
        self.cargo_tuf(&args)
    }

    /// `cargo tuf run -- <cargo args>`.
    pub fn run(&self, cargo_args: &[&str]) -> Output {
        let mut args = vec!["tuf", "run", "--"];
        args.extend_from_slice(cargo_args);
        self.cargo_tuf(&args)
    }

    /// Files under `$CARGO_HOME/registry/{cache,index}` whose name is `file_name`.
    pub fn cached(&self, file_name: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for sub in ["cache", "index", "src"] {
            walk(&self.home().join("registry").join(sub), &mut |p| {
                if p.file_name().is_some_and(|n| n == file_name) {
                    found.push(p.to_path_buf());
                }
            });
        }
        found
    }
}

impl Registry {
    /// The root a user pins: version 1 as put on the server at creation.
    pub fn root_bytes_v1(&self) -> Vec<u8> {
        self.server.get("metadata/1.root.json").unwrap()
    }
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, visit);
        } else {
            visit(&path);
        }
    }
}

// ---------------------------------------------------------------------------------------
// A proxy process

/// A running `cargo tuf proxy`; killed when dropped.
pub struct ProxyProcess {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// `http://127.0.0.1:PORT/{registry}/{pin}/`.
    pub base: String,
}

impl ProxyProcess {
    /// Start `cargo tuf proxy` for [`REGISTRY`] as `user`, and read the URL it prints.
    pub fn start(user: &User) -> Self {
        let mut child = clean_command(
            env!("CARGO_BIN_EXE_cargo-tuf"),
            &user.home(),
            &user.dir.path().join("target"),
        )
        .args(["tuf", "proxy", "--registry", REGISTRY])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
        // The reading end stays open while the proxy runs (it prints more lines).
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first_line = String::new();
        stdout.read_line(&mut first_line).unwrap();
        let base = first_line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap()
            .to_owned();
        Self {
            child,
            _stdout: stdout,
            base,
        }
    }

    /// GET `path` under the proxy's mount: status and body.
    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let response = reqwest::blocking::get(format!("{}{path}", self.base)).unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().unwrap().to_vec())
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
