//! Offline use within the staleness bound, crates.io-style replacement, and
//! `cargo tuf verify` finding mismatches.

mod support;

use support::*;

#[test]
fn offline_uses_cached_metadata_only_within_the_staleness_bound() {
    let work = tempfile::tempdir().unwrap();
    let (registry, _) = published_registry(work.path(), &[("alpha", "0.1.0")]);
    let user = User::new(&registry, &[("alpha", "0.1")]);
    user.init_with_port(&registry, free_port());
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));

    // Offline: no request reaches the registry; `update` revalidates index files with the
    // proxy, which answers from the cached signed metadata.
    registry.server.reset_counts();
    let out = user.cargo_tuf(&["tuf", "run", "--offline", "--", "update"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = user.cargo_tuf(&["tuf", "run", "--offline", "--", "build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(registry.server.count_prefix(""), 0);

    // Three days since the last online check: over the default 24 h bound, refused before
    // cargo runs, with the reason; a wider explicit bound allows it.
    let checked = user
        .home()
        .join("tuf")
        .join(REGISTRY)
        .join("metadata/checked.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&checked).unwrap()).unwrap();
    let old = chrono::Utc::now() - chrono::Duration::days(3);
    json["checked_at"] = serde_json::Value::String(old.to_rfc3339());
    std::fs::write(&checked, serde_json::to_vec(&json).unwrap()).unwrap();
    let out = user.cargo_tuf(&["tuf", "run", "--offline", "--", "build"]);
    let all = text(&out);
    eprintln!("{all}");
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("offline use not possible"), "{all}");
    assert!(all.contains("more than the bound of 24 hours"), "{all}");
    assert!(!all.contains("Compiling"), "cargo must not run: {all}");
    let out = user.cargo_tuf(&[
        "tuf",
        "run",
        "--offline",
        "--max-staleness-hours",
        "100",
        "--",
        "build",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(registry.server.count_prefix(""), 0);
}

#[test]
fn crates_io_replacement_without_contacting_crates_io() {
    // A project with plain `alpha = "0.1"` dependencies (crates.io), pinned as
    // `crates-io` with this test's server as index: cargo's crates.io source is
    // replaced, so crates.io itself is never contacted.
    let work = tempfile::tempdir().unwrap();
    let (registry, _) = published_registry(work.path(), &[("alpha", "0.1.0")]);
    let user = User::new(&registry, &[]);
    std::fs::write(
        user.project().join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nalpha = \"0.1\"\n",
    )
    .unwrap();
    std::fs::write(
        user.project().join("src/main.rs"),
        "fn main() { println!(\"{}\", alpha::hello()); }\n",
    )
    .unwrap();
    std::fs::remove_file(user.project().join(".cargo/config.toml")).unwrap();
    let out = user.try_init(&registry, &["--port", "0"]);
    assert!(out.status.success(), "{}", text(&out));

    let out = user.run(&["run", "-q"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "alpha 0.1.0\n");
    let lock = std::fs::read_to_string(user.project().join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("registry+https://github.com/rust-lang/crates.io-index"),
        "{lock}"
    );
    let out = user.cargo_tuf(&["tuf", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 registry package(s)"));
}

#[test]
fn verify_reports_every_lockfile_and_cache_mismatch() {
    let work = tempfile::tempdir().unwrap();
    let (registry, packaged) =
        published_registry(work.path(), &[("alpha", "0.1.0"), ("beta", "1.2.0")]);
    let user = User::new(&registry, &[("alpha", "0.1"), ("beta", "1")]);
    user.init(&registry);
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = user.cargo_tuf(&["tuf", "verify"]);
    assert!(out.status.success(), "{}", text(&out));

    // A lockfile edited to another checksum, and a cached .crate swapped.
    let lockfile = user.project().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lockfile).unwrap();
    let alpha_sum = sha256_hex(&packaged[0].bytes);
    std::fs::write(&lockfile, lock.replace(&alpha_sum, &"0".repeat(64))).unwrap();
    let cached_beta = user.cached("beta-1.2.0.crate");
    let cached_beta = cached_beta
        .iter()
        .find(|p| p.to_string_lossy().contains("registry/cache"))
        .unwrap();
    std::fs::write(cached_beta, b"not the signed crate").unwrap();

    let out = user.cargo_tuf(&["tuf", "verify", "--lockfile", lockfile.to_str().unwrap()]);
    let all = text(&out);
    eprintln!("{all}");
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("MISMATCH alpha 0.1.0: Cargo.lock checksum 0000"),
        "{all}"
    );
    assert!(all.contains("MISMATCH beta 1.2.0: cached"), "{all}");
    assert!(all.contains("2 problem(s)"), "{all}");
}
