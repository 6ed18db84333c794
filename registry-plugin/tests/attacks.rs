//! Attacks from TUF §1.5 and the issue, each against the real `cargo` through
//! `cargo tuf run`: cargo must fail, its output must name the problem, and nothing
//! unverified may land in cargo's caches (`$CARGO_HOME/registry/{cache,index,src}`).

mod support;

use support::*;

/// A registry with `alpha 0.1.0` and `beta 1.2.0`, published once, and a user of both.
fn setup(work: &std::path::Path) -> (Registry, Vec<Packaged>, User) {
    let (registry, packaged) = published_registry(work, &[("alpha", "0.1.0"), ("beta", "1.2.0")]);
    let user = User::new(&registry, &[("alpha", "0.1"), ("beta", "1")]);
    user.init(&registry);
    (registry, packaged, user)
}

/// Cargo failed, and its combined output contains every one of `needles`.
#[track_caller]
fn assert_refused(out: &std::process::Output, needles: &[&str]) {
    let all = text(out);
    eprintln!("{all}");
    assert!(!out.status.success(), "cargo succeeded:\n{all}");
    for needle in needles {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    // A refusal body fits in the 512 characters cargo shows of a body.
    for line in all.lines().filter(|l| l.contains("cargo-tuf refused")) {
        assert!(line.trim().chars().count() <= 512, "{line}");
    }
    // Exactly one copy of a refusal: the body cargo prints (not also a proxy log line).
    assert!(all.matches("cargo-tuf refused").count() <= 1, "{all}");
}

#[test]
fn tampered_crate_is_refused_before_cargo_sees_a_byte() {
    let work = tempfile::tempdir().unwrap();
    let (registry, packaged, user) = setup(work.path());
    // The mirror serves other bytes for alpha-0.1.0.crate (here: beta's .crate).
    let beta = &packaged[1];
    registry
        .server
        .put("crates/alpha/alpha-0.1.0.crate", beta.bytes.clone());

    let out = user.run(&["fetch"]);
    assert_refused(
        &out,
        &[
            "alpha-0.1.0.crate",
            "cksum check failed",
            &sha256_hex(&beta.bytes),
            "got 403",
        ],
    );
    assert!(user.cached("alpha-0.1.0.crate").is_empty());
    assert!(user.cached("alpha-0.1.0").is_empty());
}

#[test]
fn index_line_with_changed_cksum_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let (registry, packaged, user) = setup(work.path());
    // The attacker serves its own .crate and an index line whose cksum matches it, so
    // cargo's own checksum check would pass.
    let evil = &packaged[1].bytes;
    registry
        .server
        .put("crates/alpha/alpha-0.1.0.crate", evil.clone());
    registry.server.put(
        &format!("index/{}", sparse_path("alpha")),
        format!(
            "{}\n",
            index_line("alpha", "0.1.0", &sha256_hex(evil), false)
        ),
    );

    let out = user.run(&["generate-lockfile"]);
    assert_refused(
        &out,
        &[
            "index file of crate `alpha`",
            "signed length and hashes check failed",
            "got 403",
        ],
    );
    assert!(user.cached("alpha").is_empty());
    assert!(!user.project().join("Cargo.lock").exists());
}

#[test]
fn another_crates_index_file_under_this_name_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let (registry, _, user) = setup(work.path());
    // A mirror answers alpha's path with beta's (genuine, signed) index file.
    let beta_file = registry.targets[&sparse_path("beta")].clone();
    registry
        .server
        .put(&format!("index/{}", sparse_path("alpha")), beta_file);

    let out = user.run(&["generate-lockfile"]);
    assert_refused(
        &out,
        &["index file of crate `alpha`", "signed length and hashes"],
    );
    assert!(user.cached("alpha").is_empty());
}

#[test]
fn signed_index_file_naming_another_crate_is_refused() {
    // Even a signer (a compromised bin key, or a bug) cannot make alpha's index file
    // describe beta: every line must name the crate asked for.
    let work = tempfile::tempdir().unwrap();
    let (mut registry, _, user) = setup(work.path());
    let beta_file = registry.targets[&sparse_path("beta")].clone();
    registry.targets.insert(sparse_path("alpha"), beta_file);
    registry.publish();

    let out = user.run(&["generate-lockfile"]);
    assert_refused(
        &out,
        &[
            "index file of crate `alpha`",
            "index content check failed",
            "beta",
        ],
    );
    assert!(user.cached("alpha").is_empty());
}

#[test]
fn rollback_to_an_older_timestamp_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let (mut registry, _, user) = setup(work.path());
    registry.publish(); // version 2
    let out = user.run(&["generate-lockfile"]);
    assert!(out.status.success(), "{}", text(&out));

    // The mirror goes back to version 1's timestamp (validly signed, not expired).
    let old = registry.server.get("metadata/1.timestamp.json").unwrap();
    registry.server.put("metadata/timestamp.json", old);
    let before = user.cached("alpha");
    let out = user.run(&["update"]);
    assert_refused(
        &out,
        &[
            "rollback: timestamp version 1 is older than version 2",
            "got 403",
        ],
    );
    assert_eq!(user.cached("alpha"), before);
    assert!(user.cached("alpha-0.1.0.crate").is_empty());
}

