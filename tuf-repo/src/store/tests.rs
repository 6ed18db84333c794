//! Unit tests of the store: every accepted and refused location form, the per-store
//! rules (copy ETags, content types), and every operation on `file://`. S3 behaviour is
//! tested against the real server in `tests/store_s3.rs`.

use super::*;

fn url(given: &str) -> StoreUrl {
    match Location::parse(given) {
        Ok(Location::Url(url)) => url,
        other => panic!("{given}: {other:?}"),
    }
}

fn refused(given: &str) -> String {
    match Location::parse(given) {
        Err(Error::BadLocation {
            given: named,
            reason,
        }) => {
            assert_eq!(named, given);
            reason
        }
        other => panic!("{given} was not refused: {other:?}"),
    }
}

#[test]
fn object_store_urls_are_parsed_with_bucket_and_prefix() {
    for (given, scheme, bucket, prefix, shown) in [
        ("s3://bucket", Scheme::S3, "bucket", "", "s3://bucket"),
        ("s3://bucket/", Scheme::S3, "bucket", "", "s3://bucket"),
        (
            "s3://my.bucket-1/tuf/repo/",
            Scheme::S3,
            "my.bucket-1",
            "tuf/repo",
            "s3://my.bucket-1/tuf/repo",
        ),
        ("S3://bucket/p", Scheme::S3, "bucket", "p", "s3://bucket/p"),
        (
            "s3a://bucket/p",
            Scheme::S3,
            "bucket",
            "p",
            "s3a://bucket/p",
        ),
        (
            "gs://bucket_1/p",
            Scheme::Gcs,
            "bucket_1",
            "p",
            "gs://bucket_1/p",
        ),
        (
            "az://container/p/q",
            Scheme::Azure,
            "container",
            "p/q",
            "az://container/p/q",
        ),
        (
            "azure://container",
            Scheme::Azure,
            "container",
            "",
            "azure://container",
        ),
        (
            "adl://container/p",
            Scheme::Azure,
            "container",
            "p",
            "adl://container/p",
        ),
        (
            "abfs://container/p",
            Scheme::Azure,
            "container",
            "p",
            "abfs://container/p",
        ),
        (
            "abfss://container@account.dfs.core.windows.net/p",
            Scheme::Azure,
            "container",
            "p",
            "abfss://container@account.dfs.core.windows.net/p",
        ),
    ] {
        let parsed = url(given);
        assert_eq!(
            (parsed.scheme(), parsed.bucket(), parsed.prefix()),
            (scheme, bucket, prefix),
            "{given}"
        );
        assert_eq!(parsed.to_string(), shown, "{given}");
    }
}

#[test]
fn paths_and_file_urls_are_local() {
    for (given, path) in [
        ("repo", "repo"),
        ("./repo", "./repo"),
        ("/srv/tuf/repo", "/srv/tuf/repo"),
        ("file:///srv/tuf/repo", "/srv/tuf/repo"),
        ("FILE:///srv/tuf", "/srv/tuf"),
    ] {
        assert_eq!(
            Location::parse(given).ok(),
            Some(Location::Local(PathBuf::from(path))),
            "{given}"
        );
    }
    let file = StoreUrl::parse("file:///srv/tuf/repo").ok();
    assert_eq!(file.as_ref().map(StoreUrl::scheme), Some(Scheme::File));
    assert_eq!(
        file.map(|u| u.to_string()).as_deref(),
        Some("file:///srv/tuf/repo")
    );
}

