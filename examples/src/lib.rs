//! Runnable examples and test tooling for `tuf-core`.
//!
//! Modules:
//! - [`synth`]: a synthetic Cargo sparse index shaped like crates.io (200,000 crates, ~1.6 M
//!   versions by default), generated in memory or on disk, plus the publish / yank / delete
//!   mutations that the incremental-publish benchmarks and tests apply to it. The `synth-index`
//!   binary writes one to a directory.
//!
//! The README demo, `examples/demo.sh`, signs a registry made of the crates in
//! `demo-crates/`, serves it with the `demo-serve` binary (a std-only static file server on
//! 127.0.0.1) and builds `demo-app/` through `cargo tuf run`; `tests/demo.rs` runs it.
#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]

pub mod synth;
