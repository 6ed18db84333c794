//! The S3 server the publisher on object storage is tested against (issue #12) does what
//! the publisher relies on, checked through `object_store`, the crate the publisher
//! uses: conditional PUTs refused with 412, atomic under concurrency (the publisher's
//! safety with several publishers at once rests on it), copy, listing, head, get,
//! delete, `Cache-Control`/`Content-Type` kept, and objects served to an anonymous HTTP
//! client as a TUF client reads them. And the server does not outlive its test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, Error, ObjectStore, PutMode, PutOptions, PutPayload, UpdateVersion,
};
use tokio::sync::Barrier;
use tuf_test_support::s3::S3Server;

/// Concurrent writers of one key in the atomicity tests.
const CONTENDERS: usize = 32;
/// Rounds of each atomicity test. Against moto without serve.py's lock, 3 of 6 runs
/// of the pair failed (2 to 3% of create rounds had two winners, 1% of update rounds):
/// a racing server fails here often, not always; one that passes is atomic by
/// construction (see `test-support/s3/serve.py`), not by this test.
const ROUNDS: usize = 20;
/// Size of each contender's body: a large body widens the window between a server's
/// check of the condition and its store of the object (it hashes and copies the body in
/// between), so a server that does not make the two one step fails these tests.
const CONTENDER_BODY: usize = 1 << 20;

/// A contender's body: its name, then padding to [`CONTENDER_BODY`] bytes.
fn contender_body(contender: usize) -> PutPayload {
    let mut body = format!("contender {contender}\n").into_bytes();
    body.resize(CONTENDER_BODY, b'.');
    body.into()
}

/// Which contender's body `path` holds.
async fn stored_contender(store: &dyn ObjectStore, path: &Path) -> String {
    let text = get_text(store, path).await;
    text.lines().next().unwrap_or_default().to_owned()
}

/// An `object_store` client for `bucket`, configured only by the harness's options.
fn store(server: &S3Server, bucket: &str) -> Arc<dyn ObjectStore> {
    let mut builder = AmazonS3Builder::new();
    for (key, value) in server.object_store_options(bucket) {
        let key: AmazonS3ConfigKey = key.parse().unwrap();
        builder = builder.with_config(key, value);
    }
    Arc::new(builder.build().unwrap())
}

/// A fresh bucket on the binary's shared server, and a client for it.
fn bucket(prefix: &str) -> (&'static S3Server, String, Arc<dyn ObjectStore>) {
    let server = S3Server::shared();
    let bucket = server.create_bucket(prefix);
    let store = store(server, &bucket);
    (server, bucket, store)
}