#[test]
fn bad_locations_are_refused_with_a_reason() {
    for (given, reason) in [
        ("", "empty"),
        ("file://relative/dir", "absolute path"),
        ("file://host/srv/tuf", "absolute path"),
        ("file:///srv/t%20uf", "percent-encoded"),
        ("file:///srv/tuf?x=1", "query"),
        ("s3://", "no bucket"),
        ("s3:///prefix", "no bucket"),
        ("gs://", "no bucket"),
        ("az:///p", "no bucket"),
        ("ftp://bucket/p", "unknown scheme"),
        ("hdfs://bucket/p", "unknown scheme"),
        ("https://s3.amazonaws.com/bucket", "--s3-endpoint"),
        ("http://127.0.0.1:9000/bucket", "--s3-endpoint"),
        ("s3://bucket/p?endpoint=http://x", "query"),
        ("s3://bucket/p#frag", "query"),
        ("s3://AKIAEXAMPLE:secret@bucket/p", "credentials"),
        ("s3://user@bucket/p", "credentials"),
        ("gs://key@bucket/p", "credentials"),
        ("az://account:key@container/p", "credentials"),
        (
            "abfss://container:key@account.dfs.core.windows.net/p",
            "credentials",
        ),
        ("abfss://container@evil.example/p", "credentials"),
        ("s3://bucket:9000/p", "port"),
        ("s3://Bucket/p", "lowercase"),
        ("s3://bucket/a//b", "segment"),
        ("s3://bucket/a/../b", "segment"),
        ("s3://bucket/./b", "segment"),
        ("s3://bucket/a\\b", "'\\'"),
    ] {
        let why = refused(given);
        assert!(why.contains(reason), "{given}: {why:?} lacks {reason:?}");
    }
}

#[test]
fn a_refused_url_never_echoes_more_than_was_given() {
    // The error names what was given (the operator typed it), and nothing is
    // contacted: a secret in a refused URL goes no further than the message.
    let error = Location::parse("s3://AKIA:topsecret@bucket/p").err();
    assert_eq!(error.map(|e| e.code()), Some("bad-location"));
}

#[test]
fn multipart_copy_etags_are_checked_against_the_source_md5() {
    // The ETag of a single-part object is its MD5; a one-part multipart copy's ETag is
    // md5(that MD5)-1.
    let source = "\"5d41402abc4b2a76b9719d911017c592\""; // md5("hello")
    let part = hex::decode("5d41402abc4b2a76b9719d911017c592").unwrap_or_default();
    use md5::Digest;
    let copy = format!("\"{}-1\"", hex::encode(md5::Md5::digest(&part)));
    assert!(copy_etag_matches(source, &copy, true));
    assert!(!copy_etag_matches(source, source, true));
    assert!(!copy_etag_matches(
        "\"0000000000000000000000000000000a\"",
        &copy,
        true
    ));
    // A multipart source (ETag "…-N") cannot be checked: refused, not guessed.
    assert!(!copy_etag_matches(
        "\"5d41402abc4b2a76b9719d911017c592-2\"",
        &copy,
        true
    ));
    // CopyObject keeps the ETag.
    assert!(copy_etag_matches(source, source, false));
    assert!(!copy_etag_matches(source, &copy, false));
}