#[test]
fn expired_timestamp_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let (mut registry, _, user) = setup(work.path());
    registry.timestamp_expires_in = chrono::Duration::hours(-1);
    registry.publish();

    let out = user.run(&["fetch"]);
    assert_refused(
        &out,
        &["timestamp metadata version 2 expired at", "got 403"],
    );
    assert!(user.cached("alpha").is_empty());
    assert!(user.cached("alpha-0.1.0.crate").is_empty());
}

#[test]
fn deleted_crate_served_again_is_an_authenticated_absence() {
    let work = tempfile::tempdir().unwrap();
    let (mut registry, _, user) = setup(work.path());
    // The operators delete beta; the mirror still serves its index file and .crate.
    registry.delete("beta");
    registry.publish();
    assert!(registry
        .server
        .get(&format!("index/{}", sparse_path("beta")))
        .is_some());

    let out = user.run(&["generate-lockfile"]);
    assert_refused(
        &out,
        &[
            "no matching package named `beta` found",
            "crate `beta` is not in the registry's signed metadata",
        ],
    );
    assert!(user.cached("beta").is_empty());
    assert!(user.cached("beta-1.2.0.crate").is_empty());
}

#[test]
fn yanked_version_unyanked_by_the_server_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let packaged = package_crates(work.path(), &[("alpha", "0.1.0")]);
    let newer = package_crates(work.path(), &[("alpha", "0.1.1")]);
    let mut registry = Registry::new(Server::start());
    registry.add(&packaged[0], false);
    registry.add(&newer[0], true); // 0.1.1 is yanked in the signed index
    registry.publish();
    let user = User::new(&registry, &[("alpha", "=0.1.1")]);
    user.init(&registry);

    // The server flips `yanked` back to false.
    let path = format!("index/{}", sparse_path("alpha"));
    let file = String::from_utf8(registry.server.get(&path).unwrap()).unwrap();
    let unyanked = file.replace("\"yanked\":true", "\"yanked\":false");
    assert_ne!(file, unyanked);
    registry.server.put(&path, unyanked);

    let out = user.run(&["fetch"]);
    assert_refused(
        &out,
        &[
            "index file of crate `alpha`",
            "length check failed",
            "bytes the signed metadata lists",
        ],
    );
    assert!(user.cached("alpha").is_empty());
    assert!(user.cached("alpha-0.1.1.crate").is_empty());

    // Served honestly, cargo sees the yank and refuses the version itself.
    registry.server.put(&path, file);
    let out = user.run(&["fetch"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(user.cached("alpha-0.1.1.crate").is_empty());
}

#[test]
fn oversized_crate_is_refused_at_the_cap() {
    let work = tempfile::tempdir().unwrap();
    let (_registry, _, user) = setup(work.path());
    let out = user.cargo_tuf(&["tuf", "run", "--max-crate-bytes", "100", "--", "fetch"]);
    assert_refused(&out, &["size cap check failed", "more than 100 bytes"]);
    assert!(user.cached("alpha-0.1.0.crate").is_empty());
}

#[test]
fn every_hash_a_signed_entry_lists_is_checked() {
    // TUF §5.7.3: the bytes must match every hash the signed entry lists, not only its
    // SHA-256. Here alpha's entry also lists a SHA-512 the file does not have.
    let work = tempfile::tempdir().unwrap();
    let (mut registry, _, user) = setup(work.path());
    let alpha = sparse_path("alpha");
    registry
        .extra_hashes
        .insert(alpha.clone(), vec![("sha512".into(), vec![0xab; 64])]);
    registry.publish();

    let out = user.run(&["generate-lockfile"]);
    assert_refused(
        &out,
        &[
            "index file of crate `alpha`",
            "signed length and hashes check failed",
            "sha512 is",
            &"ab".repeat(64),
            "got 403",
        ],
    );
    assert!(user.cached("alpha").is_empty());
    assert!(!user.project().join("Cargo.lock").exists());

    // With the file's true SHA-512 listed too, it is served.
    let sha512 = tuf_core::hash::sha512(&registry.targets[&alpha]).to_vec();
    registry
        .extra_hashes
        .insert(alpha, vec![("sha512".into(), sha512)]);
    registry.publish();
    let out = user.run(&["generate-lockfile"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_hash_algorithm_the_proxy_cannot_compute_is_refused() {
    // A listed hash that cannot be checked never passes (as `Updater::download_target`).
    let work = tempfile::tempdir().unwrap();
    let (mut registry, _, user) = setup(work.path());
    registry
        .extra_hashes
        .insert("config.json".into(), vec![("md5".into(), vec![0; 16])]);
    registry.publish();

    let out = user.run(&["generate-lockfile"]);
    assert_refused(
        &out,
        &[
            "cargo-tuf refused config.json",
            "hash algorithm \"md5\" is not supported",
            "got 403",
        ],
    );
    assert!(user.cached("config.json").is_empty());
    assert!(user.cached("alpha").is_empty());
}
