//! The proxy's cold path (issue #14): an index file that is neither cached nor in memory
//! is fetched from upstream at the same time as the hashed bin that lists it, not after
//! it, and is still served (and cached) only after it matched its signed entry. A real
//! `cargo tuf proxy` process against the 127.0.0.1 test server, whose request log shows
//! the two requests overlap.

// A test fails loudly; helpers outside #[test] fns too (a broken test setup).
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::*;
use tuf_core::metadata::{SuccinctRoles, Threshold};
use tuf_test_support::http::Reply;

/// What the server waits before every answer: long enough that two requests made one
/// after the other could not be in flight together.
const DELAY: Duration = Duration::from_millis(200);

/// Crates of the test registry: spread over several of the 16 bins.
const CRATES: [(&str, &str); 6] = [
    ("alpha", "0.1.0"),
    ("beta", "1.2.0"),
    ("gamma", "0.3.0"),
    ("delta", "2.0.0"),
    ("epsilon", "0.5.0"),
    ("zeta", "1.0.0"),
];

/// The bin of target `path` in the test registry's layout.
fn bin_of(path: &str) -> String {
    SuccinctRoles::new(vec![], Threshold::new(1).unwrap(), BIT_LENGTH, "crates-bin").role_for(path)
}

/// A registry of [`CRATES`], a pinned user, and a proxy whose metadata is loaded (it
/// served `config.json`), with the server's counts reset and its delay on.
fn warm_metadata(work: &std::path::Path) -> (Registry, User, ProxyProcess) {
    let (registry, _) = published_registry(work, &CRATES);
    let user = User::new(&registry, &[]);
    user.init(&registry);
    let proxy = ProxyProcess::start(&user);
    let (status, body) = proxy.get("config.json");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    registry.server.reset_counts();
    registry.server.set_delay(DELAY);
    (registry, user, proxy)
}

/// A crate of [`CRATES`] whose bin is not `config.json`'s (so not loaded yet).
fn crate_in_a_cold_bin() -> &'static str {
    let config_bin = bin_of("config.json");
    CRATES
        .iter()
        .map(|(name, _)| *name)
        .find(|name| bin_of(&sparse_path(name)) != config_bin)
        .unwrap()
}

/// The proxy's cache of verified index files: one file per sparse path, its name the
/// path percent-encoded (no sub-directories).
fn proxy_cached(user: &User, path: &str) -> PathBuf {
    user.home()
        .join("tuf")
        .join(REGISTRY)
        .join("index")
        .join(path.replace('/', "%2F"))
}

#[test]
fn a_cold_index_file_is_fetched_at_the_same_time_as_its_bin() {
    let work = tempfile::tempdir().unwrap();
    let (registry, user, proxy) = warm_metadata(work.path());
    let name = crate_in_a_cold_bin();
    let path = sparse_path(name);

    let started = Instant::now();
    let (status, body) = proxy.get(&path);
    let took = started.elapsed();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, registry.targets[&path]);

    // Exactly the bin and the file, and both were being answered at the same moment:
    // one delayed round trip, not two one after the other.
    let mut requests = registry.server.take_requests();
    requests.sort();
    let mut expected = vec![
        format!("/index/{path}"),
        format!("/metadata/1.{}.json", bin_of(&path)),
    ];
    expected.sort();
    assert_eq!(requests, expected);
    assert_eq!(
        registry.server.max_in_flight(),
        2,
        "the index file was requested only after the bin arrived (took {took:?})"
    );
    eprintln!("cold index file with {DELAY:?} per answer: {took:?}");
    // Served after verification, and cached as verified.
    assert_eq!(
        std::fs::read(proxy_cached(&user, &path)).unwrap(),
        registry.targets[&path]
    );
    // One flat file per index file: caching a cold file creates no directory (issue #14:
    // creating the sparse path's two directories was the largest CPU cost of a cold file).
    let cache_dir = user.home().join("tuf").join(REGISTRY).join("index");
    for entry in std::fs::read_dir(&cache_dir).unwrap() {
        let entry = entry.unwrap();
        assert!(entry.file_type().unwrap().is_file(), "{:?}", entry.path());
    }

    // A new proxy on the same cache asks upstream for no index file: what is cached is
    // checked against the signed entry, not fetched early.
    drop(proxy);
    registry.server.set_delay(Duration::ZERO);
    let proxy = ProxyProcess::start(&user);
    registry.server.reset_counts();
    let (status, body) = proxy.get(&path);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, registry.targets[&path]);
    // (The root chain's probe for the next root version aside.)
    let requests: Vec<String> = registry
        .server
        .take_requests()
        .into_iter()
        .filter(|r| r != "/metadata/2.root.json")
        .collect();
    assert_eq!(requests, vec!["/metadata/timestamp.json".to_owned()]);

    // A cached copy changed on disk no longer matches the signed entry: never served,
    // fetched again (and the verified bytes cached in its place).
    drop(proxy);
    let mut tampered = registry.targets[&path].clone();
    tampered[0] ^= 0x01;
    std::fs::write(proxy_cached(&user, &path), &tampered).unwrap();
    let proxy = ProxyProcess::start(&user);
    registry.server.reset_counts();
    let (status, body) = proxy.get(&path);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, registry.targets[&path]);
    assert!(registry
        .server
        .take_requests()
        .contains(&format!("/index/{path}")));
    assert_eq!(
        std::fs::read(proxy_cached(&user, &path)).unwrap(),
        registry.targets[&path]
    );
}

