//! Runs the README demo (`examples/demo.sh`) with the binaries this test run built, so the
//! README's first command keeps working. About 5 s once the binaries exist.
//!
//! `tuf` and `cargo-tuf` belong to other packages of the workspace: `cargo test
//! --workspace` builds them next to `demo-serve` before any test runs. With `cargo test -p
//! tuf-examples` alone, build them first (`cargo build -p tuf-cli -p registry-plugin`).

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn readme_demo_runs_end_to_end() {
    if cfg!(not(unix)) {
        eprintln!("the demo is a bash script for Unix-like systems; not run here");
        return;
    }
    let serve = PathBuf::from(env!("CARGO_BIN_EXE_demo-serve"));
    let bin_dir = serve.parent().unwrap().to_path_buf();
    for exe in ["tuf", "cargo-tuf"] {
        assert!(
            bin_dir.join(exe).is_file(),
            "{} is missing: run `cargo test --workspace`, or build it first with \
             `cargo build -p tuf-cli -p registry-plugin`",
            bin_dir.join(exe).display()
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo.sh");
    let mut command = Command::new("bash");
    command.arg(&script);
    // The demo's cargo runs must not see this test run's cargo settings.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if (key.starts_with("CARGO") && key != "CARGO")
            || key.starts_with("RUSTC")
            || key.starts_with("RUSTFLAGS")
            || key == "RUST_LOG"
        {
            command.env_remove(key.as_ref());
        }
    }
    let output = command
        .env("TUF_DEMO_BIN_DIR", &bin_dir)
        .env_remove("TUF_DEMO_KEEP")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "demo.sh failed: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    for expected in [
        "HELLO, VERIFIED CRATES!",
        "cargo-tuf refused demo-shout-0.1.0.crate in registry `crates-io`: cksum check failed",
        "Demo complete",
    ] {
        assert!(
            stdout.contains(expected),
            "demo output lacks {expected:?}:\n{stdout}"
        );
    }
}
