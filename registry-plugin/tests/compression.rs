//! HTTP compression between the proxy and the registry (issue #14), with the real `cargo`
//! through `cargo tuf run` against the 127.0.0.1 test server: the proxy asks for gzip
//! for metadata, index files and `config.json` (never for `.crate` files), and a gzipped
//! body is checked after decoding like any other: other bytes than the signed ones, or
//! more than the signed length (a compression bomb), are refused, decoding stops at the
//! cap, and nothing refused reaches cargo or the proxy's index cache.

// A test fails loudly.
#![allow(clippy::panic)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::*;
use tuf_test_support::http::{gzip, Reply};

/// A registry with `alpha 0.1.0` and `beta 1.2.0`, published once, and a user of both.
fn setup(work: &std::path::Path) -> (Registry, User) {
    let (registry, _) = published_registry(work, &[("alpha", "0.1.0"), ("beta", "1.2.0")]);
    let user = User::new(&registry, &[("alpha", "0.1"), ("beta", "1")]);
    user.init(&registry);
    (registry, user)
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

/// Cargo failed, quickly, and its output contains every one of `needles`.
#[track_caller]
fn assert_refused_quickly(user: &User, args: &[&str], needles: &[&str]) {
    let started = Instant::now();
    let out = user.run(args);
    let took = started.elapsed();
    let all = text(&out);
    eprintln!("{all}");
    assert!(!out.status.success(), "cargo succeeded:\n{all}");
    for needle in needles {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    // Decoding a bomb to its end (64 GiB of zeros) would take minutes, or run into the
    // proxy's 120 s request timeout.
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

/// Less than this much of a [`Reply::GzipBomb`] was sent: the proxy hung up long before
/// the server's own end (64 MiB); what was sent is what the socket buffers took.
const BOMB_SENT_BOUND: u64 = 32 * 1024 * 1024;

fn gzipped(bytes: &[u8]) -> Reply {
    Reply::Encoded {
        encoding: "gzip".to_owned(),
        body: gzip(bytes),
    }
}

#[test]
fn a_gzipped_registry_is_verified_and_crates_are_fetched_as_stored() {
    let work = tempfile::tempdir().unwrap();
    let (registry, user) = setup(work.path());
    registry.server.set_gzip(true);
    registry.server.take_sent();

    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(user.cached("alpha-0.1.0.crate").len(), 1);
    let sent = registry.server.take_sent();
    let mut asked_gzip = 0;
    for s in &sent {
        if s.path.starts_with("/crates/") {
            // A `.crate` is a gzip archive already: asked for as stored.
            assert_eq!(s.accept_encoding, None, "{s:?}");
            assert_eq!(s.content_encoding, None, "{s:?}");
        } else {
            // Metadata (tuf-client's fetcher), index files and config.json (the proxy's).
            assert!(
                s.accept_encoding
                    .as_deref()
                    .is_some_and(|a| a.contains("gzip")),
                "{s:?}"
            );
            asked_gzip += 1;
        }
    }
    assert!(
        sent.iter()
            .any(|s| s.path == format!("/index/{}", sparse_path("alpha"))
                && s.content_encoding.as_deref() == Some("gzip")),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(
            |s| s.path == "/index/config.json" && s.content_encoding.as_deref() == Some("gzip")
        ),
        "{sent:?}"
    );
    assert!(asked_gzip >= 6, "{sent:?}");
    // The proxy caches the decoded, verified bytes.
    let alpha = sparse_path("alpha");
    assert_eq!(
        std::fs::read(proxy_cached(&user, &alpha)).unwrap(),
        registry.targets[&alpha]
    );
}

#[test]
fn a_gzipped_index_file_of_other_bytes_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let (registry, user) = setup(work.path());
    let alpha = sparse_path("alpha");
    // Same length, one byte changed, served gzipped: decoded, then the hash fails.
    let mut tampered = registry.targets[&alpha].clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 0x01;
    registry
        .server
        .put(&format!("index/{alpha}"), gzipped(&tampered));

    assert_refused_quickly(
        &user,
        &["generate-lockfile"],
        &[
            "index file of crate `alpha`",
            "signed length and hashes check failed",
            "got 403",
        ],
    );
    assert!(user.cached("alpha").is_empty());
    assert!(!proxy_cached(&user, &alpha).exists());
    assert!(!user.project().join("Cargo.lock").exists());
}

#[test]
fn gzip_bombs_for_config_json_and_an_index_file_stop_at_the_signed_length() {
    let work = tempfile::tempdir().unwrap();
    let (registry, user) = setup(work.path());
    let alpha = sparse_path("alpha");
    let alpha_length = registry.targets[&alpha].len();
    let config_length = registry.targets["config.json"].len();
    let mebibyte_of_zeros = vec![0; 1024 * 1024];

    // config.json: 1 MiB of zeros gzipped to about 1 KiB, then an endless bomb.
    for (reply, endless) in [
        (gzipped(&mebibyte_of_zeros), false),
        (Reply::GzipBomb, true),
    ] {
        registry.server.put("index/config.json", reply);
        registry.server.take_sent();
        assert_refused_quickly(
            &user,
            &["generate-lockfile"],
            &[
                "cargo-tuf refused config.json",
                "length check failed",
                &format!("sent more than the {config_length} bytes the signed metadata lists"),
            ],
        );
        assert!(user.cached("config.json").is_empty());
        assert!(!proxy_cached(&user, "config.json").exists());
        if endless {
            let sent = registry.server.sent_for("/index/config.json");
            assert!(sent.body_bytes < BOMB_SENT_BOUND, "{sent:?}");
        }
    }
    registry
        .server
        .put("index/config.json", registry.targets["config.json"].clone());

    // An index file likewise.
    let index_path = format!("index/{alpha}");
    for (reply, endless) in [
        (gzipped(&mebibyte_of_zeros), false),
        (Reply::GzipBomb, true),
    ] {
        registry.server.put(&index_path, reply);
        registry.server.take_sent();
        assert_refused_quickly(
            &user,
            &["generate-lockfile"],
            &[
                "index file of crate `alpha`",
                "length check failed",
                &format!("sent more than the {alpha_length} bytes the signed metadata lists"),
                "got 403",
            ],
        );
        assert!(user.cached("alpha").is_empty());
        assert!(!proxy_cached(&user, &alpha).exists());
        if endless {
            let sent = registry.server.sent_for(&format!("/{index_path}"));
            assert!(sent.body_bytes < BOMB_SENT_BOUND, "{sent:?}");
        }
    }
    assert!(!user.project().join("Cargo.lock").exists());
}