#[test]
fn content_types_follow_the_key() {
    assert_eq!(content_type("metadata/3.snapshot.json"), "application/json");
    assert_eq!(
        content_type("targets/se/rd/abc.serde"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(content_type("targets/abc.config.json"), "application/json");
}

#[test]
fn the_config_debug_shows_option_keys_not_values() {
    let config = StoreConfig {
        options: vec![("aws_secret_access_key".to_owned(), "topsecret".to_owned())],
        ..StoreConfig::default()
    };
    let shown = format!("{config:?}");
    assert!(shown.contains("aws_secret_access_key"), "{shown}");
    assert!(!shown.contains("topsecret"), "{shown}");
}

// --- file:// ---------------------------------------------------------------------

struct Local {
    _dir: tempfile::TempDir,
    root: PathBuf,
    store: Store,
}

fn local() -> Local {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let root = dir.path().join("repo");
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let store = open_dir(&root);
    Local {
        _dir: dir,
        root,
        store,
    }
}

fn open_dir(dir: &FsPath) -> Store {
    let given = format!("file://{}", dir.display());
    let url = StoreUrl::parse(&given).unwrap_or_else(|e| panic!("{given}: {e}"));
    Store::open(&url, &StoreConfig::default()).unwrap_or_else(|e| panic!("open {given}: {e}"))
}

fn ok<T>(result: Result<T, Error>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn file_get_put_head_list_delete() {
    let Local { root, store, .. } = local();
    assert_eq!(ok(store.get("metadata/timestamp.json")), None);
    assert_eq!(ok(store.head("metadata/timestamp.json")), None);
    ok(store.put(
        "metadata/timestamp.json",
        Bytes::from_static(b"{}"),
        ObjectKind::Timestamp,
    ));
    ok(store.put(
        "metadata/1.root.json",
        Bytes::from_static(b"[1]"),
        ObjectKind::Immutable,
    ));
    ok(store.put("metadata2/x", Bytes::from_static(b"x"), ObjectKind::State));
    assert_eq!(
        std::fs::read(root.join("metadata/timestamp.json")).ok(),
        Some(b"{}".to_vec())
    );

    let object = ok(store.get("metadata/timestamp.json")).unwrap_or_else(|| panic!("absent"));
    assert_eq!((object.bytes.as_ref(), object.size), (&b"{}"[..], 2));
    let meta = ok(store.head("metadata/timestamp.json")).unwrap_or_else(|| panic!("absent"));
    assert_eq!(
        (meta.key.as_str(), meta.size),
        ("metadata/timestamp.json", 2)
    );
    assert_eq!(meta.etag, object.etag);

    let mut listed: Vec<String> = ok(store.list("metadata"))
        .into_iter()
        .map(|m| m.key)
        .collect();
    listed.sort();
    assert_eq!(listed, ["metadata/1.root.json", "metadata/timestamp.json"]);
    assert_eq!(ok(store.list("")).len(), 3);
    assert_eq!(ok(store.list("nothing")), []);

    let many = ok(store.get_many(&[
        "metadata/1.root.json".to_owned(),
        "absent".to_owned(),
        "metadata2/x".to_owned(),
    ]));
    let bodies: Vec<Option<&[u8]>> = many
        .iter()
        .map(|o| o.as_ref().map(|o| o.bytes.as_ref()))
        .collect();
    assert_eq!(bodies, [Some(&b"[1]"[..]), None, Some(&b"x"[..])]);

    assert!(ok(store.delete("metadata2/x")));
    assert!(!ok(store.delete("metadata2/x")));
    assert_eq!(
        ok(store.delete_many(vec!["metadata/1.root.json".to_owned(), "gone".to_owned()])),
        1
    );
    assert_eq!(ok(store.list("")).len(), 1);
}

#[test]
fn file_put_new_never_overwrites() {
    let Local { store, .. } = local();
    let first = ok(store.put_new(
        "metadata/2.snapshot.json",
        Bytes::from_static(b"one"),
        ObjectKind::Immutable,
    ));
    assert!(
        matches!(first, PutOutcome::Created { etag: Some(_) }),
        "{first:?}"
    );
    let second = ok(store.put_new(
        "metadata/2.snapshot.json",
        Bytes::from_static(b"two"),
        ObjectKind::Immutable,
    ));
    assert_eq!(second, PutOutcome::Exists);
    let kept = ok(store.get("metadata/2.snapshot.json")).map(|o| o.bytes);
    assert_eq!(kept.as_deref(), Some(&b"one"[..]));

    let outcomes = ok(store.put_new_many(vec![
        (
            "a".to_owned(),
            Bytes::from_static(b"a"),
            ObjectKind::Immutable,
        ),
        (
            "metadata/2.snapshot.json".to_owned(),
            Bytes::from_static(b"x"),
            ObjectKind::Immutable,
        ),
        (
            "b/c".to_owned(),
            Bytes::from_static(b"c"),
            ObjectKind::Immutable,
        ),
    ]));
    assert!(matches!(outcomes[0], PutOutcome::Created { .. }));
    assert_eq!(outcomes[1], PutOutcome::Exists);
    assert!(matches!(outcomes[2], PutOutcome::Created { .. }));
}

#[test]
fn file_put_if_is_refused_with_the_way_out() {
    let Local { store, .. } = local();
    let error = store
        .put_if(
            "metadata/timestamp.json",
            Bytes::from_static(b"{}"),
            None,
            ObjectKind::Timestamp,
        )
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(error.code(), "store-unsupported");
    let message = error.to_string();
    assert!(message.contains("local path"), "{message}");
    assert!(message.contains("metadata/timestamp.json"), "{message}");
    assert_eq!(
        ok(store.get("metadata/timestamp.json")),
        None,
        "nothing was written"
    );
}

#[test]
fn file_copy_new_is_create_only_and_checked() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let (index_dir, repo_dir) = (dir.path().join("index"), dir.path().join("repo"));
    for d in [&index_dir, &repo_dir] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("mkdir: {e}"));
    }
    let (index, repo) = (open_dir(&index_dir), open_dir(&repo_dir));
    assert!(repo.same_store(&index));
    ok(index.put(
        "se/rd/serde",
        Bytes::from_static(b"line\n"),
        ObjectKind::Index,
    ));
    let source_etag = ok(index.head("se/rd/serde"))
        .and_then(|m| m.etag)
        .unwrap_or_default();

    let created = ok(repo.copy_new_checked(
        &index,
        "se/rd/serde",
        &source_etag,
        "targets/se/rd/h.serde",
        ObjectKind::Immutable,
    ));
    assert!(matches!(created, PutOutcome::Created { .. }), "{created:?}");
    assert_eq!(
        std::fs::read(repo_dir.join("targets/se/rd/h.serde")).ok(),
        Some(b"line\n".to_vec())
    );
    let again = ok(repo.copy_new(
        &index,
        "se/rd/serde",
        "targets/se/rd/h.serde",
        ObjectKind::Immutable,
    ));
    assert_eq!(again, PutOutcome::Exists);
    assert_eq!(repo.requests().copy, 2);

    // A source that changed after it was hashed: the copy is refused and removed.
    ok(index.put(
        "se/rd/serde",
        Bytes::from_static(b"other\n"),
        ObjectKind::Index,
    ));
    let error = repo
        .copy_new_checked(
            &index,
            "se/rd/serde",
            &source_etag,
            "targets/se/rd/h2.serde",
            ObjectKind::Immutable,
        )
        .err()
        .unwrap_or_else(|| panic!("a changed source was copied"));
    assert_eq!(error.code(), "store-copy-mismatch");
    assert_eq!(
        ok(repo.head("targets/se/rd/h2.serde")),
        None,
        "the bad copy was kept"
    );

    let missing = repo
        .copy_new(&index, "no/such", "targets/x", ObjectKind::Immutable)
        .err()
        .map(|e| e.code());
    assert_eq!(missing, Some("store-object-not-found"));
}

