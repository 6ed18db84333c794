//! Issue #15: several pinned registries behind one `cargo tuf run`, and the
//! "authenticated absence" line printed only when it explains a failure. Real `cargo`,
//! real 127.0.0.1 registries, each with its own root.

// Helpers outside #[test] fns: a failure is a broken test setup.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Output;

use support::*;

/// The second registry's name, as the project's `[registries]` and the pin name it.
const SECOND: &str = "second";

/// The absence line's words (see `proxy::Proxy::report_absence`).
const ABSENCE: &str = "an authenticated absence";

/// A project depending on `alpha` from [`REGISTRY`] and `gamma` from [`SECOND`], two
/// test registries with two roots, both pinned on ports of their own.
struct TwoRegistries {
    first: Registry,
    second: Registry,
    second_crates: Vec<Packaged>,
    user: User,
}

fn two_registries(work: &Path) -> TwoRegistries {
    let (first, _) = published_registry(work, &[("alpha", "0.1.0")]);
    let (second, second_crates) = published_registry(work, &[("gamma", "0.2.0")]);
    let user = User::new(&first, &[("alpha", "0.1")]);
    let project = user.project();
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        format!("{manifest}gamma = {{ version = \"0.2\", registry = \"{SECOND}\" }}\n"),
    )
    .unwrap();
    std::fs::write(
        project.join("src/main.rs"),
        "fn main() {\n    println!(\"{}\", alpha::hello());\n    println!(\"{}\", gamma::hello());\n}\n",
    )
    .unwrap();
    let config = project.join(".cargo/config.toml");
    let mut config_text = std::fs::read_to_string(&config).unwrap();
    config_text.push_str(&format!(
        "[registries.{SECOND}]\nindex = \"{}\"\n",
        second.index_url()
    ));
    std::fs::write(&config, config_text).unwrap();

    user.init_with_port(&first, free_port());
    let root = user.dir.path().join("second-root.json");
    std::fs::write(&root, second.root_bytes_v1()).unwrap();
    let (index_url, metadata_url) = (second.index_url(), second.metadata_url());
    let port = free_port().to_string();
    let out = user.cargo_tuf(&[
        "tuf",
        "init",
        "--registry",
        SECOND,
        "--index-url",
        &index_url,
        "--metadata-url",
        &metadata_url,
        "--root",
        root.to_str().unwrap(),
        "--port",
        &port,
    ]);
    assert!(out.status.success(), "init {SECOND}: {}", text(&out));
    TwoRegistries {
        first,
        second,
        second_crates,
        user,
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn one_run_verifies_every_pinned_registry_the_project_uses() {
    let work = tempfile::tempdir().unwrap();
    let both = two_registries(work.path());

    // No --registry: every pinned registry is behind the one proxy.
    let out = both.user.run(&["run", "-q"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "alpha 0.1.0\ngamma 0.2.0\n",
        "{all}"
    );
    // Each registry's index file and .crate came through its proxy: once each, and
    // every index file after its signed metadata.
    for (registry, name, vers) in [
        (&both.first, "alpha", "0.1.0"),
        (&both.second, "gamma", "0.2.0"),
    ] {
        assert_eq!(
            registry
                .server
                .count(&format!("index/{}", sparse_path(name))),
            1,
            "{name}: {all}"
        );
        assert_eq!(
            registry
                .server
                .count(&format!("crates/{name}/{name}-{vers}.crate")),
            1,
            "{name}: {all}"
        );
        assert!(registry.server.count_prefix("metadata/") > 0, "{all}");
    }
    // Cargo keeps each registry's crates under its proxy URL (127.0.0.1), apart from
    // each other, and nothing under the registries' own hosts.
    let alpha = both.user.cached("alpha-0.1.0.crate");
    let gamma = both.user.cached("gamma-0.2.0.crate");
    assert_eq!((alpha.len(), gamma.len()), (1, 1), "{alpha:?} {gamma:?}");
    assert_ne!(alpha[0].parent(), gamma[0].parent());
    for path in alpha.iter().chain(&gamma) {
        assert!(
            path.to_string_lossy().contains("127.0.0.1-"),
            "{}",
            path.display()
        );
    }

    // `--registry` restricts: with only the first behind the proxy, cargo would fetch
    // gamma from the second registry directly; the run names the routes it serves.
    let out = both.user.cargo_tuf(&[
        "tuf",
        "run",
        "-v",
        "--registry",
        REGISTRY,
        "--",
        "metadata",
        "--format-version",
        "1",
        "-q",
    ]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains(&format!("/{REGISTRY}/")), "{all}");
    assert!(!all.contains(&format!("/{SECOND}/")), "{all}");
}

#[test]
fn a_tampered_crate_of_the_second_registry_is_refused_naming_that_registry() {
    let work = tempfile::tempdir().unwrap();
    let both = two_registries(work.path());
    // The second registry's mirror serves other bytes for gamma's .crate.
    let other = package_crates_saying(work.path(), &[("gamma", "0.2.0")], |_, _| {
        "planted".to_owned()
    });
    assert_ne!(other[0].bytes, both.second_crates[0].bytes);
    both.second
        .server
        .put("crates/gamma/gamma-0.2.0.crate", other[0].bytes.clone());

    let out = both.user.run(&["fetch"]);
    let all = text(&out);
    eprintln!("{all}");
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("cargo-tuf refused gamma-0.2.0.crate"), "{all}");
    assert!(all.contains("cksum check failed"), "{all}");
    assert!(all.contains(&sha256_hex(&other[0].bytes)), "{all}");
    assert!(all.contains(&format!("registry `{SECOND}`")), "{all}");
    // Nothing refused was kept; the first registry's crate was fetched verified.
    assert!(both.user.cached("gamma-0.2.0.crate").is_empty());
    assert!(both.user.cached("gamma-0.2.0").is_empty());
}

#[test]
fn a_registry_named_but_not_pinned_is_refused_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let both = two_registries(work.path());
    let out = both
        .user
        .cargo_tuf(&["tuf", "run", "--registry", "nosuch", "--", "fetch"]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("`nosuch`"), "{all}");
    assert_eq!(both.first.server.count_prefix("index/"), 0, "{all}");
}

