//! `cargo-tuf`: the cargo-side verifier (see docs/cargo-users.md).
#![forbid(unsafe_code)]

fn main() {
    eprintln!("cargo-tuf: not yet implemented");
    std::process::exit(2);
}