#[test]
fn a_tampered_index_file_fetched_early_is_refused_and_not_cached() {
    let work = tempfile::tempdir().unwrap();
    let (registry, user, proxy) = warm_metadata(work.path());
    let name = crate_in_a_cold_bin();
    let path = sparse_path(name);
    let signed = registry.targets[&path].clone();

    // The same length, one byte changed: the hash check fails.
    let mut tampered = signed.clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 0x01;
    registry.server.put(&format!("index/{path}"), tampered);
    let (status, body) = proxy.get(&path);
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains(&format!(
            "cargo-tuf refused the index file of crate `{name}`"
        )) && body.contains("signed length and hashes check failed"),
        "{body}"
    );
    assert_eq!(
        registry.server.max_in_flight(),
        2,
        "not fetched at the same time as its bin"
    );
    assert!(!proxy_cached(&user, &path).exists());

    // Longer than the signed length: refused as a fetch capped at that length is.
    let mut longer = signed.clone();
    longer.extend_from_slice(b"\n\n");
    registry.server.put(&format!("index/{path}"), longer);
    let (status, body) = proxy.get(&path);
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("length check failed")
            && body.contains(&format!(
                "sent more than the {} bytes the signed metadata lists",
                signed.len()
            )),
        "{body}"
    );
    assert!(!proxy_cached(&user, &path).exists());

    // The genuine file is served once upstream has it again.
    registry
        .server
        .put(&format!("index/{path}"), signed.clone());
    let (status, body) = proxy.get(&path);
    assert_eq!((status, body), (200, signed.clone()));
    assert_eq!(std::fs::read(proxy_cached(&user, &path)).unwrap(), signed);
}

#[test]
fn an_absent_crates_early_fetch_is_dropped() {
    let work = tempfile::tempdir().unwrap();
    let (registry, user, proxy) = warm_metadata(work.path());
    // Upstream has an index file the signed metadata does not list.
    let ghost = sparse_path("ghost");
    let unsigned = index_line("ghost", "1.0.0", &"ab".repeat(32), false) + "\n";
    registry.server.put(&format!("index/{ghost}"), unsigned);

    let (status, body) = proxy.get(&ghost);
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    assert!(body.is_empty());
    let requests = registry.server.take_requests();
    assert!(
        requests.contains(&format!("/index/{ghost}")),
        "fetched early: {requests:?}"
    );
    assert!(!proxy_cached(&user, &ghost).exists());

    // With its bin trusted the lookup answers at once; an endless body for the absent
    // crate is dropped as soon as it has, far short of the index file cap (16 MiB).
    registry.server.set_delay(Duration::ZERO);
    registry
        .server
        .put(&format!("index/{ghost}"), Reply::Endless);
    registry.server.take_sent();
    let (status, _) = proxy.get(&ghost);
    assert_eq!(status, 404);
    let sent = registry.server.sent_for(&format!("/index/{ghost}"));
    assert!(sent.body_bytes < 8 * 1024 * 1024, "{sent:?}");
    assert!(!proxy_cached(&user, &ghost).exists());
}
