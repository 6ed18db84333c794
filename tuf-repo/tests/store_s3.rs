//! `tuf_repo::store::Store` against a real S3-compatible server on 127.0.0.1
//! (`tuf_test_support::s3::S3Server`): every operation, the conditional writes the
//! publish protocol rests on, CDN headers as an HTTP client sees them, server-side
//! copies, exact request counts, and the errors an operator meets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::time::Duration;

use bytes::Bytes;
use tuf_repo::store::{
    CasOutcome, Location, ObjectKind, PutOutcome, RequestCounts, Store, StoreConfig,
    StoreErrorKind, StoreUrl,
};
use tuf_repo::Error;
use tuf_test_support::s3::S3Server;

fn config(server: &S3Server, bucket: &str) -> StoreConfig {
    StoreConfig {
        s3_endpoint: Some(server.endpoint()),
        options: server.object_store_options(bucket),
        ..StoreConfig::default()
    }
}

fn s3_url(given: &str) -> StoreUrl {
    match Location::parse(given) {
        Ok(Location::Url(url)) => url,
        other => panic!("{given}: {other:?}"),
    }
}

/// A store on a fresh bucket of the shared server, under `prefix`.
fn store(prefix: &str) -> (String, Store) {
    let server = S3Server::shared();
    let bucket = server.create_bucket("store");
    let url = s3_url(&format!("s3://{bucket}/{prefix}"));
    let store = Store::open(&url, &config(server, &bucket)).unwrap_or_else(|e| panic!("{e}"));
    (bucket, store)
}