#[test]
fn file_store_counts_operations_exactly() {
    let Local { store, .. } = local();
    ok(store.put("a", Bytes::from_static(b"a"), ObjectKind::State));
    ok(store.put_new("b", Bytes::from_static(b"b"), ObjectKind::Immutable));
    ok(store.get("a"));
    ok(store.get_many(&["a".to_owned(), "b".to_owned()]));
    ok(store.head("a"));
    ok(store.list(""));
    ok(store.delete("a"));
    assert_eq!(
        store.requests(),
        RequestCounts {
            get: 3,
            // one asked for, one before the delete
            head: 2,
            list: 1,
            put: 2,
            copy: 0,
            delete: 1,
            other: 0
        }
    );
}

#[test]
fn reads_over_the_cap_are_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let url = ok(StoreUrl::parse(&format!("file://{}", dir.path().display())));
    let config = StoreConfig {
        max_object_bytes: 4,
        ..StoreConfig::default()
    };
    let store = ok(Store::open(&url, &config));
    ok(store.put("small", Bytes::from_static(b"1234"), ObjectKind::State));
    ok(store.put("large", Bytes::from_static(b"12345"), ObjectKind::State));
    assert!(ok(store.get("small")).is_some());
    let error = store.get("large").err().map(|e| e.code());
    assert_eq!(error, Some("store-too-large"));
}

