//! HTTP compression (issue #14): the client asks for gzip, a gzipped repository verifies
//! in fewer bytes, and a compressed body is checked after decompression exactly as a
//! plain one: other bytes than the signed ones, or more bytes than the signed length or
//! the `Limits` cap, are refused, decompression stops one byte past the cap, and nothing
//! refused is stored. A real HTTP server on 127.0.0.1 (`tuf-test-support`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{code, files_in, key, now, Client, Reply, Repo, Server};
use tuf_client::ClientError;
use tuf_core::Limits;
use tuf_test_support::http::{gzip, Sent};

/// Index-file-like content for crate `name`: JSON lines that compress as real ones do.
fn index_file(name: &str) -> Vec<u8> {
    (0..20)
        .map(|minor| {
            format!(
                "{{\"name\":\"{name}\",\"vers\":\"0.{minor}.0\",\"deps\":[],\"cksum\":\"{}\",\
                 \"features\":{{}},\"yanked\":false}}\n",
                hex::encode(tuf_core::hash::sha256(format!("{name}{minor}").as_bytes()))
            )
        })
        .collect::<String>()
        .into_bytes()
}

const PATHS: [&str; 4] = ["al/ph/alpha", "be/ta/beta", "ga/mm/gamma", "de/lt/delta"];

/// A repository of 16 succinct bins (the layout of a registry) with the index files of
/// [`PATHS`], the timestamp listing the snapshot's length and hashes, published.
fn registry() -> (Server, Repo) {
    let server = Server::start();
    let mut repo = Repo::new();
    repo.timestamp_lists_hashes = true;
    let bins = repo.delegate_bins(4, "bin", &key(50));
    for path in PATHS {
        repo.add_target(&bins.role_for(path), path, &index_file(path));
    }
    repo.publish(&server);
    (server, repo)
}

/// Refresh, look every path up and download it; what was sent for each request.
fn fetch_everything(server: &Server, client: &Client) -> Vec<Sent> {
    server.take_sent();
    let mut updater = client.updater(server);
    updater.refresh(now()).unwrap();
    for path in PATHS {
        let info = updater.target_info(path, now()).unwrap().unwrap();
        let file = updater.fetch_target(&info).unwrap();
        assert_eq!(std::fs::read(file).unwrap(), index_file(path));
    }
    server.take_sent()
}

fn body_bytes(sent: &[Sent]) -> u64 {
    sent.iter().map(|s| s.body_bytes).sum()
}

/// The stored metadata and targets, by file name.
fn stored(client: &Client) -> Vec<(String, Vec<u8>)> {
    [&client.md, &client.td]
        .into_iter()
        .flat_map(|dir| {
            files_in(dir)
                .into_iter()
                .map(move |name| (name.clone(), std::fs::read(dir.join(name)).unwrap()))
        })
        .collect()
}

#[test]
fn gzip_is_asked_for_and_a_gzipped_repository_verifies_in_fewer_bytes() {
    let (server, repo) = registry();
    let plain_client = Client::new(&repo.trusted_root());
    let plain = fetch_everything(&server, &plain_client);

    server.set_gzip(true);
    let gzip_client = Client::new(&repo.trusted_root());
    let gzipped = fetch_everything(&server, &gzip_client);

    // Every request (metadata and targets) asked for gzip, and every file was sent
    // gzipped (the 404 ending the root chain has no body).
    assert_eq!(gzipped.len(), plain.len());
    for sent in &gzipped {
        let accepted = sent.accept_encoding.as_deref().unwrap_or("");
        assert!(accepted.contains("gzip"), "{sent:?}");
        if sent.path != "/metadata/2.root.json" {
            assert_eq!(sent.content_encoding.as_deref(), Some("gzip"), "{sent:?}");
        }
    }
    // What is stored is what was signed, byte for byte: the same files as without
    // compression.
    assert_eq!(stored(&gzip_client), stored(&plain_client));
    assert_eq!(
        std::fs::read(gzip_client.md.join("timestamp.json")).unwrap(),
        server.metadata("timestamp.json")
    );
    // Fewer bytes on the wire.
    let (plain_bytes, gzip_bytes) = (body_bytes(&plain), body_bytes(&gzipped));
    eprintln!("body bytes: plain {plain_bytes}, gzip {gzip_bytes}");
    assert!(
        gzip_bytes * 2 < plain_bytes,
        "gzip {gzip_bytes} vs plain {plain_bytes}"
    );
}