fn ok<T>(result: Result<T, Error>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn store_error(result: Result<impl std::fmt::Debug, Error>) -> (StoreErrorKind, String) {
    match result {
        Err(error @ Error::Store { kind, .. }) => (kind, error.to_string()),
        other => panic!("expected a store error, got {other:?}"),
    }
}

fn bytes(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

#[test]
fn get_put_head_list_delete() {
    let (bucket, store) = store("tuf/repo");
    assert_eq!(ok(store.get("metadata/timestamp.json")), None);
    assert_eq!(ok(store.head("metadata/timestamp.json")), None);

    ok(store.put(
        "metadata/timestamp.json",
        bytes("{\"t\":1}"),
        ObjectKind::Timestamp,
    ));
    ok(store.put("metadata/1.root.json", bytes("[1]"), ObjectKind::Immutable));
    ok(store.put("metadata2/state.json", bytes("s"), ObjectKind::State));

    let object = ok(store.get("metadata/timestamp.json")).unwrap_or_else(|| panic!("absent"));
    assert_eq!(object.bytes.as_ref(), b"{\"t\":1}");
    assert_eq!(object.size, 7);
    let meta = ok(store.head("metadata/timestamp.json")).unwrap_or_else(|| panic!("absent"));
    assert_eq!(
        (meta.key.as_str(), meta.size),
        ("metadata/timestamp.json", 7)
    );
    assert!(object.etag.is_some());
    assert_eq!(meta.etag, object.etag);

    // Keys are relative to the prefix; the prefix ends at a '/' boundary.
    let mut keys: Vec<String> = ok(store.list("metadata"))
        .into_iter()
        .map(|m| m.key)
        .collect();
    keys.sort();
    assert_eq!(keys, ["metadata/1.root.json", "metadata/timestamp.json"]);
    assert_eq!(ok(store.list("")).len(), 3);

    // The object is where the URL says, as a client over HTTP sees it.
    let body = reqwest::blocking::get(
        S3Server::shared().object_url(&bucket, "tuf/repo/metadata/1.root.json"),
    )
    .and_then(|r| r.text())
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body, "[1]");

    let many = ok(store.get_many(&[
        "metadata/1.root.json".to_owned(),
        "absent".to_owned(),
        "metadata2/state.json".to_owned(),
    ]));
    let bodies: Vec<Option<&[u8]>> = many
        .iter()
        .map(|o| o.as_ref().map(|o| o.bytes.as_ref()))
        .collect();
    assert_eq!(bodies, [Some(&b"[1]"[..]), None, Some(&b"s"[..])]);

    assert!(ok(store.delete("metadata2/state.json")));
    assert!(!ok(store.delete("metadata2/state.json")));
    assert_eq!(
        ok(store.delete_many(vec!["metadata/1.root.json".to_owned(), "absent".to_owned()])),
        1
    );
    let keys: Vec<String> = ok(store.list("")).into_iter().map(|m| m.key).collect();
    assert_eq!(keys, ["metadata/timestamp.json"]);
}

#[test]
fn put_new_creates_once_and_never_overwrites() {
    let (_, store) = store("");
    let first = ok(store.put_new("metadata/2.bin.json", bytes("one"), ObjectKind::Immutable));
    assert!(
        matches!(first, PutOutcome::Created { etag: Some(_) }),
        "{first:?}"
    );
    let second = ok(store.put_new("metadata/2.bin.json", bytes("two"), ObjectKind::Immutable));
    assert_eq!(second, PutOutcome::Exists);
    let kept = ok(store.get("metadata/2.bin.json")).map(|o| o.bytes);
    assert_eq!(kept.as_deref(), Some(&b"one"[..]));

    let items = (0..40)
        .map(|i| {
            (
                format!("many/{i}"),
                Bytes::from(format!("{i}")),
                ObjectKind::Immutable,
            )
        })
        .chain([(
            "metadata/2.bin.json".to_owned(),
            bytes("x"),
            ObjectKind::Immutable,
        )])
        .collect();
    let outcomes = ok(store.put_new_many(items));
    assert_eq!(outcomes.len(), 41);
    assert!(outcomes[..40]
        .iter()
        .all(|o| matches!(o, PutOutcome::Created { .. })));
    assert_eq!(outcomes[40], PutOutcome::Exists);
    assert_eq!(ok(store.list("many")).len(), 40);
}

#[test]
fn put_if_swaps_only_from_the_current_etag() {
    let (_, store) = store("p");
    let key = "metadata/timestamp.json";
    // None: create only if absent.
    let CasOutcome::Swapped { etag: Some(first) } =
        ok(store.put_if(key, bytes("v1"), None, ObjectKind::Timestamp))
    else {
        panic!("the first create did not swap")
    };
    assert_eq!(
        ok(store.put_if(key, bytes("v1b"), None, ObjectKind::Timestamp)),
        CasOutcome::Conflict
    );
    // The right ETag swaps; the one it replaced is now stale.
    let CasOutcome::Swapped { etag: Some(second) } =
        ok(store.put_if(key, bytes("v2"), Some(&first), ObjectKind::Timestamp))
    else {
        panic!("the current ETag did not swap")
    };
    assert_ne!(first, second);
    assert_eq!(
        ok(store.put_if(key, bytes("v3"), Some(&first), ObjectKind::Timestamp)),
        CasOutcome::Conflict
    );
    assert_eq!(
        ok(store.put_if(
            key,
            bytes("v3"),
            Some("\"0123456789abcdef0123456789abcdef\""),
            ObjectKind::Timestamp
        )),
        CasOutcome::Conflict
    );
    // An ETag for a key that is not there.
    assert_eq!(
        ok(store.put_if("absent", bytes("x"), Some(&second), ObjectKind::Timestamp)),
        CasOutcome::Conflict
    );
    assert_eq!(ok(store.get("absent")), None);
    let now = ok(store.get(key)).unwrap_or_else(|| panic!("absent"));
    assert_eq!((now.bytes.as_ref(), now.etag), (&b"v2"[..], Some(second)));
}

#[test]
fn sixteen_racing_swaps_from_one_etag_make_exactly_one_winner() {
    let (_, store) = store("race");
    let key = "metadata/timestamp.json";
    ok(store.put(key, bytes("start"), ObjectKind::Timestamp));
    for round in 0..3 {
        let current = ok(store.head(key)).and_then(|m| m.etag).unwrap_or_default();
        let outcomes: Vec<CasOutcome> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..16)
                .map(|i| {
                    let (store, current) = (&store, current.as_str());
                    scope.spawn(move || {
                        let body = Bytes::from(format!("round {round} writer {i}"));
                        ok(store.put_if(key, body, Some(current), ObjectKind::Timestamp))
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|_| panic!("a writer panicked")))
                .collect()
        });
        let winners: Vec<&Option<String>> = outcomes
            .iter()
            .filter_map(|o| match o {
                CasOutcome::Swapped { etag } => Some(etag),
                CasOutcome::Conflict => None,
            })
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        // What is stored is the winner's write.
        let stored = ok(store.head(key)).and_then(|m| m.etag);
        assert_eq!(&stored, winners[0], "round {round}");
    }
}

