//! Many crates: one timestamp fetch per run, bins fetched once, conditional requests
//! answered from signed metadata, and requests served concurrently.

mod support;

use std::time::Duration;

use support::*;

const CRATES: usize = 200;

fn names() -> Vec<String> {
    (0..CRATES).map(|i| format!("crate-{i:03}")).collect()
}

fn big_registry(work: &std::path::Path) -> Registry {
    let names = names();
    let specs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1.0.0")).collect();
    published_registry(work, &specs).0
}

#[test]
fn two_hundred_crates_cost_one_timestamp_fetch_per_run() {
    let work = tempfile::tempdir().unwrap();
    let registry = big_registry(work.path());
    let names = names();
    let deps: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let user = User::new(&registry, &deps);
    // A pinned port: cargo keys its caches by the replacement URL, port included.
    user.init_with_port(&registry, free_port());
    let server = &registry.server;
    server.reset_counts();
    server.set_delay(Duration::from_millis(20));

    // Cold: resolve and download everything in one cargo run.
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server.count("metadata/timestamp.json"), 1);
    assert_eq!(server.count("metadata/1.snapshot.json"), 1);
    assert_eq!(server.count("metadata/1.targets.json"), 1);
    let bins = server.count_prefix("metadata/1.crates-bin-");
    assert!(bins <= 16, "each of the 16 bins at most once, got {bins}");
    assert_eq!(server.count_prefix("index/"), 1 + CRATES as u64); // config.json + files
    assert_eq!(server.count_prefix("crates/"), CRATES as u64);
    // Cargo has up to two connections to the proxy at once (`set_max_host_connections(2)`
    // in its `http_remote.rs`); each proxied request holds an upstream fetch, so the
    // upstream sees two at a time. This relies on `cargo tuf run` passing
    // `http.multiplexing=false` (see `source_replacement_args`): without it cargo's curl
    // sends `Upgrade: h2c` and, with PIPEWAIT, waits for each answer before the next.
    assert!(
        server.max_in_flight() >= 2,
        "cargo's parallel requests were served one at a time"
    );
    for name in &names {
        assert_eq!(
            user.cached(&format!("{name}-1.0.0.crate")).len(),
            1,
            "{name}"
        );
    }

    // Warm: cargo has everything cached and asks the proxy nothing; at most one
    // timestamp fetch, no bins (they come from the verified cache), no downloads.
    server.reset_counts();
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(server.count("metadata/timestamp.json") <= 1);
    assert_eq!(server.count_prefix("metadata/1."), 0);
    assert_eq!(server.count_prefix("crates/"), 0);

    // `cargo update` revalidates every index file with If-None-Match; the proxy answers
    // 304 from the signed hashes without going upstream.
    server.reset_counts();
    let out = user.run(&["update"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server.count("metadata/timestamp.json"), 1);
    assert!(
        server.count_prefix("index/") <= 1,
        "only config.json may be fetched"
    );
}

#[test]
fn proxy_serves_concurrent_requests_with_one_timestamp_fetch() {
    let work = tempfile::tempdir().unwrap();
    let registry = big_registry(work.path());
    let user = User::new(&registry, &[]);
    user.init(&registry);
    let server = &registry.server;
    server.reset_counts();
    server.set_delay(Duration::from_millis(50));

    let proxy = ProxyProcess::start(&user);
    let base = proxy.base.clone();

    let names = names();
    let results: Vec<(String, u16, Vec<u8>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .take(64)
            .map(|name| {
                let url = format!("{base}{}", sparse_path(name));
                scope.spawn(move || {
                    let response = reqwest::blocking::get(&url).unwrap();
                    let status = response.status().as_u16();
                    (name.clone(), status, response.bytes().unwrap().to_vec())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    drop(proxy);

    for (name, status, body) in &results {
        assert_eq!(*status, 200, "{name}: {}", String::from_utf8_lossy(body));
        assert_eq!(body, &registry.targets[&sparse_path(name)], "{name}");
    }
    assert_eq!(server.count("metadata/timestamp.json"), 1);
    for bin in 0..16 {
        assert!(server.count(&format!("metadata/1.crates-bin-{bin:x}.json")) <= 1);
    }
    assert!(
        server.max_in_flight() >= 4,
        "upstream saw at most {} requests at once",
        server.max_in_flight()
    );
}