/// The snapshot, served gzipped as `bytes`, whatever the request accepted.
fn serve_gzipped(server: &Server, path: &str, bytes: &[u8]) {
    server.put(
        path,
        Reply::Encoded {
            encoding: "gzip".to_owned(),
            body: gzip(bytes),
        },
    );
}

fn target_url(path: &str) -> String {
    let sha = hex::encode(tuf_core::hash::sha256(&index_file(path)));
    let (dir, name) = path.rsplit_once('/').unwrap();
    format!("/targets/{dir}/{sha}.{name}")
}

fn assert_nothing_in(dir: &Path) {
    assert_eq!(files_in(dir), Vec::<String>::new());
}

#[test]
fn gzip_of_other_bytes_than_the_signed_ones_is_refused_and_not_stored() {
    let (server, repo) = registry();
    let snapshot = server.metadata("1.snapshot.json");

    // Metadata: the snapshot whose length and hash the timestamp lists.
    let client = Client::new(&repo.trusted_root());
    let mut other = snapshot.clone();
    let last = other.len() - 2;
    other[last] ^= 0x01;
    serve_gzipped(&server, "/metadata/1.snapshot.json", &other);
    assert_eq!(
        code(client.updater(&server).refresh(now())),
        "hash-mismatch"
    );
    let mut longer = snapshot.clone();
    longer.extend_from_slice(b"  ");
    serve_gzipped(&server, "/metadata/1.snapshot.json", &longer);
    assert_eq!(
        code(client.updater(&server).refresh(now())),
        "length-mismatch"
    );
    assert_eq!(client.files(), ["root.json", "timestamp.json"]);

    // A target: same length, other bytes; then more bytes.
    server.put_metadata("1.snapshot.json", &snapshot);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    let info = updater.target_info(PATHS[0], now()).unwrap().unwrap();
    let mut tampered = index_file(PATHS[0]);
    tampered[10] ^= 0x01;
    serve_gzipped(&server, &target_url(PATHS[0]), &tampered);
    assert_eq!(code(updater.fetch_target(&info)), "hash-mismatch");
    assert_nothing_in(&client.td);
    let mut longer = index_file(PATHS[0]);
    longer.push(b'\n');
    serve_gzipped(&server, &target_url(PATHS[0]), &longer);
    assert_eq!(code(updater.fetch_target(&info)), "length-mismatch");
    assert_nothing_in(&client.td);
}

/// Run `attempt`, which must fail quickly with an error whose code is `code` and whose
/// message contains `says`: decompressing a bomb to its end would take minutes (or hit
/// the fetcher's 60 s timeout) and as many GiB of memory.
#[track_caller]
fn refused_quickly(
    code: &str,
    says: &str,
    attempt: impl FnOnce() -> Result<(), ClientError>,
) -> ClientError {
    let started = Instant::now();
    let err = attempt().unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), code, "{err}");
    assert!(err.to_string().contains(says), "{says:?} not in: {err}");
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}: decompression did not stop at the cap"
    );
    err
}

/// Less than this much of a [`Reply::GzipBomb`] was sent: the client hung up long
/// before the server's own end (64 MiB); what was sent is what the socket buffers took.
const BOMB_SENT_BOUND: u64 = 32 * 1024 * 1024;