async fn get_text(store: &dyn ObjectStore, path: &Path) -> String {
    let bytes = store.get(path).await.unwrap().bytes().await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn update(e_tag: Option<String>) -> PutOptions {
    PutMode::Update(UpdateVersion {
        e_tag,
        version: None,
    })
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_fails_with_already_exists_once_the_key_exists() {
    let (_server, _bucket, store) = bucket("create");
    let path = Path::from("metadata/timestamp.json");
    store
        .put_opts(&path, "first".into(), PutMode::Create.into())
        .await
        .unwrap();
    let second = store
        .put_opts(&path, "second".into(), PutMode::Create.into())
        .await;
    // object_store turns the server's 412 into AlreadyExists, keeping the 412 as source.
    match second {
        Err(Error::AlreadyExists { source, .. }) => assert!(
            matches!(
                source.downcast_ref::<Error>(),
                Some(Error::Precondition { .. })
            ),
            "not a 412: {source:?}"
        ),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(get_text(store.as_ref(), &path).await, "first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_succeeds_only_from_the_current_etag() {
    let (_server, _bucket, store) = bucket("update");
    let path = Path::from("metadata/snapshot.json");
    let first = store.put(&path, "v1".into()).await.unwrap();
    let second = store
        .put_opts(&path, "v2".into(), update(first.e_tag.clone()))
        .await
        .unwrap();
    assert_ne!(first.e_tag, second.e_tag);

    // The first ETag is stale now: refused, and the object is unchanged.
    let stale = store
        .put_opts(&path, "v3".into(), update(first.e_tag.clone()))
        .await;
    assert!(
        matches!(stale, Err(Error::Precondition { .. })),
        "expected Precondition, got {stale:?}"
    );
    assert_eq!(get_text(store.as_ref(), &path).await, "v2");

    // Update of a key that does not exist: refused too (S3 says 404; object_store maps
    // it to Precondition), and nothing is created.
    let missing = Path::from("metadata/missing.json");
    let absent = store
        .put_opts(&missing, "v1".into(), update(first.e_tag))
        .await;
    assert!(
        matches!(absent, Err(Error::Precondition { .. })),
        "expected Precondition, got {absent:?}"
    );
    assert!(matches!(
        store.head(&missing).await,
        Err(Error::NotFound { .. })
    ));
}

/// The exact status codes on the wire, without object_store's mapping: what a publisher
/// on real S3 gets for a lost race.
#[test]
fn conditional_puts_that_do_not_hold_are_refused_with_412() {
    let server = S3Server::shared();
    let bucket = server.create_bucket("status");
    let url = server.object_url(&bucket, "metadata/root.json");
    // moto does not verify signatures, only that a request carries one (an unsigned PUT
    // is anonymous, and the bucket lets anonymous clients only GET): this header stands
    // in for a signature here.
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/20260101/{}/s3/aws4_request, \
         SignedHeaders=host, Signature=00",
        server.access_key_id(),
        server.region()
    );
    let client = reqwest::blocking::Client::new();
    let put = |headers: &[(&str, &str)], body: &'static str| {
        let mut request = client
            .put(&url)
            .header("Authorization", &authorization)
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().unwrap()
    };
    let created = put(&[("If-None-Match", "*")], "one");
    assert_eq!(created.status(), 200);
    let e_tag = created.headers()["etag"].to_str().unwrap().to_owned();

    assert_eq!(put(&[("If-None-Match", "*")], "two").status(), 412);
    assert_eq!(put(&[("If-Match", "\"0123abcd\"")], "two").status(), 412);
    assert_eq!(client.get(&url).send().unwrap().text().unwrap(), "one");

    assert_eq!(put(&[("If-Match", &e_tag)], "two").status(), 200);
    assert_eq!(put(&[("If-Match", &e_tag)], "three").status(), 412);
    assert_eq!(client.get(&url).send().unwrap().text().unwrap(), "two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_key_have_exactly_one_winner() {
    let (_server, _bucket, store) = bucket("race-create");
    for round in 0..ROUNDS {
        let path = Path::from(format!("race/create-{round}"));
        let barrier = Arc::new(Barrier::new(CONTENDERS));
        let mut tasks = Vec::new();
        for contender in 0..CONTENDERS {
            let (store, path, barrier) = (store.clone(), path.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let body = contender_body(contender);
                store.put_opts(&path, body, PutMode::Create.into()).await
            }));
        }
        let mut winners = Vec::new();
        for (contender, task) in tasks.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(_) => winners.push(contender),
                Err(Error::AlreadyExists { .. }) => {}
                Err(e) => panic!("round {round}, contender {contender}: {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        assert_eq!(
            stored_contender(store.as_ref(), &path).await,
            format!("contender {}", winners[0]),
            "round {round}: the stored object is not the winner's"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_from_one_etag_have_exactly_one_winner() {
    let (_server, _bucket, store) = bucket("race-update");
    for round in 0..ROUNDS {
        let path = Path::from(format!("race/update-{round}"));
        let base = store.put(&path, "base".into()).await.unwrap();
        let barrier = Arc::new(Barrier::new(CONTENDERS));
        let mut tasks = Vec::new();
        for contender in 0..CONTENDERS {
            let (store, path, barrier) = (store.clone(), path.clone(), barrier.clone());
            let e_tag = base.e_tag.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let body = contender_body(contender);
                store.put_opts(&path, body, update(e_tag)).await
            }));
        }
        let mut winners = Vec::new();
        for (contender, task) in tasks.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(_) => winners.push(contender),
                Err(Error::Precondition { .. }) => {}
                Err(e) => panic!("round {round}, contender {contender}: {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        assert_eq!(
            stored_contender(store.as_ref(), &path).await,
            format!("contender {}", winners[0]),
            "round {round}: the stored object is not the winner's"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_list_head_get_and_delete() {
    let (_server, _bucket, store) = bucket("ops");
    for (path, body) in [
        ("a/1", "one"),
        ("a/2", "two"),
        ("a/sub/3", "three"),
        ("b/1", "b"),
    ] {
        store.put(&Path::from(path), body.into()).await.unwrap();
    }

    let listed = store
        .list_with_delimiter(Some(&Path::from("a")))
        .await
        .unwrap();
    let objects: Vec<String> = listed
        .objects
        .iter()
        .map(|o| o.location.to_string())
        .collect();
    assert_eq!(objects, ["a/1", "a/2"]);
    let prefixes: Vec<String> = listed
        .common_prefixes
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(prefixes, ["a/sub"]);

    let head = store.head(&Path::from("a/2")).await.unwrap();
    assert_eq!(head.size, 3);
    assert!(head.e_tag.is_some());

    store
        .copy(&Path::from("a/1"), &Path::from("c/1"))
        .await
        .unwrap();
    assert_eq!(get_text(store.as_ref(), &Path::from("c/1")).await, "one");
    // A plain copy overwrites.
    store
        .copy(&Path::from("a/2"), &Path::from("c/1"))
        .await
        .unwrap();
    assert_eq!(get_text(store.as_ref(), &Path::from("c/1")).await, "two");

    // copy_if_not_exists (multipart copy completed with If-None-Match: *).
    let refused = store
        .copy_if_not_exists(&Path::from("a/1"), &Path::from("c/1"))
        .await;
    assert!(
        matches!(refused, Err(Error::AlreadyExists { .. })),
        "expected AlreadyExists, got {refused:?}"
    );
    assert_eq!(get_text(store.as_ref(), &Path::from("c/1")).await, "two");
    store
        .copy_if_not_exists(&Path::from("a/1"), &Path::from("c/2"))
        .await
        .unwrap();
    assert_eq!(get_text(store.as_ref(), &Path::from("c/2")).await, "one");

    store.delete(&Path::from("a/1")).await.unwrap();
    assert!(matches!(
        store.head(&Path::from("a/1")).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.get(&Path::from("a/1")).await,
        Err(Error::NotFound { .. })
    ));
    let listed = store
        .list_with_delimiter(Some(&Path::from("a")))
        .await
        .unwrap();
    assert_eq!(listed.objects.len(), 1);
}

/// More objects than one LIST page (1000): the publisher lists whole repositories.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_through_more_than_a_thousand_objects() {
    let (_server, _bucket, store) = bucket("pages");
    const OBJECTS: usize = 1100;
    put_many(&store, "many", OBJECTS, 16, 8).await;
    store.put(&Path::from("other/x"), "x".into()).await.unwrap();
    let listed = store
        .list_with_delimiter(Some(&Path::from("many")))
        .await
        .unwrap();
    assert_eq!(listed.objects.len(), OBJECTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_control_and_content_type_are_stored_and_returned() {
    let (_server, _bucket, store) = bucket("attrs");
    let path = Path::from("metadata/1.root.json");
    store
        .put_opts(&path, "{}".into(), json_attributes("max-age=60").into())
        .await
        .unwrap();
    let got = store.get(&path).await.unwrap();
    assert_eq!(
        got.attributes
            .get(&Attribute::CacheControl)
            .map(|v| v.as_ref()),
        Some("max-age=60")
    );
    assert_eq!(
        got.attributes
            .get(&Attribute::ContentType)
            .map(|v| v.as_ref()),
        Some("application/json")
    );
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"{}");
}

/// A TUF client updates from the bucket over plain HTTP, without credentials.
#[test]
fn an_anonymous_http_client_reads_objects_with_their_headers() {
    let server = S3Server::shared();
    let bucket = server.create_bucket("anon");
    let store = store(server, &bucket);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        store
            .put_opts(
                &Path::from("metadata/timestamp.json"),
                "{\"signed\":{}}".into(),
                json_attributes("no-cache").into(),
            )
            .await
            .unwrap();
    });

    let reply =
        reqwest::blocking::get(server.object_url(&bucket, "metadata/timestamp.json")).unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "application/json");
    assert_eq!(reply.headers()["cache-control"], "no-cache");
    assert_eq!(reply.text().unwrap(), "{\"signed\":{}}");

    let missing = reqwest::blocking::get(server.object_url(&bucket, "metadata/2.root.json"));
    assert_eq!(missing.unwrap().status(), 404);

    // Reads only: an anonymous client cannot overwrite what the publisher wrote.
    let overwrite = reqwest::blocking::Client::new()
        .put(server.object_url(&bucket, "metadata/timestamp.json"))
        .body("forged")
        .send()
        .unwrap();
    assert_eq!(overwrite.status(), 403);
    let reply =
        reqwest::blocking::get(server.object_url(&bucket, "metadata/timestamp.json")).unwrap();
    assert_eq!(reply.text().unwrap(), "{\"signed\":{}}");
}

#[test]
fn buckets_of_one_server_are_distinct() {
    let server = S3Server::shared();
    let first = server.create_bucket("same");
    let second = server.create_bucket("same");
    assert_ne!(first, second);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let path = Path::from("k");
        store(server, &first).put(&path, "x".into()).await.unwrap();
        assert!(matches!(
            store(server, &second).head(&path).await,
            Err(Error::NotFound { .. })
        ));
    });
}