#[test]
fn an_absence_that_cargo_got_past_is_not_reported() {
    let work = tempfile::tempdir().unwrap();
    let (mut registry, _) =
        published_registry(work.path(), &[("alpha", "0.1.0"), ("beta", "1.2.0")]);
    let user = User::new(&registry, &[("alpha", "0.1"), ("beta", "1")]);
    user.init(&registry);
    let out = user.run(&["generate-lockfile"]);
    assert!(out.status.success(), "{}", text(&out));

    // beta is deleted; the project drops it; `update` probes it and succeeds.
    registry.delete("beta");
    registry.publish();
    let manifest = user.project().join("Cargo.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    let without_beta: String = text_before
        .lines()
        .filter(|l| !l.starts_with("beta "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&manifest, without_beta).unwrap();
    std::fs::write(
        user.project().join("src/main.rs"),
        "fn main() {\n    println!(\"{}\", alpha::hello());\n}\n",
    )
    .unwrap();
    let lockfile = user.project().join("Cargo.lock");
    let locked = std::fs::read(&lockfile).unwrap();
    let out = user.run(&["update"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains(ABSENCE), "{all}");

    // The same update at -v shows cargo did probe beta, and the line is printed there.
    std::fs::write(&lockfile, locked).unwrap();
    let out = user.cargo_tuf(&["tuf", "run", "-v", "--", "update"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("crate `beta` is not in the registry's signed metadata"),
        "{all}"
    );
}

#[test]
fn an_absence_that_failed_the_run_is_reported_once_after_cargo() {
    let work = tempfile::tempdir().unwrap();
    let (mut registry, _) =
        published_registry(work.path(), &[("alpha", "0.1.0"), ("beta", "1.2.0")]);
    let user = User::new(&registry, &[("alpha", "0.1"), ("beta", "1")]);
    user.init(&registry);
    registry.delete("beta");
    registry.publish();

    let out = user.run(&["generate-lockfile"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{}", text(&out));
    let cargo_error = err
        .find("no matching package named `beta` found")
        .unwrap_or_else(|| panic!("{err}"));
    let line = format!(
        "cargo-tuf: crate `beta` is not in the registry's signed metadata (registry `{REGISTRY}`, {ABSENCE})"
    );
    let absence = err.find(&line).unwrap_or_else(|| panic!("{err}"));
    // After cargo's own error, as the explanation of it, and once.
    assert!(absence > cargo_error, "{err}");
    assert_eq!(err.matches(&line).count(), 1, "{err}");
    assert!(user.cached("beta").is_empty());
    assert!(user.cached("beta-1.2.0.crate").is_empty());
}
