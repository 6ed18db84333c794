//! Interop: a repository made by python-tuf 7.0.1 (the `py-*` vectors in
//! `test-vectors/metadata/`, written by `test-vectors/python/generate.py`) is served over
//! HTTP and the client verifies it end to end; tampered copies fail.
//!
//! The vectors form a chain: root v1 (the `verify_with_root` of each top-level vector)
//! → `py-timestamp` v5 (naming snapshot v4 with its length and SHA-256) → `py-snapshot`
//! v4 (naming targets v3 and `crates-explicit` v2) → `py-targets-delegations` v3 →
//! `py-delegated-explicit` v2. The snapshot's length and hash in the timestamp are those
//! of its compact, key-sorted serialization (how generate.py hashed it), so every file is
//! served in that form.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{files_in, now, Server};
use serde_json::Value;
use tuf_client::{HttpFetcher, MetadataStore, Updater, UpdaterConfig};

fn vector(name: &str) -> Value {
    let path = format!(
        "{}/../test-vectors/metadata/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The compact, key-sorted form: canonical JSON with control characters escaped (the
/// root's PEM keys hold newlines), as python's `json.dumps(sort_keys=True,
/// separators=(",", ":"))` writes it.
fn canonical(value: &Value) -> Vec<u8> {
    tuf_core::cjson::to_file_form(value).unwrap()
}

struct PyRepo {
    root: Vec<u8>,
    timestamp: Vec<u8>,
    snapshot: Vec<u8>,
    targets: Vec<u8>,
    explicit: Vec<u8>,
}

fn python_repo() -> PyRepo {
    let timestamp = vector("py-timestamp");
    let root = &timestamp["verify_with_root"];
    for other in ["py-snapshot", "py-targets-delegations"] {
        assert_eq!(
            &vector(other)["verify_with_root"],
            root,
            "{other} uses another root"
        );
    }
    let explicit = vector("py-delegated-explicit");
    let delegations = vector("py-targets-delegations");
    assert_eq!(explicit["verify_with_delegator"], delegations["metadata"]);
    PyRepo {
        root: canonical(root),
        timestamp: canonical(&timestamp["metadata"]),
        snapshot: canonical(&vector("py-snapshot")["metadata"]),
        targets: canonical(&delegations["metadata"]),
        explicit: canonical(&explicit["metadata"]),
    }
}

fn serve(server: &Server, repo: &PyRepo) {
    server.put_metadata("timestamp.json", &repo.timestamp);
    server.put_metadata("4.snapshot.json", &repo.snapshot);
    server.put_metadata("3.targets.json", &repo.targets);
    server.put_metadata("2.crates-explicit.json", &repo.explicit);
}

fn updater(server: &Server, md: &std::path::Path, root: &[u8]) -> Updater<HttpFetcher> {
    MetadataStore::open(md)
        .unwrap()
        .store("root", root)
        .unwrap();
    let config = UpdaterConfig::new(&server.metadata_url(), md);
    Updater::new(config, HttpFetcher::new().unwrap()).unwrap()
}

#[test]
fn python_tuf_repository_verifies() {
    let server = Server::start();
    let repo = python_repo();
    serve(&server, &repo);
    let dir = tempfile::tempdir().unwrap();
    let mut updater = updater(&server, dir.path(), &repo.root);
    updater.refresh(now()).unwrap();
    assert_eq!(
        server.take_requests(),
        [
            "/metadata/2.root.json",
            "/metadata/timestamp.json",
            "/metadata/4.snapshot.json",
            "/metadata/3.targets.json"
        ]
    );
    let top = updater
        .target_info("ca/rg/cargo-tuf", now())
        .unwrap()
        .unwrap();
    assert_eq!(top.role, "targets");
    let serde = updater.target_info("se/rd/serde", now()).unwrap().unwrap();
    assert_eq!(serde.role, "crates-explicit");
    assert_eq!(
        files_in(dir.path()),
        [
            "delegated.crates-explicit.json",
            "root.json",
            "snapshot.json",
            "targets.json",
            "timestamp.json"
        ]
    );
}

/// A tampering: what it does, the change, and the error code expected.
type Tamper = (&'static str, fn(&mut PyRepo), &'static str);

/// `bytes` with the first occurrence of `from` replaced by `to` (same length).
fn tamper(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains(from), "{from} not in metadata");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn tampered_python_metadata_fails() {
    let cases: [Tamper; 4] = [
        (
            "timestamp version changed after signing",
            |r| r.timestamp = tamper(&r.timestamp, "\"version\":5", "\"version\":6"),
            "threshold",
        ),
        (
            "snapshot changed: no longer what the timestamp hashed",
            |r| r.snapshot = tamper(&r.snapshot, "\"version\":3", "\"version\":4"),
            "hash-mismatch",
        ),
        (
            "targets expiry changed after signing",
            |r| r.targets = tamper(&r.targets, "2099-01-01", "2099-01-02"),
            "threshold",
        ),
        (
            "delegated role expiry changed after signing",
            |r| r.explicit = tamper(&r.explicit, "2099-01-01", "2099-01-02"),
            "threshold",
        ),
    ];
    for (what, change, expected) in cases {
        let server = Server::start();
        let mut repo = python_repo();
        change(&mut repo);
        serve(&server, &repo);
        let dir = tempfile::tempdir().unwrap();
        let mut updater = updater(&server, dir.path(), &repo.root);
        let result = updater
            .refresh(now())
            .and_then(|()| updater.target_info("se/rd/serde", now()).map(|_| ()));
        assert_eq!(result.unwrap_err().code(), expected, "{what}");
    }
}