#[test]
fn cdn_headers_are_served_over_http() {
    let server = S3Server::shared();
    let bucket = server.create_bucket("cdn");
    let url = s3_url(&format!("s3://{bucket}/repo"));
    let config = StoreConfig {
        timestamp_max_age: Duration::from_secs(42),
        ..config(server, &bucket)
    };
    let store = ok(Store::open(&url, &config));
    ok(store.put_new(
        "metadata/3.snapshot.json",
        bytes("{}"),
        ObjectKind::Immutable,
    ));
    ok(store.put_new(
        "targets/se/rd/0123.serde",
        bytes("{}\n"),
        ObjectKind::Immutable,
    ));
    ok(store.put_if(
        "metadata/timestamp.json",
        bytes("{}"),
        None,
        ObjectKind::Timestamp,
    ));
    ok(store.put("state/manifest.json", bytes("{}"), ObjectKind::State));
    ok(store.put("se/rd/serde", bytes("{}\n"), ObjectKind::Index));
    for (key, cache_control, content_type) in [
        (
            "metadata/3.snapshot.json",
            "public, max-age=31536000, immutable",
            "application/json",
        ),
        (
            "targets/se/rd/0123.serde",
            "public, max-age=31536000, immutable",
            "text/plain; charset=utf-8",
        ),
        (
            "metadata/timestamp.json",
            "public, max-age=42",
            "application/json",
        ),
        ("state/manifest.json", "no-store", "application/json"),
        (
            "se/rd/serde",
            "public, max-age=42",
            "text/plain; charset=utf-8",
        ),
    ] {
        let reply = reqwest::blocking::get(server.object_url(&bucket, &format!("repo/{key}")))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(reply.status(), 200, "{key}");
        let header = |name: &str| {
            reply
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header("cache-control").as_deref(),
            Some(cache_control),
            "{key}"
        );
        assert_eq!(
            header("content-type").as_deref(),
            Some(content_type),
            "{key}"
        );
    }
}

#[test]
fn copy_new_is_server_side_create_only_and_checked() {
    let server = S3Server::shared();
    let bucket = server.create_bucket("copy");
    let open = |prefix: &str| {
        ok(Store::open(
            &s3_url(&format!("s3://{bucket}/{prefix}")),
            &config(server, &bucket),
        ))
    };
    let (index, repo) = (open("index"), open("repo"));
    assert!(repo.same_store(&index));
    ok(index.put(
        "se/rd/serde",
        bytes("{\"vers\":\"1.0.0\"}\n"),
        ObjectKind::Index,
    ));
    let source_etag = ok(index.head("se/rd/serde"))
        .and_then(|m| m.etag)
        .unwrap_or_default();

    let before = repo.requests();
    let created = ok(repo.copy_new_checked(
        &index,
        "se/rd/serde",
        &source_etag,
        "targets/se/rd/h.serde",
        ObjectKind::Immutable,
    ));
    assert!(
        matches!(created, PutOutcome::Created { etag: Some(_) }),
        "{created:?}"
    );
    // Server-side: an UploadPartCopy, the multipart upload's create and complete, and
    // a HEAD for the new ETag; the body was neither read nor sent.
    assert_eq!(
        delta(before, repo.requests()),
        RequestCounts {
            copy: 1,
            other: 2,
            head: 1,
            ..RequestCounts::default()
        }
    );
    let copied = ok(repo.get("targets/se/rd/h.serde")).map(|o| o.bytes);
    assert_eq!(copied.as_deref(), Some(&b"{\"vers\":\"1.0.0\"}\n"[..]));

    // Create-only: the target is there, so nothing is copied over it.
    ok(index.put("se/rd/serde", bytes("changed\n"), ObjectKind::Index));
    let again = ok(repo.copy_new(
        &index,
        "se/rd/serde",
        "targets/se/rd/h.serde",
        ObjectKind::Immutable,
    ));
    assert_eq!(again, PutOutcome::Exists);
    let kept = ok(repo.get("targets/se/rd/h.serde")).map(|o| o.bytes);
    assert_eq!(kept.as_deref(), Some(&b"{\"vers\":\"1.0.0\"}\n"[..]));

    // The source changed after it was hashed: the copy holds other bytes, so it is
    // refused and removed.
    let (kind, message) = store_error(repo.copy_new_checked(
        &index,
        "se/rd/serde",
        &source_etag,
        "targets/se/rd/h2.serde",
        ObjectKind::Immutable,
    ));
    assert_eq!(kind, StoreErrorKind::CopyMismatch, "{message}");
    assert!(message.contains("targets/se/rd/h2.serde"), "{message}");
    assert_eq!(ok(repo.head("targets/se/rd/h2.serde")), None);

    let (kind, message) =
        store_error(repo.copy_new(&index, "no/such", "targets/x", ObjectKind::Immutable));
    assert_eq!(kind, StoreErrorKind::ObjectNotFound, "{message}");

    // Another bucket is not the same store: no server-side copy between them.
    let (_, other) = store("elsewhere");
    assert!(!other.same_store(&index));
    let (kind, _) = store_error(other.copy_new(&index, "se/rd/serde", "t", ObjectKind::Immutable));
    assert_eq!(kind, StoreErrorKind::Unsupported);
}

