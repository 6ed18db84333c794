//! Shared set-up of the CLI tests: a scratch directory, the `tuf` binary, key holders.
// Test helpers panic on failure, as the tests that call them do.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tuf_core::metadata::{versioned_file_name, RoleType, SignedMetadata};
use tuf_core::Limits;

/// Passphrase the tests encrypt keys with, passed through `TUF_TEST_PW`.
pub const PW: &str = "correct horse battery staple";

/// A scratch directory in which `tuf` runs.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `tuf` in the scratch directory, with the passphrase variable set.
    pub fn tuf(&self) -> Command {
        let mut cmd = Command::cargo_bin("tuf").unwrap();
        cmd.current_dir(self.dir.path())
            .env("TUF_TEST_PW", PW)
            .env("TUF_TEST_WRONG_PW", "not the passphrase");
        cmd
    }

    /// Generate `NAME.pem` (encrypted) and `NAME.pub.json`; returns the key id.
    pub fn key(&self, name: &str) -> String {
        self.generate_key(name, &["--passphrase-env", "TUF_TEST_PW"])
    }

    /// Generate an unencrypted key.
    pub fn plain_key(&self, name: &str) -> String {
        self.generate_key(name, &["--unencrypted"])
    }

    /// `tuf -q key generate NAME.pem EXTRA...`, which must succeed; the printed key id.
    fn generate_key(&self, name: &str, extra: &[&str]) -> String {
        let out = self
            .tuf()
            .args(["-q", "key", "generate", &format!("{name}.pem")])
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap().trim().to_owned()
    }

    /// Keys alice, bob, carol (root), tgt (targets), online; `repo` staged 2-of-3.
    pub fn ceremony_repo(&self) -> Holders {
        let holders = Holders {
            alice: self.key("alice"),
            bob: self.key("bob"),
            carol: self.key("carol"),
            tgt: self.plain_key("tgt"),
            online: self.plain_key("online"),
        };
        self.init("repo", &["alice", "bob", "carol"])
            .args(["--root-threshold", "2"])
            .assert()
            .success();
        holders
    }

    /// `tuf sign --repo repo --role ROLE --key NAME.pem` with the right passphrase.
    pub fn sign(&self, role: &str, name: &str) {
        self.sign_cmd(role, name)
            .args(["--passphrase-env", "TUF_TEST_PW"])
            .assert()
            .success();
    }

    /// `tuf sign --repo repo --role ROLE --key NAME.pem`, no passphrase source: the
    /// caller adds one (or none, for a plain key) and checks the outcome.
    pub fn sign_cmd(&self, role: &str, name: &str) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["sign", "--repo", "repo", "--role", role])
            .args(["--key", &format!("{name}.pem")]);
        cmd
    }

    /// `tuf sign --file FILE --key NAME.pem` (right passphrase) writing a detached
    /// signature to `OUT`.
    pub fn sign_detached(&self, file: &str, name: &str, out: &str) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["sign", "--file", file, "--key", &format!("{name}.pem")])
            .args(["--passphrase-env", "TUF_TEST_PW", "--detached", out]);
        cmd
    }

    /// `tuf sign --repo repo --role root --merge SIG`.
    pub fn merge_root_signature(&self, sig: &str) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["sign", "--repo", "repo", "--role", "root", "--merge", sig]);
        cmd
    }

    /// `tuf init REPO --root-key K.pub.json...` with `tgt` as the targets key and
    /// `online` as the online key; the caller adds options and checks the outcome.
    pub fn init(&self, repo: &str, root_keys: &[&str]) -> Command {
        self.init_with_online(repo, root_keys, "online")
    }

    /// [`Env::init`] with `ONLINE.pub.json` as the online key.
    pub fn init_with_online(&self, repo: &str, root_keys: &[&str], online: &str) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["init", repo]);
        for key in root_keys {
            cmd.args(["--root-key", &format!("{key}.pub.json")]);
        }
        cmd.args(["--targets-key", "tgt.pub.json"])
            .args(["--online-key", &format!("{online}.pub.json")]);
        cmd
    }

    /// `tuf root commit repo`.
    pub fn root_commit(&self) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["root", "commit", "repo"]);
        cmd
    }

    /// [`Env::ceremony_repo`] with root v1 signed by alice and bob and committed.
    pub fn committed_ceremony_repo(&self) -> Holders {
        let holders = self.ceremony_repo();
        self.sign("root", "alice");
        self.sign("root", "bob");
        self.root_commit().assert().success();
        holders
    }

    /// Keys alice and bob (root, 2 of 2, encrypted), tgt (targets) and online; `repo`
    /// with `2^bit_length` bins, root v1 signed by both and committed, targets signed:
    /// ready for a first publish.
    pub fn signed_two_holder_repo(&self, bit_length: u8) {
        self.key("alice");
        self.key("bob");
        self.plain_key("tgt");
        self.plain_key("online");
        self.init("repo", &["alice", "bob"])
            .args([
                "--root-threshold",
                "2",
                "--bit-length",
                &bit_length.to_string(),
            ])
            .assert()
            .success();
        self.sign("root", "alice");
        self.sign("root", "bob");
        self.root_commit().assert().success();
        self.sign("targets", "tgt");
    }

    /// `tuf publish repo --index index --online-key KEY`.
    pub fn publish(&self, key: &str) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["publish", "repo", "--index", "index", "--online-key", key]);
        cmd
    }

    /// `tuf refresh repo --online-key KEY`.
    pub fn refresh(&self, key: &str) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["refresh", "repo", "--online-key", key]);
        cmd
    }

    /// Trust the published root v1, as a client that got it out of band: copy it to
    /// `trusted-root.json` (what [`Env::verify`] and [`Env::verify_copies`] verify from).
    pub fn trust_root_v1(&self) {
        std::fs::copy(
            self.path("repo/metadata/1.root.json"),
            self.path("trusted-root.json"),
        )
        .unwrap();
    }

    /// `tuf verify --root trusted-root.json repo/metadata`: without `--index`, the
    /// hash-named copies under `repo/targets/` are checked.
    pub fn verify_copies(&self) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["verify", "--root", "trusted-root.json", "repo/metadata"]);
        cmd
    }

    /// `tuf verify --root trusted-root.json repo/metadata --index index`.
    pub fn verify(&self) -> Command {
        let mut cmd = self.tuf();
        cmd.args(["verify", "--root", "trusted-root.json", "repo/metadata"])
            .args(["--index", "index"]);
        cmd
    }

    /// Write `bytes` to `NAME` in the scratch directory, creating its parents.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// `index/config.json`, the file every test index starts with.
    pub fn write_index_config(&self) {
        self.write("index/config.json", b"{\"dl\":\"http://x/\"}");
    }

    /// `index/config.json`, the file every test index starts with, and the index file
    /// of crate `demo` with one valid line.
    pub fn write_small_index(&self) {
        self.write_index_config();
        self.write_crate("demo", index_line("demo", "0.1.0"));
    }

    /// The index file of crate `name` (at its sparse path under `index/`).
    pub fn write_crate(&self, name: &str, body: impl AsRef<[u8]>) {
        self.write(&format!("index/{}", sparse_path(name)), body);
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// `tuf status repo --json`, parsed, with its exit code.
    pub fn status_json(&self, extra: &[&str]) -> (serde_json::Value, i32) {
        let out = self
            .tuf()
            .args(["status", "repo", "--json"])
            .args(extra)
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "status --json printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (json, out.status.code().unwrap())
    }
}

