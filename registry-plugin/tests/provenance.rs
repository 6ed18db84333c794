//! `cargo tuf provenance` end to end: crates packaged with the real `cargo package` from
//! a git repository made here, published to a signed registry on 127.0.0.1, fetched by
//! the real cargo through `cargo tuf run`, then checked against the repository (mapped
//! with --repo-dir, so nothing leaves the machine).

// Fixture helpers outside #[test] functions: a failure is a broken setup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;

use support::*;

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Fixture")
        .env("GIT_AUTHOR_EMAIL", "fixture@example.invalid")
        .env("GIT_COMMITTER_NAME", "Fixture")
        .env("GIT_COMMITTER_EMAIL", "fixture@example.invalid")
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", text(&output));
}

/// A git workspace with `alpha 0.1.0` (lib), `beta 1.2.0` (lib + bin) and
/// `gamma-rs 0.3.0` (lib), committed; `gamma-rs` is then changed without a commit and
/// everything packaged with `--allow-dirty`, so its `.crate` is not what git holds.
fn packaged_from_git(work: &Path) -> (std::path::PathBuf, Vec<Packaged>) {
    let repo = work.join("upstream");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(
        repo.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"alpha\", \"beta\", \"gamma-rs\"]\n",
    )
    .unwrap();
    for (name, vers) in [("alpha", "0.1.0"), ("beta", "1.2.0"), ("gamma-rs", "0.3.0")] {
        let dir = repo.join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"{vers}\"\nedition = \"2021\"\n\
                 description = \"test crate\"\nlicense = \"MIT\"\n\
                 repository = \"https://example.invalid/upstream\"\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("src/lib.rs"),
            format!("pub fn hello() -> &'static str {{ \"{name} {vers}\" }}\n"),
        )
        .unwrap();
    }
    std::fs::write(repo.join("beta/src/main.rs"), "fn main() {}\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "release"]);
    std::fs::write(
        repo.join("gamma-rs/src/lib.rs"),
        "pub fn hello() -> &'static str { \"gamma-rs 0.3.0\" }\npub fn unreviewed() {}\n",
    )
    .unwrap();
    let target = work.join("package-target");
    let output = clean_command(cargo_bin(), &work.join("package-home"), &target)
        .current_dir(&repo)
        .args([
            "package",
            "--workspace",
            "--no-verify",
            "--allow-dirty",
            "--offline",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo package: {}", text(&output));
    let packaged = [("alpha", "0.1.0"), ("beta", "1.2.0"), ("gamma-rs", "0.3.0")]
        .iter()
        .map(|(name, vers)| Packaged {
            name: (*name).to_owned(),
            vers: (*vers).to_owned(),
            bytes: std::fs::read(target.join("package").join(format!("{name}-{vers}.crate")))
                .unwrap(),
        })
        .collect();
    (repo, packaged)
}

#[test]
fn lockfile_of_a_project_built_through_the_proxy() {
    let work = tempfile::tempdir().unwrap();
    let (repo, packaged) = packaged_from_git(work.path());
    let mut registry = Registry::new(Server::start());
    for p in &packaged {
        registry.add(p, false);
    }
    registry.publish();
    let user = User::new(
        &registry,
        &[("alpha", "0.1"), ("beta", "1"), ("gamma-rs", "0.3")],
    );
    user.init(&registry);
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));

    let repo = repo.to_str().unwrap();
    let map: Vec<String> = ["alpha", "beta", "gamma-rs"]
        .iter()
        .map(|name| format!("{name}={repo}"))
        .collect();
    let mut args = vec![
        "tuf",
        "provenance",
        "--lockfile",
        "Cargo.lock",
        "--no-download",
    ];
    for m in &map {
        args.extend(["--repo-dir", m.as_str()]);
    }
    let out = user.cargo_tuf(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // gamma-rs was packaged with an uncommitted change: exit 1, with the diff.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stdout.contains("alpha 0.1.0: verified ("), "{stdout}");
    assert!(stdout.contains("beta 1.2.0: verified ("), "{stdout}");
    assert!(stdout.contains("lib beta, bins: beta"), "{stdout}");
    assert!(stdout.contains("gamma-rs 0.3.0: mismatch ("), "{stdout}");
    assert!(stdout.contains("content differs: src/lib.rs"), "{stdout}");
    assert!(stdout.contains("+pub fn unreviewed() {}"), "{stdout}");
    assert!(
        stdout.contains("cargo-tuf provenance: 3 crate(s): 1 mismatch, 2 verified"),
        "{stdout}"
    );

    // The same as JSON, through a mapping file.
    let map_file = user.dir.path().join("repos.toml");
    std::fs::write(
        &map_file,
        format!("alpha = {repo:?}\nbeta = {repo:?}\n\"gamma-rs\" = {repo:?}\n"),
    )
    .unwrap();
    let out = user.cargo_tuf(&[
        "tuf",
        "provenance",
        "--lockfile",
        "Cargo.lock",
        "--json",
        "--repo-map",
        map_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<(&str, &str)> = json["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("alpha", "verified"),
            ("beta", "verified"),
            ("gamma-rs", "mismatch")
        ]
    );
    assert_eq!(json["crates"][1]["targets"]["binaries"][0]["name"], "beta");
    assert_eq!(json["crates"][2]["dirty"], true);
    assert_eq!(json["exit_code"], 1);

    // One crate by name and version; no repository mapped: its declared URL is not
    // https-reachable here, so "no repository", exit 0 (1 with --strict).
    let out = user.cargo_tuf(&["tuf", "provenance", "alpha", "0.1.0", "--no-fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("alpha 0.1.0: no repository"),
        "{}",
        text(&out)
    );
    let out = user.cargo_tuf(&[
        "tuf",
        "provenance",
        "alpha",
        "0.1.0",
        "--no-fetch",
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn a_cached_crate_that_does_not_match_the_signed_index_is_never_used() {
    let work = tempfile::tempdir().unwrap();
    let (repo, packaged) = packaged_from_git(work.path());
    let mut registry = Registry::new(Server::start());
    for p in &packaged {
        registry.add(p, false);
    }
    registry.publish();
    let user = User::new(&registry, &[("alpha", "0.1")]);
    user.init(&registry);
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    let cached = user.cached("alpha-0.1.0.crate");
    let cached = cached
        .iter()
        .find(|p| p.to_string_lossy().contains("/cache/"))
        .unwrap();
    // Swap in beta's bytes: a valid .crate, not the one the index signs.
    std::fs::write(cached, &packaged[1].bytes).unwrap();
    let repo_dir = format!("alpha={}", repo.display());
    let out = user.cargo_tuf(&[
        "tuf",
        "provenance",
        "alpha",
        "0.1.0",
        "--repo-dir",
        &repo_dir,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("alpha 0.1.0: error: alpha 0.1.0: cached"),
        "{stdout}"
    );
    assert!(stdout.contains("the signed cksum is"), "{stdout}");
    assert!(!stdout.contains("verified"), "{stdout}");

    // Without the cached file, it is downloaded through the verifying path.
    std::fs::remove_file(cached).unwrap();
    let out = user.cargo_tuf(&[
        "tuf",
        "provenance",
        "alpha",
        "0.1.0",
        "--repo-dir",
        &repo_dir,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("alpha 0.1.0: verified"),
        "{}",
        text(&out)
    );
    // And with --no-download it is an error, not a silent skip.
    std::fs::remove_file(cached).ok();
    let out = user.cargo_tuf(&[
        "tuf",
        "provenance",
        "alpha",
        "0.1.0",
        "--repo-dir",
        &repo_dir,
        "--no-download",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
