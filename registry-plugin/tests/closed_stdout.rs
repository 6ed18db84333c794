//! Issue #11 item 9: `cargo-tuf` with its stdout a pipe whose reader has gone away
//! (`cargo tuf verify | head -1`) must not panic (exit 101, "failed printing to stdout:
//! Broken pipe"). The output nobody reads is dropped, the command finishes what it
//! started with its own exit code, and `cargo tuf proxy` keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::*;
use tuf_test_support::pipe::{
    assert_quiet_exit, output_with_closed_stdout, spawn_with_closed_stdout,
};

/// `cargo-tuf ARGS` as [`User::cargo_tuf`] runs it, not yet started.
fn cargo_tuf(user: &User, args: &[&str]) -> Command {
    let mut command = clean_command(
        env!("CARGO_BIN_EXE_cargo-tuf"),
        &user.home(),
        &user.dir.path().join("target"),
    );
    command.current_dir(user.project()).args(args);
    command
}

/// Run `cargo-tuf ARGS` with a reader (it must print something, else the closed run
/// proves nothing), then with a closed stdout: the same exit code, no panic.
fn same_code_when_closed(user: &User, args: &[&str]) -> i32 {
    let out = user.cargo_tuf(args);
    assert!(!out.stdout.is_empty(), "cargo-tuf {args:?}: {}", text(&out));
    let code = out.status.code().unwrap();
    let closed = output_with_closed_stdout(&mut cargo_tuf(user, args));
    assert_quiet_exit(&closed, code, &format!("cargo-tuf {args:?}"));
    code
}

/// The exit code `cargo-tuf run` documents for a cargo ended by `status`: its code, or
/// 128 + the signal that killed it.
fn shell_code(output: &Output) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    output
        .status
        .code()
        .or_else(|| output.status.signal().map(|s| 128 + s))
        .unwrap()
}

#[test]
fn init_verify_and_run_end_cleanly_with_their_own_exit_code_when_stdout_is_closed() {
    let mut registry = Registry::new(Server::start());
    registry.publish();
    let user = User::new(&registry, &[]);

    // `cargo tuf init` prints what it pinned; the pin is written all the same.
    let root = user.dir.path().join("root.json");
    let (index_url, metadata_url) = (registry.index_url(), registry.metadata_url());
    let init = [
        "tuf",
        "init",
        "--registry",
        REGISTRY,
        "--index-url",
        &index_url,
        "--metadata-url",
        &metadata_url,
        "--root",
        root.to_str().unwrap(),
    ];
    let closed = output_with_closed_stdout(&mut cargo_tuf(&user, &init));
    assert_quiet_exit(&closed, 0, "cargo tuf init");
    assert!(user
        .home()
        .join("tuf")
        .join(REGISTRY)
        .join("registry.json")
        .is_file());

    // `cargo tuf verify` prints a summary line, and a MISMATCH line per problem; a
    // problem still exits 1 when nobody reads it.
    let lockfile = user.project().join("Cargo.lock");
    let app = "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n";
    std::fs::write(&lockfile, app).unwrap();
    assert_eq!(same_code_when_closed(&user, &["tuf", "verify"]), 0);
    std::fs::write(
        &lockfile,
        format!(
            "{app}\n[[package]]\nname = \"nosuch\"\nversion = \"1.0.0\"\nsource = \"{index_url}\"\n\
             checksum = \"{}\"\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    assert_eq!(same_code_when_closed(&user, &["tuf", "verify"]), 1);

    // `cargo tuf run` gives cargo the same stdout and exits as cargo did (a cargo killed
    // by SIGPIPE: 128 + 13); cargo-tuf itself prints nothing there to fail on.
    let cargo_alone = output_with_closed_stdout(
        clean_command(cargo_bin(), &user.home(), &user.dir.path().join("target"))
            .current_dir(user.project())
            .arg("--version"),
    );
    let run = output_with_closed_stdout(&mut cargo_tuf(&user, &["tuf", "run", "--", "--version"]));
    assert_quiet_exit(&run, shell_code(&cargo_alone), "cargo tuf run -- --version");
}

#[test]
fn proxy_keeps_serving_when_nobody_reads_its_address() {
    let mut registry = Registry::new(Server::start());
    registry.publish();
    let user = User::new(&registry, &[]);
    user.init(&registry);

    let listen = format!("127.0.0.1:{}", free_port());
    let mut proxy = spawn_with_closed_stdout(&mut cargo_tuf(
        &user,
        &["tuf", "proxy", "--registry", REGISTRY, "--listen", &listen],
    ));
    // The proxy serves under its pin's mount, `/{registry}/{pin}/`; its stdout (where it
    // prints that URL) is closed here, so the pin id comes from the pin file.
    let pin_file = user.home().join("tuf").join(REGISTRY).join("registry.json");
    let pinned: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pin_file).unwrap()).unwrap();
    let pin = pinned["pin"].as_str().unwrap();
    let url = format!("http://{listen}/{REGISTRY}/{pin}/config.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    let served = loop {
        if let Some(status) = proxy.try_wait().unwrap() {
            let out = proxy.wait_with_output().unwrap();
            panic!(
                "the proxy exited ({status}) instead of serving: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if let Ok(response) = reqwest::blocking::get(&url) {
            break response.status();
        }
        assert!(
            Instant::now() < deadline,
            "the proxy never answered on {listen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    proxy.kill().unwrap();
    let out = proxy.wait_with_output().unwrap();
    assert_eq!(served, reqwest::StatusCode::OK);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
