//! Issue #11 item 9: `tuf` with its stdout a pipe whose reader has gone away
//! (`tuf verify --json | head -1`) must not panic (exit 101, "failed printing to stdout:
//! Broken pipe"). The output nobody reads is dropped, the command finishes what it
//! started, and its exit code is the one it has with a reader (see `docs/operator.md`,
//! "Exit codes").

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use std::process::{Command, Output};

use cli_support::{Env, PW};
use tuf_test_support::pipe::{assert_quiet_exit, output_with_closed_stdout};

/// `tuf ARGS` in the scratch directory (as [`Env::tuf`]) with a closed stdout.
fn closed(env: &Env, args: &[&str]) -> Output {
    output_with_closed_stdout(
        Command::new(env!("CARGO_BIN_EXE_tuf"))
            .current_dir(env.dir.path())
            .env("TUF_TEST_PW", PW)
            .args(args),
    )
}

/// `tuf ARGS` with a reader: it must print something (else the closed-stdout run would
/// prove nothing); its exit code, which the closed-stdout run must keep.
fn code_with_a_reader(env: &Env, args: &[&str]) -> i32 {
    let out = env.tuf().args(args).output().unwrap();
    assert!(
        !out.stdout.is_empty(),
        "tuf {args:?} printed nothing on stdout: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code().unwrap()
}

/// Run `tuf ARGS` with a reader, then with a closed stdout: same exit code, no panic.
fn same_code_when_closed(env: &Env, args: &[&str]) -> i32 {
    let code = code_with_a_reader(env, args);
    assert_quiet_exit(&closed(env, args), code, &format!("tuf {args:?}"));
    code
}

#[test]
fn every_command_that_prints_ends_cleanly_with_its_own_exit_code_when_stdout_is_closed() {
    let env = Env::new();

    // `tuf key generate` prints the key id; the key is written all the same.
    for (name, flags) in [
        ("alice", ["--passphrase-env", "TUF_TEST_PW"].as_slice()),
        ("bob", &["--passphrase-env", "TUF_TEST_PW"]),
        ("tgt", &["--unencrypted"]),
        ("online", &["--unencrypted"]),
    ] {
        let pem = format!("{name}.pem");
        let mut args = vec!["key", "generate", pem.as_str()];
        args.extend_from_slice(flags);
        assert_quiet_exit(&closed(&env, &args), 0, "tuf key generate");
        assert!(env.path(&format!("{name}.pub.json")).is_file(), "{name}");
    }

    // `tuf init` describes what it staged.
    let init = [
        "init",
        "repo",
        "--root-key",
        "alice.pub.json",
        "--root-key",
        "bob.pub.json",
        "--root-threshold",
        "2",
        "--targets-key",
        "tgt.pub.json",
        "--online-key",
        "online.pub.json",
    ];
    assert_quiet_exit(&closed(&env, &init), 0, "tuf init");
    assert!(env.path("repo/policy.json").is_file());

    // `tuf sign` describes what it signed.
    for (role, key) in [("root", "alice"), ("root", "bob")] {
        let pem = format!("{key}.pem");
        let sign = [
            "sign",
            "--repo",
            "repo",
            "--role",
            role,
            "--key",
            &pem,
            "--passphrase-env",
            "TUF_TEST_PW",
        ];
        assert_quiet_exit(&closed(&env, &sign), 0, "tuf sign");
    }
    env.root_commit().assert().success();
    let sign_targets = [
        "sign", "--repo", "repo", "--role", "targets", "--key", "tgt.pem",
    ];
    assert_quiet_exit(&closed(&env, &sign_targets), 0, "tuf sign");

    // `tuf publish --json`: the summary goes nowhere, the repository is published.
    env.write_index_config();
    env.write(
        "index/de/mo/demo",
        cli_support::index_line("demo", "0.1.0").as_bytes(),
    );
    let publish = [
        "publish",
        "repo",
        "--index",
        "index",
        "--online-key",
        "online.pem",
        "--json",
    ];
    assert_quiet_exit(&closed(&env, &publish), 0, "tuf publish --json");
    assert!(env.path("repo/metadata/timestamp.json").is_file());
    env.trust_root_v1();

    // Idempotent commands: the same exit code with and without a reader.
    let verify = [
        "verify",
        "--root",
        "trusted-root.json",
        "repo/metadata",
        "--index",
        "index",
    ];
    let verify_json = [&verify[..], &["--json"]].concat();
    assert_eq!(same_code_when_closed(&env, &verify_json), 0);
    let refresh = ["refresh", "repo", "--online-key", "online.pem", "--json"];
    assert_eq!(same_code_when_closed(&env, &refresh), 0);
    same_code_when_closed(&env, &["status", "repo"]);
    same_code_when_closed(&env, &["status", "repo", "--json"]);

    // A verify that finds a problem (an index file changed since the publish) still
    // exits 1 when nobody reads its problem lines: `| head` must not turn it into 0.
    env.write(
        "index/de/mo/demo",
        cli_support::index_line("demo", "0.2.0").as_bytes(),
    );
    assert_eq!(same_code_when_closed(&env, &verify), 1);
    assert_eq!(same_code_when_closed(&env, &verify_json), 1);
}