#[test]
fn the_server_is_gone_after_drop() {
    let server = S3Server::start();
    let (pid, port) = (server.pid(), server.port());
    eprintln!("S3 server started in {:?}", server.started_in());
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(server);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "server process {pid} still there"
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn the_server_is_gone_after_its_test_panics() {
    let pid = AtomicUsize::new(0);
    let outcome = std::panic::catch_unwind(|| {
        let server = S3Server::start();
        pid.store(server.pid() as usize, Ordering::SeqCst);
        panic!("the test fails while its server runs");
    });
    assert!(outcome.is_err());
    let pid = pid.load(Ordering::SeqCst);
    assert_ne!(pid, 0);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "server process {pid} outlived the panic"
    );
}

/// PUT rate of 1 KiB objects with 16 requests in flight, for planning (the benchmark
/// writes ~200k objects). Not a check: run with `--ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check"]
async fn put_rate_of_small_objects() {
    let (server, _bucket, store) = bucket("rate");
    let started = Instant::now();
    put_many(&store, "rate", 3000, 16, 1024).await;
    let elapsed = started.elapsed();
    eprintln!(
        "3000 PUTs of 1 KiB, 16 in flight: {:.2} s, {:.0} PUT/s (server started in {:?})",
        elapsed.as_secs_f64(),
        3000.0 / elapsed.as_secs_f64(),
        server.started_in()
    );
}

/// PUT `count` objects `{prefix}/{i}` of `size` bytes, `in_flight` at a time.
async fn put_many(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
    count: usize,
    in_flight: usize,
    size: usize,
) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..in_flight {
        let (store, next, prefix) = (store.clone(), next.clone(), prefix.to_owned());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let path = Path::from(format!("{prefix}/{i:06}"));
                store.put(&path, vec![b'x'; size].into()).await.unwrap();
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
}

fn json_attributes(cache_control: &'static str) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::CacheControl, cache_control.into());
    attributes.insert(Attribute::ContentType, "application/json".into());
    attributes
}