#[test]
fn bad_keys_are_refused_before_any_request() {
    let Local { store, .. } = local();
    for key in ["", "/abs", "a//b", "a/../b", "./a", "a/"] {
        let error = store.get(key).err().map(|e| e.code());
        assert_eq!(error, Some("store-bad-key"), "{key:?}");
    }
    assert_eq!(store.requests().total(), 0);
}

#[test]
fn a_missing_directory_is_a_missing_bucket() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let url = ok(StoreUrl::parse(&format!(
        "file://{}/absent",
        dir.path().display()
    )));
    let error = Store::open(&url, &StoreConfig::default()).err();
    assert_eq!(error.map(|e| e.code()), Some("store-bucket-not-found"));
}

#[test]
fn the_store_refuses_to_block_inside_an_async_runtime() {
    let Local { store, .. } = local();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let code = runtime.block_on(async { store.get("a").err().map(|e| e.code()) });
    assert_eq!(code, Some("store-unsupported"));
}

#[test]
fn s3_error_codes_map_to_what_the_operator_must_do() {
    // What object_store reports for S3's answers (the variants are its public API;
    // the bodies are S3's error codes): a 403 is a credential problem or a missing
    // permission depending on the code, and a 404 naming the bucket is a missing bucket.
    let boxed = |text: &str| -> Box<dyn std::error::Error + Send + Sync> { text.to_owned().into() };
    let cases = [
        (
            object_store::Error::PermissionDenied {
                path: "k".to_owned(),
                source: boxed("<Code>SignatureDoesNotMatch</Code>"),
            },
            StoreErrorKind::Unauthenticated,
        ),
        (
            object_store::Error::PermissionDenied {
                path: "k".to_owned(),
                source: boxed("<Code>InvalidAccessKeyId</Code>"),
            },
            StoreErrorKind::Unauthenticated,
        ),
        (
            object_store::Error::PermissionDenied {
                path: "k".to_owned(),
                source: boxed("<Code>AccessDenied</Code>"),
            },
            StoreErrorKind::PermissionDenied,
        ),
        (
            object_store::Error::Unauthenticated {
                path: "k".to_owned(),
                source: boxed("401"),
            },
            StoreErrorKind::Unauthenticated,
        ),
        (
            object_store::Error::NotFound {
                path: "k".to_owned(),
                source: boxed("<Code>NoSuchBucket</Code>"),
            },
            StoreErrorKind::BucketNotFound,
        ),
        (
            object_store::Error::NotSupported {
                source: boxed("S3 does not support copy-if-not-exists"),
            },
            StoreErrorKind::Unsupported,
        ),
    ];
    for (error, kind) in cases {
        let shown = error.to_string();
        assert_eq!(classify(&error, Missing::Object), kind, "{shown}");
    }
    // A 404 of a copy's source that does not name the bucket is the object.
    let source_missing = object_store::Error::NotFound {
        path: "k".to_owned(),
        source: boxed("<Code>NoSuchKey</Code>"),
    };
    assert_eq!(
        classify(&source_missing, Missing::Object),
        StoreErrorKind::ObjectNotFound
    );

    let message = Error::Store {
        url: "s3://b/p".to_owned(),
        key: Some("metadata/timestamp.json".to_owned()),
        op: "get",
        kind: StoreErrorKind::Unauthenticated,
        source: None,
    }
    .to_string();
    assert_eq!(
        message,
        "get s3://b/p key metadata/timestamp.json: no credentials, or the store refused them: \
         set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary \
         credentials), or use an instance role"
    );
}
