//! The `tuf-conformance-client` binary, driven as the tuf-conformance suite drives it:
//! one process per call, options before the subcommand in any order, exit 0 or 1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{days, files_in, Repo, Server};

fn client(args: &[&str]) -> i32 {
    let output = Command::new(env!("CARGO_BIN_EXE_tuf-conformance-client"))
        .args(args)
        .output()
        .unwrap();
    output.status.code().unwrap_or(-1)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The client's metadata directory after a refresh: the four top-level roles.
const TOP_LEVEL_FILES: [&str; 4] = [
    "root.json",
    "snapshot.json",
    "targets.json",
    "timestamp.json",
];

#[test]
fn init_refresh_download_as_the_suite_does() {
    let server = Server::start();
    let mut repo = Repo::new();
    // The binary reads the system clock: expiries relative to the real now.
    let real = |d: i64| {
        tuf_core::metadata::Expires::from_time(chrono::Utc::now() + chrono::Duration::days(d))
    };
    repo.root_expires = real(365);
    let root = repo.root_typed(1);
    repo.roots[0] = repo.sign_root(&root, &[]);
    repo.timestamp.expires = real(1);
    repo.snapshot.expires = real(7);
    repo.targets.expires = real(30);
    repo.add_target("targets", "a/file.txt", b"first");
    repo.add_target("targets", "second", b"second file");
    repo.publish(&server);

    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("metadata");
    let td = dir.path().join("targets");
    std::fs::create_dir_all(&md).unwrap();
    std::fs::create_dir_all(&td).unwrap();
    let root_file = dir.path().join("initial_root.json");
    std::fs::write(&root_file, repo.trusted_root()).unwrap();

    // init: byte for byte, no request.
    assert_eq!(
        client(&["--metadata-dir", path(&md), "init", path(&root_file)]),
        0
    );
    assert_eq!(
        std::fs::read(md.join("root.json")).unwrap(),
        repo.trusted_root()
    );
    assert!(server.take_requests().is_empty());

    // refresh: options in another order, -v ignored.
    let url = server.metadata_url();
    assert_eq!(
        client(&[
            "-v",
            "--metadata-dir",
            path(&md),
            "--metadata-url",
            &url,
            "refresh"
        ]),
        0
    );
    assert_eq!(files_in(&md), TOP_LEVEL_FILES);

    // download two targets in one process.
    let turl = server.targets_url();
    let download = |names: &[&str]| {
        let mut args = vec!["--metadata-url", &url, "--metadata-dir", path(&md)];
        for name in names {
            args.extend(["--target-name", name]);
        }
        args.extend([
            "--target-dir",
            path(&td),
            "--target-base-url",
            &turl,
            "download",
        ]);
        client(&args)
    };
    assert_eq!(download(&["a/file.txt", "second"]), 0);
    assert_eq!(files_in(&td), ["a%2Ffile.txt", "second"]);
    assert_eq!(std::fs::read(td.join("a%2Ffile.txt")).unwrap(), b"first");
    // A target no role lists: exit 1, nothing new stored.
    assert_eq!(download(&["nonexistent target"]), 1);
    assert_eq!(files_in(&td), ["a%2Ffile.txt", "second"]);
    assert_eq!(files_in(&md), TOP_LEVEL_FILES);

    // A failing refresh (expired timestamp) exits 1.
    repo.bump_online();
    repo.timestamp.expires = days(-1000);
    repo.publish(&server);
    assert_eq!(
        client(&[
            "--metadata-url",
            &url,
            "--metadata-dir",
            path(&md),
            "refresh"
        ]),
        1
    );
}

#[test]
fn bad_command_lines_exit_1() {
    assert_eq!(client(&[]), 1);
    assert_eq!(client(&["--metadata-dir", "/nonexistent", "frobnicate"]), 1);
    assert_eq!(client(&["--metadata-dir", "/nonexistent/x", "refresh"]), 1);
    assert_eq!(client(&["--metadata-dir", "/tmp", "download"]), 1);
    assert_eq!(client(&["--help"]), 0);
}
