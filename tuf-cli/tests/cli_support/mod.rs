//! Shared set-up of the CLI tests: a scratch directory, the `tuf` binary, key holders.
// Test helpers panic on failure, as the tests that call them do.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tuf_core::metadata::{RoleType, SignedMetadata};
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
        let out = self
            .tuf()
            .args(["-q", "key", "generate", &format!("{name}.pem")])
            .args(["--passphrase-env", "TUF_TEST_PW"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap().trim().to_owned()
    }

    /// Generate an unencrypted key.
    pub fn plain_key(&self, name: &str) -> String {
        let out = self
            .tuf()
            .args([
                "-q",
                "key",
                "generate",
                &format!("{name}.pem"),
                "--unencrypted",
            ])
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
        self.tuf()
            .args(["init", "repo", "--root-threshold", "2"])
            .args(["--root-key", "alice.pub.json", "--root-key", "bob.pub.json"])
            .args([
                "--root-key",
                "carol.pub.json",
                "--targets-key",
                "tgt.pub.json",
            ])
            .args(["--online-key", "online.pub.json"])
            .assert()
            .success();
        holders
    }

    /// `tuf sign --repo repo --role ROLE --key NAME.pem` with the right passphrase.
    pub fn sign(&self, role: &str, name: &str) {
        self.tuf()
            .args(["sign", "--repo", "repo", "--role", role])
            .args([
                "--key",
                &format!("{name}.pem"),
                "--passphrase-env",
                "TUF_TEST_PW",
            ])
            .assert()
            .success();
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