#[test]
fn gzip_bombs_stop_at_the_signed_length() {
    let (server, repo) = registry();
    let client = Client::new(&repo.trusted_root());
    let snapshot = server.metadata("1.snapshot.json");
    let mebibyte_of_zeros = vec![0u8; 1024 * 1024];

    // The snapshot: 1 MiB of zeros, gzipped to about 1 KiB, for a signed length of a few
    // KiB: refused one byte past the length.
    serve_gzipped(&server, "/metadata/1.snapshot.json", &mebibyte_of_zeros);
    let err = refused_quickly("length-mismatch", "snapshot", || {
        client.updater(&server).refresh(now())
    });
    assert!(
        matches!(
            &err,
            ClientError::Core(tuf_core::Error::LengthMismatch { expected, found, .. })
                if *expected == snapshot.len() as u64 && *found == *expected + 1
        ),
        "{err:?}"
    );
    // The endless bomb likewise.
    server.put("/metadata/1.snapshot.json", Reply::GzipBomb);
    refused_quickly("length-mismatch", "snapshot", || {
        client.updater(&server).refresh(now())
    });
    assert!(server.sent_for("/metadata/1.snapshot.json").body_bytes < BOMB_SENT_BOUND);
    assert_eq!(client.files(), ["root.json", "timestamp.json"]);

    // A target (an index file of a few KiB).
    server.put_metadata("1.snapshot.json", &snapshot);
    let mut updater = client.updater(&server);
    updater.refresh(now()).unwrap();
    let info = updater.target_info(PATHS[1], now()).unwrap().unwrap();
    let length = info.file.length.get();
    serve_gzipped(&server, &target_url(PATHS[1]), &mebibyte_of_zeros);
    let err = refused_quickly("length-mismatch", PATHS[1], || {
        updater.fetch_target(&info).map(|_| ())
    });
    assert!(
        matches!(
            &err,
            ClientError::Core(tuf_core::Error::LengthMismatch { expected, found, .. })
                if *expected == length && *found == length + 1
        ),
        "{err:?}"
    );
    server.put(&target_url(PATHS[1]), Reply::GzipBomb);
    refused_quickly("length-mismatch", PATHS[1], || {
        updater.fetch_target(&info).map(|_| ())
    });
    assert!(server.sent_for(&target_url(PATHS[1])).body_bytes < BOMB_SENT_BOUND);
    assert_nothing_in(&client.td);
}

#[test]
fn gzip_bombs_stop_at_the_limits_cap() {
    // Metadata whose length nothing signed gives is capped by `Limits` (TUF §5.4: "some
    // upper limit"); the cap counts decompressed bytes.
    let (server, repo) = registry();
    let client = Client::new(&repo.trusted_root());
    let timestamp = server.metadata("timestamp.json");
    server.put("/metadata/timestamp.json", Reply::GzipBomb);
    refused_quickly("too-large", "more than 16384 bytes", || {
        client.updater(&server).refresh(now())
    });
    assert!(server.sent_for("/metadata/timestamp.json").body_bytes < BOMB_SENT_BOUND);
    assert_eq!(client.files(), ["root.json"]);

    // A bin (the snapshot lists no length for it): capped by `max_targets_bytes`, here
    // set to 1 MiB.
    server.put_metadata("timestamp.json", &timestamp);
    let mut limits = Limits::default();
    limits.max_targets_bytes = 1024 * 1024;
    let mut updater = client.updater_with(&server, limits);
    updater.refresh(now()).unwrap();
    let bin = updater
        .inspect_trusted(|state| {
            state
                .targets()
                .and_then(|t| t.delegations.as_ref())
                .and_then(|d| d.succinct_roles.as_ref())
                .map(|bins| bins.role_for(PATHS[2]))
        })
        .flatten()
        .unwrap();
    let bin_path = format!("/metadata/1.{bin}.json");
    server.put(&bin_path, Reply::GzipBomb);
    let before = client.files();
    refused_quickly("too-large", "more than 1048576 bytes", || {
        updater.target_info(PATHS[2], now()).map(|_| ())
    });
    assert!(server.sent_for(&bin_path).body_bytes < BOMB_SENT_BOUND);
    assert_eq!(client.files(), before);
}
