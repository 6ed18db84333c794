//! End to end with the real `cargo`: a sparse registry of real `.crate` files made with
//! `cargo package`, signed, served on 127.0.0.1, and a project built through
//! `cargo tuf run` with a fresh `CARGO_HOME`.

mod support;

use support::*;

/// A registry with `alpha 0.1.0`, `beta 1.2.0` and `gamma-rs 0.3.0`, published once.
fn three_crate_registry(work: &std::path::Path) -> (Registry, Vec<Packaged>) {
    published_registry(
        work,
        &[("alpha", "0.1.0"), ("beta", "1.2.0"), ("gamma-rs", "0.3.0")],
    )
}

#[test]
fn generate_lockfile_fetch_build_and_verify_through_the_proxy() {
    let work = tempfile::tempdir().unwrap();
    let (registry, packaged) = three_crate_registry(work.path());
    let user = User::new(
        &registry,
        &[("alpha", "0.1"), ("beta", "1"), ("gamma-rs", "0.3")],
    );
    user.init(&registry);

    let out = user.run(&["generate-lockfile"]);
    assert!(out.status.success(), "{}", text(&out));
    let lock = std::fs::read_to_string(user.project().join("Cargo.lock")).unwrap();
    for p in &packaged {
        assert!(lock.contains(&sha256_hex(&p.bytes)), "{lock}");
    }
    // The lockfile names the real registry, not the loopback proxy.
    assert!(lock.contains(&registry.index_url()), "{lock}");
    assert!(!lock.contains("127.0.0.1:0"), "{lock}");

    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    for p in &packaged {
        assert_eq!(
            user.cached(&format!("{}-{}.crate", p.name, p.vers)).len(),
            1
        );
    }

    let out = user.run(&["run", "-q"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "alpha 0.1.0\nbeta 1.2.0\ngamma-rs 0.3.0\n");

    let out = user.cargo_tuf(&["tuf", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 registry package(s)"),
        "{}",
        text(&out)
    );
    // Metadata came from the metadata server, and nothing from crates.io was needed:
    // every crate came from this test's server.
    assert!(registry.server.count("metadata/timestamp.json") >= 1);
}