#[test]
fn requests_are_counted_exactly() {
    let (_, store) = store("count");
    assert_eq!(store.requests(), RequestCounts::default());
    ok(store.put("a", bytes("a"), ObjectKind::State));
    ok(store.put_new("b", bytes("b"), ObjectKind::Immutable));
    ok(store.put_new("b", bytes("b"), ObjectKind::Immutable));
    ok(store.put_if("c", bytes("c"), None, ObjectKind::Timestamp));
    ok(store.get("a"));
    ok(store.get("absent"));
    ok(store.get_many(&["a".to_owned(), "b".to_owned()]));
    ok(store.head("a"));
    ok(store.list(""));
    ok(store.delete("a"));
    ok(store.delete("absent"));
    assert_eq!(
        store.requests(),
        RequestCounts {
            put: 4,
            get: 4,
            // one asked for, one before each delete
            head: 3,
            list: 1,
            delete: 1,
            copy: 0,
            other: 0,
        }
    );
}

#[test]
fn a_missing_bucket_is_named_with_what_to_do() {
    let server = S3Server::shared();
    let url = s3_url("s3://no-such-bucket-tuf/repo");
    let store = ok(Store::open(&url, &config(server, "no-such-bucket-tuf")));
    for (op, result) in [
        ("get", store.get("metadata/timestamp.json").map(|_| ())),
        ("list", store.list("metadata").map(|_| ())),
        (
            "put",
            store
                .put_new("metadata/1.root.json", bytes("{}"), ObjectKind::Immutable)
                .map(|_| ()),
        ),
    ] {
        let (kind, message) = store_error(result);
        assert_eq!(kind, StoreErrorKind::BucketNotFound, "{op}: {message}");
        assert!(
            message.contains("s3://no-such-bucket-tuf/repo"),
            "{op}: {message}"
        );
        assert!(message.contains(&server.endpoint()), "{op}: {message}");
        assert!(message.contains("does not exist"), "{op}: {message}");
        assert!(
            !message.contains(server.secret_access_key()),
            "{op}: {message}"
        );
    }
}

#[test]
fn a_closed_port_is_unreachable_after_bounded_retries() {
    let server = S3Server::shared();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let endpoint = format!("http://127.0.0.1:{port}");
    let bucket = "tuf";
    let config = StoreConfig {
        s3_endpoint: Some(endpoint.clone()),
        options: server
            .object_store_options(bucket)
            .into_iter()
            .filter(|(k, _)| k != "aws_endpoint")
            .collect(),
        max_retries: 1,
        retry_timeout: Duration::from_secs(5),
        ..StoreConfig::default()
    };
    let store = ok(Store::open(&s3_url("s3://tuf/repo"), &config));
    let (kind, message) = store_error(store.get("metadata/timestamp.json"));
    assert_eq!(kind, StoreErrorKind::Unreachable, "{message}");
    assert!(message.contains("metadata/timestamp.json"), "{message}");
    assert!(message.contains(&endpoint), "{message}");
    assert!(message.contains("cannot reach"), "{message}");
    assert!(!message.contains(server.secret_access_key()), "{message}");
    // Two attempts, each counted.
    assert_eq!(store.requests().get, 2);
}

#[test]
fn a_wrong_secret_key_is_accepted_or_refused_as_unauthenticated() {
    // moto does not check signatures, so there a wrong secret works; a server that
    // checks them must be reported as Unauthenticated naming the store and key, with
    // no secret in the message (the mapping of S3's codes is unit-tested in the
    // library).
    let server = S3Server::shared();
    let bucket = server.create_bucket("auth");
    let config = StoreConfig {
        options: server
            .object_store_options(&bucket)
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "aws_secret_access_key" => (k, "wrong-secret-1234".to_owned()),
                _ => (k, v),
            })
            .collect(),
        ..config(server, &bucket)
    };
    let store = ok(Store::open(&s3_url(&format!("s3://{bucket}")), &config));
    match store.get("metadata/timestamp.json") {
        Ok(found) => assert_eq!(found, None),
        Err(error) => {
            let message = error.to_string();
            assert_eq!(error.code(), "store-unauthenticated", "{message}");
            assert!(message.contains("metadata/timestamp.json"), "{message}");
            assert!(message.contains("AWS_SECRET_ACCESS_KEY"), "{message}");
            assert!(!message.contains("wrong-secret-1234"), "{message}");
        }
    }
}

#[test]
fn unknown_options_are_refused_at_open() {
    let server = S3Server::shared();
    let config = StoreConfig {
        options: vec![("aws_no_such_option".to_owned(), "secret-value".to_owned())],
        ..config(server, "tuf")
    };
    let (kind, message) = store_error(Store::open(&s3_url("s3://tuf"), &config));
    assert_eq!(kind, StoreErrorKind::BadConfig, "{message}");
    assert!(message.contains("aws_no_such_option"), "{message}");
    assert!(!message.contains("secret-value"), "{message}");
}

fn delta(before: RequestCounts, after: RequestCounts) -> RequestCounts {
    RequestCounts {
        get: after.get - before.get,
        head: after.head - before.head,
        list: after.list - before.list,
        put: after.put - before.put,
        copy: after.copy - before.copy,
        delete: after.delete - before.delete,
        other: after.other - before.other,
    }
}