/// A valid index line (with its `\n`) of crate `name`, version `vers`: what the
/// publisher, like a verifier, accepts.
pub fn index_line(name: &str, vers: &str) -> String {
    let cksum = hex::encode(tuf_core::hash::sha256(format!("{name}-{vers}").as_bytes()));
    format!(
        "{{\"name\":\"{name}\",\"vers\":\"{vers}\",\"deps\":[],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":false}}\n"
    )
}

/// Every target the published metadata under `repo/metadata` lists, as a client would
/// find it (timestamp → snapshot → every bin), by path: `(length, sha256 hex)`.
pub fn signed_targets(env: &Env) -> std::collections::BTreeMap<String, (u64, String)> {
    let metadata = env.path("repo/metadata");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(metadata.join(name)).unwrap()).unwrap()
    };
    let timestamp = read("timestamp.json");
    let snapshot_version = &timestamp["signed"]["meta"]["snapshot.json"]["version"];
    let snapshot = read(&versioned_file_name(
        snapshot_version.as_u64().unwrap(),
        "snapshot",
    ));
    let mut targets = std::collections::BTreeMap::new();
    for (name, meta) in snapshot["signed"]["meta"].as_object().unwrap() {
        if name == "targets.json" {
            continue;
        }
        let role = name.strip_suffix(".json").unwrap();
        let bin = read(&versioned_file_name(
            meta["version"].as_u64().unwrap(),
            role,
        ));
        for (path, target) in bin["signed"]["targets"].as_object().unwrap() {
            targets.insert(
                path.clone(),
                (
                    target["length"].as_u64().unwrap(),
                    target["hashes"]["sha256"].as_str().unwrap().to_owned(),
                ),
            );
        }
    }
    targets
}

/// Every file under `dir` (recursively) whose bytes are `bytes`.
pub fn files_holding(dir: &Path, bytes: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && std::fs::read(&path).unwrap() == bytes {
                found.push(path);
            }
        }
    }
    found
}

pub struct Holders {
    pub alice: String,
    pub bob: String,
    pub carol: String,
    pub tgt: String,
    pub online: String,
}

pub fn parse(path: &Path, role: RoleType) -> SignedMetadata {
    SignedMetadata::parse(&std::fs::read(path).unwrap(), role, &Limits::default()).unwrap()
}

/// The staged role entry of a status report.
pub fn role<'a>(report: &'a serde_json::Value, role: &str, state: &str) -> &'a serde_json::Value {
    report["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == role && r["state"] == state)
        .unwrap_or_else(|| panic!("no {state} {role} in {report:#}"))
}

/// Key ids listed under `field` of a threshold count.
pub fn ids(count: &serde_json::Value, field: &str) -> Vec<String> {
    let mut ids: Vec<String> = count[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keyid"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

pub fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The sparse index path of a crate name (lowercase, as cargo asks for it).
pub fn sparse_path(name: &str) -> String {
    tuf_core::index::CrateName::parse(name)
        .unwrap()
        .sparse_path()
}
