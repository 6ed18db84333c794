//! `Cargo.lock` as `cargo tuf verify` reads it (TOML from the user's project): never
//! panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_plugin::cmd::verify::Lockfile;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Lockfile::parse(text);
    }
});
